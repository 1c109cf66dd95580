/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * UFSHCI inline crypto: the engine's life with its controller
 *
 * One engine per controller, with as many slots as configurations
 * (crypto-slots), its capabilities limited to data units of at most one
 * logical block.  The guest owns the slots: it programs them through
 * x-CRYPTOCFG (ufs-ice-regs.c), so the monitor may look at them through
 * the registry but not change them.
 *
 * Keys survive what Linux expects them to survive: ufshcd_hba_start()
 * reprograms every key while the controller is disabled and only then
 * enables it, so enabling evicts nothing.  Disabling the controller (HCE
 * 1 to 0), a system reset and unplug evict every configuration.  A
 * request already accepted keeps the key it was accepted with.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "ufs-ice-internal.h"
#include "trace.h"

bool ufs_ice_realize(UfsHc *u, Error **errp)
{
    unsigned num_slots = u->params.crypto_slots;
    UfsIce *ice;

    if (num_slots < 1 || num_slots > UFS_ICE_SLOTS_MAX) {
        error_setg(errp, "crypto-slots must be between 1 and %d",
                   UFS_ICE_SLOTS_MAX);
        return false;
    }
    ice = g_new0(UfsIce, 1);
    ice->num_slots = num_slots;
    ice->cfg = g_new0(UfsIceCfg, num_slots);
    ice->engine = ice_engine_new(num_slots, 0);
    ice_engine_limit_data_unit(ice->engine, UFS_BLOCK_SIZE);
    ice->num_caps = ice_engine_get_caps(ice->engine, ice->caps,
                                        ARRAY_SIZE(ice->caps));
    ice->reg = (IceRegistration) {
        .kind = "UFS host controller",
        .id = DEVICE(u)->id,
        .paths = { OBJECT(u) },
        .engine = ice->engine,
        .guest_owns_slots = true,
    };
    if (!ice_registry_add(&ice->reg, errp)) {
        ice_engine_free(ice->engine);
        g_free(ice->cfg);
        g_free(ice);
        return false;
    }
    u->ice = ice;
    return true;
}

void ufs_ice_unrealize(UfsHc *u)
{
    UfsIce *ice = u->ice;

    if (!ice) {
        return;
    }
    /*
     * Requests in flight complete before their memory goes; the
     * controller's bottom halves may submit more while it drains
     */
    ice->closing = true;
    ufs_ice_free_datapaths(ice);
    ice_registry_remove(&ice->reg);
    ufs_ice_clear_configs(ice);
    ice_engine_free(ice->engine);
    g_free(ice->cfg);
    g_free(ice);
    u->ice = NULL;
}

void ufs_ice_reset(UfsHc *u)
{
    if (u->ice) {
        trace_ufs_ice_evict_all("reset");
        ufs_ice_clear_configs(u->ice);
    }
}

void ufs_ice_write_hce(UfsHc *u, uint32_t val)
{
    if (FIELD_EX32(u->reg.hce, HCE, HCE) && !FIELD_EX32(val, HCE, HCE)) {
        trace_ufs_ice_evict_all("controller disabled");
        ufs_ice_clear_configs(u->ice);
    }
    u->reg.hce = FIELD_DP32(u->reg.hce, HCE, CGE, FIELD_EX32(val, HCE, CGE));
}
