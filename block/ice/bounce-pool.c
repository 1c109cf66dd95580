/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Bounded bounce memory for inline crypto writes
 *
 * The pool counts every byte it has allocated, whether a request is using
 * it or it sits idle for reuse, and never lets that count pass its limit:
 * idle buffers are freed to make room first, then callers wait on a
 * CoQueue.  Every buffer returned wakes one waiter; a waiter that finds
 * room left after taking its buffer wakes the next, so a burst of returns
 * is never lost and waiters are not all woken for one buffer.
 */

#include "qemu/osdep.h"
#include "qemu/host-utils.h"
#include "qemu/memalign.h"
#include "qemu/thread.h"
#include "bounce-pool.h"
#include "trace.h"

#define ICE_BOUNCE_MIN_SHIFT    12      /* 4 KiB */
#define ICE_BOUNCE_MAX_SHIFT    20      /* ICE_BOUNCE_MAX */
#define ICE_BOUNCE_CLASSES \
    (ICE_BOUNCE_MAX_SHIFT - ICE_BOUNCE_MIN_SHIFT + 1)

QEMU_BUILD_BUG_ON(ICE_BOUNCE_MAX != 1u << ICE_BOUNCE_MAX_SHIFT);

struct IceBouncePool {
    BlockBackend *blk;
    size_t limit;
    QemuMutex lock;                     /* protects the rest */
    GSList *idle[ICE_BOUNCE_CLASSES];   /* idle buffers per size class */
    size_t idle_bytes;                  /* bytes in idle[] */
    size_t busy_bytes;                  /* bytes handed out */
    CoQueue waiters;                    /* callers waiting for room */
};

IceBouncePool *ice_bounce_pool_new(BlockBackend *blk, size_t limit)
{
    IceBouncePool *pool = g_new0(IceBouncePool, 1);

    assert(limit >= ICE_BOUNCE_MAX);
    pool->blk = blk;
    pool->limit = limit;
    qemu_mutex_init(&pool->lock);
    qemu_co_queue_init(&pool->waiters);
    return pool;
}

void ice_bounce_pool_free(IceBouncePool *pool)
{
    if (!pool) {
        return;
    }
    assert(pool->busy_bytes == 0 && qemu_co_queue_empty(&pool->waiters));
    for (int i = 0; i < ICE_BOUNCE_CLASSES; i++) {
        g_slist_free_full(pool->idle[i], qemu_vfree);
    }
    qemu_mutex_destroy(&pool->lock);
    g_free(pool);
}

/* Size class of a request of @len bytes, 1 to ICE_BOUNCE_MAX */
static int ice_bounce_class(size_t len)
{
    int shift = len <= (1u << ICE_BOUNCE_MIN_SHIFT) ? ICE_BOUNCE_MIN_SHIFT
                                                     : 64 - clz64(len - 1);

    assert(shift <= ICE_BOUNCE_MAX_SHIFT);
    return shift - ICE_BOUNCE_MIN_SHIFT;
}

static size_t ice_bounce_class_size(int c)
{
    return (size_t)1 << (c + ICE_BOUNCE_MIN_SHIFT);
}

/*
 * Move idle buffers of other classes to @victims until @size more bytes
 * fit under the limit, or none are left.  Called with the lock held.
 */
static void ice_bounce_make_room(IceBouncePool *pool, size_t size,
                                 GSList **victims)
{
    for (int c = ICE_BOUNCE_CLASSES - 1; c >= 0; c--) {
        while (pool->idle[c] &&
               pool->busy_bytes + pool->idle_bytes + size > pool->limit) {
            *victims = g_slist_prepend(*victims, pool->idle[c]->data);
            pool->idle[c] = g_slist_delete_link(pool->idle[c], pool->idle[c]);
            pool->idle_bytes -= ice_bounce_class_size(c);
        }
    }
}

void *coroutine_fn ice_bounce_co_get(IceBouncePool *pool, size_t len,
                                     size_t *size)
{
    int c = ice_bounce_class(len);
    GSList *victims = NULL;
    void *buf = NULL;

    *size = ice_bounce_class_size(c);
    qemu_mutex_lock(&pool->lock);
    for (;;) {
        if (pool->idle[c]) {
            buf = pool->idle[c]->data;
            pool->idle[c] = g_slist_delete_link(pool->idle[c], pool->idle[c]);
            pool->idle_bytes -= *size;
            break;
        }
        ice_bounce_make_room(pool, *size, &victims);
        if (pool->busy_bytes + pool->idle_bytes + *size <= pool->limit) {
            break;
        }
        trace_ice_bounce_wait(pool, *size, pool->busy_bytes, pool->limit);
        qemu_co_queue_wait(&pool->waiters, &pool->lock);
    }
    pool->busy_bytes += *size;
    if (pool->busy_bytes + pool->idle_bytes < pool->limit) {
        /* Room is left: let the next waiter look */
        qemu_co_enter_next(&pool->waiters, &pool->lock);
    }
    qemu_mutex_unlock(&pool->lock);

    g_slist_free_full(victims, qemu_vfree);
    if (!buf) {
        buf = blk_try_blockalign(pool->blk, *size);
        if (!buf) {
            ice_bounce_put(pool, NULL, *size);
        }
    }
    return buf;
}

void ice_bounce_put(IceBouncePool *pool, void *buf, size_t size)
{
    int c = ice_bounce_class(size);

    qemu_mutex_lock(&pool->lock);
    pool->busy_bytes -= size;
    if (buf) {
        pool->idle[c] = g_slist_prepend(pool->idle[c], buf);
        pool->idle_bytes += size;
    }
    qemu_co_enter_next(&pool->waiters, &pool->lock);
    qemu_mutex_unlock(&pool->lock);
}
