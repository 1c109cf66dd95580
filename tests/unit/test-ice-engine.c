/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Unit tests for the inline crypto engine (hw/block/ice/engine.c)
 */

#include "qemu/osdep.h"
#include <gcrypt.h>
#include "qapi/error.h"
#include "qemu/bswap.h"
#include "qemu/iov.h"
#include "qemu/thread.h"
#include "hw/block/ice-engine.h"

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
    IceAlgorithm alg;
    IceKeySize key_size;
    uint32_t dus;
    unsigned units;
    uint64_t dun;
    const char *key;
    const char *pt;             /* hex, or PT_COUNTING, or NULL: i % 251 */
    const char *ct;             /* hex, compared as a prefix */
    const char *ct_sha256;      /* hex digest of all units, or NULL */
    const char *nist_cbc_iv;    /* see test_kat_nist_cbc() */
} IceKat;

#define NIST_PT "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51" \
                "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
#define NIST_K128 "2b7e151628aed2a6abf7158809cf4f3c"
#define NIST_K192 "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b"
#define NIST_K256 "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"
#define IEEE_K128 "27182818284590452353602874713526" \
                  "31415926535897932384626433832795"
#define IEEE_K256 "2718281828459045235360287471352662497757247093699959574966967627" \
                  "3141592653589793238462643383279502884197169399375105820974944592"

/* IEEE 1619-2007 vectors 4 and 5: ciphertext of 00..ff 00..ff at DUN 0, and
 * of that ciphertext at DUN 1 */
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

static const IceKat kats[] = {
    /* IEEE 1619-2007 annex B, XTS-AES-128 vector 2: 32 bytes, DUN 0x3333333333 */
    { "xts-128/ieee1619-v2", ICE_ALG_AES_XTS, ICE_KEY_SIZE_128, 512, 1,
      0x3333333333ULL,
      "11111111111111111111111111111111" "22222222222222222222222222222222",
      "4444444444444444444444444444444444444444444444444444444444444444",
      "c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0" },
    /* IEEE 1619-2007 vector 3: 32 bytes, DUN 0x123456789a */
    { "xts-128/ieee1619-v3", ICE_ALG_AES_XTS, ICE_KEY_SIZE_128, 512, 1,
      0x123456789aULL,
      "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0" "bfbebdbcbbbab9b8b7b6b5b4b3b2b1b0",
      "4444444444444444444444444444444444444444444444444444444444444444",
      "b01f86f8edc1863706fa8a4253e34f28af319de38334870f4dd1f94cbe9832f1" },
    /* IEEE 1619-2007 vector 4: 512-byte data unit, DUN 0 */
    { "xts-128/ieee1619-v4", ICE_ALG_AES_XTS, ICE_KEY_SIZE_128, 512, 1, 0,
      IEEE_K128, PT_COUNTING, IEEE_V4_CT },
    /* IEEE 1619-2007 vector 10: XTS-AES-256, 512-byte unit, DUN 0xff */
    { "xts-256/ieee1619-v10", ICE_ALG_AES_XTS, ICE_KEY_SIZE_256, 512, 1, 0xff,
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
    { "ecb-128/sp800-38a-f.1.1", ICE_ALG_AES_ECB, ICE_KEY_SIZE_128, 512, 1, 7,
      NIST_K128, NIST_PT,
      "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf"
      "43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4" },
    /* NIST SP 800-38A F.1.3 ECB-AES192.Encrypt */
    { "ecb-192/sp800-38a-f.1.3", ICE_ALG_AES_ECB, ICE_KEY_SIZE_192, 4096, 1, 0,
      NIST_K192, NIST_PT,
      "bd334f1d6e45f25ff712a214571fa5cc974104846d0ad3ad7734ecb3ecee4eef"
      "ef7afd2270e2e60adce0ba2face6444e9a4b41ba738d6c72fb16691603c18e0e" },
    /* NIST SP 800-38A F.1.5 ECB-AES256.Encrypt */
    { "ecb-256/sp800-38a-f.1.5", ICE_ALG_AES_ECB, ICE_KEY_SIZE_256, 512, 2,
      UINT64_MAX - 1, NIST_K256, NIST_PT,
      "f3eed1bdb5d2a03c064b5a7e3db181f8591ccb10d410ed26dc5ba74a31362870"
      "b6ed21b99ca6f4f9f153e7b1beafed1d23304b7a39f9f3ff067d8d8f9e24ecc7" },

    /*
     * NIST SP 800-38A F.2.1 and F.2.5 CBC-AESxxx.Encrypt through the two
     * CBC modes.  The device derives the IV from the DUN, so the test
     * XORs (standard IV ^ device IV) into the first plaintext block; the
     * CBC chain then yields exactly the standard ciphertext.
     */
    { "bitlocker-128/sp800-38a-f.2.1", ICE_ALG_BITLOCKER_AES_CBC,
      ICE_KEY_SIZE_128, 512, 1, 5, NIST_K128, NIST_PT,
      "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
      "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
      NULL, "000102030405060708090a0b0c0d0e0f" },
    { "bitlocker-256/sp800-38a-f.2.5", ICE_ALG_BITLOCKER_AES_CBC,
      ICE_KEY_SIZE_256, 4096, 1, 9, NIST_K256, NIST_PT,
      "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
      "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b",
      NULL, "000102030405060708090a0b0c0d0e0f" },
    { "essiv-128/sp800-38a-f.2.1", ICE_ALG_ESSIV_AES_CBC,
      ICE_KEY_SIZE_128, 512, 1, 77, NIST_K128, NIST_PT,
      "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
      "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
      NULL, "000102030405060708090a0b0c0d0e0f" },
    { "essiv-256/sp800-38a-f.2.5", ICE_ALG_ESSIV_AES_CBC,
      ICE_KEY_SIZE_256, 65536, 1, 3, NIST_K256, NIST_PT,
      "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
      "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b",
      NULL, "000102030405060708090a0b0c0d0e0f" },

    /*
     * Linux crypto/testmgr.h essiv_aes_cbc_tv_template for
     * essiv(cbc(aes),sha256); the template's IV is the DUN as LE128.
     * (Its 192-bit row is left out: ESSIV is offered with 128 and 256.)
     */
    { "essiv-128/testmgr-1", ICE_ALG_ESSIV_AES_CBC, ICE_KEY_SIZE_128, 512, 1,
      0x30b49e9d42baaf3dULL, "06a9214036b8a15b512e03d534120006",
      "53696e676c6520626c6f636b206d7367",     /* "Single block msg" */
      "fa59e75f415665c336ca6b72109f8cd4" },
    { "essiv-128/testmgr-2", ICE_ALG_ESSIV_AES_CBC, ICE_KEY_SIZE_128, 512, 1,
      0x283d096d99172e56ULL, "c286696d887c9aa0611bbb3e2025a45a",
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
      "c8599afe79e67b20067d550a5ec7b5a70b9c80d215a1b86dc6ab7b65d9fd88eb" },
    { "essiv-256/testmgr-4", ICE_ALG_ESSIV_AES_CBC, ICE_KEY_SIZE_256, 512, 1,
      0x0706050403020100ULL, NIST_K256, NIST_PT,
      "2452f14874d0a793759b6346c01c1e174ddc5b3a27932a63f7f1c7b354565b50"
      "a331a58bd6fdb63c8bf6f245050cc8bb320b261ce98b02c0b26f37a75ba8a942" },

    /*
     * BitLocker AES-CBC against the openssl command line (OpenSSL 3.0).
     * Plaintext byte i of the request is i % 251.  For each unit u:
     *
     *   off=$(python3 -c "print(((DUN + u) * DUS).to_bytes(16, 'little').hex())")
     *   iv=$(printf %s $off | xxd -r -p |
     *        openssl enc -aes-BITS-ecb -K KEY -nopad | xxd -p | tr -d '\n')
     *   dd if=pt.bin bs=DUS skip=u count=1 |
     *        openssl enc -aes-BITS-cbc -K KEY -iv $iv -nopad >> ct.bin
     *
     * then the first 32 bytes of ct.bin and sha256sum of all of it.
     */
    { "bitlocker-128/openssl-dus512-two-units", ICE_ALG_BITLOCKER_AES_CBC,
      ICE_KEY_SIZE_128, 512, 2, 0, NIST_K128, NULL,
      "3fcc97bf4c21b7b31ab968420018a0f8e2bc6f5192b3862cd5b80ddce501f69f",
      "d0bee67e5d66c655fee17281964477031c9376532a54585a7af91de3de94f59e" },
    { "bitlocker-256/openssl-dus4k-two-units", ICE_ALG_BITLOCKER_AES_CBC,
      ICE_KEY_SIZE_256, 4096, 2, 0x12345678, NIST_K256, NULL,
      "a7fc9deb50ae8df8a2f8f17360b45a760ece23242867bfdcc2ff401d81dd8f93",
      "466ce82c0dbe7ca27b1e03d10744a6a80bd1e2142cfeac0014c926d9366bbd67" },
    /* DUN * DUS above 2^64: the IV input is the full 128-bit byte offset */
    { "bitlocker-128/openssl-offset-above-2^64", ICE_ALG_BITLOCKER_AES_CBC,
      ICE_KEY_SIZE_128, 4096, 1, 0xfffffffffffff000ULL, NIST_K128, NULL,
      "834c386bd82a2436fca188ccde621e077b5e57a25224b0e5976d1446020ef8b4",
      "c6ddad160d9682d1e288ebb6765ab5064b6c37da21a83ee3ec19f5e61a3e837e" },
    { "bitlocker-256/openssl-dus64k", ICE_ALG_BITLOCKER_AES_CBC,
      ICE_KEY_SIZE_256, 65536, 1, 7, NIST_K256, NULL,
      "112aefede3631406b2dde9d190b2211d9a923943a9c2f2511f53605322a01c4e",
      "d2ba538f4846a71e654c1bafbb08d536c1bce45a392a6912f8fde596a929100c" },
};

/* ---- helpers ---- */

static uint8_t *unhex(const char *hex, size_t *len)
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

static char *tohex(const uint8_t *buf, size_t len)
{
    char *hex = g_malloc(2 * len + 1);

    for (size_t i = 0; i < len; i++) {
        sprintf(hex + 2 * i, "%02x", buf[i]);
    }
    hex[2 * len] = '\0';
    return hex;
}

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
    if (t->alg == ICE_ALG_BITLOCKER_AES_CBC) {
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

static IceEngine *engine_with_slot(unsigned slot, IceAlgorithm alg,
                                   IceKeySize ks, uint32_t dus,
                                   const uint8_t *key, size_t key_len)
{
    IceEngine *e = ice_engine_new(8, slot);
    IceSlotConfig cfg = { .alg = alg, .key_size = ks, .data_unit_size = dus };

    ice_engine_program_slot(e, slot, &cfg, key, key_len, &error_abort);
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
    size_t key_len, pt_len = 0, ct_len = 0, len = (size_t)t->dus * t->units;
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

    if (!t->pt) {
        for (size_t i = 0; i < len; i++) {
            pt[i] = i % 251;
        }
    } else if (!strcmp(t->pt, PT_COUNTING)) {
        for (size_t i = 0; i < len; i++) {
            pt[i] = i;
        }
    } else if (t->alg == ICE_ALG_AES_ECB) {
        g_autofree uint8_t *p = unhex(t->pt, &pt_len);

        /* ECB: the standard's blocks, repeated over the whole request */
        for (size_t i = 0; i < len; i++) {
            pt[i] = p[i % pt_len];
        }
    } else {
        g_autofree uint8_t *p = unhex(t->pt, &pt_len);

        memcpy(pt, p, pt_len);
    }
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
    g_assert_cmpint(ice_key_check_request(k, 0, len, t->dun, NULL), ==, 0);
    g_assert_cmpint(ice_key_encrypt(k, t->dun, &qiov, ct), ==, 0);
    g_assert(!memcmp(pt, orig, len));          /* the source is untouched */

    if (t->ct) {
        want = unhex(t->ct, &ct_len);
        if (t->alg == ICE_ALG_AES_ECB) {
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
    g_assert_cmpint(ice_key_decrypt(k, t->dun, &qiov), ==, 0);
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
    IceEngine *e = engine_with_slot(0, ICE_ALG_AES_XTS, ICE_KEY_SIZE_128,
                                    512, key, key_len);
    IceKey *k = ice_engine_get_key(e, 0, &error_abort);
    QEMUIOVector qiov;

    for (int i = 0; i < 512; i++) {
        buf[i] = i;
    }
    memcpy(buf + 512, v4, 512);
    qemu_iovec_init(&qiov, 1);
    qemu_iovec_add(&qiov, buf, sizeof(buf));
    g_assert_cmpint(ice_key_encrypt(k, 0, &qiov, out), ==, 0);
    got = tohex(out, sizeof(out));
    g_assert_cmpstr(got, ==, IEEE_V4_CT IEEE_V5_CT);

    qemu_iovec_destroy(&qiov);
    ice_key_unref(k);
    ice_engine_free(e);
}

/* ---- round trips over random layouts ---- */

static const IceSlotConfig all_configs[] = {
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
    for (int iter = 0; iter < 200; iter++) {
        IceSlotConfig cfg = all_configs[iter % G_N_ELEMENTS(all_configs)];
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
        g_assert_cmpint(ice_key_encrypt(k, dun, &whole, ct), ==, 0);

        random_split(&split, buf, len);
        g_assert_cmpint(ice_key_encrypt(k, dun, &split, ct2), ==, 0);
        g_assert(!memcmp(ct, ct2, len));
        g_assert(!memcmp(buf, pt, len));
        g_assert(memcmp(ct, pt, len));
        qemu_iovec_destroy(&split);

        memcpy(buf, ct, len);
        random_split(&split, buf, len);
        g_assert_cmpint(ice_key_decrypt(k, dun, &split), ==, 0);
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
    for (size_t i = 0; i < G_N_ELEMENTS(all_configs); i++) {
        IceSlotConfig cfg = all_configs[i];
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
        g_assert_cmpint(ice_key_encrypt(k, 41, &qiov, ct), ==, 0);

        if (cfg.alg == ICE_ALG_AES_ECB) {
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
    uint32_t caps[ICE_CAPS_MAX + 1] = { 0 };
    static const uint32_t want[] = {
        0x00ff0100, 0x00ff0300,                 /* XTS 128, 256 */
        0x01ff0100, 0x01ff0300,                 /* BitLocker CBC 128, 256 */
        0x02ff0100, 0x02ff0200, 0x02ff0300,     /* ECB 128, 192, 256 */
        0x03ff0100, 0x03ff0300,                 /* ESSIV CBC 128, 256 */
    };

    g_assert_cmpuint(ice_engine_get_caps(e, NULL, 0), ==, G_N_ELEMENTS(want));
    g_assert_cmpuint(ice_engine_get_caps(e, caps, 2), ==, G_N_ELEMENTS(want));
    g_assert_cmphex(caps[0], ==, want[0]);
    g_assert_cmphex(caps[1], ==, want[1]);
    g_assert_cmphex(caps[2], ==, 0);
    ice_engine_get_caps(e, caps, G_N_ELEMENTS(caps));
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        g_assert_cmphex(caps[i], ==, want[i]);
    }
    g_assert_cmphex(caps[G_N_ELEMENTS(want)], ==, 0);
    ice_engine_free(e);
}

static void test_program_query_evict(void)
{
    IceEngine *e = ice_engine_new(4, 10);
    IceSlotConfig cfg = { ICE_ALG_ESSIV_AES_CBC, ICE_KEY_SIZE_256, 4096 };
    IceSlotConfig got;
    uint8_t key[32];
    IceKey *held;

    random_bytes(key, sizeof(key));
    g_assert_cmpuint(ice_engine_num_slots(e), ==, 4);
    g_assert_cmpuint(ice_engine_slot_offset(e), ==, 10);
    g_assert_false(ice_engine_query_slot(e, 12, &got));
    g_assert_cmpint(ice_engine_program_slot(e, 12, &cfg, key, 32,
                                            &error_abort), ==, 0);
    g_assert_true(ice_engine_query_slot(e, 12, &got));
    g_assert_cmpint(got.alg, ==, cfg.alg);
    g_assert_cmpint(got.key_size, ==, cfg.key_size);
    g_assert_cmpuint(got.data_unit_size, ==, 4096);
    g_assert_false(ice_engine_query_slot(e, 9, &got));
    g_assert_false(ice_engine_query_slot(e, 14, &got));

    /* A request holding the key keeps it across evict */
    held = ice_engine_get_key(e, 12, &error_abort);
    g_assert_cmpint(ice_engine_evict_slot(e, 12, &error_abort), ==, 0);
    g_assert_false(ice_engine_query_slot(e, 12, &got));
    g_assert_cmpuint(ice_key_config(held)->data_unit_size, ==, 4096);
    ice_key_unref(held);

    /* Evicting an empty slot is fine */
    g_assert_cmpint(ice_engine_evict_slot(e, 13, &error_abort), ==, 0);
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

static void test_validation_errors(void)
{
    IceEngine *e = ice_engine_new(8, 16);
    IceSlotConfig cfg = { ICE_ALG_AES_XTS, ICE_KEY_SIZE_256, 4096 };
    uint8_t key[ICE_KEY_MATERIAL_MAX];
    Error *err = NULL;
    IceKey *k;

    random_bytes(key, sizeof(key));

    /* bad slot: below the offset, past the end */
    g_assert_cmpint(ice_engine_program_slot(e, 15, &cfg, key, 64, &err), ==,
                    -EINVAL);
    expect_error(err, "slot 15 is out of range (valid slots: 16 to 23)");
    err = NULL;
    g_assert_cmpint(ice_engine_evict_slot(e, 24, &err), ==, -EINVAL);
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
    g_assert_cmpint(ice_engine_program_slot(e, 16, &cfg, key, 32, &err), ==,
                    -EINVAL);
    expect_error(err, "key is 32 bytes long, 256-bit aes-xts needs 64");
    err = NULL;

    /* unsupported combinations */
    cfg = (IceSlotConfig) { ICE_ALG_AES_XTS, ICE_KEY_SIZE_192, 4096 };
    g_assert_cmpint(ice_engine_program_slot(e, 16, &cfg, key, 48, &err), ==,
                    -EINVAL);
    expect_error(err, "aes-xts does not support 192-bit keys");
    err = NULL;
    cfg = (IceSlotConfig) { ICE_ALG_AES_ECB, ICE_KEY_SIZE_512, 4096 };
    g_assert_cmpint(ice_engine_program_slot(e, 16, &cfg, key, 64, &err), ==,
                    -EINVAL);
    expect_error(err, "aes-ecb does not support 512-bit keys");
    err = NULL;
    cfg = (IceSlotConfig) { ICE_ALG_AES_ECB, ICE_KEY_SIZE_INVALID, 4096 };
    g_assert_cmpint(ice_engine_check_config(e, &cfg, &err), ==, -EINVAL);
    expect_error(err, "invalid key size identifier 0");
    err = NULL;
    cfg = (IceSlotConfig) { 4, ICE_KEY_SIZE_128, 4096 };
    g_assert_cmpint(ice_engine_check_config(e, &cfg, &err), ==, -EINVAL);
    expect_error(err, "unknown crypto algorithm 4");
    err = NULL;
    for (size_t i = 0; i < 4; i++) {
        static const uint32_t bad_dus[] = { 256, 1000, 131072, 0 };

        cfg = (IceSlotConfig) { ICE_ALG_AES_ECB, ICE_KEY_SIZE_128, bad_dus[i] };
        g_assert_cmpint(ice_engine_check_config(e, &cfg, &err), ==, -EINVAL);
        expect_error(err, "is not a power of two from 512 to 65536");
        err = NULL;
    }

    /* equal XTS halves (IEEE 1619 vector 1 uses such a key) */
    cfg = (IceSlotConfig) { ICE_ALG_AES_XTS, ICE_KEY_SIZE_128, 512 };
    memset(key, 0, 32);
    g_assert_cmpint(ice_engine_program_slot(e, 16, &cfg, key, 32, &err), ==,
                    -EINVAL);
    expect_error(err, "the two halves of an XTS key must differ");
    err = NULL;
    g_assert_false(ice_engine_query_slot(e, 16, &cfg));

    /* misaligned offset and length, DUN overflow */
    cfg = (IceSlotConfig) { ICE_ALG_AES_XTS, ICE_KEY_SIZE_128, 4096 };
    key[0] = 1;
    ice_engine_program_slot(e, 16, &cfg, key, 32, &error_abort);
    k = ice_engine_get_key(e, 16, &error_abort);
    g_assert_cmpint(ice_key_check_request(k, 512, 4096, 0, &err), ==, -EINVAL);
    expect_error(err, "offset 512 is not a multiple of the data unit size 4096");
    err = NULL;
    g_assert_cmpint(ice_key_check_request(k, 8192, 6144, 0, &err), ==,
                    -EINVAL);
    expect_error(err, "length 6144 is not a multiple of the data unit size");
    err = NULL;
    g_assert_cmpint(ice_key_check_request(k, 0, 3 * 4096, UINT64_MAX - 1,
                                          &err), ==, -EINVAL);
    expect_error(err, "data unit number 18446744073709551614 plus 3 units "
                 "overflows 64 bits");
    err = NULL;
    /* the last DUN may be exactly 2^64 - 1 */
    g_assert_cmpint(ice_key_check_request(k, 0, 2 * 4096, UINT64_MAX - 1,
                                          &error_abort), ==, 0);
    g_assert_cmpint(ice_key_check_request(k, 0, 0, UINT64_MAX,
                                          &error_abort), ==, 0);
    ice_key_unref(k);
    ice_engine_free(e);
}

/* The crypto calls refuse a length that is not a whole number of units */
static void test_crypt_rejects_partial_unit(void)
{
    uint8_t key[32] = { 1 }, buf[1024], out[1024];
    IceEngine *e = engine_with_slot(0, ICE_ALG_AES_XTS, ICE_KEY_SIZE_128,
                                    512, key, 32);
    IceKey *k = ice_engine_get_key(e, 0, &error_abort);
    QEMUIOVector qiov;

    memset(buf, 0x11, sizeof(buf));
    memset(out, 0x22, sizeof(out));
    qemu_iovec_init(&qiov, 1);
    qemu_iovec_add(&qiov, buf, 700);
    g_assert_cmpint(ice_key_encrypt(k, 0, &qiov, out), ==, -EINVAL);
    g_assert_cmpint(ice_key_decrypt(k, 0, &qiov), ==, -EINVAL);
    g_assert_cmpint(out[0], ==, 0x22);
    g_assert_cmpint(buf[0], ==, 0x11);
    qemu_iovec_destroy(&qiov);
    ice_key_unref(k);
    ice_engine_free(e);
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
            if (ice_key_decrypt(k, 1000, &qiov) ||
                memcmp(buf, s->pt, CONC_LEN)) {
                qatomic_inc(&s->mismatches);
            }
        } else {
            qemu_iovec_add(&qiov, s->pt, CONC_LEN);
            if (ice_key_encrypt(k, 1000, &qiov, out) ||
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
    IceSlotConfig cfg_a = { ICE_ALG_AES_XTS, ICE_KEY_SIZE_256, CONC_DUS };
    IceSlotConfig cfg_b = { ICE_ALG_AES_XTS, ICE_KEY_SIZE_128, CONC_DUS };
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
    ice_engine_program_slot(s->e, 5, &cfg_a, key_a, 64, &error_abort);
    k = ice_engine_get_key(s->e, 5, &error_abort);
    ice_key_encrypt(k, 1000, &qiov, s->ct_a);
    ice_key_unref(k);
    ice_engine_program_slot(s->e, 5, &cfg_b, key_b, 32, &error_abort);
    k = ice_engine_get_key(s->e, 5, &error_abort);
    ice_key_encrypt(k, 1000, &qiov, s->ct_b);
    ice_key_unref(k);
    qemu_iovec_destroy(&qiov);

    for (int i = 0; i < CONC_WORKERS; i++) {
        qemu_thread_create(&threads[i], "ice-worker", conc_worker, s,
                           QEMU_THREAD_JOINABLE);
    }
    while (qatomic_read(&s->workers_done) < CONC_WORKERS || cycles < 100) {
        ice_engine_program_slot(s->e, 5, &cfg_a, key_a, 64, &error_abort);
        g_usleep(50);
        ice_engine_program_slot(s->e, 5, &cfg_b, key_b, 32, &error_abort);
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
    g_test_add_func("/ice-engine/slots/validation-errors",
                    test_validation_errors);
    g_test_add_func("/ice-engine/crypt/partial-unit", test_crypt_rejects_partial_unit);
    g_test_add_func("/ice-engine/concurrency/reprogram-under-load",
                    test_concurrent_reprogram);
    return g_test_run();
}
