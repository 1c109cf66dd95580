/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libqos helpers for the virtio-blk inline crypto engine (VIRTIO_BLK_F_ICE),
 * the guest side: requests with the 32-byte header and crypto payload
 * (capabilities, malformed layouts included), submitting and waiting for
 * them, feature negotiation and bring-up of a virtio-blk-pci disk.  The
 * host side (images, qemu-storage-daemon, QMP keys) is in ice-host.h.
 */

#ifndef TESTS_QTEST_LIBQOS_VIRTIO_BLK_ICE_H
#define TESTS_QTEST_LIBQOS_VIRTIO_BLK_ICE_H

#include "../libqtest.h"
#include "libqos-pc.h"
#include "virtio.h"
#include "virtio-pci.h"

/* ---- requests ---- */

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
