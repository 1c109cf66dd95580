/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The inline crypto engine's fuzzing harness (tests/qtest/fuzz/
 * ice_engine_fuzz.c) on fixed inputs, in every make check
 *
 * Coverage-guided fuzzing needs a clang build (scripts/fuzz-ice).  This
 * test runs the same harness, with its round-trip and layout assertions,
 * on inputs generated from a fixed seed: mostly well-formed programs (a
 * slot in range, a valid configuration with the right key length,
 * aligned requests, DUNs near 2^64) with every field now and then out of
 * range, and pure noise.  ICE_FUZZ_SEED and ICE_FUZZ_COUNT change the
 * run; the seed is printed so that a failure can be repeated.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "crypto/init.h"
#include "qemu/cutils.h"
#include "block/ice-engine.h"
#include "tests/qtest/fuzz/ice_engine_fuzz.h"

#define COUNT_DEFAULT   2000

typedef struct Gen {
    GRand *rnd;
    GByteArray *out;
} Gen;

static void put(Gen *g, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        uint8_t b = v >> (8 * i);

        g_byte_array_append(g->out, &b, 1);
    }
}

/* True once in @n times */
static bool once_in(Gen *g, uint32_t n)
{
    return g_rand_int_range(g->rnd, 0, n) == 0;
}

static uint64_t rand64(Gen *g)
{
    return (uint64_t)g_rand_int(g->rnd) << 32 | g_rand_int(g->rnd);
}

static unsigned pick_slot(Gen *g)
{
    return once_in(g, 8) ? g_rand_int_range(g->rnd, 0, 256) :
           ICE_ENGINE_FUZZ_SLOT_OFFSET +
           g_rand_int_range(g->rnd, 0, ICE_ENGINE_FUZZ_SLOTS);
}

/* What the engine advertises: programs mostly choose one of these */
static IceCap caps[ICE_CAPS_MAX];
static size_t num_caps;

/* Data unit sizes of the slots as generated, to aim requests at them */
static uint32_t slot_dus[256];

static void gen_program(Gen *g, unsigned slot)
{
    static const unsigned key_bytes[ICE_KEY_SIZE__MAX] = {
        [ICE_KEY_SIZE_128] = 16, [ICE_KEY_SIZE_192] = 24,
        [ICE_KEY_SIZE_256] = 32, [ICE_KEY_SIZE_512] = 64,
    };
    const IceCap *cap = &caps[g_rand_int_range(g->rnd, 0, num_caps)];
    unsigned alg = cap->alg, ks = cap->key_size;
    unsigned shift, key_len;

    do {
        shift = g_rand_int_range(g->rnd, 1, 9);         /* 512 .. 64 KiB */
    } while (!(cap->dus_mask & 1u << (shift - 1)));
    if (once_in(g, 10)) {
        alg = g_rand_int_range(g->rnd, 0, 5);
    }
    if (once_in(g, 10)) {
        ks = g_rand_int_range(g->rnd, 0, 6);
    }
    if (once_in(g, 10)) {
        shift = g_rand_int_range(g->rnd, 0, 12);
    }
    put(g, 0, 1);
    put(g, slot, 1);
    put(g, alg, 1);
    put(g, ks, 1);
    if (once_in(g, 20)) {
        put(g, 0, 1);
        put(g, g_rand_int(g->rnd), 4);
    } else {
        put(g, 1, 1);
        put(g, shift, 1);
        slot_dus[slot] = 256u << shift;
    }
    key_len = ks < ICE_KEY_SIZE__MAX ? key_bytes[ks] : 32;
    if (alg == ICE_CRYPTO_ALGORITHM_AES_XTS) {
        key_len *= 2;
    }
    if (once_in(g, 10)) {
        key_len = g_rand_int_range(g->rnd, 0, 80);
    }
    put(g, key_len, 1);
    for (unsigned i = 0; i < key_len; i++) {
        put(g, g_rand_int(g->rnd), 1);
    }
}

static void gen_layout(Gen *g, size_t len)
{
    unsigned nseg = g_rand_int_range(g->rnd, 0, 12);

    put(g, nseg, 1);
    for (unsigned i = 0; i < nseg; i++) {
        put(g, once_in(g, 4) ? g_rand_int_range(g->rnd, 0, 16) :
               g_rand_int_range(g->rnd, 0, MIN(len, 65536) + 1), 2);
    }
}

static void gen_request(Gen *g)
{
    unsigned slot = pick_slot(g);
    uint32_t dus = slot_dus[slot] ? slot_dus[slot] : 4096;
    size_t units = g_rand_int_range(g->rnd, 0,
                                    ICE_ENGINE_FUZZ_MAX_LEN / dus + 1);
    uint64_t offset = (uint64_t)g_rand_int_range(g->rnd, 0, 1 << 20) * dus;
    uint64_t dun = once_in(g, 4) ? UINT64_MAX - g_rand_int_range(g->rnd, 0, 80)
                                 : rand64(g);
    size_t len = units * dus;

    if (once_in(g, 10)) {
        offset += g_rand_int_range(g->rnd, 1, 512);
    }
    if (once_in(g, 10)) {
        len = g_rand_int_range(g->rnd, 0, ICE_ENGINE_FUZZ_MAX_LEN + 1);
    }
    put(g, 3, 1);
    put(g, slot, 1);
    put(g, offset, 8);
    put(g, dun, 8);
    put(g, len, 3);
    gen_layout(g, len);
    gen_layout(g, len);
}

/* One input: well-formed operations, or now and then pure noise */
static GByteArray *gen_input(GRand *rnd)
{
    Gen g = { rnd, g_byte_array_new() };
    int ops = g_rand_int_range(rnd, 1, 12);

    memset(slot_dus, 0, sizeof(slot_dus));
    if (once_in(&g, 10)) {
        for (int i = g_rand_int_range(rnd, 0, 2048); i > 0; i--) {
            put(&g, g_rand_int(rnd), 1);
        }
        return g.out;
    }
    /* Most slots are programmed first */
    for (int i = 0; i < ICE_ENGINE_FUZZ_SLOTS; i++) {
        if (!once_in(&g, 4)) {
            gen_program(&g, ICE_ENGINE_FUZZ_SLOT_OFFSET + i);
        }
    }
    for (int i = 0; i < ops; i++) {
        switch (g_rand_int_range(rnd, 0, 10)) {
        case 0 ... 1:
            gen_program(&g, pick_slot(&g));
            break;
        case 3:
            put(&g, 1, 1);
            put(&g, pick_slot(&g), 1);
            break;
        case 4:
            put(&g, 2, 1);
            put(&g, pick_slot(&g), 1);
            put(&g, g_rand_int_range(rnd, 0, 12), 1);
            break;
        default:
            gen_request(&g);
            break;
        }
    }
    return g.out;
}

/* The value of environment variable @name, or @def if it is not set */
static unsigned env_uint(const char *name, unsigned def)
{
    const char *s = g_getenv(name);
    unsigned v = def;

    g_assert_true(!s || qemu_strtoui(s, NULL, 0, &v) == 0);
    return v;
}

static void test_replay(void)
{
    unsigned seed = env_uint("ICE_FUZZ_SEED", 1);
    unsigned count = env_uint("ICE_FUZZ_COUNT", COUNT_DEFAULT);
    g_autoptr(GRand) rnd = g_rand_new_with_seed(seed);
    unsigned round_trips = 0;
    size_t bytes = 0;

    g_test_message("ICE_FUZZ_SEED=%u ICE_FUZZ_COUNT=%u", seed, count);
    /* The empty input and a lone byte of each operation */
    for (uint8_t op = 0; op < 4; op++) {
        ice_engine_fuzz_one(&op, 1);
    }
    ice_engine_fuzz_one(NULL, 0);

    for (unsigned i = 0; i < count; i++) {
        g_autoptr(GByteArray) in = gen_input(rnd);

        round_trips += ice_engine_fuzz_one(in->data, in->len);
        bytes += in->len;
    }
    g_test_message("%u inputs (%zu bytes), %u requests round-tripped",
                   count, bytes, round_trips);
    /* The generator reaches the crypto, not only the refusals */
    g_assert_cmpuint(round_trips, >=, count / 2);
}

int main(int argc, char **argv)
{
    IceEngine *e;

    g_test_init(&argc, &argv, NULL);
    qcrypto_init(&error_abort);
    e = ice_engine_new(1, 0);
    num_caps = ice_engine_get_caps(e, caps, ICE_CAPS_MAX);
    g_assert_cmpuint(num_caps, >, 0);
    ice_engine_free(e);
    g_test_add_func("/ice-engine/fuzz/replay", test_replay);
    return g_test_run();
}
