/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest: a hostile guest against UFSHCI inline crypto.  Random
 * configurations (capability indexes, data unit sizes, keys, equal
 * AES-XTS halves), evictions, HCE and CGE changes and random requests
 * (opcodes, LUNs, configuration indexes, DUNs up to 2^64 - 1, LBAs past
 * the end, PRDTs that disagree with the CDB) run against a model of the
 * specification: every request's OCS and SCSI status must be the
 * model's, a rejected request must leave the image file unchanged, an
 * accepted write must read back through the same configuration, and
 * query-ice must show the model's slots.  QEMU must survive all of it.
 *
 * ICE_FUZZ_SEED (default 1) and ICE_FUZZ_COUNT (default 800) choose the
 * sequence, as for the virtio-blk hostile test.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qemu/module.h"
#include "scsi/constants.h"
#include "libqos/qgraph.h"
#include "libqos/ice-host.h"
#include "ufs-ice-qos.h"

#define NSLOTS          8
#define REGION_BLOCKS   64
#define NBLOCKS         (UFS_ICE_IMAGE_SIZE / UFS_ICE_BLOCK)

typedef struct Model {
    bool valid[NSLOTS];
    uint32_t dus[NSLOTS];
    bool cge;
    unsigned seen[16];          /* requests by OCS */
    unsigned checked;           /* CHECK CONDITION */
    unsigned read_back;         /* accepted writes read back */
    unsigned n_caps;
    UfsIceCap caps[16];
} Model;

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *v = g_getenv(name);

    return v ? g_ascii_strtoull(v, NULL, 0) : def;
}

static unsigned model_programmed(const Model *m)
{
    unsigned n = 0;

    for (int i = 0; i < NSLOTS; i++) {
        n += m->valid[i];
    }
    return n;
}

/* A random configuration written as Linux writes one */
static void act_program(QUfs *ufs, Model *m, GRand *r)
{
    unsigned slot = g_rand_int_range(r, 0, NSLOTS);
    unsigned capidx = g_rand_int_range(r, 0, m->n_caps + 2);
    uint8_t dus_bits = g_rand_int_range(r, 0, 4) ?
                       1u << g_rand_int_range(r, 0, 4) :
                       g_rand_int_range(r, 0, 256);
    uint8_t key[64];
    bool equal = g_rand_int_range(r, 0, 16) == 0;
    const UfsIceCap *cap = capidx < m->n_caps ? &m->caps[capidx] : NULL;
    size_t half;

    for (int i = 0; i < 64; i++) {
        key[i] = g_rand_int(r);
    }
    /* The key field as the guest writes it: XTS halves at 0 and 32 */
    half = cap && cap->alg == 0 ? 16 + 8 * (cap->key_size - 1) : 0;
    if (equal && half) {
        memcpy(key + half, key, half);
    }
    ufs_ice_program(ufs, slot, capidx, dus_bits * 512, key,
                    half ? 2 * half : 64, half != 0);
    m->valid[slot] = cap && is_power_of_2(dus_bits) &&
                     (dus_bits & cap->dus_mask) && !(equal && half);
    m->dus[slot] = dus_bits * 512;
}

static uint8_t model_ocs(const Model *m, const UfsIceIo *io, bool rw,
                         uint64_t lba, uint64_t blocks, int *scsi)
{
    uint64_t nblocks;

    *scsi = GOOD;
    if (!rw || io->lun == UFS_UPIU_REPORT_LUNS_WLUN) {
        return UFS_OCS_GENERAL_CRYPTO_ERROR;
    }
    if (io->lun != UFS_ICE_LUN && io->lun != 0) {
        return UFS_OCS_INVALID_CMD_TABLE_ATTR;
    }
    if (!m->cge) {
        return UFS_OCS_GENERAL_CRYPTO_ERROR;
    }
    if (io->cci >= NSLOTS || !m->valid[io->cci]) {
        return UFS_OCS_INVALID_CRYPTO_CONFIG;
    }
    if (io->prdt_bytes != blocks * UFS_ICE_BLOCK) {
        return UFS_OCS_GENERAL_CRYPTO_ERROR;
    }
    if (blocks && io->dun > UINT64_MAX -
        (blocks * UFS_ICE_BLOCK / m->dus[io->cci] - 1)) {
        return UFS_OCS_GENERAL_CRYPTO_ERROR;
    }
    /* Logical unit 0 is libqos's 1 GiB null-co drive */
    nblocks = io->lun == 0 ? 1024 * 1024 * 1024 / UFS_ICE_BLOCK : NBLOCKS;
    if (lba > nblocks || blocks > nblocks - lba) {
        *scsi = CHECK_CONDITION;
        return UFS_OCS_SUCCESS;
    }
    return UFS_OCS_SUCCESS;
}

/* A random request with CE set; checked against the model */
static void act_request(QUfs *ufs, UfsIceEnv *env, Model *m, GRand *r,
                        uint64_t guest)
{
    static const uint8_t luns[] = {
        UFS_ICE_LUN, UFS_ICE_LUN, UFS_ICE_LUN, UFS_ICE_LUN, UFS_ICE_LUN,
        UFS_ICE_LUN, UFS_ICE_LUN, UFS_ICE_LUN, 0, 7,
        UFS_UPIU_REPORT_LUNS_WLUN,
    };
    QTestState *qts = ufs->dev.bus->qts;
    g_autofree uint8_t *before = g_malloc(REGION_BLOCKS * UFS_ICE_BLOCK);
    g_autofree uint8_t *after = g_malloc(REGION_BLOCKS * UFS_ICE_BLOCK);
    g_autofree uint8_t *data = g_malloc(4 * UFS_ICE_BLOCK);
    uint64_t lba = g_rand_int_range(r, 0, 8) ? g_rand_int_range(r, 0, 60) :
                   NBLOCKS - g_rand_int_range(r, 0, 3);
    uint32_t blocks = g_rand_int_range(r, 0, 5);
    bool rw = g_rand_int_range(r, 0, 16) != 0;
    bool is_write = g_rand_boolean(r);
    UfsIceIo io = {
        .lun = luns[g_rand_int_range(r, 0, G_N_ELEMENTS(luns))],
        .ce = true,
        .cci = g_rand_int_range(r, 0, 5) ? g_rand_int_range(r, 0, NSLOTS) :
                                           g_rand_int_range(r, 0, 256),
        .dun = g_rand_int_range(r, 0, 6) ? g_rand_int_range(r, 0, 1000) :
               UINT64_MAX - g_rand_int_range(r, 0, 40),
        .buf = guest,
        .seg = g_rand_int_range(r, 1, 9) * 512,
    };
    UtpUpiuRsp rsp;
    uint8_t ocs, want;
    int scsi;

    io.prdt_bytes = g_rand_int_range(r, 0, 8) ? blocks * UFS_ICE_BLOCK :
                    g_rand_int_range(r, 0, 5) * UFS_ICE_BLOCK;
    if (rw) {
        ufs_ice_io_cdb(&io, is_write, g_rand_boolean(r), lba, blocks);
    } else {
        io.cdb[0] = g_rand_boolean(r) ? INQUIRY : TEST_UNIT_READY;
        io.cdb[4] = 96;
    }
    want = model_ocs(m, &io, rw, lba, blocks, &scsi);

    for (size_t i = 0; i < 4 * UFS_ICE_BLOCK; i++) {
        data[i] = g_rand_int(r);
    }
    qtest_memwrite(qts, guest, data, 4 * UFS_ICE_BLOCK);
    ice_image_read(env->img, 0, before, REGION_BLOCKS * UFS_ICE_BLOCK);
    ocs = ufs_ice_io_send(ufs, &io, &rsp);
    g_assert_cmphex(ocs, ==, want);
    m->seen[ocs & 0xf]++;
    if (ocs == UFS_OCS_SUCCESS) {
        g_assert_cmpuint(rsp.header.scsi_status, ==, scsi);
        m->checked += scsi != GOOD;
    }
    if (ocs != UFS_OCS_SUCCESS || scsi != GOOD || !is_write ||
        io.lun != UFS_ICE_LUN) {
        ice_image_read(env->img, 0, after, REGION_BLOCKS * UFS_ICE_BLOCK);
        g_assert(!memcmp(before, after, REGION_BLOCKS * UFS_ICE_BLOCK));
        return;
    }
    /* An accepted write reads back through the same configuration */
    qtest_memset(qts, guest, 0, 4 * UFS_ICE_BLOCK);
    ufs_ice_io_cdb(&io, false, false, lba, blocks);
    g_assert_cmphex(ufs_ice_io_send(ufs, &io, &rsp), ==, UFS_OCS_SUCCESS);
    g_assert_cmpuint(rsp.header.scsi_status, ==, GOOD);
    qtest_memread(qts, guest, after, blocks * UFS_ICE_BLOCK);
    g_assert(!memcmp(after, data, blocks * UFS_ICE_BLOCK));
    m->read_back += blocks != 0;
}

static void test_hostile(void *obj, void *data, QGuestAllocator *alloc)
{
    QUfs *ufs = obj;
    UfsIceEnv *env = data;
    QTestState *qts = ufs->dev.bus->qts;
    uint64_t seed = env_u64("ICE_FUZZ_SEED", 1);
    uint64_t count = env_u64("ICE_FUZZ_COUNT", 800);
    g_autoptr(GRand) r = g_rand_new_with_seed(seed);
    uint64_t guest = guest_alloc(alloc, 4 * UFS_ICE_BLOCK);
    Model m = { .cge = true };

    g_test_message("seed %" PRIu64 ", %" PRIu64 " steps", seed, count);
    ufs_ice_start(ufs, alloc);
    m.n_caps = ufs_ice_num_caps(ufs);
    g_assert_cmpuint(m.n_caps, <=, G_N_ELEMENTS(m.caps));
    for (unsigned i = 0; i < m.n_caps; i++) {
        m.caps[i] = ufs_ice_cap(ufs, i);
    }
    for (uint64_t step = 0; step < count; step++) {
        int what = g_rand_int_range(r, 0, 100);

        if (what < 30) {
            act_program(ufs, &m, r);
        } else if (what < 38) {
            unsigned slot = g_rand_int_range(r, 0, NSLOTS);

            ufs_ice_evict(ufs, slot);
            m.valid[slot] = false;
        } else if (what < 42) {
            m.cge = g_rand_int_range(r, 0, 3) != 0;
            ufs_ice_write_hce(ufs, m.cge ? 3 : 1);
        } else if (what < 44) {
            /* Disable and enable, as a host reset does */
            ufs_ice_write_hce(ufs, 0);
            memset(m.valid, 0, sizeof(m.valid));
            m.cge = true;
            ufs_ice_write_hce(ufs, 3);
        } else {
            act_request(ufs, env, &m, r, guest);
        }
        if (step % 25 == 0) {
            g_assert_cmpuint(ufs_ice_num_programmed(qts), ==,
                             model_programmed(&m));
        }
    }
    g_assert_cmpuint(ufs_ice_num_programmed(qts), ==, model_programmed(&m));
    g_test_message("OCS 0x0: %u (CHECK CONDITION %u, writes read back %u), "
                   "0x1: %u, 0x9: %u, 0xA: %u", m.seen[0], m.checked,
                   m.read_back, m.seen[1], m.seen[9], m.seen[0xa]);
    if (count >= 400) {
        /* The default sequence reaches every outcome */
        g_assert(m.seen[0] && m.checked && m.read_back && m.seen[1] &&
                 m.seen[9] && m.seen[0xa]);
    }
    guest_free(alloc, guest);
}

static void register_ufs_ice_hostile_test(void)
{
    QOSGraphTestOptions legacy = {
        .before = ufs_ice_setup,
        .edge.extra_device_opts = "crypto=on,crypto-slots=8,mcq=false",
    };
    QOSGraphTestOptions mcq = {
        .before = ufs_ice_setup,
        .edge.extra_device_opts = "crypto=on,crypto-slots=8,mcq=true,"
                                  "mcq-maxq=1",
    };

    qos_add_test("crypto/legacy/hostile", "ufs", test_hostile, &legacy);
    qos_add_test("crypto/mcq/hostile", "ufs", test_hostile, &mcq);
}

libqos_init(register_ufs_ice_hostile_test);
