/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * VIRTIO_BLK_F_ICE, version 2 of the proposal: the payload, the
 * capabilities answer and the configuration field (see
 * include/block/ice-virtio-v2.h)
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/iov.h"
#include "qemu/log.h"
#include "standard-headers/linux/virtio_blk.h"
#include "block/ice-virtio-v2.h"
#include "trace.h"

uint32_t ice_v2_cap_word(const IceCap *cap)
{
    return (uint32_t)cap->alg << 24 | (uint32_t)cap->dus_mask << 16 |
           (uint32_t)cap->key_size << 8;
}

void ice_v2_fill_config(const IceEngine *engine,
                        struct virtio_blk_config *cfg, bool big_endian)
{
    uint16_t slot_info = ice_engine_num_slots(engine) << 8 |
                         ice_engine_slot_offset(engine);

    cfg->crypto.slot_info = big_endian ? cpu_to_be16(slot_info) :
                                         cpu_to_le16(slot_info);
    cfg->crypto.reserved = 0;
}

bool ice_v2_carries_payload(IcePayloadLayout layout, uint32_t type)
{
    /*
     * Only IN, OUT (IN with the OUT bit masked) and FLUSH carry it
     * (decision 10), unless ice-payload=all-types asks for every type
     */
    return layout == ICE_PAYLOAD_LAYOUT_ALL_TYPES ||
           type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_FLUSH;
}

int ice_v2_parse_payload(IceRequest *r, IcePayloadLayout layout,
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
    if (!ice_v2_carries_payload(layout, type)) {
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

uint8_t ice_v2_get_caps(IceEngine *engine, const struct iovec *in_iov,
                        unsigned in_num, bool big_endian,
                        const void *trace_id)
{
    size_t len = iov_size(in_iov, in_num);
    IceCap caps[ICE_CAPS_MAX];
    uint8_t buf[1 + 4 * ICE_CAPS_MAX];
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
            stl_be_p(buf + 1 + 4 * i, ice_v2_cap_word(&caps[i]));
        } else {
            stl_le_p(buf + 1 + 4 * i, ice_v2_cap_word(&caps[i]));
        }
    }
    iov_from_buf(in_iov, in_num, 0, buf, 1 + 4 * n);
    return VIRTIO_BLK_S_OK;
}
