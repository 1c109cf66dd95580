/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * ice-keybox: a PCI key channel from the guest to one disk's inline
 * crypto engine (see include/hw/block/ice-keybox.h)
 *
 * The box holds no key of its own between commands: PROGRAM hands the
 * key bytes to the engine, which keeps its copy, and the register file
 * is wiped.  The box binds to its disk's engine at realize; the engine
 * tells it when the disk goes, and from then on the box answers "no
 * disk".  The engine records which box loaded each key: the box's reset
 * and unplug evict them, and the disk blocks migration while it holds
 * any guest key (hw/block/ice/virtio-blk-ice-keys.c).
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/module.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "block/ice-engine.h"
#include "hw/virtio/virtio-blk-ice.h"
#include "hw/block/ice-keybox.h"
#include "trace.h"

OBJECT_DECLARE_SIMPLE_TYPE(IceKeybox, ICE_KEYBOX)

/**
 * IceKeybox:
 * @disk: property "disk", the qdev id (or QOM path) of the
 *        virtio-blk-pci device served
 * @engine: that disk's engine, bound at realize; NULL once it is gone
 * @disk_pci: that disk's PCI function, NULL with @engine
 * @engine_freed: tells the box when the disk's engine goes
 * @slot...@key_len: the argument registers
 * @status: the last command's status
 * @key: the key register, wiped after every command
 * @key_pending: key bytes were written since the last command
 * @key_lost: they were written before a migration, which does not carry
 *            them: the next PROGRAM fails rather than load a wrong key
 */
struct IceKeybox {
    PCIDevice parent_obj;

    char *disk;
    IceEngine *engine;
    PCIDevice *disk_pci;
    Notifier engine_freed;
    MemoryRegion mmio;
    uint32_t slot;
    uint32_t alg;
    uint32_t key_size;
    uint32_t data_unit_size;
    uint32_t key_len;
    uint32_t status;
    uint8_t key[ICE_KEYBOX_KEY_MAX];
    bool key_pending;
    bool key_lost;
};

/* Let go of the disk: the box is bound to nothing from now on */
static void ice_keybox_unbind(IceKeybox *kb)
{
    notifier_remove(&kb->engine_freed);
    kb->engine = NULL;
    kb->disk_pci = NULL;
}

/* The disk was unplugged */
static void ice_keybox_engine_freed(Notifier *n, void *data)
{
    ice_keybox_unbind(container_of(n, IceKeybox, engine_freed));
}

/* Whether @slot holds a key the host loaded from a secret */
static bool ice_keybox_host_slot(IceKeybox *kb, uint32_t slot)
{
    g_autofree char *id = NULL;
    IceSlotConfig cfg;

    return ice_engine_query_slot(kb->engine, slot, &cfg, &id) && id;
}

/* PROGRAM: the key registers into slot kb->slot */
static uint32_t ice_keybox_program(IceKeybox *kb)
{
    IceSlotConfig cfg = {
        .alg = kb->alg,
        .key_size = kb->key_size,
        .data_unit_size = kb->data_unit_size,
    };
    int ret;

    if (kb->key_lost || kb->key_len > sizeof(kb->key)) {
        return ICE_KEYBOX_STATUS_BAD_CONFIG;
    }
    ret = ice_engine_program_guest_slot(kb->engine, kb->slot, &cfg, kb->key,
                                        kb->key_len, kb, NULL);
    if (ret == -EINVAL) {
        return ICE_KEYBOX_STATUS_BAD_CONFIG;
    }
    /*
     * The disk refused its first guest key: a migration or snapshot runs,
     * or QEMU runs with --only-migratable
     */
    return ret < 0 ? ICE_KEYBOX_STATUS_BLOCKED : ICE_KEYBOX_STATUS_OK;
}

static void ice_keybox_command(IceKeybox *kb, uint32_t cmd)
{
    if (!kb->engine) {
        kb->status = ICE_KEYBOX_STATUS_NO_DISK;
    } else if (cmd != ICE_KEYBOX_CMD_PROGRAM && cmd != ICE_KEYBOX_CMD_EVICT) {
        kb->status = ICE_KEYBOX_STATUS_BAD_CMD;
    } else if (!ice_engine_check_slot(kb->engine, kb->slot, NULL)) {
        /* The engine's range is the guest's: nothing outside it */
        kb->status = ICE_KEYBOX_STATUS_BAD_SLOT;
    } else if (ice_keybox_host_slot(kb, kb->slot)) {
        /* The host's keys are the host's to replace or evict */
        kb->status = ICE_KEYBOX_STATUS_HOST_KEY;
    } else if (cmd == ICE_KEYBOX_CMD_PROGRAM) {
        kb->status = ice_keybox_program(kb);
    } else {
        ice_engine_evict_slot(kb->engine, kb->slot, &error_abort);
        kb->status = ICE_KEYBOX_STATUS_OK;
    }
    ice_wipe(kb->key, sizeof(kb->key));
    kb->key_pending = kb->key_lost = false;
    trace_ice_keybox_command(kb->disk, cmd, kb->slot, kb->status);
}

static uint64_t ice_keybox_read(void *opaque, hwaddr addr, unsigned size)
{
    IceKeybox *kb = opaque;

    switch (addr) {
    case ICE_KEYBOX_REG_MAGIC:
        return ICE_KEYBOX_MAGIC;
    case ICE_KEYBOX_REG_VERSION:
        return ICE_KEYBOX_VERSION;
    case ICE_KEYBOX_REG_DISK:
        /* The bus number is the guest's, so read it when asked */
        return kb->disk_pci ? pci_dev_bus_num(kb->disk_pci) << 8 |
                              kb->disk_pci->devfn : UINT32_MAX;
    case ICE_KEYBOX_REG_SLOT_FIRST:
        return kb->engine ? ice_engine_slot_offset(kb->engine) : 0;
    case ICE_KEYBOX_REG_SLOT_COUNT:
        return kb->engine ? ice_engine_num_slots(kb->engine) : 0;
    case ICE_KEYBOX_REG_SLOT:
        return kb->slot;
    case ICE_KEYBOX_REG_ALG:
        return kb->alg;
    case ICE_KEYBOX_REG_KEY_SIZE:
        return kb->key_size;
    case ICE_KEYBOX_REG_DATA_UNIT_SIZE:
        return kb->data_unit_size;
    case ICE_KEYBOX_REG_KEY_LEN:
        return kb->key_len;
    case ICE_KEYBOX_REG_STATUS:
        return kb->status;
    default:
        return 0;   /* the key register too: it is write-only */
    }
}

static void ice_keybox_write(void *opaque, hwaddr addr, uint64_t val,
                             unsigned size)
{
    IceKeybox *kb = opaque;

    switch (addr) {
    case ICE_KEYBOX_REG_SLOT:
        kb->slot = val;
        break;
    case ICE_KEYBOX_REG_ALG:
        kb->alg = val;
        break;
    case ICE_KEYBOX_REG_KEY_SIZE:
        kb->key_size = val;
        break;
    case ICE_KEYBOX_REG_DATA_UNIT_SIZE:
        kb->data_unit_size = val;
        break;
    case ICE_KEYBOX_REG_KEY_LEN:
        kb->key_len = val;
        break;
    case ICE_KEYBOX_REG_CMD:
        ice_keybox_command(kb, val);
        break;
    default:
        if (addr >= ICE_KEYBOX_REG_KEY &&
            addr < ICE_KEYBOX_REG_KEY + ICE_KEYBOX_KEY_MAX) {
            stl_le_p(kb->key + (addr - ICE_KEYBOX_REG_KEY), val);
            kb->key_pending = true;
        }
        break;  /* read-only and unassigned registers ignore writes */
    }
}

static const MemoryRegionOps ice_keybox_ops = {
    .read = ice_keybox_read,
    .write = ice_keybox_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 4,
        .unaligned = false,
    },
};

static void ice_keybox_realize(PCIDevice *pdev, Error **errp)
{
    IceKeybox *kb = ICE_KEYBOX(pdev);
    IceEngine *engine;
    Object *disk;

    if (!kb->disk) {
        error_setg(errp, "ice-keybox: property 'disk' is required");
        return;
    }
    /*
     * The disk comes first on the command line, as any device it names.
     * The box binds to it here and never resolves the id again: a disk
     * plugged later under the same id is another disk.
     */
    disk = virtio_blk_ice_find_disk(kb->disk, &engine, errp);
    if (!disk) {
        error_prepend(errp, "ice-keybox: ");
        return;
    }
    kb->disk_pci = (PCIDevice *)object_dynamic_cast(disk, TYPE_PCI_DEVICE);
    if (!kb->disk_pci) {
        error_setg(errp, "ice-keybox: disk '%s' is not a PCI device",
                   kb->disk);
        return;
    }
    kb->engine = engine;
    kb->engine_freed.notify = ice_keybox_engine_freed;
    ice_engine_add_free_notifier(engine, &kb->engine_freed);

    memory_region_init_io(&kb->mmio, OBJECT(kb), &ice_keybox_ops, kb,
                          "ice-keybox", ICE_KEYBOX_BAR_SIZE);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &kb->mmio);
}

/*
 * At reset the keys the guest loaded through the box go, as they would
 * from a real controller's engine.  The host's keys stay.
 */
static void ice_keybox_reset(DeviceState *dev)
{
    IceKeybox *kb = ICE_KEYBOX(dev);

    if (kb->engine) {
        ice_engine_evict_channel(kb->engine, kb);
    }
    kb->slot = kb->alg = kb->key_size = kb->data_unit_size = 0;
    kb->key_len = kb->status = 0;
    ice_wipe(kb->key, sizeof(kb->key));
    kb->key_pending = kb->key_lost = false;
}

/*
 * Unplugged or ejected, the box takes the keys the guest loaded through
 * it along: nothing the guest can no longer reach is left behind, and
 * once the disk holds no guest key it can migrate again.
 */
static void ice_keybox_exit(PCIDevice *pdev)
{
    IceKeybox *kb = ICE_KEYBOX(pdev);

    if (kb->engine) {
        ice_engine_evict_channel(kb->engine, kb);
        ice_keybox_unbind(kb);
    }
    ice_wipe(kb->key, sizeof(kb->key));
}

/* Key bytes written before the migration did not travel with it */
static int ice_keybox_post_load(void *opaque, int version_id)
{
    IceKeybox *kb = opaque;

    kb->key_lost = kb->key_pending;
    return 0;
}

/*
 * The registers migrate, the key register never does: a PROGRAM whose key
 * bytes were written before the migration fails with BAD_CONFIG.
 */
static const VMStateDescription vmstate_ice_keybox = {
    .name = "ice-keybox",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = ice_keybox_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, IceKeybox),
        VMSTATE_UINT32(slot, IceKeybox),
        VMSTATE_UINT32(alg, IceKeybox),
        VMSTATE_UINT32(key_size, IceKeybox),
        VMSTATE_UINT32(data_unit_size, IceKeybox),
        VMSTATE_UINT32(key_len, IceKeybox),
        VMSTATE_UINT32(status, IceKeybox),
        VMSTATE_BOOL(key_pending, IceKeybox),
        VMSTATE_END_OF_LIST()
    },
};

static const Property ice_keybox_properties[] = {
    DEFINE_PROP_STRING("disk", IceKeybox, disk),
};

/* class_init's data pointer is const since QEMU 10.1 */
#if QEMU_VERSION_MAJOR * 100 + QEMU_VERSION_MINOR >= 1001
static void ice_keybox_class_init(ObjectClass *klass, const void *data)
#else
static void ice_keybox_class_init(ObjectClass *klass, void *data)
#endif
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = ice_keybox_realize;
    k->exit = ice_keybox_exit;
    k->vendor_id = PCI_VENDOR_ID_REDHAT;
    k->device_id = PCI_DEVICE_ID_REDHAT_ICE_KEYBOX;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "Key channel to a virtio-blk inline crypto engine";
    dc->vmsd = &vmstate_ice_keybox;
    device_class_set_legacy_reset(dc, ice_keybox_reset);
    device_class_set_props(dc, ice_keybox_properties);
    set_bit(DEVICE_CATEGORY_STORAGE, dc->categories);
}

static const TypeInfo ice_keybox_info = {
    .name = TYPE_ICE_KEYBOX,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(IceKeybox),
    .class_init = ice_keybox_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void ice_keybox_register_types(void)
{
    type_register_static(&ice_keybox_info);
}

type_init(ice_keybox_register_types)
