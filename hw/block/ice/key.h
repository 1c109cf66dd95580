/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto engine (ICE): what a key holds, as the slot table
 * (engine.c), the key's lifetime (key.c) and its crypto (crypt.c) share
 * it
 */

#ifndef HW_BLOCK_ICE_KEY_H
#define HW_BLOCK_ICE_KEY_H

#include "qemu/atomic.h"
#include "qemu/thread.h"
#include "hw/block/ice-engine.h"

typedef struct IceCipherSet IceCipherSet;     /* crypt.c */

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
    unsigned pool_len;          /* how many (see crypt.c) */
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

/* Set up @key's first cipher set, validating the key with the backend */
bool ice_cipher_pool_init(IceKey *key, Error **errp);

/* Free @key's idle cipher sets */
void ice_cipher_pool_free(IceKey *key);

#endif /* HW_BLOCK_ICE_KEY_H */
