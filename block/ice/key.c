/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto engine (ICE): a key's lifetime, from the bytes handed to
 * the engine to the wiped memory, its cipher state, and what a request
 * may ask of it
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/host-utils.h"
#include "crypto/hash.h"
#include "block/ice-engine.h"
#include "algorithms.h"
#include "key.h"
#include "trace.h"

void ice_wipe(void *p, size_t len)
{
    memset(p, 0, len);
    /* The compiler must assume the cleared memory is read afterwards */
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

/* ---- cipher state ---- */

/*
 * The cipher objects one request needs.  A QCryptoCipher carries IV state
 * and is not thread-safe, so a set is used by one request at a time.  A
 * key keeps up to ICE_IDLE_SETS_MAX idle sets for the next requests; a
 * caller finding none makes a set of its own, and a set returned to a
 * full pool is freed.  So a key holds at most as many sets as it has
 * concurrent users, and no more than ICE_IDLE_SETS_MAX once they are
 * done: concurrent users are bounded by the worker threads a data path
 * may use (one per host CPU) and the threads doing small requests'
 * crypto inline (the device's IOThreads or the main loop).
 */
#define ICE_IDLE_SETS_MAX   2

static void ice_cipher_set_free(IceCipherSet *cs)
{
    /* The backend frees the expanded keys (see the security notes) */
    qcrypto_cipher_free(cs->data);
    qcrypto_cipher_free(cs->ivgen);
    ice_wipe(cs->ivs, sizeof(cs->ivs));
    g_free(cs);
}

static IceCipherSet *ice_cipher_set_new(const IceKey *key, Error **errp)
{
    IceCipherSet *cs = g_new0(IceCipherSet, 1);
    cs->data = qcrypto_cipher_new(ice_data_aes(key->cfg.key_size),
                                  ice_data_mode(key->cfg.alg), key->key,
                                  key->key_len, errp);
    if (!cs->data) {
        goto fail;
    }
    if (key->ivgen_key_len) {
        cs->ivgen = qcrypto_cipher_new(ice_ivgen_aes(key->cfg.alg,
                                                     key->cfg.key_size),
                                       QCRYPTO_CIPHER_MODE_ECB,
                                       key->ivgen_key, key->ivgen_key_len,
                                       errp);
        if (!cs->ivgen) {
            goto fail;
        }
    }
    return cs;

fail:
    ice_cipher_set_free(cs);
    return NULL;
}

static bool ice_cipher_pool_init(IceKey *key, Error **errp)
{
    key->pool = ice_cipher_set_new(key, errp);
    key->pool_len = !!key->pool;
    return key->pool != NULL;
}

static void ice_cipher_pool_free(IceKey *key)
{
    while (key->pool) {
        IceCipherSet *cs = key->pool;

        key->pool = cs->next;
        ice_cipher_set_free(cs);
    }
    key->pool_len = 0;
}

IceCipherSet *ice_key_take_cipher(IceKey *key, Error **errp)
{
    IceCipherSet *cs;

    qemu_mutex_lock(&key->pool_lock);
    cs = key->pool;
    if (cs) {
        key->pool = cs->next;
        key->pool_len--;
    }
    qemu_mutex_unlock(&key->pool_lock);

    /* Every idle set is in use: this caller gets one of its own */
    return cs ? cs : ice_cipher_set_new(key, errp);
}

void ice_key_return_cipher(IceKey *key, IceCipherSet *cs)
{
    bool keep;

    qemu_mutex_lock(&key->pool_lock);
    keep = key->pool_len < ICE_IDLE_SETS_MAX;
    if (keep) {
        cs->next = key->pool;
        key->pool = cs;
        key->pool_len++;
    }
    qemu_mutex_unlock(&key->pool_lock);

    if (!keep) {
        ice_cipher_set_free(cs);
    }
}

/* ---- lifetime ---- */

static IceKeyFreeObserver *ice_key_free_observer;

void ice_set_key_free_observer(IceKeyFreeObserver *fn)
{
    ice_key_free_observer = fn;
}

static void ice_key_free(IceKey *key)
{
    ice_cipher_pool_free(key);
    qemu_mutex_destroy(&key->pool_lock);
    g_free(key->id);
    ice_wipe(key, sizeof(*key));
    trace_ice_key_wiped(key);
    if (ice_key_free_observer) {
        ice_key_free_observer(key, sizeof(*key));
    }
    g_free(key);
}

void ice_key_unref(IceKey *key)
{
    if (key && qatomic_fetch_dec(&key->refcnt) == 1) {
        ice_key_free(key);
    }
}

const IceSlotConfig *ice_key_config(const IceKey *key)
{
    return &key->cfg;
}

IceKey *ice_key_new(const IceSlotConfig *cfg, const uint8_t *bytes,
                    size_t len, const char *id, const void *channel,
                    Error **errp)
{
    IceKey *key = g_new0(IceKey, 1);
    uint8_t *salt = key->ivgen_key;
    size_t salt_len = sizeof(key->ivgen_key);

    key->refcnt = 1;
    key->cfg = *cfg;
    key->id = g_strdup(id);
    key->channel = channel;
    key->dus_shift = ctz32(cfg->data_unit_size);
    qemu_mutex_init(&key->pool_lock);
    key->key_len = len;
    memcpy(key->key, bytes, len);

    switch (cfg->alg) {
    case ICE_CRYPTO_ALGORITHM_BITLOCKER_AES_CBC:
        memcpy(key->ivgen_key, bytes, len);
        key->ivgen_key_len = len;
        break;
    case ICE_CRYPTO_ALGORITHM_ESSIV_AES_CBC:
        /* ESSIV salt: SHA-256 of the key, used as an AES-256 key */
        if (qcrypto_hash_bytes(QCRYPTO_HASH_ALGO_SHA256, (const char *)bytes,
                               len, &salt, &salt_len, errp) < 0) {
            goto fail;
        }
        key->ivgen_key_len = salt_len;
        break;
    default:
        break;
    }

    if (!ice_cipher_pool_init(key, errp)) {
        goto fail;
    }
    return key;

fail:
    error_prepend(errp, "cannot set up the %u-bit %s key: ",
                  ice_key_size_bits(cfg->key_size), ice_alg_name(cfg->alg));
    ice_key_free(key);
    return NULL;
}

bool ice_key_check_request(const IceKey *key, uint64_t offset, uint64_t len,
                           uint64_t dun, Error **errp)
{
    uint64_t dus = key->cfg.data_unit_size;
    uint64_t units = len >> key->dus_shift;

    if (offset & (dus - 1)) {
        error_setg(errp, "offset %" PRIu64 " is not a multiple of the data "
                   "unit size %" PRIu64, offset, dus);
        return false;
    }
    if (len & (dus - 1)) {
        error_setg(errp, "length %" PRIu64 " is not a multiple of the data "
                   "unit size %" PRIu64, len, dus);
        return false;
    }
    if (units && dun > UINT64_MAX - (units - 1)) {
        error_setg(errp, "data unit number %" PRIu64 " plus %" PRIu64
                   " units overflows 64 bits", dun, units);
        return false;
    }
    return true;
}
