/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The inline crypto engines the monitor can name
 *
 * Every front end that offers an engine to a guest registers it when the
 * engine comes to exist and unregisters it before freeing it: the
 * virtio-blk device at realize, under its qdev id (for virtio-blk-pci,
 * the PCI device's) and its QOM paths; a vhost-user-blk export when it is
 * created, under the export's id; a UFS host controller with crypto=on
 * at realize, under its qdev id and QOM path.  The QMP commands
 * (ice-program-slot, ice-evict-slot, query-ice) and their HMP forms find
 * engines here, and nowhere else.  An id names one engine: a second front end registering
 * an id already taken fails, naming both.
 *
 * Context: main loop (BQL held)
 */

#ifndef BLOCK_ICE_REGISTRY_H
#define BLOCK_ICE_REGISTRY_H

#include "qemu/queue.h"
#include "qom/object.h"
#include "block/ice-engine.h"

/**
 * IceRegistration:
 * @kind: what offers the engine, for messages, e.g. "vhost-user-blk export"
 * @id: the id the monitor names it by, or NULL (a device without an id)
 * @paths: up to two QOM objects whose canonical path also names it, or
 *         NULL
 * @engine: the engine
 * @has_payload: the transport carries a virtio-blk crypto payload
 * @payload: if so, which request types carry it (query-ice)
 * @guest_owns_slots: the guest programs and evicts the key slots through
 *                    the device's registers (UFSHCI), so the monitor may
 *                    only look at them
 *
 * A front end fills this in, keeps it (and @id) alive while it is
 * registered, and registers it with ice_registry_add().
 */
typedef struct IceRegistration {
    const char *kind;
    const char *id;
    Object *paths[2];
    IceEngine *engine;
    bool has_payload;
    IcePayloadLayout payload;
    bool guest_owns_slots;
    /* private */
    QTAILQ_ENTRY(IceRegistration) next;
} IceRegistration;

/**
 * ice_registry_add:
 * @reg: a front end's registration
 * @errp: pointer to a NULL-initialized error object
 *
 * Returns: true on success; false, with @errp naming both front ends, if
 * @reg->id is already registered
 */
bool ice_registry_add(IceRegistration *reg, Error **errp);

/* Unregister @reg, if it is registered */
void ice_registry_remove(IceRegistration *reg);

/**
 * ice_registry_find:
 * @id: an id or a QOM path
 * @errp: pointer to a NULL-initialized error object
 *
 * Returns: the registration @id names, or NULL with @errp set
 */
IceRegistration *ice_registry_find(const char *id, Error **errp);

#endif /* BLOCK_ICE_REGISTRY_H */
