/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * ice-keybox: a PCI key channel from the guest to one disk's inline
 * crypto engine (see include/hw/block/ice-keybox.h)
 *
 * The box holds no key of its own between commands: PROGRAM hands the
 * key bytes to the engine, which keeps its copy, and the register file
 * is wiped.  The disk is looked up by id on every command, so a disk
 * that was unplugged is reported as gone rather than used after free.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/module.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "migration/blocker.h"
#include "hw/block/ice-host.h"
#include "hw/block/ice-keybox.h"
#include "trace.h"
#include "virtio-blk-ice-internal.h"

OBJECT_DECLARE_SIMPLE_TYPE(IceKeybox, ICE_KEYBOX)

/**
 * IceKeybox:
 * @disk: property "disk", the qdev id (or QOM path) of the
 *        virtio-blk-pci device served
 * @slot...@key_len: the argument registers
 * @status: the last command's status
 * @key: the key register, wiped after every command
 * @migration_blocker: keys loaded by the guest have no secret a
 *                     destination could read
 */
struct IceKeybox {
    PCIDevice parent_obj;

    char *disk;
    MemoryRegion mmio;
    uint32_t slot;
    uint32_t alg;
    uint32_t key_size;
    uint32_t data_unit_size;
    uint32_t key_len;
    uint32_t status;
    uint8_t key[ICE_KEYBOX_KEY_MAX];
    Error *migration_blocker;
};

/*
 * The disk's PCI function, or NULL if it is gone; @disk is resolved as
 * virtio_blk_ice_find_engine() resolves it
 */
static PCIDevice *ice_keybox_disk_pci(IceKeybox *kb)
{
    Object *obj = virtio_blk_ice_resolve_id(kb->disk);

    return obj ? (PCIDevice *)object_dynamic_cast(obj, TYPE_PCI_DEVICE)
               : NULL;
}

static IceEngine *ice_keybox_engine(IceKeybox *kb)
{
    IcePayloadLayout payload;

    return virtio_blk_ice_find_engine(kb->disk, &payload, NULL);
}

/* PROGRAM: the key registers into slot kb->slot */
static uint32_t ice_keybox_program(IceKeybox *kb, IceEngine *engine)
{
    IceSlotConfig cfg = {
        .alg = kb->alg,
        .key_size = kb->key_size,
        .data_unit_size = kb->data_unit_size,
    };

    if (kb->key_len > sizeof(kb->key) ||
        !ice_engine_program_slot(engine, kb->slot, &cfg, kb->key,
                                 kb->key_len, NULL, NULL)) {
        return ICE_KEYBOX_STATUS_BAD_CONFIG;
    }
    return ICE_KEYBOX_STATUS_OK;
}

static void ice_keybox_command(IceKeybox *kb, uint32_t cmd)
{
    IceEngine *engine = ice_keybox_engine(kb);

    if (!engine) {
        kb->status = ICE_KEYBOX_STATUS_NO_DISK;
    } else if (cmd != ICE_KEYBOX_CMD_PROGRAM && cmd != ICE_KEYBOX_CMD_EVICT) {
        kb->status = ICE_KEYBOX_STATUS_BAD_CMD;
    } else if (!ice_engine_check_slot(engine, kb->slot, NULL)) {
        /* The engine's range is the guest's: nothing outside it */
        kb->status = ICE_KEYBOX_STATUS_BAD_SLOT;
    } else if (cmd == ICE_KEYBOX_CMD_PROGRAM) {
        kb->status = ice_keybox_program(kb, engine);
    } else {
        ice_engine_evict_slot(engine, kb->slot, &error_abort);
        kb->status = ICE_KEYBOX_STATUS_OK;
    }
    ice_wipe(kb->key, sizeof(kb->key));
    trace_ice_keybox_command(kb->disk, cmd, kb->slot, kb->status);
}

static uint64_t ice_keybox_read(void *opaque, hwaddr addr, unsigned size)
{
    IceKeybox *kb = opaque;
    IceEngine *engine;
    PCIDevice *disk;

    switch (addr) {
    case ICE_KEYBOX_REG_MAGIC:
        return ICE_KEYBOX_MAGIC;
    case ICE_KEYBOX_REG_VERSION:
        return ICE_KEYBOX_VERSION;
    case ICE_KEYBOX_REG_DISK:
        /* The bus number is the guest's, so read it when asked */
        disk = ice_keybox_disk_pci(kb);
        return disk ? pci_dev_bus_num(disk) << 8 | disk->devfn : UINT32_MAX;
    case ICE_KEYBOX_REG_SLOT_FIRST:
        engine = ice_keybox_engine(kb);
        return engine ? ice_engine_slot_offset(engine) : 0;
    case ICE_KEYBOX_REG_SLOT_COUNT:
        engine = ice_keybox_engine(kb);
        return engine ? ice_engine_num_slots(engine) : 0;
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
    IcePayloadLayout payload;

    if (!kb->disk) {
        error_setg(errp, "ice-keybox: property 'disk' is required");
        return;
    }
    /* The disk comes first on the command line, as any device it names */
    if (!virtio_blk_ice_find_engine(kb->disk, &payload, errp)) {
        error_prepend(errp, "ice-keybox: ");
        return;
    }
    if (!ice_keybox_disk_pci(kb)) {
        error_setg(errp, "ice-keybox: disk '%s' is not a PCI device",
                   kb->disk);
        return;
    }
    error_setg(&kb->migration_blocker, "ice-keybox: the keys the guest "
               "loaded into disk '%s' cannot be migrated", kb->disk);
    if (migrate_add_blocker(&kb->migration_blocker, errp) < 0) {
        return;
    }
    memory_region_init_io(&kb->mmio, OBJECT(kb), &ice_keybox_ops, kb,
                          "ice-keybox", ICE_KEYBOX_BAR_SIZE);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &kb->mmio);
}

/*
 * At reset the guest's keys go, as they would from a real controller's
 * engine: every slot of the disk holding a key with no secret id, that
 * is, one a guest loaded.  The host's keys stay.
 */
static void ice_keybox_reset(DeviceState *dev)
{
    IceKeybox *kb = ICE_KEYBOX(dev);
    IceEngine *engine = ice_keybox_engine(kb);
    unsigned first = engine ? ice_engine_slot_offset(engine) : 0;
    unsigned n = engine ? ice_engine_num_slots(engine) : 0;

    for (unsigned slot = first; slot < first + n; slot++) {
        IceSlotConfig cfg;
        g_autofree char *id = NULL;

        if (ice_engine_query_slot(engine, slot, &cfg, &id) && !id) {
            ice_engine_evict_slot(engine, slot, &error_abort);
        }
    }
    kb->slot = kb->alg = kb->key_size = kb->data_unit_size = 0;
    kb->key_len = kb->status = 0;
    ice_wipe(kb->key, sizeof(kb->key));
}

static void ice_keybox_exit(PCIDevice *pdev)
{
    IceKeybox *kb = ICE_KEYBOX(pdev);

    migrate_del_blocker(&kb->migration_blocker);
    ice_wipe(kb->key, sizeof(kb->key));
}

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
