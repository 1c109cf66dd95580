/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * virtio-blk inline crypto engine (VIRTIO_BLK_F_ICE): request path
 *
 * Reads the crypto payload, answers VIRTIO_BLK_T_GET_CRYPTO_CAPABILITIES,
 * checks crypto requests before any I/O is issued (the transport-free
 * rules of request.c), and runs accepted ones in a coroutine through the
 * bounded data path of datapath.c.  Section numbers ("decision N") refer
 * to the device decisions in docs/system/devices/virtio-blk-ice.rst.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "hw/virtio/virtio-blk.h"
#include "hw/core/qdev-prop-internal.h"
#include "hw/virtio/virtio-access.h"
#include "block/ice-datapath.h"
#include "block/ice-host.h"
#include "block/ice-registry.h"
#include "block/ice-virtio-v2.h"
#include "virtio-blk-ice-internal.h"
#include "trace.h"

static bool virtio_blk_ice_negotiated(VirtIOBlock *s)
{
    return virtio_vdev_has_feature(VIRTIO_DEVICE(s), VIRTIO_BLK_F_ICE);
}

const PropertyInfo virtio_blk_ice_prop_payload = {
    .type = "IcePayloadLayout",
    .description = "which requests carry the crypto payload: spec "
                   "(IN, OUT, FLUSH) or all-types",
    .enum_table = &IcePayloadLayout_lookup,
    .get = qdev_propinfo_get_enum,
    .set = qdev_propinfo_set_enum,
    .set_default_value = qdev_propinfo_set_default_value_enum,
};

/*
 * The device a user names: virtio-blk-pci and virtio-blk-ccw hold this
 * one as their "virtio-backend" child
 */
static Object *virtio_blk_ice_outer(VirtIOBlock *s)
{
    Object *parent = OBJECT(s)->parent;

    if (parent && object_dynamic_cast(parent, TYPE_DEVICE) &&
        object_resolve_path_component(parent, "virtio-backend") == OBJECT(s)) {
        return parent;
    }
    return OBJECT(s);
}

/* Let the monitor find the engine by the device's qdev id or QOM paths */
static bool virtio_blk_ice_register(VirtIOBlock *s, Error **errp)
{
    Object *outer = virtio_blk_ice_outer(s);

    s->ice.reg = (IceRegistration) {
        .kind = "virtio-blk device",
        .id = DEVICE(outer)->id,
        .paths = { OBJECT(s), outer },
        .engine = s->ice.engine,
        .has_payload = true,
        .payload = s->ice.payload,
    };
    return ice_registry_add(&s->ice.reg, errp);
}

bool virtio_blk_ice_realize(VirtIOBlock *s, Error **errp)
{
    ERRP_GUARD();
    VirtIOBlkIce *ice = &s->ice;

    if (!virtio_has_feature(s->host_features, VIRTIO_BLK_F_ICE)) {
        if (ice->preload) {
            error_setg(errp, "ice-preload needs ice=on");
            return false;
        }
        return true;
    }
    if (!ice_host_check_geometry(ice->num_slots, ice->slot_offset,
                                 ice->bounce_limit, errp)) {
        return false;
    }

    ice->engine = ice_engine_new(ice->num_slots, ice->slot_offset);
    virtio_blk_ice_migration_init(s);
    ice->datapath = ice_datapath_new(s->conf.conf.blk, ice->bounce_limit,
                                     ice->offload_min);
    if (!virtio_blk_ice_register(s, errp)) {
        virtio_blk_ice_unrealize(s);
        return false;
    }
    if (ice->preload && !ice_host_load_slots(ice->engine, ice->preload,
                                             errp)) {
        error_prepend(errp, "ice-preload: ");
        virtio_blk_ice_unrealize(s);
        return false;
    }
    return true;
}

void virtio_blk_ice_unrealize(VirtIOBlock *s)
{
    VirtIOBlkIce *ice = &s->ice;

    if (!ice->engine) {
        return;
    }
    /*
     * Requests parked by werror/rerror=stop still hold the key they were
     * accepted with: drop it, so that it is wiped with the engine's.
     */
    for (VirtIOBlockReq *req = s->rq; req; req = req->next) {
        virtio_blk_ice_release_request(req);
    }
    ice_registry_remove(&ice->reg);
    ice_engine_free(ice->engine);
    ice->engine = NULL;
    ice_datapath_free(ice->datapath);
    ice->datapath = NULL;
    virtio_blk_ice_migration_cleanup(s);
}

void virtio_blk_ice_update_config(VirtIOBlock *s,
                                  struct virtio_blk_config *cfg)
{
    if (s->ice.engine) {
        ice_v2_fill_config(s->ice.engine, cfg,
                           virtio_access_is_big_endian(VIRTIO_DEVICE(s)));
    }
}

int virtio_blk_ice_parse_payload(VirtIOBlockReq *req,
                                 const struct iovec *out_iov,
                                 unsigned out_num)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(req->dev);

    req->ice.has_payload = false;
    if (!virtio_blk_ice_negotiated(req->dev)) {
        return 0;
    }
    return ice_v2_parse_payload(&req->ice, req->dev->ice.payload,
                                virtio_ldl_p(vdev, &req->out.type),
                                out_iov, out_num,
                                virtio_access_is_big_endian(vdev));
}

bool virtio_blk_ice_check_rw(VirtIOBlockReq *req)
{
    return ice_request_check(&req->ice, req->dev->ice.engine,
                             (uint64_t)req->sector_num << BDRV_SECTOR_BITS,
                             req->qiov.size, req);
}

bool virtio_blk_ice_submit_rw(VirtIOBlockReq *req, bool is_write,
                              BlockCompletionFunc *cb)
{
    VirtIOBlock *s = req->dev;
    VirtIOBlkIceReq *r = &req->ice;

    if (!r->key) {
        return false;
    }
    trace_virtio_blk_ice_rw(req, is_write, r->slot, r->dun,
                            req->qiov.size /
                            ice_key_config(r->key)->data_unit_size);
    ice_rw_start(&(IceRw) {
        .dp = s->ice.datapath,
        .key = r->key,
        .dun = r->dun,
        .offset = req->sector_num << BDRV_SECTOR_BITS,
        .qiov = &req->qiov,
        .is_write = is_write,
        /* Reads land in guest RAM, which may be registered */
        .read_flags = blk_ram_registrar_ok(&s->blk_ram_registrar) ?
                      BDRV_REQ_REGISTERED_BUF : 0,
        .cb = cb,
        .opaque = req,
    });
    return true;
}

void virtio_blk_ice_release_request(VirtIOBlockReq *req)
{
    ice_request_release(&req->ice);
}

uint8_t virtio_blk_ice_get_caps(VirtIOBlockReq *req, struct iovec *in_iov,
                                unsigned in_num)
{
    /* Decision 7 */
    if (!virtio_blk_ice_negotiated(req->dev)) {
        return VIRTIO_BLK_S_UNSUPP;
    }
    return ice_v2_get_caps(req->dev->ice.engine, in_iov, in_num,
                           virtio_access_is_big_endian(
                               VIRTIO_DEVICE(req->dev)),
                           req);
}

Object *virtio_blk_ice_find_disk(const char *id, IceEngine **engine,
                                 Error **errp)
{
    Object *obj, *vblk;
    VirtIOBlock *s;

    if (id[0] == '/') {
        obj = object_resolve_path(id, NULL);
    } else {
        obj = object_resolve_path_component(
            machine_get_container("peripheral"), id);
    }
    if (!obj) {
        error_setg(errp, "Device '%s' not found", id);
        return NULL;
    }
    vblk = object_dynamic_cast(obj, TYPE_VIRTIO_BLK);
    if (!vblk) {
        Object *child = object_resolve_path_component(obj, "virtio-backend");

        vblk = child ? object_dynamic_cast(child, TYPE_VIRTIO_BLK) : NULL;
    }
    if (!vblk) {
        error_setg(errp, "Device '%s' is not a virtio-blk device", id);
        return NULL;
    }
    s = VIRTIO_BLK(vblk);
    if (!s->ice.engine) {
        error_setg(errp, "Device '%s' does not have ice=on", id);
        return NULL;
    }
    *engine = s->ice.engine;
    return obj;
}
