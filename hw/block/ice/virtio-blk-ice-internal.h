/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * virtio-blk inline crypto engine: shared between the request path and
 * the slot table's migration
 */

#ifndef HW_BLOCK_ICE_VIRTIO_BLK_ICE_INTERNAL_H
#define HW_BLOCK_ICE_VIRTIO_BLK_ICE_INTERNAL_H

#include "hw/virtio/virtio-blk.h"

/**
 * virtio_blk_ice_migration_init:
 * @s: a device with ice=on
 *
 * Allocate the table the slots are saved from and loaded into, one entry
 * per slot.
 */
void virtio_blk_ice_migration_init(VirtIOBlock *s);

/**
 * virtio_blk_ice_migration_cleanup:
 * @s: a device with ice=on
 *
 * Free that table and what a save or load left in it.
 */
void virtio_blk_ice_migration_cleanup(VirtIOBlock *s);

#endif /* HW_BLOCK_ICE_VIRTIO_BLK_ICE_INTERNAL_H */
