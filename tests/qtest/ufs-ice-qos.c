/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What the UFS inline crypto qtests share (see ufs-ice-qos.h)
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "scsi/constants.h"
#include "libqos/ice-host.h"
#include "ufs-ice-qos.h"

static void ufs_ice_env_free(void *opaque)
{
    UfsIceEnv *env = opaque;

    unlink(env->img);
    g_free(env->img);
    g_free(env);
}

void *ufs_ice_setup(GString *cmd_line, void *arg)
{
    UfsIceEnv *env = g_new0(UfsIceEnv, 1);

    env->img = ice_image_create(UFS_ICE_IMAGE_SIZE);
    env->arg = arg;
    g_string_append_printf(cmd_line,
                           " -blockdev file,filename=%s,node-name=drv1"
                           " -device ufs-lu,bus=" UFS_ICE_DEV_ID
                           ",drive=drv1,lun=%d ", env->img, UFS_ICE_LUN);
    g_test_queue_destroy(ufs_ice_env_free, env);
    return env;
}

void ufs_ice_start(QUfs *ufs, QGuestAllocator *alloc)
{
    static const uint8_t test_unit_ready[UFS_CDB_SIZE] = { TEST_UNIT_READY };
    uint32_t hce = FIELD_DP32(0, HCE, HCE, 1);
    UtpUpiuRsp rsp;

    ufs_init(ufs, alloc);
    /* Take the unit attention of power-on */
    ufs_send_scsi_command(ufs, UFS_ICE_LUN, test_unit_ready, NULL, 0, NULL,
                          0, &rsp);
    if (!(ufs_rreg(ufs, A_CAP) & R_CAP_CS_MASK)) {
        return;         /* crypto=off */
    }
    hce = FIELD_DP32(hce, HCE, CGE, 1);
    ufs_ice_write_hce(ufs, hce);
    g_assert_cmpuint(ufs_rreg(ufs, A_HCE), ==, hce);
}

QList *ufs_ice_query_slots(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-ice', 'arguments': "
                           "{'id': %s}}", UFS_ICE_DEV_ID);
    QList *slots;

    g_assert(qdict_haskey(rsp, "return"));
    slots = qdict_get_qlist(qdict_get_qdict(rsp, "return"), "slots");
    qobject_ref(slots);
    qobject_unref(rsp);
    return slots;
}

size_t ufs_ice_num_programmed(QTestState *qts)
{
    QList *slots = ufs_ice_query_slots(qts);
    size_t n = qlist_size(slots);

    qobject_unref(slots);
    return n;
}

void ufs_ice_program_xts256(QUfs *ufs, unsigned slot, const uint8_t *key)
{
    int capidx = ufs_ice_find_cap(ufs, 0, 3);

    g_assert_cmpint(capidx, >=, 0);
    ufs_ice_program(ufs, slot, capidx, 4096, key, 64, true);
}
