/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * UFSHCI inline crypto: the state shared by the files of hw/ufs/ice
 */

#ifndef HW_UFS_ICE_UFS_ICE_INTERNAL_H
#define HW_UFS_ICE_UFS_ICE_INTERNAL_H

#include "block/ice-datapath.h"
#include "block/ice-registry.h"
#include "ufs-ice.h"

/* Bounce memory the encrypted writes to one logical unit hold at once */
#define UFS_ICE_BOUNCE_LIMIT    (8 * 1024 * 1024)

/* The key field of x-CRYPTOCFG; an AES-XTS key's second half at byte 32 */
#define UFS_ICE_KEY_FIELD       64
#define UFS_ICE_XTS_K2          32

/* Dword 16 of x-CRYPTOCFG */
#define UFS_ICE_DW16_DUS(v)     ((v) & 0xff)
#define UFS_ICE_DW16_CAPIDX(v)  (((v) >> 8) & 0xff)
#define UFS_ICE_DW16_CFGE       (1u << 31)

/**
 * UfsIceCfg:
 * @key: dwords 0-15 as the guest wrote them since the last dword 16;
 *       wiped whenever dword 16 is written, never read back
 * @dw16: data unit size, capability index and CFGE, as written
 * @dw17: reserved, as written
 *
 * One x-CRYPTOCFG register set.  The key the engine uses is the one
 * programmed when dword 16 was last written with CFGE set.
 */
typedef struct UfsIceCfg {
    uint8_t key[UFS_ICE_KEY_FIELD];
    uint32_t dw16;
    uint32_t dw17;
} UfsIceCfg;

/* The data path to one logical unit, made by its first crypto request */
typedef struct UfsIceLu {
    BlockBackend *blk;          /* a reference */
    IceDataPath *dp;
} UfsIceLu;

struct UfsIce {
    IceEngine *engine;
    IceRegistration reg;
    size_t num_caps;
    IceCap caps[ICE_CAPS_MAX];  /* x-CRYPTOCAP, the engine's table */
    unsigned num_slots;
    UfsIceCfg *cfg;             /* x-CRYPTOCFG, one per slot */
    UfsIceLu lu[UFS_MAX_LUS];
    bool closing;               /* unrealize started: take no request */
};

/* ufs-ice-regs.c: evict every configuration and wipe its registers */
void ufs_ice_clear_configs(UfsIce *ice);

/* ufs-ice-io.c: drain and free the logical units' data paths */
void ufs_ice_free_datapaths(UfsIce *ice);

#endif /* HW_UFS_ICE_UFS_ICE_INTERNAL_H */
