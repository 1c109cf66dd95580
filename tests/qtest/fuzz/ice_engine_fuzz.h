/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Fuzzing the inline crypto engine directly, without a device
 */

#ifndef ICE_ENGINE_FUZZ_H
#define ICE_ENGINE_FUZZ_H

/*
 * The input, in big-endian fields, is a sequence of up to 32 operations
 * (the first byte modulo 4):
 *   0 program: slot, algorithm, key size, data unit size (byte b, then
 *     256 << (byte % 12) if b is odd, else 4 bytes), key length, key
 *   1 evict: slot
 *   2 query: slot, caps buffer length
 *   3 request: slot, offset (8 bytes), DUN (8), length (3), then two
 *     layouts: byte b for 1 + (b % 12) segments, and the sizes (2 bytes
 *     each) of all but the last
 * The engine has these slots and a request at most this many bytes.
 */
#define ICE_ENGINE_FUZZ_SLOT_OFFSET 10
#define ICE_ENGINE_FUZZ_SLOTS       4
#define ICE_ENGINE_FUZZ_MAX_LEN     (256 * 1024)

/**
 * ice_engine_fuzz_one:
 *
 * Run the program @data on a fresh engine: program and evict slots, query
 * them, and round-trip requests through two scatter-gather layouts.  A
 * broken promise of the engine's interface aborts.  QEMU's crypto layer
 * must be initialised.
 *
 * Returns: how many requests the engine accepted and round-tripped
 */
unsigned ice_engine_fuzz_one(const uint8_t *data, size_t size);

#endif /* ICE_ENGINE_FUZZ_H */
