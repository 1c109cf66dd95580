/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * VIRTIO_BLK_F_ICE, version 2 of the proposal: our part of its encoding
 *
 * Everything this project reads or writes in the v2 wire format is here:
 * which requests carry the 16-byte crypto payload and how it is read,
 * the answer to GET_CRYPTO_CAPABILITIES (the engine's capability table
 * packed as v2 words) and the configuration field.  The structures and
 * numbers themselves (feature bit, request type, struct
 * virtio_blk_crypto_payload) are in standard-headers/linux/virtio_blk.h.
 * Both virtio-blk request processors use it: the device
 * (hw/block/ice/virtio-blk-ice.c) and the vhost-user-blk export
 * (block/export/ice-export.c).  The values are wire, migration and
 * ice-keybox register values: frozen.  A later revision of the proposal
 * gets files of its own beside these.
 */

#ifndef BLOCK_ICE_VIRTIO_V2_H
#define BLOCK_ICE_VIRTIO_V2_H

#include "block/ice-request.h"

/**
 * ice_v2_cap_word:
 * @cap: a row of the engine's capability table
 *
 * Returns: @cap as a capability word of GET_CRYPTO_CAPABILITIES, before
 * byte swapping: algorithm in bits 31:24, data unit size mask in 23:16,
 * key size in 15:8
 */
uint32_t ice_v2_cap_word(const IceCap *cap);

struct virtio_blk_config;

/**
 * ice_v2_fill_config:
 * @engine: the device's engine
 * @cfg: the configuration space being built
 * @big_endian: the transport's byte order, as for ice_v2_parse_payload()
 *
 * Fill in the crypto field: the number of slots in bits 15:8 of
 * slot_info, the first slot in bits 7:0, reserved 0.  The field holds
 * these values whenever the feature is offered, negotiated or not
 * (decision 11).
 */
void ice_v2_fill_config(const IceEngine *engine,
                        struct virtio_blk_config *cfg, bool big_endian);

/**
 * ice_v2_carries_payload:
 * @layout: the device's payload layout
 * @type: the request type with VIRTIO_BLK_T_OUT and VIRTIO_BLK_T_BARRIER
 *        masked, as virtio-blk dispatches it
 *
 * Returns: whether the payload follows the request's header
 */
bool ice_v2_carries_payload(IcePayloadLayout layout, uint32_t type);

/**
 * ice_v2_parse_payload:
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
int ice_v2_parse_payload(IceRequest *r, IcePayloadLayout layout,
                         uint32_t type, const struct iovec *out_iov,
                         unsigned out_num, bool big_endian);

/**
 * ice_v2_get_caps:
 * @engine: the device's engine
 * @in_iov: the device-writable data buffers, status byte excluded
 * @in_num: number of elements in @in_iov
 * @big_endian: the transport's byte order, as for ice_v2_parse_payload()
 * @trace_id: names the request in traces
 *
 * Answer GET_CRYPTO_CAPABILITIES of a driver that negotiated the
 * feature: a count byte, then as many capability words as fit
 * (decision 7).
 *
 * Returns: VIRTIO_BLK_S_OK, or VIRTIO_BLK_S_IOERR (nothing written) if
 * the buffer is not 4n + 1 bytes
 */
uint8_t ice_v2_get_caps(IceEngine *engine, const struct iovec *in_iov,
                        unsigned in_num, bool big_endian,
                        const void *trace_id);

#endif /* BLOCK_ICE_VIRTIO_V2_H */
