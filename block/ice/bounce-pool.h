/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Bounded bounce memory for inline crypto writes
 */

#ifndef BLOCK_ICE_BOUNCE_POOL_H
#define BLOCK_ICE_BOUNCE_POOL_H

#include "qemu/coroutine.h"
#include "system/block-backend.h"

typedef struct IceBouncePool IceBouncePool;

/*
 * Largest buffer the pool hands out.  Callers cut their requests into
 * chunks of at most this size, so any limit of at least this size can
 * always be met.
 */
#define ICE_BOUNCE_MAX          (1024 * 1024)

/**
 * ice_bounce_pool_new:
 * @blk: the backend the buffers are written to (for their alignment)
 * @limit: most bytes of buffers, in use and idle together, the pool ever
 *         holds; at least %ICE_BOUNCE_MAX
 *
 * Encrypted writes need somewhere to put the ciphertext, since guest
 * memory must not change.  Allocating and faulting in a fresh buffer per
 * chunk costs more than the encryption, so freed buffers are kept for
 * reuse, in power-of-two sizes from 4 KiB to %ICE_BOUNCE_MAX, as long as
 * the total stays within @limit.  A caller that would exceed @limit waits
 * until another returns a buffer: a guest can make the pool hold @limit
 * bytes, never more.
 */
IceBouncePool *ice_bounce_pool_new(BlockBackend *blk, size_t limit);

/**
 * ice_bounce_pool_free:
 * @pool: the pool, or NULL; no buffer may be in use
 */
void ice_bounce_pool_free(IceBouncePool *pool);

/**
 * ice_bounce_co_get:
 * @pool: the pool
 * @len: bytes needed, 1 to %ICE_BOUNCE_MAX
 * @size: set to the size of the buffer, for ice_bounce_put()
 *
 * Take a buffer of at least @len bytes, waiting while the pool is at its
 * limit.  Each returned buffer wakes the longest waiter; one that still
 * finds no room waits again, behind the others.
 *
 * Context: coroutine, in any AioContext
 *
 * Returns: the buffer, or NULL if the host is out of memory
 */
void *coroutine_fn ice_bounce_co_get(IceBouncePool *pool, size_t len,
                                     size_t *size);

/**
 * ice_bounce_put:
 * @pool: the pool
 * @buf: a buffer from ice_bounce_co_get()
 * @size: its size as ice_bounce_co_get() reported it
 *
 * Return @buf and wake a waiter.
 *
 * Context: any thread
 */
void ice_bounce_put(IceBouncePool *pool, void *buf, size_t size);

#endif /* BLOCK_ICE_BOUNCE_POOL_H */
