/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Fuzzing the inline crypto engine (block/ice/) directly
 *
 * The input is a little program: program and evict slots with any
 * algorithm, key size, data unit size and key length (valid or not), and
 * run requests with any offset, length, DUN and scatter-gather layout.
 * Whatever the engine accepts must round-trip: decrypting what it
 * encrypted, through another layout, gives the plaintext back, and the
 * ciphertext does not depend on the layout.  The sanitizers catch the
 * rest.  The input format is in ice_engine_fuzz.h.
 *
 * Two programs run it: the ice-engine-fuzz target of qemu-fuzz-x86_64
 * (ice_engine_fuzz_target.c, run by scripts/fuzz-ice) and the unit test
 * test-ice-engine-fuzz, which replays generated inputs in make check.
 */

#include "qemu/osdep.h"
#include "qemu/iov.h"
#include "block/ice-engine.h"
#include "ice_engine_fuzz.h"

#define MAX_LEN     ICE_ENGINE_FUZZ_MAX_LEN

typedef struct Input {
    const uint8_t *p;
    size_t left;
} Input;

static uint64_t take(Input *in, int bytes)
{
    uint64_t v = 0;

    for (int i = 0; i < bytes; i++) {
        v = v << 8 | (in->left ? (in->left--, *in->p++) : 0);
    }
    return v;
}

/* A scatter-gather layout: segment sizes, the last one takes the rest */
typedef struct Layout {
    int nseg;
    uint16_t size[11];
} Layout;

/* Read a layout whole, whatever becomes of the request */
static void take_layout(Input *in, Layout *l)
{
    l->nseg = 1 + take(in, 1) % 12;
    for (int i = 0; i < l->nseg - 1; i++) {
        l->size[i] = take(in, 2);
    }
}

/* Split @len bytes of @buf into the segments of @l */
static void make_layout(const Layout *l, QEMUIOVector *qiov, uint8_t *buf,
                        size_t len)
{
    size_t off = 0;

    qemu_iovec_init(qiov, l->nseg);
    for (int i = 0; i < l->nseg - 1 && off < len; i++) {
        size_t n = MIN(l->size[i], len - off);

        qemu_iovec_add(qiov, buf + off, n);
        off += n;
    }
    qemu_iovec_add(qiov, buf + off, len - off);
}

/*
 * Encrypt a request through one layout, decrypt it through another: the
 * plaintext comes back, and the ciphertext does not depend on the layout
 */
static bool run_request(IceEngine *e, Input *in, uint8_t *pt, uint8_t *ct,
                        uint8_t *buf, uint8_t *ct2)
{
    unsigned slot = take(in, 1);
    uint64_t offset = take(in, 8), dun = take(in, 8);
    size_t len = take(in, 3) % (MAX_LEN + 1);
    IceKey *key = ice_engine_get_key(e, slot, NULL);
    QEMUIOVector src, dst;
    Layout src_l, dst_l;
    size_t dus;

    take_layout(in, &src_l);
    take_layout(in, &dst_l);

    if (!key) {
        return false;
    }
    dus = ice_key_config(key)->data_unit_size;
    if (!ice_key_check_request(key, offset, len, dun, NULL)) {
        /* Refused requests must have a reason the checker names */
        assert(offset % dus || len % dus ||
               (len && dun > UINT64_MAX - (len / dus - 1)));
        ice_key_unref(key);
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        pt[i] = i * 131 + slot;
    }
    make_layout(&src_l, &src, pt, len);
    assert(ice_key_encrypt(key, dun, &src, ct, NULL));
    memcpy(buf, ct, len);
    make_layout(&dst_l, &dst, buf, len);
    assert(ice_key_decrypt(key, dun, &dst, NULL));
    assert(memcmp(buf, pt, len) == 0);
    assert(ice_key_encrypt(key, dun, &dst, ct2, NULL));
    assert(memcmp(ct2, ct, len) == 0);
    qemu_iovec_destroy(&src);
    qemu_iovec_destroy(&dst);
    ice_key_unref(key);
    return true;
}

unsigned ice_engine_fuzz_one(const uint8_t *data, size_t size)
{
    static uint8_t *pt, *ct, *buf, *ct2;
    Input in = { data, size };
    unsigned round_trips = 0;
    IceEngine *e;

    if (!pt) {
        pt = g_malloc(MAX_LEN);
        ct = g_malloc(MAX_LEN);
        buf = g_malloc(MAX_LEN);
        ct2 = g_malloc(MAX_LEN);
    }
    e = ice_engine_new(ICE_ENGINE_FUZZ_SLOTS, ICE_ENGINE_FUZZ_SLOT_OFFSET);
    for (int ops = 0; in.left && ops < 32; ops++) {
        switch (take(&in, 1) % 4) {
        case 0: {
            uint8_t key[80];
            unsigned slot = take(&in, 1);
            IceSlotConfig cfg;
            size_t key_len;

            /* One field after the other: initialisers have no order */
            cfg.alg = take(&in, 1) % 5;
            cfg.key_size = take(&in, 1) % 6;
            if (take(&in, 1) & 1) {
                cfg.data_unit_size = 256u << (take(&in, 1) % 12);
            } else {
                cfg.data_unit_size = take(&in, 4);
            }
            key_len = take(&in, 1) % sizeof(key);

            for (size_t i = 0; i < key_len; i++) {
                key[i] = take(&in, 1);
            }
            ice_engine_program_slot(e, slot, &cfg, key, key_len, NULL, NULL);
            break;
        }
        case 1:
            ice_engine_evict_slot(e, take(&in, 1), NULL);
            break;
        case 2: {
            IceSlotConfig cfg;
            IceCap caps[ICE_CAPS_MAX];

            ice_engine_query_slot(e, take(&in, 1), &cfg, NULL);
            assert(ice_engine_get_caps(e, caps, take(&in, 1) % 12) ==
                   ICE_CAPS_MAX);
            break;
        }
        default:
            round_trips += run_request(e, &in, pt, ct, buf, ct2);
            break;
        }
    }
    ice_engine_free(e);
    return round_trips;
}
