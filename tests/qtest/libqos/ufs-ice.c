/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The guest side of UFSHCI inline crypto for qtests (see ufs-ice.h)
 */

#include "qemu/osdep.h"
#include "../libqtest.h"
#include "scsi/constants.h"
#include "ufs-ice.h"

/* The registers of UFSHCI crypto, as a guest driver sees them */
#define CCAP_CFGPTR(v)          ((v) >> 24)
#define CRYPTOCAP_BASE          0x104
#define CFG_DW16                64
#define CFG_DW17                68
#define CFG_CFGE                (1u << 31)
#define CFG_XTS_K2              32
#define PRDT_MAX_ENTRIES        \
    ((UTP_COMMAND_DESCRIPTOR_SIZE - UTP_PRDT_UPIU_OFFSET) / \
     sizeof(UfshcdSgEntry))

unsigned ufs_ice_num_caps(QUfs *ufs)
{
    return ufs_rreg(ufs, A_CCAP) & 0xff;
}

UfsIceCap ufs_ice_cap(QUfs *ufs, unsigned i)
{
    uint32_t v = ufs_rreg(ufs, CRYPTOCAP_BASE + 4 * i);

    return (UfsIceCap) {
        .alg = v & 0xff,
        .dus_mask = (v >> 8) & 0xff,
        .key_size = (v >> 16) & 0xff,
    };
}

int ufs_ice_find_cap(QUfs *ufs, uint8_t alg, uint8_t key_size)
{
    for (unsigned i = 0; i < ufs_ice_num_caps(ufs); i++) {
        UfsIceCap cap = ufs_ice_cap(ufs, i);

        if (cap.alg == alg && cap.key_size == key_size) {
            return i;
        }
    }
    return -1;
}

uint64_t ufs_ice_cfg_addr(QUfs *ufs, unsigned slot)
{
    return CCAP_CFGPTR(ufs_rreg(ufs, A_CCAP)) * 0x100 + slot * 128;
}

void ufs_ice_write_dw16(QUfs *ufs, unsigned slot, uint32_t dw16)
{
    ufs_wreg(ufs, ufs_ice_cfg_addr(ufs, slot) + CFG_DW16, dw16);
}

void ufs_ice_program(QUfs *ufs, unsigned slot, unsigned capidx, uint32_t dus,
                     const uint8_t *key, size_t key_len, bool is_xts)
{
    uint64_t cfg = ufs_ice_cfg_addr(ufs, slot);
    uint8_t field[64] = { 0 };
    uint32_t dw16;

    g_assert_cmpuint(key_len, <=, sizeof(field));
    if (is_xts) {
        memcpy(field, key, key_len / 2);
        memcpy(field + CFG_XTS_K2, key + key_len / 2, key_len / 2);
    } else {
        memcpy(field, key, key_len);
    }
    ufs_wreg(ufs, cfg + CFG_DW16, 0);
    for (unsigned i = 0; i < 16; i++) {
        ufs_wreg(ufs, cfg + 4 * i, ldl_le_p(field + 4 * i));
    }
    ufs_wreg(ufs, cfg + CFG_DW17, 0);
    dw16 = (dus / 512) | capidx << 8 | CFG_CFGE;
    ufs_wreg(ufs, cfg + CFG_DW16, dw16);
}

void ufs_ice_evict(QUfs *ufs, unsigned slot)
{
    uint64_t cfg = ufs_ice_cfg_addr(ufs, slot);

    for (unsigned i = 0; i < 16; i++) {
        ufs_wreg(ufs, cfg + 4 * i, 0);
    }
    ufs_wreg(ufs, cfg + CFG_DW17, 0);
    ufs_wreg(ufs, cfg + CFG_DW16, 0);
}

void ufs_ice_write_hce(QUfs *ufs, uint32_t hce)
{
    ufs_wreg(ufs, A_HCE, hce);
}

void ufs_ice_io_cdb(UfsIceIo *io, bool is_write, bool cdb16, uint64_t lba,
                    uint32_t blocks)
{
    memset(io->cdb, 0, sizeof(io->cdb));
    io->is_write = is_write;
    if (cdb16) {
        io->cdb[0] = is_write ? WRITE_16 : READ_16;
        stq_be_p(&io->cdb[2], lba);
        stl_be_p(&io->cdb[10], blocks);
    } else {
        io->cdb[0] = is_write ? WRITE_10 : READ_10;
        stl_be_p(&io->cdb[2], lba);
        stw_be_p(&io->cdb[7], blocks);
    }
}

/* Write @io's UPIU and PRDT into command descriptor @tag; its UTRD */
static UtpTransferReqDesc ufs_ice_io_build(QUfs *ufs, const UfsIceIo *io,
                                           int tag)
{
    QTestState *qts = ufs->dev.bus->qts;
    uint64_t upiu = ufs->cmd_desc_addr + tag * UTP_COMMAND_DESCRIPTOR_SIZE;
    size_t seg = io->seg ? io->seg : UFS_ICE_PRD_MAX;
    size_t n = DIV_ROUND_UP(io->prdt_bytes, seg);
    g_autofree UfshcdSgEntry *prdt = g_new0(UfshcdSgEntry, MAX(n, 1));
    UtpUpiuReq req = { 0 };
    UtpTransferReqDesc utrd;
    uint32_t dir = !io->prdt_bytes ? UFS_UTP_NO_DATA_TRANSFER :
                   io->is_write ? UFS_UTP_HOST_TO_DEVICE :
                                  UFS_UTP_DEVICE_TO_HOST;

    g_assert_cmpuint(seg, <=, UFS_ICE_PRD_MAX);
    g_assert_cmpuint(n, <=, PRDT_MAX_ENTRIES);
    for (size_t i = 0; i < n; i++) {
        size_t len = MIN(seg, io->prdt_bytes - i * seg);

        prdt[i].addr = cpu_to_le64(io->buf + i * seg);
        prdt[i].size = cpu_to_le32(len - 1);
    }
    qtest_memwrite(qts, upiu + UTP_PRDT_UPIU_OFFSET, prdt,
                   n * sizeof(UfshcdSgEntry));

    req.header.trans_type = io->trans_type ? io->trans_type :
                            UFS_UPIU_TRANSACTION_COMMAND;
    req.header.flags = !io->prdt_bytes ? UFS_UPIU_CMD_FLAGS_NONE :
                       io->is_write ? UFS_UPIU_CMD_FLAGS_WRITE :
                                      UFS_UPIU_CMD_FLAGS_READ;
    req.header.lun = io->lun;
    req.header.task_tag = tag;
    req.sc.exp_data_transfer_len = cpu_to_be32(io->prdt_bytes);
    memcpy(req.sc.cdb, io->cdb, UFS_CDB_SIZE);
    qtest_memwrite(qts, upiu, &req, sizeof(req));

    utrd = ufs_build_req_utrd(upiu, dir, n);
    if (io->ce) {
        utrd.header.dword_0 |= cpu_to_le32(UFS_UTP_REQ_DESC_CRYPTO_ENABLE_CMD |
                                           io->cci);
        utrd.header.dword_1 = cpu_to_le32(io->dun);
        utrd.header.dword_3 = cpu_to_le32(io->dun >> 32);
    }
    return utrd;
}

uint8_t ufs_ice_io_send(QUfs *ufs, const UfsIceIo *io, UtpUpiuRsp *rsp)
{
    int tag = alloc_cmd_desc_slot(ufs);
    UtpTransferReqDesc utrd = ufs_ice_io_build(ufs, io, tag);
    uint8_t ocs = ufs_send_transfer_request_sync(ufs, io->lun, &utrd);

    if (rsp) {
        qtest_memread(ufs->dev.bus->qts,
                      ufs->cmd_desc_addr + tag * UTP_COMMAND_DESCRIPTOR_SIZE +
                      UTP_RESPONSE_UPIU_OFFSET, rsp, sizeof(*rsp));
    }
    release_cmd_desc_slot(ufs, tag);
    return ocs;
}

int ufs_ice_io_submit(QUfs *ufs, const UfsIceIo *io)
{
    int tag = alloc_cmd_desc_slot(ufs);
    UtpTransferReqDesc utrd = ufs_ice_io_build(ufs, io, tag);

    g_assert(!ufs->support_mcq);
    qtest_memwrite(ufs->dev.bus->qts,
                   ufs->utrlba + tag * sizeof(UtpTransferReqDesc),
                   &utrd, sizeof(utrd));
    ufs_wreg(ufs, A_UTRLDBR, 1u << tag);
    return tag;
}

uint8_t ufs_ice_io_wait(QUfs *ufs, int tag)
{
    uint64_t addr = ufs->utrlba + tag * sizeof(UtpTransferReqDesc);
    gint64 end = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    UtpTransferReqDesc utrd;

    for (;;) {
        if (!(ufs_rreg(ufs, A_UTRLDBR) & (1u << tag))) {
            break;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(1000);
    }
    ufs_wreg(ufs, A_IS, FIELD_DP32(0, IS, UTRCS, 1));
    qtest_memread(ufs->dev.bus->qts, addr, &utrd, sizeof(utrd));
    release_cmd_desc_slot(ufs, tag);
    return le32_to_cpu(utrd.header.dword_2) & 0xf;
}

uint8_t ufs_ice_rw(QUfs *ufs, bool is_write, uint64_t offset, void *data,
                   size_t len, size_t seg, bool ce, uint8_t cci, uint64_t dun,
                   uint64_t guest)
{
    QTestState *qts = ufs->dev.bus->qts;
    UfsIceIo io = {
        .lun = UFS_ICE_LUN,
        .ce = ce,
        .cci = cci,
        .dun = dun,
        .buf = guest,
        .prdt_bytes = len,
        .seg = seg,
    };
    UtpUpiuRsp rsp;
    uint8_t ocs;

    g_assert_cmpuint(offset % UFS_ICE_BLOCK, ==, 0);
    g_assert_cmpuint(len % UFS_ICE_BLOCK, ==, 0);
    ufs_ice_io_cdb(&io, is_write, false, offset / UFS_ICE_BLOCK,
                   len / UFS_ICE_BLOCK);
    if (is_write) {
        qtest_memwrite(qts, guest, data, len);
    } else {
        qtest_memset(qts, guest, 0xa5, len);
    }
    ocs = ufs_ice_io_send(ufs, &io, &rsp);
    if (ocs == UFS_OCS_SUCCESS) {
        g_assert_cmpuint(rsp.header.scsi_status, ==, GOOD);
        if (!is_write) {
            qtest_memread(qts, guest, data, len);
        }
    }
    return ocs;
}
