/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libqos helpers for the virtio-blk inline crypto engine (VIRTIO_BLK_F_ICE)
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include <sys/un.h>
#include "standard-headers/linux/virtio_blk.h"
#include "standard-headers/linux/virtio_ring.h"
#include "tests/ice-vectors.h"
#include "../libqtest-single.h"
#include "virtio-blk-ice.h"

/* ---- disk images on the host ---- */

char *ice_image_create(uint64_t size)
{
    char *path;
    int fd = g_file_open_tmp("ice-qtest.XXXXXX", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    return path;
}

void ice_image_read(const char *path, uint64_t off, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, buf, len, off), ==, len);
    close(fd);
}

void ice_image_write(const char *path, uint64_t off, const void *buf,
                     size_t len)
{
    int fd = open(path, O_WRONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, buf, len, off), ==, len);
    close(fd);
}

/* ---- qemu-storage-daemon ---- */

/* Kill @qsd whatever ends the test */
static void ice_qsd_kill(void *opaque)
{
    IceQsd *qsd = opaque;

    kill(qsd->pid, SIGKILL);
}

/* A connected Unix socket, or -1 */
static int ice_unix_connect(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(strlen(path), <, sizeof(addr.sun_path));
    strcpy(addr.sun_path, path);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void ice_qsd_start(IceQsd *qsd, const char *const *args)
{
    const char *bin = g_getenv("QTEST_QEMU_STORAGE_DAEMON_BINARY");
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    g_autofree char *chardev = NULL;
    QDict *greeting;
    gint64 deadline;

    if (!bin) {
        bin = "./storage-daemon/qemu-storage-daemon";
    }
    g_assert_true(g_file_test(bin, G_FILE_TEST_IS_EXECUTABLE));
    if (!qsd->qmp_path) {
        qsd->qmp_path = g_strdup_printf("%s/ice-qsd-%d-%p.qmp",
                                        g_get_tmp_dir(), getpid(), qsd);
    }
    unlink(qsd->qmp_path);

    g_ptr_array_add(argv, g_strdup(bin));
    for (const char *const *a = args; *a; a++) {
        g_ptr_array_add(argv, g_strdup(*a));
    }
    /* Last, so that everything before exists once the monitor answers */
    chardev = g_strdup_printf("socket,id=ice-qmp,path=%s,server=on,wait=off",
                              qsd->qmp_path);
    g_ptr_array_add(argv, g_strdup("--chardev"));
    g_ptr_array_add(argv, g_strdup(chardev));
    g_ptr_array_add(argv, g_strdup("--monitor"));
    g_ptr_array_add(argv, g_strdup("chardev=ice-qmp"));
    g_ptr_array_add(argv, NULL);
    g_assert_true(g_spawn_async(NULL, (char **)argv->pdata, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD |
                                G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                &qsd->pid, &err));
    qtest_add_abrt_handler(ice_qsd_kill, qsd);

    deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    for (;;) {
        qsd->qmp_fd = ice_unix_connect(qsd->qmp_path);
        if (qsd->qmp_fd >= 0) {
            break;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(10 * 1000);
    }
    greeting = qmp_fd_receive(qsd->qmp_fd);
    g_assert_true(qdict_haskey(greeting, "QMP"));
    qobject_unref(greeting);
    qobject_unref(ice_qsd_qmp(qsd, "{'execute': 'qmp_capabilities'}"));
}

QDict *ice_qsd_qmp(IceQsd *qsd, const char *fmt, ...)
{
    va_list ap;
    QDict *rsp;

    va_start(ap, fmt);
    qmp_fd_vsend(qsd->qmp_fd, fmt, ap);
    va_end(ap);
    /* Skip events */
    while ((rsp = qmp_fd_receive(qsd->qmp_fd)) &&
           qdict_haskey(rsp, "event")) {
        qobject_unref(rsp);
    }
    return rsp;
}

void ice_qsd_stop(IceQsd *qsd)
{
    int status;

    qtest_remove_abrt_handler(qsd);
    close(qsd->qmp_fd);
    kill(qsd->pid, SIGTERM);
    g_assert_cmpint(waitpid(qsd->pid, &status, 0), ==, qsd->pid);
    g_spawn_close_pid(qsd->pid);
    g_assert_true(WIFEXITED(status));
    unlink(qsd->qmp_path);
    g_free(qsd->qmp_path);
    qsd->qmp_path = NULL;
}

/* When a test ends: QEMU first, so that it does not see its back end go */
static void ice_qsd_vhost_user_stop(void *opaque)
{
    IceQsd *qsd = opaque;

    qtest_kill_qemu(global_qtest);
    ice_qsd_stop(qsd);
    g_free(qsd);
}

void ice_qsd_start_export(IceQsd *qsd, const char *img, const char *sock,
                          const char *export_opts)
{
    g_autofree char *blockdev = g_strdup_printf(
        "driver=file,node-name=disk0,filename=%s", img);
    g_autofree char *export = g_strdup_printf(
        "type=vhost-user-blk,id=" ICE_QSD_EXPORT_ID ",node-name=disk0,"
        "addr.type=unix,addr.path=%s,writable=on,ice=on%s", sock,
        export_opts);
    const char *args[] = {
        "--blockdev", blockdev, "--export", export, NULL
    };

    unlink(sock);
    ice_qsd_start(qsd, args);
}

IceQsd *ice_qsd_start_vhost_user(GString *cmd_line, const char *img,
                                 const char *export_opts)
{
    IceQsd *qsd = g_new0(IceQsd, 1);
    g_autofree char *sock = g_strdup_printf("%s/ice-vu-%d.sock",
                                            g_get_tmp_dir(), getpid());

    ice_qsd_start_export(qsd, img, sock, export_opts);
    g_test_queue_destroy(ice_qsd_vhost_user_stop, qsd);
    g_string_append_printf(cmd_line,
                           " -object memory-backend-shm,id=mem,size=256M"
                           " -M memory-backend=mem -m 256M"
                           " -chardev socket,id=char1,path=%s"
                           " -global vhost-user-blk.ice=on", sock);
    return qsd;
}

/* ---- QMP key management ---- */

/* Send a command to the QEMU under test, or to @qsd if not NULL */
static QDict * G_GNUC_PRINTF(3, 4)
ice_key_host_qmp(QTestState *qts, IceQsd *qsd, const char *fmt, ...)
{
    va_list ap;
    QDict *rsp;

    va_start(ap, fmt);
    if (qsd) {
        qmp_fd_vsend(qsd->qmp_fd, fmt, ap);
        rsp = NULL;
    } else {
        rsp = qtest_vqmp(qts, fmt, ap);
    }
    va_end(ap);
    while (!rsp || qdict_haskey(rsp, "event")) {
        qobject_unref(rsp);
        rsp = qmp_fd_receive(qsd->qmp_fd);
    }
    return rsp;
}

char *ice_qmp_error_of(QDict *rsp)
{
    char *err = NULL;

    if (qdict_haskey(rsp, "error")) {
        err = g_strdup(qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"));
    }
    qobject_unref(rsp);
    return err;
}

void ice_keys_add_secret(QTestState *qts, IceQsd *qsd, const char *id,
                         const void *key, size_t len)
{
    g_autofree char *b64 = g_base64_encode(key, len);
    g_autofree char *err = ice_qmp_error_of(ice_key_host_qmp(qts, qsd,
        "{'execute': 'object-add', 'arguments': {"
        " 'qom-type': 'secret', 'id': %s,"
        " 'format': 'base64', 'data': %s } }", id, b64));

    g_assert_cmpstr(err, ==, NULL);
}

char *ice_keys_program_slot(QTestState *qts, IceQsd *qsd, const char *id,
                            unsigned slot, const char *alg, unsigned bits,
                            unsigned dus, const char *secret)
{
    return ice_qmp_error_of(ice_key_host_qmp(qts, qsd,
        "{'execute': 'ice-program-slot', 'arguments': {"
        " 'id': %s, 'slot': %u, 'algorithm': %s,"
        " 'key-size': %u, 'data-unit-size': %u,"
        " 'key-secret': %s } }", id, slot, alg, bits, dus, secret));
}

void ice_keys_program_kat(QTestState *qts, IceQsd *qsd, const char *id,
                          const IceKat *t, unsigned slot, const char *secret)
{
    size_t key_len;
    g_autofree uint8_t *key = unhex(t->key, &key_len);
    g_autofree char *err = NULL;

    ice_keys_add_secret(qts, qsd, secret, key, key_len);
    err = ice_keys_program_slot(qts, qsd, id, slot, ice_kat_alg(t),
                                ice_kat_key_bits(t), t->dus, secret);
    g_assert_cmpstr(err, ==, NULL);
}

void ice_qmp_add_secret(QTestState *qts, const char *id, const void *key,
                        size_t len)
{
    ice_keys_add_secret(qts, NULL, id, key, len);
}

char *ice_qmp_program_slot(QTestState *qts, const char *dev_id, unsigned slot,
                           const char *alg, unsigned bits, unsigned dus,
                           const char *secret)
{
    return ice_keys_program_slot(qts, NULL, dev_id, slot, alg, bits, dus,
                                 secret);
}

void ice_qmp_program_kat(QTestState *qts, const char *dev_id,
                         const IceKat *t, unsigned slot, const char *secret)
{
    ice_keys_program_kat(qts, NULL, dev_id, t, slot, secret);
}

/* ---- requests ---- */

/* Requests whose data the device reads; for the others it writes it */
static bool ice_req_data_out(const IceReq *r)
{
    return r->type == VIRTIO_BLK_T_OUT || r->type == VIRTIO_BLK_T_DISCARD ||
           r->type == VIRTIO_BLK_T_WRITE_ZEROES ||
           r->type == VIRTIO_BLK_T_SECURE_ERASE;
}

static size_t ice_req_hdr_len(const IceReq *r)
{
    return r->hdr_len ? r->hdr_len : (r->payload ? 32 : 16);
}

void ice_req_submit(QTestState *qts, QVirtioDevice *dev,
                    QGuestAllocator *alloc, QVirtQueue *vq, IceReq *r)
{
    size_t hlen = ice_req_hdr_len(r);
    bool dev_writes = !ice_req_data_out(r) ^ r->reverse;
    uint8_t hdr[32] = { 0 };
    uint8_t status = 0xff;
    size_t off = 0;
    uint32_t ndesc;

    /* virtio 1.0 layout, little-endian like every device libqos drives */
    stl_le_p(hdr, r->type);
    stq_le_p(hdr + 8, r->sector);
    hdr[16] = r->slot;
    hdr[17] = r->activate;
    stw_le_p(hdr + 18, 0xa5a5);             /* reserved: must be ignored */
    stl_le_p(hdr + 20, 0x5a5a5a5a);
    stq_le_p(hdr + 24, r->dun);

    r->addr = guest_alloc(alloc, hlen + r->len + 1);
    qtest_memwrite(qts, r->addr, hdr, MIN(hlen, sizeof(hdr)));
    if (r->data && r->len) {
        /* base64: much faster than the hex of qtest_memwrite() */
        qtest_bufwrite(qts, r->addr + hlen, r->data, r->len);
    }
    qtest_memwrite(qts, r->addr + hlen + r->len, &status, 1);

    /*
     * qvirtqueue_add() takes descriptors in order and never wraps: start
     * again at 0 when this chain would run past the table.  Callers keep
     * at most a few short chains in flight, so they do not collide.
     */
    ndesc = 3;              /* header, status, what the split leaves */
    for (int i = 0; r->split && r->split[i]; i++) {
        ndesc++;
    }
    g_assert_cmpuint(ndesc, <=, vq->size);
    if (vq->free_head + ndesc > vq->size) {
        vq->free_head = 0;
        vq->num_free = vq->size;
    }

    r->head = qvirtqueue_add(qts, vq, r->addr, hlen, false, true);
    for (int i = 0; off < r->len; i++) {
        size_t n = r->split && r->split[i] ? r->split[i] : r->len - off;

        if (n == ICE_REQ_ZERO_DESC) {
            qvirtqueue_add(qts, vq, r->addr + hlen + off, 0, dev_writes,
                           true);
            continue;
        }
        n = MIN(n, r->len - off);
        qvirtqueue_add(qts, vq, r->addr + hlen + off, n, dev_writes, true);
        off += n;
    }
    qvirtqueue_add(qts, vq, r->addr + hlen + r->len, 1, true, false);
    qvirtqueue_kick(qts, dev, vq, r->head);
}

uint8_t ice_req_finish(QTestState *qts, QGuestAllocator *alloc, IceReq *r)
{
    size_t hlen = ice_req_hdr_len(r);
    uint8_t status = qtest_readb(qts, r->addr + hlen + r->len);

    if (!ice_req_data_out(r) && r->data && r->len) {
        qtest_bufread(qts, r->addr + hlen, r->data, r->len);
    }
    guest_free(alloc, r->addr);
    return status;
}

uint8_t ice_req_do(QTestState *qts, QVirtioDevice *dev,
                   QGuestAllocator *alloc, QVirtQueue *vq, IceReq *r)
{
    ice_req_submit(qts, dev, alloc, vq, r);
    qvirtio_wait_used_elem(qts, dev, vq, r->head, NULL, ICE_REQ_TIMEOUT_US);
    return ice_req_finish(qts, alloc, r);
}

bool ice_req_wait(QTestState *qts, QVirtioDevice *dev, QVirtQueue *vq,
                  const IceReq *r, gint64 timeout_us)
{
    gint64 start = g_get_monotonic_time();
    uint32_t head;

    for (;;) {
        dev->bus->get_queue_isr_status(dev, vq);
        if (qvirtqueue_get_buf(qts, vq, &head, NULL)) {
            g_assert_cmpuint(head, ==, r->head);
            return true;
        }
        if (g_get_monotonic_time() - start > timeout_us) {
            return false;
        }
        g_usleep(50);
    }
}

void ice_req_wait_all(QTestState *qts, QVirtioDevice *dev, QVirtQueue *vq,
                      const IceReq *r, int n)
{
    gint64 start = g_get_monotonic_time();
    g_autofree uint32_t *heads = g_new(uint32_t, n);
    g_autofree bool *done = g_new0(bool, n);

    for (int i = 0; i < n; i++) {
        heads[i] = r[i].head;
    }
    while (ice_req_reap(qts, dev, vq, heads, done, n) < n) {
        g_assert(g_get_monotonic_time() - start <= ICE_REQ_TIMEOUT_US);
    }
}

int ice_req_reap(QTestState *qts, QVirtioDevice *dev, QVirtQueue *vq,
                 const uint32_t *heads, bool *done, int n)
{
    uint32_t head;
    int count = 0;

    dev->bus->get_queue_isr_status(dev, vq);
    while (qvirtqueue_get_buf(qts, vq, &head, NULL)) {
        int i = 0;

        while (i < n && heads[i] != head) {
            i++;
        }
        g_assert_cmpint(i, <, n);
        g_assert_false(done[i]);
        done[i] = true;
    }
    for (int i = 0; i < n; i++) {
        count += done[i];
    }
    return count;
}

QVirtQueue *ice_req_start_device(QVirtioDevice *dev, QGuestAllocator *alloc,
                                 bool accept_ice)
{
    QVirtQueue *vq;

    ice_req_start_queues(dev, alloc, accept_ice, &vq, 1);
    return vq;
}

void ice_req_start_queues(QVirtioDevice *dev, QGuestAllocator *alloc,
                          bool accept_ice, QVirtQueue **vqs, int n)
{
    uint64_t features = qvirtio_get_features(dev);

    features &= ~(QVIRTIO_F_BAD_FEATURE |
                  (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
                  (1ull << VIRTIO_RING_F_EVENT_IDX) |
                  (1ull << VIRTIO_BLK_F_SCSI));
    if (!accept_ice) {
        features &= ~(1ull << VIRTIO_BLK_F_ICE);
    }
    qvirtio_set_features(dev, features);
    for (int i = 0; i < n; i++) {
        vqs[i] = qvirtqueue_setup(dev, alloc, i);
    }
    qvirtio_set_driver_ok(dev);
}

/* ---- a virtio-blk-pci disk of a PC machine ---- */

void ice_pci_disk_start(IcePciDisk *d, QOSState *qs, int devfn,
                        bool accept_ice)
{
    memset(d, 0, sizeof(*d));
    virtio_pci_init(&d->pci, qs->pcibus, &(QPCIAddress) { .devfn = devfn });
    qvirtio_pci_device_enable(&d->pci);
    d->dev = &d->pci.vdev;
    qvirtio_start_device(d->dev);
    d->ice = accept_ice &&
             (qvirtio_get_features(d->dev) & (1ull << VIRTIO_BLK_F_ICE));
    d->vq = ice_req_start_device(d->dev, &qs->alloc, accept_ice);
}

void ice_pci_disk_stop(IcePciDisk *d, QOSState *qs)
{
    qvirtqueue_cleanup(d->dev->bus, d->vq, &qs->alloc);
    qvirtio_pci_device_disable(&d->pci);
}
