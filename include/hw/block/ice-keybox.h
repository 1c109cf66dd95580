/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * ice-keybox: a key channel from the guest to one disk's inline crypto
 * engine
 *
 * The VIRTIO_BLK_F_ICE proposal leaves key programming out of band.  On
 * the platforms it comes from, the guest kernel hands keys to the
 * hypervisor over a private channel and the hypervisor loads the
 * engine's slot.  ice-keybox models that channel as its own PCI device,
 * tied by property to one virtio-blk device with ice=on: the guest
 * writes a slot configuration and the key bytes into BAR 0 and issues a
 * command.  Slots outside the disk's range and slots holding a key the
 * host loaded are refused.  Keys the guest loaded have no secret id: the
 * disk blocks migration while it holds any, and a PROGRAM that cannot
 * block it (a migration runs, --only-migratable) fails.  Unplugging the
 * box evicts the keys it loaded.  See
 * docs/system/devices/virtio-blk-ice.rst, "Key channel".
 *
 * Register layout of BAR 0 (32-bit little-endian accesses):
 */

#ifndef HW_BLOCK_ICE_KEYBOX_H
#define HW_BLOCK_ICE_KEYBOX_H

#define TYPE_ICE_KEYBOX                 "ice-keybox"

/* PCI id: PCI_DEVICE_ID_REDHAT_ICE_KEYBOX in hw/pci/pci.h */

#define ICE_KEYBOX_BAR_SIZE             0x1000

/* Read-only: identification and the disk the box serves */
#define ICE_KEYBOX_REG_MAGIC            0x00    /* "ICEK", see below */
#define ICE_KEYBOX_REG_VERSION          0x04    /* 1 */
#define ICE_KEYBOX_REG_DISK             0x08    /* PCI bus << 8 | devfn */
#define ICE_KEYBOX_REG_SLOT_FIRST       0x0c    /* first slot of the disk */
#define ICE_KEYBOX_REG_SLOT_COUNT       0x10    /* number of slots */

/* Read-write: the next command's arguments */
#define ICE_KEYBOX_REG_SLOT             0x20    /* absolute slot number */
#define ICE_KEYBOX_REG_ALG              0x24    /* capability algorithm id */
#define ICE_KEYBOX_REG_KEY_SIZE         0x28    /* capability key size id */
#define ICE_KEYBOX_REG_DATA_UNIT_SIZE   0x2c    /* bytes */
#define ICE_KEYBOX_REG_KEY_LEN          0x30    /* bytes of key material */

/* Write-only: the command; read-only: the last command's status */
#define ICE_KEYBOX_REG_CMD              0x34
#define ICE_KEYBOX_REG_STATUS           0x38

/* Write-only, reads as zero: the key material, wiped after each command */
#define ICE_KEYBOX_REG_KEY              0x40
#define ICE_KEYBOX_KEY_MAX              64

#define ICE_KEYBOX_MAGIC                0x4b454349  /* "ICEK" */
#define ICE_KEYBOX_VERSION              1

/* Commands */
#define ICE_KEYBOX_CMD_PROGRAM          1
#define ICE_KEYBOX_CMD_EVICT            2

/* Status */
#define ICE_KEYBOX_STATUS_OK            0
#define ICE_KEYBOX_STATUS_BAD_SLOT      1   /* outside the disk's slots */
#define ICE_KEYBOX_STATUS_BAD_CONFIG    2   /* unsupported or bad key */
#define ICE_KEYBOX_STATUS_NO_DISK       3   /* the disk is gone */
#define ICE_KEYBOX_STATUS_BAD_CMD       4   /* unknown command */
#define ICE_KEYBOX_STATUS_HOST_KEY      5   /* the host's key is there */
#define ICE_KEYBOX_STATUS_BLOCKED       6   /* no guest keys now */

#endif /* HW_BLOCK_ICE_KEYBOX_H */
