/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The guest side of UFSHCI inline crypto for qtests, on top of the UFS
 * driver of libqos/ufs.h: reading the capabilities, programming and
 * evicting configurations as Linux's ufshcd-crypto does, and sending
 * READ and WRITE requests with the UTRD's crypto fields.
 */

#ifndef TESTS_QTEST_LIBQOS_UFS_ICE_H
#define TESTS_QTEST_LIBQOS_UFS_ICE_H

#include "ufs.h"

/* The test device's options and logical unit (see ufs_ice_setup()) */
#define UFS_ICE_LUN             1
#define UFS_ICE_BLOCK           4096
#define UFS_ICE_IMAGE_SIZE      (16 * 1024 * 1024)
/* Largest PRDT entry: 256 KiB */
#define UFS_ICE_PRD_MAX         (256 * 1024)

/* One x-CRYPTOCAP entry, decoded */
typedef struct UfsIceCap {
    uint8_t alg;
    uint8_t dus_mask;
    uint8_t key_size;
} UfsIceCap;

/* Number of x-CRYPTOCAP entries (CCAP.CC) */
unsigned ufs_ice_num_caps(QUfs *ufs);

/* x-CRYPTOCAP entry @i */
UfsIceCap ufs_ice_cap(QUfs *ufs, unsigned i);

/* Index of the capability for @alg with @key_size, or -1 */
int ufs_ice_find_cap(QUfs *ufs, uint8_t alg, uint8_t key_size);

/* Offset of x-CRYPTOCFG @slot in the BAR */
uint64_t ufs_ice_cfg_addr(QUfs *ufs, unsigned slot);

/**
 * ufs_ice_program:
 * @slot: the configuration index
 * @capidx: the capability index
 * @dus: the data unit size in bytes (any value: 0 writes no bit)
 * @key: the key; for AES-XTS its two halves go to bytes 0 and 32
 * @key_len: bytes in @key
 * @is_xts: whether to split the key into halves
 *
 * Write the configuration as Linux's ufshcd_program_key() does: dword 16
 * = 0, the key dwords, dword 17, then dword 16 with CFGE set.
 */
void ufs_ice_program(QUfs *ufs, unsigned slot, unsigned capidx, uint32_t dus,
                     const uint8_t *key, size_t key_len, bool is_xts);

/* Write dword 16 of @slot as is (CFGE clear evicts) */
void ufs_ice_write_dw16(QUfs *ufs, unsigned slot, uint32_t dw16);

/* Evict @slot as Linux does: every dword zero, CFGE clear */
void ufs_ice_evict(QUfs *ufs, unsigned slot);

/* Set HCE to @hce (bit 0 enable, bit 1 CGE) */
void ufs_ice_write_hce(QUfs *ufs, uint32_t hce);

/**
 * UfsIceIo:
 * @lun: the logical unit
 * @cdb: the command; ufs_ice_io_cdb() fills in READ/WRITE(10)/(16)
 * @trans_type: 0 for a SCSI command, else the UPIU transaction type
 * @ce: set the UTRD's crypto enable bit
 * @cci: the configuration index
 * @dun: the data unit number of the first data unit
 * @buf: guest address of the data
 * @prdt_bytes: bytes the PRDT describes, from @buf
 * @seg: bytes per PRDT entry (the last may be shorter), at most
 *       %UFS_ICE_PRD_MAX
 * @is_write: data direction host to device
 *
 * One request, as the guest builds it.
 */
typedef struct UfsIceIo {
    uint8_t lun;
    uint8_t cdb[UFS_CDB_SIZE];
    uint8_t trans_type;
    bool ce;
    uint8_t cci;
    uint64_t dun;
    uint64_t buf;
    size_t prdt_bytes;
    size_t seg;
    bool is_write;
} UfsIceIo;

/* Fill @io->cdb with a READ or WRITE (10 or 16) of @blocks at @lba */
void ufs_ice_io_cdb(UfsIceIo *io, bool is_write, bool cdb16, uint64_t lba,
                    uint32_t blocks);

/**
 * ufs_ice_io_send:
 * @rsp: the response UPIU, or NULL
 *
 * Send @io through the doorbell or MCQ (as the controller was set up)
 * and wait for it.
 *
 * Returns: the OCS
 */
uint8_t ufs_ice_io_send(QUfs *ufs, const UfsIceIo *io, UtpUpiuRsp *rsp);

/**
 * ufs_ice_io_submit:
 *
 * Ring the doorbell for @io without waiting (doorbell mode only).
 *
 * Returns: the tag to pass to ufs_ice_io_wait()
 */
int ufs_ice_io_submit(QUfs *ufs, const UfsIceIo *io);

/* Wait until the request @tag completes, release it; returns its OCS */
uint8_t ufs_ice_io_wait(QUfs *ufs, int tag);

/**
 * ufs_ice_rw:
 *
 * A READ(10) or WRITE(10) of @len bytes at byte @offset of
 * %UFS_ICE_LUN, in PRDT entries of @seg bytes, with crypto (@ce) from
 * configuration @cci at @dun, through guest memory at @guest: @data is
 * written from, or read into.
 *
 * Returns: the OCS; the SCSI status must be GOOD when it is 0
 */
uint8_t ufs_ice_rw(QUfs *ufs, bool is_write, uint64_t offset, void *data,
                   size_t len, size_t seg, bool ce, uint8_t cci, uint64_t dun,
                   uint64_t guest);

#endif /* TESTS_QTEST_LIBQOS_UFS_ICE_H */
