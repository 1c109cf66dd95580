/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto data path: encrypted reads and writes through a
 * BlockBackend in bounded chunks
 */

#include "qemu/osdep.h"
#include "block/thread-pool.h"
#include "qemu/coroutine.h"
#include "system/block-backend.h"
#include "block/ice-datapath.h"
#include "bounce-pool.h"
#include "trace.h"

/*
 * Every data unit size divides a chunk, so no data unit is ever split
 * between two chunks.
 */
QEMU_BUILD_BUG_ON(ICE_CHUNK_SIZE % ICE_DATA_UNIT_MAX);
/* A chunk is encrypted into one bounce buffer */
QEMU_BUILD_BUG_ON(ICE_CHUNK_SIZE != ICE_BOUNCE_MAX);

/*
 * A gate that lets at most @max coroutines through at once; the others
 * wait their turn on @waiters
 */
typedef struct IceCoGate {
    QemuMutex lock;             /* protects @busy */
    unsigned busy;
    unsigned max;
    CoQueue waiters;
} IceCoGate;

static void ice_co_gate_init(IceCoGate *g, unsigned max)
{
    qemu_mutex_init(&g->lock);
    g->busy = 0;
    g->max = max;
    qemu_co_queue_init(&g->waiters);
}

static void coroutine_fn ice_co_gate_enter(IceCoGate *g)
{
    qemu_mutex_lock(&g->lock);
    while (g->busy == g->max) {
        qemu_co_queue_wait(&g->waiters, &g->lock);
    }
    g->busy++;
    qemu_mutex_unlock(&g->lock);
}

static void coroutine_fn ice_co_gate_leave(IceCoGate *g)
{
    qemu_mutex_lock(&g->lock);
    g->busy--;
    qemu_co_enter_next(&g->waiters, &g->lock);
    qemu_mutex_unlock(&g->lock);
}

struct IceDataPath {
    BlockBackend *blk;
    IceBouncePool *pool;        /* bounce memory of encrypted writes */
    size_t offload_min;         /* larger requests' crypto goes to workers */
    IceCoGate offload;          /* chunks in worker threads at once */
};

IceDataPath *ice_datapath_new(BlockBackend *blk, size_t bounce_limit,
                              size_t offload_min)
{
    IceDataPath *dp = g_new0(IceDataPath, 1);

    dp->blk = blk;
    dp->pool = ice_bounce_pool_new(blk, bounce_limit);
    dp->offload_min = offload_min;
    ice_co_gate_init(&dp->offload, MAX(1, sysconf(_SC_NPROCESSORS_ONLN)));
    return dp;
}

void ice_datapath_free(IceDataPath *dp)
{
    if (dp) {
        assert(dp->offload.busy == 0);
        ice_bounce_pool_free(dp->pool);
        qemu_mutex_destroy(&dp->offload.lock);
        g_free(dp);
    }
}

/* One chunk's crypto, run inline or in a worker thread */
typedef struct IceCryptJob {
    IceKey *key;
    uint64_t dun;
    QEMUIOVector *src;          /* plaintext (write) or data (read) */
    void *dst;                  /* ciphertext of a write, else NULL */
} IceCryptJob;

static int ice_crypt_job_run(void *opaque)
{
    IceCryptJob *job = opaque;

    bool ok;

    if (job->dst) {
        ok = ice_key_encrypt(job->key, job->dun, job->src, job->dst, NULL);
    } else {
        ok = ice_key_decrypt(job->key, job->dun, job->src, NULL);
    }
    return ok ? 0 : -EIO;
}

/* Crypt @len bytes of @qiov from @pos, data unit @dun onwards */
static int coroutine_fn ice_co_crypt_chunk(IceDataPath *dp, IceKey *key,
                                           uint64_t dun, QEMUIOVector *qiov,
                                           size_t pos, size_t len,
                                           void *dst, bool offload)
{
    QEMUIOVector slice;
    IceCryptJob job = { .key = key, .dun = dun, .src = &slice, .dst = dst };
    int ret;

    qemu_iovec_init_slice(&slice, qiov, pos, len);
    trace_ice_co_crypt_chunk(dst != NULL, dun, len, offload);
    if (offload) {
        ice_co_gate_enter(&dp->offload);
        ret = thread_pool_submit_co(ice_crypt_job_run, &job);
        ice_co_gate_leave(&dp->offload);
    } else {
        ret = ice_crypt_job_run(&job);
    }
    qemu_iovec_destroy(&slice);
    return ret;
}

/* DUN of the data unit @pos bytes into a request starting at @dun */
static uint64_t ice_dun_at(IceKey *key, uint64_t dun, size_t pos)
{
    return dun + pos / ice_key_config(key)->data_unit_size;
}

/* Encrypt and write @rw chunk by chunk; called between start/end request */
static int coroutine_fn ice_co_write(IceRw *rw)
{
    IceDataPath *dp = rw->dp;
    QEMUIOVector *qiov = rw->qiov;
    bool offload = qiov->size > dp->offload_min;
    size_t len;

    for (size_t pos = 0; pos < qiov->size; pos += len) {
        QEMUIOVector bounce_qiov;
        size_t size;
        void *buf;
        int ret;

        len = MIN(ICE_CHUNK_SIZE, qiov->size - pos);
        buf = ice_bounce_co_get(dp->pool, len, &size);
        if (!buf) {
            return -ENOMEM;
        }
        ret = ice_co_crypt_chunk(dp, rw->key, ice_dun_at(rw->key, rw->dun, pos),
                                 qiov, pos, len, buf, offload);
        if (ret == 0) {
            /*
             * Bounce memory is not registered with the block layer, so
             * no BDRV_REQ_REGISTERED_BUF; BDRV_REQ_NO_QUEUE because the
             * request is counted in flight since blk_co_start_request():
             * waiting for a drain to end would deadlock it.
             */
            qemu_iovec_init_buf(&bounce_qiov, buf, len);
            ret = blk_co_pwritev(dp->blk, rw->offset + pos, len,
                                 &bounce_qiov,
                                 BDRV_REQ_NO_QUEUE | rw->write_flags);
        }
        ice_bounce_put(dp->pool, buf, size);
        if (ret < 0) {
            return ret;
        }
    }
    return 0;
}

typedef struct IceReadWait {
    Coroutine *co;
    BlockBackend *blk;
    int ret;
} IceReadWait;

static void ice_read_cb(void *opaque, int ret)
{
    IceReadWait *w = opaque;

    /*
     * Keep the request in flight for its decryption.  Taken here, before
     * the read drops its own reference, so that a drain never finds the
     * request between the two.
     */
    blk_inc_in_flight(w->blk);
    w->ret = ret;
    aio_co_wake(w->co);
}

/* Read @rw and decrypt it chunk by chunk; returns counted in flight */
static int coroutine_fn ice_co_read(IceRw *rw)
{
    IceDataPath *dp = rw->dp;
    QEMUIOVector *qiov = rw->qiov;
    bool offload = qiov->size > dp->offload_min;
    IceReadWait w = { .co = qemu_coroutine_self(), .blk = dp->blk };
    size_t len;
    int ret;

    /*
     * Nothing is done yet, so the read may wait for a drain to end like
     * any other (and reads take no BDRV_REQ_NO_QUEUE anyway).
     */
    blk_aio_preadv(dp->blk, rw->offset, qiov, rw->read_flags, ice_read_cb,
                   &w);
    qemu_coroutine_yield();
    ret = w.ret;
    for (size_t pos = 0; ret == 0 && pos < qiov->size; pos += len) {
        len = MIN(ICE_CHUNK_SIZE, qiov->size - pos);
        ret = ice_co_crypt_chunk(dp, rw->key, ice_dun_at(rw->key, rw->dun, pos),
                                 qiov, pos, len, NULL, offload);
    }
    return ret < 0 ? ret : 0;
}

/*
 * Run @rw and call its callback, if any, while the request still counts
 * in flight: it takes several steps, and drain must wait for all of them.
 */
static int coroutine_fn ice_co_rw_run(IceRw *rw)
{
    BlockBackend *blk = rw->dp->blk;
    int ret;

    if (rw->is_write) {
        blk_co_start_request(blk);
        ret = ice_co_write(rw);
    } else {
        ret = ice_co_read(rw);
    }
    if (rw->cb) {
        rw->cb(rw->opaque, ret);
    }
    if (rw->is_write) {
        blk_end_request(blk);
    } else {
        blk_dec_in_flight(blk);
    }
    return ret;
}

int coroutine_fn ice_co_rw(const IceRw *rw)
{
    IceRw copy = *rw;

    copy.cb = NULL;
    return ice_co_rw_run(&copy);
}

static void coroutine_fn ice_co_rw_entry(void *opaque)
{
    IceRw *rw = opaque;

    ice_co_rw_run(rw);
    g_free(rw);
}

void ice_rw_start(const IceRw *rw)
{
    IceRw *copy = g_memdup2(rw, sizeof(*rw));

    qemu_coroutine_enter(qemu_coroutine_create(ice_co_rw_entry, copy));
}
