/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto data path: encrypted reads and writes through a
 * BlockBackend in bounded chunks
 *
 * Nothing here knows the transport: a device accepts a request (slot,
 * DUN, range checked against the key), then starts it with
 * ice_rw_start() in the request's AioContext.
 *
 * Bounds: a write is encrypted and written one chunk of at most
 * %ICE_CHUNK_SIZE bytes at a time, each chunk in a buffer of the
 * device's IceBouncePool, so the bounce memory of all requests together
 * never exceeds the pool's limit; a read lands in guest memory and is
 * decrypted there, one chunk at a time.  Requests larger than the
 * offload threshold have each chunk's crypto done in the AioContext's
 * thread pool, so the I/O thread only ever spends a chunk's worth of
 * small-request crypto between two returns to its event loop.
 */

#ifndef BLOCK_ICE_DATAPATH_H
#define BLOCK_ICE_DATAPATH_H

#include "block/aio.h"
#include "system/block-backend.h"
#include "block/ice-engine.h"

typedef struct IceDataPath IceDataPath;

/* Bytes encrypted and written, or decrypted, in one step */
#define ICE_CHUNK_SIZE          (1024 * 1024)

/**
 * ice_datapath_new:
 * @blk: where the data goes
 * @bounce_limit: most bytes of bounce memory the writes hold at once; at
 *                least %ICE_CHUNK_SIZE
 * @offload_min: requests of more bytes than this have their crypto done
 *               in the thread pool, smaller ones in the calling thread
 *
 * At most one chunk per host CPU is encrypted or decrypted in worker
 * threads at a time: more would only queue for the CPUs, and keep the
 * event loop waiting for one behind them.
 *
 * Returns: the data path of one device; free it with ice_datapath_free()
 */
IceDataPath *ice_datapath_new(BlockBackend *blk, size_t bounce_limit,
                              size_t offload_min);

/**
 * ice_datapath_free:
 * @dp: the data path, or NULL; no request may be running
 */
void ice_datapath_free(IceDataPath *dp);

/**
 * IceRw:
 * @dp: the data path
 * @key: a key reference, checked against the request; the caller keeps
 *       it until @cb
 * @dun: data unit number of the first data unit
 * @offset: byte offset on @dp->blk
 * @qiov: guest memory: plaintext of a write (never modified), or where
 *        a read lands and is decrypted
 * @is_write: direction
 * @read_flags: flags of the read (e.g. BDRV_REQ_REGISTERED_BUF for
 *              registered guest RAM)
 * @write_flags: flags of each chunk a write writes: BDRV_REQ_FUA or none
 *               (writes come from bounce memory, never registered)
 * @cb: called once with @opaque and 0 or a negative errno, while the
 *      request still counts as in flight on @dp->blk (ice_rw_start() only)
 * @opaque: for @cb
 *
 * A crypto request.  A failed write chunk ends the request, with the
 * chunks before it on the disk; a failed read leaves @qiov a mix of
 * ciphertext and plaintext.
 */
typedef struct IceRw {
    IceDataPath *dp;
    IceKey *key;
    uint64_t dun;
    int64_t offset;
    QEMUIOVector *qiov;
    bool is_write;
    BdrvRequestFlags read_flags;
    BdrvRequestFlags write_flags;
    BlockCompletionFunc *cb;
    void *opaque;
} IceRw;

/**
 * ice_rw_start:
 * @rw: the request; copied
 *
 * Run @rw in a coroutine of the current AioContext, which must be
 * @rw->dp->blk's.  Returns when the request first waits.  Drain of
 * @rw->dp->blk waits for the whole request, @rw->cb included.
 */
void ice_rw_start(const IceRw *rw);

/**
 * ice_co_rw:
 * @rw: the request; its @cb and @opaque are not used
 *
 * Run @rw in the calling coroutine, whose AioContext must be
 * @rw->dp->blk's.
 *
 * Returns: 0 or a negative errno value
 */
int coroutine_fn ice_co_rw(const IceRw *rw);

#endif /* BLOCK_ICE_DATAPATH_H */
