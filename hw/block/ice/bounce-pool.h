/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Reusable bounce buffers for inline crypto writes
 */

#ifndef HW_BLOCK_ICE_BOUNCE_POOL_H
#define HW_BLOCK_ICE_BOUNCE_POOL_H

#include "system/block-backend.h"

typedef struct IceBouncePool IceBouncePool;

/**
 * ice_bounce_pool_new:
 * @blk: the backend the buffers are written to (for their alignment)
 * @max_cached: bytes of idle buffers the pool may keep
 *
 * Encrypted writes need a buffer as large as the request.  Allocating a
 * fresh one per request and faulting its pages in costs more than the
 * encryption itself, so idle buffers are kept, in power-of-two sizes from
 * 4 KiB to 1 MiB; larger requests get a buffer of their own.
 */
IceBouncePool *ice_bounce_pool_new(BlockBackend *blk, size_t max_cached);

/**
 * ice_bounce_pool_free:
 * @pool: the pool, or NULL; no buffer may be in use
 */
void ice_bounce_pool_free(IceBouncePool *pool);

/**
 * ice_bounce_get:
 * @pool: the pool
 * @len: bytes needed
 * @size: set to the size of the buffer, for ice_bounce_put()
 *
 * Context: any thread
 *
 * Returns: a buffer of at least @len bytes, or NULL if out of memory
 */
void *ice_bounce_get(IceBouncePool *pool, size_t len, size_t *size);

/**
 * ice_bounce_put:
 * @pool: the pool
 * @buf: a buffer from ice_bounce_get()
 * @size: its size as ice_bounce_get() reported it
 *
 * Context: any thread
 */
void ice_bounce_put(IceBouncePool *pool, void *buf, size_t size);

#endif /* HW_BLOCK_ICE_BOUNCE_POOL_H */
