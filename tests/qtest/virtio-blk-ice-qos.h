/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Per-transport set-up and common helpers of the virtio-blk inline crypto
 * engine qos tests (virtio-blk-ice-*-test.c in qos-test)
 *
 * Each test runs on one transport, which its qos "before" callback picks:
 * QEMU's virtio-blk device with the engine (node "virtio-blk"), or
 * vhost-user-blk-pci in front of a qemu-storage-daemon export holding the
 * engine (node "vhost-user-blk").  The callback returns an IceEnv, the
 * test's data argument, that says where the engine is.
 */

#ifndef TESTS_QTEST_VIRTIO_BLK_ICE_QOS_H
#define TESTS_QTEST_VIRTIO_BLK_ICE_QOS_H

#include "libqos/virtio.h"
#include "libqos/ice-host.h"
#include "libqos/virtio-blk-ice.h"

/* Size of the disk image of every test */
#define ICE_QOS_IMG_SIZE    (8 * 1024 * 1024)
/* The id libqos gives the virtio-blk device */
#define ICE_QOS_DEV_ID      "drv0"

/**
 * IceEnv:
 * @img: host path of the disk image
 * @blkdebug: blkdebug rules, or %NULL
 * @qsd: the transport: the qemu-storage-daemon whose vhost-user-blk
 *       export holds the engine, or %NULL for QEMU's virtio-blk device
 *
 * The data argument of every test; freed when the test ends.
 */
typedef struct IceEnv {
    char *img;
    char *blkdebug;
    IceQsd *qsd;
} IceEnv;

/* ---- set-up: qos "before" callbacks and their building blocks ---- */

/**
 * ice_qos_setup_full:
 * @props: -global options for virtio-blk-device, space separated
 * @drive: -drive options ending with the key that takes the image's path
 * @extra: more command line
 *
 * Set up a virtio-blk test: a fresh image as drive0, the secret boot-key
 * (the NIST SP 800-38A AES-128 key) and a spare null-co drive.
 *
 * Returns: the test's IceEnv
 */
IceEnv *ice_qos_setup_full(GString *cmd_line, const char *props,
                           const char *drive, const char *extra);

/* The same with a raw, writable drive0 and nothing extra */
IceEnv *ice_qos_setup_props(GString *cmd_line, const char *props);

/* Before callback for virtio-blk; @arg: the -global options, or NULL */
void *ice_qos_setup(GString *cmd_line, void *arg);

/* Before callback: ice=on with 16 slots from slot 8 */
void *ice_qos_setup_slots16_off8(GString *cmd_line, void *arg);

/*
 * Before callback: ice-payload=all-types, the serial GET_ID returns
 * ("ice-all-types"), an unmapping drive
 */
void *ice_qos_setup_all_types(GString *cmd_line, void *arg);

/**
 * ice_qos_setup_vhost_user:
 * @arg: more export options, each after a ',', or %NULL
 *
 * Before callback for vhost-user-blk: vhost-user-blk-pci,ice=on (the id
 * and chardev libqos gives it) connected to a qemu-storage-daemon export
 * of a fresh image with ice=on.
 */
void *ice_qos_setup_vhost_user(GString *cmd_line, void *arg);

/* ---- requests on global_qtest (libqos/virtio-blk-ice.h) ---- */

/* ice_req_submit(), ice_req_finish(), ice_req_wait_all(), ice_req_do() */
void ice_qos_submit(QVirtioDevice *dev, QGuestAllocator *alloc,
                    QVirtQueue *vq, IceReq *r);
uint8_t ice_qos_finish(QGuestAllocator *alloc, IceReq *r);
void ice_qos_wait_all(QVirtioDevice *dev, QVirtQueue *vq, IceReq *r, int n);
uint8_t ice_qos_do(QVirtioDevice *dev, QGuestAllocator *alloc,
                   QVirtQueue *vq, IceReq *r);

/**
 * ice_qos_rw:
 * @type: VIRTIO_BLK_T_OUT or VIRTIO_BLK_T_IN
 * @offset: in bytes; the request's sector is @offset / 512
 * @split: as IceReq.split
 *
 * Write @buf, or read into it, with the crypto payload @slot, @activate
 * and @dun.
 *
 * Returns: the status byte
 */
uint8_t ice_qos_rw(QVirtioDevice *dev, QGuestAllocator *alloc,
                   QVirtQueue *vq, uint32_t type, uint64_t offset,
                   uint8_t *buf, size_t len, uint8_t slot,
                   uint8_t activate, uint64_t dun, const size_t *split);

/* ---- keys, where @env's engine is ---- */

/* The id QMP finds the engine by: the export's or the device's */
const char *ice_qos_id(const IceEnv *env);

/* object-add a base64 secret @id holding @len bytes of @key */
void ice_qos_add_secret(const IceEnv *env, const char *id,
                        const uint8_t *key, size_t len);

/* Program a slot; returns %NULL or the error description (g_free() it) */
char *ice_qos_program(const IceEnv *env, unsigned slot, const char *alg,
                      unsigned bits, unsigned dus, const char *secret);

/* The same, which must succeed */
void ice_qos_program_ok(const IceEnv *env, unsigned slot, const char *alg,
                        unsigned bits, unsigned dus, const char *secret);

/* Load a vector's key under @name and program it into @slot */
void ice_qos_program_kat(const IceEnv *env, const IceKat *t, unsigned slot,
                         const char *name);

/* ---- QMP to QEMU ---- */

/**
 * ice_qos_qmp_error:
 * @args: the arguments, in JSON
 *
 * Run @cmd on global_qtest.
 *
 * Returns: %NULL on success, else the error's description (g_free() it)
 */
char *ice_qos_qmp_error(const char *cmd, const char *args);

#endif /* TESTS_QTEST_VIRTIO_BLK_ICE_QOS_H */
