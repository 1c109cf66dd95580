/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The registry of inline crypto engines: the monitor finds a device's
 * engine by qdev id and by either QOM path, an export's by its id, and
 * a second front end with an id already taken is refused where it is
 * created, naming both
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qobject/qdict.h"

/* Two null disks, n0 and n1, for a device and an export */
#define NODES "-blockdev driver=null-co,node-name=n0,size=1048576 " \
              "-blockdev driver=null-co,node-name=n1,size=1048576 "

static char *sock_path(void)
{
    return g_strdup_printf("%s/ice-registry-%d.sock", g_get_tmp_dir(),
                           getpid());
}

/* Add a vhost-user-blk export @id of n1 with ice=on and 8 slots */
static QDict *export_add(QTestState *qts, const char *id, const char *sock)
{
    return qtest_qmp(qts, "{'execute': 'block-export-add', 'arguments': {"
                     "'type': 'vhost-user-blk', 'id': %s, "
                     "'node-name': 'n1', 'writable': true, "
                     "'addr': {'type': 'unix', 'path': %s}, "
                     "'ice': true, 'ice-slots': 8}}", id, sock);
}

/* query-ice's max-slots for @id, or -1 with the error in *@err */
static int64_t query_slots(QTestState *qts, const char *id, char **err)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-ice', "
                           "'arguments': {'id': %s}}", id);
    int64_t slots = -1;

    if (qdict_haskey(rsp, "error")) {
        *err = g_strdup(qdict_get_str(qdict_get_qdict(rsp, "error"),
                                      "desc"));
    } else {
        slots = qdict_get_int(qdict_get_qdict(rsp, "return"), "max-slots");
    }
    qobject_unref(rsp);
    return slots;
}

static void assert_slots(QTestState *qts, const char *id, int64_t want)
{
    g_autofree char *err = NULL;

    g_assert_cmpint(query_slots(qts, id, &err), ==, want);
}

static void assert_error(QDict *rsp, const char *desc)
{
    g_assert(qdict_haskey(rsp, "error"));
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"),
                    ==, desc);
    qobject_unref(rsp);
}

/* A device's engine by qdev id, by both QOM paths; an export's by id */
static void test_lookup(void)
{
    g_autofree char *sock = sock_path();
    g_autofree char *err = NULL;
    QTestState *qts = qtest_init(NODES
        "-device virtio-blk-pci,id=d0,drive=n0,ice=on,ice-slots=16 "
        "-device virtio-blk-pci,drive=n1,ice=on,ice-slots=4");

    assert_slots(qts, "d0", 16);
    assert_slots(qts, "/machine/peripheral/d0", 16);
    assert_slots(qts, "/machine/peripheral/d0/virtio-backend", 16);
    /* A device without an id has its QOM paths */
    assert_slots(qts, "/machine/peripheral-anon/device[0]", 4);
    assert_slots(qts, "/machine/peripheral-anon/device[0]/virtio-backend",
                 4);
    g_assert_cmpint(query_slots(qts, "/machine/peripheral-anon", &err), ==,
                    -1);
    g_assert_cmpstr(err, ==,
                    "Device '/machine/peripheral-anon' does not have ice=on");
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(query_slots(qts, "e0", &err), ==, -1);
    g_assert_cmpstr(err, ==, "Device or block export 'e0' not found");
    qtest_quit(qts);

    qts = qtest_init(NODES);
    qobject_unref(export_add(qts, "e0", sock));
    assert_slots(qts, "e0", 8);
    qtest_qmp_assert_success(qts, "{'execute': 'block-export-del', "
                             "'arguments': {'id': 'e0'}}");
    qtest_qmp_eventwait(qts, "BLOCK_EXPORT_DELETED");
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(query_slots(qts, "e0", &err), ==, -1);
    g_assert_cmpstr(err, ==, "Device or block export 'e0' not found");
    qtest_quit(qts);
    unlink(sock);
}

/* An export whose id a device's engine already has is refused */
static void test_export_after_device(void)
{
    g_autofree char *sock = sock_path();
    QTestState *qts = qtest_init(NODES
        "-device virtio-blk-pci,id=d0,drive=n0,ice=on,ice-slots=16");

    assert_error(export_add(qts, "d0", sock),
                 "The vhost-user-blk export 'd0' cannot offer an inline "
                 "crypto engine: the virtio-blk device 'd0' already offers "
                 "one under that id");
    assert_slots(qts, "d0", 16);
    /* Nothing of the refused export stays: the id is free for another */
    qobject_unref(export_add(qts, "e0", sock));
    assert_slots(qts, "e0", 8);
    qtest_quit(qts);
    unlink(sock);
}

/* A device whose id an export's engine already has fails to realize */
static void test_device_after_export(void)
{
    g_autofree char *sock = sock_path();
    QTestState *qts = qtest_init(NODES);

    qobject_unref(export_add(qts, "d1", sock));
    assert_error(qtest_qmp(qts, "{'execute': 'device_add', 'arguments': {"
                           "'driver': 'virtio-blk-pci', 'id': 'd1', "
                           "'drive': 'n0', 'ice': true}}"),
                 "The virtio-blk device 'd1' cannot offer an inline crypto "
                 "engine: the vhost-user-blk export 'd1' already offers one "
                 "under that id");
    assert_slots(qts, "d1", 8);
    /* Without an engine, or under another id, the device is welcome */
    qtest_qmp_assert_success(qts, "{'execute': 'device_add', 'arguments': {"
                             "'driver': 'virtio-blk-pci', 'id': 'd2', "
                             "'drive': 'n0', 'ice': true, "
                             "'ice-slots': 16}}");
    assert_slots(qts, "d2", 16);
    assert_slots(qts, "d1", 8);
    qtest_quit(qts);
    unlink(sock);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/virtio-blk-ice/registry/lookup", test_lookup);
    qtest_add_func("/virtio-blk-ice/registry/export-after-device",
                   test_export_after_device);
    qtest_add_func("/virtio-blk-ice/registry/device-after-export",
                   test_device_after_export);
    return g_test_run();
}
