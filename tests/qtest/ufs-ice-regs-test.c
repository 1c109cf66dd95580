/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest: the registers of UFSHCI inline crypto as Linux's ufshcd-crypto
 * reads and writes them: CAP.CS, CCAP and x-CRYPTOCAP against query-ice,
 * x-CRYPTOCFG programming and eviction with the controller enabled and
 * disabled, invalid configurations, write-only keys, what HCE, a system
 * reset and unplug evict, the monitor's read-only view, and crypto=off
 * unchanged from upstream.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qemu/module.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "libqos/qgraph.h"
#include "libqos/ice-host.h"
#include "ufs-ice-qos.h"

static const char *const alg_names[] = {
    "aes-xts", "bitlocker-aes-cbc", "aes-ecb", "essiv-aes-cbc",
};

static void map_bar(QUfs *ufs, uint64_t *size)
{
    ufs->bar = qpci_iomap(&ufs->dev, 0, size);
    qpci_device_enable(&ufs->dev);
}

/* query-ice's reply for ufs0 (qobject_unref() it) */
static QDict *query_ice(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-ice', 'arguments': "
                           "{'id': %s}}", UFS_ICE_DEV_ID);
    QDict *ret = qdict_get_qdict(rsp, "return");

    g_assert(ret);
    qobject_ref(ret);
    qobject_unref(rsp);
    return ret;
}

/*
 * CAP.CS, CCAP (capabilities, configurations - 1, CFGPTR 0x20) and each
 * x-CRYPTOCAP: the engine's table as query-ice shows it, in order, with
 * data units of at most 4096 bytes, AES-256-XTS with 4096 among them,
 * nothing after the last one; the configuration array inside the BAR.
 */
static void test_caps(void *obj, void *data, QGuestAllocator *alloc)
{
    QUfs *ufs = obj;
    UfsIceEnv *env = data;
    unsigned slots = env->arg ? 256 : 32;
    QTestState *qts = ufs->dev.bus->qts;
    QDict *info = query_ice(qts);
    QListEntry *e;
    uint64_t bar_size;
    uint32_t ccap;
    unsigned n, i = 0;

    map_bar(ufs, &bar_size);
    g_assert_cmpuint(FIELD_EX32(ufs_rreg(ufs, A_CAP), CAP, CS), ==, 1);
    ccap = ufs_rreg(ufs, A_CCAP);
    n = ccap & 0xff;
    g_assert_cmpuint(n, >=, 1);
    g_assert_cmpuint((ccap >> 8) & 0xff, ==, slots - 1);
    g_assert_cmpuint((ccap >> 16) & 0xff, ==, 0);
    g_assert_cmpuint(ccap >> 24, ==, 0x20);
    g_assert_cmpuint(bar_size, >=, 0x2000 + slots * 128);
    g_assert_cmpuint(ufs_ice_cfg_addr(ufs, slots - 1) + 128, <=, bar_size);
    g_assert_cmpuint(qdict_get_int(info, "max-slots"), ==, slots);
    g_assert(!qdict_haskey(info, "payload"));
    g_assert_cmpint(ufs_ice_find_cap(ufs, 0, 3), >=, 0);
    g_assert(ufs_ice_cap(ufs, ufs_ice_find_cap(ufs, 0, 3)).dus_mask & 8);

    QLIST_FOREACH_ENTRY(qdict_get_qlist(info, "capabilities"), e) {
        QDict *cap = qobject_to(QDict, qlist_entry_obj(e));
        UfsIceCap c = ufs_ice_cap(ufs, i);
        uint8_t mask = 0;
        QListEntry *d;

        g_assert_cmpuint(c.alg, <, G_N_ELEMENTS(alg_names));
        g_assert_cmpstr(qdict_get_str(cap, "algorithm"), ==,
                        alg_names[c.alg]);
        g_assert_cmpuint(c.key_size, >=, 1);
        g_assert_cmpuint(c.key_size, <=, 3);
        g_assert_cmpuint(qdict_get_int(cap, "key-size"), ==,
                         64 + 64 * c.key_size);
        QLIST_FOREACH_ENTRY(qdict_get_qlist(cap, "data-unit-sizes"), d) {
            QNum *num = qobject_to(QNum, qlist_entry_obj(d));
            int64_t dus = qnum_get_int(num);

            g_assert_cmpint(dus, <=, 4096);
            mask |= dus / 512;
        }
        g_assert_cmphex(c.dus_mask, ==, mask);
        g_assert_cmphex(ufs_rreg(ufs, 0x104 + 4 * i) >> 24, ==, 0);
        i++;
    }
    g_assert_cmpuint(i, ==, n);
    for (; 0x104 + 4 * i < 0x300; i++) {
        g_assert_cmphex(ufs_rreg(ufs, 0x104 + 4 * i), ==, 0);
    }
    qobject_unref(info);

    /* The last configuration works like the first */
    ufs_ice_start(ufs, alloc);
    {
        uint8_t key[64];

        for (int k = 0; k < 64; k++) {
            key[k] = k + 1;
        }
        ufs_ice_program_xts256(ufs, slots - 1, key);
    }
    g_assert_cmpuint(ufs_ice_num_programmed(qts), ==, 1);
}

/*
 * crypto=off is upstream's controller: CAP.CS = 0, no CCAP, the 8 KiB
 * BAR, no engine, and the UTRD's CE bit ignored (the data lands as it
 * is).
 */
static void test_off(void *obj, void *data, QGuestAllocator *alloc)
{
    QUfs *ufs = obj;
    UfsIceEnv *env = data;
    QTestState *qts = ufs->dev.bus->qts;
    uint64_t guest = guest_alloc(alloc, UFS_ICE_BLOCK);
    uint8_t buf[UFS_ICE_BLOCK], img[UFS_ICE_BLOCK];
    g_autofree char *err = NULL;
    uint64_t bar_size;

    map_bar(ufs, &bar_size);
    g_assert_cmpuint(FIELD_EX32(ufs_rreg(ufs, A_CAP), CAP, CS), ==, 0);
    g_assert_cmphex(ufs_rreg(ufs, A_CCAP), ==, 0);
    g_assert_cmphex(ufs_rreg(ufs, 0x104), ==, 0);
    g_assert_cmpuint(bar_size, ==, 8192);
    err = ice_qmp_error_of(qtest_qmp(qts, "{'execute': 'query-ice', "
                                     "'arguments': {'id': %s}}",
                                     UFS_ICE_DEV_ID));
    g_assert_nonnull(err);

    ufs_ice_start(ufs, alloc);
    memset(buf, 0x42, sizeof(buf));
    g_assert_cmpuint(ufs_ice_rw(ufs, true, 0, buf, sizeof(buf), 4096, true,
                                3, 99, guest), ==, UFS_OCS_SUCCESS);
    ice_image_read(env->img, 0, img, sizeof(img));
    g_assert(!memcmp(img, buf, sizeof(img)));
    guest_free(alloc, guest);
}

/* query-ice's slot @slot, or NULL (qobject_unref() it) */
static QDict *query_slot(QTestState *qts, unsigned slot)
{
    QList *slots = ufs_ice_query_slots(qts);
    QDict *found = NULL;
    QListEntry *e;

    QLIST_FOREACH_ENTRY(slots, e) {
        QDict *s = qobject_to(QDict, qlist_entry_obj(e));

        if (qdict_get_int(s, "slot") == slot) {
            found = s;
            qobject_ref(found);
        }
    }
    qobject_unref(slots);
    return found;
}

/*
 * Programming and eviction as Linux does them, with the controller
 * enabled and disabled; keys read as zero and never reach the monitor;
 * invalid configurations leave their slot empty; disabling the
 * controller evicts every configuration and enabling it evicts none;
 * the monitor may look but not touch.
 */
static void test_program(void *obj, void *data, QGuestAllocator *alloc)
{
    QUfs *ufs = obj;
    QTestState *qts = ufs->dev.bus->qts;
    uint64_t guest = guest_alloc(alloc, UFS_ICE_BLOCK);
    unsigned n_caps;
    uint8_t key[64], buf[UFS_ICE_BLOCK];
    g_autofree char *key_hex = NULL;
    g_autofree char *err = NULL;
    g_autofree char *hmp = NULL;
    uint64_t cfg;
    QDict *s;
    int xts;

    ufs_ice_start(ufs, alloc);
    n_caps = ufs_ice_num_caps(ufs);
    xts = ufs_ice_find_cap(ufs, 0, 3);
    for (int i = 0; i < 64; i++) {
        key[i] = 0xa0 + i;
    }
    key_hex = g_strdup_printf("%02x%02x%02x%02x", key[0], key[1], key[2],
                              key[3]);

    ufs_ice_program_xts256(ufs, 3, key);
    s = query_slot(qts, 3);
    g_assert_nonnull(s);
    g_assert_cmpstr(qdict_get_str(s, "algorithm"), ==, "aes-xts");
    g_assert_cmpint(qdict_get_int(s, "key-size"), ==, 256);
    g_assert_cmpint(qdict_get_int(s, "data-unit-size"), ==, 4096);
    g_assert(!qdict_haskey(s, "key-secret"));
    qobject_unref(s);
    g_assert_cmpuint(ufs_ice_num_programmed(qts), ==, 1);

    /* Key dwords are write-only, dword 16 and 17 read back */
    cfg = ufs_ice_cfg_addr(ufs, 3);
    for (int i = 0; i < 16; i++) {
        g_assert_cmphex(ufs_rreg(ufs, cfg + 4 * i), ==, 0);
    }
    g_assert_cmphex(ufs_rreg(ufs, cfg + 64), ==, 0x80000008 | xts << 8);
    for (int i = 17; i < 32; i++) {
        g_assert_cmphex(ufs_rreg(ufs, cfg + 4 * i), ==, 0);
    }

    /* Invalid configurations leave their slot empty */
    ufs_ice_program(ufs, 4, n_caps, 4096, key, 64, true);
    ufs_ice_program(ufs, 5, xts, 512 + 1024, key, 64, true);
    ufs_ice_program(ufs, 6, xts, 8192, key, 64, true);
    ufs_ice_program(ufs, 7, xts, 0, key, 64, true);
    memcpy(buf, key, 32);
    memcpy(buf + 32, key, 32);
    ufs_ice_program(ufs, 8, xts, 4096, buf, 64, true);
    g_assert_cmpuint(ufs_ice_num_programmed(qts), ==, 1);

    /* Reprogramming with an invalid configuration empties the slot */
    ufs_ice_program_xts256(ufs, 9, key);
    ufs_ice_program(ufs, 9, n_caps + 3, 4096, key, 64, true);
    g_assert_null(query_slot(qts, 9));

    /* Data goes through slot 3; evicted, the slot is refused */
    memset(buf, 0x11, sizeof(buf));
    g_assert_cmpuint(ufs_ice_rw(ufs, true, 0, buf, sizeof(buf), 4096, true,
                                3, 5, guest), ==, UFS_OCS_SUCCESS);
    ufs_ice_evict(ufs, 3);
    g_assert_cmpuint(ufs_ice_num_programmed(qts), ==, 0);
    g_assert_cmpuint(ufs_ice_rw(ufs, true, 0, buf, sizeof(buf), 4096, true,
                                3, 5, guest), ==,
                     UFS_OCS_INVALID_CRYPTO_CONFIG);

    /* Disabling evicts all; keys written while disabled survive enabling */
    ufs_ice_program_xts256(ufs, 1, key);
    ufs_ice_write_hce(ufs, 0);
    g_assert_cmpuint(ufs_ice_num_programmed(qts), ==, 0);
    ufs_ice_program_xts256(ufs, 2, key);
    ufs_ice_write_hce(ufs, 3);
    g_assert_cmphex(ufs_rreg(ufs, A_HCE), ==, 3);
    g_assert_cmpuint(ufs_ice_num_programmed(qts), ==, 1);
    g_assert_cmpuint(ufs_ice_rw(ufs, false, 0, buf, sizeof(buf), 4096, true,
                                2, 5, guest), ==, UFS_OCS_SUCCESS);
    for (size_t i = 0; i < sizeof(buf); i++) {
        g_assert_cmphex(buf[i], ==, 0x11);
    }

    /* The monitor shows the slot, never the key, and cannot change it */
    err = ice_qmp_error_of(qtest_qmp(qts,
        "{'execute': 'ice-evict-slot', 'arguments': {'id': %s, 'slot': 2}}",
        UFS_ICE_DEV_ID));
    g_assert_nonnull(strstr(err, "belong to its guest"));
    g_free(err);
    ice_qmp_add_secret(qts, "k0", key, 64);
    err = ice_qmp_error_of(qtest_qmp(qts,
        "{'execute': 'ice-program-slot', 'arguments': {'id': %s, "
        "'slot': 4, 'algorithm': 'aes-xts', 'key-size': 256, "
        "'data-unit-size': 4096, 'key-secret': 'k0'}}", UFS_ICE_DEV_ID));
    g_assert_nonnull(strstr(err, "belong to its guest"));
    g_assert_cmpuint(ufs_ice_num_programmed(qts), ==, 1);
    hmp = qtest_hmp(qts, "info ice " UFS_ICE_DEV_ID);
    g_assert_nonnull(strstr(hmp, "slot 2: aes-xts 256-bit, data unit 4096, "
                            "key from the guest\r\n"));
    g_assert_null(strstr(hmp, "payload"));
    g_assert_null(strstr(hmp, key_hex));
    guest_free(alloc, guest);
}

/* A system reset evicts every configuration */
static void test_reset(void *obj, void *data, QGuestAllocator *alloc)
{
    QUfs *ufs = obj;
    QTestState *qts = ufs->dev.bus->qts;
    uint8_t key[64];

    for (int i = 0; i < 64; i++) {
        key[i] = 3 * i + 1;
    }
    map_bar(ufs, NULL);
    ufs_ice_program_xts256(ufs, 0, key);
    ufs_ice_program_xts256(ufs, 31, key);
    g_assert_cmpuint(ufs_ice_num_programmed(qts), ==, 2);
    qtest_qmp_assert_success(qts, "{'execute': 'system_reset'}");
    qtest_qmp_eventwait(qts, "RESET");
    g_assert_cmpuint(ufs_ice_num_programmed(qts), ==, 0);
}

/* Unplugging the controller evicts its keys and unregisters the engine */
static void test_unplug(void *obj, void *data, QGuestAllocator *alloc)
{
    QUfs *ufs = obj;
    QTestState *qts = ufs->dev.bus->qts;
    g_autofree char *err = NULL;
    uint8_t key[64];

    for (int i = 0; i < 64; i++) {
        key[i] = 5 * i + 2;
    }
    map_bar(ufs, NULL);
    ufs_ice_program_xts256(ufs, 7, key);
    g_assert_cmpuint(ufs_ice_num_programmed(qts), ==, 1);
    qpci_unplug_acpi_device_test(qts, UFS_ICE_DEV_ID, 4);
    err = ice_qmp_error_of(qtest_qmp(qts, "{'execute': 'query-ice', "
                                     "'arguments': {'id': %s}}",
                                     UFS_ICE_DEV_ID));
    g_assert_nonnull(strstr(err, "not found"));
}

static void register_ufs_ice_regs_test(void)
{
    QOSGraphTestOptions on = {
        .before = ufs_ice_setup,
        .edge.extra_device_opts = "crypto=on",
    };
    QOSGraphTestOptions on256 = {
        .before = ufs_ice_setup,
        .arg = &on256,
        .edge.extra_device_opts = "crypto=on,crypto-slots=256",
    };
    QOSGraphTestOptions off = {
        .before = ufs_ice_setup,
    };

    qos_add_test("crypto/caps", "ufs", test_caps, &on);
    qos_add_test("crypto/caps-256-slots", "ufs", test_caps, &on256);
    qos_add_test("crypto/off", "ufs", test_off, &off);
    qos_add_test("crypto/program-evict", "ufs", test_program, &on);
    qos_add_test("crypto/system-reset", "ufs", test_reset, &on);
    if (!strcmp(qtest_get_arch(), "x86_64")) {
        qos_add_test("crypto/unplug", "ufs", test_unplug, &on);
    }
}

libqos_init(register_ufs_ice_regs_test);
