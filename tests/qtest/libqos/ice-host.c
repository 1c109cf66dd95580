/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Host-side helpers for the virtio-blk inline crypto engine qtests: disk
 * images, qemu-storage-daemon and QMP key management
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include <sys/un.h>
#include "tests/ice-vectors.h"
#include "../libqtest-single.h"
#include "ice-host.h"

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
