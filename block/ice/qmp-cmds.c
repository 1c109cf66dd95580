/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The QMP commands of inline crypto engines: ice-program-slot,
 * ice-evict-slot and query-ice, for the engine of any front end
 * (include/block/ice-registry.h)
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-ice.h"
#include "block/ice-host.h"
#include "block/ice-registry.h"

/*
 * The engine @id names, if the monitor may change its slots (@change);
 * NULL with @errp set otherwise
 */
static IceRegistration *ice_qmp_find(const char *id, bool change,
                                     Error **errp)
{
    IceRegistration *reg = ice_registry_find(id, errp);

    if (reg && change && reg->guest_owns_slots) {
        error_setg(errp, "The key slots of the %s '%s' belong to its guest, "
                   "which programs them through the controller's registers",
                   reg->kind, id);
        return NULL;
    }
    return reg;
}

void qmp_ice_program_slot(const char *id, uint8_t slot,
                          IceCryptoAlgorithm algorithm, uint16_t key_size,
                          uint32_t data_unit_size, const char *key_secret,
                          Error **errp)
{
    IceRegistration *reg = ice_qmp_find(id, true, errp);
    IceSlotConfig cfg = {
        .alg = algorithm,
        .data_unit_size = data_unit_size,
    };

    if (!reg || !ice_key_size_parse(key_size, &cfg.key_size, errp)) {
        return;
    }
    ice_host_program(reg->engine, slot, &cfg, key_secret, errp);
}

void qmp_ice_evict_slot(const char *id, uint8_t slot, Error **errp)
{
    IceRegistration *reg = ice_qmp_find(id, true, errp);

    if (reg) {
        ice_engine_evict_slot(reg->engine, slot, errp);
    }
}

/* The capabilities of @engine, decoded */
static IceCapabilityList *ice_host_query_caps(IceEngine *engine)
{
    IceCapabilityList *list = NULL, **tail = &list;
    IceCap caps[ICE_CAPS_MAX];
    size_t n = ice_engine_get_caps(engine, caps, ARRAY_SIZE(caps));

    for (size_t i = 0; i < MIN(n, ARRAY_SIZE(caps)); i++) {
        IceCapability *cap = g_new0(IceCapability, 1);
        uint32List **dus_tail = &cap->data_unit_sizes;
        uint8_t mask = caps[i].dus_mask;

        cap->algorithm = caps[i].alg;
        cap->key_size = ice_key_size_bits(caps[i].key_size);
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
    IceRegistration *reg = ice_qmp_find(id, false, errp);
    IceSlotInfoList **slot_tail;
    IceEngine *engine;
    IceInfo *info;
    unsigned first;

    if (!reg) {
        return NULL;
    }
    engine = reg->engine;
    info = g_new0(IceInfo, 1);
    info->max_slots = ice_engine_num_slots(engine);
    info->slot_offset = first = ice_engine_slot_offset(engine);
    info->has_payload = reg->has_payload;
    info->payload = reg->payload;
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
