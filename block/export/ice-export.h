/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto engine of a vhost-user-blk export (VIRTIO_BLK_F_ICE)
 *
 * The export (block/export/vhost-user-blk-server.c) offers the feature
 * bit and the crypto field of the configuration space; its request
 * processor (block/export/virtio-blk-handler.c) reads the payload and
 * runs crypto requests with the same rules and data path as the
 * virtio-blk device.  Keys come from secret objects: the ice-preload
 * option, and the QMP commands naming the export's id.
 *
 * Every function takes a NULL export, one without ice=on, and then
 * behaves as if the feature was not negotiated.
 */

#ifndef BLOCK_EXPORT_ICE_EXPORT_H
#define BLOCK_EXPORT_ICE_EXPORT_H

#include "block/aio.h"
#include "block/ice-request.h"

typedef struct IceExport IceExport;
struct virtio_blk_config;

/**
 * ice_export_new:
 * @id: the export's id, by which QMP finds it
 * @blk: the export's BlockBackend
 * @opts: the export's ice-* options
 * @errp: pointer to a NULL-initialized error object
 *
 * Returns: the engine of an export with ice=on (free it with
 * ice_export_free()), or NULL, with @errp set if an ice-* option is wrong
 */
IceExport *ice_export_new(const char *id, BlockBackend *blk,
                          const IceExportOptions *opts, Error **errp);

/* Wipe the keys and free @ie, or do nothing if NULL; no request may run */
void ice_export_free(IceExport *ie);

/* Feature bits the export offers in addition to its own */
uint64_t ice_export_features(IceExport *ie);

/* The driver acknowledged @features (VHOST_USER_SET_FEATURES) */
void ice_export_set_features(IceExport *ie, uint64_t features);

/* Fill in the crypto field of the configuration space (little endian) */
void ice_export_update_config(IceExport *ie, struct virtio_blk_config *cfg);

/**
 * ice_export_parse_payload:
 * @r: the request's state, all zero for a new request
 * @type: the request type as the driver sent it
 * @out_iov: the driver-readable buffers, the 16-byte header included
 * @out_num: number of elements in @out_iov
 *
 * Returns: the payload bytes to skip after the header (0 or 16), or
 * -EINVAL for a request too short to hold them
 */
int ice_export_parse_payload(IceExport *ie, IceRequest *r, uint32_t type,
                             const struct iovec *out_iov, unsigned out_num);

/**
 * ice_export_get_caps:
 * @in_iov: the device-writable data buffers, status byte excluded
 * @in_num: number of elements in @in_iov
 * @trace_id: names the request in traces
 *
 * Returns: the status of a GET_CRYPTO_CAPABILITIES request
 */
uint8_t ice_export_get_caps(IceExport *ie, const struct iovec *in_iov,
                            unsigned in_num, const void *trace_id);

/**
 * ice_export_co_rw:
 * @r: the request, with its payload parsed
 * @offset: byte offset, already checked against the disk
 * @qiov: the data, guest memory
 * @is_write: direction
 * @status: where the status of a handled request goes
 *
 * Check a read or write against the crypto rules and, with activate=1,
 * run it through the engine.  A rejected request does no I/O at all.
 * The key reference is dropped before returning.
 *
 * Returns: false for plain I/O, which the caller runs; true if the
 * request was handled here, its status in @status
 */
bool coroutine_fn ice_export_co_rw(IceExport *ie, IceRequest *r,
                                   int64_t offset, QEMUIOVector *qiov,
                                   bool is_write, uint8_t *status);

#endif /* BLOCK_EXPORT_ICE_EXPORT_H */
