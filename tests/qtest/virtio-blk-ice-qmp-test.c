/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest: host key management of the virtio-blk inline crypto engine over
 * QMP and HMP (section 4): ice-program-slot, ice-evict-slot, query-ice and
 * their errors, keys preloaded with ice-preload, and a qemu-storage-daemon
 * export's keys changed by QMP under I/O.
 *
 * The tests act as the guest driver (virtio-blk-ice-qos.h); no key byte
 * may appear in any reply.
 */

#include "qemu/osdep.h"
#include "libqtest-single.h"
#include "qemu/module.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qjson.h"
#include "standard-headers/linux/virtio_blk.h"
#include "libqos/qgraph.h"
#include "libqos/virtio-blk.h"
#include "tests/ice-vectors.h"
#include "virtio-blk-ice-qos.h"

static void expect_qmp_error(const char *cmd, const char *args,
                             const char *want)
{
    g_autofree char *desc = ice_qos_qmp_error(cmd, args);

    g_assert_cmpstr(desc, ==, want);
}

static void test_qmp(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    IceEnv *env = data;
    QVirtQueue *vq = ice_req_start_device(blk->vdev, alloc, true);
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
    ice_qos_add_secret(env, "qk", key, sizeof(key));
    ice_qos_add_secret(env, "short", key, 16);

    expect_qmp_error("ice-program-slot", "{'id': 'nope', 'slot': 1, "
                     "'algorithm': 'aes-xts', 'key-size': 256, "
                     "'data-unit-size': 4096, 'key-secret': 'qk'}",
                     "Device or block export 'nope' not found");
    expect_qmp_error("ice-program-slot", "{'id': '/machine/unattached', "
                     "'slot': 1, 'algorithm': 'aes-xts', 'key-size': 256, "
                     "'data-unit-size': 4096, 'key-secret': 'qk'}",
                     "Device '/machine/unattached' does not have ice=on");
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
    expect_qmp_error("query-ice", "{'id': 'nope'}",
                     "Device or block export 'nope' not found");

    /* Program by qdev id and by QOM path of the proxy */
    ice_qos_program_ok(env, 1, "aes-xts", 256, 4096, "qk");
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
    g_assert_cmpint(ice_qos_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_OUT, 0,
                               buf, sizeof(buf), 1, 1, 9, NULL),
                    ==, VIRTIO_BLK_S_OK);
    qtest_qmp_assert_success(global_qtest, "{'execute': 'ice-evict-slot',"
                             " 'arguments': { 'id': 'drv0', 'slot': 1 } }");
    g_assert_cmpint(ice_qos_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_IN, 0,
                               buf, sizeof(buf), 1, 1, 9, NULL),
                    ==, VIRTIO_BLK_S_IOERR);
    /* HMP evict and program */
    rsp = qtest_qmp(global_qtest, "{'execute': 'human-monitor-command',"
                    " 'arguments': { 'command-line':"
                    " 'ice_program_slot drv0 1 aes-xts 256 4096 qk' } }");
    g_assert_cmpstr(qdict_get_str(rsp, "return"), ==, "");
    qobject_unref(rsp);
    memset(buf, 0, sizeof(buf));
    g_assert_cmpint(ice_qos_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_IN, 0,
                               buf, sizeof(buf), 1, 1, 9, NULL),
                    ==, VIRTIO_BLK_S_OK);
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
    vq = ice_req_start_device(blk->vdev, alloc, true);
    memset(buf, 0, sizeof(buf));
    g_assert_cmpint(ice_qos_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_IN, 0,
                               buf, sizeof(buf), 1, 1, 9, NULL),
                    ==, VIRTIO_BLK_S_OK);
    for (size_t i = 0; i < sizeof(buf); i++) {
        g_assert_cmphex(buf[i], ==, 1);
    }
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/* Slots programmed on the command line with ice-preload */
static void *ice_setup_preload(GString *cmd_line, void *arg)
{
    return ice_qos_setup_props(cmd_line, "ice=on "
                               "ice-preload=3:aes-ecb:128:512:boot-key");
}

static void test_preload(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    IceEnv *env = data;
    QVirtQueue *vq = ice_req_start_device(blk->vdev, alloc, true);
    const IceKat *t = NULL;
    uint8_t buf[512], img[512];
    g_autofree uint8_t *ct = NULL;
    size_t ct_len;

    /* boot-key is the NIST SP 800-38A AES-128 key */
    t = ice_kat_find("ecb-128/sp800-38a-f.1.1");
    ct = unhex(t->ct, &ct_len);
    ice_kat_plaintext(t, buf, sizeof(buf));
    g_assert_cmpint(ice_qos_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_OUT, 4096,
                               buf, sizeof(buf), 3, 1, 0, NULL),
                    ==, VIRTIO_BLK_S_OK);
    ice_image_read(env->img, 4096, img, sizeof(img));
    g_assert(!memcmp(img, ct, ct_len));
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/* ---- on a vhost-user-blk export ---- */

/* The number of programmed slots query-ice shows on the daemon */
static size_t vu_query_slots(IceEnv *env)
{
    QDict *rsp = ice_qsd_qmp(env->qsd, "{'execute': 'query-ice', "
                             "'arguments': {'id': %s}}", ICE_QSD_EXPORT_ID);
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
    QVirtQueue *vq = ice_req_start_device(blk->vdev, alloc, true);
    const IceKat *v10 = ice_kat_find("xts-256/ieee1619-v10");
    size_t len = (size_t)v10->dus * v10->units, ct_len;
    g_autofree uint8_t *bufs = g_malloc0(N * LEN);
    g_autofree uint8_t *pt = g_malloc(len);
    g_autofree uint8_t *img = g_malloc(len);
    g_autofree uint8_t *ct = unhex(v10->ct, &ct_len);
    unsigned ok = 0, ioerr = 0;
    IceReq r[N];

    ice_qos_program_kat(env, v10, 5, "k-v10");
    for (int round = 0; round < ROUNDS; round++) {
        g_autofree char *err = NULL;

        for (int i = 0; i < N; i++) {
            r[i] = (IceReq) { .type = VIRTIO_BLK_T_OUT,
                              .sector = i * (LEN / 512), .payload = true,
                              .slot = 5, .activate = 1,
                              .dun = i * (LEN / v10->dus),
                              .data = bufs + i * LEN, .len = LEN };
            ice_qos_submit(blk->vdev, alloc, vq, &r[i]);
        }
        if (round % 2) {
            qobject_unref(ice_qsd_qmp(env->qsd, "{'execute': "
                                      "'ice-program-slot', 'arguments': {"
                                      "'id': '" ICE_QSD_EXPORT_ID "', "
                                      "'slot': 5, "
                                      "'algorithm': 'aes-xts', "
                                      "'key-size': 256, "
                                      "'data-unit-size': %u, "
                                      "'key-secret': 'k-v10'}}", v10->dus));
        } else {
            err = ice_qmp_error_of(ice_qsd_qmp(env->qsd, "{'execute': "
                                   "'ice-evict-slot', 'arguments': {"
                                   "'id': '" ICE_QSD_EXPORT_ID "', "
                                   "'slot': 5}}"));
            g_assert_cmpstr(err, ==, NULL);
        }
        ice_qos_wait_all(blk->vdev, vq, r, N);
        for (int i = 0; i < N; i++) {
            uint8_t status = ice_qos_finish(alloc, &r[i]);

            g_assert_true(status == VIRTIO_BLK_S_OK ||
                          status == VIRTIO_BLK_S_IOERR);
            ok += status == VIRTIO_BLK_S_OK;
            ioerr += status == VIRTIO_BLK_S_IOERR;
        }
        g_assert_cmpuint(vu_query_slots(env), ==, round % 2);
    }
    g_test_message("%u requests OK, %u IOERR", ok, ioerr);
    g_assert_cmpuint(ok + ioerr, ==, N * ROUNDS);

    /* The slot QMP programmed last gives the standard ciphertext */
    ice_kat_plaintext(v10, pt, len);
    memcpy(img, pt, len);
    g_assert_cmpint(ice_qos_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_OUT, 0,
                               img, len, 5, 1, v10->dun, NULL),
                    ==, VIRTIO_BLK_S_OK);
    ice_image_read(env->img, 0, img, len);
    g_assert(!memcmp(img, ct, ct_len));
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

static void register_virtio_blk_ice_qmp_test(void)
{
    QOSGraphTestOptions on = { .before = ice_qos_setup,
                               .arg = (void *)"ice=on" };
    QOSGraphTestOptions preload = { .before = ice_setup_preload };
    QOSGraphTestOptions vu = { .before = ice_qos_setup_vhost_user };

    qos_add_test("ice/qmp", "virtio-blk", test_qmp, &on);
    qos_add_test("ice/preload", "virtio-blk", test_preload, &preload);

    qos_add_test("ice/vhost-user/qmp-under-io", "vhost-user-blk",
                 test_vu_qmp_under_io, &vu);
}

libqos_init(register_virtio_blk_ice_qmp_test);
