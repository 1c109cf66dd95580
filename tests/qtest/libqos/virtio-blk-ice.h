/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libqos helpers for the virtio-blk inline crypto engine (VIRTIO_BLK_F_ICE):
 * the guest side of requests with the crypto payload, bring-up of a
 * virtio-blk-pci disk, disk images on the host and QMP key management.
 * Used by every ICE qtest, the ice-io tool and the device benchmark.
 */

#ifndef TESTS_QTEST_LIBQOS_VIRTIO_BLK_ICE_H
#define TESTS_QTEST_LIBQOS_VIRTIO_BLK_ICE_H

#include "../libqtest.h"
#include "libqos-pc.h"
#include "virtio.h"
#include "virtio-pci.h"

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

/**
 * IceReq:
 * @type: VIRTIO_BLK_T_*
 * @sector: in 512-byte units
 * @payload: send the 16-byte crypto payload after the header
 * @slot: payload field
 * @activate: payload field
 * @dun: payload field, data unit number
 * @data: OUT, DISCARD, WRITE_ZEROES, SECURE_ERASE: the data the device
 *        reads; other types: preset into the guest buffer before the
 *        request, replaced by what the device wrote afterwards
 * @len: bytes of data
 * @split: sizes of the data descriptors, 0-terminated; NULL for one;
 *         %ICE_REQ_ZERO_DESC adds a zero-length descriptor
 * @hdr_len: if not 0, the number of header bytes to send (a malformed
 *           request); else 16, or 32 with @payload
 * @reverse: put the data in buffers of the wrong direction
 *
 * @addr and @head are filled in by ice_req_submit().
 */
typedef struct IceReq {
    uint32_t type;
    uint64_t sector;
    bool payload;
    uint8_t slot;
    uint8_t activate;
    uint64_t dun;
    uint8_t *data;
    size_t len;
    const size_t *split;
    size_t hdr_len;
    bool reverse;
    uint64_t addr;
    uint32_t head;
} IceReq;

/* In IceReq.split: a zero-length descriptor (which QEMU refuses) */
#define ICE_REQ_ZERO_DESC SIZE_MAX

/* Timeout for one request */
#define ICE_REQ_TIMEOUT_US (30 * 1000 * 1000)

/**
 * ice_req_submit:
 *
 * Build @r in guest memory, add it to @vq and kick the device.
 */
void ice_req_submit(QTestState *qts, QVirtioDevice *dev,
                    QGuestAllocator *alloc, QVirtQueue *vq, IceReq *r);

/**
 * ice_req_finish:
 *
 * For a request the device has used: copy its data back into @r->data
 * (device-writable requests), free its guest memory.
 *
 * Returns: the status byte
 */
uint8_t ice_req_finish(QTestState *qts, QGuestAllocator *alloc, IceReq *r);

/**
 * ice_req_do:
 *
 * Submit @r, wait until the device used it, finish it.
 *
 * Returns: the status byte
 */
uint8_t ice_req_do(QTestState *qts, QVirtioDevice *dev,
                   QGuestAllocator *alloc, QVirtQueue *vq, IceReq *r);

/**
 * ice_req_wait:
 *
 * Wait up to @timeout_us for the device to use @r, the only request in
 * flight on @vq.
 *
 * Returns: false if it did not
 */
bool ice_req_wait(QTestState *qts, QVirtioDevice *dev, QVirtQueue *vq,
                  const IceReq *r, gint64 timeout_us);

/* Wait until the device used all of the @n requests @r, in any order */
void ice_req_wait_all(QTestState *qts, QVirtioDevice *dev, QVirtQueue *vq,
                      const IceReq *r, int n);

/**
 * ice_req_reap:
 * @heads: the descriptor heads of @n requests in flight
 * @done: a flag per request, set when the device has used it
 * @n: number of requests
 *
 * Take every request the device has used from @vq so far and set its
 * flag.  A used head that is not one of @heads, or one used twice, fails
 * the test.
 *
 * Returns: how many of the @n requests are done in all
 */
int ice_req_reap(QTestState *qts, QVirtioDevice *dev, QVirtQueue *vq,
                 const uint32_t *heads, bool *done, int n);

/**
 * ice_req_start_device:
 * @accept_ice: accept VIRTIO_BLK_F_ICE if the device offers it
 *
 * Negotiate features (no indirect descriptors, no event index), set up
 * queue 0 and set DRIVER_OK.  The device must be reset and acknowledged.
 *
 * Returns: queue 0
 */
QVirtQueue *ice_req_start_device(QVirtioDevice *dev, QGuestAllocator *alloc,
                                 bool accept_ice);

/* The same with queues 0 to @n - 1, stored in @vqs */
void ice_req_start_queues(QVirtioDevice *dev, QGuestAllocator *alloc,
                          bool accept_ice, QVirtQueue **vqs, int n);

/* ---- a virtio-blk-pci disk of a PC machine, without qgraph ---- */

/**
 * IcePciDisk:
 * @pci: the transport
 * @dev: its virtio device
 * @vq: queue 0
 * @ice: VIRTIO_BLK_F_ICE was negotiated
 */
typedef struct IcePciDisk {
    QVirtioPCIDevice pci;
    QVirtioDevice *dev;
    QVirtQueue *vq;
    bool ice;
} IcePciDisk;

/**
 * ice_pci_disk_start:
 * @devfn: where the disk is, e.g. QPCI_DEVFN(4, 0) for addr=04.0
 *
 * Enable the virtio-blk-pci device at @devfn of @qs, reset it and start it
 * with ice_req_start_device().
 */
void ice_pci_disk_start(IcePciDisk *d, QOSState *qs, int devfn,
                        bool accept_ice);

/* Free queue 0 and disable the device */
void ice_pci_disk_stop(IcePciDisk *d, QOSState *qs);

#endif /* TESTS_QTEST_LIBQOS_VIRTIO_BLK_ICE_H */
