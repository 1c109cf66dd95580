/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto engine of a vhost-user-blk export (see ice-export.h).
 * vhost-user is a modern virtio transport: every field is little endian.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "standard-headers/linux/virtio_blk.h"
#include "block/ice-datapath.h"
#include "block/ice-host.h"
#include "block/ice-registry.h"
#include "block/ice-virtio-v2.h"
#include "ice-export.h"
#include "trace/trace-block_ice.h"

struct IceExport {
    char *id;
    IcePayloadLayout payload;
    bool negotiated;            /* the driver acknowledged VIRTIO_BLK_F_ICE */
    IceEngine *engine;
    IceDataPath *datapath;
    IceRegistration reg;        /* QMP finds the engine by the export's id */
};

IceExport *ice_export_new(const char *id, BlockBackend *blk,
                          const IceExportOptions *opts, Error **errp)
{
    ERRP_GUARD();
    unsigned num_slots = opts->has_ice_slots ? opts->ice_slots :
                                              ICE_SLOTS_DEFAULT;
    unsigned slot_offset = opts->has_ice_slot_offset ?
                           opts->ice_slot_offset : 0;
    uint64_t bounce_limit = opts->has_ice_bounce_limit ?
                            opts->ice_bounce_limit :
                            ICE_BOUNCE_LIMIT_DEFAULT;
    IceExport *ie;

    if (!opts->ice) {
        if (opts->ice_preload || opts->has_ice_slots ||
            opts->has_ice_slot_offset || opts->has_ice_payload ||
            opts->has_ice_bounce_limit) {
            error_setg(errp, "ice-* options need ice=on");
        }
        return NULL;
    }
    if (!ice_host_check_geometry(num_slots, slot_offset, bounce_limit,
                                 errp)) {
        return NULL;
    }

    ie = g_new0(IceExport, 1);
    ie->id = g_strdup(id);
    ie->payload = opts->has_ice_payload ? opts->ice_payload :
                                          ICE_PAYLOAD_LAYOUT_SPEC;
    ie->engine = ice_engine_new(num_slots, slot_offset);
    ie->datapath = ice_datapath_new(blk, bounce_limit,
                                    ICE_OFFLOAD_MIN_DEFAULT);
    ie->reg = (IceRegistration) {
        .kind = "vhost-user-blk export",
        .id = ie->id,
        .engine = ie->engine,
        .has_payload = true,
        .payload = ie->payload,
    };
    if (!ice_registry_add(&ie->reg, errp)) {
        ice_export_free(ie);
        return NULL;
    }
    if (opts->ice_preload &&
        !ice_host_load_slots(ie->engine, opts->ice_preload, errp)) {
        error_prepend(errp, "ice-preload: ");
        ice_export_free(ie);
        return NULL;
    }
    return ie;
}

void ice_export_free(IceExport *ie)
{
    if (!ie) {
        return;
    }
    ice_registry_remove(&ie->reg);
    ice_engine_free(ie->engine);
    ice_datapath_free(ie->datapath);
    g_free(ie->id);
    g_free(ie);
}

uint64_t ice_export_features(IceExport *ie)
{
    return ie ? 1ull << VIRTIO_BLK_F_ICE : 0;
}

void ice_export_set_features(IceExport *ie, uint64_t features)
{
    if (ie) {
        ie->negotiated = features & (1ull << VIRTIO_BLK_F_ICE);
    }
}

void ice_export_update_config(IceExport *ie, struct virtio_blk_config *cfg)
{
    if (ie) {
        ice_v2_fill_config(ie->engine, cfg, false);
    }
}

int ice_export_parse_payload(IceExport *ie, IceRequest *r, uint32_t type,
                             const struct iovec *out_iov, unsigned out_num)
{
    if (!ie || !ie->negotiated) {
        return 0;
    }
    /* FLUSH_OUT (5) consumes a payload, then the export answers UNSUPP */
    return ice_v2_parse_payload(r, ie->payload, type, out_iov, out_num,
                                false);
}

uint8_t ice_export_get_caps(IceExport *ie, const struct iovec *in_iov,
                            unsigned in_num, const void *trace_id)
{
    /* Decision 7 */
    if (!ie || !ie->negotiated) {
        return VIRTIO_BLK_S_UNSUPP;
    }
    return ice_v2_get_caps(ie->engine, in_iov, in_num, false, trace_id);
}

bool coroutine_fn ice_export_co_rw(IceExport *ie, IceRequest *r,
                                   int64_t offset, QEMUIOVector *qiov,
                                   bool is_write, uint8_t *status)
{
    int ret;

    if (!ie || !ie->negotiated) {
        return false;
    }
    /* Decisions 2 and 4: rejected before any I/O */
    if (!ice_request_check(r, ie->engine, offset, qiov->size, r)) {
        *status = VIRTIO_BLK_S_IOERR;
        return true;
    }
    if (!r->key) {
        return false;
    }
    trace_ice_export_rw(r, is_write, r->slot, r->dun,
                        qiov->size / ice_key_config(r->key)->data_unit_size);
    ret = ice_co_rw(&(IceRw) {
        .dp = ie->datapath,
        .key = r->key,
        .dun = r->dun,
        .offset = offset,
        .qiov = qiov,
        .is_write = is_write,
    });
    ice_request_release(r);
    *status = ret < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
    return true;
}
