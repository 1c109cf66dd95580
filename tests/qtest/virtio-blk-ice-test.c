/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest for the virtio-blk inline crypto engine (VIRTIO_BLK_F_ICE)
 *
 * The tests act as the guest driver: they build requests with the 32-byte
 * header in guest memory, and check the status byte, the guest buffers
 * and the bytes of the disk image on the host.  Expected ciphertexts are
 * the standard vectors of tests/ice-vectors.h, never the engine's output.
 */

#include "qemu/osdep.h"
#include "libqtest-single.h"
#include "qemu/bswap.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qstring.h"
#include "qobject/qjson.h"
#include "standard-headers/linux/virtio_blk.h"
#include "libqos/qgraph.h"
#include "libqos/virtio-blk.h"
#include "tests/ice-vectors.h"
#include "libqos/virtio-blk-ice.h"

#define IMG_SIZE            (8 * 1024 * 1024)
#define ICE_TIMEOUT_US      ICE_REQ_TIMEOUT_US
#define CFG_CRYPTO          96      /* offset of crypto.slot_info */
#define DEV_ID              "drv0"  /* the id libqos gives the device */
#define EXPORT_ID           ICE_QSD_EXPORT_ID

typedef struct IceEnv {
    char *img;                      /* host path of the disk image */
    char *blkdebug;                 /* blkdebug rules, or NULL */
} IceEnv;

/* ---- set-up ---- */

/*
 * The qemu-storage-daemon whose vhost-user-blk export the current test
 * drives, or NULL for a virtio-blk device: keys go where the engine is
 */
static IceQsd *key_qsd;

static void ice_env_free(void *opaque)
{
    IceEnv *env = opaque;

    unlink(env->img);
    g_free(env->img);
    if (env->blkdebug) {
        unlink(env->blkdebug);
        g_free(env->blkdebug);
    }
    g_free(env);
    qos_invalidate_command_line();
}

/*
 * @props: -global options for virtio-blk-device, space separated
 * @drive: -drive options ending with the key that takes the image's path
 * @extra: more command line
 */
static void *ice_setup_full(GString *cmd_line, const char *props_str,
                            const char *drive, const char *extra)
{
    IceEnv *env = g_new0(IceEnv, 1);
    g_auto(GStrv) props = g_strsplit(props_str, " ", -1);

    env->img = ice_image_create(IMG_SIZE);
    g_test_queue_destroy(ice_env_free, env);

    g_string_append_printf(cmd_line, " -drive if=none,id=drive0,");
    g_string_append_printf(cmd_line, "%s%s", drive, env->img);
    g_string_append_printf(cmd_line, " -object secret,id=boot-key,"
                           "format=base64,data=K34VFiiu0qar9xWICc9PPA== "
                           "-drive if=none,id=spare,file=null-co://,"
                           "format=raw %s", extra);
    for (char **p = props; *p; p++) {
        if (**p) {
            g_string_append_printf(cmd_line, " -global virtio-blk-device.%s",
                                   *p);
        }
    }
    return env;
}

static void *ice_setup_props(GString *cmd_line, const char *props)
{
    return ice_setup_full(cmd_line, props,
                          "format=raw,auto-read-only=off,file=", "");
}

/* @arg: the -global options, see ice_setup_full() */
static void *ice_setup(GString *cmd_line, void *arg)
{
    return ice_setup_props(cmd_line, arg ? arg : "");
}

static QVirtQueue *ice_start(QVirtioDevice *dev, QGuestAllocator *alloc,
                             bool accept_ice)
{
    return ice_req_start_device(dev, alloc, accept_ice);
}

/* ---- requests (tests/qtest/libqos/virtio-blk-ice.c) ---- */

static void ice_submit(QVirtioDevice *dev, QGuestAllocator *alloc,
                       QVirtQueue *vq, IceReq *r)
{
    ice_req_submit(global_qtest, dev, alloc, vq, r);
}

static uint8_t ice_finish(QGuestAllocator *alloc, IceReq *r)
{
    return ice_req_finish(global_qtest, alloc, r);
}

static void ice_wait_all(QVirtioDevice *dev, QVirtQueue *vq, IceReq *r,
                         int n)
{
    ice_req_wait_all(global_qtest, dev, vq, r, n);
}

static uint8_t ice_do(QVirtioDevice *dev, QGuestAllocator *alloc,
                      QVirtQueue *vq, IceReq *r)
{
    return ice_req_do(global_qtest, dev, alloc, vq, r);
}

static uint8_t ice_rw(QVirtioDevice *dev, QGuestAllocator *alloc,
                      QVirtQueue *vq, uint32_t type, uint64_t offset,
                      uint8_t *buf, size_t len, uint8_t slot,
                      uint8_t activate, uint64_t dun, const size_t *split)
{
    IceReq r = {
        .type = type, .sector = offset / 512, .payload = true,
        .slot = slot, .activate = activate, .dun = dun,
        .data = buf, .len = len, .split = split,
    };

    return ice_do(dev, alloc, vq, &r);
}

/* ---- QMP ---- */

/* The id QMP finds the engine by */
static const char *ice_id(void)
{
    return key_qsd ? EXPORT_ID : DEV_ID;
}

static void ice_add_secret(const char *id, const uint8_t *key, size_t len)
{
    ice_keys_add_secret(global_qtest, key_qsd, id, key, len);
}

/* Program a slot; returns NULL or the error description */
static char *ice_program(unsigned slot, const char *alg, unsigned bits,
                         unsigned dus, const char *secret)
{
    return ice_keys_program_slot(global_qtest, key_qsd, ice_id(), slot, alg,
                                 bits, dus, secret);
}

static void ice_program_ok(unsigned slot, const char *alg, unsigned bits,
                           unsigned dus, const char *secret)
{
    g_autofree char *err = ice_program(slot, alg, bits, dus, secret);

    g_assert_cmpstr(err, ==, NULL);
}

/* Load a vector's key under @name and program it into @slot */
static void ice_program_kat(const IceKat *t, unsigned slot, const char *name)
{
    ice_keys_program_kat(global_qtest, key_qsd, ice_id(), t, slot, name);
}

/* ---- negotiation and configuration ---- */

static void test_feature_off(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    QVirtQueue *vq;
    QDict *rsp;

    g_assert_false(qvirtio_get_features(blk->vdev) &
                   (1ull << VIRTIO_BLK_F_ICE));
    vq = ice_start(blk->vdev, alloc, true);
    /* Config space ends before the crypto field: reads return all ones */
    g_assert_cmphex(qvirtio_config_readw(blk->vdev, CFG_CRYPTO), ==, 0xffff);
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);

    rsp = qtest_qmp(global_qtest, "{'execute': 'query-ice', 'arguments':"
                    " { 'id': %s } }", DEV_ID);
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"), ==,
                    "Device '" DEV_ID "' does not have ice=on");
    qobject_unref(rsp);
}

static void check_config(QVirtioBlk *blk, QGuestAllocator *alloc,
                         uint16_t slot_info)
{
    QVirtQueue *vq;

    g_assert_true(qvirtio_get_features(blk->vdev) &
                  (1ull << VIRTIO_BLK_F_ICE));
    vq = ice_start(blk->vdev, alloc, true);
    g_assert_cmphex(qvirtio_config_readw(blk->vdev, CFG_CRYPTO), ==,
                    slot_info);
    g_assert_cmphex(qvirtio_config_readw(blk->vdev, CFG_CRYPTO + 2), ==, 0);
    /* 100 bytes: nothing after the crypto field */
    g_assert_cmphex(qvirtio_config_readb(blk->vdev, CFG_CRYPTO + 4), ==, 0xff);
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/* slot_info = max_slots << 8 | slot_offset */
static void test_config_default(void *obj, void *data, QGuestAllocator *alloc)
{
    check_config(obj, alloc, 32 << 8 | 0);
}

static void test_config_16_8(void *obj, void *data, QGuestAllocator *alloc)
{
    check_config(obj, alloc, 16 << 8 | 8);
}

static void test_config_255_1(void *obj, void *data, QGuestAllocator *alloc)
{
    check_config(obj, alloc, 255 << 8 | 1);
}

static void *ice_setup_slots16_off8(GString *cmd_line, void *arg)
{
    return ice_setup_props(cmd_line, "ice=on ice-slots=16 ice-slot-offset=8");
}

static void *ice_setup_slots255_off1(GString *cmd_line, void *arg)
{
    return ice_setup_props(cmd_line, "ice=on ice-slots=255 ice-slot-offset=1");
}

/*
 * Decision 11: a driver that does not accept the feature gets 16-byte
 * headers and no crypto on an ice=on device.
 */
static void test_not_accepted(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    IceEnv *env = data;
    QVirtQueue *vq = ice_start(blk->vdev, alloc, false);
    uint8_t buf[512], img[512];
    IceReq r = { .type = VIRTIO_BLK_T_OUT, .sector = 8, .data = buf,
                 .len = sizeof(buf) };

    memset(buf, 0x3c, sizeof(buf));
    g_assert_cmpint(ice_do(blk->vdev, alloc, vq, &r),
                    ==, VIRTIO_BLK_S_OK);
    ice_image_read(env->img, 8 * 512, img, sizeof(img));
    g_assert(!memcmp(img, buf, sizeof(img)));

    memset(buf, 0, sizeof(buf));
    r.type = VIRTIO_BLK_T_IN;
    g_assert_cmpint(ice_do(blk->vdev, alloc, vq, &r), ==, VIRTIO_BLK_S_OK);
    g_assert(!memcmp(img, buf, sizeof(img)));

    /* The capabilities command needs the feature */
    r = (IceReq) { .type = VIRTIO_BLK_T_GET_CRYPTO_CAPABILITIES,
                   .data = buf, .len = 5 };
    g_assert_cmpint(ice_do(blk->vdev, alloc, vq, &r), ==,
                    VIRTIO_BLK_S_UNSUPP);
    /* The config field still has its values */
    g_assert_cmphex(qvirtio_config_readw(blk->vdev, CFG_CRYPTO), ==, 0x2000);
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/* ---- capabilities (decision 7) ---- */

static void test_caps(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    QVirtQueue *vq = ice_start(blk->vdev, alloc, true);
    static const uint32_t want[] = {
        0x00ff0100, 0x00ff0300, 0x01ff0100, 0x01ff0300,
        0x02ff0100, 0x02ff0200, 0x02ff0300, 0x03ff0100, 0x03ff0300,
    };
    /* Buffers of 4n+1 bytes: fewer, exactly, and more than 9 entries */
    static const size_t good[] = { 1, 5, 9, 33, 37, 41, 49, 1 + 4 * 64 };
    static const size_t bad[] = { 2, 3, 4, 6, 8, 36, 38 };
    uint8_t buf[1 + 4 * 64];

    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        size_t len = good[i], n = MIN((len - 1) / 4, G_N_ELEMENTS(want));
        const size_t split[] = { 1, 3, 0 };     /* entries straddle buffers */
        IceReq r = { .type = VIRTIO_BLK_T_GET_CRYPTO_CAPABILITIES,
                     .data = buf, .len = len, .split = split };

        memset(buf, 0xee, sizeof(buf));
        g_assert_cmpint(ice_do(blk->vdev, alloc, vq, &r), ==,
                        VIRTIO_BLK_S_OK);
        g_assert_cmpuint(buf[0], ==, n);
        for (size_t j = 0; j < n; j++) {
            g_assert_cmphex(ldl_le_p(buf + 1 + 4 * j), ==, want[j]);
        }
        /* Nothing written past the entries */
        for (size_t j = 1 + 4 * n; j < len; j++) {
            g_assert_cmphex(buf[j], ==, 0xee);
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        IceReq r = { .type = VIRTIO_BLK_T_GET_CRYPTO_CAPABILITIES,
                     .data = buf, .len = bad[i] };

        memset(buf, 0xee, sizeof(buf));
        g_assert_cmpint(ice_do(blk->vdev, alloc, vq, &r), ==,
                        VIRTIO_BLK_S_IOERR);
        g_assert_cmphex(buf[0], ==, 0xee);
    }
    /* No data buffer at all: L = 0 */
    {
        IceReq r = { .type = VIRTIO_BLK_T_GET_CRYPTO_CAPABILITIES };

        g_assert_cmpint(ice_do(blk->vdev, alloc, vq, &r), ==,
                        VIRTIO_BLK_S_IOERR);
    }
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/* ---- data path against known answers ---- */

/*
 * For every vector the qtest can use (the NIST CBC rows need an IV the
 * device derives; the unit test covers them): write the plaintext with
 * activate=1 through a split layout and compare the image with the
 * standard ciphertext, read it back with activate=1 (plaintext) and 0
 * (ciphertext), and write with activate=0 (plaintext on disk).
 */
static void test_kat(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    IceEnv *env = data;
    QVirtQueue *vq = ice_start(blk->vdev, alloc, true);
    static const size_t wsplit[] = { 7, 505, 16, 1000, 0 };
    static const size_t rsplit[] = { 513, 3, 4096, 0 };
    uint64_t offset = 0;
    unsigned slot = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(kats); i++) {
        const IceKat *t = &kats[i];
        size_t len = (size_t)t->dus * t->units, ct_len;
        g_autofree uint8_t *pt = g_malloc(len);
        g_autofree uint8_t *buf = g_malloc(len);
        g_autofree uint8_t *img = g_malloc(len);
        g_autofree char *name = g_strdup_printf("kat%zu", i);
        g_autofree char *hex = NULL;

        if (t->nist_cbc_iv || (!t->ct && !t->ct_sha256)) {
            continue;
        }
        g_test_message("vector %s at offset %" PRIu64, t->name, offset);
        ice_program_kat(t, slot, name);
        ice_kat_plaintext(t, pt, len);

        memcpy(buf, pt, len);
        g_assert_cmpint(ice_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_OUT, offset,
                               buf, len, slot, 1, t->dun, wsplit), ==,
                        VIRTIO_BLK_S_OK);
        ice_image_read(env->img, offset, img, len);
        if (t->ct) {
            g_autofree uint8_t *ct = unhex(t->ct, &ct_len);

            for (size_t off = 0; off < len;
                 off += t->alg == ICE_ECB ? ct_len : len) {
                hex = tohex(img + off, ct_len);
                g_assert_cmpstr(hex, ==, t->ct);
                g_free(hex);
                hex = NULL;
            }
        }
        if (t->ct_sha256) {
            hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, img, len);
            g_assert_cmpstr(hex, ==, t->ct_sha256);
        }

        memset(buf, 0xcc, len);
        g_assert_cmpint(ice_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_IN, offset,
                               buf, len, slot, 1, t->dun, rsplit), ==,
                        VIRTIO_BLK_S_OK);
        g_assert(!memcmp(buf, pt, len));

        /* activate=0: slot and DUN are ignored (decision 2) */
        g_assert_cmpint(ice_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_IN, offset,
                               buf, len, 250, 0, 12345, NULL), ==,
                        VIRTIO_BLK_S_OK);
        g_assert(!memcmp(buf, img, len));
        memcpy(buf, pt, len);
        g_assert_cmpint(ice_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_OUT, offset,
                               buf, len, 250, 0, 12345, NULL), ==,
                        VIRTIO_BLK_S_OK);
        ice_image_read(env->img, offset, img, len);
        g_assert(!memcmp(img, pt, len));

        offset += ROUND_UP(len, 65536);
        slot++;
    }
    g_assert_cmpuint(slot, >=, 12);
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/*
 * Requests larger than one chunk (1 MiB) are encrypted and written, or
 * read and decrypted, chunk by chunk, their crypto done by worker
 * threads; 64 KiB requests are one chunk, encrypted in the I/O thread,
 * and checked against the standard vectors by ice/known-answers.  For
 * each algorithm and data unit sizes of 512 B, 4 KiB and 64 KiB, a
 * 2112 KiB request (two chunks and a sixteenth) whose descriptors split
 * data units and whose last data unit is DUN 2^64 - 1 must leave on the
 * disk exactly what 64 KiB requests leave for the same data units and
 * DUNs, and read back as its plaintext.
 */
static void test_chunks(void *obj, void *data, QGuestAllocator *alloc)
{
    static const struct {
        const char *alg;
        unsigned bits;
        size_t key_len;
    } algs[] = {
        { "aes-xts", 256, 64 }, { "bitlocker-aes-cbc", 128, 16 },
        { "aes-ecb", 192, 24 }, { "essiv-aes-cbc", 256, 32 },
    };
    static const unsigned dus[] = { 512, 4096, 65536 };
    static const size_t split[] = { 100000, 3, 262141, 70001, 0 };
    const size_t len = 2112 * 1024, piece = 64 * 1024;
    const uint64_t whole_off = 1024 * 1024, pieces_off = 4 * 1024 * 1024;
    QVirtioBlk *blk = obj;
    IceEnv *env = data;
    QVirtQueue *vq = ice_start(blk->vdev, alloc, true);
    g_autofree uint8_t *pt = g_malloc(len);
    g_autofree uint8_t *buf = g_malloc(len);
    g_autofree uint8_t *img1 = g_malloc(len);
    g_autofree uint8_t *img2 = g_malloc(len);
    uint8_t key[64];

    for (size_t i = 0; i < len; i++) {
        pt[i] = (i * 2654435761u) >> 24;
    }
    for (size_t i = 0; i < sizeof(key); i++) {
        key[i] = i * 13 + 7;
    }
    for (size_t a = 0; a < G_N_ELEMENTS(algs); a++) {
        g_autofree char *secret = g_strdup_printf("chunk-key-%zu", a);

        ice_add_secret(secret, key, algs[a].key_len);
        for (size_t d = 0; d < G_N_ELEMENTS(dus); d++) {
            uint64_t dun = UINT64_MAX - len / dus[d] + 1;

            ice_program_ok(5, algs[a].alg, algs[a].bits, dus[d], secret);
            memcpy(buf, pt, len);
            g_assert_cmpint(ice_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_OUT,
                                   whole_off, buf, len, 5, 1, dun, split),
                            ==, VIRTIO_BLK_S_OK);
            for (size_t p = 0; p < len; p += piece) {
                memcpy(buf, pt + p, piece);
                g_assert_cmpint(ice_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_OUT,
                                       pieces_off + p, buf, piece, 5, 1,
                                       dun + p / dus[d], NULL),
                                ==, VIRTIO_BLK_S_OK);
            }
            ice_image_read(env->img, whole_off, img1, len);
            ice_image_read(env->img, pieces_off, img2, len);
            g_assert(memcmp(img1, pt, len));
            g_assert(!memcmp(img1, img2, len));

            memset(buf, 0, len);
            g_assert_cmpint(ice_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_IN,
                                   whole_off, buf, len, 5, 1, dun, split),
                            ==, VIRTIO_BLK_S_OK);
            g_assert(!memcmp(buf, pt, len));
        }
    }
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/*
 * Several crypto writes in flight on one queue, each with its own slot
 * and DUN, adjacent on disk so the block layer may merge them: every
 * unit must still be encrypted with its own request's key and DUN.
 */
static void test_in_flight(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    IceEnv *env = data;
    QVirtQueue *vq = ice_start(blk->vdev, alloc, true);
    const IceKat *v10 = ice_kat_find("xts-256/ieee1619-v10");
    const IceKat *v4 = ice_kat_find("xts-128/ieee1619-v4");
    IceReq r[4];
    uint8_t pt[4][512], img[512];
    size_t ct_len;

    ice_program_kat(v10, 5, "k-v10");
    ice_program_kat(v4, 6, "k-v4");

    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 512; j++) {
            pt[i][j] = j;
        }
        r[i] = (IceReq) { .type = VIRTIO_BLK_T_OUT, .sector = 100 + i,
                          .payload = true, .activate = 1,
                          .slot = i & 1 ? 6 : 5,
                          .dun = i & 1 ? v4->dun : v10->dun,
                          .data = pt[i], .len = 512 };
        ice_submit(blk->vdev, alloc, vq, &r[i]);
    }
    ice_wait_all(blk->vdev, vq, r, 4);
    for (int i = 0; i < 4; i++) {
        g_assert_cmpint(ice_finish(alloc, &r[i]), ==, VIRTIO_BLK_S_OK);
    }
    for (int i = 0; i < 4; i++) {
        g_autofree uint8_t *ct = unhex(i & 1 ? v4->ct : v10->ct, &ct_len);

        ice_image_read(env->img, (100 + i) * 512, img, sizeof(img));
        g_assert(!memcmp(img, ct, sizeof(img)));
    }
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/* ---- rejections (decisions 2 and 4) ---- */

typedef struct IceBadCase {
    const char *what;
    uint8_t slot;
    uint8_t activate;
    uint64_t offset;
    size_t len;
    uint64_t dun;
} IceBadCase;

/*
 * Run each case as a write and as a read: status IOERR, the image is
 * byte-for-byte unchanged and the guest's read buffer untouched.
 * Slot 10 holds an XTS-256 key with 4 KiB data units.
 */
static void run_bad_cases(QVirtioBlk *blk, IceEnv *env, QGuestAllocator *alloc,
                          QVirtQueue *vq, const IceBadCase *cases, size_t n)
{
    const size_t region = 1024 * 1024;
    g_autofree uint8_t *before = g_malloc(region);
    g_autofree uint8_t *after = g_malloc(region);
    uint8_t *buf = g_malloc(3 * 4096);

    for (size_t i = 0; i < region; i++) {
        before[i] = i * 7 + 3;
    }
    ice_image_write(env->img, 0, before, region);

    for (size_t i = 0; i < n; i++) {
        const IceBadCase *c = &cases[i];

        g_test_message("rejection case: %s", c->what);
        memset(buf, 0x77, c->len);
        g_assert_cmpint(ice_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_OUT,
                               c->offset, buf, c->len, c->slot, c->activate,
                               c->dun, NULL), ==, VIRTIO_BLK_S_IOERR);
        ice_image_read(env->img, 0, after, region);
        g_assert(!memcmp(before, after, region));

        memset(buf, 0x77, c->len);
        g_assert_cmpint(ice_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_IN,
                               c->offset, buf, c->len, c->slot, c->activate,
                               c->dun, NULL), ==, VIRTIO_BLK_S_IOERR);
        for (size_t j = 0; j < c->len; j++) {
            g_assert_cmphex(buf[j], ==, 0x77);
        }
    }
    g_free(buf);
}

static void program_slot10(void)
{
    uint8_t key[64];

    for (int i = 0; i < 64; i++) {
        key[i] = i * 3 + 1;
    }
    ice_add_secret("k10", key, sizeof(key));
    ice_program_ok(10, "aes-xts", 256, 4096, "k10");
}

/* Requests decision 4 rejects, against slot 10 (XTS-256, 4 KiB units) */
static const IceBadCase reject_cases[] = {
    { "activate 2", 10, 2, 8192, 4096, 0 },
    { "activate 255", 10, 255, 8192, 4096, 0 },
    { "slot past the last", 32, 1, 8192, 4096, 0 },
    { "slot 255", 255, 1, 8192, 4096, 0 },
    { "empty slot", 11, 1, 8192, 4096, 0 },
    { "offset not a multiple of the data unit", 10, 1, 8192 + 512,
      4096, 0 },
    { "length not a multiple of the data unit", 10, 1, 8192, 2048, 0 },
    { "length of 1.5 data units", 10, 1, 8192, 6144, 0 },
    { "DUN overflow", 10, 1, 8192, 2 * 4096, UINT64_MAX },
    { "DUN overflow on the third unit", 10, 1, 8192, 3 * 4096,
      UINT64_MAX - 1 },
};

static void test_reject(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    QVirtQueue *vq = ice_start(blk->vdev, alloc, true);

    program_slot10();
    run_bad_cases(blk, data, alloc, vq, reject_cases,
                  G_N_ELEMENTS(reject_cases));

    /* The last DUN may be exactly 2^64 - 1 */
    {
        uint8_t buf[2 * 4096] = { 0 };

        g_assert_cmpint(ice_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_OUT, 8192,
                               buf, sizeof(buf), 10, 1, UINT64_MAX - 1, NULL),
                        ==, VIRTIO_BLK_S_OK);
    }
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/* With ice-slot-offset=8 and 16 slots, valid slots are 8..23 */
static void test_reject_offset(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    QVirtQueue *vq = ice_start(blk->vdev, alloc, true);
    static const IceBadCase cases[] = {
        { "slot below the offset", 7, 1, 8192, 4096, 0 },
        { "slot 0 below the offset", 0, 1, 8192, 4096, 0 },
        { "slot past offset + slots", 24, 1, 8192, 4096, 0 },
    };
    g_autofree char *err = ice_program(7, "aes-xts", 256, 4096, "boot-key");

    g_assert_cmpstr(err, ==, "slot 7 is out of range (valid slots: 8 to 23)");
    program_slot10();
    run_bad_cases(blk, data, alloc, vq, cases, G_N_ELEMENTS(cases));
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/*
 * Decision 10: with the feature negotiated, other request types keep the
 * 16-byte header and no payload: WRITE_ZEROES zeroes its range, GET_ID
 * answers, an unknown type is UNSUPP.
 */
static void test_other_types(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    IceEnv *env = data;
    QVirtQueue *vq = ice_start(blk->vdev, alloc, true);
    uint8_t dwz[16], id[20], img[4096], ones[4096];
    IceReq r;

    memset(ones, 0xff, sizeof(ones));
    ice_image_write(env->img, 32 * 512, ones, sizeof(ones));
    stq_le_p(dwz, 32);
    stl_le_p(dwz + 8, 8);
    stl_le_p(dwz + 12, 0);
    r = (IceReq) { .type = VIRTIO_BLK_T_WRITE_ZEROES, .data = dwz,
                   .len = sizeof(dwz) };
    g_assert_cmpint(ice_req_do(global_qtest, blk->vdev, alloc, vq, &r), ==,
                    VIRTIO_BLK_S_OK);
    ice_image_read(env->img, 32 * 512, img, sizeof(img));
    for (size_t i = 0; i < sizeof(img); i++) {
        g_assert_cmphex(img[i], ==, 0);
    }

    r = (IceReq) { .type = VIRTIO_BLK_T_GET_ID, .data = id,
                   .len = sizeof(id) };
    g_assert_cmpint(ice_do(blk->vdev, alloc, vq, &r), ==, VIRTIO_BLK_S_OK);

    r = (IceReq) { .type = 100, .data = id, .len = sizeof(id) };
    g_assert_cmpint(ice_do(blk->vdev, alloc, vq, &r), ==,
                    VIRTIO_BLK_S_UNSUPP);
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/* ice-payload=all-types, the serial GET_ID returns, an unmapping drive */
static void *ice_setup_all_types(GString *cmd_line, void *arg)
{
    return ice_setup_full(cmd_line,
                          "ice=on ice-payload=all-types serial=ice-all-types",
                          "format=raw,auto-read-only=off,discard=unmap,file=",
                          "");
}

/* A DISCARD or WRITE_ZEROES of @sectors sectors at @sector, with payload */
static uint8_t discard_or_zero(QVirtioBlk *blk, QGuestAllocator *alloc,
                               QVirtQueue *vq, uint32_t type, uint64_t sector,
                               uint32_t sectors, uint8_t activate)
{
    uint8_t seg[16];
    IceReq r = { .type = type, .payload = true, .slot = 0xee,
                 .activate = activate, .dun = 0xdeadbeefcafe,
                 .data = seg, .len = sizeof(seg) };

    stq_le_p(seg, sector);
    stl_le_p(seg + 8, sectors);
    stl_le_p(seg + 12, 0);
    return ice_do(blk->vdev, alloc, vq, &r);
}

static void assert_image_zero(IceEnv *env, uint64_t off, size_t len)
{
    g_autofree uint8_t *img = g_malloc(len);

    ice_image_read(env->img, off, img, len);
    for (size_t i = 0; i < len; i++) {
        g_assert_cmphex(img[i], ==, 0);
    }
}

/*
 * ice-payload=all-types: the layout of Qualcomm's downstream Android
 * driver, whose every request carries the payload, with a stale slot and
 * DUN where activate is 0.  Each type other than IN and OUT consumes the
 * payload, ignores it (activate included) and does what it always does.
 */
static void test_all_types_other(void *obj, void *data,
                                 QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    IceEnv *env = data;
    QVirtQueue *vq = ice_start(blk->vdev, alloc, true);
    uint8_t ones[8192], id[20], caps[1 + 4 * 9];
    QDict *rsp;
    IceReq r;

    rsp = qtest_qmp(global_qtest, "{'execute': 'query-ice', 'arguments':"
                    " { 'id': 'drv0' } }");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(rsp, "return"), "payload"),
                    ==, "all-types");
    qobject_unref(rsp);

    memset(ones, 0xff, sizeof(ones));
    for (uint8_t activate = 0; activate < 2; activate++) {
        ice_image_write(env->img, 32 * 512, ones, sizeof(ones));
        g_assert_cmpint(discard_or_zero(blk, alloc, vq,
                                        VIRTIO_BLK_T_WRITE_ZEROES, 32, 8,
                                        activate), ==, VIRTIO_BLK_S_OK);
        assert_image_zero(env, 32 * 512, 8 * 512);
        ice_image_read(env->img, 40 * 512, id, sizeof(id));
        g_assert_cmphex(id[0], ==, 0xff);       /* only the 8 sectors */

        ice_image_write(env->img, 64 * 512, ones, sizeof(ones));
        g_assert_cmpint(discard_or_zero(blk, alloc, vq, VIRTIO_BLK_T_DISCARD,
                                        64, 16, activate), ==,
                        VIRTIO_BLK_S_OK);
        assert_image_zero(env, 64 * 512, 16 * 512);
    }

    memset(id, 0xcc, sizeof(id));
    r = (IceReq) { .type = VIRTIO_BLK_T_GET_ID, .payload = true, .slot = 1,
                   .activate = 1, .dun = 99, .data = id, .len = sizeof(id) };
    g_assert_cmpint(ice_do(blk->vdev, alloc, vq, &r), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpstr((char *)id, ==, "ice-all-types");

    r = (IceReq) { .type = VIRTIO_BLK_T_GET_CRYPTO_CAPABILITIES,
                   .payload = true, .slot = 0xee, .data = caps,
                   .len = sizeof(caps) };
    g_assert_cmpint(ice_do(blk->vdev, alloc, vq, &r), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(caps[0], ==, 9);
    g_assert_cmphex(ldl_le_p(caps + 1), ==, 0x00ff0100);    /* XTS-128 */

    for (uint32_t type = VIRTIO_BLK_T_FLUSH; type <= VIRTIO_BLK_T_FLUSH + 1;
         type++) {
        r = (IceReq) { .type = type, .payload = true, .slot = 0xee,
                       .activate = 1, .dun = UINT64_MAX };
        g_assert_cmpint(ice_do(blk->vdev, alloc, vq, &r), ==,
                        VIRTIO_BLK_S_OK);
    }

    r = (IceReq) { .type = 100, .payload = true, .data = id,
                   .len = sizeof(id) };
    g_assert_cmpint(ice_do(blk->vdev, alloc, vq, &r), ==,
                    VIRTIO_BLK_S_UNSUPP);
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/* Decision 5: FLUSH consumes the payload and ignores it */
static void test_flush(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    QVirtQueue *vq = ice_start(blk->vdev, alloc, true);
    IceReq r = { .type = VIRTIO_BLK_T_FLUSH, .payload = true, .slot = 200,
                 .activate = 7, .dun = UINT64_MAX };

    g_assert_cmpint(ice_do(blk->vdev, alloc, vq, &r), ==, VIRTIO_BLK_S_OK);

    /* The legacy FLUSH_OUT (5), handled as a FLUSH, carries its payload */
    r.type = VIRTIO_BLK_T_FLUSH | VIRTIO_BLK_T_OUT;
    g_assert_cmpint(ice_do(blk->vdev, alloc, vq, &r), ==, VIRTIO_BLK_S_OK);
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/*
 * Submit a malformed request: the device stops processing the queue
 * (virtio_error), never uses it, and QEMU stays up.
 */
static void assert_queue_stops(QVirtioBlk *blk, QGuestAllocator *alloc,
                               IceReq *r)
{
    QVirtQueue *vq = ice_start(blk->vdev, alloc, true);
    QDict *rsp;

    ice_submit(blk->vdev, alloc, vq, r);
    qtest_clock_step(global_qtest, 100 * 1000 * 1000);
    g_assert_false(qvirtqueue_get_buf(global_qtest, vq, NULL, NULL));
    rsp = qtest_qmp(global_qtest, "{'execute': 'query-status'}");
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/*
 * Decision 3: an IN request whose driver-readable part is shorter than 32
 * bytes is a malformed header.
 */
static void test_short_header(void *obj, void *data, QGuestAllocator *alloc)
{
    uint8_t buf[512];
    IceReq r = { .type = VIRTIO_BLK_T_IN, .payload = true, .hdr_len = 24,
                 .data = buf, .len = sizeof(buf) };

    assert_queue_stops(obj, alloc, &r);
}

/*
 * Like a FLUSH, a legacy FLUSH_OUT whose driver-readable part cannot hold
 * the payload is malformed.
 */
static void test_flush_out_short(void *obj, void *data,
                                 QGuestAllocator *alloc)
{
    IceReq r = { .type = VIRTIO_BLK_T_FLUSH | VIRTIO_BLK_T_OUT };

    assert_queue_stops(obj, alloc, &r);
}

/*
 * With ice-payload=all-types a GET_ID, whose driver-readable part is the
 * 16-byte header alone, is too short to hold its payload: malformed
 */
static void test_all_types_short_header(void *obj, void *data,
                                        QGuestAllocator *alloc)
{
    uint8_t id[20];
    IceReq r = { .type = VIRTIO_BLK_T_GET_ID, .data = id, .len = sizeof(id) };

    assert_queue_stops(obj, alloc, &r);
}

/* ---- host key management (section 4) ---- */

static char *qmp_error(const char *cmd, const char *args)
{
    QDict *rsp = qtest_qmp(global_qtest, "{'execute': %s, 'arguments': %p}",
                           cmd, qobject_from_json(args, &error_abort));
    char *desc = NULL;

    if (qdict_haskey(rsp, "error")) {
        desc = g_strdup(qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"));
    }
    qobject_unref(rsp);
    return desc;
}

static void expect_qmp_error(const char *cmd, const char *args,
                             const char *want)
{
    g_autofree char *desc = qmp_error(cmd, args);

    g_assert_cmpstr(desc, ==, want);
}

static void test_qmp(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    QVirtQueue *vq = ice_start(blk->vdev, alloc, true);
    /* A key whose bytes are easy to spot in any output */
    uint8_t key[64];
    g_autofree char *key_b64 = NULL, *key_hex = NULL, *reply = NULL;
    QDict *rsp, *ret;
    QList *slots;
    QDict *slot;
    uint8_t buf[4096];

    for (int i = 0; i < 64; i++) {
        key[i] = i < 32 ? 0xa5 : 0x5a;
    }
    key_b64 = g_base64_encode(key, sizeof(key));
    key_hex = tohex(key, sizeof(key));
    ice_add_secret("qk", key, sizeof(key));
    ice_add_secret("short", key, 16);

    expect_qmp_error("ice-program-slot", "{'id': 'nope', 'slot': 1, "
                     "'algorithm': 'aes-xts', 'key-size': 256, "
                     "'data-unit-size': 4096, 'key-secret': 'qk'}",
                     "Device 'nope' not found");
    expect_qmp_error("ice-program-slot", "{'id': '/machine/unattached', "
                     "'slot': 1, 'algorithm': 'aes-xts', 'key-size': 256, "
                     "'data-unit-size': 4096, 'key-secret': 'qk'}",
                     "Device '/machine/unattached' is not a virtio-blk "
                     "device");
    expect_qmp_error("ice-program-slot", "{'id': 'drv0', 'slot': 40, "
                     "'algorithm': 'aes-xts', 'key-size': 256, "
                     "'data-unit-size': 4096, 'key-secret': 'qk'}",
                     "slot 40 is out of range (valid slots: 0 to 31)");
    expect_qmp_error("ice-program-slot", "{'id': 'drv0', 'slot': 1, "
                     "'algorithm': 'aes-xts', 'key-size': 192, "
                     "'data-unit-size': 4096, 'key-secret': 'qk'}",
                     "aes-xts does not support 192-bit keys");
    expect_qmp_error("ice-program-slot", "{'id': 'drv0', 'slot': 1, "
                     "'algorithm': 'aes-ecb', 'key-size': 512, "
                     "'data-unit-size': 4096, 'key-secret': 'qk'}",
                     "aes-ecb does not support 512-bit keys");
    expect_qmp_error("ice-program-slot", "{'id': 'drv0', 'slot': 1, "
                     "'algorithm': 'aes-xts', 'key-size': 100, "
                     "'data-unit-size': 4096, 'key-secret': 'qk'}",
                     "key size 100 is not 128, 192, 256 or 512 bits");
    expect_qmp_error("ice-program-slot", "{'id': 'drv0', 'slot': 1, "
                     "'algorithm': 'aes-xts', 'key-size': 256, "
                     "'data-unit-size': 3000, 'key-secret': 'qk'}",
                     "data unit size 3000 is not a power of two from 512 "
                     "to 65536");
    expect_qmp_error("ice-program-slot", "{'id': 'drv0', 'slot': 1, "
                     "'algorithm': 'aes-xts', 'key-size': 256, "
                     "'data-unit-size': 4096, 'key-secret': 'missing'}",
                     "No secret with id 'missing'");
    expect_qmp_error("ice-program-slot", "{'id': 'drv0', 'slot': 1, "
                     "'algorithm': 'aes-xts', 'key-size': 256, "
                     "'data-unit-size': 4096, 'key-secret': 'short'}",
                     "key 'short' is 16 bytes long, a 256-bit aes-xts key "
                     "needs 64");
    expect_qmp_error("ice-evict-slot", "{'id': 'drv0', 'slot': 32}",
                     "slot 32 is out of range (valid slots: 0 to 31)");
    expect_qmp_error("query-ice", "{'id': 'nope'}", "Device 'nope' not found");

    /* Program by qdev id and by QOM path of the proxy */
    ice_program_ok(1, "aes-xts", 256, 4096, "qk");
    qtest_qmp_assert_success(global_qtest,
                             "{'execute': 'ice-program-slot', 'arguments': {"
                             " 'id': '/machine/peripheral/drv0', 'slot': 2,"
                             " 'algorithm': 'essiv-aes-cbc', 'key-size': 128,"
                             " 'data-unit-size': 512, 'key-secret': 'short' }"
                             "}");

    rsp = qtest_qmp(global_qtest, "{'execute': 'query-ice', 'arguments':"
                    " { 'id': 'drv0' } }");
    ret = qdict_get_qdict(rsp, "return");
    g_assert_cmpint(qdict_get_int(ret, "max-slots"), ==, 32);
    g_assert_cmpint(qdict_get_int(ret, "slot-offset"), ==, 0);
    g_assert_cmpstr(qdict_get_str(ret, "payload"), ==, "spec");
    g_assert_cmpint(qlist_size(qdict_get_qlist(ret, "capabilities")), ==, 9);
    slots = qdict_get_qlist(ret, "slots");
    g_assert_cmpint(qlist_size(slots), ==, 2);
    slot = qobject_to(QDict, qlist_peek(slots));
    g_assert_cmpint(qdict_get_int(slot, "slot"), ==, 1);
    g_assert_cmpstr(qdict_get_str(slot, "algorithm"), ==, "aes-xts");
    g_assert_cmpint(qdict_get_int(slot, "key-size"), ==, 256);
    g_assert_cmpint(qdict_get_int(slot, "data-unit-size"), ==, 4096);
    g_assert_cmpstr(qdict_get_str(slot, "key-secret"), ==, "qk");
    /* No key bytes anywhere in the reply */
    reply = g_string_free(qobject_to_json(QOBJECT(rsp)), false);
    g_assert_null(strstr(reply, key_b64));
    g_assert_null(strcasestr(reply, key_hex));
    g_assert_null(strstr(reply, "a5a5a5a5"));
    qobject_unref(rsp);

    /* HMP shows the same, without key bytes */
    rsp = qtest_qmp(global_qtest, "{'execute': 'human-monitor-command',"
                    " 'arguments': { 'command-line': 'info ice drv0' } }");
    g_assert_nonnull(strstr(qdict_get_str(rsp, "return"),
                            "slot 1: aes-xts 256-bit, data unit 4096, key "
                            "from secret 'qk'"));
    g_assert_null(strcasestr(qdict_get_str(rsp, "return"), "a5a5"));
    qobject_unref(rsp);

    /* I/O works, then fails after evict */
    memset(buf, 1, sizeof(buf));
    g_assert_cmpint(ice_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_OUT, 0, buf,
                           sizeof(buf), 1, 1, 9, NULL), ==, VIRTIO_BLK_S_OK);
    qtest_qmp_assert_success(global_qtest, "{'execute': 'ice-evict-slot',"
                             " 'arguments': { 'id': 'drv0', 'slot': 1 } }");
    g_assert_cmpint(ice_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_IN, 0, buf,
                           sizeof(buf), 1, 1, 9, NULL), ==,
                    VIRTIO_BLK_S_IOERR);
    /* HMP evict and program */
    rsp = qtest_qmp(global_qtest, "{'execute': 'human-monitor-command',"
                    " 'arguments': { 'command-line':"
                    " 'ice_program_slot drv0 1 aes-xts 256 4096 qk' } }");
    g_assert_cmpstr(qdict_get_str(rsp, "return"), ==, "");
    qobject_unref(rsp);
    memset(buf, 0, sizeof(buf));
    g_assert_cmpint(ice_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_IN, 0, buf,
                           sizeof(buf), 1, 1, 9, NULL), ==, VIRTIO_BLK_S_OK);
    for (size_t i = 0; i < sizeof(buf); i++) {
        g_assert_cmphex(buf[i], ==, 1);
    }
    rsp = qtest_qmp(global_qtest, "{'execute': 'human-monitor-command',"
                    " 'arguments': { 'command-line': 'ice_evict_slot drv0 2'"
                    " } }");
    g_assert_cmpstr(qdict_get_str(rsp, "return"), ==, "");
    qobject_unref(rsp);

    /* Decision 9: keys survive a device reset */
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
    qvirtio_reset(blk->vdev);
    qvirtio_set_acknowledge(blk->vdev);
    qvirtio_set_driver(blk->vdev);
    vq = ice_start(blk->vdev, alloc, true);
    memset(buf, 0, sizeof(buf));
    g_assert_cmpint(ice_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_IN, 0, buf,
                           sizeof(buf), 1, 1, 9, NULL), ==, VIRTIO_BLK_S_OK);
    for (size_t i = 0; i < sizeof(buf); i++) {
        g_assert_cmphex(buf[i], ==, 1);
    }
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/* Invalid properties fail at realize with a message naming the problem */
static void test_realize_errors(void *obj, void *data, QGuestAllocator *alloc)
{
    static const struct {
        const char *props;
        const char *error;
    } cases[] = {
        { "'ice': true, 'ice-slots': 0",
          "ice-slots must be between 1 and 255" },
        { "'ice': true, 'ice-slots': 200, 'ice-slot-offset': 100",
          "ice-slot-offset (100) + ice-slots (200) exceeds 256: slot "
          "numbers are 8 bits wide" },
        { "'ice-preload': '0:aes-xts:256:4096:boot-key'",
          "ice-preload needs ice=on" },
        { "'ice': true, 'ice-preload': '0:aes-xts:256'",
          "ice-preload: '0:aes-xts:256' is not SLOT:ALGORITHM:KEY_BITS:"
          "DATA_UNIT_SIZE:SECRET_ID" },
        { "'ice': true, 'ice-preload': '0:aes-cbc:128:512:boot-key'",
          "ice-preload: unknown algorithm 'aes-cbc' (known: aes-xts, "
          "bitlocker-aes-cbc, aes-ecb, essiv-aes-cbc)" },
        { "'ice': true, 'ice-preload': '0:aes-ecb:128:512:nokey'",
          "ice-preload: slot 0: No secret with id 'nokey'" },
        { "'ice': true, 'ice-preload': '40:aes-ecb:128:512:boot-key'",
          "ice-preload: slot 40: slot 40 is out of range (valid slots: 0 "
          "to 31)" },
        { "'ice': true, 'ice-preload': '1:aes-xts:128:512:boot-key'",
          "ice-preload: slot 1: key 'boot-key' is 16 bytes long, a 128-bit "
          "aes-xts key needs 32" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *args = g_strdup_printf(
            "{'driver': 'virtio-blk-pci', 'id': 'bad%zu', 'drive': 'spare', "
            "%s}", i, cases[i].props);
        g_autofree char *desc = qmp_error("device_add", args);

        g_assert_cmpstr(desc, ==, cases[i].error);
    }
}

/* Slots programmed on the command line with ice-preload */
static void *ice_setup_preload(GString *cmd_line, void *arg)
{
    return ice_setup_props(cmd_line,
                           "ice=on ice-preload=3:aes-ecb:128:512:boot-key");
}

static void test_preload(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    IceEnv *env = data;
    QVirtQueue *vq = ice_start(blk->vdev, alloc, true);
    const IceKat *t = NULL;
    uint8_t buf[512], img[512];
    g_autofree uint8_t *ct = NULL;
    size_t ct_len;

    /* boot-key is the NIST SP 800-38A AES-128 key */
    t = ice_kat_find("ecb-128/sp800-38a-f.1.1");
    ct = unhex(t->ct, &ct_len);
    ice_kat_plaintext(t, buf, sizeof(buf));
    g_assert_cmpint(ice_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_OUT, 4096, buf,
                           sizeof(buf), 3, 1, 0, NULL), ==, VIRTIO_BLK_S_OK);
    ice_image_read(env->img, 4096, img, sizeof(img));
    g_assert(!memcmp(img, ct, ct_len));
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/* ---- error actions and IOThreads (section 5) ---- */

/* The first write (or read) fails with EIO and the VM stops */
static void *ice_setup_stop_on_error(GString *cmd_line, const char *event)
{
    g_autofree char *rules = NULL, *drive = NULL;
    char *path;
    int fd = g_file_open_tmp("ice-blkdebug.XXXXXX", &path, NULL);
    IceEnv *env;

    g_assert_cmpint(fd, >=, 0);
    /* Only at sector 64: realize reads sector 0 to guess the geometry */
    rules = g_strdup_printf("[inject-error]\nevent = \"%s\"\nerrno = \"5\"\n"
                            "sector = \"64\"\nonce = \"on\"\n", event);
    g_assert_cmpint(write(fd, rules, strlen(rules)), ==, strlen(rules));
    close(fd);
    drive = g_strdup_printf("driver=raw,werror=stop,rerror=stop,"
                            "file.driver=blkdebug,file.config=%s,"
                            "file.image.filename=", path);
    env = ice_setup_full(cmd_line, "ice=on", drive, "");
    env->blkdebug = path;
    return env;
}

static void *ice_setup_werror(GString *cmd_line, void *arg)
{
    return ice_setup_stop_on_error(cmd_line, "write_aio");
}

static void *ice_setup_rerror(GString *cmd_line, void *arg)
{
    return ice_setup_stop_on_error(cmd_line, "read_aio");
}

/*
 * Wait until the device used @r; whenever an I/O error has paused the VM,
 * resume it.  Returns how many times it resumed.
 */
static int ice_wait_or_resume(QVirtioDevice *dev, QVirtQueue *vq, IceReq *r)
{
    gint64 start = g_get_monotonic_time();
    int resumed = 0;

    for (;;) {
        uint32_t head;
        QDict *rsp;
        bool paused;

        dev->bus->get_queue_isr_status(dev, vq);
        if (qvirtqueue_get_buf(global_qtest, vq, &head, NULL)) {
            g_assert_cmpuint(head, ==, r->head);
            return resumed;
        }
        rsp = qtest_qmp(global_qtest, "{'execute': 'query-status'}");
        paused = !strcmp(qdict_get_str(qdict_get_qdict(rsp, "return"),
                                       "status"), "io-error");
        qobject_unref(rsp);
        if (paused) {
            qtest_qmp_assert_success(global_qtest, "{'execute': 'cont'}");
            resumed++;
        }
        g_assert(g_get_monotonic_time() - start <= ICE_TIMEOUT_US);
    }
}

/*
 * A crypto request that fails with werror/rerror=stop is requeued and
 * parsed again on 'cont': the disk must end up with exactly one layer of
 * encryption and the guest with exactly one decryption.
 */
static void test_stop_restart(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    IceEnv *env = data;
    QVirtQueue *vq = ice_start(blk->vdev, alloc, true);
    const IceKat *t = NULL;
    uint8_t pt[512], img[512], buf[512];
    g_autofree uint8_t *ct = NULL;
    size_t ct_len;
    int resumed;
    IceReq r;

    t = ice_kat_find("xts-128/ieee1619-v4");
    ct = unhex(t->ct, &ct_len);
    ice_program_kat(t, 4, "k-stop");
    ice_kat_plaintext(t, pt, sizeof(pt));

    /* Write: fails once, VM stops, 'cont' retries it */
    memcpy(buf, pt, sizeof(buf));
    r = (IceReq) { .type = VIRTIO_BLK_T_OUT, .sector = 64, .payload = true,
                   .slot = 4, .activate = 1, .dun = t->dun, .data = buf,
                   .len = sizeof(buf) };
    ice_submit(blk->vdev, alloc, vq, &r);
    resumed = ice_wait_or_resume(blk->vdev, vq, &r);
    g_assert_cmpint(ice_finish(alloc, &r), ==, VIRTIO_BLK_S_OK);
    ice_image_read(env->img, 64 * 512, img, sizeof(img));
    g_assert(!memcmp(img, ct, sizeof(img)));

    /* Read: decrypted exactly once */
    memset(buf, 0, sizeof(buf));
    r = (IceReq) { .type = VIRTIO_BLK_T_IN, .sector = 64, .payload = true,
                   .slot = 4, .activate = 1, .dun = t->dun, .data = buf,
                   .len = sizeof(buf) };
    ice_submit(blk->vdev, alloc, vq, &r);
    resumed += ice_wait_or_resume(blk->vdev, vq, &r);
    g_assert_cmpint(ice_finish(alloc, &r), ==, VIRTIO_BLK_S_OK);
    g_assert(!memcmp(buf, pt, sizeof(buf)));

    /* The injected error really stopped the VM once */
    g_assert_cmpint(resumed, ==, 1);
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

static void *ice_setup_io_uring(GString *cmd_line, void *arg)
{
    return ice_setup_full(cmd_line, "ice=on iothread=io0",
                          "format=raw,auto-read-only=off,aio=io_uring,file=",
                          "-object iothread,id=io0");
}

static void *ice_setup_iothread(GString *cmd_line, void *arg)
{
    return ice_setup_full(cmd_line, "ice=on iothread=io0 num-queues=2",
                          "format=raw,auto-read-only=off,aio=threads,file=",
                          "-object iothread,id=io0");
}

/* ---- the same tests against a vhost-user-blk export ---- */

static void ice_vhost_user_done(void *opaque)
{
    key_qsd = NULL;
}

/*
 * vhost-user-blk-pci,ice=on (the id and chardev libqos gives it) connected
 * to a qemu-storage-daemon export of the image with ice=on.  @arg: more
 * export options, or NULL.
 */
static void *ice_setup_vhost_user(GString *cmd_line, void *arg)
{
    IceEnv *env = g_new0(IceEnv, 1);

    env->img = ice_image_create(IMG_SIZE);
    g_test_queue_destroy(ice_env_free, env);
    key_qsd = ice_qsd_start_vhost_user(cmd_line, env->img,
                                       arg ? (const char *)arg : "");
    g_test_queue_destroy(ice_vhost_user_done, NULL);
    return env;
}

/* The number of programmed slots query-ice shows on the daemon */
static size_t vu_query_slots(void)
{
    QDict *rsp = ice_qsd_qmp(key_qsd, "{'execute': 'query-ice', "
                             "'arguments': {'id': '" EXPORT_ID "'}}");
    size_t n = qlist_size(qdict_get_qlist(qdict_get_qdict(rsp, "return"),
                                          "slots"));

    qobject_unref(rsp);
    return n;
}

/*
 * The daemon's QMP evicts and reprograms the slot that rounds of crypto
 * writes in flight use: every request completes, with OK (accepted with
 * the key its slot held) or IOERR (the slot was empty), query-ice shows
 * the slot as QMP left it, and afterwards the slot gives the standard
 * ciphertext.
 */
static void test_vu_qmp_under_io(void *obj, void *data,
                                 QGuestAllocator *alloc)
{
    enum { N = 16, LEN = 64 * 1024, ROUNDS = 8 };
    QVirtioBlk *blk = obj;
    IceEnv *env = data;
    QVirtQueue *vq = ice_start(blk->vdev, alloc, true);
    const IceKat *v10 = ice_kat_find("xts-256/ieee1619-v10");
    size_t len = (size_t)v10->dus * v10->units, ct_len;
    g_autofree uint8_t *bufs = g_malloc0(N * LEN);
    g_autofree uint8_t *pt = g_malloc(len);
    g_autofree uint8_t *img = g_malloc(len);
    g_autofree uint8_t *ct = unhex(v10->ct, &ct_len);
    unsigned ok = 0, ioerr = 0;
    IceReq r[N];

    ice_program_kat(v10, 5, "k-v10");
    for (int round = 0; round < ROUNDS; round++) {
        g_autofree char *err = NULL;

        for (int i = 0; i < N; i++) {
            r[i] = (IceReq) { .type = VIRTIO_BLK_T_OUT,
                              .sector = i * (LEN / 512), .payload = true,
                              .slot = 5, .activate = 1,
                              .dun = i * (LEN / v10->dus),
                              .data = bufs + i * LEN, .len = LEN };
            ice_submit(blk->vdev, alloc, vq, &r[i]);
        }
        if (round % 2) {
            qobject_unref(ice_qsd_qmp(key_qsd, "{'execute': "
                                      "'ice-program-slot', 'arguments': {"
                                      "'id': '" EXPORT_ID "', 'slot': 5, "
                                      "'algorithm': 'aes-xts', "
                                      "'key-size': 256, "
                                      "'data-unit-size': %u, "
                                      "'key-secret': 'k-v10'}}", v10->dus));
        } else {
            err = ice_qmp_error_of(ice_qsd_qmp(key_qsd, "{'execute': "
                                   "'ice-evict-slot', 'arguments': {"
                                   "'id': '" EXPORT_ID "', 'slot': 5}}"));
            g_assert_cmpstr(err, ==, NULL);
        }
        ice_wait_all(blk->vdev, vq, r, N);
        for (int i = 0; i < N; i++) {
            uint8_t status = ice_finish(alloc, &r[i]);

            g_assert_true(status == VIRTIO_BLK_S_OK ||
                          status == VIRTIO_BLK_S_IOERR);
            ok += status == VIRTIO_BLK_S_OK;
            ioerr += status == VIRTIO_BLK_S_IOERR;
        }
        g_assert_cmpuint(vu_query_slots(), ==, round % 2);
    }
    g_test_message("%u requests OK, %u IOERR", ok, ioerr);
    g_assert_cmpuint(ok + ioerr, ==, N * ROUNDS);

    /* The slot QMP programmed last gives the standard ciphertext */
    ice_kat_plaintext(v10, pt, len);
    memcpy(img, pt, len);
    g_assert_cmpint(ice_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_OUT, 0, img,
                           len, 5, 1, v10->dun, NULL), ==, VIRTIO_BLK_S_OK);
    ice_image_read(env->img, 0, img, len);
    g_assert(!memcmp(img, ct, ct_len));
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

static void register_vhost_user_ice_test(void)
{
    QOSGraphTestOptions vu = { .before = ice_setup_vhost_user };
    QOSGraphTestOptions vu_all = { .before = ice_setup_vhost_user,
                                   .arg = (void *)",ice-payload=all-types" };

    qos_add_test("ice/vhost-user/config-default", "vhost-user-blk",
                 test_config_default, &vu);
    qos_add_test("ice/vhost-user/not-accepted", "vhost-user-blk",
                 test_not_accepted, &vu);
    qos_add_test("ice/vhost-user/caps", "vhost-user-blk", test_caps, &vu);
    qos_add_test("ice/vhost-user/known-answers", "vhost-user-blk", test_kat,
                 &vu);
    qos_add_test("ice/vhost-user/in-flight", "vhost-user-blk",
                 test_in_flight, &vu);
    qos_add_test("ice/vhost-user/reject", "vhost-user-blk", test_reject,
                 &vu);
    qos_add_test("ice/vhost-user/chunks", "vhost-user-blk", test_chunks,
                 &vu);
    qos_add_test("ice/vhost-user/qmp-under-io", "vhost-user-blk",
                 test_vu_qmp_under_io, &vu);
    qos_add_test("ice/vhost-user/all-types/known-answers", "vhost-user-blk",
                 test_kat, &vu_all);
}

static void register_virtio_blk_ice_test(void)
{
    QOSGraphTestOptions on = { .before = ice_setup, .arg = (void *)"ice=on" };
    QOSGraphTestOptions off = { .before = ice_setup, .arg = (void *)"" };
    QOSGraphTestOptions off8 = { .before = ice_setup_slots16_off8 };
    QOSGraphTestOptions max = { .before = ice_setup_slots255_off1 };
    QOSGraphTestOptions preload = { .before = ice_setup_preload };

    qos_add_test("ice/feature-off", "virtio-blk", test_feature_off, &off);
    qos_add_test("ice/config-default", "virtio-blk", test_config_default, &on);
    qos_add_test("ice/config-16-slots-offset-8", "virtio-blk",
                 test_config_16_8, &off8);
    qos_add_test("ice/config-255-slots-offset-1", "virtio-blk",
                 test_config_255_1, &max);
    qos_add_test("ice/not-accepted", "virtio-blk", test_not_accepted, &on);
    qos_add_test("ice/caps", "virtio-blk", test_caps, &on);
    qos_add_test("ice/known-answers", "virtio-blk", test_kat, &on);
    qos_add_test("ice/in-flight", "virtio-blk", test_in_flight, &on);
    qos_add_test("ice/reject", "virtio-blk", test_reject, &on);
    qos_add_test("ice/reject-slot-offset", "virtio-blk", test_reject_offset,
                 &off8);
    qos_add_test("ice/flush", "virtio-blk", test_flush, &on);
    qos_add_test("ice/flush-out-short", "virtio-blk", test_flush_out_short,
                 &on);
    qos_add_test("ice/chunks", "virtio-blk", test_chunks, &on);
    qos_add_test("ice/chunks-iothread", "virtio-blk", test_chunks,
                 &(QOSGraphTestOptions) { .before = ice_setup_iothread });
    qos_add_test("ice/chunks-io-uring", "virtio-blk", test_chunks,
                 &(QOSGraphTestOptions) { .before = ice_setup_io_uring });
    qos_add_test("ice/other-types", "virtio-blk", test_other_types, &on);
    qos_add_test("ice/short-header", "virtio-blk", test_short_header, &on);
    qos_add_test("ice/qmp", "virtio-blk", test_qmp, &on);
    qos_add_test("ice/preload", "virtio-blk", test_preload, &preload);
    qos_add_test("ice/werror-stop-restart", "virtio-blk", test_stop_restart,
                 &(QOSGraphTestOptions) { .before = ice_setup_werror });
    qos_add_test("ice/rerror-stop-restart", "virtio-blk", test_stop_restart,
                 &(QOSGraphTestOptions) { .before = ice_setup_rerror });
    qos_add_test("ice/known-answers-iothread", "virtio-blk", test_kat,
                 &(QOSGraphTestOptions) { .before = ice_setup_iothread });
    qos_add_test("ice/in-flight-iothread", "virtio-blk", test_in_flight,
                 &(QOSGraphTestOptions) { .before = ice_setup_iothread });
    qos_add_test("ice/known-answers-io-uring", "virtio-blk", test_kat,
                 &(QOSGraphTestOptions) { .before = ice_setup_io_uring });
    qos_add_test("ice/realize-errors", "virtio-blk", test_realize_errors,
                 &off);
    qos_add_test("ice/all-types/known-answers", "virtio-blk", test_kat,
                 &(QOSGraphTestOptions) { .before = ice_setup_all_types });
    qos_add_test("ice/all-types/other-types", "virtio-blk",
                 test_all_types_other,
                 &(QOSGraphTestOptions) { .before = ice_setup_all_types });
    qos_add_test("ice/all-types/short-header", "virtio-blk",
                 test_all_types_short_header,
                 &(QOSGraphTestOptions) { .before = ice_setup_all_types });
}

libqos_init(register_virtio_blk_ice_test);
libqos_init(register_vhost_user_ice_test);
