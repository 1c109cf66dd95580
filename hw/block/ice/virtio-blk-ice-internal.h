/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * virtio-blk inline crypto engine: shared between the request path,
 * the slot table's migration and ice-keybox
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

/**
 * virtio_blk_ice_resolve_id:
 * @id: a qdev id or QOM path, as the QMP commands take it
 *
 * Returns: the object @id names, or NULL
 */
Object *virtio_blk_ice_resolve_id(const char *id);

#endif /* HW_BLOCK_ICE_VIRTIO_BLK_ICE_INTERNAL_H */
