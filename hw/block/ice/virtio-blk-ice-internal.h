/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * virtio-blk inline crypto engine: shared between the request path and
 * host key management
 */

#ifndef HW_BLOCK_ICE_VIRTIO_BLK_ICE_INTERNAL_H
#define HW_BLOCK_ICE_VIRTIO_BLK_ICE_INTERNAL_H

#include "hw/virtio/virtio-blk.h"

/**
 * virtio_blk_ice_program:
 * @s: a device with ice=on
 * @slot: absolute slot number
 * @cfg: algorithm, key size and data unit size
 * @secret_id: id of the secret object holding the key bytes
 * @errp: pointer to a NULL-initialized error object
 *
 * Load the key from @secret_id into @slot; the key bytes read from the
 * secret are wiped once the engine has its copy.
 *
 * Context: main loop (BQL held)
 *
 * Returns: true on success
 */
bool virtio_blk_ice_program(VirtIOBlock *s, unsigned slot,
                            const IceSlotConfig *cfg, const char *secret_id,
                            Error **errp);

/**
 * virtio_blk_ice_load_slots:
 * @s: a device with ice=on
 * @spec: slot table, "SLOT:ALGORITHM:KEY_BITS:DATA_UNIT_SIZE:SECRET_ID"
 *        entries separated by ';' (the ice-preload syntax)
 * @errp: pointer to a NULL-initialized error object
 *
 * Program every slot @spec names.
 *
 * Returns: true on success; on failure some slots may be programmed
 */
bool virtio_blk_ice_load_slots(VirtIOBlock *s, const char *spec,
                               Error **errp);

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
