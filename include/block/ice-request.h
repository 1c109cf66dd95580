/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The transport-free rules of an inline crypto request
 *
 * A request names a slot, an activate value and the data unit number of
 * its first data unit, however its transport encodes them.  These are
 * the checks a read or write with activate=1 passes before any I/O
 * (decisions 2 and 4 of docs/system/devices/virtio-blk-ice.rst).  Every
 * front end uses them; accepted crypto requests run through
 * include/block/ice-datapath.h.
 */

#ifndef BLOCK_ICE_REQUEST_H
#define BLOCK_ICE_REQUEST_H

#include "block/ice-engine.h"

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

#endif /* BLOCK_ICE_REQUEST_H */
