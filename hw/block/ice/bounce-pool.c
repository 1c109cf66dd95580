/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Reusable bounce buffers for inline crypto writes
 */

#include "qemu/osdep.h"
#include "qemu/host-utils.h"
#include "qemu/memalign.h"
#include "qemu/thread.h"
#include "bounce-pool.h"

#define ICE_BOUNCE_MIN_SHIFT    12      /* 4 KiB */
#define ICE_BOUNCE_MAX_SHIFT    20      /* 1 MiB */
#define ICE_BOUNCE_CLASSES \
    (ICE_BOUNCE_MAX_SHIFT - ICE_BOUNCE_MIN_SHIFT + 1)

struct IceBouncePool {
    BlockBackend *blk;
    QemuMutex lock;                     /* protects the rest */
    GSList *idle[ICE_BOUNCE_CLASSES];   /* idle buffers per size class */
    size_t cached;                      /* bytes in idle[] */
    size_t max_cached;
};

IceBouncePool *ice_bounce_pool_new(BlockBackend *blk, size_t max_cached)
{
    IceBouncePool *pool = g_new0(IceBouncePool, 1);

    pool->blk = blk;
    pool->max_cached = max_cached;
    qemu_mutex_init(&pool->lock);
    return pool;
}

void ice_bounce_pool_free(IceBouncePool *pool)
{
    if (!pool) {
        return;
    }
    for (int i = 0; i < ICE_BOUNCE_CLASSES; i++) {
        g_slist_free_full(pool->idle[i], qemu_vfree);
    }
    qemu_mutex_destroy(&pool->lock);
    g_free(pool);
}

/* Size class of a request of @len bytes, or -1 if too large to pool */
static int ice_bounce_class(size_t len)
{
    int shift = len <= (1u << ICE_BOUNCE_MIN_SHIFT) ? ICE_BOUNCE_MIN_SHIFT
                                                     : 64 - clz64(len - 1);

    return shift <= ICE_BOUNCE_MAX_SHIFT ? shift - ICE_BOUNCE_MIN_SHIFT : -1;
}

void *ice_bounce_get(IceBouncePool *pool, size_t len, size_t *size)
{
    int c = ice_bounce_class(len);
    void *buf = NULL;

    if (c < 0) {
        *size = len;
        return blk_try_blockalign(pool->blk, len);
    }
    *size = (size_t)1 << (c + ICE_BOUNCE_MIN_SHIFT);
    WITH_QEMU_LOCK_GUARD(&pool->lock) {
        if (pool->idle[c]) {
            buf = pool->idle[c]->data;
            pool->idle[c] = g_slist_delete_link(pool->idle[c], pool->idle[c]);
            pool->cached -= *size;
        }
    }
    return buf ? buf : blk_try_blockalign(pool->blk, *size);
}

void ice_bounce_put(IceBouncePool *pool, void *buf, size_t size)
{
    int c = ice_bounce_class(size);

    if (c >= 0) {
        WITH_QEMU_LOCK_GUARD(&pool->lock) {
            if (pool->cached + size <= pool->max_cached) {
                pool->idle[c] = g_slist_prepend(pool->idle[c], buf);
                pool->cached += size;
                return;
            }
        }
    }
    qemu_vfree(buf);
}
