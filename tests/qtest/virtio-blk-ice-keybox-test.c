/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest for ice-keybox, the guest's key channel to a virtio-blk disk's
 * inline crypto engine: the guest programs a slot through BAR 0 and the
 * disk encrypts with it (an IEEE 1619 vector read back from the image on
 * the host); slots outside the disk's range, slots holding the host's
 * keys and bad configurations are refused and change nothing; the key
 * register never reads back; a reset takes the guest's keys and leaves
 * the host's.
 *
 * The keys' lifetime: migration and savevm are blocked exactly while the
 * disk holds a guest key, and a guest cannot load one while a migration
 * runs or under -only-migratable; ejecting the box evicts its keys, so a
 * migration or snapshot after it loads; a box whose disk was unplugged
 * never drives the disk plugged later under the same id.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "libqos/libqos-pc.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_regs.h"
#include "libqos/ice-host.h"
#include "libqos/virtio-blk-ice.h"
#include "standard-headers/linux/virtio_blk.h"
#include "hw/block/ice-keybox.h"
#include "../ice-vectors.h"

#define IMG_SIZE        (1024 * 1024)
#define DISK_DEVFN      QPCI_DEVFN(4, 0)
#define BOX_DEVFN       QPCI_DEVFN(5, 0)
/* What the disk is, less its id and address */
#define DISK_OPTS       "virtio-blk-pci,drive=drive0,ice=on,ice-slots=%d," \
                        "ice-slot-offset=%d"
/* The disk's slots: 2 to 5 */
#define SLOT_FIRST      2
#define SLOT_COUNT      4

typedef struct Env {
    char *img;
    QOSState *qs;
    QPCIDevice *box;
    QPCIBar bar;
    IcePciDisk disk;
} Env;

/*
 * Boot QEMU on the image @env->img of format @fmt: the disk (drv0 at
 * 04.0), its box (box0 at 05.0) if @box, and @extra
 */
static void env_boot(Env *env, const char *fmt, bool box, const char *extra)
{
    env->qs = qtest_pc_boot("-blockdev driver=file,node-name=file0,"
                            "filename=%s "
                            "-blockdev driver=%s,node-name=drive0,file=file0 "
                            "-device " DISK_OPTS ",id=drv0,addr=04.0 %s %s",
                            env->img, fmt, SLOT_COUNT, SLOT_FIRST,
                            box ? "-device ice-keybox,id=box0,disk=drv0,"
                                  "addr=05.0" : "", extra);
    env->box = NULL;
}

/* Find the box (unless @env->box already holds it) and map its BAR */
static void env_map_box(Env *env)
{
    if (!env->box) {
        env->box = qpci_device_find(env->qs->pcibus, BOX_DEVFN);
        g_assert(env->box);
    }
    qpci_device_enable(env->box);
    env->bar = qpci_iomap(env->box, 0, NULL);
}

/*
 * Boot with the disk on a new image (raw, or a qcow2 one that takes
 * snapshots), its box mapped, and @extra
 */
static void env_start_with(Env *env, bool qcow2, const char *extra)
{
    if (qcow2) {
        int fd = g_file_open_tmp("ice-qtest.XXXXXX", &env->img, NULL);

        g_assert_cmpint(fd, >=, 0);
        close(fd);
        g_assert_true(mkimg(env->img, "qcow2", 1));
    } else {
        env->img = ice_image_create(IMG_SIZE);
    }
    env_boot(env, qcow2 ? "qcow2" : "raw", true, extra);
    env_map_box(env);
}

static void env_start(Env *env)
{
    env_start_with(env, false, "");
}

/* The guest ejects the box, as ACPI PCI hotplug lets it */
static void env_eject_box(Env *env)
{
    qpci_iounmap(env->box, env->bar);
    g_free(env->box);
    env->box = NULL;
    qpci_unplug_acpi_device_test(env->qs->qts, "box0",
                                 PCI_SLOT(BOX_DEVFN));
}

/* Shut QEMU down; the image stays */
static void env_quit(Env *env)
{
    if (env->box) {
        qpci_iounmap(env->box, env->bar);
        g_free(env->box);
    }
    qtest_shutdown(env->qs);
}

static void env_stop(Env *env)
{
    env_quit(env);
    unlink(env->img);
    g_free(env->img);
}

static uint32_t box_read(Env *env, uint32_t reg)
{
    return qpci_io_readl(env->box, env->bar, reg);
}

static void box_write(Env *env, uint32_t reg, uint32_t val)
{
    qpci_io_writel(env->box, env->bar, reg, val);
}

/* Program @slot through the box; returns the status */
static uint32_t box_program(Env *env, uint32_t slot, uint32_t alg,
                            uint32_t key_size, uint32_t dus,
                            const uint8_t *key, uint32_t key_len)
{
    box_write(env, ICE_KEYBOX_REG_SLOT, slot);
    box_write(env, ICE_KEYBOX_REG_ALG, alg);
    box_write(env, ICE_KEYBOX_REG_KEY_SIZE, key_size);
    box_write(env, ICE_KEYBOX_REG_DATA_UNIT_SIZE, dus);
    box_write(env, ICE_KEYBOX_REG_KEY_LEN, key_len);
    for (uint32_t i = 0; i < MIN(key_len, ICE_KEYBOX_KEY_MAX); i += 4) {
        box_write(env, ICE_KEYBOX_REG_KEY + i, ldl_le_p(key + i));
    }
    box_write(env, ICE_KEYBOX_REG_CMD, ICE_KEYBOX_CMD_PROGRAM);
    return box_read(env, ICE_KEYBOX_REG_STATUS);
}

/* Program @slot with the AES-256-XTS key @key (64 bytes) */
static uint32_t box_program_xts(Env *env, uint32_t slot, uint32_t dus,
                                const uint8_t *key)
{
    return box_program(env, slot, ICE_XTS, ICE_KEY_SIZE_256, dus, key, 64);
}

/* 64 bytes of key material of its own for each @seed; its halves differ */
static void make_key(uint8_t key[64], uint8_t seed)
{
    for (size_t i = 0; i < 64; i++) {
        key[i] = seed + i * 7;
    }
}

static uint32_t box_evict(Env *env, uint32_t slot)
{
    box_write(env, ICE_KEYBOX_REG_SLOT, slot);
    box_write(env, ICE_KEYBOX_REG_CMD, ICE_KEYBOX_CMD_EVICT);
    return box_read(env, ICE_KEYBOX_REG_STATUS);
}

/* query-ice: the programmed slots as "SLOT:SECRET" ("-" for none) */
static char *programmed_slots(Env *env)
{
    QDict *rsp = qtest_qmp(env->qs->qts, "{'execute': 'query-ice', "
                           "'arguments': {'id': 'drv0'}}");
    QDict *ret = qdict_get_qdict(rsp, "return");
    QListEntry *e;
    GString *s = g_string_new("");

    g_assert(ret);
    QLIST_FOREACH_ENTRY(qdict_get_qlist(ret, "slots"), e) {
        QDict *slot = qobject_to(QDict, qlist_entry_obj(e));

        g_string_append_printf(s, "%s%" PRId64 ":%s", s->len ? " " : "",
                               qdict_get_int(slot, "slot"),
                               qdict_haskey(slot, "key-secret") ?
                               qdict_get_str(slot, "key-secret") : "-");
    }
    qobject_unref(rsp);
    return g_string_free(s, false);
}

static void test_registers(void)
{
    Env env;

    env_start(&env);
    g_assert_cmphex(qpci_config_readw(env.box, PCI_VENDOR_ID), ==,
                    PCI_VENDOR_ID_REDHAT);
    g_assert_cmphex(qpci_config_readw(env.box, PCI_DEVICE_ID), ==,
                    PCI_DEVICE_ID_REDHAT_ICE_KEYBOX);
    g_assert_cmphex(box_read(&env, ICE_KEYBOX_REG_MAGIC), ==,
                    ICE_KEYBOX_MAGIC);
    g_assert_cmpuint(box_read(&env, ICE_KEYBOX_REG_VERSION), ==, 1);
    /* Bus 0, the disk's devfn: how the guest matches box and disk */
    g_assert_cmphex(box_read(&env, ICE_KEYBOX_REG_DISK), ==, DISK_DEVFN);
    g_assert_cmpuint(box_read(&env, ICE_KEYBOX_REG_SLOT_FIRST), ==,
                     SLOT_FIRST);
    g_assert_cmpuint(box_read(&env, ICE_KEYBOX_REG_SLOT_COUNT), ==,
                     SLOT_COUNT);
    env_stop(&env);
}

/*
 * The guest loads IEEE 1619 vector 10 (XTS-AES-256) into slot 3 and
 * writes its plaintext through that slot: the image holds the vector's
 * ciphertext, and the data reads back as plaintext.
 */
static void test_program_known_answer(void)
{
    const IceKat *t = ice_kat_find("xts-256/ieee1619-v10");
    g_autofree uint8_t *key = NULL, *ct = NULL;
    g_autofree char *slots = NULL;
    uint8_t pt[512], buf[512], img[512];
    size_t key_len, ct_len;
    Env env;
    IceReq r = {
        .type = VIRTIO_BLK_T_OUT, .sector = 8, .payload = true,
        .slot = 3, .activate = 1, .dun = t->dun, .data = buf,
        .len = sizeof(buf),
    };

    key = unhex(t->key, &key_len);
    ct = unhex(t->ct, &ct_len);
    ice_kat_plaintext(t, pt, sizeof(pt));
    env_start(&env);

    g_assert_cmpuint(box_program(&env, 3, t->alg, t->key_size, t->dus,
                                 key, key_len), ==, ICE_KEYBOX_STATUS_OK);
    /* The key register is write-only and was wiped */
    for (uint32_t i = 0; i < ICE_KEYBOX_KEY_MAX; i += 4) {
        g_assert_cmphex(box_read(&env, ICE_KEYBOX_REG_KEY + i), ==, 0);
    }
    slots = programmed_slots(&env);
    g_assert_cmpstr(slots, ==, "3:-");

    ice_pci_disk_start(&env.disk, env.qs, DISK_DEVFN, true);
    memcpy(buf, pt, sizeof(buf));
    g_assert_cmpuint(ice_req_do(env.qs->qts, env.disk.dev, &env.qs->alloc,
                                env.disk.vq, &r), ==, VIRTIO_BLK_S_OK);
    ice_image_read(env.img, 8 * 512, img, sizeof(img));
    g_assert(!memcmp(img, ct, ct_len));

    r.type = VIRTIO_BLK_T_IN;
    memset(buf, 0, sizeof(buf));
    g_assert_cmpuint(ice_req_do(env.qs->qts, env.disk.dev, &env.qs->alloc,
                                env.disk.vq, &r), ==, VIRTIO_BLK_S_OK);
    g_assert(!memcmp(buf, pt, sizeof(pt)));

    /* Evicted, the slot is empty and the disk refuses to use it */
    g_assert_cmpuint(box_evict(&env, 3), ==, ICE_KEYBOX_STATUS_OK);
    g_free(slots);
    slots = programmed_slots(&env);
    g_assert_cmpstr(slots, ==, "");
    g_assert_cmpuint(ice_req_do(env.qs->qts, env.disk.dev, &env.qs->alloc,
                                env.disk.vq, &r), ==, VIRTIO_BLK_S_IOERR);
    ice_pci_disk_stop(&env.disk, env.qs);
    env_stop(&env);
}

/* What the box refuses: each leaves the slot table as it was */
static void test_refused(void)
{
    uint8_t key[72], same[64];
    g_autofree char *slots = NULL;
    Env env;

    for (size_t i = 0; i < sizeof(key); i++) {
        key[i] = i * 7 + 1;
    }
    memset(same, 0x5a, sizeof(same));
    env_start(&env);

    /* Outside the disk's slots 2 to 5, on either side */
    g_assert_cmpuint(box_program(&env, SLOT_FIRST - 1, ICE_XTS,
                                 ICE_KEY_SIZE_256, 4096, key, 64), ==,
                     ICE_KEYBOX_STATUS_BAD_SLOT);
    g_assert_cmpuint(box_program(&env, SLOT_FIRST + SLOT_COUNT, ICE_XTS,
                                 ICE_KEY_SIZE_256, 4096, key, 64), ==,
                     ICE_KEYBOX_STATUS_BAD_SLOT);
    g_assert_cmpuint(box_program(&env, 0xffffffff, ICE_XTS,
                                 ICE_KEY_SIZE_256, 4096, key, 64), ==,
                     ICE_KEYBOX_STATUS_BAD_SLOT);
    g_assert_cmpuint(box_evict(&env, SLOT_FIRST + SLOT_COUNT), ==,
                     ICE_KEYBOX_STATUS_BAD_SLOT);
    /* Unknown algorithm, key size, data unit size */
    g_assert_cmpuint(box_program(&env, 2, 0xff, ICE_KEY_SIZE_256, 4096,
                                 key, 64), ==, ICE_KEYBOX_STATUS_BAD_CONFIG);
    g_assert_cmpuint(box_program(&env, 2, ICE_XTS, 0x77, 4096, key, 64), ==,
                     ICE_KEYBOX_STATUS_BAD_CONFIG);
    g_assert_cmpuint(box_program(&env, 2, ICE_XTS, ICE_KEY_SIZE_256, 1000,
                                 key, 64), ==, ICE_KEYBOX_STATUS_BAD_CONFIG);
    /* Key length not the configuration's, or beyond the register */
    g_assert_cmpuint(box_program(&env, 2, ICE_XTS, ICE_KEY_SIZE_256, 4096,
                                 key, 32), ==, ICE_KEYBOX_STATUS_BAD_CONFIG);
    g_assert_cmpuint(box_program(&env, 2, ICE_XTS, ICE_KEY_SIZE_256, 4096,
                                 key, 72), ==, ICE_KEYBOX_STATUS_BAD_CONFIG);
    /* XTS with equal halves */
    g_assert_cmpuint(box_program(&env, 2, ICE_XTS, ICE_KEY_SIZE_256, 4096,
                                 same, 64), ==, ICE_KEYBOX_STATUS_BAD_CONFIG);
    /* Unknown command */
    box_write(&env, ICE_KEYBOX_REG_CMD, 7);
    g_assert_cmpuint(box_read(&env, ICE_KEYBOX_REG_STATUS), ==,
                     ICE_KEYBOX_STATUS_BAD_CMD);
    /* Narrow accesses are not accepted */
    qpci_io_writeb(env.box, env.bar, ICE_KEYBOX_REG_SLOT, 9);
    g_assert_cmpuint(box_read(&env, ICE_KEYBOX_REG_SLOT), ==, 2);

    slots = programmed_slots(&env);
    g_assert_cmpstr(slots, ==, "");
    env_stop(&env);
}

/*
 * A reset takes the keys the guest loaded, like a controller's reset
 * would, and leaves those the host loaded from secrets
 */
static void test_reset(void)
{
    uint8_t key[64];
    g_autofree char *before = NULL, *after = NULL, *err = NULL;
    Env env;

    for (size_t i = 0; i < sizeof(key); i++) {
        key[i] = i;
    }
    env_start(&env);
    g_assert_cmpuint(box_program(&env, 2, ICE_XTS, ICE_KEY_SIZE_256, 4096,
                                 key, 64), ==, ICE_KEYBOX_STATUS_OK);
    g_assert_cmpuint(box_program(&env, 5, ICE_XTS, ICE_KEY_SIZE_256, 512,
                                 key, 64), ==, ICE_KEYBOX_STATUS_OK);
    ice_qmp_add_secret(env.qs->qts, "hostkey", key, 64);
    err = ice_qmp_program_slot(env.qs->qts, "drv0", 4, "aes-xts", 256, 4096,
                               "hostkey");
    g_assert_null(err);
    before = programmed_slots(&env);
    g_assert_cmpstr(before, ==, "2:- 4:hostkey 5:-");

    qtest_system_reset(env.qs->qts);
    after = programmed_slots(&env);
    g_assert_cmpstr(after, ==, "4:hostkey");
    env_stop(&env);
}

/*
 * A guest may neither replace nor evict a key the host loaded from a
 * secret; the host may replace the guest's
 */
static void test_host_slots(void)
{
    uint8_t key[64];
    g_autofree char *slots = NULL, *err = NULL;
    Env env;

    make_key(key, 0x01);
    env_start(&env);
    ice_qmp_add_secret(env.qs->qts, "hostkey", key, 64);
    err = ice_qmp_program_slot(env.qs->qts, "drv0", 4, "aes-xts", 256, 4096,
                               "hostkey");
    g_assert_null(err);
    g_assert_cmpuint(box_program_xts(&env, 4, 512, key), ==,
                     ICE_KEYBOX_STATUS_HOST_KEY);
    g_assert_cmpuint(box_evict(&env, 4), ==, ICE_KEYBOX_STATUS_HOST_KEY);
    slots = programmed_slots(&env);
    g_assert_cmpstr(slots, ==, "4:hostkey");

    g_assert_cmpuint(box_program_xts(&env, 2, 512, key), ==,
                     ICE_KEYBOX_STATUS_OK);
    err = ice_qmp_program_slot(env.qs->qts, "drv0", 2, "aes-xts", 256, 4096,
                               "hostkey");
    g_assert_null(err);
    g_free(slots);
    slots = programmed_slots(&env);
    g_assert_cmpstr(slots, ==, "2:hostkey 4:hostkey");
    env_stop(&env);
}

/* ---- the guest's keys and migration ---- */

#define BLOCKER_TEXT    "virtio-blk: disk 'drv0' holds inline crypto keys " \
                        "the guest loaded, which cannot be migrated"

/* Start a migration to nowhere; returns the error's description or NULL */
static char *migrate_start(QTestState *qts)
{
    return ice_qmp_error_of(qtest_qmp(qts, "{'execute': 'migrate', "
                                      "'arguments': {'uri': "
                                      "'exec:cat > /dev/null'}}"));
}

/* Wait until query-migrate's status is @want or the migration ended */
static char *migrate_wait(QTestState *qts, const char *want)
{
    for (;;) {
        QDict *rsp = qtest_qmp(qts, "{'execute': 'query-migrate'}");
        const char *st = qdict_get_try_str(qdict_get_qdict(rsp, "return"),
                                           "status");
        char *ret = g_strdup(st);

        qobject_unref(rsp);
        if (ret && (!strcmp(ret, want) || !strcmp(ret, "completed") ||
                    !strcmp(ret, "failed") || !strcmp(ret, "cancelled"))) {
            return ret;
        }
        g_free(ret);
        g_usleep(10 * 1000);
    }
}

/* Stop the VM and migrate it to @uri ("file:PATH"), until it completed */
static void migrate_stopped_to(Env *env, const char *uri)
{
    g_autofree char *err = NULL, *st = NULL;

    qtest_qmp_assert_success(env->qs->qts, "{'execute': 'stop'}");
    err = ice_qmp_error_of(qtest_qmp(env->qs->qts, "{'execute': 'migrate', "
                                     "'arguments': {'uri': %s}}", uri));
    g_assert_null(err);
    st = migrate_wait(env->qs->qts, "completed");
    g_assert_cmpstr(st, ==, "completed");
}

/*
 * Boot @dst on @src's image, the box too if @box, with @extra, and load
 * the migration @src made to @uri
 */
static void env_migrated_from(Env *dst, const Env *src, const char *uri,
                              bool box, const char *extra)
{
    g_autofree char *incoming = g_strdup_printf("%s -incoming defer", extra);
    g_autofree char *st = NULL;

    dst->img = src->img;
    env_boot(dst, "raw", box, incoming);
    qtest_qmp_assert_success(dst->qs->qts, "{'execute': 'migrate-incoming', "
                             "'arguments': {'uri': %s}}", uri);
    st = migrate_wait(dst->qs->qts, "completed");
    g_assert_cmpstr(st, ==, "completed");
}

/*
 * Migration and savevm are blocked exactly while the disk holds a key the
 * guest loaded, whoever evicts it
 */
static void test_blocker_follows_guest_keys(void)
{
    uint8_t key[64];
    g_autofree char *err = NULL, *st = NULL, *out = NULL;
    Env env;

    make_key(key, 0x00);
    env_start_with(&env, true, "");
    g_assert_cmpuint(box_program_xts(&env, 2, 4096, key), ==,
                     ICE_KEYBOX_STATUS_OK);
    g_assert_cmpuint(box_program_xts(&env, 3, 4096, key), ==,
                     ICE_KEYBOX_STATUS_OK);
    err = migrate_start(env.qs->qts);
    g_assert_nonnull(strstr(err, BLOCKER_TEXT));
    out = qtest_hmp(env.qs->qts, "savevm snap0");
    g_assert_nonnull(strstr(out, BLOCKER_TEXT));

    /* One key left, by the guest's evict: still blocked */
    g_assert_cmpuint(box_evict(&env, 2), ==, ICE_KEYBOX_STATUS_OK);
    g_free(err);
    err = migrate_start(env.qs->qts);
    g_assert_nonnull(strstr(err, BLOCKER_TEXT));

    /* The host evicts the last one: the VM migrates */
    qtest_qmp_assert_success(env.qs->qts, "{'execute': 'ice-evict-slot', "
                             "'arguments': {'id': 'drv0', 'slot': 3}}");
    g_free(err);
    err = migrate_start(env.qs->qts);
    g_assert_null(err);
    st = migrate_wait(env.qs->qts, "completed");
    g_assert_cmpstr(st, ==, "completed");
    env_stop(&env);
}

/*
 * While a migration runs a guest cannot load a key: the box answers
 * BLOCKED and the table stays empty; once it is cancelled, it can.
 */
static void test_program_during_migration(void)
{
    uint8_t key[64];
    g_autofree char *err = NULL, *st = NULL, *slots = NULL;
    Env env;

    make_key(key, 0x09);
    env_start(&env);
    /* 1 KiB/s: the migration stays active until cancelled */
    qtest_qmp_assert_success(env.qs->qts, "{'execute': "
                             "'migrate-set-parameters', 'arguments': "
                             "{'max-bandwidth': 1024}}");
    err = migrate_start(env.qs->qts);
    g_assert_null(err);
    st = migrate_wait(env.qs->qts, "active");
    g_assert_cmpstr(st, ==, "active");

    g_assert_cmpuint(box_program_xts(&env, 3, 4096, key), ==,
                     ICE_KEYBOX_STATUS_BLOCKED);
    slots = programmed_slots(&env);
    g_assert_cmpstr(slots, ==, "");
    /* The key register was wiped all the same */
    g_assert_cmphex(box_read(&env, ICE_KEYBOX_REG_KEY), ==, 0);

    qtest_qmp_assert_success(env.qs->qts, "{'execute': 'migrate_cancel'}");
    g_free(st);
    st = migrate_wait(env.qs->qts, "cancelled");
    g_assert_cmpstr(st, ==, "cancelled");
    g_assert_cmpuint(box_program_xts(&env, 3, 4096, key), ==,
                     ICE_KEYBOX_STATUS_OK);
    g_free(slots);
    slots = programmed_slots(&env);
    g_assert_cmpstr(slots, ==, "3:-");
    env_stop(&env);
}

/* Under -only-migratable the box exists but loads no guest key */
static void test_only_migratable(void)
{
    uint8_t key[64];
    g_autofree char *slots = NULL, *err = NULL;
    Env env;

    make_key(key, 0xa0);
    env_start_with(&env, false, "-only-migratable");
    g_assert_cmpuint(box_program_xts(&env, 3, 4096, key), ==,
                     ICE_KEYBOX_STATUS_BLOCKED);
    /* The host's keys have secrets: those it can load */
    ice_qmp_add_secret(env.qs->qts, "hostkey", key, 64);
    err = ice_qmp_program_slot(env.qs->qts, "drv0", 2, "aes-xts", 256, 4096,
                               "hostkey");
    g_assert_null(err);
    slots = programmed_slots(&env);
    g_assert_cmpstr(slots, ==, "2:hostkey");
    env_stop(&env);
}

/*
 * The guest ejects the box: the keys it loaded go with it, the host's
 * stay, and the VM migrates to a destination that loads the stream
 */
static void test_eject_then_migrate(void)
{
    const char *secret = "-object secret,id=hostkey,format=base64,"
                         "data=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"
                         "ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==";
    g_autofree char *stream = g_strdup_printf("%s/ice-eject-%d.bin",
                                              g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("file:%s", stream);
    g_autofree char *slots = NULL, *err = NULL;
    uint8_t key[64];
    QDict *rsp;
    Env env, dst;

    make_key(key, 0x02);
    env_start_with(&env, false, secret);
    err = ice_qmp_program_slot(env.qs->qts, "drv0", 4, "aes-xts", 256, 4096,
                               "hostkey");
    g_assert_null(err);
    g_assert_cmpuint(box_program_xts(&env, 3, 4096, key), ==,
                     ICE_KEYBOX_STATUS_OK);
    env_eject_box(&env);

    migrate_stopped_to(&env, uri);

    /* The destination has the disk, not the box the guest ejected */
    env_migrated_from(&dst, &env, uri, false, secret);
    rsp = qtest_qmp(dst.qs->qts, "{'execute': 'query-ice', "
                    "'arguments': {'id': 'drv0'}}");
    g_assert_cmpint(qlist_size(qdict_get_qlist(qdict_get_qdict(rsp, "return"),
                                               "slots")), ==, 1);
    qobject_unref(rsp);
    slots = programmed_slots(&env);
    g_assert_cmpstr(slots, ==, "4:hostkey");
    env_quit(&dst);
    unlink(stream);
    env_stop(&env);
}

/*
 * The same for savevm on a qcow2 disk: the snapshot is written and
 * loadvm loads it
 */
static void test_eject_then_savevm(void)
{
    g_autofree char *slots = NULL, *out = NULL;
    uint8_t key[64];
    Env env;

    make_key(key, 0x03);
    env_start_with(&env, true, "");
    g_assert_cmpuint(box_program_xts(&env, 5, 4096, key), ==,
                     ICE_KEYBOX_STATUS_OK);
    env_eject_box(&env);

    out = qtest_hmp(env.qs->qts, "savevm snap0");
    g_assert_cmpstr(out, ==, "");
    g_free(out);
    out = qtest_hmp(env.qs->qts, "loadvm snap0");
    g_assert_cmpstr(out, ==, "");
    slots = programmed_slots(&env);
    g_assert_cmpstr(slots, ==, "");
    env_stop(&env);
}

/*
 * A save that still meets a table it cannot write (here a secret id over
 * the stream's 255 bytes) fails; it never reports "completed"
 */
static void test_unsaveable_table_fails(void)
{
    g_autofree char *id = g_strnfill(300, 'k');
    g_autofree char *err = NULL, *st = NULL;
    Env env = { .img = ice_image_create(IMG_SIZE) };
    uint8_t key[64];
    QDict *rsp;

    make_key(key, 0x07);
    env_boot(&env, "raw", false, "");
    ice_qmp_add_secret(env.qs->qts, id, key, 64);
    err = ice_qmp_program_slot(env.qs->qts, "drv0", 2, "aes-xts", 256, 4096,
                               id);
    g_assert_null(err);
    err = migrate_start(env.qs->qts);
    g_assert_null(err);
    st = migrate_wait(env.qs->qts, "failed");
    g_assert_cmpstr(st, ==, "failed");
    rsp = qtest_qmp(env.qs->qts, "{'execute': 'query-migrate'}");
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(rsp, "return"),
                                          "error-desc"), "virtio-blk"));
    qobject_unref(rsp);
    env_stop(&env);
}

/*
 * With no guest key the VM migrates, box included: its BAR and argument
 * registers arrive, the key register does not, so a PROGRAM whose key
 * bytes were written before the migration fails rather than load a key
 * of zeros; the next full PROGRAM works
 */
static void test_box_migrates(void)
{
    g_autofree char *stream = g_strdup_printf("%s/ice-box-%d.bin",
                                              g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("file:%s", stream);
    g_autofree char *slots = NULL;
    uint32_t bar0;
    uint8_t key[64];
    Env env, dst;

    make_key(key, 0x11);
    env_start(&env);
    bar0 = qpci_config_readl(env.box, PCI_BASE_ADDRESS_0);
    box_write(&env, ICE_KEYBOX_REG_SLOT, 3);
    /* AES-256-ECB: 32 bytes of zeros would be a key it takes */
    box_write(&env, ICE_KEYBOX_REG_ALG, ICE_ECB);
    box_write(&env, ICE_KEYBOX_REG_KEY_SIZE, ICE_KEY_SIZE_256);
    box_write(&env, ICE_KEYBOX_REG_DATA_UNIT_SIZE, 4096);
    box_write(&env, ICE_KEYBOX_REG_KEY_LEN, 32);
    for (uint32_t i = 0; i < 32; i += 4) {
        box_write(&env, ICE_KEYBOX_REG_KEY + i, ldl_le_p(key + i));
    }
    migrate_stopped_to(&env, uri);

    env_migrated_from(&dst, &env, uri, true, "");
    dst.box = qpci_device_find(dst.qs->pcibus, BOX_DEVFN);
    g_assert_nonnull(dst.box);
    g_assert_cmphex(qpci_config_readl(dst.box, PCI_BASE_ADDRESS_0), ==,
                    bar0);
    env_map_box(&dst);
    g_assert_cmpuint(box_read(&dst, ICE_KEYBOX_REG_SLOT), ==, 3);
    g_assert_cmpuint(box_read(&dst, ICE_KEYBOX_REG_KEY_LEN), ==, 32);

    box_write(&dst, ICE_KEYBOX_REG_CMD, ICE_KEYBOX_CMD_PROGRAM);
    g_assert_cmpuint(box_read(&dst, ICE_KEYBOX_REG_STATUS), ==,
                     ICE_KEYBOX_STATUS_BAD_CONFIG);
    slots = programmed_slots(&dst);
    g_assert_cmpstr(slots, ==, "");
    g_assert_cmpuint(box_program(&dst, 3, ICE_ECB, ICE_KEY_SIZE_256, 4096,
                                 key, 32), ==, ICE_KEYBOX_STATUS_OK);
    g_free(slots);
    slots = programmed_slots(&dst);
    g_assert_cmpstr(slots, ==, "3:-");

    unlink(stream);
    env_quit(&dst);
    env_stop(&env);
}

/* ---- the box's disk ---- */

/*
 * The disk is unplugged and another plugged under the same id: the box
 * stays bound to the first one, answers "no disk", and the new disk's
 * keys are safe from it
 */
static void test_same_id_replug(void)
{
    uint8_t key[64];
    g_autofree char *slots = NULL, *err = NULL;
    Env env;

    make_key(key, 0x40);
    env_start(&env);
    g_assert_cmpuint(box_program_xts(&env, 2, 4096, key), ==,
                     ICE_KEYBOX_STATUS_OK);
    qpci_unplug_acpi_device_test(env.qs->qts, "drv0", PCI_SLOT(DISK_DEVFN));
    g_assert_cmphex(box_read(&env, ICE_KEYBOX_REG_DISK), ==, UINT32_MAX);
    g_assert_cmpuint(box_read(&env, ICE_KEYBOX_REG_SLOT_COUNT), ==, 0);
    g_assert_cmpuint(box_program_xts(&env, 2, 4096, key), ==,
                     ICE_KEYBOX_STATUS_NO_DISK);

    qtest_qmp_assert_success(env.qs->qts, "{'execute': 'device_add', "
                             "'arguments': {'driver': 'virtio-blk-pci', "
                             "'id': 'drv0', 'drive': 'drive0', "
                             "'addr': '04.0', 'ice': true, "
                             "'ice-slots': %d, 'ice-slot-offset': %d}}",
                             SLOT_COUNT, SLOT_FIRST);
    ice_qmp_add_secret(env.qs->qts, "hostkey", key, 64);
    err = ice_qmp_program_slot(env.qs->qts, "drv0", 3, "aes-xts", 256, 4096,
                               "hostkey");
    g_assert_null(err);

    g_assert_cmpuint(box_program_xts(&env, 2, 4096, key), ==,
                     ICE_KEYBOX_STATUS_NO_DISK);
    g_assert_cmpuint(box_evict(&env, 3), ==, ICE_KEYBOX_STATUS_NO_DISK);
    g_assert_cmphex(box_read(&env, ICE_KEYBOX_REG_DISK), ==, UINT32_MAX);
    slots = programmed_slots(&env);
    g_assert_cmpstr(slots, ==, "3:hostkey");
    env_stop(&env);
}

/* The box needs a disk, one that exists, on PCI, with ice=on */
static void test_realize_errors(void)
{
    static const struct {
        const char *disk;
        const char *error;
    } cases[] = {
        { NULL, "ice-keybox: property 'disk' is required" },
        { "nodisk", "ice-keybox: Device 'nodisk' not found" },
        { "plain", "ice-keybox: Device 'plain' does not have ice=on" },
    };
    QTestState *qts = qtest_init("-drive if=none,id=d1,file=null-co://,"
                                 "format=raw "
                                 "-device virtio-blk-pci,id=plain,drive=d1");

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        QDict *args = qdict_new();
        g_autofree char *desc = NULL;

        qdict_put_str(args, "driver", "ice-keybox");
        if (cases[i].disk) {
            qdict_put_str(args, "disk", cases[i].disk);
        }
        desc = ice_qmp_error_of(qtest_qmp(qts, "{'execute': 'device_add', "
                                          "'arguments': %p}", args));

        g_assert_cmpstr(desc, ==, cases[i].error);
    }
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!qtest_has_device("ice-keybox")) {
        g_test_skip("ice-keybox is not built");
        return g_test_run();
    }
    qtest_add_func("/ice-keybox/registers", test_registers);
    qtest_add_func("/ice-keybox/program-known-answer",
                   test_program_known_answer);
    qtest_add_func("/ice-keybox/refused", test_refused);
    qtest_add_func("/ice-keybox/reset", test_reset);
    qtest_add_func("/ice-keybox/host-slots", test_host_slots);
    qtest_add_func("/ice-keybox/lifetime/blocker-follows-guest-keys",
                   test_blocker_follows_guest_keys);
    qtest_add_func("/ice-keybox/lifetime/program-during-migration",
                   test_program_during_migration);
    qtest_add_func("/ice-keybox/lifetime/only-migratable",
                   test_only_migratable);
    qtest_add_func("/ice-keybox/lifetime/eject-then-migrate",
                   test_eject_then_migrate);
    qtest_add_func("/ice-keybox/lifetime/eject-then-savevm",
                   test_eject_then_savevm);
    qtest_add_func("/ice-keybox/lifetime/unsaveable-table-fails",
                   test_unsaveable_table_fails);
    qtest_add_func("/ice-keybox/lifetime/box-migrates",
                   test_box_migrates);
    qtest_add_func("/ice-keybox/lifetime/same-id-replug",
                   test_same_id_replug);
    qtest_add_func("/ice-keybox/realize-errors", test_realize_errors);
    return g_test_run();
}
