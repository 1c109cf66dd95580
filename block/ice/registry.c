/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The inline crypto engines the monitor can name (see
 * include/block/ice-registry.h)
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "block/ice-registry.h"

static QTAILQ_HEAD(, IceRegistration) ice_registry =
    QTAILQ_HEAD_INITIALIZER(ice_registry);

static IceRegistration *ice_registry_find_id(const char *id)
{
    IceRegistration *reg;

    QTAILQ_FOREACH(reg, &ice_registry, next) {
        if (reg->id && !strcmp(reg->id, id)) {
            return reg;
        }
    }
    return NULL;
}

static IceRegistration *ice_registry_find_object(Object *obj)
{
    IceRegistration *reg;

    QTAILQ_FOREACH(reg, &ice_registry, next) {
        if (obj == reg->paths[0] || obj == reg->paths[1]) {
            return reg;
        }
    }
    return NULL;
}

bool ice_registry_add(IceRegistration *reg, Error **errp)
{
    IceRegistration *other = reg->id ? ice_registry_find_id(reg->id) : NULL;

    if (other) {
        error_setg(errp, "The %s '%s' cannot offer an inline crypto engine: "
                   "the %s '%s' already offers one under that id",
                   reg->kind, reg->id, other->kind, other->id);
        return false;
    }
    QTAILQ_INSERT_TAIL(&ice_registry, reg, next);
    return true;
}

void ice_registry_remove(IceRegistration *reg)
{
    if (QTAILQ_IN_USE(reg, next)) {
        QTAILQ_REMOVE(&ice_registry, reg, next);
    }
}

IceRegistration *ice_registry_find(const char *id, Error **errp)
{
    IceRegistration *reg = ice_registry_find_id(id);
    Object *obj;

    if (reg) {
        return reg;
    }
    if (id[0] == '/') {
        obj = object_resolve_path(id, NULL);
    } else {
        /* What a qdev id names; it may be a device without an engine */
        g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", id);

        obj = object_resolve_path(path, NULL);
    }
    reg = obj ? ice_registry_find_object(obj) : NULL;
    if (!reg) {
        if (obj) {
            error_setg(errp, "Device '%s' does not have ice=on", id);
        } else {
            error_setg(errp, "Device or block export '%s' not found", id);
        }
    }
    return reg;
}
