/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto engine (ICE): the specification's algorithms as the
 * engine's files share them (block/ice/algorithms.c)
 */

#ifndef BLOCK_ICE_ALGORITHMS_H
#define BLOCK_ICE_ALGORITHMS_H

#include "crypto/cipher.h"
#include "block/ice-engine.h"

/* Every supported algorithm handles every data unit size, 512 B to 64 KiB */
#define ICE_DUS_MASK_ALL 0xff

/* Whether the specification defines @alg with @key_size */
bool ice_spec_has(IceCryptoAlgorithm alg, IceKeySize key_size);

/**
 * ice_backend_caps:
 * @caps: where to store the capability table
 *
 * Returns: how many of the specification's combinations QEMU's crypto
 * backend supports, stored in @caps in the order of the algorithm
 * identifiers, then of key sizes
 */
size_t ice_backend_caps(IceCap caps[ICE_CAPS_MAX]);

/* QEMU's cipher and mode for the data key of a supported combination */
QCryptoCipherAlgo ice_data_aes(IceKeySize key_size);
QCryptoCipherMode ice_data_mode(IceCryptoAlgorithm alg);

/*
 * The AES cipher whose ECB makes the IVs of @alg: BitLocker's is keyed
 * with the key itself, ESSIV's with SHA-256 of it; QCRYPTO_CIPHER_ALGO__MAX
 * for the modes without an IV generator
 */
QCryptoCipherAlgo ice_ivgen_aes(IceCryptoAlgorithm alg, IceKeySize key_size);

#endif /* BLOCK_ICE_ALGORITHMS_H */
