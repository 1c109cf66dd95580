/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * UFSHCI inline crypto: the crypto registers
 *
 * CCAP (0x100) and x-CRYPTOCAP (0x104 + 4x) are read-only and packed
 * from the engine's capability table in UFSHCI's byte layout.  The
 * x-CRYPTOCFG array is at CFGPTR * 0x100, past upstream's registers.  The
 * guest programs a configuration as Linux does: dword 16 = 0, the key in
 * dwords 0-15, dword 17, then dword 16 with CFGE set, which loads the
 * engine slot of the same index; dword 16 with CFGE clear evicts it.  Key
 * registers read as zero, and what the guest wrote there is wiped as soon
 * as dword 16 is written.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/bswap.h"
#include "ufs-ice-internal.h"
#include "trace.h"

/* CCAP: number of capabilities, of configurations - 1, and CFGPTR */
static uint32_t ufs_ice_ccap(const UfsIce *ice)
{
    return ice->num_caps | (ice->num_slots - 1) << 8 | UFS_ICE_CFGPTR << 24;
}

/* x-CRYPTOCAP: algorithm id, data unit size mask, key size id */
static uint32_t ufs_ice_crypto_cap(const IceCap *cap)
{
    return cap->alg | cap->dus_mask << 8 | cap->key_size << 16;
}

/*
 * Decode dword 16 into a slot configuration and gather the key bytes
 * the capability takes from the key field.  Returns the key's length, or
 * 0 with @reason set if the configuration is invalid.
 */
static size_t ufs_ice_decode_cfg(const UfsIce *ice, const UfsIceCfg *c,
                                 IceSlotConfig *cfg, uint8_t *key,
                                 const char **reason)
{
    unsigned capidx = UFS_ICE_DW16_CAPIDX(c->dw16);
    uint8_t dus = UFS_ICE_DW16_DUS(c->dw16);
    const IceCap *cap;
    size_t len, half;

    if (capidx >= ice->num_caps) {
        *reason = "capability index out of range";
        return 0;
    }
    cap = &ice->caps[capidx];
    if (!is_power_of_2(dus) || !(dus & cap->dus_mask)) {
        *reason = "data unit size not exactly one supported size";
        return 0;
    }
    *cfg = (IceSlotConfig) {
        .alg = cap->alg,
        .key_size = cap->key_size,
        .data_unit_size = ICE_DATA_UNIT_MIN * dus,
    };
    len = ice_key_material_len(cap->alg, cap->key_size);
    if (cap->alg == ICE_CRYPTO_ALGORITHM_AES_XTS) {
        half = len / 2;
        if (half > UFS_ICE_XTS_K2) {
            *reason = "XTS key size larger than the key field";
            return 0;
        }
        memcpy(key, c->key, half);
        memcpy(key + half, c->key + UFS_ICE_XTS_K2, half);
    } else {
        if (len > UFS_ICE_KEY_FIELD) {
            *reason = "key size larger than the key field";
            return 0;
        }
        memcpy(key, c->key, len);
    }
    return len;
}

/* Dword 16 written: load or evict the engine slot @slot */
static void ufs_ice_apply_cfg(UfsIce *ice, unsigned slot)
{
    UfsIceCfg *c = &ice->cfg[slot];
    uint8_t key[ICE_KEY_MATERIAL_MAX];
    const char *reason = NULL;
    Error *err = NULL;
    IceSlotConfig cfg;
    size_t len;

    /* A new configuration replaces the old one, valid or not */
    ice_engine_evict_slot(ice->engine, slot, &error_abort);
    if (!(c->dw16 & UFS_ICE_DW16_CFGE)) {
        trace_ufs_ice_evict(slot);
        ice_wipe(c->key, sizeof(c->key));
        return;
    }
    len = ufs_ice_decode_cfg(ice, c, &cfg, key, &reason);
    ice_wipe(c->key, sizeof(c->key));
    if (!len) {
        trace_ufs_ice_cfg_invalid(slot, c->dw16, reason);
    } else if (!ice_engine_program_slot(ice->engine, slot, &cfg, key, len,
                                        NULL, &err)) {
        /* The message names no key bytes */
        trace_ufs_ice_cfg_invalid(slot, c->dw16, error_get_pretty(err));
        error_free(err);
    } else {
        trace_ufs_ice_program(slot, ice_alg_name(cfg.alg),
                              ice_key_size_bits(cfg.key_size),
                              cfg.data_unit_size);
    }
    ice_wipe(key, sizeof(key));
}

uint64_t ufs_ice_mmio_read(UfsHc *u, hwaddr addr)
{
    hwaddr off = (addr - UFS_ICE_CFG_BASE) & ~3;
    const UfsIceCfg *c = &u->ice->cfg[off / UFS_ICE_CFG_SIZE];

    switch (off % UFS_ICE_CFG_SIZE) {
    case UFS_ICE_KEY_FIELD:
        return c->dw16;
    case UFS_ICE_KEY_FIELD + 4:
        return c->dw17;
    default:
        return 0;       /* the key is write-only; the rest is reserved */
    }
}

void ufs_ice_mmio_write(UfsHc *u, hwaddr addr, uint32_t val)
{
    hwaddr off = (addr - UFS_ICE_CFG_BASE) & ~3;
    unsigned slot = off / UFS_ICE_CFG_SIZE;
    UfsIceCfg *c = &u->ice->cfg[slot];

    off %= UFS_ICE_CFG_SIZE;
    if (off < UFS_ICE_KEY_FIELD) {
        stl_le_p(c->key + off, val);
    } else if (off == UFS_ICE_KEY_FIELD) {
        c->dw16 = val;
        ufs_ice_apply_cfg(u->ice, slot);
    } else if (off == UFS_ICE_KEY_FIELD + 4) {
        c->dw17 = val;
    }
}

void ufs_ice_init_regs(UfsHc *u)
{
    UfsIce *ice = u->ice;

    /* x-CRYPTOCAP ends before CONFIG at 0x300 */
    QEMU_BUILD_BUG_ON(ICE_CAPS_MAX > ARRAY_SIZE(u->reg.crypto_cap));

    u->reg.cap = FIELD_DP32(u->reg.cap, CAP, CS, 1);
    u->reg.ccap = ufs_ice_ccap(ice);
    for (size_t i = 0; i < ice->num_caps; i++) {
        u->reg.crypto_cap[i] = ufs_ice_crypto_cap(&ice->caps[i]);
    }
}

void ufs_ice_clear_configs(UfsIce *ice)
{
    for (unsigned slot = 0; slot < ice->num_slots; slot++) {
        ice_engine_evict_slot(ice->engine, slot, &error_abort);
        ice_wipe(&ice->cfg[slot], sizeof(ice->cfg[slot]));
    }
}
