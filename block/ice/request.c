/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The transport-free rules of an inline crypto request: the checks of a
 * crypto read or write (see include/block/ice-request.h)
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/log.h"
#include "block/ice-request.h"
#include "trace.h"

void ice_request_release(IceRequest *r)
{
    ice_key_unref(r->key);
    r->key = NULL;
}

/* Log a rejection as a guest error and drop the key; returns false */
static bool G_GNUC_PRINTF(2, 3)
ice_request_reject(IceRequest *r, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    qemu_log_mask(LOG_GUEST_ERROR, "virtio-blk: inline crypto request "
                  "rejected: %s\n", msg);
    ice_request_release(r);
    return false;
}

bool ice_request_check(IceRequest *r, IceEngine *engine, uint64_t offset,
                       uint64_t len, const void *trace_id)
{
    Error *err = NULL;

    /*
     * A request restarted after werror/rerror=stop keeps the key it was
     * accepted with, as long as the guest still names the same slot: a
     * slot reprogrammed while the VM was stopped must not change it.
     */
    if (r->key && !(r->has_payload && r->activate == 1 &&
                    r->slot == r->key_slot)) {
        ice_request_release(r);
    }

    /* Decision 2: activate 0 is plain I/O, 1 is crypto, anything else fails */
    if (!r->has_payload || r->activate == 0) {
        return true;
    }
    if (r->activate != 1) {
        trace_ice_request_err_activate(trace_id, r->activate);
        return ice_request_reject(r, "activate is %u", r->activate);
    }

    /* Decision 4: slot in range and programmed, alignment, DUN range */
    if (!r->key) {
        r->key = ice_engine_get_key(engine, r->slot, &err);
        if (!r->key) {
            trace_ice_request_err_slot(trace_id, r->slot);
            ice_request_reject(r, "%s", error_get_pretty(err));
            error_free(err);
            return false;
        }
        r->key_slot = r->slot;
    }
    if (!ice_key_check_request(r->key, offset, len, r->dun, &err)) {
        trace_ice_request_err_range(trace_id, r->slot, offset, len, r->dun,
                                    ice_key_config(r->key)->data_unit_size);
        ice_request_reject(r, "%s", error_get_pretty(err));
        error_free(err);
        return false;
    }
    return true;
}
