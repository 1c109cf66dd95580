/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest: what the virtio-blk inline crypto engine rejects or passes by:
 * invalid crypto requests (IOERR, nothing changed), request types without
 * crypto, and malformed requests that stop the queue, with the spec's
 * payload layout and with ice-payload=all-types.
 *
 * The tests act as the guest driver (virtio-blk-ice-qos.h) and check the
 * status byte, the guest buffers and the bytes of the disk image on the
 * host.
 */

#include "qemu/osdep.h"
#include "libqtest-single.h"
#include "qemu/bswap.h"
#include "qemu/module.h"
#include "qobject/qdict.h"
#include "standard-headers/linux/virtio_blk.h"
#include "libqos/qgraph.h"
#include "libqos/virtio-blk.h"
#include "virtio-blk-ice-qos.h"

/* ---- invalid crypto requests (decisions 2 and 4) ---- */

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
        g_assert_cmpint(ice_qos_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_OUT,
                                   c->offset, buf, c->len, c->slot,
                                   c->activate, c->dun, NULL),
                        ==, VIRTIO_BLK_S_IOERR);
        ice_image_read(env->img, 0, after, region);
        g_assert(!memcmp(before, after, region));

        memset(buf, 0x77, c->len);
        g_assert_cmpint(ice_qos_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_IN,
                                   c->offset, buf, c->len, c->slot,
                                   c->activate, c->dun, NULL),
                        ==, VIRTIO_BLK_S_IOERR);
        for (size_t j = 0; j < c->len; j++) {
            g_assert_cmphex(buf[j], ==, 0x77);
        }
    }
    g_free(buf);
}

static void program_slot10(IceEnv *env)
{
    uint8_t key[64];

    for (int i = 0; i < 64; i++) {
        key[i] = i * 3 + 1;
    }
    ice_qos_add_secret(env, "k10", key, sizeof(key));
    ice_qos_program_ok(env, 10, "aes-xts", 256, 4096, "k10");
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
    IceEnv *env = data;
    QVirtQueue *vq = ice_req_start_device(blk->vdev, alloc, true);

    program_slot10(env);
    run_bad_cases(blk, env, alloc, vq, reject_cases,
                  G_N_ELEMENTS(reject_cases));

    /* The last DUN may be exactly 2^64 - 1 */
    {
        uint8_t buf[2 * 4096] = { 0 };

        g_assert_cmpint(ice_qos_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_OUT,
                                   8192, buf, sizeof(buf), 10, 1,
                                   UINT64_MAX - 1, NULL),
                        ==, VIRTIO_BLK_S_OK);
    }
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/* With ice-slot-offset=8 and 16 slots, valid slots are 8..23 */
static void test_reject_offset(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    IceEnv *env = data;
    QVirtQueue *vq = ice_req_start_device(blk->vdev, alloc, true);
    static const IceBadCase cases[] = {
        { "slot below the offset", 7, 1, 8192, 4096, 0 },
        { "slot 0 below the offset", 0, 1, 8192, 4096, 0 },
        { "slot past offset + slots", 24, 1, 8192, 4096, 0 },
    };
    g_autofree char *err = ice_qos_program(env, 7, "aes-xts", 256, 4096,
                                           "boot-key");

    g_assert_cmpstr(err, ==, "slot 7 is out of range (valid slots: 8 to 23)");
    program_slot10(env);
    run_bad_cases(blk, env, alloc, vq, cases, G_N_ELEMENTS(cases));
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/* ---- request types without crypto ---- */

/*
 * Decision 10: with the feature negotiated, other request types keep the
 * 16-byte header and no payload: WRITE_ZEROES zeroes its range, GET_ID
 * answers, an unknown type is UNSUPP.
 */
static void test_other_types(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    IceEnv *env = data;
    QVirtQueue *vq = ice_req_start_device(blk->vdev, alloc, true);
    uint8_t dwz[16], id[20], img[4096], ones[4096];
    IceReq r;

    memset(ones, 0xff, sizeof(ones));
    ice_image_write(env->img, 32 * 512, ones, sizeof(ones));
    stq_le_p(dwz, 32);
    stl_le_p(dwz + 8, 8);
    stl_le_p(dwz + 12, 0);
    r = (IceReq) { .type = VIRTIO_BLK_T_WRITE_ZEROES, .data = dwz,
                   .len = sizeof(dwz) };
    g_assert_cmpint(ice_qos_do(blk->vdev, alloc, vq, &r), ==,
                    VIRTIO_BLK_S_OK);
    ice_image_read(env->img, 32 * 512, img, sizeof(img));
    for (size_t i = 0; i < sizeof(img); i++) {
        g_assert_cmphex(img[i], ==, 0);
    }

    r = (IceReq) { .type = VIRTIO_BLK_T_GET_ID, .data = id,
                   .len = sizeof(id) };
    g_assert_cmpint(ice_qos_do(blk->vdev, alloc, vq, &r), ==,
                    VIRTIO_BLK_S_OK);

    r = (IceReq) { .type = 100, .data = id, .len = sizeof(id) };
    g_assert_cmpint(ice_qos_do(blk->vdev, alloc, vq, &r), ==,
                    VIRTIO_BLK_S_UNSUPP);
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
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
    return ice_qos_do(blk->vdev, alloc, vq, &r);
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
    QVirtQueue *vq = ice_req_start_device(blk->vdev, alloc, true);
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
    g_assert_cmpint(ice_qos_do(blk->vdev, alloc, vq, &r), ==,
                    VIRTIO_BLK_S_OK);
    g_assert_cmpstr((char *)id, ==, "ice-all-types");

    r = (IceReq) { .type = VIRTIO_BLK_T_GET_CRYPTO_CAPABILITIES,
                   .payload = true, .slot = 0xee, .data = caps,
                   .len = sizeof(caps) };
    g_assert_cmpint(ice_qos_do(blk->vdev, alloc, vq, &r), ==,
                    VIRTIO_BLK_S_OK);
    g_assert_cmpuint(caps[0], ==, 9);
    g_assert_cmphex(ldl_le_p(caps + 1), ==, 0x00ff0100);    /* XTS-128 */

    for (uint32_t type = VIRTIO_BLK_T_FLUSH; type <= VIRTIO_BLK_T_FLUSH + 1;
         type++) {
        r = (IceReq) { .type = type, .payload = true, .slot = 0xee,
                       .activate = 1, .dun = UINT64_MAX };
        g_assert_cmpint(ice_qos_do(blk->vdev, alloc, vq, &r), ==,
                        VIRTIO_BLK_S_OK);
    }

    r = (IceReq) { .type = 100, .payload = true, .data = id,
                   .len = sizeof(id) };
    g_assert_cmpint(ice_qos_do(blk->vdev, alloc, vq, &r), ==,
                    VIRTIO_BLK_S_UNSUPP);
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/* ---- malformed requests ---- */

/*
 * Submit a malformed request: the device stops processing the queue
 * (virtio_error), never uses it, and QEMU stays up.
 */
static void assert_queue_stops(QVirtioBlk *blk, QGuestAllocator *alloc,
                               IceReq *r)
{
    QVirtQueue *vq = ice_req_start_device(blk->vdev, alloc, true);
    QDict *rsp;

    ice_qos_submit(blk->vdev, alloc, vq, r);
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

static void register_virtio_blk_ice_reject_test(void)
{
    QOSGraphTestOptions on = { .before = ice_qos_setup,
                               .arg = (void *)"ice=on" };
    QOSGraphTestOptions off8 = { .before = ice_qos_setup_slots16_off8 };
    QOSGraphTestOptions all = { .before = ice_qos_setup_all_types };
    QOSGraphTestOptions vu = { .before = ice_qos_setup_vhost_user };

    qos_add_test("ice/reject", "virtio-blk", test_reject, &on);
    qos_add_test("ice/reject-slot-offset", "virtio-blk", test_reject_offset,
                 &off8);
    qos_add_test("ice/other-types", "virtio-blk", test_other_types, &on);
    qos_add_test("ice/short-header", "virtio-blk", test_short_header, &on);
    qos_add_test("ice/flush-out-short", "virtio-blk", test_flush_out_short,
                 &on);
    qos_add_test("ice/all-types/other-types", "virtio-blk",
                 test_all_types_other, &all);
    qos_add_test("ice/all-types/short-header", "virtio-blk",
                 test_all_types_short_header, &all);

    qos_add_test("ice/vhost-user/reject", "vhost-user-blk", test_reject,
                 &vu);
}

libqos_init(register_virtio_blk_ice_reject_test);
