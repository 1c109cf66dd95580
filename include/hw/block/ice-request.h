/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The transport-free rules of a VIRTIO_BLK_F_ICE request
 *
 * Which requests carry the 16-byte crypto payload, the checks a read or
 * write with activate=1 passes before any I/O (decisions 2 and 4 of
 * docs/system/devices/virtio-blk-ice.rst) and the answer to
 * GET_CRYPTO_CAPABILITIES (decision 7).  A virtio-blk request processor
 * reads the payload with its own byte order, calls these, and runs the
 * accepted crypto requests with ice_rw_start() (hw/block/ice/datapath.h).
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
 * ice_request_caps:
 * @engine: the device's engine
 * @len: bytes of the device-writable data buffer, status byte excluded
 * @caps: where to store the capability words
 * @trace_id: names the request in traces
 *
 * GET_CRYPTO_CAPABILITIES: the buffer receives a count byte, then that
 * many capability words in the transport's byte order.
 *
 * Returns: how many words of @caps to write, or -1 if @len is not
 * 4n + 1 bytes (VIRTIO_BLK_S_IOERR)
 */
int ice_request_caps(IceEngine *engine, size_t len,
                     uint32_t caps[ICE_CAPS_MAX], const void *trace_id);

#endif /* HW_BLOCK_ICE_REQUEST_H */
