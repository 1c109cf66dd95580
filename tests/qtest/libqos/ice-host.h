/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Host-side helpers for the virtio-blk inline crypto engine qtests: disk
 * images on the host, qemu-storage-daemon with a vhost-user-blk export,
 * and key management over QMP (secrets, programming slots).
 */

#ifndef TESTS_QTEST_LIBQOS_ICE_HOST_H
#define TESTS_QTEST_LIBQOS_ICE_HOST_H

#include "../libqtest.h"

typedef struct IceKat IceKat;

/* ---- disk images on the host ---- */

/**
 * ice_image_create:
 * @size: bytes, all zero
 *
 * Create a temporary raw image.
 *
 * Returns: its path, to g_free() (after unlink())
 */
char *ice_image_create(uint64_t size);

/* pread()/pwrite() exactly @len bytes of the image at @path, or fail */
void ice_image_read(const char *path, uint64_t off, void *buf, size_t len);
void ice_image_write(const char *path, uint64_t off, const void *buf,
                     size_t len);

/* ---- qemu-storage-daemon ---- */

/**
 * IceQsd:
 * @pid: the daemon
 * @qmp_path: its QMP socket, chosen by ice_qsd_start()
 * @qmp_fd: connected to it
 */
typedef struct IceQsd {
    GPid pid;
    char *qmp_path;
    int qmp_fd;
} IceQsd;

/**
 * ice_qsd_start:
 * @args: the daemon's options, %NULL-terminated
 *
 * Start $QTEST_QEMU_STORAGE_DAEMON_BINARY with @args and a QMP monitor,
 * and return once the monitor answers: every object and export @args
 * names exists then.  A failed assertion kills the daemon.
 */
void ice_qsd_start(IceQsd *qsd, const char *const *args);

/* A QMP command to the daemon; returns its reply (events are skipped) */
QDict *ice_qsd_qmp(IceQsd *qsd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/*
 * The error description of QMP reply @rsp (g_free() it), or NULL on
 * success; frees @rsp
 */
char *ice_qmp_error_of(QDict *rsp);

/*
 * Stop the daemon with SIGTERM and reap it; it must exit by itself.
 * @qsd can be started again.
 */
void ice_qsd_stop(IceQsd *qsd);

/* The id of the export ice_qsd_start_vhost_user() creates */
#define ICE_QSD_EXPORT_ID "exp0"

/**
 * ice_qsd_start_export:
 * @sock: the export's socket path (an old socket there is removed)
 * @export_opts: as for ice_qsd_start_vhost_user()
 *
 * Start @qsd with a vhost-user-blk export %ICE_QSD_EXPORT_ID of the raw
 * image @img, with ice=on, for a front end the test drives itself.
 */
void ice_qsd_start_export(IceQsd *qsd, const char *img, const char *sock,
                          const char *export_opts);

/**
 * ice_qsd_start_vhost_user:
 * @cmd_line: the QEMU command line a qos "before" callback builds
 * @img: the raw image to export
 * @export_opts: more options of the export, each after a ',', or ""
 *
 * Start qemu-storage-daemon with a vhost-user-blk export of @img with
 * ice=on, and add to @cmd_line what QEMU needs to use it: guest RAM in
 * shared memory, the chardev char1 of libqos' vhost-user-blk-pci, and
 * ice=on for the front end.  When the test ends, QEMU (global_qtest, as in
 * qos tests) is killed, then the daemon stopped.
 *
 * Returns: the daemon
 */
IceQsd *ice_qsd_start_vhost_user(GString *cmd_line, const char *img,
                                 const char *export_opts);

/* ---- QMP key management ---- */

/* object-add a base64 secret @id holding @len bytes of @key */
void ice_qmp_add_secret(QTestState *qts, const char *id, const void *key,
                        size_t len);

/**
 * ice_qmp_program_slot:
 * @dev_id: the device's QOM id
 *
 * Run ice-program-slot.
 *
 * Returns: %NULL on success, else the error's description (g_free() it)
 */
char *ice_qmp_program_slot(QTestState *qts, const char *dev_id, unsigned slot,
                           const char *alg, unsigned bits, unsigned dus,
                           const char *secret);

/* Load the key of vector @t as secret @secret and program it into @slot */
void ice_qmp_program_kat(QTestState *qts, const char *dev_id,
                         const IceKat *t, unsigned slot, const char *secret);

/*
 * The same where the engine is: on @qsd if not NULL (@id names an
 * export), else on @qts (@id names a device)
 */
void ice_keys_add_secret(QTestState *qts, IceQsd *qsd, const char *id,
                         const void *key, size_t len);
char *ice_keys_program_slot(QTestState *qts, IceQsd *qsd, const char *id,
                            unsigned slot, const char *alg, unsigned bits,
                            unsigned dus, const char *secret);
void ice_keys_program_kat(QTestState *qts, IceQsd *qsd, const char *id,
                          const IceKat *t, unsigned slot, const char *secret);

#endif /* TESTS_QTEST_LIBQOS_ICE_HOST_H */
