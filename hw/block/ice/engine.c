/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto engine (ICE): key slots and per-data-unit crypto on
 * libgcrypt
 *
 * See include/hw/block/ice-engine.h for the interface and the locking
 * rules.  libgcrypt is called directly: every data unit needs its own IV
 * or tweak, and QEMU's qcrypto_cipher API adds an indirect call and a
 * length check per unit for no benefit (libgcrypt is QEMU's crypto
 * backend in this build either way).
 */

#include "qemu/osdep.h"
#include <gcrypt.h>
#include "qapi/error.h"
#include "qemu/atomic.h"
#include "qemu/bswap.h"
#include "qemu/host-utils.h"
#include "qemu/thread.h"
#include "hw/block/ice-engine.h"
#include "trace.h"

/* Bytes of small ECB data units encrypted per libgcrypt call */
#define ICE_ECB_BATCH 4096

/* Every supported algorithm handles every data unit size, 512 B to 64 KiB */
#define ICE_DUS_MASK_ALL 0xff

static const struct {
    IceAlgorithm alg;
    IceKeySize key_size;
} ice_supported[ICE_CAPS_MAX] = {
    { ICE_ALG_AES_XTS, ICE_KEY_SIZE_128 },
    { ICE_ALG_AES_XTS, ICE_KEY_SIZE_256 },
    { ICE_ALG_BITLOCKER_AES_CBC, ICE_KEY_SIZE_128 },
    { ICE_ALG_BITLOCKER_AES_CBC, ICE_KEY_SIZE_256 },
    { ICE_ALG_AES_ECB, ICE_KEY_SIZE_128 },
    { ICE_ALG_AES_ECB, ICE_KEY_SIZE_192 },
    { ICE_ALG_AES_ECB, ICE_KEY_SIZE_256 },
    { ICE_ALG_ESSIV_AES_CBC, ICE_KEY_SIZE_128 },
    { ICE_ALG_ESSIV_AES_CBC, ICE_KEY_SIZE_256 },
};

/*
 * The libgcrypt handles one request needs.  A handle carries IV state, so
 * a set is used by one request at a time; each key keeps a pool of sets.
 */
typedef struct IceCipherSet {
    struct IceCipherSet *next;
    gcry_cipher_hd_t data;      /* XTS, CBC or ECB with the data key */
    gcry_cipher_hd_t ivgen;     /* ECB that turns a DUN into an IV, or NULL */
    uint8_t *scratch;           /* one data unit, for units split in memory */
} IceCipherSet;

struct IceKey {
    int refcnt;
    IceSlotConfig cfg;
    unsigned dus_shift;         /* log2(data unit size) */
    QemuMutex pool_lock;
    IceCipherSet *pool;         /* idle cipher sets */
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
};

void ice_wipe(void *p, size_t len)
{
    memset(p, 0, len);
    /* The compiler must assume the cleared memory is read afterwards */
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

const char *ice_alg_name(IceAlgorithm alg)
{
    static const char *const names[ICE_ALG__MAX] = {
        [ICE_ALG_AES_XTS] = "aes-xts",
        [ICE_ALG_BITLOCKER_AES_CBC] = "bitlocker-aes-cbc",
        [ICE_ALG_AES_ECB] = "aes-ecb",
        [ICE_ALG_ESSIV_AES_CBC] = "essiv-aes-cbc",
    };

    return (unsigned)alg < ICE_ALG__MAX ? names[alg] : "unknown";
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

IceKeySize ice_key_size_from_bits(unsigned bits)
{
    for (IceKeySize ks = ICE_KEY_SIZE_128; ks < ICE_KEY_SIZE__MAX; ks++) {
        if (ice_key_size_bits(ks) == bits) {
            return ks;
        }
    }
    return ICE_KEY_SIZE_INVALID;
}

size_t ice_key_material_len(IceAlgorithm alg, IceKeySize key_size)
{
    size_t len = ice_key_size_bits(key_size) / 8;

    return alg == ICE_ALG_AES_XTS ? 2 * len : len;
}

static int ice_gcry_aes(size_t key_len)
{
    switch (key_len) {
    case 16:
        return GCRY_CIPHER_AES128;
    case 24:
        return GCRY_CIPHER_AES192;
    default:
        return GCRY_CIPHER_AES256;
    }
}

/* ---- engine and slots ---- */

IceEngine *ice_engine_new(unsigned num_slots, unsigned slot_offset)
{
    IceEngine *e = g_new0(IceEngine, 1);

    /* QEMU's crypto layer normally did this already; tools may not have */
    if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
        gcry_check_version(NULL);
        gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    }

    qemu_mutex_init(&e->lock);
    e->num_slots = num_slots;
    e->slot_offset = slot_offset;
    e->slots = g_new0(IceKey *, num_slots);
    return e;
}

void ice_engine_free(IceEngine *e)
{
    if (!e) {
        return;
    }
    for (unsigned i = 0; i < e->num_slots; i++) {
        ice_key_unref(e->slots[i]);
    }
    g_free(e->slots);
    qemu_mutex_destroy(&e->lock);
    g_free(e);
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
    for (size_t i = 0; i < ICE_CAPS_MAX && i < max; i++) {
        caps[i] = ice_cap_encode(ice_supported[i].alg, ICE_DUS_MASK_ALL,
                                 ice_supported[i].key_size);
    }
    return ICE_CAPS_MAX;
}

int ice_engine_check_config(const IceEngine *e, const IceSlotConfig *cfg,
                            Error **errp)
{
    uint32_t dus = cfg->data_unit_size;
    bool found = false;

    if ((unsigned)cfg->alg >= ICE_ALG__MAX) {
        error_setg(errp, "unknown crypto algorithm %u", cfg->alg);
        return -EINVAL;
    }
    for (size_t i = 0; i < ICE_CAPS_MAX; i++) {
        found |= ice_supported[i].alg == cfg->alg &&
                 ice_supported[i].key_size == cfg->key_size;
    }
    if (!found) {
        if (ice_key_size_bits(cfg->key_size)) {
            error_setg(errp, "%s does not support %u-bit keys",
                       ice_alg_name(cfg->alg),
                       ice_key_size_bits(cfg->key_size));
        } else {
            error_setg(errp, "invalid key size identifier %u",
                       cfg->key_size);
        }
        return -EINVAL;
    }
    if (dus < ICE_DATA_UNIT_MIN || dus > ICE_DATA_UNIT_MAX ||
        !is_power_of_2(dus) ||
        !(ICE_DUS_MASK_ALL & (dus / ICE_DATA_UNIT_MIN))) {
        error_setg(errp, "data unit size %" PRIu32 " is not a power of two "
                   "from %d to %d", dus, ICE_DATA_UNIT_MIN, ICE_DATA_UNIT_MAX);
        return -EINVAL;
    }
    return 0;
}

int ice_engine_check_slot(const IceEngine *e, unsigned slot, Error **errp)
{
    if (slot < e->slot_offset || slot - e->slot_offset >= e->num_slots) {
        error_setg(errp, "slot %u is out of range (valid slots: %u to %u)",
                   slot, e->slot_offset, e->slot_offset + e->num_slots - 1);
        return -EINVAL;
    }
    return 0;
}

/* Index of @slot in e->slots[], or -EINVAL */
static int ice_engine_slot_index(const IceEngine *e, unsigned slot,
                                 Error **errp)
{
    int ret = ice_engine_check_slot(e, slot, errp);

    return ret < 0 ? ret : (int)(slot - e->slot_offset);
}

static void ice_cipher_set_free(IceCipherSet *cs)
{
    /* gcry_cipher_close() wipes the expanded keys */
    gcry_cipher_close(cs->data);
    gcry_cipher_close(cs->ivgen);
    if (cs->scratch) {
        ice_wipe(cs->scratch, ICE_DATA_UNIT_MAX);
        g_free(cs->scratch);
    }
    g_free(cs);
}

static IceCipherSet *ice_cipher_set_new(const IceKey *key)
{
    IceCipherSet *cs = g_new0(IceCipherSet, 1);
    size_t aes_len = key->cfg.alg == ICE_ALG_AES_XTS ? key->key_len / 2
                                                      : key->key_len;
    int mode;

    switch (key->cfg.alg) {
    case ICE_ALG_AES_XTS:
        mode = GCRY_CIPHER_MODE_XTS;
        break;
    case ICE_ALG_AES_ECB:
        mode = GCRY_CIPHER_MODE_ECB;
        break;
    default:
        mode = GCRY_CIPHER_MODE_CBC;
        break;
    }
    if (gcry_cipher_open(&cs->data, ice_gcry_aes(aes_len), mode, 0) ||
        gcry_cipher_setkey(cs->data, key->key, key->key_len)) {
        goto fail;
    }
    if (key->ivgen_key_len) {
        if (gcry_cipher_open(&cs->ivgen, ice_gcry_aes(key->ivgen_key_len),
                             GCRY_CIPHER_MODE_ECB, 0) ||
            gcry_cipher_setkey(cs->ivgen, key->ivgen_key,
                               key->ivgen_key_len)) {
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
                           size_t len, Error **errp)
{
    IceKey *key = g_new0(IceKey, 1);
    IceCipherSet *cs;

    key->refcnt = 1;
    key->cfg = *cfg;
    key->dus_shift = ctz32(cfg->data_unit_size);
    qemu_mutex_init(&key->pool_lock);
    key->key_len = len;
    memcpy(key->key, bytes, len);

    switch (cfg->alg) {
    case ICE_ALG_BITLOCKER_AES_CBC:
        memcpy(key->ivgen_key, bytes, len);
        key->ivgen_key_len = len;
        break;
    case ICE_ALG_ESSIV_AES_CBC:
        /* ESSIV salt: SHA-256 of the key, used as an AES-256 key */
        gcry_md_hash_buffer(GCRY_MD_SHA256, key->ivgen_key, bytes, len);
        key->ivgen_key_len = 32;
        break;
    default:
        break;
    }

    /* Set up one cipher set now: it validates the key with libgcrypt */
    cs = ice_cipher_set_new(key);
    if (!cs) {
        error_setg(errp, "libgcrypt rejected the %u-bit %s key",
                   ice_key_size_bits(cfg->key_size), ice_alg_name(cfg->alg));
        ice_key_free(key);
        return NULL;
    }
    key->pool = cs;
    return key;
}

int ice_engine_program_slot(IceEngine *e, unsigned slot,
                            const IceSlotConfig *cfg,
                            const uint8_t *key, size_t key_len,
                            Error **errp)
{
    int idx = ice_engine_slot_index(e, slot, errp);
    size_t want;
    IceKey *new_key, *old_key;

    if (idx < 0 || ice_engine_check_config(e, cfg, errp) < 0) {
        return -EINVAL;
    }
    want = ice_key_material_len(cfg->alg, cfg->key_size);
    if (key_len != want) {
        error_setg(errp, "key is %zu bytes long, %u-bit %s needs %zu",
                   key_len, ice_key_size_bits(cfg->key_size),
                   ice_alg_name(cfg->alg), want);
        return -EINVAL;
    }
    /* IEEE 1619 requires distinct data and tweak keys */
    if (cfg->alg == ICE_ALG_AES_XTS &&
        !memcmp(key, key + key_len / 2, key_len / 2)) {
        error_setg(errp, "the two halves of an XTS key must differ");
        return -EINVAL;
    }

    new_key = ice_key_new(cfg, key, key_len, errp);
    if (!new_key) {
        return -EINVAL;
    }

    qemu_mutex_lock(&e->lock);
    old_key = e->slots[idx];
    e->slots[idx] = new_key;
    qemu_mutex_unlock(&e->lock);

    trace_ice_engine_program_slot(slot, ice_alg_name(cfg->alg),
                                  ice_key_size_bits(cfg->key_size),
                                  cfg->data_unit_size, old_key != NULL);
    ice_key_unref(old_key);
    return 0;
}

int ice_engine_evict_slot(IceEngine *e, unsigned slot, Error **errp)
{
    int idx = ice_engine_slot_index(e, slot, errp);
    IceKey *old_key;

    if (idx < 0) {
        return -EINVAL;
    }
    qemu_mutex_lock(&e->lock);
    old_key = e->slots[idx];
    e->slots[idx] = NULL;
    qemu_mutex_unlock(&e->lock);

    trace_ice_engine_evict_slot(slot, old_key != NULL);
    ice_key_unref(old_key);
    return 0;
}

bool ice_engine_query_slot(IceEngine *e, unsigned slot, IceSlotConfig *cfg)
{
    IceKey *key = ice_engine_get_key(e, slot, NULL);

    if (!key) {
        return false;
    }
    *cfg = key->cfg;
    ice_key_unref(key);
    return true;
}

IceKey *ice_engine_get_key(IceEngine *e, unsigned slot, Error **errp)
{
    int idx = ice_engine_slot_index(e, slot, errp);
    IceKey *key;

    if (idx < 0) {
        return NULL;
    }
    qemu_mutex_lock(&e->lock);
    key = e->slots[idx];
    if (key) {
        qatomic_inc(&key->refcnt);
    }
    qemu_mutex_unlock(&e->lock);

    if (!key) {
        error_setg(errp, "slot %u holds no key", slot);
    }
    return key;
}

int ice_key_check_request(const IceKey *key, uint64_t offset, uint64_t len,
                          uint64_t dun, Error **errp)
{
    uint64_t dus = key->cfg.data_unit_size;
    uint64_t units = len >> key->dus_shift;

    if (offset & (dus - 1)) {
        error_setg(errp, "offset %" PRIu64 " is not a multiple of the data "
                   "unit size %" PRIu64, offset, dus);
        return -EINVAL;
    }
    if (len & (dus - 1)) {
        error_setg(errp, "length %" PRIu64 " is not a multiple of the data "
                   "unit size %" PRIu64, len, dus);
        return -EINVAL;
    }
    if (units && dun > UINT64_MAX - (units - 1)) {
        error_setg(errp, "data unit number %" PRIu64 " plus %" PRIu64
                   " units overflows 64 bits", dun, units);
        return -EINVAL;
    }
    return 0;
}

/* ---- per-data-unit crypto ---- */

static IceCipherSet *ice_key_take_cipher(IceKey *key)
{
    IceCipherSet *cs;

    qemu_mutex_lock(&key->pool_lock);
    cs = key->pool;
    if (cs) {
        key->pool = cs->next;
    }
    qemu_mutex_unlock(&key->pool_lock);

    /* More concurrent users than ever before: grow the pool by one */
    return cs ? cs : ice_cipher_set_new(key);
}

static void ice_key_return_cipher(IceKey *key, IceCipherSet *cs)
{
    qemu_mutex_lock(&key->pool_lock);
    cs->next = key->pool;
    key->pool = cs;
    qemu_mutex_unlock(&key->pool_lock);
}

/* Load the IV (or XTS tweak) for data unit @dun into the data handle */
static int ice_set_iv(const IceKey *key, IceCipherSet *cs, uint64_t dun)
{
    uint64_t block[2];

    switch (key->cfg.alg) {
    case ICE_ALG_AES_XTS:
        /* IEEE 1619: the tweak is the DUN as a 128-bit little-endian value */
        block[0] = cpu_to_le64(dun);
        block[1] = 0;
        return gcry_cipher_setiv(cs->data, block, sizeof(block));
    case ICE_ALG_BITLOCKER_AES_CBC:
        /* IV = AES-ECB_K(LE128(byte offset of the unit)), 128-bit product */
        block[0] = cpu_to_le64(dun << key->dus_shift);
        block[1] = cpu_to_le64(dun >> (64 - key->dus_shift));
        break;
    case ICE_ALG_ESSIV_AES_CBC:
        /* IV = AES-256-ECB_{SHA-256(K)}(LE128(DUN)) */
        block[0] = cpu_to_le64(dun);
        block[1] = 0;
        break;
    default:
        return 0;
    }
    if (gcry_cipher_encrypt(cs->ivgen, block, sizeof(block), NULL, 0)) {
        return -1;
    }
    return gcry_cipher_setiv(cs->data, block, sizeof(block));
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

static int ice_key_crypt(IceKey *key, bool encrypt, uint64_t dun,
                         const QEMUIOVector *qiov, uint8_t *dst)
{
    size_t dus = key->cfg.data_unit_size;
    IceSgCursor c = { .iov = qiov->iov, .niov = qiov->niov };
    IceCipherSet *cs;
    int ret = 0;

    if (qiov->size & (dus - 1)) {
        return -EINVAL;
    }
    if (!qiov->size) {
        return 0;
    }
    cs = ice_key_take_cipher(key);
    if (!cs) {
        return -EIO;
    }

    ice_sg_advance(&c, 0);
    for (size_t done = 0, n = dus; done < qiov->size;
         done += n, dun += n / dus) {
        uint8_t *seg = (uint8_t *)c.iov[c.idx].iov_base + c.off;
        size_t seg_left = c.iov[c.idx].iov_len - c.off;
        bool contiguous = seg_left >= dus;
        gcry_error_t err;

        /*
         * ECB has no per-unit state: small units are handed to libgcrypt
         * in batches of up to ICE_ECB_BATCH bytes (measured: fewer calls
         * help, longer ones than that are slower than one call per unit).
         */
        n = dus;
        if (key->cfg.alg == ICE_ALG_AES_ECB && dus < ICE_ECB_BATCH &&
            contiguous) {
            n = MIN(MIN(seg_left, qiov->size - done), ICE_ECB_BATCH) &
                ~(dus - 1);
        }

        if (ice_set_iv(key, cs, dun)) {
            ret = -EIO;
            break;
        }
        if (encrypt && contiguous) {
            err = gcry_cipher_encrypt(cs->data, dst + done, n, seg, n);
        } else if (encrypt) {
            /* The unit is split in guest memory: gather it, then encrypt */
            iov_to_buf(qiov->iov, qiov->niov, done, dst + done, dus);
            err = gcry_cipher_encrypt(cs->data, dst + done, dus, NULL, 0);
        } else if (contiguous) {
            err = gcry_cipher_decrypt(cs->data, seg, n, NULL, 0);
        } else {
            if (!cs->scratch) {
                cs->scratch = g_malloc(ICE_DATA_UNIT_MAX);
            }
            iov_to_buf(qiov->iov, qiov->niov, done, cs->scratch, dus);
            err = gcry_cipher_decrypt(cs->data, cs->scratch, dus, NULL, 0);
            iov_from_buf(qiov->iov, qiov->niov, done, cs->scratch, dus);
        }
        if (err) {
            ret = -EIO;
            break;
        }
        ice_sg_advance(&c, n);
    }

    ice_key_return_cipher(key, cs);
    return ret;
}

int ice_key_encrypt(IceKey *key, uint64_t dun, const QEMUIOVector *src,
                    void *dst)
{
    return ice_key_crypt(key, true, dun, src, dst);
}

int ice_key_decrypt(IceKey *key, uint64_t dun, QEMUIOVector *qiov)
{
    return ice_key_crypt(key, false, dun, qiov, NULL);
}
