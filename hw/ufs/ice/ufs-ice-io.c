/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * UFSHCI inline crypto: requests with the UTRD's crypto enable bit set
 *
 * Such a request bypasses scsi-disk: it is checked here, then its data
 * goes through the inline crypto core's bounded data path
 * (include/block/ice-datapath.h) to the logical unit's BlockBackend.  A
 * write is encrypted from guest memory into the data path's bounce
 * buffers, so ciphertext never lands in guest memory; a read lands in
 * guest memory and is decrypted there.  The checks, in order, each
 * before anything is read or written: first the crypto ones, completed
 * with an OCS, then scsi-disk's, in scsi-disk's order, completed with
 * its status and sense:
 *
 *   any command but READ/WRITE(10)/(16), or
 *   to a well-known LUN                      OCS 0xA general crypto error
 *   a LUN that is no logical unit            OCS 0x1 (as without crypto)
 *   CGE clear                                OCS 0xA
 *   CCI beyond the slots, or an empty slot   OCS 0x9 invalid configuration
 *   PRDT bytes other than the CDB's blocks
 *   x 4096, or a DUN range past 2^64 - 1     OCS 0xA
 *   a write to a read-only unit              CHECK CONDITION, DATA PROTECT
 *   RDPROTECT/WRPROTECT set                  CHECK CONDITION, INVALID FIELD
 *   LBA range past the end of the unit       CHECK CONDITION, LBA OUT OF
 *                                            RANGE
 *   a PRDT not all in guest memory           OCS 0x1
 *
 * (Data units are at most one 4096-byte block, so a request is always
 * whole data units.)  I/O errors, including a failure of the crypto
 * backend, complete with CHECK CONDITION and the sense scsi-disk would
 * give; the crypto-engine-fatal interrupt is never raised for a request.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/bswap.h"
#include "scsi/constants.h"
#include "scsi/utils.h"
#include "system/block-backend.h"
#include "block/ice-host.h"
#include "ufs-ice-internal.h"
#include "trace.h"

/* A crypto request between its start and its completion */
typedef struct UfsIceReq {
    UfsRequest *req;
    UfsIceLu *lu;
    IceKey *key;
    QEMUIOVector qiov;          /* the PRDT's guest memory, mapped */
    uint64_t len;
    bool is_write;
    BlockAcctCookie acct;
} UfsIceReq;

/* What the CDB of a READ or WRITE (10) or (16) asks for */
typedef struct UfsIceCdb {
    uint64_t lba;
    uint64_t blocks;
    bool is_write;
    bool fua;
    bool protect;               /* RDPROTECT or WRPROTECT set */
} UfsIceCdb;

static bool ufs_ice_parse_cdb(const uint8_t *cdb, UfsIceCdb *c)
{
    switch (cdb[0]) {
    case READ_10:
    case WRITE_10:
        c->lba = ldl_be_p(&cdb[2]);
        c->blocks = lduw_be_p(&cdb[7]);
        break;
    case READ_16:
    case WRITE_16:
        c->lba = ldq_be_p(&cdb[2]);
        c->blocks = ldl_be_p(&cdb[10]);
        break;
    default:
        return false;
    }
    c->is_write = cdb[0] == WRITE_10 || cdb[0] == WRITE_16;
    c->fua = cdb[1] & 0x08;
    c->protect = cdb[1] & 0xe0;
    return true;
}

/* Complete @req at the SCSI level: GOOD, or CHECK CONDITION with @sense */
static UfsReqResult ufs_ice_scsi_status(UfsRequest *req, uint32_t transferred,
                                        int status, SCSISense sense)
{
    uint8_t buf[UFS_SENSE_SIZE] = { 0 };

    if (status != GOOD) {
        scsi_build_sense(buf, sense);
    }
    ufs_build_scsi_response_upiu(req, buf, sizeof(buf), transferred, status);
    return UFS_REQUEST_SUCCESS;
}

/*
 * scsi-disk's checks of a READ or WRITE to @blk, in its order: the sense
 * to complete it with, or NO SENSE
 */
static SCSISense ufs_ice_scsi_check(BlockBackend *blk, const UfsIceCdb *c)
{
    int64_t blk_len = blk_getlength(blk);
    uint64_t nblocks = blk_len > 0 ? blk_len >> UFS_BLOCK_SIZE_SHIFT : 0;

    if (c->is_write && !blk_is_writable(blk)) {
        return SENSE_CODE(WRITE_PROTECTED);
    }
    if (c->protect) {
        return SENSE_CODE(INVALID_FIELD);     /* no protection information */
    }
    if (c->lba > nblocks || c->blocks > nblocks - c->lba) {
        return SENSE_CODE(LBA_OUT_OF_RANGE);
    }
    return SENSE_CODE(NO_SENSE);
}

/* The data path to @lu, made on first use */
static UfsIceLu *ufs_ice_get_lu(UfsIce *ice, UfsLu *lu)
{
    UfsIceLu *il = &ice->lu[lu->lun];

    if (!il->dp) {
        il->blk = lu->scsi_dev->conf.blk;
        blk_ref(il->blk);
        il->dp = ice_datapath_new(il->blk, UFS_ICE_BOUNCE_LIMIT,
                                  ICE_OFFLOAD_MIN_DEFAULT);
    }
    return il;
}

void ufs_ice_free_datapaths(UfsIce *ice)
{
    for (int i = 0; i < UFS_MAX_LUS; i++) {
        UfsIceLu *il = &ice->lu[i];

        if (il->dp) {
            blk_drain(il->blk);
            ice_datapath_free(il->dp);
            blk_unref(il->blk);
            il->dp = NULL;
            il->blk = NULL;
        }
    }
}

static DMADirection ufs_ice_dma_dir(const UfsIceReq *r)
{
    return r->is_write ? DMA_DIRECTION_TO_DEVICE : DMA_DIRECTION_FROM_DEVICE;
}

/* Map the PRDT's guest memory into @r->qiov; false if it is not all RAM */
static bool ufs_ice_map(UfsIceReq *r)
{
    PCIDevice *dev = PCI_DEVICE(r->req->hc);
    QEMUSGList *sg = r->req->sg;
    DMADirection dir = ufs_ice_dma_dir(r);

    qemu_iovec_init(&r->qiov, sg->nsg);
    for (int i = 0; i < sg->nsg; i++) {
        dma_addr_t len = sg->sg[i].len;
        void *p = pci_dma_map(dev, sg->sg[i].base, &len, dir);

        if (p && len < sg->sg[i].len) {
            pci_dma_unmap(dev, p, len, dir, 0);
            p = NULL;
        }
        if (!p) {
            return false;
        }
        qemu_iovec_add(&r->qiov, p, len);
    }
    return true;
}

static void ufs_ice_unmap(UfsIceReq *r, bool done)
{
    PCIDevice *dev = PCI_DEVICE(r->req->hc);
    DMADirection dir = ufs_ice_dma_dir(r);

    for (int i = 0; i < r->qiov.niov; i++) {
        struct iovec *iov = &r->qiov.iov[i];

        pci_dma_unmap(dev, iov->iov_base, iov->iov_len, dir,
                      done && !r->is_write ? iov->iov_len : 0);
    }
    qemu_iovec_destroy(&r->qiov);
}

static void ufs_ice_req_free(UfsIceReq *r, bool done)
{
    ufs_ice_unmap(r, done);
    ice_key_unref(r->key);
    g_free(r);
}

/* The data path's completion of @opaque, a UfsIceReq */
static void ufs_ice_complete(void *opaque, int ret)
{
    UfsIceReq *r = opaque;
    UfsRequest *req = r->req;
    BlockAcctStats *stats = blk_get_stats(r->lu->blk);
    SCSISense sense = SENSE_CODE(NO_SENSE);
    int status = GOOD;

    trace_ufs_ice_complete(req->slot, ret);
    if (ret < 0) {
        block_acct_failed(stats, &r->acct);
        status = scsi_sense_from_errno(-ret, &sense);
    } else {
        block_acct_done(stats, &r->acct);
    }
    ufs_ice_scsi_status(req, ret < 0 ? 0 : r->len, status, sense);
    ufs_ice_req_free(r, true);
    ufs_complete_req(req, UFS_REQUEST_SUCCESS);
}

UfsReqResult ufs_ice_exec_req(UfsRequest *req)
{
    UfsHc *u = req->hc;
    UfsIce *ice = u->ice;
    uint32_t dw0 = le32_to_cpu(req->utrd.header.dword_0);
    uint8_t cci = dw0 & 0xff;
    uint64_t dun = (uint64_t)le32_to_cpu(req->utrd.header.dword_3) << 32 |
                   le32_to_cpu(req->utrd.header.dword_1);
    uint64_t prdt_bytes = req->sg ? req->sg->size : 0;
    uint8_t lun = req->req_upiu.header.lun;
    Error *err = NULL;
    SCSISense sense;
    uint64_t len;
    UfsIceCdb cdb;
    UfsIceReq *r;
    UfsLu *lu;
    IceKey *key;

    if (req->req_upiu.header.trans_type != UFS_UPIU_TRANSACTION_COMMAND ||
        !ufs_ice_parse_cdb(req->req_upiu.sc.cdb, &cdb) || is_wlun(lun)) {
        trace_ufs_ice_reject(req->slot, "crypto on a command that is no "
                             "READ or WRITE to a logical unit");
        return UFS_REQUEST_CRYPTO_ERROR;
    }
    lu = lun < UFS_MAX_LUS ? u->lus[lun] : NULL;
    if (!lu || !lu->scsi_dev || ice->closing) {
        /* An unplug unrealizes the units first, then the controller */
        trace_ufs_ice_reject(req->slot, "no such logical unit");
        return UFS_REQUEST_FAIL;
    }
    if (!FIELD_EX32(u->reg.hce, HCE, CGE)) {
        trace_ufs_ice_reject(req->slot, "crypto general enable is clear");
        return UFS_REQUEST_CRYPTO_ERROR;
    }
    key = cci < ice->num_slots ? ice_engine_get_key(ice->engine, cci, NULL) :
                                 NULL;
    if (!key) {
        trace_ufs_ice_reject(req->slot, "the configuration index names no "
                             "enabled configuration");
        return UFS_REQUEST_INVALID_CRYPTO_CONFIG;
    }
    len = cdb.blocks << UFS_BLOCK_SIZE_SHIFT;
    if (prdt_bytes != len) {
        trace_ufs_ice_reject(req->slot, "the PRDT's length is not the "
                             "CDB's");
        ice_key_unref(key);
        return UFS_REQUEST_CRYPTO_ERROR;
    }
    if (!ice_key_check_request(key, cdb.lba << UFS_BLOCK_SIZE_SHIFT, len,
                               dun, &err)) {
        trace_ufs_ice_reject(req->slot, error_get_pretty(err));
        error_free(err);
        ice_key_unref(key);
        return UFS_REQUEST_CRYPTO_ERROR;
    }
    sense = ufs_ice_scsi_check(lu->scsi_dev->conf.blk, &cdb);
    if (sense.key) {
        ice_key_unref(key);
        return ufs_ice_scsi_status(req, 0, CHECK_CONDITION, sense);
    }
    if (!len) {
        ice_key_unref(key);
        return ufs_ice_scsi_status(req, 0, GOOD, SENSE_CODE(NO_SENSE));
    }

    r = g_new0(UfsIceReq, 1);
    r->req = req;
    r->lu = ufs_ice_get_lu(ice, lu);
    r->key = key;
    r->len = len;
    r->is_write = cdb.is_write;
    if (!ufs_ice_map(r)) {
        trace_ufs_ice_reject(req->slot, "the PRDT is not all guest RAM");
        ufs_ice_req_free(r, false);
        return UFS_REQUEST_FAIL;
    }

    trace_ufs_ice_rw(req->slot, lun, r->is_write, cci, dun, cdb.lba,
                     cdb.blocks);
    block_acct_start(blk_get_stats(r->lu->blk), &r->acct, len,
                     r->is_write ? BLOCK_ACCT_WRITE : BLOCK_ACCT_READ);
    ice_rw_start(&(IceRw) {
        .dp = r->lu->dp,
        .key = key,
        .dun = dun,
        .offset = cdb.lba << UFS_BLOCK_SIZE_SHIFT,
        .qiov = &r->qiov,
        .is_write = r->is_write,
        /* FUA inside the request, which drain then waits for */
        .write_flags = cdb.fua ? BDRV_REQ_FUA : 0,
        .cb = ufs_ice_complete,
        .opaque = r,
    });
    return UFS_REQUEST_NO_COMPLETE;
}
