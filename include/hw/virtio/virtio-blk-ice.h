/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * virtio-blk inline crypto engine (VIRTIO_BLK_F_ICE): the hooks
 * hw/block/virtio-blk.c calls, and the state they keep
 *
 * The feature follows the proposed VIRTIO change "virtio-blk: Add inline
 * encryption support" (v2).  The device side, including every decision the
 * proposal leaves open, is described in docs/system/devices/virtio-blk-ice.rst.
 * With the feature off (the default), every hook is a no-op.
 */

#ifndef HW_VIRTIO_BLK_ICE_H
#define HW_VIRTIO_BLK_ICE_H

#include "block/ice-engine.h"
#include "block/ice-host.h"
#include "block/ice-registry.h"
#include "block/ice-request.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"

#include "block/aio.h"

struct VirtIOBlock;
struct VirtIOBlockReq;
struct virtio_blk_config;
typedef struct IceDataPath IceDataPath;   /* block/ice-datapath.h */

/* Defaults of "ice-bounce-limit" and "x-ice-offload-min" */
#define VIRTIO_BLK_ICE_BOUNCE_LIMIT_DEFAULT     ICE_BOUNCE_LIMIT_DEFAULT
#define VIRTIO_BLK_ICE_OFFLOAD_MIN_DEFAULT      ICE_OFFLOAD_MIN_DEFAULT

/* "ice-payload": which request types carry the crypto payload */
extern const PropertyInfo virtio_blk_ice_prop_payload;
#define DEFINE_PROP_ICE_PAYLOAD(_name, _state, _field) \
    DEFINE_PROP_SIGNED(_name, _state, _field, ICE_PAYLOAD_LAYOUT_SPEC, \
                       virtio_blk_ice_prop_payload, IcePayloadLayout)

/* Longest secret id the migration stream carries, with its NUL */
#define VIRTIO_BLK_ICE_SECRET_ID_MAX    256

/* One programmed slot in the migration stream (never the key bytes) */
typedef struct VirtIOBlkIceSlotState {
    uint8_t slot;
    uint8_t alg;                /* IceCryptoAlgorithm */
    uint8_t key_size;           /* IceKeySize */
    uint32_t data_unit_size;
    uint32_t secret_len;        /* bytes in @secret, with its NUL */
    uint8_t *secret;            /* id of the secret object holding the key */
} VirtIOBlkIceSlotState;

/* Per-device state; the first six fields are properties */
typedef struct VirtIOBlkIce {
    uint8_t num_slots;          /* "ice-slots" */
    uint8_t slot_offset;        /* "ice-slot-offset" */
    char *preload;              /* "ice-preload", see virtio-blk-ice-keys.c */
    uint64_t bounce_limit;      /* "ice-bounce-limit" */
    uint64_t offload_min;       /* "x-ice-offload-min" */
    IcePayloadLayout payload;   /* "ice-payload" */
    IceEngine *engine;          /* NULL unless ice=on */
    IceDataPath *datapath;      /* runs crypto requests */
    /*
     * The slot table while it is saved or loaded, one entry per slot
     * (virtio-blk-ice-keys.c)
     */
    int32_t mig_num_slots;
    VirtIOBlkIceSlotState *mig_slots;
    /* Set while the engine holds keys a guest loaded */
    Error *guest_key_blocker;
    IceRegistration reg;        /* how the monitor finds the engine */
} VirtIOBlkIce;

/*
 * Per-request state (block/ice-request.h).  virtio_blk_init_request()
 * zeroes it; the key is dropped by virtio_blk_ice_release_request().
 */
typedef IceRequest VirtIOBlkIceReq;

/**
 * virtio_blk_ice_realize:
 * @s: the device, with its properties set
 * @errp: pointer to a NULL-initialized error object
 *
 * Check the ice-* properties and, with ice=on, create the engine and
 * program the slots of ice-preload.  Call before virtio_init().
 *
 * Returns: true on success
 */
bool virtio_blk_ice_realize(struct VirtIOBlock *s, Error **errp);

/**
 * virtio_blk_ice_unrealize:
 * @s: the device
 *
 * Evict every slot (wiping the keys) and free the engine.
 */
void virtio_blk_ice_unrealize(struct VirtIOBlock *s);

/**
 * virtio_blk_ice_update_config:
 * @s: the device
 * @cfg: the configuration space being built
 *
 * Fill in the crypto field when the feature is offered.
 */
void virtio_blk_ice_update_config(struct VirtIOBlock *s,
                                  struct virtio_blk_config *cfg);

/**
 * virtio_blk_ice_parse_payload:
 * @req: a request whose 16-byte header has been read
 * @out_iov: the driver-readable buffers, header included
 * @out_num: number of elements in @out_iov
 *
 * Read the crypto payload that follows the header when the feature was
 * negotiated and the request type carries one.
 *
 * Returns: the payload length to skip after the header (0 or 16), or
 * -EINVAL when the driver-readable part is too short to hold it
 */
int virtio_blk_ice_parse_payload(struct VirtIOBlockReq *req,
                                 const struct iovec *out_iov,
                                 unsigned out_num);

/**
 * virtio_blk_ice_check_rw:
 * @req: a read or write whose range was checked; req->qiov is its data
 *
 * For activate=1, take a reference to the slot's key and check the
 * request against it.  Rejections are traced and logged as guest
 * errors.  A request restarted after werror/rerror=stop keeps the key it
 * was first accepted with.
 *
 * Returns: false if the request must fail with VIRTIO_BLK_S_IOERR
 */
bool virtio_blk_ice_check_rw(struct VirtIOBlockReq *req);

/**
 * virtio_blk_ice_submit_rw:
 * @req: a request virtio_blk_ice_check_rw() accepted, accounting started
 * @is_write: direction
 * @cb: virtio-blk's completion for reads and writes, called with @req
 *      and 0 or a negative errno
 *
 * Start a crypto request in a coroutine of the current AioContext.
 * Crypto requests are never merged: each completes on its own.
 *
 * Returns: false if @req is plain I/O (nothing done), true if it was
 * started and @cb will be called
 */
bool virtio_blk_ice_submit_rw(struct VirtIOBlockReq *req, bool is_write,
                              BlockCompletionFunc *cb);

/**
 * virtio_blk_ice_release_request:
 * @req: a request being completed, requeued or dropped
 *
 * Drop the key reference.  Idempotent.
 */
void virtio_blk_ice_release_request(struct VirtIOBlockReq *req);

/**
 * virtio_blk_ice_get_caps:
 * @req: a VIRTIO_BLK_T_GET_CRYPTO_CAPABILITIES request
 * @in_iov: its device-writable buffers, status byte excluded
 * @in_num: number of elements in @in_iov
 *
 * Returns: the status to complete the request with
 */
uint8_t virtio_blk_ice_get_caps(struct VirtIOBlockReq *req,
                                struct iovec *in_iov, unsigned in_num);

/**
 * virtio_blk_ice_pre_save:
 * @opaque: the VirtIOBlock, as the "virtio-blk" vmstate's pre_save
 *
 * Collect the slot table a save of the device will write.  Every key of
 * the table must have a secret id a destination can read it from.
 * Migration is blocked while the engine holds a guest's key, so this is
 * a second line; it makes a migration or snapshot that would write a
 * table no destination can load fail, with the reason reported.
 *
 * Returns: 0, or a negative errno value if the table cannot be saved
 */
int virtio_blk_ice_pre_save(void *opaque);

/**
 * virtio_blk_ice_save:
 * @s: the device
 * @f: the migration stream, after virtio-blk's request list
 *
 * Save the slot table (never key bytes) in a subsection that is only
 * sent with ice=on, so that a device without it saves what it always did.
 */
void virtio_blk_ice_save(struct VirtIOBlock *s, QEMUFile *f);

/**
 * virtio_blk_ice_load:
 * @s: the device
 * @f: the migration stream, after virtio-blk's request list
 *
 * Load what virtio_blk_ice_save() saved and program the slots from the
 * destination's own secrets.
 *
 * Returns: 0 on success, a negative errno value on failure (reported)
 */
int virtio_blk_ice_load(struct VirtIOBlock *s, QEMUFile *f);

/**
 * virtio_blk_ice_find_disk:
 * @id: a qdev id or QOM path
 * @engine: set to the disk's engine
 * @errp: pointer to a NULL-initialized error object
 *
 * Find a virtio-blk disk with ice=on for a device that drives its engine
 * (ice-keybox).
 *
 * Returns: the device @id names (for virtio-blk-pci, the PCI device), or
 * NULL with @errp set
 */
Object *virtio_blk_ice_find_disk(const char *id, IceEngine **engine,
                                 Error **errp);

#endif /* HW_VIRTIO_BLK_ICE_H */
