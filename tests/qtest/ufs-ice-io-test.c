/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest: the data path of UFSHCI inline crypto, through the doorbell and
 * through MCQ: known answers for every algorithm checked on the image
 * file on the host, every rejection with its OCS and nothing written,
 * requests of several chunks, and requests in flight while the
 * controller is disabled or the machine reset.
 *
 * The tests act as the guest driver (libqos/ufs-ice.h).  Expected
 * ciphertexts are the standard vectors of tests/ice-vectors.h, or what
 * one-block requests with the same key and DUNs leave on the disk,
 * never the engine's output for the same request.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qemu/module.h"
#include "qemu/cutils.h"
#include "qobject/qdict.h"
#include "scsi/constants.h"
#include "libqos/qgraph.h"
#include "libqos/ice-host.h"
#include "tests/ice-vectors.h"
#include "ufs-ice-qos.h"

#define UFS_ICE_KAT_BUF         (64 * 1024)

static void ufs_ice_test_key(uint8_t *key, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        key[i] = seed + i * 7 + 1;
    }
}

static void ufs_ice_test_data(uint8_t *buf, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (i * 31 + seed) ^ (i >> 12);
    }
}

/*
 * Every standard vector with data units of at most 4096 bytes, written
 * as whole 4096-byte blocks: the vector's units come first, with its
 * DUN, the rest of the block continues the DUNs.  The image must hold
 * the vector's ciphertext; a crypto read gives the plaintext back and a
 * plain read the ciphertext.
 */
static void test_kat(void *obj, void *data, QGuestAllocator *alloc)
{
    QUfs *ufs = obj;
    UfsIceEnv *env = data;
    uint64_t guest = guest_alloc(alloc, UFS_ICE_KAT_BUF);
    bool seen[4] = { false };
    uint64_t offset = 0;
    unsigned used = 0;

    ufs_ice_start(ufs, alloc);
    for (size_t i = 0; i < G_N_ELEMENTS(kats); i++) {
        const IceKat *t = &kats[i];
        size_t len = (size_t)t->dus * t->units;
        size_t req_len = ROUND_UP(len, UFS_ICE_BLOCK), key_len;
        uint64_t units = req_len / t->dus;
        g_autofree uint8_t *key = NULL;
        g_autofree uint8_t *pt = g_malloc(req_len);
        g_autofree uint8_t *buf = g_malloc(req_len);
        g_autofree uint8_t *img = g_malloc(req_len);
        unsigned slot = used % 32;
        int capidx;

        if (t->nist_cbc_iv || (!t->ct && !t->ct_sha256) ||
            t->dus > UFS_ICE_BLOCK || req_len > UFS_ICE_KAT_BUF ||
            t->dun > UINT64_MAX - (units - 1)) {
            continue;
        }
        capidx = ufs_ice_find_cap(ufs, t->alg, t->key_size);
        g_assert_cmpint(capidx, >=, 0);
        g_test_message("vector %s at offset %" PRIu64, t->name, offset);
        key = unhex(t->key, &key_len);
        ufs_ice_program(ufs, slot, capidx, t->dus, key, key_len,
                        t->alg == ICE_XTS);
        ice_kat_plaintext(t, pt, req_len);

        /* PRDT entries of 1536 bytes: data units straddle them */
        g_assert_cmpuint(ufs_ice_rw(ufs, true, offset, pt, req_len, 1536,
                                    true, slot, t->dun, guest), ==,
                         UFS_OCS_SUCCESS);
        ice_image_read(env->img, offset, img, req_len);
        ice_kat_check_ciphertext(t, img, len);

        g_assert_cmpuint(ufs_ice_rw(ufs, false, offset, buf, req_len, 4096,
                                    true, slot, t->dun, guest), ==,
                         UFS_OCS_SUCCESS);
        g_assert(!memcmp(buf, pt, req_len));
        g_assert_cmpuint(ufs_ice_rw(ufs, false, offset, buf, req_len, 4096,
                                    false, 0, 0, guest), ==,
                         UFS_OCS_SUCCESS);
        g_assert(!memcmp(buf, img, req_len));

        seen[t->alg] = true;
        offset += req_len;
        used++;
    }
    g_assert_cmpuint(used, >=, 12);
    for (int alg = 0; alg < 4; alg++) {
        g_assert(seen[alg]);
    }
    guest_free(alloc, guest);
}

/* Send @io, expect @ocs, and that the image and guest buffer kept @fill */
static void check_reject(QUfs *ufs, UfsIceEnv *env, const UfsIceIo *io,
                         uint8_t ocs, const char *what)
{
    QTestState *qts = ufs->dev.bus->qts;
    g_autofree uint8_t *img = g_malloc(4 * UFS_ICE_BLOCK);
    g_autofree uint8_t *mem = g_malloc(4 * UFS_ICE_BLOCK);

    g_test_message("rejected: %s", what);
    qtest_memset(qts, io->buf, 0x5a, 4 * UFS_ICE_BLOCK);
    g_assert_cmpuint(ufs_ice_io_send(ufs, io, NULL), ==, ocs);
    ice_image_read(env->img, 0, img, 4 * UFS_ICE_BLOCK);
    for (size_t i = 0; i < 4 * UFS_ICE_BLOCK; i++) {
        g_assert_cmpuint(img[i], ==, 0xe7);
    }
    qtest_memread(qts, io->buf, mem, 4 * UFS_ICE_BLOCK);
    for (size_t i = 0; i < 4 * UFS_ICE_BLOCK; i++) {
        g_assert_cmpuint(mem[i], ==, 0x5a);
    }
}

/*
 * Every rejection of a crypto request, in both directions where it
 * applies: the OCS the UFSHCI specification names (0x9 for a bad
 * configuration index, 0xA for any other crypto error, 0x1 for a LUN
 * that does not exist as without crypto), nothing written to the disk
 * or to guest memory, and the controller still working afterwards.
 */
static void test_reject(void *obj, void *data, QGuestAllocator *alloc)
{
    QUfs *ufs = obj;
    UfsIceEnv *env = data;
    QTestState *qts = ufs->dev.bus->qts;
    uint64_t guest = guest_alloc(alloc, 4 * UFS_ICE_BLOCK);
    uint8_t key[64], fill[4 * UFS_ICE_BLOCK], buf[4 * UFS_ICE_BLOCK];
    uint64_t last_lba = UFS_ICE_IMAGE_SIZE / UFS_ICE_BLOCK - 1;
    UtpUpiuRsp rsp;
    UfsIceIo io;

    memset(fill, 0xe7, sizeof(fill));
    ice_image_write(env->img, 0, fill, sizeof(fill));
    ufs_ice_start(ufs, alloc);
    ufs_ice_test_key(key, sizeof(key), 0);
    ufs_ice_program_xts256(ufs, 0, key);

    for (int dir = 0; dir < 2; dir++) {
        bool is_write = dir;

        io = (UfsIceIo) { .lun = UFS_ICE_LUN, .ce = true, .cci = 40,
                          .buf = guest, .prdt_bytes = UFS_ICE_BLOCK };
        ufs_ice_io_cdb(&io, is_write, false, 0, 1);
        check_reject(ufs, env, &io, UFS_OCS_INVALID_CRYPTO_CONFIG,
                     "configuration index beyond the slots");
        io.cci = 5;
        check_reject(ufs, env, &io, UFS_OCS_INVALID_CRYPTO_CONFIG,
                     "configuration index of an empty slot");
        io.cci = 0;

        io.prdt_bytes = 2 * UFS_ICE_BLOCK;
        check_reject(ufs, env, &io, UFS_OCS_GENERAL_CRYPTO_ERROR,
                     "PRDT longer than the CDB");
        ufs_ice_io_cdb(&io, is_write, true, 0, 3);
        check_reject(ufs, env, &io, UFS_OCS_GENERAL_CRYPTO_ERROR,
                     "PRDT shorter than the CDB");
        io.prdt_bytes = 0;
        check_reject(ufs, env, &io, UFS_OCS_GENERAL_CRYPTO_ERROR,
                     "empty PRDT");

        ufs_ice_io_cdb(&io, is_write, false, 0, 2);
        io.prdt_bytes = 2 * UFS_ICE_BLOCK;
        io.dun = UINT64_MAX;
        check_reject(ufs, env, &io, UFS_OCS_GENERAL_CRYPTO_ERROR,
                     "DUN range past 2^64 - 1");
        io.dun = 0;

        ufs_ice_write_hce(ufs, 1);
        check_reject(ufs, env, &io, UFS_OCS_GENERAL_CRYPTO_ERROR,
                     "crypto general enable clear");
        ufs_ice_write_hce(ufs, 3);

        io.lun = 7;
        check_reject(ufs, env, &io, UFS_OCS_INVALID_CMD_TABLE_ATTR,
                     "no such logical unit");
        io.lun = UFS_UPIU_REPORT_LUNS_WLUN;
        check_reject(ufs, env, &io, UFS_OCS_GENERAL_CRYPTO_ERROR,
                     "a well-known logical unit");
        io.lun = UFS_ICE_LUN;

        /* Beyond the end: scsi-disk's status, not a crypto error */
        ufs_ice_io_cdb(&io, is_write, true, last_lba, 2);
        qtest_memset(qts, guest, 0x5a, sizeof(buf));
        g_assert_cmpuint(ufs_ice_io_send(ufs, &io, &rsp), ==,
                         UFS_OCS_SUCCESS);
        g_assert_cmpuint(rsp.header.scsi_status, ==, CHECK_CONDITION);
        g_assert_cmpuint(rsp.sr.sense_data[2] & 0xf, ==, ILLEGAL_REQUEST);
        g_assert_cmpuint(rsp.sr.sense_data[12], ==, 0x21);
    }

    /* No protection information: RDPROTECT is refused as scsi-disk does */
    io = (UfsIceIo) { .lun = UFS_ICE_LUN, .ce = true, .buf = guest,
                      .prdt_bytes = UFS_ICE_BLOCK };
    ufs_ice_io_cdb(&io, false, false, 0, 1);
    io.cdb[1] = 0x20;
    qtest_memset(qts, guest, 0x5a, sizeof(buf));
    g_assert_cmpuint(ufs_ice_io_send(ufs, &io, &rsp), ==, UFS_OCS_SUCCESS);
    g_assert_cmpuint(rsp.header.scsi_status, ==, CHECK_CONDITION);
    g_assert_cmpuint(rsp.sr.sense_data[2] & 0xf, ==, ILLEGAL_REQUEST);
    g_assert_cmpuint(rsp.sr.sense_data[12], ==, 0x24);
    qtest_memread(qts, guest, buf, sizeof(buf));
    for (size_t i = 0; i < sizeof(buf); i++) {
        g_assert_cmphex(buf[i], ==, 0x5a);
    }

    /* Crypto on anything but READ and WRITE */
    io = (UfsIceIo) { .lun = UFS_ICE_LUN, .ce = true, .buf = guest,
                      .prdt_bytes = 96 };
    io.cdb[0] = INQUIRY;
    io.cdb[4] = 96;
    check_reject(ufs, env, &io, UFS_OCS_GENERAL_CRYPTO_ERROR,
                 "crypto on INQUIRY");
    io = (UfsIceIo) { .lun = UFS_ICE_LUN, .ce = true, .buf = guest,
                      .prdt_bytes = UFS_ICE_BLOCK, .is_write = true };
    io.cdb[0] = WRITE_SAME_10;
    stw_be_p(&io.cdb[7], 1);
    check_reject(ufs, env, &io, UFS_OCS_GENERAL_CRYPTO_ERROR,
                 "crypto on WRITE SAME(10)");
    io = (UfsIceIo) { .ce = true, .buf = guest,
                      .trans_type = UFS_UPIU_TRANSACTION_NOP_OUT };
    check_reject(ufs, env, &io, UFS_OCS_GENERAL_CRYPTO_ERROR,
                 "crypto on NOP OUT");

    /*
     * The last DUN may be 2^64 - 1; a FUA write is written through; and
     * the controller still works
     */
    memset(buf, 0x3c, sizeof(buf));
    io = (UfsIceIo) { .lun = UFS_ICE_LUN, .ce = true, .buf = guest,
                      .prdt_bytes = 2 * UFS_ICE_BLOCK,
                      .dun = UINT64_MAX - 1 };
    ufs_ice_io_cdb(&io, true, false, 0, 2);
    io.cdb[1] = 0x08;
    qtest_memwrite(qts, guest, buf, 2 * UFS_ICE_BLOCK);
    g_assert_cmpuint(ufs_ice_io_send(ufs, &io, &rsp), ==, UFS_OCS_SUCCESS);
    g_assert_cmpuint(rsp.header.scsi_status, ==, GOOD);
    ice_image_read(env->img, 0, fill, 2 * UFS_ICE_BLOCK);
    g_assert(memcmp(fill, buf, UFS_ICE_BLOCK));
    memset(buf, 0, sizeof(buf));
    g_assert_cmpuint(ufs_ice_rw(ufs, false, 0, buf, 2 * UFS_ICE_BLOCK, 4096,
                                true, 0, UINT64_MAX - 1, guest), ==,
                     UFS_OCS_SUCCESS);
    for (size_t i = 0; i < 2 * UFS_ICE_BLOCK; i++) {
        g_assert_cmpuint(buf[i], ==, 0x3c);
    }
    guest_free(alloc, guest);
}

/*
 * Requests of several chunks (the data path works 1 MiB at a time):
 * for 512- and 4096-byte data units, a 2.5 MiB write whose PRDT entries
 * split data units and whose last data unit is DUN 2^64 - 1 leaves on
 * the disk what one-block requests with the same DUNs leave, and reads
 * back as its plaintext in one request.
 */
static void test_chunks(void *obj, void *data, QGuestAllocator *alloc)
{
    QUfs *ufs = obj;
    UfsIceEnv *env = data;
    const size_t len = 2560 * 1024, seg = 256 * 1024 - 3 * 512;
    const uint64_t ref_off = 8 * 1024 * 1024;
    uint64_t guest = guest_alloc(alloc, len);
    g_autofree uint8_t *pt = g_malloc(len);
    g_autofree uint8_t *ct = g_malloc(len);
    g_autofree uint8_t *ref = g_malloc(len);
    g_autofree uint8_t *buf = g_malloc(len);
    static const uint32_t dus_list[] = { 512, 4096 };
    int capidx;

    ufs_ice_start(ufs, alloc);
    capidx = ufs_ice_find_cap(ufs, 0, 3);
    g_assert_cmpint(capidx, >=, 0);
    for (int i = 0; i < G_N_ELEMENTS(dus_list); i++) {
        uint32_t dus = dus_list[i];
        uint64_t dun = UINT64_MAX - (len / dus - 1);
        uint8_t key[64];

        ufs_ice_test_key(key, sizeof(key), i);
        ufs_ice_program(ufs, 1, capidx, dus, key, sizeof(key), true);
        ufs_ice_test_data(pt, len, i);

        g_assert_cmpuint(ufs_ice_rw(ufs, true, 0, pt, len, seg, true, 1,
                                    dun, guest), ==, UFS_OCS_SUCCESS);
        for (size_t off = 0; off < len; off += UFS_ICE_BLOCK) {
            g_assert_cmpuint(ufs_ice_rw(ufs, true, ref_off + off, pt + off,
                                        UFS_ICE_BLOCK, 4096, true, 1,
                                        dun + off / dus, guest), ==,
                             UFS_OCS_SUCCESS);
        }
        ice_image_read(env->img, 0, ct, len);
        ice_image_read(env->img, ref_off, ref, len);
        g_assert(!memcmp(ct, ref, len));
        g_assert(memcmp(ct, pt, len));

        g_assert_cmpuint(ufs_ice_rw(ufs, false, 0, buf, len, seg, true, 1,
                                    dun, guest), ==, UFS_OCS_SUCCESS);
        g_assert(!memcmp(buf, pt, len));
    }
    guest_free(alloc, guest);
}

/*
 * A request in flight when the controller is disabled (HCE 1 to 0) or
 * the machine is reset keeps the key it was accepted with: the disk
 * then holds what the same write gives with the key still programmed,
 * or, if the request had not started, nothing.  Every configuration is
 * evicted either way.
 */
static void test_in_flight(void *obj, void *data, QGuestAllocator *alloc)
{
    QUfs *ufs = obj;
    UfsIceEnv *env = data;
    QTestState *qts = ufs->dev.bus->qts;
    bool reset = env->arg;
    const size_t len = 2 * 1024 * 1024;
    const uint64_t ref_off = 8 * 1024 * 1024;
    uint64_t guest = guest_alloc(alloc, len);
    g_autofree uint8_t *pt = g_malloc(len);
    g_autofree uint8_t *ref = g_malloc(len);
    g_autofree uint8_t *img = g_malloc(len);
    uint8_t key[64];
    UfsIceIo io;
    int tag;

    ufs_ice_start(ufs, alloc);
    ufs_ice_test_key(key, sizeof(key), 9);
    ufs_ice_program_xts256(ufs, 0, key);
    ufs_ice_test_data(pt, len, 9);
    g_assert_cmpuint(ufs_ice_rw(ufs, true, ref_off, pt, len, 0, true, 0, 77,
                                guest), ==, UFS_OCS_SUCCESS);
    ice_image_read(env->img, ref_off, ref, len);

    io = (UfsIceIo) { .lun = UFS_ICE_LUN, .ce = true, .cci = 0, .dun = 77,
                      .buf = guest, .prdt_bytes = len };
    ufs_ice_io_cdb(&io, true, false, 0, len / UFS_ICE_BLOCK);
    qtest_memwrite(qts, guest, pt, len);
    tag = ufs_ice_io_submit(ufs, &io);
    if (reset) {
        /* vm_stop drains the block layer: the write is done after it */
        qtest_qmp_assert_success(qts, "{'execute': 'system_reset'}");
        qtest_qmp_assert_success(qts, "{'execute': 'stop'}");
        ice_image_read(env->img, 0, img, len);
        g_assert(!memcmp(img, ref, len) || buffer_is_zero(img, len));
    } else {
        uint8_t ocs;

        ufs_ice_write_hce(ufs, 0);
        ocs = ufs_ice_io_wait(ufs, tag);
        ice_image_read(env->img, 0, img, len);
        if (ocs == UFS_OCS_SUCCESS) {
            g_assert(!memcmp(img, ref, len));
        } else {
            g_assert_cmpuint(ocs, ==, UFS_OCS_INVALID_CRYPTO_CONFIG);
            g_assert(buffer_is_zero(img, len));
        }
        g_test_message("the request %s", ocs ? "had not started" :
                       "completed with its key");
    }
    g_assert_cmpuint(ufs_ice_num_programmed(qts), ==, 0);
    guest_free(alloc, guest);
}

static void register_ufs_ice_io_test(void)
{
    QOSGraphTestOptions legacy = {
        .before = ufs_ice_setup,
        .edge.extra_device_opts = "crypto=on,mcq=false",
    };
    QOSGraphTestOptions mcq = {
        .before = ufs_ice_setup,
        .edge.extra_device_opts = "crypto=on,mcq=true,mcq-maxq=1",
    };

    qos_add_test("crypto/legacy/known-answers", "ufs", test_kat, &legacy);
    qos_add_test("crypto/mcq/known-answers", "ufs", test_kat, &mcq);
    qos_add_test("crypto/legacy/reject", "ufs", test_reject, &legacy);
    qos_add_test("crypto/mcq/reject", "ufs", test_reject, &mcq);
    qos_add_test("crypto/legacy/chunks", "ufs", test_chunks, &legacy);
    qos_add_test("crypto/mcq/chunks", "ufs", test_chunks, &mcq);
    qos_add_test("crypto/legacy/in-flight-disable", "ufs", test_in_flight,
                 &legacy);
    legacy.arg = &legacy;
    qos_add_test("crypto/legacy/in-flight-reset", "ufs", test_in_flight,
                 &legacy);
}

libqos_init(register_ufs_ice_io_test);
