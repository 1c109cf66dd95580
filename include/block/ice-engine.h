/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto engine (ICE): key slots and per-data-unit encryption
 *
 * The engine emulates the inline crypto engine of UFS/eMMC storage
 * controllers.  It holds a table of key slots; each I/O names a slot and
 * the data unit number (DUN) of its first data unit, and the engine
 * encrypts or decrypts the data one data unit at a time, the DUN
 * increasing by one per unit.  It knows nothing of virtio or any other
 * transport, so any emulated storage device can use it.
 *
 * Usage from a device:
 *
 *   IceEngine *e = ice_engine_new(32, 0);
 *   ice_engine_program_slot(e, 3, &cfg, key, len, id, errp);    (main loop)
 *   ...
 *   IceKey *k = ice_engine_get_key(e, 3, errp);                (any thread)
 *   if (k && ice_key_check_request(k, offset, len, dun, errp)) {
 *       ok = ice_key_encrypt(k, dun, &guest_qiov, bounce, errp); (writes)
 *       or ok = ice_key_decrypt(k, dun, &guest_qiov, errp);      (reads)
 *   }
 *   ice_key_unref(k);
 *
 * The crypto goes through QEMU's crypto layer (QCryptoCipher), so the
 * engine works with whichever crypto backend QEMU was configured with; it
 * offers exactly the combinations that backend supports (see
 * ice_engine_get_caps()).
 *
 * Locking: the slot table is protected by a mutex held only to swap or
 * look up a key pointer.  A request holds a reference to the key that was
 * in the slot when it looked it up, so evicting or reprogramming a slot
 * never changes or frees a key a request is using.  Keys are immutable
 * once programmed; their cipher handles are pooled, one per concurrent
 * user.  Key bytes are wiped when the last reference goes away.
 *
 * Keys come from the host (a secret object's id names each) or from a
 * guest through a key channel (ice_engine_program_guest_slot()).  A
 * guest's key has no secret a migration destination could read it from:
 * the engine counts them and tells its front end, through
 * IceGuestKeyHooks, when the first one comes and the last one goes.
 */

#ifndef BLOCK_ICE_ENGINE_H
#define BLOCK_ICE_ENGINE_H

#include "qemu/iov.h"
#include "qemu/notify.h"
#include "qapi/qapi-types-ice.h"

/*
 * Algorithms are IceCryptoAlgorithm values from the QAPI schema; their
 * values are the algorithm identifiers of capability bits 31:24.
 */

/* Size of one AES key, as encoded in capability bits 15:8 */
typedef enum IceKeySize {
    ICE_KEY_SIZE_INVALID = 0,
    ICE_KEY_SIZE_128 = 1,
    ICE_KEY_SIZE_192 = 2,
    ICE_KEY_SIZE_256 = 3,
    ICE_KEY_SIZE_512 = 4,
    ICE_KEY_SIZE__MAX,
} IceKeySize;

#define ICE_DATA_UNIT_MIN       512
#define ICE_DATA_UNIT_MAX       (64 * 1024)
/* Longest key material: AES-256-XTS, two 256-bit keys */
#define ICE_KEY_MATERIAL_MAX    64
/* Most (algorithm, key size) pairs an engine can support */
#define ICE_CAPS_MAX            9

/**
 * IceCap:
 * @alg: the algorithm
 * @dus_mask: bit j set when a data unit of 512 << j bytes is supported
 * @key_size: the key size identifier
 *
 * One row of an engine's capability table.  The values are those of the
 * specification; each wire format packs the table in its own layout (the
 * virtio-blk capabilities reply in include/block/ice-virtio-v2.h).
 */
typedef struct IceCap {
    IceCryptoAlgorithm alg;
    uint8_t dus_mask;
    IceKeySize key_size;
} IceCap;

/**
 * IceSlotConfig:
 * @alg: the algorithm
 * @key_size: size of one AES key (AES-256-XTS is %ICE_KEY_SIZE_256)
 * @data_unit_size: bytes per data unit, a power of two from 512 to 64 KiB
 *
 * What a programmed slot holds, apart from the key bytes.
 */
typedef struct IceSlotConfig {
    IceCryptoAlgorithm alg;
    IceKeySize key_size;
    uint32_t data_unit_size;
} IceSlotConfig;

typedef struct IceEngine IceEngine;
typedef struct IceKey IceKey;

/**
 * ice_alg_name:
 * @alg: an algorithm identifier, possibly out of range
 *
 * Returns: the algorithm's QAPI name such as "aes-xts", or "unknown"
 */
const char *ice_alg_name(IceCryptoAlgorithm alg);

/**
 * ice_alg_parse:
 * @name: an algorithm's QAPI name, such as "aes-xts"
 * @alg: where to store the algorithm
 * @errp: pointer to a NULL-initialized error object
 *
 * Returns: true on success, false with @errp set listing the known names
 */
bool ice_alg_parse(const char *name, IceCryptoAlgorithm *alg, Error **errp);

/**
 * ice_key_size_bits:
 * @key_size: a key size identifier
 *
 * Returns: the key size in bits, or 0 for an invalid identifier
 */
unsigned ice_key_size_bits(IceKeySize key_size);

/**
 * ice_key_size_parse:
 * @bits: a key size in bits, such as 256
 * @key_size: where to store the key size identifier
 * @errp: pointer to a NULL-initialized error object
 *
 * Whether the engine supports the size with a given algorithm is
 * ice_engine_program_slot()'s business.
 *
 * Returns: true on success, false with @errp set for an unknown size
 */
bool ice_key_size_parse(unsigned bits, IceKeySize *key_size, Error **errp);

/**
 * ice_wipe:
 * @p: memory that held a secret
 * @len: its length
 *
 * Clear @p in a way the compiler does not optimize away.
 */
void ice_wipe(void *p, size_t len);

/**
 * ice_key_material_len:
 * @alg: the algorithm
 * @key_size: the key size identifier
 *
 * Returns: the number of key bytes a slot with this configuration takes
 * (twice the AES key size for XTS), or 0 for an invalid key size
 */
size_t ice_key_material_len(IceCryptoAlgorithm alg, IceKeySize key_size);

/**
 * ice_engine_new:
 * @num_slots: number of key slots, 1 to 256
 * @slot_offset: number of the first slot, 0 to 255
 *
 * Create an engine whose valid slot numbers are @slot_offset to
 * @slot_offset + @num_slots - 1.  All slots start empty.  QEMU's crypto
 * layer must be initialized (qcrypto_init()).
 *
 * Returns: the engine; free it with ice_engine_free()
 */
IceEngine *ice_engine_new(unsigned num_slots, unsigned slot_offset);

/**
 * ice_engine_free:
 * @e: the engine, or NULL
 *
 * Tell the free notifiers, evict every slot (without calling the guest
 * key hooks) and free the engine.  Requests still holding a key keep it
 * until they call ice_key_unref().
 */
void ice_engine_free(IceEngine *e);

/**
 * ice_engine_add_free_notifier:
 * @e: the engine
 * @n: called with @e as its data when ice_engine_free() starts
 *
 * For whatever holds a pointer to @e without owning it (a key channel
 * bound to a disk): it lets go of @e there.  Remove @n with
 * notifier_remove() if it goes first.
 */
void ice_engine_add_free_notifier(IceEngine *e, Notifier *n);

/**
 * IceGuestKeyHooks:
 * @admit: called before the engine takes a guest's key while it holds
 *         none; returns 0, or a negative errno value with @errp set to
 *         refuse the key (e.g. while a migration runs)
 * @released: called once the engine holds no guest key any more
 *
 * How the front end that owns an engine keeps migration blocked for as
 * long as the engine holds keys a destination could not load.  Both are
 * called in the main loop, outside the engine's lock.
 */
typedef struct IceGuestKeyHooks {
    int (*admit)(void *opaque, Error **errp);
    void (*released)(void *opaque);
} IceGuestKeyHooks;

/**
 * ice_engine_set_guest_key_hooks:
 * @e: the engine, holding no guest key
 * @hooks: the hooks, or NULL for none (guest keys are then admitted)
 * @opaque: their argument
 */
void ice_engine_set_guest_key_hooks(IceEngine *e,
                                    const IceGuestKeyHooks *hooks,
                                    void *opaque);

/**
 * ice_engine_num_guest_keys:
 * @e: the engine
 *
 * Context: main loop
 *
 * Returns: how many slots hold a key a guest loaded
 */
unsigned ice_engine_num_guest_keys(const IceEngine *e);

unsigned ice_engine_num_slots(const IceEngine *e);
unsigned ice_engine_slot_offset(const IceEngine *e);

/**
 * ice_engine_get_caps:
 * @e: the engine
 * @caps: where to store the capability table's rows, or NULL
 * @max: room in @caps
 *
 * Store up to @max rows of the capability table in @caps: the
 * combinations of the specification that QEMU's crypto backend supports,
 * in the order of the algorithm identifiers, then of key sizes.
 *
 * Returns: the number of capabilities the engine has (may exceed @max)
 */
size_t ice_engine_get_caps(const IceEngine *e, IceCap *caps, size_t max);

/**
 * ice_engine_limit_data_unit:
 * @e: the engine, with every slot empty
 * @max: the largest data unit size in bytes the front end offers, a
 *       power of two of at least %ICE_DATA_UNIT_MIN
 *
 * Narrow the capability table to data units of at most @max bytes, for
 * a front end whose blocks are smaller than the engine's largest data
 * unit (a UFS logical unit's 4096 bytes).  Slot configurations are then
 * checked against the narrowed table.
 */
void ice_engine_limit_data_unit(IceEngine *e, uint32_t max);

/**
 * ice_engine_check_config:
 * @e: the engine
 * @cfg: a slot configuration
 * @errp: pointer to a NULL-initialized error object
 *
 * Check @cfg against the engine's capabilities.
 *
 * Returns: true if supported, false with @errp set naming the problem
 */
bool ice_engine_check_config(const IceEngine *e, const IceSlotConfig *cfg,
                             Error **errp);

/**
 * ice_engine_check_slot:
 * @e: the engine
 * @slot: a slot number (including the offset)
 * @errp: pointer to a NULL-initialized error object
 *
 * Returns: true if @slot is a valid slot number, false with @errp set
 */
bool ice_engine_check_slot(const IceEngine *e, unsigned slot, Error **errp);

/**
 * ice_engine_program_slot:
 * @e: the engine
 * @slot: the slot number (including the offset)
 * @cfg: algorithm, key size and data unit size
 * @key: key material; for XTS the data key K1 followed by the tweak key K2
 * @key_len: bytes in @key, exactly ice_key_material_len()
 * @key_id: where the key came from (a secret object's id), or NULL; kept
 *          with the key, named in error messages, never secret itself
 * @errp: pointer to a NULL-initialized error object
 *
 * Load a key into @slot, replacing any key there.  Requests that hold
 * the previous key finish with it.  The engine keeps its own copy of
 * @key; the caller should wipe its buffer.  This is the one place a slot
 * configuration and its key are validated.
 *
 * Context: main loop (may allocate and set up cipher handles), as
 * every function that changes a slot
 *
 * Returns: true on success, false with @errp set (slot out of range,
 * unsupported combination, wrong key length, equal XTS halves)
 */
bool ice_engine_program_slot(IceEngine *e, unsigned slot,
                             const IceSlotConfig *cfg,
                             const uint8_t *key, size_t key_len,
                             const char *key_id, Error **errp);

/**
 * ice_engine_program_guest_slot:
 * @e: the engine
 * @slot: the slot number (including the offset)
 * @cfg: algorithm, key size and data unit size
 * @key: key material, as for ice_engine_program_slot()
 * @key_len: bytes in @key
 * @channel: what handed the key over (a key channel device), not NULL;
 *           ice_engine_evict_channel() evicts what it loaded
 * @errp: pointer to a NULL-initialized error object
 *
 * Load a key a guest handed over: it has no secret id.  The first such
 * key needs the consent of IceGuestKeyHooks::admit.
 *
 * Context: main loop
 *
 * Returns: 0 on success; -EINVAL if the slot, configuration or key is
 * refused; the admit hook's negative errno value if it refused the key
 */
int ice_engine_program_guest_slot(IceEngine *e, unsigned slot,
                                  const IceSlotConfig *cfg,
                                  const uint8_t *key, size_t key_len,
                                  const void *channel, Error **errp);

/**
 * ice_engine_evict_channel:
 * @e: the engine
 * @channel: a key channel
 *
 * Evict every key @channel loaded.
 *
 * Context: main loop
 *
 * Returns: the number of slots evicted
 */
unsigned ice_engine_evict_channel(IceEngine *e, const void *channel);

/**
 * ice_engine_evict_slot:
 * @e: the engine
 * @slot: the slot number (including the offset)
 * @errp: pointer to a NULL-initialized error object
 *
 * Empty @slot.  Evicting an empty slot is not an error.
 *
 * Returns: true on success, false with @errp set if @slot is out of range
 */
bool ice_engine_evict_slot(IceEngine *e, unsigned slot, Error **errp);

/**
 * ice_engine_query_slot:
 * @e: the engine
 * @slot: the slot number (including the offset)
 * @cfg: filled in with the slot's configuration if it holds a key
 * @key_id: if not NULL, set to a copy of the key's id (NULL if it has
 *          none) when the slot holds a key; free it with g_free()
 *
 * Returns: true if @slot is in range and holds a key
 */
bool ice_engine_query_slot(IceEngine *e, unsigned slot, IceSlotConfig *cfg,
                           char **key_id);

/**
 * ice_engine_get_key:
 * @e: the engine
 * @slot: the slot number (including the offset)
 * @errp: pointer to a NULL-initialized error object
 *
 * Take a reference to the key in @slot.
 *
 * Context: any thread; never blocks for long
 *
 * Returns: the key, or NULL with @errp set if @slot is out of range
 * or empty
 */
IceKey *ice_engine_get_key(IceEngine *e, unsigned slot, Error **errp);

/**
 * ice_key_unref:
 * @key: a key reference from ice_engine_get_key(), or NULL
 *
 * Drop the reference; the last one wipes and frees the key.
 */
void ice_key_unref(IceKey *key);

/**
 * ice_key_config:
 * @key: a key reference
 *
 * Returns: the configuration the key was programmed with
 */
const IceSlotConfig *ice_key_config(const IceKey *key);

/**
 * ice_key_check_request:
 * @key: a key reference
 * @offset: byte offset of the request on the medium
 * @len: length of the request in bytes
 * @dun: data unit number of the first data unit
 * @errp: pointer to a NULL-initialized error object
 *
 * Check that a request can be processed with @key: @offset and @len are
 * multiples of the data unit size and the last DUN does not overflow.
 *
 * Returns: true if so, false with @errp set naming the problem
 */
bool ice_key_check_request(const IceKey *key, uint64_t offset, uint64_t len,
                           uint64_t dun, Error **errp);

/**
 * ice_key_encrypt:
 * @key: a key reference
 * @dun: data unit number of the first data unit
 * @src: plaintext; any segment layout, never modified
 * @dst: buffer of @src->size bytes that receives the ciphertext
 * @errp: pointer to a NULL-initialized error object
 *
 * Encrypt @src into @dst one data unit at a time.  The caller has checked
 * the request with ice_key_check_request().
 *
 * Context: any thread
 *
 * Returns: true on success, false with @errp set if @src->size is not a
 * multiple of the data unit size or the crypto backend failed
 */
bool ice_key_encrypt(IceKey *key, uint64_t dun, const QEMUIOVector *src,
                     void *dst, Error **errp);

/**
 * ice_key_decrypt:
 * @key: a key reference
 * @dun: data unit number of the first data unit
 * @qiov: ciphertext, decrypted in place; any segment layout
 * @errp: pointer to a NULL-initialized error object
 *
 * Decrypt @qiov in place one data unit at a time.  The caller has checked
 * the request with ice_key_check_request().
 *
 * Context: any thread
 *
 * Returns: true on success, false with @errp set if @qiov->size is not a
 * multiple of the data unit size or the crypto backend failed
 */
bool ice_key_decrypt(IceKey *key, uint64_t dun, QEMUIOVector *qiov,
                     Error **errp);

/**
 * IceKeyFreeObserver:
 * @mem: the memory that held a key, already wiped
 * @len: its length
 *
 * For tests of key hygiene: called just before a key's memory is freed.
 */
typedef void IceKeyFreeObserver(const void *mem, size_t len);

/**
 * ice_set_key_free_observer:
 * @fn: the observer, or NULL
 *
 * Install @fn; only tests do this.
 */
void ice_set_key_free_observer(IceKeyFreeObserver *fn);

#endif /* BLOCK_ICE_ENGINE_H */
