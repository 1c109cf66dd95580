/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Unit tests for the inline crypto engine (block/ice/)
 */

#include "qemu/osdep.h"
#include <gcrypt.h>
#include "qapi/error.h"
#include "qemu/bswap.h"
#include "qemu/iov.h"
#include "qemu/thread.h"
#include "crypto/init.h"
#include "block/ice-engine.h"

#include "tests/ice-vectors.h"

/* ---- helpers ---- */

static char *sha256_hex(const uint8_t *buf, size_t len)
{
    uint8_t digest[32];

    gcry_md_hash_buffer(GCRY_MD_SHA256, digest, buf, len);
    return tohex(digest, sizeof(digest));
}

static void aes_ecb_block(const uint8_t *key, size_t key_len, uint8_t *block)
{
    gcry_cipher_hd_t h;
    int algo = key_len == 16 ? GCRY_CIPHER_AES128 :
               key_len == 24 ? GCRY_CIPHER_AES192 : GCRY_CIPHER_AES256;

    g_assert(!gcry_cipher_open(&h, algo, GCRY_CIPHER_MODE_ECB, 0));
    g_assert(!gcry_cipher_setkey(h, key, key_len));
    g_assert(!gcry_cipher_encrypt(h, block, 16, NULL, 0));
    gcry_cipher_close(h);
}

/* The IV the spec prescribes for CBC unit @dun, computed without the engine */
static void reference_cbc_iv(const IceKat *t, const uint8_t *key,
                             size_t key_len, uint8_t iv[16])
{
    memset(iv, 0, 16);
    if (t->alg == ICE_BITLOCKER) {
        uint64_t off = t->dun * t->dus;        /* rows keep this below 2^64 */

        stq_le_p(iv, off);
        aes_ecb_block(key, key_len, iv);
    } else {
        uint8_t salt[32];

        stq_le_p(iv, t->dun);
        gcry_md_hash_buffer(GCRY_MD_SHA256, salt, key, key_len);
        aes_ecb_block(salt, sizeof(salt), iv);
    }
}

static IceEngine *engine_with_slot(unsigned slot, IceCryptoAlgorithm alg,
                                   IceKeySize ks, uint32_t dus,
                                   const uint8_t *key, size_t key_len)
{
    IceEngine *e = ice_engine_new(8, slot);
    IceSlotConfig cfg = { .alg = alg, .key_size = ks, .data_unit_size = dus };

    ice_engine_program_slot(e, slot, &cfg, key, key_len, NULL, &error_abort);
    return e;
}

/*
 * Split [buf, buf + len) into a random segment layout: zero-length
 * segments, single bytes, and longer runs.
 */
static void random_split(QEMUIOVector *qiov, uint8_t *buf, size_t len)
{
    size_t off = 0;

    qemu_iovec_init(qiov, 16);
    while (off < len) {
        size_t n;

        switch (g_test_rand_int_range(0, 4)) {
        case 0:
            n = 0;
            break;
        case 1:
            n = g_test_rand_int_range(1, 17);
            break;
        default:
            n = g_test_rand_int_range(1, 3 * 4096);
            break;
        }
        n = MIN(n, len - off);
        qemu_iovec_add(qiov, buf + off, n);
        off += n;
    }
}

/* ---- known answers ---- */

static void test_kat(const void *opaque)
{
    const IceKat *t = opaque;
    size_t key_len, ct_len = 0, len = (size_t)t->dus * t->units;
    g_autofree uint8_t *key = unhex(t->key, &key_len);
    g_autofree uint8_t *pt = g_malloc0(len);
    g_autofree uint8_t *ct = g_malloc0(len);
    g_autofree uint8_t *orig = NULL;
    g_autofree uint8_t *want = NULL;
    g_autofree char *got_hex = NULL;
    g_autofree char *want_hex = NULL;
    IceEngine *e = engine_with_slot(40, t->alg, t->key_size, t->dus,
                                    key, key_len);
    IceKey *k = ice_engine_get_key(e, 40, &error_abort);
    QEMUIOVector qiov;

    ice_kat_plaintext(t, pt, len);
    if (t->nist_cbc_iv) {
        uint8_t dev_iv[16];
        size_t n;
        g_autofree uint8_t *std_iv = unhex(t->nist_cbc_iv, &n);

        reference_cbc_iv(t, key, key_len, dev_iv);
        for (int i = 0; i < 16; i++) {
            pt[i] ^= std_iv[i] ^ dev_iv[i];
        }
    }
    orig = g_memdup2(pt, len);

    qemu_iovec_init(&qiov, 1);
    qemu_iovec_add(&qiov, pt, len);
    g_assert_true(ice_key_check_request(k, 0, len, t->dun, NULL));
    g_assert_true(ice_key_encrypt(k, t->dun, &qiov, ct, NULL));
    g_assert(!memcmp(pt, orig, len));          /* the source is untouched */

    if (t->ct) {
        want = unhex(t->ct, &ct_len);
        if (t->alg == ICE_ECB) {
            for (size_t off = 0; off < len; off += ct_len) {
                got_hex = tohex(ct + off, ct_len);
                g_assert_cmpstr(got_hex, ==, t->ct);
                g_free(got_hex);
            }
            got_hex = NULL;
        } else {
            got_hex = tohex(ct, ct_len);
            g_assert_cmpstr(got_hex, ==, t->ct);
        }
    }
    if (t->ct_sha256) {
        g_free(got_hex);
        got_hex = sha256_hex(ct, len);
        g_assert_cmpstr(got_hex, ==, t->ct_sha256);
    }

    /* Decrypting in place gives the plaintext back */
    memcpy(pt, ct, len);
    g_assert_true(ice_key_decrypt(k, t->dun, &qiov, NULL));
    g_assert(!memcmp(pt, orig, len));

    qemu_iovec_destroy(&qiov);
    ice_key_unref(k);
    ice_engine_free(e);
}

/*
 * IEEE 1619 vector 5 is vector 4's ciphertext encrypted at DUN 1: a
 * two-unit request at DUN 0 whose second unit holds that ciphertext must
 * produce vector 4 then vector 5, which checks the DUN increment.
 */
static void test_kat_xts_v4_v5(void)
{
    size_t key_len, n;
    g_autofree uint8_t *key = unhex(IEEE_K128, &key_len);
    g_autofree uint8_t *v4 = unhex(IEEE_V4_CT, &n);
    g_autofree char *got = NULL;
    uint8_t buf[1024], out[1024];
    IceEngine *e = engine_with_slot(0, ICE_XTS, ICE_KEY_SIZE_128,
                                    512, key, key_len);
    IceKey *k = ice_engine_get_key(e, 0, &error_abort);
    QEMUIOVector qiov;

    for (int i = 0; i < 512; i++) {
        buf[i] = i;
    }
    memcpy(buf + 512, v4, 512);
    qemu_iovec_init(&qiov, 1);
    qemu_iovec_add(&qiov, buf, sizeof(buf));
    g_assert_true(ice_key_encrypt(k, 0, &qiov, out, NULL));
    got = tohex(out, sizeof(out));
    g_assert_cmpstr(got, ==, IEEE_V4_CT IEEE_V5_CT);

    qemu_iovec_destroy(&qiov);
    ice_key_unref(k);
    ice_engine_free(e);
}

/* ---- round trips over random layouts ---- */

/* Every (algorithm, key size) the engine offers, data unit size unset */
static size_t all_configs(IceSlotConfig *cfg)
{
    IceEngine *e = ice_engine_new(1, 0);
    IceCap caps[ICE_CAPS_MAX];
    size_t n = ice_engine_get_caps(e, caps, ICE_CAPS_MAX);

    for (size_t i = 0; i < n; i++) {
        cfg[i] = (IceSlotConfig) { caps[i].alg, caps[i].key_size };
    }
    ice_engine_free(e);
    return n;
}

static void random_bytes(uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = g_test_rand_int();
    }
}

/*
 * For random keys, DUNs, data unit sizes and segment layouts: encrypting
 * through a split list equals encrypting a contiguous buffer, the source
 * is untouched, and decrypting in place through another split list gives
 * the plaintext back.
 */
static void test_roundtrip_random(void)
{
    IceSlotConfig configs[ICE_CAPS_MAX];
    size_t n_configs = all_configs(configs);

    for (int iter = 0; iter < 200; iter++) {
        IceSlotConfig cfg = configs[iter % n_configs];
        size_t key_len = ice_key_material_len(cfg.alg, cfg.key_size);
        unsigned units = g_test_rand_int_range(1, 5);
        uint64_t dun = (uint64_t)g_test_rand_int() << 32 | g_test_rand_int();
        uint8_t key[ICE_KEY_MATERIAL_MAX];
        g_autofree uint8_t *pt = NULL, *ct = NULL, *ct2 = NULL, *buf = NULL;
        IceEngine *e;
        IceKey *k;
        QEMUIOVector whole, split;
        size_t len;

        cfg.data_unit_size = 512 << g_test_rand_int_range(0, 8);
        len = (size_t)cfg.data_unit_size * units;
        dun = MIN(dun, UINT64_MAX - units + 1);
        random_bytes(key, key_len);
        e = engine_with_slot(3, cfg.alg, cfg.key_size, cfg.data_unit_size,
                             key, key_len);
        k = ice_engine_get_key(e, 3, &error_abort);

        pt = g_malloc(len);
        random_bytes(pt, len);
        buf = g_memdup2(pt, len);
        ct = g_malloc(len);
        ct2 = g_malloc(len);

        qemu_iovec_init(&whole, 1);
        qemu_iovec_add(&whole, buf, len);
        g_assert_true(ice_key_encrypt(k, dun, &whole, ct, NULL));

        random_split(&split, buf, len);
        g_assert_true(ice_key_encrypt(k, dun, &split, ct2, NULL));
        g_assert(!memcmp(ct, ct2, len));
        g_assert(!memcmp(buf, pt, len));
        g_assert(memcmp(ct, pt, len));
        qemu_iovec_destroy(&split);

        memcpy(buf, ct, len);
        random_split(&split, buf, len);
        g_assert_true(ice_key_decrypt(k, dun, &split, NULL));
        g_assert(!memcmp(buf, pt, len));

        qemu_iovec_destroy(&split);
        qemu_iovec_destroy(&whole);
        ice_key_unref(k);
        ice_engine_free(e);
    }
}

/* Equal plaintext units under different DUNs differ, except with ECB */
static void test_dun_changes_ciphertext(void)
{
    IceSlotConfig configs[ICE_CAPS_MAX];
    size_t n_configs = all_configs(configs);

    for (size_t i = 0; i < n_configs; i++) {
        IceSlotConfig cfg = configs[i];
        size_t key_len = ice_key_material_len(cfg.alg, cfg.key_size);
        uint8_t key[ICE_KEY_MATERIAL_MAX];
        uint8_t pt[3 * 512], ct[3 * 512];
        IceEngine *e;
        IceKey *k;
        QEMUIOVector qiov;

        cfg.data_unit_size = 512;
        random_bytes(key, key_len);
        memset(pt, 0x5a, sizeof(pt));
        e = engine_with_slot(0, cfg.alg, cfg.key_size, 512, key, key_len);
        k = ice_engine_get_key(e, 0, &error_abort);
        qemu_iovec_init(&qiov, 1);
        qemu_iovec_add(&qiov, pt, sizeof(pt));
        g_assert_true(ice_key_encrypt(k, 41, &qiov, ct, NULL));

        if (cfg.alg == ICE_ECB) {
            g_assert(!memcmp(ct, ct + 512, 512));
            g_assert(!memcmp(ct, ct + 1024, 512));
        } else {
            g_assert(memcmp(ct, ct + 512, 512));
            g_assert(memcmp(ct, ct + 1024, 512));
            g_assert(memcmp(ct + 512, ct + 1024, 512));
        }
        qemu_iovec_destroy(&qiov);
        ice_key_unref(k);
        ice_engine_free(e);
    }
}

/* ---- slots, capabilities and validation ---- */

static void test_caps(void)
{
    IceEngine *e = ice_engine_new(32, 0);
    IceCap caps[ICE_CAPS_MAX + 1] = { 0 };
    /* algorithm identifier, data unit sizes 512 B to 64 KiB, key size id */
    static const IceCap want[] = {
        { 0, 0xff, 1 }, { 0, 0xff, 3 },                 /* XTS 128, 256 */
        { 1, 0xff, 1 }, { 1, 0xff, 3 },                 /* BitLocker CBC */
        { 2, 0xff, 1 }, { 2, 0xff, 2 }, { 2, 0xff, 3 }, /* ECB */
        { 3, 0xff, 1 }, { 3, 0xff, 3 },                 /* ESSIV CBC */
    };

    g_assert_cmpuint(ice_engine_get_caps(e, NULL, 0), ==, G_N_ELEMENTS(want));
    g_assert_cmpuint(ice_engine_get_caps(e, caps, 2), ==, G_N_ELEMENTS(want));
    g_assert_cmpmem(caps, 2 * sizeof(caps[0]), want, 2 * sizeof(want[0]));
    g_assert_cmpuint(caps[2].dus_mask, ==, 0);
    ice_engine_get_caps(e, caps, G_N_ELEMENTS(caps));
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        g_assert_cmpuint(caps[i].alg, ==, want[i].alg);
        g_assert_cmphex(caps[i].dus_mask, ==, want[i].dus_mask);
        g_assert_cmpuint(caps[i].key_size, ==, want[i].key_size);
    }
    g_assert_cmpuint(caps[G_N_ELEMENTS(want)].dus_mask, ==, 0);
    ice_engine_free(e);
}

static void test_program_query_evict(void)
{
    IceEngine *e = ice_engine_new(4, 10);
    IceSlotConfig cfg = { ICE_ESSIV, ICE_KEY_SIZE_256, 4096 };
    IceSlotConfig got;
    uint8_t key[32];
    IceKey *held;

    random_bytes(key, sizeof(key));
    g_assert_cmpuint(ice_engine_num_slots(e), ==, 4);
    g_assert_cmpuint(ice_engine_slot_offset(e), ==, 10);
    g_assert_false(ice_engine_query_slot(e, 12, &got, NULL));
    g_assert_true(ice_engine_program_slot(e, 12, &cfg, key, 32, NULL,
                                            &error_abort));
    g_assert_true(ice_engine_query_slot(e, 12, &got, NULL));
    g_assert_cmpint(got.alg, ==, cfg.alg);
    g_assert_cmpint(got.key_size, ==, cfg.key_size);
    g_assert_cmpuint(got.data_unit_size, ==, 4096);
    g_assert_false(ice_engine_query_slot(e, 9, &got, NULL));
    g_assert_false(ice_engine_query_slot(e, 14, &got, NULL));

    /* A request holding the key keeps it across evict */
    held = ice_engine_get_key(e, 12, &error_abort);
    g_assert_true(ice_engine_evict_slot(e, 12, &error_abort));
    g_assert_false(ice_engine_query_slot(e, 12, &got, NULL));
    g_assert_cmpuint(ice_key_config(held)->data_unit_size, ==, 4096);
    ice_key_unref(held);

    /* Evicting an empty slot is fine */
    g_assert_true(ice_engine_evict_slot(e, 13, &error_abort));
    ice_engine_free(e);
}

static void expect_error(Error *err, const char *fragment)
{
    g_assert(err);
    if (!strstr(error_get_pretty(err), fragment)) {
        g_test_message("error '%s' does not mention '%s'",
                       error_get_pretty(err), fragment);
        g_test_fail();
    }
    error_free(err);
}

/* ---- guest keys: channels, hooks, free notifiers ---- */

typedef struct GuestKeyLog {
    Notifier freed_notifier;
    int admits;
    int releases;
    int refuse;         /* errno value admit returns, 0 to accept */
    int freed;
} GuestKeyLog;

static int log_admit(void *opaque, Error **errp)
{
    GuestKeyLog *log = opaque;

    log->admits++;
    if (log->refuse) {
        error_setg(errp, "refused");
        return -log->refuse;
    }
    return 0;
}

static void log_released(void *opaque)
{
    ((GuestKeyLog *)opaque)->releases++;
}

static const IceGuestKeyHooks log_hooks = {
    .admit = log_admit,
    .released = log_released,
};

static void log_freed(Notifier *n, void *data)
{
    notifier_remove(n);
    container_of(n, GuestKeyLog, freed_notifier)->freed++;
}

/*
 * The front end hears of the first guest key before it is loaded (and
 * can refuse it) and of the last one's going, whoever evicts it; a
 * channel evicts only its own keys; free notifiers run at free
 */
static void test_guest_keys(void)
{
    GuestKeyLog log_ = { .freed_notifier.notify = log_freed };
    GuestKeyLog *log = &log_;
    IceSlotConfig cfg = {
        .alg = ICE_CRYPTO_ALGORITHM_AES_XTS,
        .key_size = ICE_KEY_SIZE_128,
        .data_unit_size = 4096,
    };
    IceEngine *e = ice_engine_new(8, 0);
    int box_a, box_b;           /* two channels: only their addresses */
    uint8_t key[32];
    char *id = NULL;
    Error *err = NULL;

    for (size_t i = 0; i < sizeof(key); i++) {
        key[i] = i + 1;
    }
    ice_engine_set_guest_key_hooks(e, &log_hooks, log);
    ice_engine_add_free_notifier(e, &log->freed_notifier);

    /* Refused: nothing is loaded, the error is the hook's */
    log->refuse = EBUSY;
    g_assert_cmpint(ice_engine_program_guest_slot(e, 1, &cfg, key, 32,
                                                  &box_a, &err), ==, -EBUSY);
    error_free_or_abort(&err);
    g_assert_false(ice_engine_query_slot(e, 1, &cfg, NULL));
    g_assert_cmpuint(ice_engine_num_guest_keys(e), ==, 0);
    /* A bad key never reaches the hook */
    g_assert_cmpint(ice_engine_program_guest_slot(e, 1, &cfg, key, 16,
                                                  &box_a, &err), ==, -EINVAL);
    error_free_or_abort(&err);
    g_assert_cmpint(log->admits, ==, 1);

    /* Admitted once for several keys of several channels */
    log->refuse = 0;
    g_assert_cmpint(ice_engine_program_guest_slot(e, 1, &cfg, key, 32,
                                                  &box_a, &error_abort), ==, 0);
    g_assert_cmpint(ice_engine_program_guest_slot(e, 2, &cfg, key, 32,
                                                  &box_a, &error_abort), ==, 0);
    g_assert_cmpint(ice_engine_program_guest_slot(e, 3, &cfg, key, 32,
                                                  &box_b, &error_abort), ==, 0);
    g_assert_true(ice_engine_program_slot(e, 4, &cfg, key, 32, "host",
                                          &error_abort));
    g_assert_cmpint(log->admits, ==, 2);
    g_assert_cmpuint(ice_engine_num_guest_keys(e), ==, 3);
    g_assert_true(ice_engine_query_slot(e, 1, &cfg, &id));
    g_assert_null(id);

    /* Channel a's keys go, b's and the host's stay */
    g_assert_cmpuint(ice_engine_evict_channel(e, &box_a), ==, 2);
    g_assert_false(ice_engine_query_slot(e, 1, &cfg, NULL));
    g_assert_false(ice_engine_query_slot(e, 2, &cfg, NULL));
    g_assert_true(ice_engine_query_slot(e, 3, &cfg, NULL));
    g_assert_true(ice_engine_query_slot(e, 4, &cfg, NULL));
    g_assert_cmpint(log->releases, ==, 0);

    /* The host replaces the last guest key: released, once */
    g_assert_true(ice_engine_program_slot(e, 3, &cfg, key, 32, "host",
                                          &error_abort));
    g_assert_cmpuint(ice_engine_num_guest_keys(e), ==, 0);
    g_assert_cmpint(log->releases, ==, 1);
    g_assert_true(ice_engine_evict_slot(e, 3, &error_abort));
    g_assert_cmpint(log->releases, ==, 1);

    /* Freeing tells the notifier, not the hooks */
    g_assert_cmpint(ice_engine_program_guest_slot(e, 5, &cfg, key, 32,
                                                  &box_b, &error_abort), ==, 0);
    ice_engine_free(e);
    g_assert_cmpint(log->freed, ==, 1);
    g_assert_cmpint(log->admits, ==, 3);
    g_assert_cmpint(log->releases, ==, 1);
}

static void test_validation_errors(void)
{
    IceEngine *e = ice_engine_new(8, 16);
    IceSlotConfig cfg = { ICE_XTS, ICE_KEY_SIZE_256, 4096 };
    uint8_t key[ICE_KEY_MATERIAL_MAX];
    Error *err = NULL;
    IceKey *k;

    random_bytes(key, sizeof(key));

    /* bad slot: below the offset, past the end */
    g_assert_false(ice_engine_program_slot(e, 15, &cfg, key, 64, NULL, &err));
    expect_error(err, "slot 15 is out of range (valid slots: 16 to 23)");
    err = NULL;
    g_assert_false(ice_engine_evict_slot(e, 24, &err));
    expect_error(err, "slot 24 is out of range");
    err = NULL;
    g_assert_null(ice_engine_get_key(e, 255, &err));
    expect_error(err, "slot 255 is out of range");
    err = NULL;

    /* empty slot */
    g_assert_null(ice_engine_get_key(e, 17, &err));
    expect_error(err, "slot 17 holds no key");
    err = NULL;

    /* wrong key length */
    g_assert_false(ice_engine_program_slot(e, 16, &cfg, key, 32, NULL, &err));
    expect_error(err, "key is 32 bytes long, a 256-bit aes-xts key needs 64");
    err = NULL;

    /* key sizes in bits, as QMP and ice-preload give them */
    g_assert_true(ice_key_size_parse(192, &cfg.key_size, &error_abort));
    g_assert_cmpint(cfg.key_size, ==, ICE_KEY_SIZE_192);
    g_assert_false(ice_key_size_parse(100, &cfg.key_size, &err));
    expect_error(err, "key size 100 is not 128, 192, 256 or 512 bits");
    err = NULL;

    /* unsupported combinations */
    cfg = (IceSlotConfig) { ICE_XTS, ICE_KEY_SIZE_192, 4096 };
    g_assert_false(ice_engine_program_slot(e, 16, &cfg, key, 48, NULL, &err));
    expect_error(err, "aes-xts does not support 192-bit keys");
    err = NULL;
    cfg = (IceSlotConfig) { ICE_ECB, ICE_KEY_SIZE_512, 4096 };
    g_assert_false(ice_engine_program_slot(e, 16, &cfg, key, 64, NULL, &err));
    expect_error(err, "aes-ecb does not support 512-bit keys");
    err = NULL;
    cfg = (IceSlotConfig) { ICE_ECB, ICE_KEY_SIZE_INVALID, 4096 };
    g_assert_false(ice_engine_check_config(e, &cfg, &err));
    expect_error(err, "invalid key size identifier 0");
    err = NULL;
    cfg = (IceSlotConfig) { 4, ICE_KEY_SIZE_128, 4096 };
    g_assert_false(ice_engine_check_config(e, &cfg, &err));
    expect_error(err, "unknown crypto algorithm 4");
    err = NULL;
    for (size_t i = 0; i < 4; i++) {
        static const uint32_t bad_dus[] = { 256, 1000, 131072, 0 };

        cfg = (IceSlotConfig) { ICE_ECB, ICE_KEY_SIZE_128, bad_dus[i] };
        g_assert_false(ice_engine_check_config(e, &cfg, &err));
        expect_error(err, "is not a power of two from 512 to 65536");
        err = NULL;
    }

    /* equal XTS halves (IEEE 1619 vector 1 uses such a key) */
    cfg = (IceSlotConfig) { ICE_XTS, ICE_KEY_SIZE_128, 512 };
    memset(key, 0, 32);
    g_assert_false(ice_engine_program_slot(e, 16, &cfg, key, 32, NULL, &err));
    expect_error(err, "the two halves of an XTS key must differ");
    err = NULL;
    g_assert_false(ice_engine_query_slot(e, 16, &cfg, NULL));

    /* misaligned offset and length, DUN overflow */
    cfg = (IceSlotConfig) { ICE_XTS, ICE_KEY_SIZE_128, 4096 };
    key[0] = 1;
    ice_engine_program_slot(e, 16, &cfg, key, 32, NULL, &error_abort);
    k = ice_engine_get_key(e, 16, &error_abort);
    g_assert_false(ice_key_check_request(k, 512, 4096, 0, &err));
    expect_error(err,
                 "offset 512 is not a multiple of the data unit size 4096");
    err = NULL;
    g_assert_false(ice_key_check_request(k, 8192, 6144, 0, &err));
    expect_error(err, "length 6144 is not a multiple of the data unit size");
    err = NULL;
    g_assert_false(ice_key_check_request(k, 0, 3 * 4096, UINT64_MAX - 1,
                                          &err));
    expect_error(err, "data unit number 18446744073709551614 plus 3 units "
                 "overflows 64 bits");
    err = NULL;
    /* the last DUN may be exactly 2^64 - 1 */
    g_assert_true(ice_key_check_request(k, 0, 2 * 4096, UINT64_MAX - 1,
                                          &error_abort));
    g_assert_true(ice_key_check_request(k, 0, 0, UINT64_MAX,
                                          &error_abort));
    ice_key_unref(k);
    ice_engine_free(e);
}

/* The crypto calls refuse a length that is not a whole number of units */
static void test_crypt_rejects_partial_unit(void)
{
    uint8_t key[32] = { 1 }, buf[1024], out[1024];
    IceEngine *e = engine_with_slot(0, ICE_XTS, ICE_KEY_SIZE_128,
                                    512, key, 32);
    IceKey *k = ice_engine_get_key(e, 0, &error_abort);
    QEMUIOVector qiov;

    memset(buf, 0x11, sizeof(buf));
    memset(out, 0x22, sizeof(out));
    qemu_iovec_init(&qiov, 1);
    qemu_iovec_add(&qiov, buf, 700);
    g_assert_false(ice_key_encrypt(k, 0, &qiov, out, NULL));
    g_assert_false(ice_key_decrypt(k, 0, &qiov, NULL));
    g_assert_cmpint(out[0], ==, 0x22);
    g_assert_cmpint(buf[0], ==, 0x11);
    qemu_iovec_destroy(&qiov);
    ice_key_unref(k);
    ice_engine_free(e);
}

/* ---- key hygiene ---- */

static const uint8_t *hygiene_key;
static size_t hygiene_key_len;
static uint8_t hygiene_salt[32];
static int hygiene_frees;

/* Does @mem contain any 8-byte run of @needle? */
static bool contains_run(const uint8_t *mem, size_t len,
                         const uint8_t *needle, size_t nlen)
{
    for (size_t i = 0; i + 8 <= nlen; i++) {
        if (memmem(mem, len, needle + i, 8)) {
            return true;
        }
    }
    return false;
}

static void hygiene_observer(const void *mem, size_t len)
{
    hygiene_frees++;
    g_assert_false(contains_run(mem, len, hygiene_key, hygiene_key_len));
    g_assert_false(contains_run(mem, len, hygiene_salt, sizeof(hygiene_salt)));
}

/*
 * Keys (and the ESSIV salt derived from them) are wiped when the last
 * reference goes: on evict, on reprogram, and when the engine is freed;
 * a key a request still holds is kept intact until it lets go.
 */
static void test_key_wiped(void)
{
    static const IceSlotConfig configs[] = {
        { ICE_ESSIV, ICE_KEY_SIZE_256, 4096 },
        { ICE_XTS, ICE_KEY_SIZE_256, 512 },
        { ICE_BITLOCKER, ICE_KEY_SIZE_128, 1024 },
    };
    uint8_t key[64], buf[4096], out[4096];
    QEMUIOVector qiov;

    for (int i = 0; i < 64; i++) {
        key[i] = 0x80 | (i * 37);
    }
    hygiene_key = key;
    ice_set_key_free_observer(hygiene_observer);
    qemu_iovec_init(&qiov, 1);
    qemu_iovec_add(&qiov, buf, sizeof(buf));
    memset(buf, 7, sizeof(buf));

    for (size_t i = 0; i < G_N_ELEMENTS(configs); i++) {
        const IceSlotConfig *cfg = &configs[i];
        size_t len = ice_key_material_len(cfg->alg, cfg->key_size);
        IceEngine *e = ice_engine_new(4, 0);
        IceKey *held;

        hygiene_key_len = len;
        gcry_md_hash_buffer(GCRY_MD_SHA256, hygiene_salt, key, len);
        hygiene_frees = 0;

        /* evict while a request holds the key: freed at its unref */
        ice_engine_program_slot(e, 1, cfg, key, len, NULL, &error_abort);
        held = ice_engine_get_key(e, 1, &error_abort);
        ice_key_encrypt(held, 5, &qiov, out, NULL);
        ice_engine_evict_slot(e, 1, &error_abort);
        g_assert_cmpint(hygiene_frees, ==, 0);
        g_assert_true(ice_key_encrypt(held, 5, &qiov, buf, NULL));
        g_assert(!memcmp(buf, out, sizeof(buf)));   /* still the same key */
        memset(buf, 7, sizeof(buf));
        ice_key_unref(held);
        g_assert_cmpint(hygiene_frees, ==, 1);

        /* reprogram, then engine teardown */
        ice_engine_program_slot(e, 2, cfg, key, len, NULL, &error_abort);
        ice_engine_program_slot(e, 2, cfg, key, len, NULL, &error_abort);
        g_assert_cmpint(hygiene_frees, ==, 2);
        ice_engine_free(e);
        g_assert_cmpint(hygiene_frees, ==, 3);
    }
    ice_set_key_free_observer(NULL);
    qemu_iovec_destroy(&qiov);
}

/* ---- concurrency ---- */

/*
 * Workers encrypt and decrypt through slot 5 while the controller cycles
 * it through key A (XTS-256), key B (XTS-128) and empty.  The two keys
 * have different sizes, so a worker can tell from its reference which key
 * it holds, and must then see exactly that key's ciphertext for all 16
 * units of its request: never a mix, never garbage.
 */
#define CONC_WORKERS    4
#define CONC_UNITS      16
#define CONC_DUS        4096
#define CONC_LEN        (CONC_UNITS * CONC_DUS)
#define CONC_MIN_REQS   300

typedef struct ConcState {
    IceEngine *e;
    uint8_t pt[CONC_LEN];
    uint8_t ct_a[CONC_LEN];
    uint8_t ct_b[CONC_LEN];
    int workers_done;
    int stop;
    int mismatches;
    int used_a, used_b, empty;
} ConcState;

static void *conc_worker(void *opaque)
{
    ConcState *s = opaque;
    g_autofree uint8_t *buf = g_malloc(CONC_LEN);
    g_autofree uint8_t *out = g_malloc(CONC_LEN);
    int reqs = 0;

    while (!qatomic_read(&s->stop)) {
        IceKey *k = ice_engine_get_key(s->e, 5, NULL);
        const uint8_t *want;
        QEMUIOVector qiov;
        bool is_a;

        if (!k) {
            qatomic_inc(&s->empty);
            continue;
        }
        is_a = ice_key_config(k)->key_size == ICE_KEY_SIZE_256;
        want = is_a ? s->ct_a : s->ct_b;
        qatomic_inc(is_a ? &s->used_a : &s->used_b);

        qemu_iovec_init(&qiov, 2);
        if (reqs & 1) {
            memcpy(buf, want, CONC_LEN);
            qemu_iovec_add(&qiov, buf, 3000);       /* straddle a unit */
            qemu_iovec_add(&qiov, buf + 3000, CONC_LEN - 3000);
            if (!ice_key_decrypt(k, 1000, &qiov, NULL) ||
                memcmp(buf, s->pt, CONC_LEN)) {
                qatomic_inc(&s->mismatches);
            }
        } else {
            qemu_iovec_add(&qiov, s->pt, CONC_LEN);
            if (!ice_key_encrypt(k, 1000, &qiov, out, NULL) ||
                memcmp(out, want, CONC_LEN)) {
                qatomic_inc(&s->mismatches);
            }
        }
        qemu_iovec_destroy(&qiov);
        ice_key_unref(k);
        if (++reqs == CONC_MIN_REQS) {
            qatomic_inc(&s->workers_done);
        }
    }
    return NULL;
}

static void test_concurrent_reprogram(void)
{
    ConcState *s = g_new0(ConcState, 1);
    IceSlotConfig cfg_a = { ICE_XTS, ICE_KEY_SIZE_256, CONC_DUS };
    IceSlotConfig cfg_b = { ICE_XTS, ICE_KEY_SIZE_128, CONC_DUS };
    uint8_t key_a[64], key_b[32];
    QemuThread threads[CONC_WORKERS];
    QEMUIOVector qiov;
    IceKey *k;
    int cycles = 0;

    random_bytes(key_a, sizeof(key_a));
    random_bytes(key_b, sizeof(key_b));
    random_bytes(s->pt, CONC_LEN);
    s->e = ice_engine_new(8, 0);

    /* Reference ciphertexts, single-threaded */
    qemu_iovec_init(&qiov, 1);
    qemu_iovec_add(&qiov, s->pt, CONC_LEN);
    ice_engine_program_slot(s->e, 5, &cfg_a, key_a, 64, NULL, &error_abort);
    k = ice_engine_get_key(s->e, 5, &error_abort);
    ice_key_encrypt(k, 1000, &qiov, s->ct_a, NULL);
    ice_key_unref(k);
    ice_engine_program_slot(s->e, 5, &cfg_b, key_b, 32, NULL, &error_abort);
    k = ice_engine_get_key(s->e, 5, &error_abort);
    ice_key_encrypt(k, 1000, &qiov, s->ct_b, NULL);
    ice_key_unref(k);
    qemu_iovec_destroy(&qiov);

    for (int i = 0; i < CONC_WORKERS; i++) {
        qemu_thread_create(&threads[i], "ice-worker", conc_worker, s,
                           QEMU_THREAD_JOINABLE);
    }
    while (qatomic_read(&s->workers_done) < CONC_WORKERS || cycles < 100) {
        ice_engine_program_slot(s->e, 5, &cfg_a, key_a, 64, NULL, &error_abort);
        g_usleep(50);
        ice_engine_program_slot(s->e, 5, &cfg_b, key_b, 32, NULL, &error_abort);
        g_usleep(50);
        ice_engine_evict_slot(s->e, 5, &error_abort);
        cycles++;
    }
    qatomic_set(&s->stop, 1);
    for (int i = 0; i < CONC_WORKERS; i++) {
        qemu_thread_join(&threads[i]);
    }
    g_test_message("%d cycles; requests with key A %d, key B %d, empty %d",
                   cycles, s->used_a, s->used_b, s->empty);
    g_assert_cmpint(s->mismatches, ==, 0);
    g_assert_cmpint(s->used_a + s->used_b, >=, CONC_WORKERS * CONC_MIN_REQS);
    ice_engine_free(s->e);
    g_free(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qcrypto_init(&error_abort);
    gcry_check_version(NULL);

    for (size_t i = 0; i < G_N_ELEMENTS(kats); i++) {
        g_autofree char *path = NULL;

        if (!kats[i].ct && !kats[i].ct_sha256) {
            continue;
        }
        path = g_strdup_printf("/ice-engine/kat/%s", kats[i].name);
        g_test_add_data_func(path, &kats[i], test_kat);
    }
    g_test_add_func("/ice-engine/kat/xts-128/ieee1619-v4-v5-dun-increment",
                    test_kat_xts_v4_v5);
    g_test_add_func("/ice-engine/roundtrip/random-layouts",
                    test_roundtrip_random);
    g_test_add_func("/ice-engine/roundtrip/dun-changes-ciphertext",
                    test_dun_changes_ciphertext);
    g_test_add_func("/ice-engine/slots/caps", test_caps);
    g_test_add_func("/ice-engine/slots/program-query-evict",
                    test_program_query_evict);
    g_test_add_func("/ice-engine/slots/guest-keys", test_guest_keys);
    g_test_add_func("/ice-engine/slots/validation-errors",
                    test_validation_errors);
    g_test_add_func("/ice-engine/crypt/partial-unit",
                    test_crypt_rejects_partial_unit);
    g_test_add_func("/ice-engine/hygiene/keys-wiped", test_key_wiped);
    g_test_add_func("/ice-engine/concurrency/reprogram-under-load",
                    test_concurrent_reprogram);
    return g_test_run();
}
