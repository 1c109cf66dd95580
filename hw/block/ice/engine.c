/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto engine (ICE): key slots and per-data-unit crypto on
 * QEMU's crypto layer
 *
 * See include/hw/block/ice-engine.h for the interface and the locking
 * rules.  Each data unit is one qcrypto_cipher_setiv() and one
 * qcrypto_cipher_encrypt() or _decrypt() call on a QCryptoCipher built
 * when the key was programmed, so whichever backend QEMU was built with
 * does the AES.  The IVs of the two CBC modes are made with a second,
 * AES-ECB QCryptoCipher rather than with QCryptoIVGen: BitLocker's IV
 * input is a 128-bit byte offset, wider than QCryptoIVGen's 64-bit sector
 * number, and its ESSIV generator allocates a buffer per call, which the
 * per-data-unit loop cannot afford.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/atomic.h"
#include "qemu/bswap.h"
#include "qemu/host-utils.h"
#include "qemu/notify.h"
#include "qemu/thread.h"
#include "qapi/util.h"
#include "crypto/cipher.h"
#include "crypto/hash.h"
#include "hw/block/ice-engine.h"
#include "trace.h"

/* Bytes of small ECB data units encrypted per backend call */
#define ICE_ECB_BATCH 4096

/* Every supported algorithm handles every data unit size, 512 B to 64 KiB */
#define ICE_DUS_MASK_ALL 0xff

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

/* IVs of the CBC modes computed by one ECB call (measured: see below) */
#define ICE_IV_BATCH    64

typedef struct IceCipherSet {
    struct IceCipherSet *next;
    QCryptoCipher *data;        /* XTS, CBC or ECB with the data key */
    QCryptoCipher *ivgen;       /* ECB that turns a DUN into an IV, or NULL */
    /* The IVs of data units @iv_dun to @iv_dun + @iv_count - 1 */
    uint64_t iv_dun;
    unsigned iv_count;
    uint64_t ivs[ICE_IV_BATCH][2];
} IceCipherSet;

struct IceKey {
    int refcnt;
    IceSlotConfig cfg;
    char *id;                   /* where the key came from, or NULL */
    const void *channel;        /* what handed a guest's key over, or NULL */
    unsigned dus_shift;         /* log2(data unit size) */
    QemuMutex pool_lock;
    IceCipherSet *pool;         /* idle cipher sets */
    unsigned pool_len;          /* how many, at most ICE_IDLE_SETS_MAX */
    size_t key_len;
    uint8_t key[ICE_KEY_MATERIAL_MAX];
    size_t ivgen_key_len;
    uint8_t ivgen_key[32];      /* BitLocker: the key; ESSIV: SHA-256(key) */
};

struct IceEngine {
    QemuMutex lock;             /* protects slots[] (the pointers only) */
    unsigned num_slots;
    unsigned slot_offset;
    IceKey **slots;
    unsigned num_guest_keys;    /* slots holding a key with a channel */
    const IceGuestKeyHooks *hooks;
    void *hooks_opaque;
    NotifierList free_notifiers;
    size_t num_caps;
    uint32_t caps[ICE_CAPS_MAX];    /* what the crypto backend supports */
};

void ice_wipe(void *p, size_t len)
{
    memset(p, 0, len);
    /* The compiler must assume the cleared memory is read afterwards */
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

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

/* Whether the specification defines @alg with @key_size */
static bool ice_spec_has(IceCryptoAlgorithm alg, IceKeySize key_size)
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
static const QCryptoCipherAlgo ice_aes[ICE_KEY_SIZE__MAX] = {
    [ICE_KEY_SIZE_INVALID] = QCRYPTO_CIPHER_ALGO__MAX,
    [ICE_KEY_SIZE_128] = QCRYPTO_CIPHER_ALGO_AES_128,
    [ICE_KEY_SIZE_192] = QCRYPTO_CIPHER_ALGO_AES_192,
    [ICE_KEY_SIZE_256] = QCRYPTO_CIPHER_ALGO_AES_256,
    [ICE_KEY_SIZE_512] = QCRYPTO_CIPHER_ALGO__MAX,
};

/* The cipher mode of each algorithm's data key */
static const QCryptoCipherMode ice_mode[ICE_CRYPTO_ALGORITHM__MAX] = {
    [ICE_CRYPTO_ALGORITHM_AES_XTS] = QCRYPTO_CIPHER_MODE_XTS,
    [ICE_CRYPTO_ALGORITHM_BITLOCKER_AES_CBC] = QCRYPTO_CIPHER_MODE_CBC,
    [ICE_CRYPTO_ALGORITHM_AES_ECB] = QCRYPTO_CIPHER_MODE_ECB,
    [ICE_CRYPTO_ALGORITHM_ESSIV_AES_CBC] = QCRYPTO_CIPHER_MODE_CBC,
};

/*
 * The AES cipher whose ECB makes the IVs of @alg: BitLocker's is keyed
 * with the key itself, ESSIV's with SHA-256 of it; QCRYPTO_CIPHER_ALGO__MAX
 * for the modes without an IV generator
 */
static QCryptoCipherAlgo ice_ivgen_aes(IceCryptoAlgorithm alg,
                                       IceKeySize key_size)
{
    switch (alg) {
    case ICE_CRYPTO_ALGORITHM_BITLOCKER_AES_CBC:
        return ice_aes[key_size];
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

    return qcrypto_cipher_supports(ice_aes[key_size], ice_mode[alg]) &&
           (ivgen == QCRYPTO_CIPHER_ALGO__MAX ||
            qcrypto_cipher_supports(ivgen, QCRYPTO_CIPHER_MODE_ECB)) &&
           (alg != ICE_CRYPTO_ALGORITHM_ESSIV_AES_CBC ||
            qcrypto_hash_supports(QCRYPTO_HASH_ALGO_SHA256));
}

/* ---- engine and slots ---- */

IceEngine *ice_engine_new(unsigned num_slots, unsigned slot_offset)
{
    IceEngine *e = g_new0(IceEngine, 1);

    qemu_mutex_init(&e->lock);
    e->num_slots = num_slots;
    e->slot_offset = slot_offset;
    e->slots = g_new0(IceKey *, num_slots);
    notifier_list_init(&e->free_notifiers);
    for (size_t i = 0; i < ICE_CAPS_MAX; i++) {
        if (ice_backend_supports(ice_spec_caps[i].alg,
                                 ice_spec_caps[i].key_size)) {
            e->caps[e->num_caps++] = ice_cap_encode(ice_spec_caps[i].alg,
                                                    ICE_DUS_MASK_ALL,
                                                    ice_spec_caps[i].key_size);
        }
    }
    return e;
}

void ice_engine_free(IceEngine *e)
{
    if (!e) {
        return;
    }
    /* Those bound to the engine let go of it before it goes */
    notifier_list_notify(&e->free_notifiers, e);
    for (unsigned i = 0; i < e->num_slots; i++) {
        ice_key_unref(e->slots[i]);
    }
    g_free(e->slots);
    qemu_mutex_destroy(&e->lock);
    g_free(e);
}

void ice_engine_add_free_notifier(IceEngine *e, Notifier *n)
{
    notifier_list_add(&e->free_notifiers, n);
}

void ice_engine_set_guest_key_hooks(IceEngine *e,
                                    const IceGuestKeyHooks *hooks,
                                    void *opaque)
{
    e->hooks = hooks;
    e->hooks_opaque = opaque;
}

unsigned ice_engine_num_guest_keys(const IceEngine *e)
{
    return e->num_guest_keys;
}

unsigned ice_engine_num_slots(const IceEngine *e)
{
    return e->num_slots;
}

unsigned ice_engine_slot_offset(const IceEngine *e)
{
    return e->slot_offset;
}

size_t ice_engine_get_caps(const IceEngine *e, uint32_t *caps, size_t max)
{
    if (caps) {
        memcpy(caps, e->caps, MIN(max, e->num_caps) * sizeof(caps[0]));
    }
    return e->num_caps;
}

bool ice_engine_check_config(const IceEngine *e, const IceSlotConfig *cfg,
                             Error **errp)
{
    uint32_t dus = cfg->data_unit_size;
    uint8_t dus_mask = 0;
    bool found = false;

    if ((unsigned)cfg->alg >= ICE_CRYPTO_ALGORITHM__MAX) {
        error_setg(errp, "unknown crypto algorithm %u", cfg->alg);
        return false;
    }
    if (!ice_key_size_bits(cfg->key_size)) {
        error_setg(errp, "invalid key size identifier %u", cfg->key_size);
        return false;
    }
    for (size_t i = 0; i < e->num_caps; i++) {
        if (ice_cap_alg(e->caps[i]) == cfg->alg &&
            ice_cap_key_size(e->caps[i]) == cfg->key_size) {
            found = true;
            dus_mask = ice_cap_dus_mask(e->caps[i]);
        }
    }
    if (!found) {
        if (!ice_spec_has(cfg->alg, cfg->key_size)) {
            error_setg(errp, "%s does not support %u-bit keys",
                       ice_alg_name(cfg->alg),
                       ice_key_size_bits(cfg->key_size));
        } else {
            error_setg(errp, "%s with %u-bit keys is not supported by this "
                       "QEMU's crypto backend", ice_alg_name(cfg->alg),
                       ice_key_size_bits(cfg->key_size));
        }
        return false;
    }
    if (dus < ICE_DATA_UNIT_MIN || dus > ICE_DATA_UNIT_MAX ||
        !is_power_of_2(dus) || !(dus_mask & (dus / ICE_DATA_UNIT_MIN))) {
        error_setg(errp, "data unit size %" PRIu32 " is not a power of two "
                   "from %d to %d", dus, ICE_DATA_UNIT_MIN, ICE_DATA_UNIT_MAX);
        return false;
    }
    return true;
}

bool ice_engine_check_slot(const IceEngine *e, unsigned slot, Error **errp)
{
    if (slot < e->slot_offset || slot - e->slot_offset >= e->num_slots) {
        error_setg(errp, "slot %u is out of range (valid slots: %u to %u)",
                   slot, e->slot_offset, e->slot_offset + e->num_slots - 1);
        return false;
    }
    return true;
}

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
    cs->data = qcrypto_cipher_new(ice_aes[key->cfg.key_size],
                                  ice_mode[key->cfg.alg], key->key,
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

static IceKeyFreeObserver *ice_key_free_observer;

void ice_set_key_free_observer(IceKeyFreeObserver *fn)
{
    ice_key_free_observer = fn;
}

static void ice_key_free(IceKey *key)
{
    while (key->pool) {
        IceCipherSet *cs = key->pool;

        key->pool = cs->next;
        ice_cipher_set_free(cs);
    }
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

static IceKey *ice_key_new(const IceSlotConfig *cfg, const uint8_t *bytes,
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

    /* Set up one cipher set now: it validates the key with the backend */
    key->pool = ice_cipher_set_new(key, errp);
    if (!key->pool) {
        goto fail;
    }
    key->pool_len = 1;
    return key;

fail:
    error_prepend(errp, "cannot set up the %u-bit %s key: ",
                  ice_key_size_bits(cfg->key_size), ice_alg_name(cfg->alg));
    ice_key_free(key);
    return NULL;
}

/*
 * Put @new_key (or nothing) into @slot, which is in range, and return the
 * key that was there.  Keeps the count of guest keys, and tells the front
 * end when the last one went.  Main loop only, as every slot change.
 */
static IceKey *ice_engine_swap(IceEngine *e, unsigned slot, IceKey *new_key)
{
    unsigned had_guest_keys = e->num_guest_keys;
    IceKey *old_key;

    qemu_mutex_lock(&e->lock);
    old_key = e->slots[slot - e->slot_offset];
    e->slots[slot - e->slot_offset] = new_key;
    if (new_key && new_key->channel) {
        e->num_guest_keys++;
    }
    if (old_key && old_key->channel) {
        e->num_guest_keys--;
    }
    qemu_mutex_unlock(&e->lock);

    if (had_guest_keys && !e->num_guest_keys && e->hooks) {
        e->hooks->released(e->hooks_opaque);
    }
    return old_key;
}

/* Program @slot with a host key (@key_id) or a guest's (@channel) */
static int ice_engine_program(IceEngine *e, unsigned slot,
                              const IceSlotConfig *cfg,
                              const uint8_t *key, size_t key_len,
                              const char *key_id, const void *channel,
                              Error **errp)
{
    size_t want;
    IceKey *new_key, *old_key;
    int ret;

    if (!ice_engine_check_slot(e, slot, errp) ||
        !ice_engine_check_config(e, cfg, errp)) {
        return -EINVAL;
    }
    want = ice_key_material_len(cfg->alg, cfg->key_size);
    if (key_len != want) {
        error_setg(errp, "key%s%s%s is %zu bytes long, a %u-bit %s key "
                   "needs %zu", key_id ? " '" : "", key_id ?: "",
                   key_id ? "'" : "", key_len,
                   ice_key_size_bits(cfg->key_size), ice_alg_name(cfg->alg),
                   want);
        return -EINVAL;
    }
    /* IEEE 1619 requires distinct data and tweak keys */
    if (cfg->alg == ICE_CRYPTO_ALGORITHM_AES_XTS &&
        !memcmp(key, key + key_len / 2, key_len / 2)) {
        error_setg(errp, "the two halves of an XTS key must differ");
        return -EINVAL;
    }

    new_key = ice_key_new(cfg, key, key_len, key_id, channel, errp);
    if (!new_key) {
        return -EINVAL;
    }
    /* The first key that cannot be migrated needs the front end's consent */
    if (channel && !e->num_guest_keys && e->hooks) {
        ret = e->hooks->admit(e->hooks_opaque, errp);
        if (ret < 0) {
            ice_key_unref(new_key);
            return ret;
        }
    }

    old_key = ice_engine_swap(e, slot, new_key);
    trace_ice_engine_program_slot(slot, ice_alg_name(cfg->alg),
                                  ice_key_size_bits(cfg->key_size),
                                  cfg->data_unit_size, old_key != NULL,
                                  channel != NULL);
    ice_key_unref(old_key);
    return 0;
}

bool ice_engine_program_slot(IceEngine *e, unsigned slot,
                             const IceSlotConfig *cfg,
                             const uint8_t *key, size_t key_len,
                             const char *key_id, Error **errp)
{
    return ice_engine_program(e, slot, cfg, key, key_len, key_id, NULL,
                              errp) == 0;
}

int ice_engine_program_guest_slot(IceEngine *e, unsigned slot,
                                  const IceSlotConfig *cfg,
                                  const uint8_t *key, size_t key_len,
                                  const void *channel, Error **errp)
{
    assert(channel);
    return ice_engine_program(e, slot, cfg, key, key_len, NULL, channel,
                              errp);
}

bool ice_engine_evict_slot(IceEngine *e, unsigned slot, Error **errp)
{
    IceKey *old_key;

    if (!ice_engine_check_slot(e, slot, errp)) {
        return false;
    }
    old_key = ice_engine_swap(e, slot, NULL);
    trace_ice_engine_evict_slot(slot, old_key != NULL);
    ice_key_unref(old_key);
    return true;
}

unsigned ice_engine_evict_channel(IceEngine *e, const void *channel)
{
    unsigned evicted = 0;

    for (unsigned i = 0; i < e->num_slots; i++) {
        IceKey *key = e->slots[i];      /* only the main loop writes it */

        if (key && key->channel == channel) {
            ice_engine_evict_slot(e, e->slot_offset + i, &error_abort);
            evicted++;
        }
    }
    return evicted;
}

bool ice_engine_query_slot(IceEngine *e, unsigned slot, IceSlotConfig *cfg,
                           char **key_id)
{
    IceKey *key = ice_engine_get_key(e, slot, NULL);

    if (!key) {
        return false;
    }
    *cfg = key->cfg;
    if (key_id) {
        *key_id = g_strdup(key->id);
    }
    ice_key_unref(key);
    return true;
}

IceKey *ice_engine_get_key(IceEngine *e, unsigned slot, Error **errp)
{
    IceKey *key;

    if (!ice_engine_check_slot(e, slot, errp)) {
        return NULL;
    }
    qemu_mutex_lock(&e->lock);
    key = e->slots[slot - e->slot_offset];
    if (key) {
        qatomic_inc(&key->refcnt);
    }
    qemu_mutex_unlock(&e->lock);

    if (!key) {
        error_setg(errp, "slot %u holds no key", slot);
    }
    return key;
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

/* ---- per-data-unit crypto ---- */

static IceCipherSet *ice_key_take_cipher(IceKey *key, Error **errp)
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

static void ice_key_return_cipher(IceKey *key, IceCipherSet *cs)
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
