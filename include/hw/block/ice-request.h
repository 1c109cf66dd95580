/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The transport-free rules of a VIRTIO_BLK_F_ICE request
 *
 * Which requests carry the 16-byte crypto payload, the checks a read or
 * write with activate=1 passes before any I/O (decisions 2 and 4 of
 * docs/system/devices/virtio-blk-ice.rst) and the answer to
 * GET_CRYPTO_CAPABILITIES (decision 7).  Both virtio-blk request
 * processors use them: the device (hw/block/virtio-blk.c) and the
 * vhost-user-blk export (block/export/virtio-blk-handler.c).  They run
 * the accepted crypto requests through hw/block/ice/datapath.h.
 */

#ifndef HW_BLOCK_ICE_REQUEST_H
#define HW_BLOCK_ICE_REQUEST_H

#include "hw/block/ice-engine.h"

/**
 * IceRequest:
 * @has_payload: the request carried a crypto payload
 * @slot: payload field
 * @activate: payload field
 * @dun: payload field, data unit number
 * @key: once accepted with activate=1, the slot's key, held until
 *       ice_request_release()
 * @key_slot: the slot @key came from
 *
 * Per-request state; all zero for a new request.
 */
typedef struct IceRequest {
    bool has_payload;
    uint8_t slot;
    uint8_t activate;
    uint64_t dun;
    IceKey *key;
    uint8_t key_slot;
} IceRequest;

/**
 * ice_request_carries_payload:
 * @layout: the device's payload layout
 * @type: the request type with VIRTIO_BLK_T_OUT and VIRTIO_BLK_T_BARRIER
 *        masked, as virtio-blk dispatches it
 *
 * Returns: whether the payload follows the request's header
 */
bool ice_request_carries_payload(IcePayloadLayout layout, uint32_t type);

/**
 * ice_request_parse_payload:
 * @r: the request's state; its payload fields are set here
 * @layout: the device's payload layout
 * @type: the request type as the driver sent it
 * @out_iov: the driver-readable buffers, the 16-byte header included
 * @out_num: number of elements in @out_iov
 * @big_endian: the transport's byte order is big endian (a legacy device
 *              of a big-endian guest)
 *
 * Call only when VIRTIO_BLK_F_ICE was negotiated.  Reserved fields are
 * ignored (decision 6); multi-byte fields follow the header's byte order
 * (decision 8).
 *
 * Returns: the payload bytes to skip after the header (0 or 16), or
 * -EINVAL when the driver-readable part is too short to hold them
 */
int ice_request_parse_payload(IceRequest *r, IcePayloadLayout layout,
                              uint32_t type, const struct iovec *out_iov,
                              unsigned out_num, bool big_endian);

/**
 * ice_request_check:
 * @r: a read or write whose payload was read (or that had none)
 * @engine: the device's engine
 * @offset: byte offset of the request, already checked against the disk
 * @len: byte length of its data
 * @trace_id: names the request in traces, e.g. its address
 *
 * With activate=1, take a reference to the slot's key into @r->key and
 * check the request against it; without a payload or with activate=0,
 * accept it as plain I/O.  A request checked again (restarted after
 * werror/rerror=stop) keeps the key it was first accepted with, as long
 * as it still names the same slot.  A rejection is traced and logged as
 * a guest error, and leaves @r without a key.
 *
 * Returns: false if the request must fail with VIRTIO_BLK_S_IOERR
 */
bool ice_request_check(IceRequest *r, IceEngine *engine, uint64_t offset,
                       uint64_t len, const void *trace_id);

/* Drop @r's key reference, if any */
void ice_request_release(IceRequest *r);

/**
 * ice_request_get_caps:
 * @engine: the device's engine
 * @in_iov: the device-writable data buffers, status byte excluded
 * @in_num: number of elements in @in_iov
 * @big_endian: the transport's byte order, as for
 *              ice_request_parse_payload()
 * @trace_id: names the request in traces
 *
 * Answer GET_CRYPTO_CAPABILITIES of a driver that negotiated the
 * feature: a count byte, then as many capability words as fit.
 *
 * Returns: VIRTIO_BLK_S_OK, or VIRTIO_BLK_S_IOERR (nothing written) if
 * the buffer is not 4n + 1 bytes
 */
uint8_t ice_request_get_caps(IceEngine *engine, const struct iovec *in_iov,
                             unsigned in_num, bool big_endian,
                             const void *trace_id);

#endif /* HW_BLOCK_ICE_REQUEST_H */
