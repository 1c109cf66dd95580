/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto engine (ICE): the engine and its slot table
 *
 * See include/block/ice-engine.h for the interface and the locking
 * rules.  The algorithms and capability table are in algorithms.c, a
 * key's lifetime in key.c and the per-data-unit crypto in crypt.c.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/host-utils.h"
#include "qemu/notify.h"
#include "qemu/thread.h"
#include "block/ice-engine.h"
#include "algorithms.h"
#include "key.h"
#include "trace.h"

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
    IceCap caps[ICE_CAPS_MAX];  /* what the crypto backend supports */
};

/* ---- engine and slots ---- */

IceEngine *ice_engine_new(unsigned num_slots, unsigned slot_offset)
{
    IceEngine *e = g_new0(IceEngine, 1);

    qemu_mutex_init(&e->lock);
    e->num_slots = num_slots;
    e->slot_offset = slot_offset;
    e->slots = g_new0(IceKey *, num_slots);
    notifier_list_init(&e->free_notifiers);
    e->num_caps = ice_backend_caps(e->caps);
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

size_t ice_engine_get_caps(const IceEngine *e, IceCap *caps, size_t max)
{
    if (caps) {
        memcpy(caps, e->caps, MIN(max, e->num_caps) * sizeof(caps[0]));
    }
    return e->num_caps;
}

void ice_engine_limit_data_unit(IceEngine *e, uint32_t max)
{
    uint8_t keep = (max / ICE_DATA_UNIT_MIN) * 2 - 1;
    size_t n = 0;

    assert(is_power_of_2(max) && max >= ICE_DATA_UNIT_MIN);
    for (size_t i = 0; i < e->num_caps; i++) {
        e->caps[n] = e->caps[i];
        e->caps[n].dus_mask &= keep;
        if (e->caps[n].dus_mask) {
            n++;
        }
    }
    e->num_caps = n;
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
        if (e->caps[i].alg == cfg->alg &&
            e->caps[i].key_size == cfg->key_size) {
            found = true;
            dus_mask = e->caps[i].dus_mask;
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
                   "from %d to %d", dus, ICE_DATA_UNIT_MIN,
                   ICE_DATA_UNIT_MIN << (31 - clz32(dus_mask)));
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
        ice_key_ref(key);
    }
    qemu_mutex_unlock(&e->lock);

    if (!key) {
        error_setg(errp, "slot %u holds no key", slot);
    }
    return key;
}
