/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The host side of an inline crypto engine: its options, keys from secret
 * objects and ice-preload (see include/block/ice-host.h)
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "crypto/secret_common.h"
#include "block/ice-host.h"
#include "block/ice-datapath.h"

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
