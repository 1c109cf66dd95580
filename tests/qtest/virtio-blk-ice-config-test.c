/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest: negotiation and configuration of the virtio-blk inline crypto
 * engine (VIRTIO_BLK_F_ICE): the feature bit, the config field, a driver
 * that does not accept the feature, the capabilities command, and the
 * errors of invalid properties at realize.
 *
 * The tests act as the guest driver (virtio-blk-ice-qos.h) on QEMU's
 * virtio-blk device and, where the export implements the same, on a
 * qemu-storage-daemon vhost-user-blk export.
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

#define CFG_CRYPTO          96      /* offset of crypto.slot_info */

static void test_feature_off(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    QVirtQueue *vq;
    QDict *rsp;

    g_assert_false(qvirtio_get_features(blk->vdev) &
                   (1ull << VIRTIO_BLK_F_ICE));
    vq = ice_req_start_device(blk->vdev, alloc, true);
    /* Config space ends before the crypto field: reads return all ones */
    g_assert_cmphex(qvirtio_config_readw(blk->vdev, CFG_CRYPTO), ==, 0xffff);
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);

    rsp = qtest_qmp(global_qtest, "{'execute': 'query-ice', 'arguments':"
                    " { 'id': %s } }", ICE_QOS_DEV_ID);
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"), ==,
                    "Device '" ICE_QOS_DEV_ID "' does not have ice=on");
    qobject_unref(rsp);
}

static void check_config(QVirtioBlk *blk, QGuestAllocator *alloc,
                         uint16_t slot_info)
{
    QVirtQueue *vq;

    g_assert_true(qvirtio_get_features(blk->vdev) &
                  (1ull << VIRTIO_BLK_F_ICE));
    vq = ice_req_start_device(blk->vdev, alloc, true);
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

static void *ice_setup_slots255_off1(GString *cmd_line, void *arg)
{
    return ice_qos_setup_props(cmd_line,
                               "ice=on ice-slots=255 ice-slot-offset=1");
}

/*
 * Decision 11: a driver that does not accept the feature gets 16-byte
 * headers and no crypto on an ice=on device.
 */
static void test_not_accepted(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    IceEnv *env = data;
    QVirtQueue *vq = ice_req_start_device(blk->vdev, alloc, false);
    uint8_t buf[512], img[512];
    IceReq r = { .type = VIRTIO_BLK_T_OUT, .sector = 8, .data = buf,
                 .len = sizeof(buf) };

    memset(buf, 0x3c, sizeof(buf));
    g_assert_cmpint(ice_qos_do(blk->vdev, alloc, vq, &r),
                    ==, VIRTIO_BLK_S_OK);
    ice_image_read(env->img, 8 * 512, img, sizeof(img));
    g_assert(!memcmp(img, buf, sizeof(img)));

    memset(buf, 0, sizeof(buf));
    r.type = VIRTIO_BLK_T_IN;
    g_assert_cmpint(ice_qos_do(blk->vdev, alloc, vq, &r), ==,
                    VIRTIO_BLK_S_OK);
    g_assert(!memcmp(img, buf, sizeof(img)));

    /* The capabilities command needs the feature */
    r = (IceReq) { .type = VIRTIO_BLK_T_GET_CRYPTO_CAPABILITIES,
                   .data = buf, .len = 5 };
    g_assert_cmpint(ice_qos_do(blk->vdev, alloc, vq, &r), ==,
                    VIRTIO_BLK_S_UNSUPP);
    /* The config field still has its values */
    g_assert_cmphex(qvirtio_config_readw(blk->vdev, CFG_CRYPTO), ==, 0x2000);
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/* ---- capabilities (decision 7) ---- */

static void test_caps(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    QVirtQueue *vq = ice_req_start_device(blk->vdev, alloc, true);
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
        g_assert_cmpint(ice_qos_do(blk->vdev, alloc, vq, &r), ==,
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
        g_assert_cmpint(ice_qos_do(blk->vdev, alloc, vq, &r), ==,
                        VIRTIO_BLK_S_IOERR);
        g_assert_cmphex(buf[0], ==, 0xee);
    }
    /* No data buffer at all: L = 0 */
    {
        IceReq r = { .type = VIRTIO_BLK_T_GET_CRYPTO_CAPABILITIES };

        g_assert_cmpint(ice_qos_do(blk->vdev, alloc, vq, &r), ==,
                        VIRTIO_BLK_S_IOERR);
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
        g_autofree char *desc = ice_qos_qmp_error("device_add", args);

        g_assert_cmpstr(desc, ==, cases[i].error);
    }
}

static void register_virtio_blk_ice_config_test(void)
{
    QOSGraphTestOptions on = { .before = ice_qos_setup,
                               .arg = (void *)"ice=on" };
    QOSGraphTestOptions off = { .before = ice_qos_setup, .arg = (void *)"" };
    QOSGraphTestOptions off8 = { .before = ice_qos_setup_slots16_off8 };
    QOSGraphTestOptions max = { .before = ice_setup_slots255_off1 };
    QOSGraphTestOptions vu = { .before = ice_qos_setup_vhost_user };

    qos_add_test("ice/feature-off", "virtio-blk", test_feature_off, &off);
    qos_add_test("ice/config-default", "virtio-blk", test_config_default, &on);
    qos_add_test("ice/config-16-slots-offset-8", "virtio-blk",
                 test_config_16_8, &off8);
    qos_add_test("ice/config-255-slots-offset-1", "virtio-blk",
                 test_config_255_1, &max);
    qos_add_test("ice/not-accepted", "virtio-blk", test_not_accepted, &on);
    qos_add_test("ice/caps", "virtio-blk", test_caps, &on);
    qos_add_test("ice/realize-errors", "virtio-blk", test_realize_errors,
                 &off);

    qos_add_test("ice/vhost-user/config-default", "vhost-user-blk",
                 test_config_default, &vu);
    qos_add_test("ice/vhost-user/not-accepted", "vhost-user-blk",
                 test_not_accepted, &vu);
    qos_add_test("ice/vhost-user/caps", "vhost-user-blk", test_caps, &vu);
}

libqos_init(register_virtio_blk_ice_config_test);
