/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Known-answer vectors for the inline crypto engine, shared by the unit
 * test (tests/unit/test-ice-engine.c) and the device qtest
 * (tests/qtest/virtio-blk-ice-io-test.c)
 */

#ifndef TESTS_ICE_VECTORS_H
#define TESTS_ICE_VECTORS_H

#include "block/ice-engine.h"

/* Short names of the algorithms, for the tables of the tests */
#define ICE_XTS         ICE_CRYPTO_ALGORITHM_AES_XTS
#define ICE_BITLOCKER   ICE_CRYPTO_ALGORITHM_BITLOCKER_AES_CBC
#define ICE_ECB         ICE_CRYPTO_ALGORITHM_AES_ECB
#define ICE_ESSIV       ICE_CRYPTO_ALGORITHM_ESSIV_AES_CBC

/* Plaintext made of the bytes 0x00..0xff, repeated (IEEE 1619 vectors 4-14) */
#define PT_COUNTING "counting"

/*
 * One known-answer row.  @pt and @ct may be shorter than a data unit: the
 * plaintext is then zero-padded to @units data units and only the first
 * bytes of the ciphertext are compared.  That is exact for XTS (each block
 * depends only on its own position in the unit), CBC (a block depends only
 * on the blocks before it) and ECB.  Rows with @ct_sha256 compare the
 * digest of the whole ciphertext as well.
 */
typedef struct IceKat {
    const char *name;
    IceCryptoAlgorithm alg;
    IceKeySize key_size;
    uint32_t dus;
    unsigned units;
    uint64_t dun;
    const char *key;
    const char *pt;             /* hex, or PT_COUNTING, or NULL: i % 251 */
    const char *ct;             /* hex, compared as a prefix */
    const char *ct_sha256;      /* hex digest of all units, or NULL */
    const char *nist_cbc_iv;    /* NIST CBC row: the standard's IV, see
                                 * test_kat() in the unit test */
} IceKat;

#define NIST_PT "6bc1bee22e409f96e93d7e117393172a" \
                "ae2d8a571e03ac9c9eb76fac45af8e51" \
                "30c81c46a35ce411e5fbc1191a0a52ef" \
                "f69f2445df4f9b17ad2b417be66c3710"
/* NIST SP 800-38A F.2.1 and F.2.5: CBC-AES128 and -AES256, IV, ciphertext */
#define NIST_CBC_IV "000102030405060708090a0b0c0d0e0f"
#define NIST_CBC128_CT \
    "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2" \
    "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7"
#define NIST_CBC256_CT \
    "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d" \
    "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b"
#define NIST_K128 "2b7e151628aed2a6abf7158809cf4f3c"
#define NIST_K192 "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b"
#define NIST_K256 "603deb1015ca71be2b73aef0857d7781" \
                  "1f352c073b6108d72d9810a30914dff4"
#define IEEE_K128 "27182818284590452353602874713526" \
                  "31415926535897932384626433832795"
#define IEEE_K256 "27182818284590452353602874713526" \
                  "62497757247093699959574966967627" \
                  "31415926535897932384626433832795" \
                  "02884197169399375105820974944592"

/*
 * IEEE 1619-2007 vectors 4 and 5: the ciphertext of 00..ff 00..ff at
 * DUN 0, and of that ciphertext at DUN 1
 */
#define IEEE_V4_CT \
    "27a7479befa1d476489f308cd4cfa6e2a96e4bbe3208ff25287dd3819616e89c" \
    "c78cf7f5e543445f8333d8fa7f56000005279fa5d8b5e4ad40e736ddb4d35412" \
    "328063fd2aab53e5ea1e0a9f332500a5df9487d07a5c92cc512c8866c7e860ce" \
    "93fdf166a24912b422976146ae20ce846bb7dc9ba94a767aaef20c0d61ad0265" \
    "5ea92dc4c4e41a8952c651d33174be51a10c421110e6d81588ede82103a252d8" \
    "a750e8768defffed9122810aaeb99f9172af82b604dc4b8e51bcb08235a6f434" \
    "1332e4ca60482a4ba1a03b3e65008fc5da76b70bf1690db4eae29c5f1badd03c" \
    "5ccf2a55d705ddcd86d449511ceb7ec30bf12b1fa35b913f9f747a8afd1b130e" \
    "94bff94effd01a91735ca1726acd0b197c4e5b03393697e126826fb6bbde8ecc" \
    "1e08298516e2c9ed03ff3c1b7860f6de76d4cecd94c8119855ef5297ca67e9f3" \
    "e7ff72b1e99785ca0a7e7720c5b36dc6d72cac9574c8cbbc2f801e23e56fd344" \
    "b07f22154beba0f08ce8891e643ed995c94d9a69c9f1b5f499027a78572aeebd" \
    "74d20cc39881c213ee770b1010e4bea718846977ae119f7a023ab58cca0ad752" \
    "afe656bb3c17256a9f6e9bf19fdd5a38fc82bbe872c5539edb609ef4f79c203e" \
    "bb140f2e583cb2ad15b4aa5b655016a8449277dbd477ef2c8d6c017db738b18d" \
    "eb4a427d1923ce3ff262735779a418f20a282df920147beabe421ee5319d0568"
#define IEEE_V5_CT \
    "264d3ca8512194fec312c8c9891f279fefdd608d0c027b60483a3fa811d65ee5" \
    "9d52d9e40ec5672d81532b38b6b089ce951f0f9c35590b8b978d175213f329bb" \
    "1c2fd30f2f7f30492a61a532a79f51d36f5e31a7c9a12c286082ff7d2394d18f" \
    "783e1a8e72c722caaaa52d8f065657d2631fd25bfd8e5baad6e527d763517501" \
    "c68c5edc3cdd55435c532d7125c8614deed9adaa3acade5888b87bef641c4c99" \
    "4c8091b5bcd387f3963fb5bc37aa922fbfe3df4e5b915e6eb514717bdd2a7407" \
    "9a5073f5c4bfd46adf7d282e7a393a52579d11a028da4d9cd9c77124f9648ee3" \
    "83b1ac763930e7162a8d37f350b2f74b8472cf09902063c6b32e8c2d9290cefb" \
    "d7346d1c779a0df50edcde4531da07b099c638e83a755944df2aef1aa31752fd" \
    "323dcb710fb4bfbb9d22b925bc3577e1b8949e729a90bbafeacf7f7879e7b114" \
    "7e28ba0bae940db795a61b15ecf4df8db07b824bb062802cc98a9545bb2aaeed" \
    "77cb3fc6db15dcd7d80d7d5bc406c4970a3478ada8899b329198eb61c193fb62" \
    "75aa8ca340344a75a862aebe92eee1ce032fd950b47d7704a3876923b4ad6284" \
    "4bf4a09c4dbe8b4397184b7471360c9564880aedddb9baa4af2e75394b08cd32" \
    "ff479c57a07d3eab5d54de5f9738b8d27f27a9f0ab11799d7b7ffefb2704c95c" \
    "6ad12c39f1e867a4b7b1d7818a4b753dfd2a89ccb45e001a03a867b187f225dd"

/* A one-unit row of the NIST CBC vector with key size 128 or 256 */
#define NIST_CBC128_ROW(name, alg, dus, dun) \
    { name, alg, ICE_KEY_SIZE_128, dus, 1, dun, NIST_K128, NIST_PT, \
      NIST_CBC128_CT, NULL, NIST_CBC_IV }
#define NIST_CBC256_ROW(name, alg, dus, dun) \
    { name, alg, ICE_KEY_SIZE_256, dus, 1, dun, NIST_K256, NIST_PT, \
      NIST_CBC256_CT, NULL, NIST_CBC_IV }

static const IceKat kats[] = {
    /* IEEE 1619-2007 annex B, XTS-AES-128 vector 2: 32 bytes */
    { "xts-128/ieee1619-v2", ICE_XTS, ICE_KEY_SIZE_128, 512, 1,
      0x3333333333ULL,
      "11111111111111111111111111111111" "22222222222222222222222222222222",
      "4444444444444444444444444444444444444444444444444444444444444444",
      "c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0" },
    /* IEEE 1619-2007 vector 3: 32 bytes, DUN 0x123456789a */
    { "xts-128/ieee1619-v3", ICE_XTS, ICE_KEY_SIZE_128, 512, 1,
      0x123456789aULL,
      "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0" "bfbebdbcbbbab9b8b7b6b5b4b3b2b1b0",
      "4444444444444444444444444444444444444444444444444444444444444444",
      "b01f86f8edc1863706fa8a4253e34f28af319de38334870f4dd1f94cbe9832f1" },
    /* IEEE 1619-2007 vector 4: 512-byte data unit, DUN 0 */
    { "xts-128/ieee1619-v4", ICE_XTS, ICE_KEY_SIZE_128, 512, 1, 0,
      IEEE_K128, PT_COUNTING, IEEE_V4_CT },
    /* IEEE 1619-2007 vector 10: XTS-AES-256, 512-byte unit, DUN 0xff */
    { "xts-256/ieee1619-v10", ICE_XTS, ICE_KEY_SIZE_256, 512, 1, 0xff,
      IEEE_K256, PT_COUNTING,
      "1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b"
      "5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc3345befecb4bb188fd"
      "5776926c49a3095eb108fd1098baec70aaa66999a72a82f27d848b21d4a741b0"
      "c5cd4d5fff9dac89aeba122961d03a757123e9870f8acf1000020887891429ca"
      "2a3e7a7d7df7b10355165c8b9a6d0a7de8b062c4500dc4cd120c0f7418dae3d0"
      "b5781c34803fa75421c790dfe1de1834f280d7667b327f6c8cd7557e12ac3a0f"
      "93ec05c52e0493ef31a12d3d9260f79a289d6a379bc70c50841473d1a8cc81ec"
      "583e9645e07b8d9670655ba5bbcfecc6dc3966380ad8fecb17b6ba02469a020a"
      "84e18e8f84252070c13e9f1f289be54fbc481457778f616015e1327a02b140f1"
      "505eb309326d68378f8374595c849d84f4c333ec4423885143cb47bd71c5edae"
      "9be69a2ffeceb1bec9de244fbe15992b11b77c040f12bd8f6a975a44a0f90c29"
      "a9abc3d4d893927284c58754cce294529f8614dcd2aba991925fedc4ae74ffac"
      "6e333b93eb4aff0479da9a410e4450e0dd7ae4c6e2910900575da401fc07059f"
      "645e8b7e9bfdef33943054ff84011493c27b3429eaedb4ed5376441a77ed4385"
      "1ad77f16f541dfd269d50d6a5f14fb0aab1cbb4c1550be97f7ab4066193c4caa"
      "773dad38014bd2092fa755c824bb5e54c4f36ffda9fcea70b9c6e693e148c151" },

    /* NIST SP 800-38A F.1.1 ECB-AES128.Encrypt, repeated to fill the unit */
    { "ecb-128/sp800-38a-f.1.1", ICE_ECB, ICE_KEY_SIZE_128, 512, 1, 7,
      NIST_K128, NIST_PT,
      "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf"
      "43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4" },
    /* NIST SP 800-38A F.1.3 ECB-AES192.Encrypt */
    { "ecb-192/sp800-38a-f.1.3", ICE_ECB, ICE_KEY_SIZE_192, 4096, 1, 0,
      NIST_K192, NIST_PT,
      "bd334f1d6e45f25ff712a214571fa5cc974104846d0ad3ad7734ecb3ecee4eef"
      "ef7afd2270e2e60adce0ba2face6444e9a4b41ba738d6c72fb16691603c18e0e" },
    /* NIST SP 800-38A F.1.5 ECB-AES256.Encrypt */
    { "ecb-256/sp800-38a-f.1.5", ICE_ECB, ICE_KEY_SIZE_256, 512, 2,
      UINT64_MAX - 1, NIST_K256, NIST_PT,
      "f3eed1bdb5d2a03c064b5a7e3db181f8591ccb10d410ed26dc5ba74a31362870"
      "b6ed21b99ca6f4f9f153e7b1beafed1d23304b7a39f9f3ff067d8d8f9e24ecc7" },

    /*
     * NIST SP 800-38A F.2.1 and F.2.5 CBC-AESxxx.Encrypt through the two
     * CBC modes.  The device derives the IV from the DUN, so the test
     * XORs (standard IV ^ device IV) into the first plaintext block; the
     * CBC chain then yields exactly the standard ciphertext.
     */
    NIST_CBC128_ROW("bitlocker-128/sp800-38a-f.2.1", ICE_BITLOCKER, 512, 5),
    NIST_CBC256_ROW("bitlocker-256/sp800-38a-f.2.5", ICE_BITLOCKER, 4096, 9),
    NIST_CBC128_ROW("essiv-128/sp800-38a-f.2.1", ICE_ESSIV, 512, 77),
    NIST_CBC256_ROW("essiv-256/sp800-38a-f.2.5", ICE_ESSIV, 65536, 3),

    /*
     * Linux crypto/testmgr.h essiv_aes_cbc_tv_template for
     * essiv(cbc(aes),sha256); the template's IV is the DUN as LE128.
     * (Its 192-bit row is left out: ESSIV is offered with 128 and 256.)
     */
    { "essiv-128/testmgr-1", ICE_ESSIV, ICE_KEY_SIZE_128, 512, 1,
      0x30b49e9d42baaf3dULL, "06a9214036b8a15b512e03d534120006",
      "53696e676c6520626c6f636b206d7367",     /* "Single block msg" */
      "fa59e75f415665c336ca6b72109f8cd4" },
    { "essiv-128/testmgr-2", ICE_ESSIV, ICE_KEY_SIZE_128, 512, 1,
      0x283d096d99172e56ULL, "c286696d887c9aa0611bbb3e2025a45a",
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
      "c8599afe79e67b20067d550a5ec7b5a70b9c80d215a1b86dc6ab7b65d9fd88eb" },
    { "essiv-256/testmgr-4", ICE_ESSIV, ICE_KEY_SIZE_256, 512, 1,
      0x0706050403020100ULL, NIST_K256, NIST_PT,
      "2452f14874d0a793759b6346c01c1e174ddc5b3a27932a63f7f1c7b354565b50"
      "a331a58bd6fdb63c8bf6f245050cc8bb320b261ce98b02c0b26f37a75ba8a942" },

    /*
     * BitLocker AES-CBC against the openssl command line (OpenSSL 3.0).
     * Plaintext byte i of the request is i % 251.  For each unit u:
     *
     *   off=$(python3 -c \
     *         "print(((DUN + u) * DUS).to_bytes(16, 'little').hex())")
     *   iv=$(printf %s $off | xxd -r -p |
     *        openssl enc -aes-BITS-ecb -K KEY -nopad | xxd -p | tr -d '\n')
     *   dd if=pt.bin bs=DUS skip=u count=1 |
     *        openssl enc -aes-BITS-cbc -K KEY -iv $iv -nopad >> ct.bin
     *
     * then the first 32 bytes of ct.bin and sha256sum of all of it.
     */
    { "bitlocker-128/openssl-dus512-two-units", ICE_BITLOCKER,
      ICE_KEY_SIZE_128, 512, 2, 0, NIST_K128, NULL,
      "3fcc97bf4c21b7b31ab968420018a0f8e2bc6f5192b3862cd5b80ddce501f69f",
      "d0bee67e5d66c655fee17281964477031c9376532a54585a7af91de3de94f59e" },
    { "bitlocker-256/openssl-dus4k-two-units", ICE_BITLOCKER,
      ICE_KEY_SIZE_256, 4096, 2, 0x12345678, NIST_K256, NULL,
      "a7fc9deb50ae8df8a2f8f17360b45a760ece23242867bfdcc2ff401d81dd8f93",
      "466ce82c0dbe7ca27b1e03d10744a6a80bd1e2142cfeac0014c926d9366bbd67" },
    /* DUN * DUS above 2^64: the IV input is the full 128-bit byte offset */
    { "bitlocker-128/openssl-offset-above-2^64", ICE_BITLOCKER,
      ICE_KEY_SIZE_128, 4096, 1, 0xfffffffffffff000ULL, NIST_K128, NULL,
      "834c386bd82a2436fca188ccde621e077b5e57a25224b0e5976d1446020ef8b4",
      "c6ddad160d9682d1e288ebb6765ab5064b6c37da21a83ee3ec19f5e61a3e837e" },
    { "bitlocker-256/openssl-dus64k", ICE_BITLOCKER,
      ICE_KEY_SIZE_256, 65536, 1, 7, NIST_K256, NULL,
      "112aefede3631406b2dde9d190b2211d9a923943a9c2f2511f53605322a01c4e",
      "d2ba538f4846a71e654c1bafbb08d536c1bce45a392a6912f8fde596a929100c" },
};

/* Decode a hex string; the caller frees the result */
static inline uint8_t *unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    uint8_t *buf = g_malloc(n ? n : 1);

    for (size_t i = 0; i < n; i++) {
        unsigned v;

        g_assert(sscanf(hex + 2 * i, "%2x", &v) == 1);
        buf[i] = v;
    }
    *len = n;
    return buf;
}

static inline char *tohex(const uint8_t *buf, size_t len)
{
    char *hex = g_malloc(2 * len + 1);

    for (size_t i = 0; i < len; i++) {
        sprintf(hex + 2 * i, "%02x", buf[i]);
    }
    hex[2 * len] = '\0';
    return hex;
}

/* The row called @name; there is one */
static inline const IceKat *ice_kat_find(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(kats); i++) {
        if (!strcmp(kats[i].name, name)) {
            return &kats[i];
        }
    }
    g_assert_not_reached();
}

/* QAPI name and key bits of a row, for ice-program-slot */
static inline const char *ice_kat_alg(const IceKat *t)
{
    return IceCryptoAlgorithm_str(t->alg);
}

static inline unsigned ice_kat_key_bits(const IceKat *t)
{
    static const unsigned bits[ICE_KEY_SIZE__MAX] = {
        [ICE_KEY_SIZE_128] = 128,
        [ICE_KEY_SIZE_192] = 192,
        [ICE_KEY_SIZE_256] = 256,
        [ICE_KEY_SIZE_512] = 512,
    };

    return bits[t->key_size];
}

/*
 * The plaintext of a row: its bytes zero-padded to the request length,
 * for ECB its blocks repeated over the whole request
 */
static inline void ice_kat_plaintext(const IceKat *t, uint8_t *pt, size_t len)
{
    size_t pt_len;

    memset(pt, 0, len);
    if (!t->pt) {
        for (size_t i = 0; i < len; i++) {
            pt[i] = i % 251;
        }
    } else if (!strcmp(t->pt, PT_COUNTING)) {
        for (size_t i = 0; i < len; i++) {
            pt[i] = i;
        }
    } else {
        g_autofree uint8_t *p = unhex(t->pt, &pt_len);

        size_t n = t->alg == ICE_ECB ? len : pt_len;

        for (size_t i = 0; i < n; i++) {
            pt[i] = p[i % pt_len];
        }
    }
}

/*
 * Assert that @ct, the first @len bytes the row's request left on the
 * medium (its units at its DUN), is the row's ciphertext: the prefix of
 * each unit (of each block for ECB) and, for rows that have one, the
 * digest of all units
 */
static inline void ice_kat_check_ciphertext(const IceKat *t,
                                            const uint8_t *ct, size_t len)
{
    size_t ct_len;

    if (t->ct) {
        g_autofree uint8_t *want = unhex(t->ct, &ct_len);

        for (size_t off = 0; off < len;
             off += t->alg == ICE_ECB ? ct_len : len) {
            g_autofree char *hex = tohex(ct + off, ct_len);

            g_assert_cmpstr(hex, ==, t->ct);
        }
    }
    if (t->ct_sha256) {
        g_autofree char *hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
                                                           ct, len);

        g_assert_cmpstr(hex, ==, t->ct_sha256);
    }
}

#endif /* TESTS_ICE_VECTORS_H */
