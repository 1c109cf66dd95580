/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto engine: HMP commands, on top of the QMP ones
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-ice.h"
#include "qobject/qdict.h"
#include "block/ice-engine.h"
#include "monitor/hmp.h"
#include "monitor/monitor.h"

void hmp_ice_program_slot(Monitor *mon, const QDict *qdict)
{
    int64_t slot = qdict_get_int(qdict, "slot");
    int64_t key_size = qdict_get_int(qdict, "key_size");
    int64_t dus = qdict_get_int(qdict, "data_unit_size");
    Error *err = NULL;
    IceCryptoAlgorithm alg;

    if (!ice_alg_parse(qdict_get_str(qdict, "algorithm"), &alg, &err)) {
        hmp_handle_error(mon, err);
        return;
    }
    if (slot < 0 || slot > UINT8_MAX || key_size < 0 ||
        key_size > UINT16_MAX || dus < 0 || dus > UINT32_MAX) {
        monitor_printf(mon, "Error: slot, key size or data unit size "
                       "out of range\n");
        return;
    }
    qmp_ice_program_slot(qdict_get_str(qdict, "id"), slot, alg, key_size,
                         dus, qdict_get_str(qdict, "secret"), &err);
    hmp_handle_error(mon, err);
}

void hmp_ice_evict_slot(Monitor *mon, const QDict *qdict)
{
    int64_t slot = qdict_get_int(qdict, "slot");
    Error *err = NULL;

    if (slot < 0 || slot > UINT8_MAX) {
        monitor_printf(mon, "Error: slot %" PRId64 " out of range\n", slot);
        return;
    }
    qmp_ice_evict_slot(qdict_get_str(qdict, "id"), slot, &err);
    hmp_handle_error(mon, err);
}

void hmp_info_ice(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;
    IceInfo *info = qmp_query_ice(qdict_get_str(qdict, "id"), &err);

    if (hmp_handle_error(mon, err)) {
        return;
    }
    monitor_printf(mon, "key slots %u to %u", info->slot_offset,
                   info->slot_offset + info->max_slots - 1);
    if (info->has_payload) {
        monitor_printf(mon, ", payload layout %s",
                       IcePayloadLayout_str(info->payload));
    }
    monitor_printf(mon, "\n");
    monitor_printf(mon, "capabilities:\n");
    for (IceCapabilityList *c = info->capabilities; c; c = c->next) {
        g_autofree char *sizes = NULL;
        GString *str = g_string_new("");
        uint32List *d;

        for (d = c->value->data_unit_sizes; d; d = d->next) {
            g_string_append_printf(str, " %u", d->value);
        }
        sizes = g_string_free(str, false);
        monitor_printf(mon, "  %s %u-bit, data units:%s\n",
                       IceCryptoAlgorithm_str(c->value->algorithm),
                       c->value->key_size, sizes);
    }
    monitor_printf(mon, "programmed slots:%s\n", info->slots ? "" : " none");
    for (IceSlotInfoList *s = info->slots; s; s = s->next) {
        g_autofree char *from = s->value->key_secret ?
            g_strdup_printf("secret '%s'", s->value->key_secret) :
            g_strdup(info->has_payload ? "the guest (ice-keybox)" :
                     "the guest");

        monitor_printf(mon, "  slot %u: %s %u-bit, data unit %u, "
                       "key from %s\n", s->value->slot,
                       IceCryptoAlgorithm_str(s->value->algorithm),
                       s->value->key_size, s->value->data_unit_size, from);
    }
    qapi_free_IceInfo(info);
}
