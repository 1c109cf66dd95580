/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Per-transport set-up and common helpers of the virtio-blk inline crypto
 * engine qos tests
 */

#include "qemu/osdep.h"
#include "libqtest-single.h"
#include "qapi/error.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "libqos/qgraph.h"
#include "virtio-blk-ice-qos.h"

/* ---- set-up ---- */

static void ice_env_free(void *opaque)
{
    IceEnv *env = opaque;

    unlink(env->img);
    g_free(env->img);
    if (env->blkdebug) {
        unlink(env->blkdebug);
        g_free(env->blkdebug);
    }
    g_free(env);
    qos_invalidate_command_line();
}

IceEnv *ice_qos_setup_full(GString *cmd_line, const char *props_str,
                           const char *drive, const char *extra)
{
    IceEnv *env = g_new0(IceEnv, 1);
    g_auto(GStrv) props = g_strsplit(props_str, " ", -1);

    env->img = ice_image_create(ICE_QOS_IMG_SIZE);
    g_test_queue_destroy(ice_env_free, env);

    g_string_append_printf(cmd_line, " -drive if=none,id=drive0,");
    g_string_append_printf(cmd_line, "%s%s", drive, env->img);
    g_string_append_printf(cmd_line, " -object secret,id=boot-key,"
                           "format=base64,data=K34VFiiu0qar9xWICc9PPA== "
                           "-drive if=none,id=spare,file=null-co://,"
                           "format=raw %s", extra);
    for (char **p = props; *p; p++) {
        if (**p) {
            g_string_append_printf(cmd_line, " -global virtio-blk-device.%s",
                                   *p);
        }
    }
    return env;
}

IceEnv *ice_qos_setup_props(GString *cmd_line, const char *props)
{
    return ice_qos_setup_full(cmd_line, props,
                              "format=raw,auto-read-only=off,file=", "");
}

void *ice_qos_setup(GString *cmd_line, void *arg)
{
    return ice_qos_setup_props(cmd_line, arg ? arg : "");
}

void *ice_qos_setup_slots16_off8(GString *cmd_line, void *arg)
{
    return ice_qos_setup_props(cmd_line,
                               "ice=on ice-slots=16 ice-slot-offset=8");
}

void *ice_qos_setup_all_types(GString *cmd_line, void *arg)
{
    return ice_qos_setup_full(cmd_line,
                              "ice=on ice-payload=all-types "
                              "serial=ice-all-types",
                              "format=raw,auto-read-only=off,discard=unmap,"
                              "file=", "");
}

void *ice_qos_setup_vhost_user(GString *cmd_line, void *arg)
{
    IceEnv *env = g_new0(IceEnv, 1);

    env->img = ice_image_create(ICE_QOS_IMG_SIZE);
    g_test_queue_destroy(ice_env_free, env);
    /* Stopped and freed when the test ends, before @env is freed */
    env->qsd = ice_qsd_start_vhost_user(cmd_line, env->img,
                                        arg ? (const char *)arg : "");
    return env;
}

/* ---- requests ---- */

void ice_qos_submit(QVirtioDevice *dev, QGuestAllocator *alloc,
                    QVirtQueue *vq, IceReq *r)
{
    ice_req_submit(global_qtest, dev, alloc, vq, r);
}

uint8_t ice_qos_finish(QGuestAllocator *alloc, IceReq *r)
{
    return ice_req_finish(global_qtest, alloc, r);
}

void ice_qos_wait_all(QVirtioDevice *dev, QVirtQueue *vq, IceReq *r, int n)
{
    ice_req_wait_all(global_qtest, dev, vq, r, n);
}

uint8_t ice_qos_do(QVirtioDevice *dev, QGuestAllocator *alloc,
                   QVirtQueue *vq, IceReq *r)
{
    return ice_req_do(global_qtest, dev, alloc, vq, r);
}

uint8_t ice_qos_rw(QVirtioDevice *dev, QGuestAllocator *alloc,
                   QVirtQueue *vq, uint32_t type, uint64_t offset,
                   uint8_t *buf, size_t len, uint8_t slot,
                   uint8_t activate, uint64_t dun, const size_t *split)
{
    IceReq r = {
        .type = type, .sector = offset / 512, .payload = true,
        .slot = slot, .activate = activate, .dun = dun,
        .data = buf, .len = len, .split = split,
    };

    return ice_qos_do(dev, alloc, vq, &r);
}

/* ---- keys ---- */

const char *ice_qos_id(const IceEnv *env)
{
    return env->qsd ? ICE_QSD_EXPORT_ID : ICE_QOS_DEV_ID;
}

void ice_qos_add_secret(const IceEnv *env, const char *id,
                        const uint8_t *key, size_t len)
{
    ice_keys_add_secret(global_qtest, env->qsd, id, key, len);
}

char *ice_qos_program(const IceEnv *env, unsigned slot, const char *alg,
                      unsigned bits, unsigned dus, const char *secret)
{
    return ice_keys_program_slot(global_qtest, env->qsd, ice_qos_id(env),
                                 slot, alg, bits, dus, secret);
}

void ice_qos_program_ok(const IceEnv *env, unsigned slot, const char *alg,
                        unsigned bits, unsigned dus, const char *secret)
{
    g_autofree char *err = ice_qos_program(env, slot, alg, bits, dus, secret);

    g_assert_cmpstr(err, ==, NULL);
}

void ice_qos_program_kat(const IceEnv *env, const IceKat *t, unsigned slot,
                         const char *name)
{
    ice_keys_program_kat(global_qtest, env->qsd, ice_qos_id(env), t, slot,
                         name);
}

/* ---- QMP ---- */

char *ice_qos_qmp_error(const char *cmd, const char *args)
{
    QDict *rsp = qtest_qmp(global_qtest, "{'execute': %s, 'arguments': %p}",
                           cmd, qobject_from_json(args, &error_abort));
    char *desc = NULL;

    if (qdict_haskey(rsp, "error")) {
        desc = g_strdup(qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"));
    }
    qobject_unref(rsp);
    return desc;
}
