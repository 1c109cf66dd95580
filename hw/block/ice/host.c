/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The host side of an inline crypto engine: keys from secret objects,
 * ice-preload, and the QMP commands (see include/hw/block/ice-host.h)
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-ice.h"
#include "qemu/cutils.h"
#include "crypto/secret_common.h"
#include "hw/block/ice-host.h"
#include "hw/block/ice-export.h"
#include "datapath.h"

bool ice_host_check_geometry(unsigned num_slots, unsigned slot_offset,
                             uint64_t bounce_limit, Error **errp)
{
    if (num_slots == 0 || num_slots > 255) {
        error_setg(errp, "ice-slots must be between 1 and 255");
        return false;
    }
    if (slot_offset + num_slots > 256) {
        error_setg(errp, "ice-slot-offset (%u) + ice-slots (%u) exceeds 256: "
                   "slot numbers are 8 bits wide", slot_offset, num_slots);
        return false;
    }
    if (bounce_limit < ICE_CHUNK_SIZE) {
        error_setg(errp, "ice-bounce-limit (%" PRIu64 ") must be at least "
                   "%u bytes, the size of one chunk", bounce_limit,
                   ICE_CHUNK_SIZE);
        return false;
    }
    return true;
}

bool ice_host_program(IceEngine *engine, unsigned slot,
                      const IceSlotConfig *cfg, const char *secret_id,
                      Error **errp)
{
    g_autofree uint8_t *key = NULL;
    size_t len = 0;
    bool ok;

    if (qcrypto_secret_lookup(secret_id, &key, &len, errp) < 0) {
        return false;
    }
    /* The engine validates slot, configuration and key, once */
    ok = ice_engine_program_slot(engine, slot, cfg, key, len, secret_id,
                                 errp);
    ice_wipe(key, len);
    return ok;
}

/* Parse one "SLOT:ALGORITHM:KEY_BITS:DATA_UNIT_SIZE:SECRET_ID" entry */
static bool ice_host_load_one(IceEngine *engine, const char *entry,
                              Error **errp)
{
    g_auto(GStrv) f = g_strsplit(entry, ":", -1);
    unsigned slot, bits, dus;
    IceSlotConfig cfg;

    if (g_strv_length(f) != 5 || !*f[4] ||
        qemu_strtoui(f[0], NULL, 10, &slot) < 0 ||
        qemu_strtoui(f[2], NULL, 10, &bits) < 0 ||
        qemu_strtoui(f[3], NULL, 10, &dus) < 0) {
        error_setg(errp, "'%s' is not SLOT:ALGORITHM:KEY_BITS:"
                   "DATA_UNIT_SIZE:SECRET_ID", entry);
        return false;
    }
    if (!ice_alg_parse(f[1], &cfg.alg, errp)) {
        return false;
    }
    if (!ice_key_size_parse(bits, &cfg.key_size, errp)) {
        return false;
    }
    cfg.data_unit_size = dus;
    if (!ice_host_program(engine, slot, &cfg, f[4], errp)) {
        error_prepend(errp, "slot %u: ", slot);
        return false;
    }
    return true;
}

bool ice_host_load_slots(IceEngine *engine, const char *spec, Error **errp)
{
    g_auto(GStrv) entries = g_strsplit(spec, ";", -1);

    for (char **e = entries; *e; e++) {
        if (**e && !ice_host_load_one(engine, *e, errp)) {
            return false;
        }
    }
    return true;
}

/* ---- QMP ---- */

/* An export's engine if @id names one, else a device's */
static IceEngine *ice_host_find(const char *id, IcePayloadLayout *payload,
                                Error **errp)
{
    IceEngine *engine = ice_export_find_engine(id, payload);

    return engine ? engine : virtio_blk_ice_find_engine(id, payload, errp);
}

void qmp_ice_program_slot(const char *id, uint8_t slot,
                          IceCryptoAlgorithm algorithm, uint16_t key_size,
                          uint32_t data_unit_size, const char *key_secret,
                          Error **errp)
{
    IcePayloadLayout payload;
    IceEngine *engine = ice_host_find(id, &payload, errp);
    IceSlotConfig cfg = {
        .alg = algorithm,
        .data_unit_size = data_unit_size,
    };

    if (!engine || !ice_key_size_parse(key_size, &cfg.key_size, errp)) {
        return;
    }
    ice_host_program(engine, slot, &cfg, key_secret, errp);
}

void qmp_ice_evict_slot(const char *id, uint8_t slot, Error **errp)
{
    IcePayloadLayout payload;
    IceEngine *engine = ice_host_find(id, &payload, errp);

    if (engine) {
        ice_engine_evict_slot(engine, slot, errp);
    }
}

/* The capabilities of @engine, decoded */
static IceCapabilityList *ice_host_query_caps(IceEngine *engine)
{
    IceCapabilityList *list = NULL, **tail = &list;
    uint32_t caps[ICE_CAPS_MAX];
    size_t n = ice_engine_get_caps(engine, caps, ARRAY_SIZE(caps));

    for (size_t i = 0; i < MIN(n, ARRAY_SIZE(caps)); i++) {
        IceCapability *cap = g_new0(IceCapability, 1);
        uint32List **dus_tail = &cap->data_unit_sizes;
        uint8_t mask = ice_cap_dus_mask(caps[i]);

        cap->algorithm = ice_cap_alg(caps[i]);
        cap->key_size = ice_key_size_bits(ice_cap_key_size(caps[i]));
        for (int j = 0; j < 8; j++) {
            if (mask & (1 << j)) {
                QAPI_LIST_APPEND(dus_tail, ICE_DATA_UNIT_MIN << j);
            }
        }
        QAPI_LIST_APPEND(tail, cap);
    }
    return list;
}

IceInfo *qmp_query_ice(const char *id, Error **errp)
{
    IcePayloadLayout payload;
    IceEngine *engine = ice_host_find(id, &payload, errp);
    IceSlotInfoList **slot_tail;
    IceInfo *info;
    unsigned first;

    if (!engine) {
        return NULL;
    }
    info = g_new0(IceInfo, 1);
    info->max_slots = ice_engine_num_slots(engine);
    info->slot_offset = first = ice_engine_slot_offset(engine);
    info->payload = payload;
    info->capabilities = ice_host_query_caps(engine);

    slot_tail = &info->slots;
    for (unsigned slot = first; slot < first + info->max_slots; slot++) {
        IceSlotConfig cfg;
        IceSlotInfo *si;
        char *secret_id;

        if (!ice_engine_query_slot(engine, slot, &cfg, &secret_id)) {
            continue;
        }
        si = g_new0(IceSlotInfo, 1);
        si->slot = slot;
        si->algorithm = cfg.alg;
        si->key_size = ice_key_size_bits(cfg.key_size);
        si->data_unit_size = cfg.data_unit_size;
        si->key_secret = secret_id;   /* NULL: the guest loaded it */
        QAPI_LIST_APPEND(slot_tail, si);
    }
    return info;
}
