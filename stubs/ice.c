/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto engine QMP commands for builds without virtio-blk
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-ice.h"

void qmp_ice_program_slot(const char *id, uint8_t slot,
                          IceCryptoAlgorithm algorithm, uint16_t key_size,
                          uint32_t data_unit_size, const char *key_secret,
                          Error **errp)
{
    error_setg(errp, "this QEMU has no virtio-blk inline crypto engine");
}

void qmp_ice_evict_slot(const char *id, uint8_t slot, Error **errp)
{
    error_setg(errp, "this QEMU has no virtio-blk inline crypto engine");
}

IceInfo *qmp_query_ice(const char *id, Error **errp)
{
    error_setg(errp, "this QEMU has no virtio-blk inline crypto engine");
    return NULL;
}
