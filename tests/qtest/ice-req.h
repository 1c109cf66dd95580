/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Guest-side virtio-blk requests with the VIRTIO_BLK_F_ICE crypto payload,
 * for the inline crypto qtests and the ice-io tool
 */

#ifndef TESTS_QTEST_ICE_REQ_H
#define TESTS_QTEST_ICE_REQ_H

#include "libqtest.h"
#include "libqos/virtio.h"

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

#endif /* TESTS_QTEST_ICE_REQ_H */
