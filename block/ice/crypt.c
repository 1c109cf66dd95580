/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto engine (ICE): per-data-unit crypto on QEMU's crypto
 * layer
 *
 * Each data unit is one qcrypto_cipher_setiv() and one
 * qcrypto_cipher_encrypt() or _decrypt() call on a QCryptoCipher built
 * for the key, so whichever backend QEMU was built with does the AES.
 * The IVs of the two CBC modes are made with a second, AES-ECB
 * QCryptoCipher rather than with QCryptoIVGen: BitLocker's IV input is a
 * 128-bit byte offset, wider than QCryptoIVGen's 64-bit sector number,
 * and its ESSIV generator allocates a buffer per call, which the
 * per-data-unit loop cannot afford.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/bswap.h"
#include "crypto/cipher.h"
#include "block/ice-engine.h"
#include "key.h"

/* Bytes of small ECB data units encrypted per backend call */
#define ICE_ECB_BATCH 4096

/*
 * Compute the CBC IVs of data units @dun to @dun + @n - 1 into @cs->ivs
 * with one ECB call: per data unit, a call of its own cost CBC
 * decryption (about 20 GB/s here) 5-10% of its speed.
 */
static int ice_gen_ivs(const IceKey *key, IceCipherSet *cs, uint64_t dun,
                       unsigned n, Error **errp)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t d = dun + i;

        if (key->cfg.alg == ICE_CRYPTO_ALGORITHM_BITLOCKER_AES_CBC) {
            /* IV = AES-ECB_K(LE128(byte offset of the unit)), 128 bits */
            cs->ivs[i][0] = cpu_to_le64(d << key->dus_shift);
            cs->ivs[i][1] = cpu_to_le64(d >> (64 - key->dus_shift));
        } else {
            /* ESSIV: IV = AES-256-ECB_{SHA-256(K)}(LE128(DUN)) */
            cs->ivs[i][0] = cpu_to_le64(d);
            cs->ivs[i][1] = 0;
        }
    }
    cs->iv_dun = dun;
    cs->iv_count = 0;
    if (qcrypto_cipher_encrypt(cs->ivgen, cs->ivs, cs->ivs,
                               n * sizeof(cs->ivs[0]), errp) < 0) {
        return -1;
    }
    cs->iv_count = n;
    return 0;
}

/*
 * Load the IV (or XTS tweak) for data unit @dun, the first of @units
 * still to do, into the data cipher
 */
static int ice_set_iv(const IceKey *key, IceCipherSet *cs, uint64_t dun,
                      uint64_t units, Error **errp)
{
    uint64_t block[2];

    switch (key->cfg.alg) {
    case ICE_CRYPTO_ALGORITHM_AES_XTS:
        /* IEEE 1619: the tweak is the DUN as a 128-bit little-endian value */
        block[0] = cpu_to_le64(dun);
        block[1] = 0;
        return qcrypto_cipher_setiv(cs->data, (uint8_t *)block,
                                    sizeof(block), errp);
    case ICE_CRYPTO_ALGORITHM_BITLOCKER_AES_CBC:
    case ICE_CRYPTO_ALGORITHM_ESSIV_AES_CBC:
        if ((dun - cs->iv_dun >= cs->iv_count) &&
            ice_gen_ivs(key, cs, dun, MIN(units, ICE_IV_BATCH), errp) < 0) {
            return -1;
        }
        return qcrypto_cipher_setiv(cs->data,
                                    (uint8_t *)cs->ivs[dun - cs->iv_dun],
                                    sizeof(cs->ivs[0]), errp);
    default:
        return 0;
    }
}

/* Position in a scatter-gather list */
typedef struct IceSgCursor {
    const struct iovec *iov;
    int niov;
    int idx;
    size_t off;
} IceSgCursor;

/* Step over @n bytes, and over any segments left empty at the end */
static void ice_sg_advance(IceSgCursor *c, size_t n)
{
    c->off += n;
    while (c->idx < c->niov && c->off >= c->iov[c->idx].iov_len) {
        c->off -= c->iov[c->idx].iov_len;
        c->idx++;
    }
}

static bool ice_key_crypt(IceKey *key, bool encrypt, uint64_t dun,
                          const QEMUIOVector *qiov, uint8_t *dst,
                          Error **errp)
{
    size_t dus = key->cfg.data_unit_size;
    IceSgCursor c = { .iov = qiov->iov, .niov = qiov->niov };
    IceCipherSet *cs;
    uint8_t *scratch = NULL;    /* one data unit, for units split in memory */
    int ret = 0;

    if (qiov->size & (dus - 1)) {
        error_setg(errp, "length %zu is not a multiple of the data unit "
                   "size %zu", qiov->size, dus);
        return false;
    }
    if (!qiov->size) {
        return true;
    }
    cs = ice_key_take_cipher(key, errp);
    if (!cs) {
        return false;
    }
    cs->iv_count = 0;           /* IVs of another request are of no use */

    ice_sg_advance(&c, 0);
    for (size_t done = 0, n = dus; done < qiov->size && ret == 0;
         done += n, dun += n / dus) {
        uint8_t *seg = (uint8_t *)c.iov[c.idx].iov_base + c.off;
        size_t seg_left = c.iov[c.idx].iov_len - c.off;
        bool contiguous = seg_left >= dus;

        /*
         * ECB has no per-unit state: small units are handed to the backend
         * in batches of up to ICE_ECB_BATCH bytes (measured: fewer calls
         * help, longer ones than that are slower than one call per unit).
         */
        n = dus;
        if (key->cfg.alg == ICE_CRYPTO_ALGORITHM_AES_ECB &&
            dus < ICE_ECB_BATCH && contiguous) {
            n = MIN(MIN(seg_left, qiov->size - done), ICE_ECB_BATCH) &
                ~(dus - 1);
        }

        if (ice_set_iv(key, cs, dun, (qiov->size - done) / dus,
                       errp) < 0) {
            ret = -1;
        } else if (encrypt && contiguous) {
            ret = qcrypto_cipher_encrypt(cs->data, seg, dst + done, n, errp);
        } else if (encrypt) {
            /* The unit is split in guest memory: gather it, then encrypt */
            iov_to_buf(qiov->iov, qiov->niov, done, dst + done, dus);
            ret = qcrypto_cipher_encrypt(cs->data, dst + done, dst + done,
                                         dus, errp);
        } else if (contiguous) {
            ret = qcrypto_cipher_decrypt(cs->data, seg, seg, n, errp);
        } else {
            if (!scratch) {
                scratch = g_malloc(dus);
            }
            iov_to_buf(qiov->iov, qiov->niov, done, scratch, dus);
            ret = qcrypto_cipher_decrypt(cs->data, scratch, scratch, dus,
                                         errp);
            iov_from_buf(qiov->iov, qiov->niov, done, scratch, dus);
        }
        ice_sg_advance(&c, n);
    }

    if (scratch) {
        ice_wipe(scratch, dus);
        g_free(scratch);
    }
    ice_key_return_cipher(key, cs);
    return ret == 0;
}

bool ice_key_encrypt(IceKey *key, uint64_t dun, const QEMUIOVector *src,
                     void *dst, Error **errp)
{
    return ice_key_crypt(key, true, dun, src, dst, errp);
}

bool ice_key_decrypt(IceKey *key, uint64_t dun, QEMUIOVector *qiov,
                     Error **errp)
{
    return ice_key_crypt(key, false, dun, qiov, NULL, errp);
}
