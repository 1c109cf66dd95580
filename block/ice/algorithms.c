/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto engine (ICE): the algorithms of the specification, their
 * names and key sizes, and how each maps onto QEMU's crypto layer
 *
 * The capability table lives here once: every wire format (the virtio
 * capabilities reply, a controller's capability registers) packs the
 * rows ice_engine_get_caps() returns in its own layout.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/util.h"
#include "crypto/cipher.h"
#include "crypto/hash.h"
#include "block/ice-engine.h"
#include "algorithms.h"

/* What the specification defines and this engine implements */
static const struct {
    IceCryptoAlgorithm alg;
    IceKeySize key_size;
} ice_spec_caps[ICE_CAPS_MAX] = {
    { ICE_CRYPTO_ALGORITHM_AES_XTS, ICE_KEY_SIZE_128 },
    { ICE_CRYPTO_ALGORITHM_AES_XTS, ICE_KEY_SIZE_256 },
    { ICE_CRYPTO_ALGORITHM_BITLOCKER_AES_CBC, ICE_KEY_SIZE_128 },
    { ICE_CRYPTO_ALGORITHM_BITLOCKER_AES_CBC, ICE_KEY_SIZE_256 },
    { ICE_CRYPTO_ALGORITHM_AES_ECB, ICE_KEY_SIZE_128 },
    { ICE_CRYPTO_ALGORITHM_AES_ECB, ICE_KEY_SIZE_192 },
    { ICE_CRYPTO_ALGORITHM_AES_ECB, ICE_KEY_SIZE_256 },
    { ICE_CRYPTO_ALGORITHM_ESSIV_AES_CBC, ICE_KEY_SIZE_128 },
    { ICE_CRYPTO_ALGORITHM_ESSIV_AES_CBC, ICE_KEY_SIZE_256 },
};

const char *ice_alg_name(IceCryptoAlgorithm alg)
{
    return (unsigned)alg < ICE_CRYPTO_ALGORITHM__MAX ?
           IceCryptoAlgorithm_str(alg) : "unknown";
}

bool ice_alg_parse(const char *name, IceCryptoAlgorithm *alg, Error **errp)
{
    int val = qapi_enum_parse(&IceCryptoAlgorithm_lookup, name, -1, NULL);
    g_autoptr(GString) known = NULL;

    if (val >= 0) {
        *alg = val;
        return true;
    }
    known = g_string_new("");
    for (int i = 0; i < IceCryptoAlgorithm_lookup.size; i++) {
        g_string_append_printf(known, "%s%s", i ? ", " : "",
                               IceCryptoAlgorithm_str(i));
    }
    error_setg(errp, "unknown algorithm '%s' (known: %s)", name, known->str);
    return false;
}

unsigned ice_key_size_bits(IceKeySize key_size)
{
    static const unsigned bits[ICE_KEY_SIZE__MAX] = {
        [ICE_KEY_SIZE_128] = 128,
        [ICE_KEY_SIZE_192] = 192,
        [ICE_KEY_SIZE_256] = 256,
        [ICE_KEY_SIZE_512] = 512,
    };

    return (unsigned)key_size < ICE_KEY_SIZE__MAX ? bits[key_size] : 0;
}

bool ice_key_size_parse(unsigned bits, IceKeySize *key_size, Error **errp)
{
    for (IceKeySize ks = ICE_KEY_SIZE_128; ks < ICE_KEY_SIZE__MAX; ks++) {
        if (ice_key_size_bits(ks) == bits) {
            *key_size = ks;
            return true;
        }
    }
    error_setg(errp, "key size %u is not 128, 192, 256 or 512 bits", bits);
    return false;
}

size_t ice_key_material_len(IceCryptoAlgorithm alg, IceKeySize key_size)
{
    size_t len = ice_key_size_bits(key_size) / 8;

    return alg == ICE_CRYPTO_ALGORITHM_AES_XTS ? 2 * len : len;
}

bool ice_spec_has(IceCryptoAlgorithm alg, IceKeySize key_size)
{
    for (size_t i = 0; i < ICE_CAPS_MAX; i++) {
        if (ice_spec_caps[i].alg == alg &&
            ice_spec_caps[i].key_size == key_size) {
            return true;
        }
    }
    return false;
}

/* ---- mapping onto QEMU's crypto layer ---- */

/* QEMU's AES cipher for each key size; AES has no 512-bit keys */
static const QCryptoCipherAlgo ice_aes_tbl[ICE_KEY_SIZE__MAX] = {
    [ICE_KEY_SIZE_INVALID] = QCRYPTO_CIPHER_ALGO__MAX,
    [ICE_KEY_SIZE_128] = QCRYPTO_CIPHER_ALGO_AES_128,
    [ICE_KEY_SIZE_192] = QCRYPTO_CIPHER_ALGO_AES_192,
    [ICE_KEY_SIZE_256] = QCRYPTO_CIPHER_ALGO_AES_256,
    [ICE_KEY_SIZE_512] = QCRYPTO_CIPHER_ALGO__MAX,
};

/* The cipher mode of each algorithm's data key */
static const QCryptoCipherMode ice_mode_tbl[ICE_CRYPTO_ALGORITHM__MAX] = {
    [ICE_CRYPTO_ALGORITHM_AES_XTS] = QCRYPTO_CIPHER_MODE_XTS,
    [ICE_CRYPTO_ALGORITHM_BITLOCKER_AES_CBC] = QCRYPTO_CIPHER_MODE_CBC,
    [ICE_CRYPTO_ALGORITHM_AES_ECB] = QCRYPTO_CIPHER_MODE_ECB,
    [ICE_CRYPTO_ALGORITHM_ESSIV_AES_CBC] = QCRYPTO_CIPHER_MODE_CBC,
};

QCryptoCipherAlgo ice_ivgen_aes(IceCryptoAlgorithm alg,
                                       IceKeySize key_size)
{
    switch (alg) {
    case ICE_CRYPTO_ALGORITHM_BITLOCKER_AES_CBC:
        return ice_aes_tbl[key_size];
    case ICE_CRYPTO_ALGORITHM_ESSIV_AES_CBC:
        return QCRYPTO_CIPHER_ALGO_AES_256;
    default:
        return QCRYPTO_CIPHER_ALGO__MAX;
    }
}

/* Whether QEMU's crypto backend can do @alg with @key_size */
static bool ice_backend_supports(IceCryptoAlgorithm alg, IceKeySize key_size)
{
    QCryptoCipherAlgo ivgen = ice_ivgen_aes(alg, key_size);

    return qcrypto_cipher_supports(ice_aes_tbl[key_size], ice_mode_tbl[alg]) &&
           (ivgen == QCRYPTO_CIPHER_ALGO__MAX ||
            qcrypto_cipher_supports(ivgen, QCRYPTO_CIPHER_MODE_ECB)) &&
           (alg != ICE_CRYPTO_ALGORITHM_ESSIV_AES_CBC ||
            qcrypto_hash_supports(QCRYPTO_HASH_ALGO_SHA256));
}

QCryptoCipherAlgo ice_data_aes(IceKeySize key_size)
{
    return ice_aes_tbl[key_size];
}

QCryptoCipherMode ice_data_mode(IceCryptoAlgorithm alg)
{
    return ice_mode_tbl[alg];
}

size_t ice_backend_caps(IceCap caps[ICE_CAPS_MAX])
{
    size_t n = 0;

    for (size_t i = 0; i < ICE_CAPS_MAX; i++) {
        if (ice_backend_supports(ice_spec_caps[i].alg,
                                 ice_spec_caps[i].key_size)) {
            caps[n++] = (IceCap) {
                .alg = ice_spec_caps[i].alg,
                .dus_mask = ICE_DUS_MASK_ALL,
                .key_size = ice_spec_caps[i].key_size,
            };
        }
    }
    return n;
}
