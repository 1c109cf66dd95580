/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * virtio-blk inline crypto engine: the device's slot table in migration
 *
 * Keys belong to the host (include/block/ice-host.h).  The
 * destination of a migration receives the slot table (algorithm, sizes
 * and secret ids, never key bytes) and reads its own secrets.  Keys a
 * guest loaded (ice-keybox) have no secret: migration and snapshots are
 * blocked for as long as the engine holds any, whoever loaded them.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "block/ice-host.h"
#include "hw/qdev-core.h"
#include "migration/blocker.h"
#include "migration/vmstate.h"
#include "virtio-blk-ice-internal.h"

/* ---- migration ---- */

/*
 * The slot table travels as VMSTATE fields: per programmed slot its
 * number, configuration (in the wire encoding of the capabilities) and
 * the id of the secret the key came from.  Key bytes never do: the
 * destination reads its own secret of that id.
 */

static bool virtio_blk_ice_vmstate_needed(void *opaque)
{
    VirtIOBlock *s = opaque;

    return s->ice.engine != NULL;
}

/*
 * Empty the table, whatever a save or a (possibly failed) load left in
 * it: every entry's secret is either NULL or its own allocation.
 */
static void virtio_blk_ice_clear_mig_slots(VirtIOBlkIce *ice)
{
    for (unsigned i = 0; ice->mig_slots && i < ice->num_slots; i++) {
        g_free(ice->mig_slots[i].secret);
        ice->mig_slots[i] = (VirtIOBlkIceSlotState) { 0 };
    }
    ice->mig_num_slots = 0;
}

/* The disk as the user named it: the proxy's qdev id, or a QOM path */
static char *virtio_blk_ice_disk_name(VirtIOBlock *s)
{
    BusState *bus = qdev_get_parent_bus(DEVICE(s));
    DeviceState *proxy = bus ? bus->parent : DEVICE(s);

    return proxy->id ? g_strdup(proxy->id) :
                       object_get_canonical_path(OBJECT(proxy));
}

/* The engine takes its first guest key: block migration while it holds any */
static int virtio_blk_ice_admit_guest_key(void *opaque, Error **errp)
{
    VirtIOBlock *s = opaque;
    g_autofree char *name = virtio_blk_ice_disk_name(s);

    error_setg(&s->ice.guest_key_blocker, "virtio-blk: disk '%s' holds "
               "inline crypto keys the guest loaded, which cannot be "
               "migrated", name);
    /* Fails while a migration or snapshot runs, or with --only-migratable */
    return migrate_add_blocker(&s->ice.guest_key_blocker, errp);
}

static void virtio_blk_ice_guest_keys_released(void *opaque)
{
    VirtIOBlock *s = opaque;

    migrate_del_blocker(&s->ice.guest_key_blocker);
}

static const IceGuestKeyHooks virtio_blk_ice_guest_key_hooks = {
    .admit = virtio_blk_ice_admit_guest_key,
    .released = virtio_blk_ice_guest_keys_released,
};

void virtio_blk_ice_migration_init(VirtIOBlock *s)
{
    s->ice.mig_slots = g_new0(VirtIOBlkIceSlotState, s->ice.num_slots);
    ice_engine_set_guest_key_hooks(s->ice.engine,
                                   &virtio_blk_ice_guest_key_hooks, s);
}

void virtio_blk_ice_migration_cleanup(VirtIOBlock *s)
{
    migrate_del_blocker(&s->ice.guest_key_blocker);
    virtio_blk_ice_clear_mig_slots(&s->ice);
    g_free(s->ice.mig_slots);
    s->ice.mig_slots = NULL;
}

int virtio_blk_ice_pre_save(void *opaque)
{
    VirtIOBlock *s = opaque;
    VirtIOBlkIce *ice = &s->ice;

    if (!ice->engine) {
        return 0;
    }
    virtio_blk_ice_clear_mig_slots(ice);
    for (unsigned i = 0; i < ice->num_slots; i++) {
        VirtIOBlkIceSlotState *st = &ice->mig_slots[ice->mig_num_slots];
        unsigned slot = ice->slot_offset + i;
        g_autofree char *name = NULL;
        IceSlotConfig cfg;
        char *id;

        if (!ice_engine_query_slot(ice->engine, slot, &cfg, &id)) {
            continue;
        }
        if (!id || strlen(id) >= VIRTIO_BLK_ICE_SECRET_ID_MAX) {
            int ret = id ? -ENAMETOOLONG : -EPERM;

            name = virtio_blk_ice_disk_name(s);
            error_report("virtio-blk: cannot save disk '%s': inline crypto "
                         "slot %u holds %s", name, slot,
                         id ? "a key whose secret id is longer than 255 "
                              "bytes" :
                              "a key the guest loaded, which has no secret "
                              "a destination could read");
            g_free(id);
            virtio_blk_ice_clear_mig_slots(ice);
            return ret;
        }
        st->slot = slot;
        st->alg = cfg.alg;
        st->key_size = cfg.key_size;
        st->data_unit_size = cfg.data_unit_size;
        st->secret = (uint8_t *)id;
        st->secret_len = strlen(id) + 1;
        ice->mig_num_slots++;
    }
    return 0;
}

static int virtio_blk_ice_post_load(void *opaque, int version_id)
{
    VirtIOBlock *s = opaque;
    VirtIOBlkIce *ice = &s->ice;
    Error *err = NULL;
    int ret = 0;

    /* The source's table replaces whatever ice-preload programmed here */
    for (unsigned i = 0; i < ice->num_slots; i++) {
        ice_engine_evict_slot(ice->engine, ice->slot_offset + i,
                              &error_abort);
    }
    for (int i = 0; i < ice->mig_num_slots && ret == 0; i++) {
        VirtIOBlkIceSlotState *st = &ice->mig_slots[i];
        IceSlotConfig cfg = {
            .alg = st->alg,
            .key_size = st->key_size,
            .data_unit_size = st->data_unit_size,
        };

        if (!ice_host_program(ice->engine, st->slot, &cfg,
                              (const char *)st->secret, &err)) {
            error_prepend(&err, "virtio-blk: cannot restore inline crypto "
                          "slot %u: ", st->slot);
            error_report_err(err);
            ret = -EINVAL;
        }
    }
    virtio_blk_ice_clear_mig_slots(ice);
    return ret;
}

/*
 * Checked before the table is loaded: the device has ice=on, so it has a
 * table, and the stream's slots fit in it
 */
static bool virtio_blk_ice_mig_count_valid(void *opaque, int version_id)
{
    VirtIOBlkIce *ice = &((VirtIOBlock *)opaque)->ice;

    if (!ice->engine) {
        error_report("virtio-blk: the migration stream has inline crypto "
                     "slots but this device does not have ice=on");
        return false;
    }
    return ice->mig_num_slots >= 0 && ice->mig_num_slots <= ice->num_slots;
}

/* A secret id: 1 to VIRTIO_BLK_ICE_SECRET_ID_MAX bytes with its NUL */
static bool virtio_blk_ice_mig_secret_len_valid(void *opaque, int version_id)
{
    VirtIOBlkIceSlotState *st = opaque;

    return st->secret_len >= 1 &&
           st->secret_len <= VIRTIO_BLK_ICE_SECRET_ID_MAX;
}

static bool virtio_blk_ice_mig_secret_valid(void *opaque, int version_id)
{
    VirtIOBlkIceSlotState *st = opaque;

    return memchr(st->secret, '\0', st->secret_len) ==
           st->secret + st->secret_len - 1;
}

static const VMStateDescription vmstate_virtio_blk_ice_slot = {
    .name = "virtio-blk-ice/slot",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(slot, VirtIOBlkIceSlotState),
        VMSTATE_UINT8(alg, VirtIOBlkIceSlotState),
        VMSTATE_UINT8(key_size, VirtIOBlkIceSlotState),
        VMSTATE_UINT32(data_unit_size, VirtIOBlkIceSlotState),
        VMSTATE_UINT32(secret_len, VirtIOBlkIceSlotState),
        VMSTATE_VALIDATE("secret id length",
                         virtio_blk_ice_mig_secret_len_valid),
        VMSTATE_VBUFFER_ALLOC_UINT32(secret, VirtIOBlkIceSlotState, 1,
                                     NULL, secret_len),
        VMSTATE_VALIDATE("secret id", virtio_blk_ice_mig_secret_valid),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_virtio_blk_ice_slots = {
    .name = "virtio-blk-ice/slots",
    .version_id = 2,
    .minimum_version_id = 2,
    .needed = virtio_blk_ice_vmstate_needed,
    .post_load = virtio_blk_ice_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_INT32(ice.mig_num_slots, VirtIOBlock),
        VMSTATE_VALIDATE("slot count", virtio_blk_ice_mig_count_valid),
        VMSTATE_STRUCT_VARRAY_POINTER_INT32(ice.mig_slots, VirtIOBlock,
                                            ice.mig_num_slots,
                                            vmstate_virtio_blk_ice_slot,
                                            VirtIOBlkIceSlotState),
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
static const VMStateDescription vmstate_virtio_blk_ice = {
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

/*
 * vmstate_save_state() and vmstate_load_state() report errors through an
 * Error ** since QEMU 10.1; the series is kept for 10.0 as well, and this
 * is the one place that differs.
 */
#if QEMU_VERSION_MAJOR * 100 + QEMU_VERSION_MINOR >= 1001
void virtio_blk_ice_save(VirtIOBlock *s, QEMUFile *f)
{
    Error *err = NULL;

    if (vmstate_save_state(f, &vmstate_virtio_blk_ice, s, NULL, &err) < 0) {
        error_report_err(err);
    }
}

int virtio_blk_ice_load(VirtIOBlock *s, QEMUFile *f)
{
    Error *err = NULL;
    int ret = vmstate_load_state(f, &vmstate_virtio_blk_ice, s, 1, &err);

    if (ret < 0) {
        error_report_err(err);
    }
    return ret;
}
#else
void virtio_blk_ice_save(VirtIOBlock *s, QEMUFile *f)
{
    vmstate_save_state(f, &vmstate_virtio_blk_ice, s, NULL);
}

int virtio_blk_ice_load(VirtIOBlock *s, QEMUFile *f)
{
    return vmstate_load_state(f, &vmstate_virtio_blk_ice, s, 1);
}
#endif
