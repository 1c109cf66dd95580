/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libqos helpers for the virtio-blk inline crypto engine (VIRTIO_BLK_F_ICE):
 * building, submitting and waiting for requests, bring-up of a disk
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "standard-headers/linux/virtio_blk.h"
#include "standard-headers/linux/virtio_ring.h"
#include "virtio-blk-ice.h"

/* ---- requests ---- */

/* Requests whose data the device reads; for the others it writes it */
static bool ice_req_data_out(const IceReq *r)
{
    return r->type == VIRTIO_BLK_T_OUT || r->type == VIRTIO_BLK_T_DISCARD ||
           r->type == VIRTIO_BLK_T_WRITE_ZEROES ||
           r->type == VIRTIO_BLK_T_SECURE_ERASE;
}

static size_t ice_req_hdr_len(const IceReq *r)
{
    return r->hdr_len ? r->hdr_len : (r->payload ? 32 : 16);
}

void ice_req_submit(QTestState *qts, QVirtioDevice *dev,
                    QGuestAllocator *alloc, QVirtQueue *vq, IceReq *r)
{
    size_t hlen = ice_req_hdr_len(r);
    bool dev_writes = !ice_req_data_out(r) ^ r->reverse;
    uint8_t hdr[32] = { 0 };
    uint8_t status = 0xff;
    size_t off = 0;
    uint32_t ndesc;

    /* virtio 1.0 layout, little-endian like every device libqos drives */
    stl_le_p(hdr, r->type);
    stq_le_p(hdr + 8, r->sector);
    hdr[16] = r->slot;
    hdr[17] = r->activate;
    stw_le_p(hdr + 18, 0xa5a5);             /* reserved: must be ignored */
    stl_le_p(hdr + 20, 0x5a5a5a5a);
    stq_le_p(hdr + 24, r->dun);

    r->addr = guest_alloc(alloc, hlen + r->len + 1);
    qtest_memwrite(qts, r->addr, hdr, MIN(hlen, sizeof(hdr)));
    if (r->data && r->len) {
        /* base64: much faster than the hex of qtest_memwrite() */
        qtest_bufwrite(qts, r->addr + hlen, r->data, r->len);
    }
    qtest_memwrite(qts, r->addr + hlen + r->len, &status, 1);

    /*
     * qvirtqueue_add() takes descriptors in order and never wraps: start
     * again at 0 when this chain would run past the table.  Callers keep
     * at most a few short chains in flight, so they do not collide.
     */
    ndesc = 3;              /* header, status, what the split leaves */
    for (int i = 0; r->split && r->split[i]; i++) {
        ndesc++;
    }
    g_assert_cmpuint(ndesc, <=, vq->size);
    if (vq->free_head + ndesc > vq->size) {
        vq->free_head = 0;
        vq->num_free = vq->size;
    }

    r->head = qvirtqueue_add(qts, vq, r->addr, hlen, false, true);
    for (int i = 0; off < r->len; i++) {
        size_t n = r->split && r->split[i] ? r->split[i] : r->len - off;

        if (n == ICE_REQ_ZERO_DESC) {
            qvirtqueue_add(qts, vq, r->addr + hlen + off, 0, dev_writes,
                           true);
            continue;
        }
        n = MIN(n, r->len - off);
        qvirtqueue_add(qts, vq, r->addr + hlen + off, n, dev_writes, true);
        off += n;
    }
    qvirtqueue_add(qts, vq, r->addr + hlen + r->len, 1, true, false);
    qvirtqueue_kick(qts, dev, vq, r->head);
}

uint8_t ice_req_finish(QTestState *qts, QGuestAllocator *alloc, IceReq *r)
{
    size_t hlen = ice_req_hdr_len(r);
    uint8_t status = qtest_readb(qts, r->addr + hlen + r->len);

    if (!ice_req_data_out(r) && r->data && r->len) {
        qtest_bufread(qts, r->addr + hlen, r->data, r->len);
    }
    guest_free(alloc, r->addr);
    return status;
}

uint8_t ice_req_do(QTestState *qts, QVirtioDevice *dev,
                   QGuestAllocator *alloc, QVirtQueue *vq, IceReq *r)
{
    ice_req_submit(qts, dev, alloc, vq, r);
    qvirtio_wait_used_elem(qts, dev, vq, r->head, NULL, ICE_REQ_TIMEOUT_US);
    return ice_req_finish(qts, alloc, r);
}

bool ice_req_wait(QTestState *qts, QVirtioDevice *dev, QVirtQueue *vq,
                  const IceReq *r, gint64 timeout_us)
{
    gint64 start = g_get_monotonic_time();
    uint32_t head;

    for (;;) {
        dev->bus->get_queue_isr_status(dev, vq);
        if (qvirtqueue_get_buf(qts, vq, &head, NULL)) {
            g_assert_cmpuint(head, ==, r->head);
            return true;
        }
        if (g_get_monotonic_time() - start > timeout_us) {
            return false;
        }
        g_usleep(50);
    }
}

void ice_req_wait_all(QTestState *qts, QVirtioDevice *dev, QVirtQueue *vq,
                      const IceReq *r, int n)
{
    gint64 start = g_get_monotonic_time();
    g_autofree uint32_t *heads = g_new(uint32_t, n);
    g_autofree bool *done = g_new0(bool, n);

    for (int i = 0; i < n; i++) {
        heads[i] = r[i].head;
    }
    while (ice_req_reap(qts, dev, vq, heads, done, n) < n) {
        g_assert(g_get_monotonic_time() - start <= ICE_REQ_TIMEOUT_US);
    }
}

int ice_req_reap(QTestState *qts, QVirtioDevice *dev, QVirtQueue *vq,
                 const uint32_t *heads, bool *done, int n)
{
    uint32_t head;
    int count = 0;

    dev->bus->get_queue_isr_status(dev, vq);
    while (qvirtqueue_get_buf(qts, vq, &head, NULL)) {
        int i = 0;

        while (i < n && heads[i] != head) {
            i++;
        }
        g_assert_cmpint(i, <, n);
        g_assert_false(done[i]);
        done[i] = true;
    }
    for (int i = 0; i < n; i++) {
        count += done[i];
    }
    return count;
}

QVirtQueue *ice_req_start_device(QVirtioDevice *dev, QGuestAllocator *alloc,
                                 bool accept_ice)
{
    QVirtQueue *vq;

    ice_req_start_queues(dev, alloc, accept_ice, &vq, 1);
    return vq;
}

void ice_req_start_queues(QVirtioDevice *dev, QGuestAllocator *alloc,
                          bool accept_ice, QVirtQueue **vqs, int n)
{
    uint64_t features = qvirtio_get_features(dev);

    features &= ~(QVIRTIO_F_BAD_FEATURE |
                  (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
                  (1ull << VIRTIO_RING_F_EVENT_IDX) |
                  (1ull << VIRTIO_BLK_F_SCSI));
    if (!accept_ice) {
        features &= ~(1ull << VIRTIO_BLK_F_ICE);
    }
    qvirtio_set_features(dev, features);
    for (int i = 0; i < n; i++) {
        vqs[i] = qvirtqueue_setup(dev, alloc, i);
    }
    qvirtio_set_driver_ok(dev);
}

/* ---- a virtio-blk-pci disk of a PC machine ---- */

void ice_pci_disk_start(IcePciDisk *d, QOSState *qs, int devfn,
                        bool accept_ice)
{
    memset(d, 0, sizeof(*d));
    virtio_pci_init(&d->pci, qs->pcibus, &(QPCIAddress) { .devfn = devfn });
    qvirtio_pci_device_enable(&d->pci);
    d->dev = &d->pci.vdev;
    qvirtio_start_device(d->dev);
    d->ice = accept_ice &&
             (qvirtio_get_features(d->dev) & (1ull << VIRTIO_BLK_F_ICE));
    d->vq = ice_req_start_device(d->dev, &qs->alloc, accept_ice);
}

void ice_pci_disk_stop(IcePciDisk *d, QOSState *qs)
{
    qvirtqueue_cleanup(d->dev->bus, d->vq, &qs->alloc);
    qvirtio_pci_device_disable(&d->pci);
}
