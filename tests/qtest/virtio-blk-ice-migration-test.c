/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest: migration of a virtio-blk device with an inline crypto engine
 *
 * The source programs a slot from a secret and writes through it; the
 * slot table (never the key) migrates, the destination loads the key from
 * its own secret of the same id and decrypts what the source wrote.  A
 * destination without that secret must refuse the migration.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "standard-headers/linux/virtio_blk.h"
#include "standard-headers/linux/virtio_ids.h"
#include "libqos/libqos-pc.h"
#include "libqos/virtio.h"
#include "libqos/virtio-pci.h"
#include "ice-req.h"

#define IMG_SIZE        (4 * 1024 * 1024)
#define DEVFN           QPCI_DEVFN(4, 0)
/* AES-256-XTS key material (64 bytes), base64 */
#define KEY_B64 "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY3ODkwQUJDREVGR0hJ" \
                "SktMTU5PUFFSU1RVVldYWVohQA=="

typedef struct Side {
    QOSState *qs;
    QVirtioPCIDevice *dev;
    QVirtQueue *vq;
} Side;

static QOSState *boot(const char *img, const char *secret, const char *extra)
{
    return qtest_pc_boot("-drive if=none,id=drive0,file=%s,format=raw "
                         "-device virtio-blk-pci,id=drv0,drive=drive0,"
                         "addr=04.0,ice=on %s %s", img, secret, extra);
}

/* Reset the device, negotiate VIRTIO_BLK_F_ICE, set up queue 0 */
static void start_driver(Side *s)
{
    s->dev = g_new0(QVirtioPCIDevice, 1);
    virtio_pci_init(s->dev, s->qs->pcibus, &(QPCIAddress) { .devfn = DEVFN });
    qvirtio_pci_device_enable(s->dev);
    qvirtio_start_device(&s->dev->vdev);
    g_assert_true(qvirtio_get_features(&s->dev->vdev) &
                  (1ull << VIRTIO_BLK_F_ICE));
    s->vq = ice_req_start_device(&s->dev->vdev, &s->qs->alloc, true);
}

static void stop_driver(Side *s)
{
    qvirtqueue_cleanup(s->dev->vdev.bus, s->vq, &s->qs->alloc);
    qvirtio_pci_device_disable(s->dev);
    g_free(s->dev);
}

/* One request with the 32-byte header; returns the status byte */
static uint8_t crypto_rw(Side *s, uint32_t type, uint64_t sector,
                         uint8_t *buf, size_t len, uint8_t slot, uint64_t dun)
{
    IceReq r = {
        .type = type, .sector = sector, .payload = true, .slot = slot,
        .activate = 1, .dun = dun, .data = buf, .len = len,
    };

    return ice_req_do(s->qs->qts, &s->dev->vdev, &s->qs->alloc, s->vq, &r);
}

static char *make_image(void)
{
    char *path;
    int fd = g_file_open_tmp("ice-mig.XXXXXX", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, IMG_SIZE), ==, 0);
    close(fd);
    return path;
}

static void program_slot(QTestState *qts)
{
    qtest_qmp_assert_success(qts, "{'execute': 'ice-program-slot',"
                             " 'arguments': { 'id': 'drv0', 'slot': 7,"
                             " 'algorithm': 'aes-xts', 'key-size': 256,"
                             " 'data-unit-size': 4096, 'key-secret': 'mk' } }");
}

static void test_migrate_keys(void)
{
    g_autofree char *img = make_image();
    g_autofree char *sock = g_strdup_printf("%s/ice-mig-%d.sock",
                                            g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("unix:%s", sock);
    g_autofree char *incoming = g_strdup_printf("-incoming %s", uri);
    const char *secret = "-object secret,id=mk,format=base64,data=" KEY_B64;
    Side src = { .qs = boot(img, secret, "") };
    Side dst = { .qs = boot(img, secret, incoming) };
    uint8_t pt[8192], buf[8192], disk[8192];
    QDict *rsp;
    int fd;

    for (size_t i = 0; i < sizeof(pt); i++) {
        pt[i] = i * 31 + 5;
    }
    program_slot(src.qs->qts);
    start_driver(&src);
    memcpy(buf, pt, sizeof(buf));
    g_assert_cmpint(crypto_rw(&src, VIRTIO_BLK_T_OUT, 16, buf, sizeof(buf),
                              7, 77), ==, VIRTIO_BLK_S_OK);
    qtest_qmp_assert_success(src.qs->qts, "{'execute': 'stop'}");

    /* The image holds ciphertext */
    fd = open(img, O_RDONLY);
    g_assert_cmpint(pread(fd, disk, sizeof(disk), 16 * 512), ==, sizeof(disk));
    close(fd);
    g_assert(memcmp(disk, pt, sizeof(disk)));

    migrate(src.qs, dst.qs, uri);

    /* The destination knows the slot without having been told */
    rsp = qtest_qmp(dst.qs->qts, "{'execute': 'query-ice', 'arguments':"
                    " { 'id': 'drv0' } }");
    g_assert_cmpint(qlist_size(qdict_get_qlist(qdict_get_qdict(rsp, "return"),
                                               "slots")), ==, 1);
    qobject_unref(rsp);

    qtest_qmp_assert_success(dst.qs->qts, "{'execute': 'cont'}");
    start_driver(&dst);
    memset(buf, 0, sizeof(buf));
    g_assert_cmpint(crypto_rw(&dst, VIRTIO_BLK_T_IN, 16, buf, sizeof(buf),
                              7, 77), ==, VIRTIO_BLK_S_OK);
    g_assert(!memcmp(buf, pt, sizeof(buf)));

    stop_driver(&dst);
    g_free(src.dev);
    qtest_shutdown(dst.qs);
    qtest_shutdown(src.qs);
    unlink(img);
    unlink(sock);
}

static void test_migrate_missing_secret(void)
{
    g_autofree char *img = make_image();
    g_autofree char *sock = g_strdup_printf("%s/ice-mig-miss-%d.sock",
                                            g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("unix:%s", sock);
    g_autofree char *incoming = g_strdup_printf("-incoming %s", uri);
    QOSState *src = boot(img, "-object secret,id=mk,format=base64,data="
                         KEY_B64, "");
    QOSState *dst = boot(img, "", incoming);
    QDict *rsp;

    program_slot(src->qts);
    qtest_set_expected_status(dst->qts, EXIT_FAILURE);
    qtest_qmp_assert_success(src->qts, "{'execute': 'stop'}");
    rsp = qtest_qmp(src->qts, "{ 'execute': 'migrate', 'arguments':"
                    " { 'uri': %s } }", uri);
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);

    /* The destination fails to load the slot table and exits */
    qtest_wait_qemu(dst->qts);
    g_free(dst);
    qtest_shutdown(src);
    unlink(img);
    unlink(sock);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/virtio-blk-ice/migration/keys-follow",
                   test_migrate_keys);
    qtest_add_func("/virtio-blk-ice/migration/missing-secret-fails",
                   test_migrate_missing_secret);
    return g_test_run();
}
