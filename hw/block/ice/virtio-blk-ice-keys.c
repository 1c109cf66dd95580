/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * virtio-blk inline crypto engine: host key management
 *
 * Keys belong to the host.  They are loaded from secret objects by the
 * QMP commands, by the ice-preload property at start-up, and on the
 * destination of a migration, which receives the slot table (algorithm,
 * sizes and secret ids, never key bytes) and reads its own secrets.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-ice.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "crypto/secret_common.h"
#include "hw/qdev-core.h"
#include "migration/vmstate.h"
#include "virtio-blk-ice-internal.h"

/* The QAPI enum and the engine's wire encoding share their values */
QEMU_BUILD_BUG_ON((int)ICE_CRYPTO_ALGORITHM_AES_XTS != (int)ICE_ALG_AES_XTS);
QEMU_BUILD_BUG_ON((int)ICE_CRYPTO_ALGORITHM_BITLOCKER_AES_CBC !=
                  (int)ICE_ALG_BITLOCKER_AES_CBC);
QEMU_BUILD_BUG_ON((int)ICE_CRYPTO_ALGORITHM_AES_ECB != (int)ICE_ALG_AES_ECB);
QEMU_BUILD_BUG_ON((int)ICE_CRYPTO_ALGORITHM_ESSIV_AES_CBC !=
                  (int)ICE_ALG_ESSIV_AES_CBC);
QEMU_BUILD_BUG_ON((int)ICE_CRYPTO_ALGORITHM__MAX != (int)ICE_ALG__MAX);

bool virtio_blk_ice_program(VirtIOBlock *s, unsigned slot,
                            const IceSlotConfig *cfg, const char *secret_id,
                            Error **errp)
{
    VirtIOBlkIce *ice = &s->ice;
    g_autofree uint8_t *key = NULL;
    size_t len = 0, want;
    int ret;

    if (ice_engine_check_slot(ice->engine, slot, errp) < 0 ||
        ice_engine_check_config(ice->engine, cfg, errp) < 0) {
        return false;
    }
    if (qcrypto_secret_lookup(secret_id, &key, &len, errp) < 0) {
        return false;
    }
    want = ice_key_material_len(cfg->alg, cfg->key_size);
    if (len != want) {
        error_setg(errp, "secret '%s' holds %zu bytes, a %u-bit %s key "
                   "needs %zu", secret_id, len,
                   ice_key_size_bits(cfg->key_size), ice_alg_name(cfg->alg),
                   want);
        ret = -EINVAL;
    } else {
        ret = ice_engine_program_slot(ice->engine, slot, cfg, key, len, errp);
    }
    ice_wipe(key, len);
    if (ret < 0) {
        return false;
    }

    slot -= ice->slot_offset;
    g_free(ice->slot_secret[slot]);
    ice->slot_secret[slot] = g_strdup(secret_id);
    return true;
}

bool virtio_blk_ice_evict(VirtIOBlock *s, unsigned slot, Error **errp)
{
    VirtIOBlkIce *ice = &s->ice;

    if (ice_engine_evict_slot(ice->engine, slot, errp) < 0) {
        return false;
    }
    slot -= ice->slot_offset;
    g_free(ice->slot_secret[slot]);
    ice->slot_secret[slot] = NULL;
    return true;
}

/* Parse one "SLOT:ALGORITHM:KEY_BITS:DATA_UNIT_SIZE:SECRET_ID" entry */
static bool virtio_blk_ice_load_one(VirtIOBlock *s, const char *entry,
                                    Error **errp)
{
    g_auto(GStrv) f = g_strsplit(entry, ":", -1);
    unsigned slot, bits, dus;
    IceSlotConfig cfg;
    int alg;

    if (g_strv_length(f) != 5 || !*f[4] ||
        qemu_strtoui(f[0], NULL, 10, &slot) < 0 ||
        qemu_strtoui(f[2], NULL, 10, &bits) < 0 ||
        qemu_strtoui(f[3], NULL, 10, &dus) < 0) {
        error_setg(errp, "'%s' is not SLOT:ALGORITHM:KEY_BITS:"
                   "DATA_UNIT_SIZE:SECRET_ID", entry);
        return false;
    }
    alg = qapi_enum_parse(&IceCryptoAlgorithm_lookup, f[1], -1, NULL);
    if (alg < 0) {
        error_setg(errp, "unknown algorithm '%s' (aes-xts, "
                   "bitlocker-aes-cbc, aes-ecb or essiv-aes-cbc)", f[1]);
        return false;
    }
    cfg.alg = alg;
    cfg.key_size = ice_key_size_from_bits(bits);
    cfg.data_unit_size = dus;
    if (cfg.key_size == ICE_KEY_SIZE_INVALID) {
        error_setg(errp, "key size %u is not 128, 192 or 256 bits", bits);
        return false;
    }
    if (!virtio_blk_ice_program(s, slot, &cfg, f[4], errp)) {
        error_prepend(errp, "slot %u: ", slot);
        return false;
    }
    return true;
}

bool virtio_blk_ice_load_slots(VirtIOBlock *s, const char *spec,
                               Error **errp)
{
    g_auto(GStrv) entries = g_strsplit(spec, ";", -1);

    for (char **e = entries; *e; e++) {
        if (**e && !virtio_blk_ice_load_one(s, *e, errp)) {
            return false;
        }
    }
    return true;
}

char *virtio_blk_ice_format_slots(VirtIOBlock *s)
{
    VirtIOBlkIce *ice = &s->ice;
    GString *str = g_string_new("");

    for (unsigned i = 0; i < ice->num_slots; i++) {
        unsigned slot = ice->slot_offset + i;
        IceSlotConfig cfg;

        if (!ice_engine_query_slot(ice->engine, slot, &cfg)) {
            continue;
        }
        g_string_append_printf(str, "%s%u:%s:%u:%" PRIu32 ":%s",
                               str->len ? ";" : "", slot,
                               ice_alg_name(cfg.alg),
                               ice_key_size_bits(cfg.key_size),
                               cfg.data_unit_size, ice->slot_secret[i]);
    }
    return g_string_free(str, false);
}

/* ---- migration ---- */

static bool virtio_blk_ice_vmstate_needed(void *opaque)
{
    VirtIOBlock *s = opaque;

    return s->ice.engine != NULL;
}

static int virtio_blk_ice_pre_save(void *opaque)
{
    VirtIOBlkIce *ice = &((VirtIOBlock *)opaque)->ice;

    g_free(ice->migration_slots);
    ice->migration_slots = virtio_blk_ice_format_slots(opaque);
    ice->migration_slots_len = strlen(ice->migration_slots) + 1;
    return 0;
}

static int virtio_blk_ice_post_load(void *opaque, int version_id)
{
    VirtIOBlock *s = opaque;
    VirtIOBlkIce *ice = &s->ice;
    g_autofree char *spec = g_steal_pointer(&ice->migration_slots);
    Error *err = NULL;

    if (!ice->engine) {
        error_report("virtio-blk: the migration stream has inline crypto "
                     "slots but this device does not have ice=on");
        return -EINVAL;
    }
    if (!spec || !ice->migration_slots_len ||
        spec[ice->migration_slots_len - 1] != '\0') {
        error_report("virtio-blk: malformed inline crypto slot table");
        return -EINVAL;
    }
    /* The source's table replaces whatever ice-preload programmed here */
    for (unsigned i = 0; i < ice->num_slots; i++) {
        virtio_blk_ice_evict(s, ice->slot_offset + i, &error_abort);
    }
    if (!virtio_blk_ice_load_slots(s, spec, &err)) {
        error_prepend(&err, "virtio-blk: cannot restore inline crypto "
                      "slots: ");
        error_report_err(err);
        return -EINVAL;
    }
    return 0;
}

static const VMStateDescription vmstate_virtio_blk_ice_slots = {
    .name = "virtio-blk-ice/slots",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = virtio_blk_ice_vmstate_needed,
    .pre_save = virtio_blk_ice_pre_save,
    .post_load = virtio_blk_ice_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ice.migration_slots_len, VirtIOBlock),
        VMSTATE_VBUFFER_ALLOC_UINT32(ice.migration_slots, VirtIOBlock, 1,
                                     NULL, ice.migration_slots_len),
        VMSTATE_END_OF_LIST()
    },
};

/*
 * Saved at the end of virtio-blk's device data (VirtioDeviceClass::save).
 * It has no fields, only subsections that are sent when needed, so devices
 * without ice=on produce the same stream as before, and an older QEMU
 * refuses a stream with slots instead of misreading it.  (A subsection of
 * the outer "virtio-blk" vmstate would not do: the virtio core loads its
 * own "virtio/..." subsections after the device data and would take
 * "virtio-blk/..." for one of them.)
 */
const VMStateDescription vmstate_virtio_blk_ice = {
    .name = "virtio-blk-ice",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_virtio_blk_ice_slots,
        NULL
    },
};

/* ---- QMP ---- */

/* Find a virtio-blk device with ice=on by qdev id or QOM path */
static VirtIOBlock *virtio_blk_ice_find(const char *id, Error **errp)
{
    Object *obj, *vblk;

    if (id[0] == '/') {
        obj = object_resolve_path(id, NULL);
    } else {
        obj = object_resolve_path_component(
            machine_get_container("peripheral"), id);
    }
    if (!obj) {
        error_setg(errp, "Device '%s' not found", id);
        return NULL;
    }
    /* virtio-blk-pci and virtio-blk-ccw hold the device as virtio-backend */
    vblk = object_dynamic_cast(obj, TYPE_VIRTIO_BLK);
    if (!vblk) {
        Object *child = object_resolve_path_component(obj, "virtio-backend");

        vblk = child ? object_dynamic_cast(child, TYPE_VIRTIO_BLK) : NULL;
    }
    if (!vblk) {
        error_setg(errp, "Device '%s' is not a virtio-blk device", id);
        return NULL;
    }
    if (!VIRTIO_BLK(vblk)->ice.engine) {
        error_setg(errp, "Device '%s' does not have ice=on", id);
        return NULL;
    }
    return VIRTIO_BLK(vblk);
}

void qmp_ice_program_slot(const char *id, uint8_t slot,
                          IceCryptoAlgorithm algorithm, uint16_t key_size,
                          uint32_t data_unit_size, const char *key_secret,
                          Error **errp)
{
    VirtIOBlock *s = virtio_blk_ice_find(id, errp);
    IceSlotConfig cfg = {
        .alg = (IceAlgorithm)algorithm,
        .key_size = ice_key_size_from_bits(key_size),
        .data_unit_size = data_unit_size,
    };

    if (!s) {
        return;
    }
    if (cfg.key_size == ICE_KEY_SIZE_INVALID) {
        error_setg(errp, "key-size %u is not 128, 192 or 256", key_size);
        return;
    }
    virtio_blk_ice_program(s, slot, &cfg, key_secret, errp);
}

void qmp_ice_evict_slot(const char *id, uint8_t slot, Error **errp)
{
    VirtIOBlock *s = virtio_blk_ice_find(id, errp);

    if (s) {
        virtio_blk_ice_evict(s, slot, errp);
    }
}

IceInfo *qmp_query_ice(const char *id, Error **errp)
{
    VirtIOBlock *s = virtio_blk_ice_find(id, errp);
    uint32_t caps[ICE_CAPS_MAX];
    IceCapabilityList **cap_tail;
    IceSlotInfoList **slot_tail;
    IceInfo *info;
    size_t n;

    if (!s) {
        return NULL;
    }
    info = g_new0(IceInfo, 1);
    info->max_slots = s->ice.num_slots;
    info->slot_offset = s->ice.slot_offset;

    cap_tail = &info->capabilities;
    n = ice_engine_get_caps(s->ice.engine, caps, ARRAY_SIZE(caps));
    for (size_t i = 0; i < MIN(n, ARRAY_SIZE(caps)); i++) {
        IceCapability *cap = g_new0(IceCapability, 1);
        uint32List **dus_tail = &cap->data_unit_sizes;
        uint8_t mask = ice_cap_dus_mask(caps[i]);

        cap->algorithm = (IceCryptoAlgorithm)ice_cap_alg(caps[i]);
        cap->key_size = ice_key_size_bits(ice_cap_key_size(caps[i]));
        for (int j = 0; j < 8; j++) {
            if (mask & (1 << j)) {
                QAPI_LIST_APPEND(dus_tail, ICE_DATA_UNIT_MIN << j);
            }
        }
        QAPI_LIST_APPEND(cap_tail, cap);
    }

    slot_tail = &info->slots;
    for (unsigned i = 0; i < s->ice.num_slots; i++) {
        unsigned slot = s->ice.slot_offset + i;
        IceSlotConfig cfg;
        IceSlotInfo *si;

        if (!ice_engine_query_slot(s->ice.engine, slot, &cfg)) {
            continue;
        }
        si = g_new0(IceSlotInfo, 1);
        si->slot = slot;
        si->algorithm = (IceCryptoAlgorithm)cfg.alg;
        si->key_size = ice_key_size_bits(cfg.key_size);
        si->data_unit_size = cfg.data_unit_size;
        si->key_secret = g_strdup(s->ice.slot_secret[i]);
        QAPI_LIST_APPEND(slot_tail, si);
    }
    return info;
}
