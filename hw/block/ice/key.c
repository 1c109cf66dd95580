/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto engine (ICE): a key's lifetime, from the bytes handed to
 * the engine to the wiped memory, and what a request may ask of it
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/host-utils.h"
#include "crypto/hash.h"
#include "hw/block/ice-engine.h"
#include "key.h"
#include "trace.h"

void ice_wipe(void *p, size_t len)
{
    memset(p, 0, len);
    /* The compiler must assume the cleared memory is read afterwards */
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

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
