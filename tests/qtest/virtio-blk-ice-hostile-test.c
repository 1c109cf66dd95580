/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest: a hostile guest against the virtio-blk inline crypto engine
 *
 * Thousands of random requests: random types, activate values, slots (in
 * range, empty, below the offset, past the end), DUNs near 2^64, aligned
 * and misaligned offsets and lengths, data units split over many small
 * descriptors, data in the wrong direction, capability buffers of every
 * small length, and now and then a malformed request (short header,
 * zero-length descriptor) that must break the device, not QEMU.  For
 * every request QEMU must stay alive and the status must be the one the
 * device decisions prescribe; rejected requests must leave the image and
 * the guest's buffers untouched, accepted ones must read back correctly.
 *
 * Write-zeroes and discards of random ranges change the disk as the model
 * expects.  The test runs with the spec's payload layout and with
 * ice-payload=all-types, where every request carries the payload, on the
 * virtio-blk device and on a qemu-storage-daemon vhost-user-blk export.
 *
 * ICE_FUZZ_SEED (default 1) and ICE_FUZZ_COUNT (default 1500) choose the
 * run; the seed is printed so that a failing run can be repeated.
 */

#include "qemu/osdep.h"
#include "libqtest-single.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qemu/module.h"
#include "qobject/qdict.h"
#include "standard-headers/linux/virtio_blk.h"
#include "libqos/qgraph.h"
#include "libqos/virtio-blk.h"
#include "libqos/ice-host.h"
#include "libqos/virtio-blk-ice.h"

#define IMG_SIZE        (2 * 1024 * 1024)
#define SECTORS         (IMG_SIZE / 512)
#define SLOT_OFFSET     2
#define NUM_SLOTS       8
#define EMPTY_SLOT      6
#define MAX_LEN         (64 * 1024)

typedef struct HostileEnv {
    char *img;
    bool all_types;             /* ice-payload=all-types */
    IceQsd *qsd;                /* the export's daemon, or NULL */
} HostileEnv;

/* The slots the test programs; EMPTY_SLOT stays empty */
static const struct {
    uint8_t slot;
    const char *alg;
    unsigned bits;
    uint32_t dus;
    size_t key_len;
} slots[] = {
    { 2, "aes-xts", 256, 4096, 64 },
    { 3, "essiv-aes-cbc", 128, 512, 16 },
    { 4, "bitlocker-aes-cbc", 256, 1024, 32 },
    { 5, "aes-ecb", 192, 8192, 24 },
    { 7, "aes-xts", 128, 65536, 32 },
};

/* What the test knows about the disk */
typedef struct Model {
    uint8_t disk[IMG_SIZE];     /* the image as last read from the host */
    uint8_t plain[IMG_SIZE];    /* what canonical crypto reads return */
    /* Slot a sector was encrypted with; -1 plain, -2 non-canonical DUN */
    int8_t enc[SECTORS];
} Model;

typedef struct Stats {
    unsigned requests, ok, ioerr, unsupp, broken, verified_reads;
} Stats;

static void hostile_env_free(void *opaque)
{
    HostileEnv *env = opaque;

    unlink(env->img);
    g_free(env->img);
    g_free(env);
    qos_invalidate_command_line();
}

/* @arg: NULL, or "all-types" for ice-payload=all-types */
static void *hostile_setup(GString *cmd_line, void *arg)
{
    HostileEnv *env = g_new0(HostileEnv, 1);

    env->img = ice_image_create(IMG_SIZE);
    env->all_types = arg != NULL;
    g_test_queue_destroy(hostile_env_free, env);
    g_string_append_printf(cmd_line,
                           " -drive if=none,id=drive0,file=%s,format=raw,"
                           "auto-read-only=off"
                           " -global virtio-blk-device.ice=on"
                           " -global virtio-blk-device.ice-slots=%d"
                           " -global virtio-blk-device.ice-slot-offset=%d"
                           " -global virtio-blk-device.ice-payload=%s",
                           env->img, NUM_SLOTS, SLOT_OFFSET,
                           env->all_types ? "all-types" : "spec");
    return env;
}

/*
 * The same engine in a qemu-storage-daemon vhost-user-blk export, behind
 * vhost-user-blk-pci
 */
static void *hostile_setup_vhost_user(GString *cmd_line, void *arg)
{
    HostileEnv *env = g_new0(HostileEnv, 1);
    g_autofree char *opts = NULL;

    env->img = ice_image_create(IMG_SIZE);
    env->all_types = arg != NULL;
    g_test_queue_destroy(hostile_env_free, env);
    opts = g_strdup_printf(",ice-slots=%d,ice-slot-offset=%d,ice-payload=%s",
                           NUM_SLOTS, SLOT_OFFSET,
                           env->all_types ? "all-types" : "spec");
    env->qsd = ice_qsd_start_vhost_user(cmd_line, env->img, opts);
    return env;
}

static int slot_index(unsigned slot)
{
    for (size_t i = 0; i < G_N_ELEMENTS(slots); i++) {
        if (slots[i].slot == slot) {
            return i;
        }
    }
    return -1;
}

/* ---- the driver ---- */

typedef struct Driver {
    QVirtioDevice *dev;
    QGuestAllocator *alloc;
    QVirtQueue *vq;
    bool all_types;             /* every request carries the payload */
    IceQsd *qsd;                /* the export's daemon, or NULL */
} Driver;

static void driver_start(Driver *d)
{
    d->vq = ice_req_start_device(d->dev, d->alloc, true);
}

/* After a malformed request broke the device: reset and start again */
static void driver_restart(Driver *d)
{
    qvirtqueue_cleanup(d->dev->bus, d->vq, d->alloc);
    qvirtio_reset(d->dev);
    qvirtio_set_acknowledge(d->dev);
    qvirtio_set_driver(d->dev);
    driver_start(d);
}

/* Returns false if the device did not complete @r within @timeout_us */
static bool driver_wait(Driver *d, IceReq *r, gint64 timeout_us)
{
    return ice_req_wait(global_qtest, d->dev, d->vq, r, timeout_us);
}

/* ---- random choices ---- */

static uint32_t pick(GRand *rnd, uint32_t n)
{
    return g_rand_int_range(rnd, 0, n);
}

/*
 * Random descriptor sizes for @len bytes: many small ones, odd sizes; at
 * most @max of them, so that the chain fits the queue
 */
static size_t *random_split(GRand *rnd, size_t len, size_t max)
{
    GArray *a = g_array_new(true, true, sizeof(size_t));
    size_t off = 0;
    int style = pick(rnd, 4);

    while (off < len && a->len + 1 < MIN(max, 200)) {
        size_t n;

        switch (style) {
        case 0:
            n = len;                                    /* one buffer */
            break;
        case 1:
            n = 1 + pick(rnd, 64);                      /* tiny pieces */
            break;
        case 2:
            n = 1 + pick(rnd, 5000);                    /* odd sizes */
            break;
        default:
            n = 512 * (1 + pick(rnd, 16));              /* sector sized */
            break;
        }
        n = MIN(n, len - off);
        g_array_append_val(a, n);
        off += n;
    }
    if (off < len) {                                    /* the rest */
        size_t n = len - off;

        g_array_append_val(a, n);
    }
    return (size_t *)g_array_free(a, false);
}

/* ---- the model of the device decisions ---- */

typedef struct RwCase {
    bool write;
    uint8_t slot, activate;
    uint64_t offset, len, dun;
} RwCase;

/* Expected status of a read or write, in the order QEMU checks */
static uint8_t expected_rw_status(const RwCase *c)
{
    uint64_t units;
    int i;

    /* virtio-blk's own range check */
    if (c->len % 512 || c->offset > IMG_SIZE || c->len > IMG_SIZE - c->offset) {
        return VIRTIO_BLK_S_IOERR;
    }
    /* Decision 2 */
    if (c->activate == 0) {
        return VIRTIO_BLK_S_OK;
    }
    if (c->activate != 1) {
        return VIRTIO_BLK_S_IOERR;
    }
    /* Decisions 1 and 4 */
    i = slot_index(c->slot);
    if (c->slot < SLOT_OFFSET || c->slot >= SLOT_OFFSET + NUM_SLOTS ||
        i < 0) {
        return VIRTIO_BLK_S_IOERR;
    }
    if (c->offset % slots[i].dus || c->len % slots[i].dus) {
        return VIRTIO_BLK_S_IOERR;
    }
    units = c->len / slots[i].dus;
    if (units && c->dun > UINT64_MAX - (units - 1)) {
        return VIRTIO_BLK_S_IOERR;
    }
    return VIRTIO_BLK_S_OK;
}

static void random_rw(GRand *rnd, RwCase *c)
{
    int si = pick(rnd, G_N_ELEMENTS(slots));
    uint32_t dus;

    c->write = pick(rnd, 100) < 45;
    /* slot: mostly programmed ones, else empty, below the offset, past */
    switch (pick(rnd, 20)) {
    case 0:
        c->slot = EMPTY_SLOT;
        break;
    case 1:
        c->slot = pick(rnd, SLOT_OFFSET);
        break;
    case 2:
        c->slot = SLOT_OFFSET + NUM_SLOTS + pick(rnd, 256 - SLOT_OFFSET -
                                                      NUM_SLOTS);
        break;
    default:
        c->slot = slots[si].slot;
        break;
    }
    dus = slot_index(c->slot) >= 0 ? slots[slot_index(c->slot)].dus : 4096;

    switch (pick(rnd, 20)) {
    case 0 ... 3:
        c->activate = 0;
        break;
    case 4:
        c->activate = 2 + pick(rnd, 254);
        break;
    default:
        c->activate = 1;
        break;
    }

    /* offset: aligned to the data unit, or only to a sector, or at the end */
    if (pick(rnd, 10) < 7) {
        c->offset = (uint64_t)pick(rnd, IMG_SIZE / dus) * dus;
    } else if (pick(rnd, 10)) {
        c->offset = (uint64_t)pick(rnd, SECTORS) * 512;
    } else {
        c->offset = IMG_SIZE - 512 * pick(rnd, 3);
    }

    /* length: whole units, whole sectors, zero, or not even sectors */
    switch (pick(rnd, 20)) {
    case 0:
        c->len = 0;
        break;
    case 1:
        c->len = 1 + pick(rnd, 4096);
        break;
    case 2 ... 5:
        c->len = 512 * (1 + pick(rnd, MAX_LEN / 512));
        break;
    default:
        c->len = dus * (1 + pick(rnd, MAX(1, MAX_LEN / dus)));
        break;
    }
    c->len = MIN(c->len, MAX_LEN);
    if (pick(rnd, 10) && c->offset + c->len > IMG_SIZE) {
        c->len = IMG_SIZE - c->offset;          /* mostly stay inside */
    }

    /* DUN: canonical (byte offset / data unit size), random, near 2^64 */
    switch (pick(rnd, 10)) {
    case 0:
        c->dun = ((uint64_t)g_rand_int(rnd) << 32) | g_rand_int(rnd);
        break;
    case 1:
        c->dun = UINT64_MAX - pick(rnd, 20);
        break;
    default:
        c->dun = c->offset / dus;
        break;
    }
}

/* ---- one request of each kind ---- */

static void check_disk_unchanged(HostileEnv *env, Model *m, uint64_t off,
                                 uint64_t len)
{
    g_autofree uint8_t *now = g_malloc(len ? len : 1);

    ice_image_read(env->img, off, now, len);
    g_assert(!memcmp(now, m->disk + off, len));
}

static void do_rw(Driver *d, HostileEnv *env, Model *m, Stats *st,
                  GRand *rnd)
{
    RwCase c;
    g_autofree uint8_t *buf = NULL;
    g_autofree uint8_t *sent = NULL;
    g_autofree size_t *split = NULL;
    bool wrong_direction = pick(rnd, 50) == 0;
    uint64_t len_on_wire, in_range;
    uint8_t want, got;
    IceReq r;

    random_rw(rnd, &c);
    buf = g_malloc(MAX(c.len, 1));
    for (size_t i = 0; i < c.len; i++) {
        buf[i] = g_rand_int(rnd);
    }
    sent = g_memdup2(buf, MAX(c.len, 1));
    split = random_split(rnd, c.len, d->vq->size - 3);

    r = (IceReq) {
        .type = c.write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
        .sector = c.offset / 512, .payload = true, .slot = c.slot,
        .activate = c.activate, .dun = c.dun, .data = buf, .len = c.len,
        .split = split,
    };
    /*
     * Data in the wrong direction: the device sees a request without
     * data; a write then writes nothing, a read reads nothing.
     */
    len_on_wire = c.len;
    if (wrong_direction) {
        r.reverse = true;
        len_on_wire = 0;
    }
    {
        RwCase wire = c;

        wire.len = len_on_wire;
        want = expected_rw_status(&wire);
    }

    ice_req_submit(global_qtest, d->dev, d->alloc, d->vq, &r);
    g_assert_true(driver_wait(d, &r, ICE_REQ_TIMEOUT_US));
    got = ice_req_finish(global_qtest, d->alloc, &r);
    if (got != want) {
        g_test_message("%s offset %" PRIu64 " len %" PRIu64 " slot %u "
                       "activate %u dun 0x%" PRIx64 "%s: status %u, "
                       "expected %u", c.write ? "write" : "read", c.offset,
                       c.len, c.slot, c.activate, c.dun,
                       wrong_direction ? " (data reversed)" : "", got, want);
        g_assert_cmpint(got, ==, want);
    }
    st->ok += got == VIRTIO_BLK_S_OK;
    st->ioerr += got == VIRTIO_BLK_S_IOERR;

    in_range = c.offset < IMG_SIZE ? MIN(c.len, IMG_SIZE - c.offset) : 0;
    if (wrong_direction) {
        /* A device-writable "write" buffer may have been read into: fine */
        check_disk_unchanged(env, m, c.offset < IMG_SIZE ? c.offset : 0,
                             in_range);
        return;
    }
    if (got != VIRTIO_BLK_S_OK) {
        /* Rejected: nothing on disk, nothing in the guest's buffer */
        check_disk_unchanged(env, m, c.offset < IMG_SIZE ? c.offset : 0,
                             in_range);
        if (!c.write) {
            g_assert(!memcmp(buf, sent, c.len));
        }
        return;
    }

    if (c.write) {
        int si = slot_index(c.slot);
        bool canonical = c.activate == 0 ||
                         c.dun == c.offset / slots[si].dus;

        ice_image_read(env->img, c.offset, m->disk + c.offset, c.len);
        if (c.activate == 0) {
            g_assert(!memcmp(m->disk + c.offset, sent, c.len));
        } else {
            /* Guest memory is never modified by a write */
            g_assert(!memcmp(buf, sent, c.len));
        }
        memcpy(m->plain + c.offset, sent, c.len);
        for (uint64_t s = c.offset / 512; s < (c.offset + c.len) / 512; s++) {
            m->enc[s] = c.activate == 0 ? -1 : canonical ? c.slot : -2;
        }
        return;
    }

    /* An accepted read: check what the model can predict */
    if (c.activate == 0) {
        g_assert(!memcmp(buf, m->disk + c.offset, c.len));
        st->verified_reads++;
    } else {
        int si = slot_index(c.slot);
        bool predictable = c.dun == c.offset / slots[si].dus;

        for (uint64_t s = c.offset / 512;
             predictable && s < (c.offset + c.len) / 512; s++) {
            predictable = m->enc[s] == c.slot;
        }
        if (predictable) {
            g_assert(!memcmp(buf, m->plain + c.offset, c.len));
            st->verified_reads++;
        }
    }
}

static void do_caps(Driver *d, Stats *st, GRand *rnd)
{
    size_t len = pick(rnd, 50);
    uint8_t buf[64];
    uint8_t want = len >= 1 && (len - 1) % 4 == 0 ? VIRTIO_BLK_S_OK
                                                  : VIRTIO_BLK_S_IOERR;
    g_autofree size_t *split = random_split(rnd, len, d->vq->size - 3);
    IceReq r = { .type = VIRTIO_BLK_T_GET_CRYPTO_CAPABILITIES,
                 .payload = d->all_types, .slot = g_rand_int(rnd),
                 .activate = g_rand_int(rnd), .dun = g_rand_int(rnd),
                 .data = len ? buf : NULL, .len = len, .split = split };

    memset(buf, 0xee, sizeof(buf));
    g_assert_cmpint(ice_req_do(global_qtest, d->dev, d->alloc, d->vq, &r), ==,
                    want);
    if (want == VIRTIO_BLK_S_OK) {
        g_assert_cmpuint(buf[0], ==, MIN(9, (len - 1) / 4));
        for (size_t i = 1 + 4 * buf[0]; i < len; i++) {
            g_assert_cmphex(buf[i], ==, 0xee);
        }
    } else if (len) {
        g_assert_cmphex(buf[0], ==, 0xee);
    }
    st->ok += want == VIRTIO_BLK_S_OK;
    st->ioerr += want == VIRTIO_BLK_S_IOERR;
}

/*
 * A WRITE_ZEROES or DISCARD of a random range, in or out of the disk.
 * The drive ignores discards (discard=ignore), so only WRITE_ZEROES
 * changes what the model knows.
 */
static void do_zero_or_discard(Driver *d, HostileEnv *env, Model *m,
                               Stats *st, GRand *rnd)
{
    bool zero = pick(rnd, 2);
    uint64_t sector = pick(rnd, SECTORS + 16);
    uint32_t count = 1 + pick(rnd, 64);
    bool in_range = sector + count <= SECTORS;
    uint8_t want = in_range ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
    uint8_t seg[16];
    IceReq r = { .type = zero ? VIRTIO_BLK_T_WRITE_ZEROES
                              : VIRTIO_BLK_T_DISCARD,
                 .payload = d->all_types, .slot = g_rand_int(rnd),
                 .activate = g_rand_int(rnd), .dun = g_rand_int(rnd),
                 .data = seg, .len = sizeof(seg) };

    stq_le_p(seg, sector);
    stl_le_p(seg + 8, count);
    stl_le_p(seg + 12, 0);
    g_assert_cmpint(ice_req_do(global_qtest, d->dev, d->alloc, d->vq, &r), ==,
                    want);
    if (want == VIRTIO_BLK_S_OK && zero) {
        memset(m->disk + sector * 512, 0, count * 512);
        memset(m->plain + sector * 512, 0, count * 512);
        memset(m->enc + sector, -1, count);
    }
    check_disk_unchanged(env, m, 0, IMG_SIZE);
    st->ok += want == VIRTIO_BLK_S_OK;
    st->ioerr += want == VIRTIO_BLK_S_IOERR;
}

/* FLUSH, GET_ID, unknown and zone types, with a payload as it is due */
static void do_other(Driver *d, Stats *st, GRand *rnd)
{
    uint8_t buf[32];
    static const struct {
        uint32_t type;
        bool payload;
        uint8_t status;
    } kinds[] = {
        { VIRTIO_BLK_T_FLUSH, true, VIRTIO_BLK_S_OK },
        { VIRTIO_BLK_T_GET_ID, false, VIRTIO_BLK_S_OK },
        { 100, false, VIRTIO_BLK_S_UNSUPP },
        { 26, false, VIRTIO_BLK_S_UNSUPP },     /* zone command, not zoned */
    };
    int k = pick(rnd, G_N_ELEMENTS(kinds));
    IceReq r = { .type = kinds[k].type,
                 .payload = kinds[k].payload || d->all_types,
                 .slot = g_rand_int(rnd), .activate = g_rand_int(rnd),
                 .dun = g_rand_int(rnd),
                 .data = kinds[k].type == VIRTIO_BLK_T_FLUSH ? NULL : buf,
                 .len = kinds[k].type == VIRTIO_BLK_T_FLUSH ? 0 :
                        sizeof(buf) };

    g_assert_cmpint(ice_req_do(global_qtest, d->dev, d->alloc, d->vq, &r), ==,
                    kinds[k].status);
    st->ok += kinds[k].status == VIRTIO_BLK_S_OK;
    st->unsupp += kinds[k].status == VIRTIO_BLK_S_UNSUPP;
}

/*
 * A malformed request: header shorter than the 32 bytes a crypto request
 * needs (decision 3), shorter than 16, or a zero-length data descriptor.
 * The device must stop (virtio_error), write nothing, and QEMU must stay
 * up; a reset brings the device back with its keys.  An export drops a
 * request with a short header without completing it, as it does any
 * request too short for its header, and the daemon must stay up.  (A
 * zero-length descriptor makes libvhost-user give up the connection for
 * good: the guest can only hurt its own disk that way, and the test
 * could not go on, so the export is not sent one.)
 */
static void do_malformed(Driver *d, HostileEnv *env, Model *m, Stats *st,
                         GRand *rnd)
{
    static const size_t zero_split[] = { 512, ICE_REQ_ZERO_DESC, 512, 0 };
    uint8_t buf[1024] = { 0 };
    IceReq r = { .type = VIRTIO_BLK_T_IN, .sector = 8, .payload = true,
                 .slot = slots[0].slot, .activate = 1, .data = buf,
                 .len = sizeof(buf) };
    QDict *rsp;

    /*
     * For a read, the header is all the driver-readable part; for a
     * write, data would follow and complete a short header.
     */
    switch (pick(rnd, d->qsd ? 2 : 3)) {
    case 0:
        r.hdr_len = 16 + pick(rnd, 16);         /* 16..31 bytes */
        break;
    case 1:
        r.hdr_len = 1 + pick(rnd, 15);          /* not even a header */
        break;
    default:
        r.type = pick(rnd, 2) ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
        r.split = zero_split;                   /* a zero-length buffer */
        break;
    }
    ice_req_submit(global_qtest, d->dev, d->alloc, d->vq, &r);
    g_assert_false(driver_wait(d, &r, 50 * 1000));
    rsp = qtest_qmp(global_qtest, "{'execute': 'query-status'}");
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    if (d->qsd) {
        rsp = ice_qsd_qmp(d->qsd, "{'execute': 'query-block-exports'}");
        g_assert_true(qdict_haskey(rsp, "return"));
        qobject_unref(rsp);
    }
    check_disk_unchanged(env, m, 0, IMG_SIZE);
    st->broken++;
    driver_restart(d);
}

static void test_hostile(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    HostileEnv *env = data;
    const char *seed_env = g_getenv("ICE_FUZZ_SEED");
    const char *count_env = g_getenv("ICE_FUZZ_COUNT");
    unsigned seed = 1, count = 1500;
    GRand *rnd;
    Model *m = g_new0(Model, 1);
    Driver d = { .dev = blk->vdev, .alloc = alloc,
                 .all_types = env->all_types, .qsd = env->qsd };
    const char *id = env->qsd ? ICE_QSD_EXPORT_ID : "drv0";
    Stats st = { 0 };

    if (seed_env) {
        g_assert_cmpint(qemu_strtoui(seed_env, NULL, 0, &seed), ==, 0);
    }
    if (count_env) {
        g_assert_cmpint(qemu_strtoui(count_env, NULL, 0, &count), ==, 0);
    }
    rnd = g_rand_new_with_seed(seed);
    g_test_message("ICE_FUZZ_SEED=%u ICE_FUZZ_COUNT=%u", seed, count);
    for (size_t i = 0; i < G_N_ELEMENTS(slots); i++) {
        g_autofree uint8_t *key = g_malloc(slots[i].key_len);
        g_autofree char *secret = g_strdup_printf("hk%zu", i);
        g_autofree char *err = NULL;

        for (size_t j = 0; j < slots[i].key_len; j++) {
            key[j] = g_rand_int(rnd);
        }
        ice_keys_add_secret(global_qtest, env->qsd, secret, key,
                            slots[i].key_len);
        err = ice_keys_program_slot(global_qtest, env->qsd, id,
                                    slots[i].slot, slots[i].alg,
                                    slots[i].bits, slots[i].dus, secret);
        g_assert_cmpstr(err, ==, NULL);
    }
    memset(m->enc, -1, sizeof(m->enc));
    driver_start(&d);

    for (unsigned n = 0; n < count; n++) {
        unsigned what = pick(rnd, 100);

        if (what < 85) {
            do_rw(&d, env, m, &st, rnd);
        } else if (what < 92) {
            do_caps(&d, &st, rnd);
        } else if (what < 95) {
            do_other(&d, &st, rnd);
        } else if (what < 98) {
            do_zero_or_discard(&d, env, m, &st, rnd);
        } else {
            do_malformed(&d, env, m, &st, rnd);
        }
        st.requests++;
        if (n % 64 == 63) {
            check_disk_unchanged(env, m, 0, IMG_SIZE);
        }
    }
    check_disk_unchanged(env, m, 0, IMG_SIZE);
    g_test_message("%u requests: %u OK, %u IOERR, %u UNSUPP, %u broke the "
                   "device; %u reads verified", st.requests, st.ok, st.ioerr,
                   st.unsupp, st.broken, st.verified_reads);
    qvirtqueue_cleanup(blk->vdev->bus, d.vq, alloc);
    g_rand_free(rnd);
    g_free(m);
}

static void register_hostile_test(void)
{
    /* Spec and all-types layouts, on the device and on an export */
    static const struct {
        const char *name;
        const char *node;
        void *(*setup)(GString *cmd_line, void *arg);
        const char *arg;
    } variants[] = {
        { "ice/hostile-guest", "virtio-blk", hostile_setup, NULL },
        { "ice/all-types/hostile-guest", "virtio-blk", hostile_setup,
          "all-types" },
        { "ice/vhost-user/hostile-guest", "vhost-user-blk",
          hostile_setup_vhost_user, NULL },
        { "ice/vhost-user/all-types/hostile-guest", "vhost-user-blk",
          hostile_setup_vhost_user, "all-types" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(variants); i++) {
        QOSGraphTestOptions opts = { .before = variants[i].setup,
                                     .arg = (void *)variants[i].arg };

        qos_add_test(variants[i].name, variants[i].node, test_hostile, &opts);
    }
}

libqos_init(register_hostile_test);
