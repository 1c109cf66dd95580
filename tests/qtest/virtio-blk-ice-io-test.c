/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest: the data path of the virtio-blk inline crypto engine against
 * known answers: every usable standard vector, requests in flight,
 * requests of several chunks, FLUSH, and crypto requests retried after
 * werror/rerror=stop; with IOThreads, io_uring and ice-payload=all-types.
 *
 * The tests act as the guest driver (virtio-blk-ice-qos.h) and check the
 * status byte, the guest buffers and the bytes of the disk image on the
 * host.  Expected ciphertexts are the standard vectors of
 * tests/ice-vectors.h, never the engine's output.
 */

#include "qemu/osdep.h"
#include "libqtest-single.h"
#include "qemu/module.h"
#include "qobject/qdict.h"
#include "standard-headers/linux/virtio_blk.h"
#include "libqos/qgraph.h"
#include "libqos/virtio-blk.h"
#include "tests/ice-vectors.h"
#include "virtio-blk-ice-qos.h"

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
    QVirtQueue *vq = ice_req_start_device(blk->vdev, alloc, true);
    static const size_t wsplit[] = { 7, 505, 16, 1000, 0 };
    static const size_t rsplit[] = { 513, 3, 4096, 0 };
    uint64_t offset = 0;
    unsigned slot = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(kats); i++) {
        const IceKat *t = &kats[i];
        size_t len = (size_t)t->dus * t->units;
        g_autofree uint8_t *pt = g_malloc(len);
        g_autofree uint8_t *buf = g_malloc(len);
        g_autofree uint8_t *img = g_malloc(len);
        g_autofree char *name = g_strdup_printf("kat%zu", i);

        if (t->nist_cbc_iv || (!t->ct && !t->ct_sha256)) {
            continue;
        }
        g_test_message("vector %s at offset %" PRIu64, t->name, offset);
        ice_qos_program_kat(env, t, slot, name);
        ice_kat_plaintext(t, pt, len);

        memcpy(buf, pt, len);
        g_assert_cmpint(ice_qos_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_OUT,
                                   offset, buf, len, slot, 1, t->dun,
                                   wsplit), ==, VIRTIO_BLK_S_OK);
        ice_image_read(env->img, offset, img, len);
        ice_kat_check_ciphertext(t, img, len);

        memset(buf, 0xcc, len);
        g_assert_cmpint(ice_qos_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_IN,
                                   offset, buf, len, slot, 1, t->dun,
                                   rsplit), ==, VIRTIO_BLK_S_OK);
        g_assert(!memcmp(buf, pt, len));

        /* activate=0: slot and DUN are ignored (decision 2) */
        g_assert_cmpint(ice_qos_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_IN,
                                   offset, buf, len, 250, 0, 12345, NULL),
                        ==, VIRTIO_BLK_S_OK);
        g_assert(!memcmp(buf, img, len));
        memcpy(buf, pt, len);
        g_assert_cmpint(ice_qos_rw(blk->vdev, alloc, vq, VIRTIO_BLK_T_OUT,
                                   offset, buf, len, 250, 0, 12345, NULL),
                        ==, VIRTIO_BLK_S_OK);
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
    QVirtQueue *vq = ice_req_start_device(blk->vdev, alloc, true);
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

        ice_qos_add_secret(env, secret, key, algs[a].key_len);
        for (size_t d = 0; d < G_N_ELEMENTS(dus); d++) {
            uint64_t dun = UINT64_MAX - len / dus[d] + 1;

            ice_qos_program_ok(env, 5, algs[a].alg, algs[a].bits, dus[d],
                               secret);
            memcpy(buf, pt, len);
            g_assert_cmpint(ice_qos_rw(blk->vdev, alloc, vq,
                                       VIRTIO_BLK_T_OUT, whole_off, buf, len,
                                       5, 1, dun, split),
                            ==, VIRTIO_BLK_S_OK);
            for (size_t p = 0; p < len; p += piece) {
                memcpy(buf, pt + p, piece);
                g_assert_cmpint(ice_qos_rw(blk->vdev, alloc, vq,
                                           VIRTIO_BLK_T_OUT, pieces_off + p,
                                           buf, piece, 5, 1,
                                           dun + p / dus[d], NULL),
                                ==, VIRTIO_BLK_S_OK);
            }
            ice_image_read(env->img, whole_off, img1, len);
            ice_image_read(env->img, pieces_off, img2, len);
            g_assert(memcmp(img1, pt, len));
            g_assert(!memcmp(img1, img2, len));

            memset(buf, 0, len);
            g_assert_cmpint(ice_qos_rw(blk->vdev, alloc, vq,
                                       VIRTIO_BLK_T_IN, whole_off, buf, len,
                                       5, 1, dun, split),
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
    QVirtQueue *vq = ice_req_start_device(blk->vdev, alloc, true);
    const IceKat *v10 = ice_kat_find("xts-256/ieee1619-v10");
    const IceKat *v4 = ice_kat_find("xts-128/ieee1619-v4");
    IceReq r[4];
    uint8_t pt[4][512], img[512];
    size_t ct_len;

    ice_qos_program_kat(env, v10, 5, "k-v10");
    ice_qos_program_kat(env, v4, 6, "k-v4");

    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 512; j++) {
            pt[i][j] = j;
        }
        r[i] = (IceReq) { .type = VIRTIO_BLK_T_OUT, .sector = 100 + i,
                          .payload = true, .activate = 1,
                          .slot = i & 1 ? 6 : 5,
                          .dun = i & 1 ? v4->dun : v10->dun,
                          .data = pt[i], .len = 512 };
        ice_qos_submit(blk->vdev, alloc, vq, &r[i]);
    }
    ice_qos_wait_all(blk->vdev, vq, r, 4);
    for (int i = 0; i < 4; i++) {
        g_assert_cmpint(ice_qos_finish(alloc, &r[i]), ==, VIRTIO_BLK_S_OK);
    }
    for (int i = 0; i < 4; i++) {
        g_autofree uint8_t *ct = unhex(i & 1 ? v4->ct : v10->ct, &ct_len);

        ice_image_read(env->img, (100 + i) * 512, img, sizeof(img));
        g_assert(!memcmp(img, ct, sizeof(img)));
    }
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/* Decision 5: FLUSH consumes the payload and ignores it */
static void test_flush(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioBlk *blk = obj;
    QVirtQueue *vq = ice_req_start_device(blk->vdev, alloc, true);
    IceReq r = { .type = VIRTIO_BLK_T_FLUSH, .payload = true, .slot = 200,
                 .activate = 7, .dun = UINT64_MAX };

    g_assert_cmpint(ice_qos_do(blk->vdev, alloc, vq, &r), ==,
                    VIRTIO_BLK_S_OK);

    /* The legacy FLUSH_OUT (5), handled as a FLUSH, carries its payload */
    r.type = VIRTIO_BLK_T_FLUSH | VIRTIO_BLK_T_OUT;
    g_assert_cmpint(ice_qos_do(blk->vdev, alloc, vq, &r), ==,
                    VIRTIO_BLK_S_OK);
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/* ---- error actions (section 5) ---- */

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
    env = ice_qos_setup_full(cmd_line, "ice=on", drive, "");
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
        g_assert(g_get_monotonic_time() - start <= ICE_REQ_TIMEOUT_US);
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
    QVirtQueue *vq = ice_req_start_device(blk->vdev, alloc, true);
    const IceKat *t = NULL;
    uint8_t pt[512], img[512], buf[512];
    g_autofree uint8_t *ct = NULL;
    size_t ct_len;
    int resumed;
    IceReq r;

    t = ice_kat_find("xts-128/ieee1619-v4");
    ct = unhex(t->ct, &ct_len);
    ice_qos_program_kat(env, t, 4, "k-stop");
    ice_kat_plaintext(t, pt, sizeof(pt));

    /* Write: fails once, VM stops, 'cont' retries it */
    memcpy(buf, pt, sizeof(buf));
    r = (IceReq) { .type = VIRTIO_BLK_T_OUT, .sector = 64, .payload = true,
                   .slot = 4, .activate = 1, .dun = t->dun, .data = buf,
                   .len = sizeof(buf) };
    ice_qos_submit(blk->vdev, alloc, vq, &r);
    resumed = ice_wait_or_resume(blk->vdev, vq, &r);
    g_assert_cmpint(ice_qos_finish(alloc, &r), ==, VIRTIO_BLK_S_OK);
    ice_image_read(env->img, 64 * 512, img, sizeof(img));
    g_assert(!memcmp(img, ct, sizeof(img)));

    /* Read: decrypted exactly once */
    memset(buf, 0, sizeof(buf));
    r = (IceReq) { .type = VIRTIO_BLK_T_IN, .sector = 64, .payload = true,
                   .slot = 4, .activate = 1, .dun = t->dun, .data = buf,
                   .len = sizeof(buf) };
    ice_qos_submit(blk->vdev, alloc, vq, &r);
    resumed += ice_wait_or_resume(blk->vdev, vq, &r);
    g_assert_cmpint(ice_qos_finish(alloc, &r), ==, VIRTIO_BLK_S_OK);
    g_assert(!memcmp(buf, pt, sizeof(buf)));

    /* The injected error really stopped the VM once */
    g_assert_cmpint(resumed, ==, 1);
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

/* ---- IOThreads and io_uring (section 5) ---- */

static void *ice_setup_io_uring(GString *cmd_line, void *arg)
{
    return ice_qos_setup_full(cmd_line, "ice=on iothread=io0",
                              "format=raw,auto-read-only=off,aio=io_uring,"
                              "file=", "-object iothread,id=io0");
}

static void *ice_setup_iothread(GString *cmd_line, void *arg)
{
    return ice_qos_setup_full(cmd_line, "ice=on iothread=io0 num-queues=2",
                              "format=raw,auto-read-only=off,aio=threads,"
                              "file=", "-object iothread,id=io0");
}

static void register_virtio_blk_ice_io_test(void)
{
    QOSGraphTestOptions on = { .before = ice_qos_setup,
                               .arg = (void *)"ice=on" };
    QOSGraphTestOptions iothread = { .before = ice_setup_iothread };
    QOSGraphTestOptions io_uring = { .before = ice_setup_io_uring };
    QOSGraphTestOptions all = { .before = ice_qos_setup_all_types };
    QOSGraphTestOptions vu = { .before = ice_qos_setup_vhost_user };
    QOSGraphTestOptions vu_all = { .before = ice_qos_setup_vhost_user,
                                   .arg = (void *)",ice-payload=all-types" };

    qos_add_test("ice/known-answers", "virtio-blk", test_kat, &on);
    qos_add_test("ice/known-answers-iothread", "virtio-blk", test_kat,
                 &iothread);
    qos_add_test("ice/known-answers-io-uring", "virtio-blk", test_kat,
                 &io_uring);
    qos_add_test("ice/all-types/known-answers", "virtio-blk", test_kat, &all);
    qos_add_test("ice/in-flight", "virtio-blk", test_in_flight, &on);
    qos_add_test("ice/in-flight-iothread", "virtio-blk", test_in_flight,
                 &iothread);
    qos_add_test("ice/chunks", "virtio-blk", test_chunks, &on);
    qos_add_test("ice/chunks-iothread", "virtio-blk", test_chunks,
                 &iothread);
    qos_add_test("ice/chunks-io-uring", "virtio-blk", test_chunks,
                 &io_uring);
    qos_add_test("ice/flush", "virtio-blk", test_flush, &on);
    qos_add_test("ice/werror-stop-restart", "virtio-blk", test_stop_restart,
                 &(QOSGraphTestOptions) { .before = ice_setup_werror });
    qos_add_test("ice/rerror-stop-restart", "virtio-blk", test_stop_restart,
                 &(QOSGraphTestOptions) { .before = ice_setup_rerror });

    qos_add_test("ice/vhost-user/known-answers", "vhost-user-blk", test_kat,
                 &vu);
    qos_add_test("ice/vhost-user/all-types/known-answers", "vhost-user-blk",
                 test_kat, &vu_all);
    qos_add_test("ice/vhost-user/in-flight", "vhost-user-blk",
                 test_in_flight, &vu);
    qos_add_test("ice/vhost-user/chunks", "vhost-user-blk", test_chunks,
                 &vu);
}

libqos_init(register_virtio_blk_ice_io_test);
