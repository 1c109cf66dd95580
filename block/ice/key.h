/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto engine (ICE): what a key holds, as the slot table
 * (engine.c), the key's lifetime and cipher state (key.c) and its crypto
 * (crypt.c) share it
 */

#ifndef BLOCK_ICE_KEY_H
#define BLOCK_ICE_KEY_H

#include "qemu/atomic.h"
#include "qemu/thread.h"
#include "crypto/cipher.h"
#include "block/ice-engine.h"

/* IVs of the CBC modes computed by one ECB call (see ice_gen_ivs()) */
#define ICE_IV_BATCH    64

/*
 * The cipher objects one request needs: a QCryptoCipher carries IV state
 * and is not thread-safe, so a set is used by one request at a time
 * (key.c keeps them)
 */
typedef struct IceCipherSet IceCipherSet;
struct IceCipherSet {
    IceCipherSet *next;
    QCryptoCipher *data;        /* XTS, CBC or ECB with the data key */
    QCryptoCipher *ivgen;       /* ECB that turns a DUN into an IV, or NULL */
    /* The IVs of data units @iv_dun to @iv_dun + @iv_count - 1 */
    uint64_t iv_dun;
    unsigned iv_count;
    uint64_t ivs[ICE_IV_BATCH][2];
};

/*
 * Immutable once made, apart from the reference count and the pool of
 * idle cipher sets
 */
struct IceKey {
    int refcnt;
    IceSlotConfig cfg;
    char *id;                   /* where the key came from, or NULL */
    const void *channel;        /* what handed a guest's key over, or NULL */
    unsigned dus_shift;         /* log2(data unit size) */
    QemuMutex pool_lock;
    IceCipherSet *pool;         /* idle cipher sets */
    unsigned pool_len;          /* how many (see key.c) */
    size_t key_len;
    uint8_t key[ICE_KEY_MATERIAL_MAX];
    size_t ivgen_key_len;
    uint8_t ivgen_key[32];      /* BitLocker: the key; ESSIV: SHA-256(key) */
};

/**
 * ice_key_new:
 * @cfg: a configuration the engine supports
 * @bytes: key material, ice_key_material_len() bytes
 * @len: its length
 * @id: the secret's id, or NULL
 * @channel: what handed a guest's key over, or NULL
 * @errp: pointer to a NULL-initialized error object
 *
 * Returns: a key with one reference, or NULL with @errp set if the crypto
 * backend refused it
 */
IceKey *ice_key_new(const IceSlotConfig *cfg, const uint8_t *bytes,
                    size_t len, const char *id, const void *channel,
                    Error **errp);

static inline IceKey *ice_key_ref(IceKey *key)
{
    qatomic_inc(&key->refcnt);
    return key;
}

/**
 * ice_key_take_cipher:
 * @key: a key reference
 * @errp: pointer to a NULL-initialized error object
 *
 * Context: any thread; never waits for another user of @key
 *
 * Returns: a cipher set for the caller alone, or NULL with @errp set if
 * a new one could not be made; give it back with ice_key_return_cipher()
 */
IceCipherSet *ice_key_take_cipher(IceKey *key, Error **errp);

void ice_key_return_cipher(IceKey *key, IceCipherSet *cs);

#endif /* BLOCK_ICE_KEY_H */
