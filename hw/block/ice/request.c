/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The transport-free rules of a VIRTIO_BLK_F_ICE request: which requests
 * carry the payload, the checks of a crypto read or write, and the
 * capabilities answer (see include/hw/block/ice-request.h)
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/bswap.h"
#include "qemu/iov.h"
#include "qemu/log.h"
#include "standard-headers/linux/virtio_blk.h"
#include "hw/block/ice-request.h"
#include "trace.h"

bool ice_request_carries_payload(IcePayloadLayout layout, uint32_t type)
{
    /*
     * Only IN, OUT (IN with the OUT bit masked) and FLUSH carry it
     * (decision 10), unless ice-payload=all-types asks for every type
     */
    return layout == ICE_PAYLOAD_LAYOUT_ALL_TYPES ||
           type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_FLUSH;
}

int ice_request_parse_payload(IceRequest *r, IcePayloadLayout layout,
                              uint32_t type, const struct iovec *out_iov,
                              unsigned out_num, bool big_endian)
{
    struct virtio_blk_crypto_payload payload;
    uint64_t dun;

    r->has_payload = false;
    /*
     * Masked as virtio-blk dispatches it, so that the legacy
     * VIRTIO_BLK_T_FLUSH_OUT (5), which the device handles as a FLUSH,
     * carries the payload of a FLUSH too
     */
    type &= ~(VIRTIO_BLK_T_OUT | VIRTIO_BLK_T_BARRIER);
    if (!ice_request_carries_payload(layout, type)) {
        return 0;
    }
    if (iov_to_buf(out_iov, out_num, sizeof(struct virtio_blk_outhdr),
                   &payload, sizeof(payload)) != sizeof(payload)) {
        return -EINVAL;
    }

    /* Decisions 6 and 8: reserved fields are ignored, fields byte-swapped */
    dun = big_endian ? ldq_be_p(&payload.data_unit_num) :
                       ldq_le_p(&payload.data_unit_num);
    r->has_payload = true;
    r->slot = payload.slot;
    r->activate = payload.activate;
    r->dun = dun;
    return sizeof(payload);
}

void ice_request_release(IceRequest *r)
{
    ice_key_unref(r->key);
    r->key = NULL;
}

/* Log a rejection as a guest error and drop the key; returns false */
static bool G_GNUC_PRINTF(2, 3)
ice_request_reject(IceRequest *r, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    qemu_log_mask(LOG_GUEST_ERROR, "virtio-blk: inline crypto request "
                  "rejected: %s\n", msg);
    ice_request_release(r);
    return false;
}

bool ice_request_check(IceRequest *r, IceEngine *engine, uint64_t offset,
                       uint64_t len, const void *trace_id)
{
    Error *err = NULL;

    /*
     * A request restarted after werror/rerror=stop keeps the key it was
     * accepted with, as long as the guest still names the same slot: a
     * slot reprogrammed while the VM was stopped must not change it.
     */
    if (r->key && !(r->has_payload && r->activate == 1 &&
                    r->slot == r->key_slot)) {
        ice_request_release(r);
    }

    /* Decision 2: activate 0 is plain I/O, 1 is crypto, anything else fails */
    if (!r->has_payload || r->activate == 0) {
        return true;
    }
    if (r->activate != 1) {
        trace_ice_request_err_activate(trace_id, r->activate);
        return ice_request_reject(r, "activate is %u", r->activate);
    }

    /* Decision 4: slot in range and programmed, alignment, DUN range */
    if (!r->key) {
        r->key = ice_engine_get_key(engine, r->slot, &err);
        if (!r->key) {
            trace_ice_request_err_slot(trace_id, r->slot);
            ice_request_reject(r, "%s", error_get_pretty(err));
            error_free(err);
            return false;
        }
        r->key_slot = r->slot;
    }
    if (!ice_key_check_request(r->key, offset, len, r->dun, &err)) {
        trace_ice_request_err_range(trace_id, r->slot, offset, len, r->dun,
                                    ice_key_config(r->key)->data_unit_size);
        ice_request_reject(r, "%s", error_get_pretty(err));
        error_free(err);
        return false;
    }
    return true;
}

uint8_t ice_request_get_caps(IceEngine *engine, const struct iovec *in_iov,
                             unsigned in_num, bool big_endian,
                             const void *trace_id)
{
    size_t len = iov_size(in_iov, in_num);
    uint32_t caps[ICE_CAPS_MAX];
    uint8_t buf[1 + sizeof(caps)];
    size_t n;

    /* Decision 7: a count byte, then as many whole words as fit */
    if (len < 1 || (len - 1) % 4) {
        trace_ice_request_err_caps_len(trace_id, len);
        qemu_log_mask(LOG_GUEST_ERROR, "virtio-blk: crypto capabilities "
                      "buffer of %zu bytes is not 4n+1 bytes\n", len);
        return VIRTIO_BLK_S_IOERR;
    }
    n = ice_engine_get_caps(engine, caps, ICE_CAPS_MAX);
    n = MIN(MIN(n, ICE_CAPS_MAX), (len - 1) / 4);
    trace_ice_request_caps(trace_id, len, n);

    buf[0] = n;
    for (size_t i = 0; i < n; i++) {
        if (big_endian) {
            stl_be_p(buf + 1 + 4 * i, caps[i]);
        } else {
            stl_le_p(buf + 1 + 4 * i, caps[i]);
        }
    }
    iov_from_buf(in_iov, in_num, 0, buf, 1 + 4 * n);
    return VIRTIO_BLK_S_OK;
}
