/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * virtio-blk inline crypto engine hooks for builds without libgcrypt:
 * ice=on fails at realize, everything else is plain virtio-blk
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/virtio/virtio-blk.h"

bool virtio_blk_ice_realize(VirtIOBlock *s, Error **errp)
{
    if (virtio_has_feature(s->host_features, VIRTIO_BLK_F_ICE)) {
        error_setg(errp, "ice=on needs QEMU built with libgcrypt "
                   "(configure --enable-gcrypt)");
        return false;
    }
    if (s->ice.preload) {
        error_setg(errp, "ice-preload needs ice=on");
        return false;
    }
    return true;
}

void virtio_blk_ice_unrealize(VirtIOBlock *s)
{
}

void virtio_blk_ice_update_config(VirtIOBlock *s,
                                  struct virtio_blk_config *cfg)
{
}

int virtio_blk_ice_parse_payload(VirtIOBlockReq *req,
                                 const struct iovec *out_iov,
                                 unsigned out_num)
{
    return 0;   /* the feature is never offered */
}

bool virtio_blk_ice_check_rw(VirtIOBlockReq *req)
{
    return true;
}

bool virtio_blk_ice_submit_rw(VirtIOBlockReq *req, bool is_write,
                              BlockCompletionFunc *cb)
{
    return false;
}

void virtio_blk_ice_release_request(VirtIOBlockReq *req)
{
}

uint8_t virtio_blk_ice_get_caps(VirtIOBlockReq *req, struct iovec *in_iov,
                                unsigned in_num)
{
    return VIRTIO_BLK_S_UNSUPP;
}

/* No subsections: a stream with slots fails to load, as it should */
const VMStateDescription vmstate_virtio_blk_ice = {
    .name = "virtio-blk-ice",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_END_OF_LIST()
    },
};
