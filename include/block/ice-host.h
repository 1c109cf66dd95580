/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The host side of an inline crypto engine, whatever carries its requests
 *
 * Keys belong to the host: they come from secret objects, through the
 * ice-preload syntax at start-up or the QMP commands ice-program-slot,
 * ice-evict-slot and query-ice, which find the engine in
 * include/block/ice-registry.h.
 */

#ifndef BLOCK_ICE_HOST_H
#define BLOCK_ICE_HOST_H

#include "block/ice-engine.h"

/*
 * Defaults of the options every engine has: "ice-slots", the most bounce
 * memory its encrypted writes hold at once ("ice-bounce-limit"), and the
 * request size above which crypto runs in worker threads
 * ("x-ice-offload-min"); see include/block/ice-datapath.h
 */
#define ICE_SLOTS_DEFAULT           32
#define ICE_BOUNCE_LIMIT_DEFAULT    (32 * 1024 * 1024)
#define ICE_OFFLOAD_MIN_DEFAULT     (64 * 1024)

/**
 * ice_host_check_geometry:
 * @num_slots: "ice-slots"
 * @slot_offset: "ice-slot-offset"
 * @bounce_limit: "ice-bounce-limit"
 * @errp: pointer to a NULL-initialized error object
 *
 * Check the options every engine has, with one message per problem.
 *
 * Returns: true if they are valid
 */
bool ice_host_check_geometry(unsigned num_slots, unsigned slot_offset,
                             uint64_t bounce_limit, Error **errp);

/**
 * ice_host_program:
 * @engine: the engine
 * @slot: absolute slot number
 * @cfg: algorithm, key size and data unit size
 * @secret_id: id of the secret object holding the key bytes
 * @errp: pointer to a NULL-initialized error object
 *
 * Load the key from @secret_id into @slot.  The key bytes read from the
 * secret are wiped once the engine has its copy.
 *
 * Context: main loop (BQL held)
 *
 * Returns: true on success
 */
bool ice_host_program(IceEngine *engine, unsigned slot,
                      const IceSlotConfig *cfg, const char *secret_id,
                      Error **errp);

/**
 * ice_host_load_slots:
 * @engine: the engine
 * @spec: slot table, "SLOT:ALGORITHM:KEY_BITS:DATA_UNIT_SIZE:SECRET_ID"
 *        entries separated by ';' (the ice-preload syntax)
 * @errp: pointer to a NULL-initialized error object
 *
 * Program every slot @spec names.
 *
 * Returns: true on success; on failure some slots may be programmed
 */
bool ice_host_load_slots(IceEngine *engine, const char *spec, Error **errp);

#endif /* BLOCK_ICE_HOST_H */
