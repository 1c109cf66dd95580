/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto engine: programs without the virtio-blk device (such as
 * qemu-storage-daemon) find engines only among block exports
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/block/ice-host.h"

IceEngine *virtio_blk_ice_find_engine(const char *id,
                                      IcePayloadLayout *payload,
                                      Error **errp)
{
    error_setg(errp, "No block export '%s' with ice=on", id);
    return NULL;
}
