/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * UFSHCI inline crypto for QEMU's UFS host controller (crypto=on)
 *
 * The hooks hw/ufs/ufs.c calls.  With crypto=off (the default) the
 * controller has no UfsIce, reports CAP.CS = 0 and ignores the UTRD's
 * crypto enable bit, as it always did.  With crypto=on it offers the
 * inline crypto engine of include/block/ice-engine.h through the
 * registers of UFSHCI 3.0 section 5.2.3 (CCAP, x-CRYPTOCAP, x-CRYPTOCFG)
 * and encrypts or decrypts READ and WRITE requests whose UTRD has CE set.
 */

#ifndef HW_UFS_ICE_UFS_ICE_H
#define HW_UFS_ICE_UFS_ICE_H

#include "hw/ufs/ufs.h"

typedef struct UfsIce UfsIce;

#define UFS_ICE_SLOTS_DEFAULT   32
#define UFS_ICE_SLOTS_MAX       256

/*
 * The x-CRYPTOCFG array starts at CFGPTR * 0x100: 0x2000, past the MCQ
 * operation registers; one configuration takes 128 bytes.
 */
#define UFS_ICE_CFGPTR          0x20
#define UFS_ICE_CFG_BASE        (UFS_ICE_CFGPTR * 0x100)
#define UFS_ICE_CFG_SIZE        128

/* Where the registers of crypto=on end, or 0 with crypto=off */
static inline uint64_t ufs_ice_mmio_end(const UfsHc *u)
{
    return u->params.crypto ?
           UFS_ICE_CFG_BASE + u->params.crypto_slots * UFS_ICE_CFG_SIZE : 0;
}

/* Whether an MMIO access falls in the x-CRYPTOCFG array */
static inline bool ufs_ice_claims_mmio(const UfsHc *u, hwaddr addr,
                                       unsigned size)
{
    return u->ice && addr >= UFS_ICE_CFG_BASE &&
           addr + size <= ufs_ice_mmio_end(u);
}

/* Read and write x-CRYPTOCFG, for accesses ufs_ice_claims_mmio() claims */
uint64_t ufs_ice_mmio_read(UfsHc *u, hwaddr addr);
void ufs_ice_mmio_write(UfsHc *u, hwaddr addr, uint32_t val);

/* Whether @req is a crypto request, to be run by ufs_ice_exec_req() */
static inline bool ufs_ice_claims_req(const UfsRequest *req)
{
    return req->hc->ice && (le32_to_cpu(req->utrd.header.dword_0) &
                            UFS_UTP_REQ_DESC_CRYPTO_ENABLE_CMD);
}

/**
 * ufs_ice_realize:
 * @u: a controller with crypto=on, before anything else is set up
 * @errp: pointer to a NULL-initialized error object
 *
 * Check crypto-slots, create the engine (@u->ice) and register it with
 * the monitor under the controller's id.
 *
 * Returns: true on success
 */
bool ufs_ice_realize(UfsHc *u, Error **errp);

/**
 * ufs_ice_init_regs:
 * @u: a controller with an engine, its registers set up
 *
 * Set CAP.CS and fill in CCAP and x-CRYPTOCAP.
 */
void ufs_ice_init_regs(UfsHc *u);

/* Wait for the crypto requests in flight, evict every key, free it all */
void ufs_ice_unrealize(UfsHc *u);

/* System reset: every configuration is evicted */
void ufs_ice_reset(UfsHc *u);

/**
 * ufs_ice_write_hce:
 * @u: the controller
 * @val: the value the guest writes to HCE
 *
 * Keep the crypto general enable bit; disabling the controller (HCE 1 to
 * 0) evicts every configuration.  Called before the enable bit changes.
 */
void ufs_ice_write_hce(UfsHc *u, uint32_t val);

/**
 * ufs_ice_exec_req:
 * @req: a request ufs_ice_claims_req() claims, its UPIU and PRDT read
 *
 * Check the request and start its encrypted I/O.
 *
 * Returns: %UFS_REQUEST_NO_COMPLETE once started (it completes itself);
 * otherwise how to complete it: %UFS_REQUEST_SUCCESS with a SCSI status
 * in the response UPIU, %UFS_REQUEST_FAIL for a LUN that does not exist,
 * %UFS_REQUEST_INVALID_CRYPTO_CONFIG or %UFS_REQUEST_CRYPTO_ERROR
 */
UfsReqResult ufs_ice_exec_req(UfsRequest *req);

#endif /* HW_UFS_ICE_UFS_ICE_H */
