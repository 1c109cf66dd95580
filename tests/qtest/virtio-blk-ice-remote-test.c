/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest: the disk's storage in another process, qemu-storage-daemon
 *
 * Remote storage behind an inline crypto engine sees only ciphertext: the
 * ice=on device's backing node is an NBD client connected over a Unix
 * socket to a qemu-storage-daemon that exports a raw image.  The keys live
 * in the VM's QEMU only.  After the guest writes through a slot, the image
 * on the storage side holds exactly the standard ciphertext and none of the
 * plaintext; reads through the slot return the plaintext.  The same holds
 * for any other remote protocol of QEMU's block layer (Ceph RBD, iSCSI).
 *
 * The engine in the daemon instead, behind a vhost-user-blk export: the
 * daemon restarts under a running guest and the front end reconnects.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qemu/bswap.h"
#include "standard-headers/linux/virtio_blk.h"
#include "tests/ice-vectors.h"
#include "libqos/ice-host.h"
#include "libqos/virtio-blk-ice.h"

#define IMG_SIZE        (4 * 1024 * 1024)
#define DEVFN           QPCI_DEVFN(4, 0)
#define BIG_OFFSET      (1024 * 1024)
#define BIG_LEN         (2 * 1024 * 1024)    /* two chunks */

/* Export @img read-write over NBD, as "disk", on the Unix socket @sock */
static void storage_daemon_start(IceQsd *qsd, const char *img,
                                 const char *sock)
{
    g_autofree char *blockdev = g_strdup_printf(
        "driver=file,node-name=file0,filename=%s", img);
    g_autofree char *server = g_strdup_printf(
        "addr.type=unix,addr.path=%s", sock);
    const char *args[] = {
        "--blockdev", blockdev, "--nbd-server", server,
        "--export", "type=nbd,id=exp0,node-name=file0,name=disk,writable=on",
        NULL
    };

    unlink(sock);
    ice_qsd_start(qsd, args);
}

/* Stop guest, QEMU and daemon; remove the socket and the image */
static void teardown(IcePciDisk *d, QOSState *qs, IceQsd *qsd,
                     const char *sock, const char *img)
{
    ice_pci_disk_stop(d, qs);
    qtest_shutdown(qs);
    ice_qsd_stop(qsd);
    unlink(sock);
    unlink(img);
}

static guint block_hash(gconstpointer p)
{
    return ldl_he_p(p) ^ ldl_he_p((const uint8_t *)p + 12);
}

static gboolean block_equal(gconstpointer a, gconstpointer b)
{
    return !memcmp(a, b, 16);
}

/*
 * Is any 16-byte block of @pt that is not all zero one of the 16-byte
 * blocks of @hay?  (Data lands on the disk in whole AES blocks.)
 */
static bool leaks_plaintext(const uint8_t *hay, size_t hay_len,
                            const uint8_t *pt, size_t len)
{
    static const uint8_t zero[16];
    g_autoptr(GHashTable) blocks = g_hash_table_new(block_hash, block_equal);

    for (size_t off = 0; off + 16 <= hay_len; off += 16) {
        g_hash_table_add(blocks, (gpointer)(hay + off));
    }
    for (size_t off = 0; off + 16 <= len; off += 16) {
        if (memcmp(pt + off, zero, 16) &&
            g_hash_table_contains(blocks, pt + off)) {
            return true;
        }
    }
    return false;
}

static uint8_t rw(QOSState *qs, IcePciDisk *d, uint32_t type, uint64_t off,
                  uint8_t *buf, size_t len, uint8_t activate, uint64_t dun)
{
    IceReq r = { .type = type, .sector = off / 512, .payload = true,
                 .slot = 3, .activate = activate, .dun = dun,
                 .data = buf, .len = len };

    return ice_req_do(qs->qts, d->dev, &qs->alloc, d->vq, &r);
}

static void test_nbd_sees_ciphertext(void)
{
    const IceKat *t = ice_kat_find("xts-256/ieee1619-v10");
    size_t len = (size_t)t->dus * t->units, ct_len;
    g_autofree char *img = ice_image_create(IMG_SIZE);
    g_autofree uint8_t *ct = unhex(t->ct, &ct_len);
    g_autofree uint8_t *pt = g_malloc(len);
    g_autofree uint8_t *buf = g_malloc(BIG_LEN);
    g_autofree uint8_t *big = g_malloc(BIG_LEN);
    g_autofree uint8_t *disk = g_malloc(IMG_SIZE);
    IceReq flush = { .type = VIRTIO_BLK_T_FLUSH, .payload = true };
    g_autofree char *sock = g_strdup_printf("%s/ice-nbd-%d.sock",
                                            g_get_tmp_dir(), getpid());
    IceQsd qsd = { 0 };
    IcePciDisk d;
    QOSState *qs;

    storage_daemon_start(&qsd, img, sock);
    qs = qtest_pc_boot("-blockdev driver=nbd,node-name=nbd0,"
                       "server.type=unix,server.path=%s,export=disk "
                       "-device virtio-blk-pci,id=drv0,drive=nbd0,addr=04.0,"
                       "ice=on", sock);
    ice_qmp_program_kat(qs->qts, "drv0", t, 3, "k3");
    ice_pci_disk_start(&d, qs, DEVFN, true);
    g_assert_true(d.ice);

    /* The standard vector, then two chunks of a recognisable pattern */
    ice_kat_plaintext(t, pt, len);
    memcpy(buf, pt, len);
    g_assert_cmpint(rw(qs, &d, VIRTIO_BLK_T_OUT, 0, buf, len, 1, t->dun), ==,
                    VIRTIO_BLK_S_OK);
    for (size_t i = 0; i < BIG_LEN; i++) {
        big[i] = i % 4096 < 16 ? 0xa5 : (i * 2654435761u) >> 24;
    }
    memcpy(buf, big, BIG_LEN);
    g_assert_cmpint(rw(qs, &d, VIRTIO_BLK_T_OUT, BIG_OFFSET, buf, BIG_LEN, 1,
                       BIG_OFFSET / t->dus), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpint(ice_req_do(qs->qts, d.dev, &qs->alloc, d.vq, &flush), ==,
                    VIRTIO_BLK_S_OK);

    /* What the storage side holds */
    ice_image_read(img, 0, disk, IMG_SIZE);
    {
        g_autofree char *hex = tohex(disk, ct_len);

        g_assert_cmpstr(hex, ==, t->ct);
    }
    g_assert_false(leaks_plaintext(disk, IMG_SIZE, pt, len));
    g_assert_false(leaks_plaintext(disk, IMG_SIZE, big, BIG_LEN));

    /* Through the slot the guest reads its plaintext; without, the bytes */
    memset(buf, 0, BIG_LEN);
    g_assert_cmpint(rw(qs, &d, VIRTIO_BLK_T_IN, 0, buf, len, 1, t->dun), ==,
                    VIRTIO_BLK_S_OK);
    g_assert(!memcmp(buf, pt, len));
    g_assert_cmpint(rw(qs, &d, VIRTIO_BLK_T_IN, BIG_OFFSET, buf, BIG_LEN, 1,
                       BIG_OFFSET / t->dus), ==, VIRTIO_BLK_S_OK);
    g_assert(!memcmp(buf, big, BIG_LEN));
    g_assert_cmpint(rw(qs, &d, VIRTIO_BLK_T_IN, BIG_OFFSET, buf, BIG_LEN, 0,
                       0), ==, VIRTIO_BLK_S_OK);
    g_assert(!memcmp(buf, disk + BIG_OFFSET, BIG_LEN));

    teardown(&d, qs, &qsd, sock, img);
}

/*
 * qemu-storage-daemon restarts under a running guest: the key comes back
 * from its own secret through ice-preload, vhost-user-blk-pci reconnects
 * (reconnect-ms) and renegotiates the feature, and the guest reads
 * through the slot what it wrote before the restart.
 */
static void test_export_restart(void)
{
    const IceKat *t = ice_kat_find("xts-256/ieee1619-v10");
    size_t len = (size_t)t->dus * t->units, key_len, ct_len;
    g_autofree uint8_t *key = unhex(t->key, &key_len);
    g_autofree uint8_t *ct = unhex(t->ct, &ct_len);
    g_autofree char *key_b64 = g_base64_encode(key, key_len);
    g_autofree char *img = ice_image_create(IMG_SIZE);
    g_autofree char *sock = g_strdup_printf("%s/ice-restart-%d.sock",
                                            g_get_tmp_dir(), getpid());
    g_autofree char *secret = g_strdup_printf(
        "secret,id=rk,format=base64,data=%s", key_b64);
    g_autofree char *blockdev = g_strdup_printf(
        "driver=file,node-name=disk0,filename=%s", img);
    g_autofree char *export = g_strdup_printf(
        "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,"
        "addr.path=%s,writable=on,ice=on,ice-slots=8,"
        "ice-preload=5:%s:%u:%u:rk", sock, ice_kat_alg(t),
        ice_kat_key_bits(t), t->dus);
    const char *args[] = {
        "--object", secret, "--blockdev", blockdev, "--export", export, NULL
    };
    g_autofree uint8_t *pt = g_malloc(len);
    g_autofree uint8_t *buf = g_malloc(len);
    IceReq w = { .type = VIRTIO_BLK_T_OUT, .payload = true, .slot = 5,
                 .activate = 1, .dun = t->dun, .data = buf, .len = len };
    IceReq r = w;
    IceQsd qsd = { 0 };
    IcePciDisk d;
    QOSState *qs;

    unlink(sock);
    ice_qsd_start(&qsd, args);
    qs = qtest_pc_boot("-object memory-backend-shm,id=mem,size=256M "
                       "-M memory-backend=mem -m 256M "
                       "-chardev socket,id=vu0,path=%s,reconnect-ms=100 "
                       "-device vhost-user-blk-pci,id=disk0,chardev=vu0,"
                       "addr=04.0,ice=on", sock);
    ice_pci_disk_start(&d, qs, DEVFN, true);
    g_assert_true(d.ice);

    ice_kat_plaintext(t, pt, len);
    memcpy(buf, pt, len);
    g_assert_cmpint(ice_req_do(qs->qts, d.dev, &qs->alloc, d.vq, &w), ==,
                    VIRTIO_BLK_S_OK);
    ice_image_read(img, 0, buf, len);
    g_assert(!memcmp(buf, ct, ct_len));

    /* A new daemon, the same options: nothing of the old one survives */
    ice_qsd_stop(&qsd);
    ice_qsd_start(&qsd, args);

    /* The request waits in the ring until the front end is back */
    r.type = VIRTIO_BLK_T_IN;
    memset(buf, 0, len);
    ice_req_submit(qs->qts, d.dev, &qs->alloc, d.vq, &r);
    g_assert_true(ice_req_wait(qs->qts, d.dev, d.vq, &r,
                               ICE_REQ_TIMEOUT_US));
    g_assert_cmpint(ice_req_finish(qs->qts, &qs->alloc, &r), ==,
                    VIRTIO_BLK_S_OK);
    g_assert(!memcmp(buf, pt, len));

    teardown(&d, qs, &qsd, sock, img);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *path;
        GTestFunc fn;
    } tests[] = {
        { "/virtio-blk-ice/remote/nbd-sees-ciphertext",
          test_nbd_sees_ciphertext },
        { "/virtio-blk-ice/remote/export-restart-reconnect",
          test_export_restart },
    };

    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(tests); i++) {
        qtest_add_func(tests[i].path, tests[i].fn);
    }
    return g_test_run();
}
