/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest: the life of a virtio-blk device with an inline crypto engine
 *
 * - migration: the slot table (never the key) migrates, the destination
 *   loads the key from its own secret of the same id and decrypts what
 *   the source wrote; without that secret it refuses the migration;
 * - key hygiene: a recognisable key appears in no QMP reply, HMP output,
 *   trace log, error message or migration stream;
 * - concurrency: four queues in two IOThreads under load while QMP
 *   reprograms and evicts a slot in a loop;
 * - reset and hot-unplug with encrypted requests in flight.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qstring.h"
#include "standard-headers/linux/virtio_blk.h"
#include "standard-headers/linux/virtio_ids.h"
#include "libqos/libqos-pc.h"
#include "libqos/virtio.h"
#include "libqos/virtio-pci.h"
#include "tests/ice-vectors.h"
#include "libqos/ice-host.h"
#include "libqos/virtio-blk-ice.h"

#define PCI_SLOT_HP     0x06

#define IMG_SIZE        (4 * 1024 * 1024)
#define DEVFN           QPCI_DEVFN(4, 0)
/* AES-256-XTS key material (64 bytes), base64 */
#define KEY_B64 "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY3ODkwQUJDREVGR0hJ" \
                "SktMTU5PUFFSU1RVVldYWVohQA=="

typedef struct Side {
    QOSState *qs;
    IcePciDisk d;
} Side;

static QOSState *boot(const char *img, const char *secret, const char *extra)
{
    return qtest_pc_boot("-drive if=none,id=drive0,file=%s,format=raw "
                         "-device virtio-blk-pci,id=drv0,drive=drive0,"
                         "addr=04.0,ice=on %s %s", img, secret, extra);
}

/* Reset the device, negotiate VIRTIO_BLK_F_ICE, set up queue 0 */
static void start_driver(Side *s)
{
    ice_pci_disk_start(&s->d, s->qs, DEVFN, true);
    g_assert_true(s->d.ice);
}

static void stop_driver(Side *s)
{
    ice_pci_disk_stop(&s->d, s->qs);
}

/* One request with the 32-byte header; returns the status byte */
static uint8_t crypto_rw(Side *s, uint32_t type, uint64_t sector,
                         uint8_t *buf, size_t len, uint8_t slot, uint64_t dun)
{
    IceReq r = {
        .type = type, .sector = sector, .payload = true, .slot = slot,
        .activate = 1, .dun = dun, .data = buf, .len = len,
    };

    return ice_req_do(s->qs->qts, s->d.dev, &s->qs->alloc, s->d.vq, &r);
}

static char *make_image(void)
{
    return ice_image_create(IMG_SIZE);
}

/* Program @slot of drv0 with AES-XTS, 4 KiB data units, @secret's key */
static void program_xts(QTestState *qts, unsigned slot, unsigned bits,
                        const char *secret)
{
    g_autofree char *err = ice_qmp_program_slot(qts, "drv0", slot, "aes-xts",
                                                bits, 4096, secret);

    g_assert_cmpstr(err, ==, NULL);
}

/* Slot 7: AES-256-XTS, the key of secret mk */
static void program_slot(QTestState *qts)
{
    program_xts(qts, 7, 256, "mk");
}

/* An image and a socket for one migration */
typedef struct MigPaths {
    char *img;
    char *sock;
    char *uri;          /* for 'migrate' */
    char *incoming;     /* for the destination's command line */
} MigPaths;

static void mig_paths_init(MigPaths *m)
{
    m->img = make_image();
    m->sock = g_strdup_printf("%s/ice-mig-%d.sock", g_get_tmp_dir(),
                              getpid());
    m->uri = g_strdup_printf("unix:%s", m->sock);
    m->incoming = g_strdup_printf("-incoming %s", m->uri);
}

static void mig_paths_cleanup(MigPaths *m)
{
    unlink(m->img);
    unlink(m->sock);
    g_free(m->img);
    g_free(m->sock);
    g_free(m->uri);
    g_free(m->incoming);
}

static void test_migrate_keys(void)
{
    const char *secret = "-object secret,id=mk,format=base64,data=" KEY_B64;
    MigPaths m;
    Side src, dst;
    uint8_t pt[8192], buf[8192], disk[8192];
    QDict *rsp;

    mig_paths_init(&m);
    src.qs = boot(m.img, secret, "");
    dst.qs = boot(m.img, secret, m.incoming);
    for (size_t i = 0; i < sizeof(pt); i++) {
        pt[i] = i * 31 + 5;
    }
    program_slot(src.qs->qts);
    start_driver(&src);
    memcpy(buf, pt, sizeof(buf));
    g_assert_cmpint(crypto_rw(&src, VIRTIO_BLK_T_OUT, 16, buf, sizeof(buf),
                              7, 77), ==, VIRTIO_BLK_S_OK);
    qtest_qmp_assert_success(src.qs->qts, "{'execute': 'stop'}");

    /* The image holds ciphertext */
    ice_image_read(m.img, 16 * 512, disk, sizeof(disk));
    g_assert(memcmp(disk, pt, sizeof(disk)));

    migrate(src.qs, dst.qs, m.uri);

    /* The destination knows the slot without having been told */
    rsp = qtest_qmp(dst.qs->qts, "{'execute': 'query-ice', 'arguments':"
                    " { 'id': 'drv0' } }");
    g_assert_cmpint(qlist_size(qdict_get_qlist(qdict_get_qdict(rsp, "return"),
                                               "slots")), ==, 1);
    qobject_unref(rsp);

    qtest_qmp_assert_success(dst.qs->qts, "{'execute': 'cont'}");
    start_driver(&dst);
    memset(buf, 0, sizeof(buf));
    g_assert_cmpint(crypto_rw(&dst, VIRTIO_BLK_T_IN, 16, buf, sizeof(buf),
                              7, 77), ==, VIRTIO_BLK_S_OK);
    g_assert(!memcmp(buf, pt, sizeof(buf)));

    stop_driver(&dst);
    qtest_shutdown(dst.qs);
    qtest_shutdown(src.qs);
    mig_paths_cleanup(&m);
}

static void test_migrate_missing_secret(void)
{
    MigPaths m;
    QOSState *src, *dst;
    QDict *rsp;

    mig_paths_init(&m);
    src = boot(m.img, "-object secret,id=mk,format=base64,data=" KEY_B64, "");
    dst = boot(m.img, "", m.incoming);

    program_slot(src->qts);
    qtest_set_expected_status(dst->qts, EXIT_FAILURE);
    qtest_qmp_assert_success(src->qts, "{'execute': 'stop'}");
    rsp = qtest_qmp(src->qts, "{ 'execute': 'migrate', 'arguments':"
                    " { 'uri': %s } }", m.uri);
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);

    /* The destination fails to load the slot table and exits */
    qtest_wait_qemu(dst->qts);
    g_free(dst);
    qtest_shutdown(src);
    mig_paths_cleanup(&m);
}

/* Stop the VM and migrate it to @uri ("file:PATH"), waiting until done */
static void migrate_to_file(QTestState *qts, const char *uri)
{
    QDict *rsp;

    qtest_qmp_assert_success(qts, "{'execute': 'stop'}");
    qtest_qmp_assert_success(qts, "{'execute': 'migrate',"
                             " 'arguments': { 'uri': %s } }", uri);
    for (;;) {
        const char *st;

        rsp = qtest_qmp(qts, "{'execute': 'query-migrate'}");
        st = qdict_get_try_str(qdict_get_qdict(rsp, "return"), "status");
        if (st && !strcmp(st, "completed")) {
            qobject_unref(rsp);
            break;
        }
        g_assert(!st || strcmp(st, "failed"));
        qobject_unref(rsp);
        g_usleep(10 * 1000);
    }
}

/*
 * What program_slot() leaves in the migration stream, as VMSTATE fields:
 * slot 7, algorithm 0 (AES-XTS), key size 3 (256 bits), data unit 4096,
 * the secret id's length (3, big-endian) and the id "mk" with its NUL.
 * The slot count, a big-endian int32, comes just before it.
 */
#define SLOT7_STATE             "\x07\x00\x03\x00\x00\x10\x00" \
                                "\x00\x00\x00\x03" "mk"
#define SLOT7_STATE_LEN         14
#define SLOT7_STATE_ID_LEN_AT   7

/*
 * A stream whose slot table is corrupt (@opaque: 0, a slot count larger
 * than the device's slots; 1, a secret id longer than the limit) fails the
 * migration and the destination exits with an error, never crashes or
 * allocates what the stream asks for.
 */
static void test_migrate_corrupt_table(const void *opaque)
{
    const char *secret = "-object secret,id=mk,format=base64,data=" KEY_B64;
    g_autofree char *img = make_image();
    g_autofree char *stream = g_strdup_printf("%s/ice-corrupt-%d.bin",
                                              g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("file:%s", stream);
    g_autofree char *contents = NULL;
    QOSState *qs;
    uint8_t *entry;
    gsize len;
    QDict *rsp;

    qs = boot(img, secret, "");
    program_slot(qs->qts);
    migrate_to_file(qs->qts, uri);
    qtest_shutdown(qs);

    g_assert_true(g_file_get_contents(stream, &contents, &len, NULL));
    entry = memmem(contents, len, SLOT7_STATE, SLOT7_STATE_LEN);
    g_assert_nonnull(entry);
    if (GPOINTER_TO_INT(opaque) == 0) {
        g_assert_cmpuint(ldl_be_p(entry - 4), ==, 1);
        stl_be_p(entry - 4, 200);                   /* the device has 32 */
    } else {
        stl_be_p(entry + SLOT7_STATE_ID_LEN_AT, 1 << 30);
    }
    g_assert_true(g_file_set_contents(stream, contents, len, NULL));

    qs = boot(img, secret, "-incoming defer");
    qtest_set_expected_status(qs->qts, EXIT_FAILURE);
    rsp = qtest_qmp(qs->qts, "{'execute': 'migrate-incoming',"
                    " 'arguments': { 'uri': %s } }", uri);
    qobject_unref(rsp);
    qtest_wait_qemu(qs->qts);
    g_free(qs);
    unlink(stream);
    unlink(img);
}

/* ---- key hygiene ---- */

/* Does @hay contain @needle, or any 8-byte run of it? */
static bool leaks(const uint8_t *hay, size_t len, const uint8_t *needle,
                  size_t nlen)
{
    for (size_t i = 0; i + 8 <= nlen; i++) {
        if (memmem(hay, len, needle + i, 8)) {
            return true;
        }
    }
    return false;
}

static void assert_no_key(const char *what, const void *hay, size_t len,
                          const uint8_t *key, size_t key_len)
{
    g_autofree char *hex = g_malloc(2 * key_len + 1);
    g_autofree char *b64 = g_base64_encode(key, key_len);

    for (size_t i = 0; i < key_len; i++) {
        sprintf(hex + 2 * i, "%02x", key[i]);
    }
    if (leaks(hay, len, key, key_len) ||
        leaks(hay, len, (uint8_t *)hex, strlen(hex)) ||
        leaks(hay, len, (uint8_t *)b64, strlen(b64))) {
        g_test_message("key material found in %s", what);
        g_test_fail();
    }
}

/* Send a QMP command; its reply, as JSON text, must not contain @key */
static char * G_GNUC_PRINTF(5, 6)
qmp_without_key(QTestState *qts, const char *what, const uint8_t *key,
                size_t key_len, const char *fmt, ...)
{
    va_list ap;
    QDict *rsp;
    char *reply;

    va_start(ap, fmt);
    rsp = qtest_vqmp(qts, fmt, ap);
    va_end(ap);
    reply = g_string_free(qobject_to_json(QOBJECT(rsp)), false);
    qobject_unref(rsp);
    assert_no_key(what, reply, strlen(reply), key, key_len);
    return reply;
}

static void test_key_hygiene(void)
{
    uint8_t key[64];
    g_autofree char *key_b64 = NULL, *secret = NULL, *trace_args = NULL;
    g_autofree char *img = make_image();
    g_autofree char *trace_log = g_strdup_printf("%s/ice-trace-%d.log",
                                                 g_get_tmp_dir(), getpid());
    g_autofree char *stream = g_strdup_printf("%s/ice-stream-%d.bin",
                                              g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("file:%s", stream);
    g_autofree char *contents = NULL, *reply = NULL;
    uint8_t buf[8192];
    gsize len;
    Side s;

    memcpy(key, "ICE-HYGIENE-K1!!ICE-HYGIENE-K1!!", 32);
    memcpy(key + 32, "ICE-HYGIENE-K2??ICE-HYGIENE-K2??", 32);
    key_b64 = g_base64_encode(key, sizeof(key));
    secret = g_strdup_printf("-object secret,id=mk,format=base64,data=%s "
                             "-object secret,id=short,format=base64,"
                             "data=%.24s", key_b64, key_b64);
    trace_args = g_strdup_printf("-trace enable=ice_* "
                                 "-trace enable=virtio_blk_ice_* -D %s",
                                 trace_log);
    s.qs = boot(img, secret, trace_args);

    program_slot(s.qs->qts);
    start_driver(&s);
    memset(buf, 0x42, sizeof(buf));
    g_assert_cmpint(crypto_rw(&s, VIRTIO_BLK_T_OUT, 16, buf, sizeof(buf), 7,
                              77), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpint(crypto_rw(&s, VIRTIO_BLK_T_IN, 16, buf, sizeof(buf), 7,
                              77), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpint(crypto_rw(&s, VIRTIO_BLK_T_IN, 16, buf, sizeof(buf), 8,
                              77), ==, VIRTIO_BLK_S_IOERR);

    /* QMP and HMP replies, and error messages */
    g_free(qmp_without_key(s.qs->qts, "query-ice", key, sizeof(key),
                           "{'execute': 'query-ice', 'arguments':"
                           " { 'id': 'drv0' } }"));
    g_free(qmp_without_key(s.qs->qts, "info ice", key, sizeof(key),
                           "{'execute': 'human-monitor-command',"
                           " 'arguments': { 'command-line': 'info ice drv0'"
                           " } }"));
    reply = qmp_without_key(s.qs->qts, "an error message", key, sizeof(key),
                            "{'execute': 'ice-program-slot',"
                            " 'arguments': { 'id': 'drv0', 'slot': 3,"
                            " 'algorithm': 'aes-xts', 'key-size': 256,"
                            " 'data-unit-size': 4096, 'key-secret': 'short'"
                            " } }");
    g_assert_nonnull(strstr(reply, "key 'short' is 18 bytes long"));

    /* The migration stream */
    migrate_to_file(s.qs->qts, uri);
    g_assert_true(g_file_get_contents(stream, &contents, &len, NULL));
    g_assert_nonnull(memmem(contents, len, SLOT7_STATE, SLOT7_STATE_LEN));
    assert_no_key("the migration stream", contents, len, key, sizeof(key));
    g_free(contents);

    qtest_shutdown(s.qs);

    /* The trace log, complete once QEMU exited */
    g_assert_true(g_file_get_contents(trace_log, &contents, &len, NULL));
    g_assert_nonnull(strstr(contents, "virtio_blk_ice_rw"));
    g_assert_nonnull(strstr(contents, "ice_engine_program_slot"));
    assert_no_key("the trace log", contents, len, key, sizeof(key));

    unlink(img);
    unlink(stream);
    unlink(trace_log);
}

/* ---- concurrency and lifecycle ---- */

#define CHURN_QUEUES    4
#define CHURN_ROUNDS    40

/*
 * Wait until every request r[i] (on queue i % CHURN_QUEUES) was used.
 * With several queues the shared ISR bit cannot tell which queue has
 * news, so poll every used ring.
 */
static void wait_all(QTestState *qts, QVirtioDevice *dev, QVirtQueue **vq,
                     IceReq *r, int n)
{
    gint64 start = g_get_monotonic_time();
    int done = 0;

    while (done < n) {
        dev->bus->get_queue_isr_status(dev, vq[0]);
        for (int q = 0; q < CHURN_QUEUES; q++) {
            uint32_t head;

            while (qvirtqueue_get_buf(qts, vq[q], &head, NULL)) {
                int i;

                for (i = q; i < n && r[i].head != head; i += CHURN_QUEUES) {
                    continue;
                }
                g_assert_cmpint(i, <, n);
                done++;
            }
        }
        g_assert(g_get_monotonic_time() - start <= ICE_REQ_TIMEOUT_US);
    }
}

/* Program slot 9 with one of two keys, or evict it */
static void churn_slot9(QTestState *qts, int step)
{
    if (step % 3 == 2) {
        qtest_qmp_assert_success(qts, "{'execute': 'ice-evict-slot',"
                                 " 'arguments': {'id': 'drv0', 'slot': 9}}");
        return;
    }
    program_xts(qts, 9, 128, step % 3 ? "k9b" : "k9a");
}

/*
 * Four queues served by two IOThreads.  Each round puts crypto requests
 * on every queue, half through slot 7 (stable key, data checked), half
 * through slot 9, which QMP reprograms with one of two keys or evicts
 * between the submissions.  Slot 7's data must always be right; slot 9's
 * requests must complete with OK or IOERR; QEMU must survive.
 */
static void test_churn(void)
{
    g_autofree char *img = make_image();
    const char *extra =
        "-object iothread,id=io0 -object iothread,id=io1 "
        "-object secret,id=k9a,format=base64,"
        "data=QUFBQUFBQUFBQUFBQUFBQUJCQkJCQkJCQkJCQkJCQkI= "
        "-object secret,id=k9b,format=base64,"
        "data=Q0NDQ0NDQ0NDQ0NDQ0NDQ0REREREREREREREREREREQ= "
        "-drive if=none,id=drive1,file=null-co://,format=raw";
    g_autofree char *cmd = g_strdup_printf(
        "-drive if=none,id=drive0,file=%s,format=raw,aio=threads "
        "-device '{\"driver\": \"virtio-blk-pci\", \"id\": \"drv0\", "
        "\"drive\": \"drive0\", \"addr\": \"04.0\", \"ice\": true, "
        "\"num-queues\": %d, \"iothread-vq-mapping\": "
        "[{\"iothread\": \"io0\"}, {\"iothread\": \"io1\"}]}' "
        "-object secret,id=mk,format=base64,data=" KEY_B64 " %s",
        img, CHURN_QUEUES, extra);
    QOSState *qs = qtest_pc_boot("%s", cmd);
    QVirtioPCIDevice dev = { 0 };
    QVirtQueue *vq[CHURN_QUEUES];
    unsigned ok9 = 0, err9 = 0;
    uint64_t features;

    program_slot(qs->qts);
    virtio_pci_init(&dev, qs->pcibus, &(QPCIAddress) { .devfn = DEVFN });
    qvirtio_pci_device_enable(&dev);
    qvirtio_start_device(&dev.vdev);
    features = qvirtio_get_features(&dev.vdev);
    features &= ~(QVIRTIO_F_BAD_FEATURE |
                  (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
                  (1ull << VIRTIO_RING_F_EVENT_IDX) |
                  (1ull << VIRTIO_BLK_F_SCSI));
    qvirtio_set_features(&dev.vdev, features);
    for (int q = 0; q < CHURN_QUEUES; q++) {
        vq[q] = qvirtqueue_setup(&dev.vdev, &qs->alloc, q);
    }
    qvirtio_set_driver_ok(&dev.vdev);

    for (int round = 0; round < CHURN_ROUNDS; round++) {
        IceReq r[2 * CHURN_QUEUES];
        uint8_t data[2 * CHURN_QUEUES][8192];
        bool is_write = round % 2 == 0;

        for (int i = 0; i < 2 * CHURN_QUEUES; i++) {
            int q = i % CHURN_QUEUES;
            bool stable = i < CHURN_QUEUES;

            memset(data[i], is_write ? 0x30 + i : 0, sizeof(data[i]));
            r[i] = (IceReq) {
                .type = is_write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
                .sector = (uint64_t)i * 16, .payload = true,
                .slot = stable ? 7 : 9, .activate = 1, .dun = 1000 + i,
                .data = data[i], .len = sizeof(data[i]),
            };
            ice_req_submit(qs->qts, &dev.vdev, &qs->alloc, vq[q], &r[i]);
            if (i % 2) {
                churn_slot9(qs->qts, round + i);
            }
        }
        wait_all(qs->qts, &dev.vdev, vq, r, 2 * CHURN_QUEUES);
        for (int i = 0; i < 2 * CHURN_QUEUES; i++) {
            uint8_t st = ice_req_finish(qs->qts, &qs->alloc, &r[i]);

            if (i < CHURN_QUEUES) {
                g_assert_cmpint(st, ==, VIRTIO_BLK_S_OK);
                if (!is_write) {
                    for (size_t j = 0; j < sizeof(data[i]); j++) {
                        g_assert_cmphex(data[i][j], ==, 0x30 + i);
                    }
                }
            } else {
                g_assert_true(st == VIRTIO_BLK_S_OK ||
                              st == VIRTIO_BLK_S_IOERR);
                ok9 += st == VIRTIO_BLK_S_OK;
                err9 += st == VIRTIO_BLK_S_IOERR;
            }
        }
    }
    g_test_message("churned slot 9: %u requests OK, %u IOERR", ok9, err9);
    qtest_shutdown(qs);
    unlink(img);
}

/*
 * Put a write and a read of three chunks (2 MiB + 64 KiB) through slot 7
 * in flight, at 1 MiB on the disk; they are never finished
 */
static void submit_multichunk_pair(Side *s)
{
    const size_t len = 2112 * 1024;
    g_autofree uint8_t *buf = g_malloc0(len);

    for (int i = 0; i < 2; i++) {
        IceReq r = { .type = i ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT,
                     .sector = 2048, .payload = true, .slot = 7,
                     .activate = 1, .dun = 100, .data = buf, .len = len };

        ice_req_submit(s->qs->qts, s->d.dev, &s->qs->alloc, s->d.vq, &r);
    }
}

/* Reset the device with crypto requests in flight; keys survive */
static void test_reset_in_flight(void)
{
    g_autofree char *img = make_image();
    Side s = { .qs = boot(img, "-object secret,id=mk,format=base64,data="
                          KEY_B64, "") };
    uint8_t data[8][4096], buf[4096];
    IceReq r[8];

    program_slot(s.qs->qts);
    start_driver(&s);
    memset(buf, 0x5c, sizeof(buf));
    g_assert_cmpint(crypto_rw(&s, VIRTIO_BLK_T_OUT, 0, buf, sizeof(buf), 7,
                              3), ==, VIRTIO_BLK_S_OK);
    for (int i = 0; i < 8; i++) {
        memset(data[i], i, sizeof(data[i]));
        r[i] = (IceReq) { .type = i % 2 ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT,
                          .sector = 64 + 8 * i, .payload = true, .slot = 7,
                          .activate = 1, .dun = i, .data = data[i],
                          .len = sizeof(data[i]) };
        ice_req_submit(s.qs->qts, s.d.dev, &s.qs->alloc, s.d.vq, &r[i]);
    }
    submit_multichunk_pair(&s);
    qvirtio_reset(s.d.dev);

    /* Start again: the key is still there and decrypts the first write */
    start_driver(&s);
    memset(buf, 0, sizeof(buf));
    g_assert_cmpint(crypto_rw(&s, VIRTIO_BLK_T_IN, 0, buf, sizeof(buf), 7,
                              3), ==, VIRTIO_BLK_S_OK);
    for (size_t i = 0; i < sizeof(buf); i++) {
        g_assert_cmphex(buf[i], ==, 0x5c);
    }
    stop_driver(&s);
    qtest_shutdown(s.qs);
    unlink(img);
}

/*
 * Hot-plug virtio-blk-pci "drv1" on drive1, slot 7 preloaded with secret
 * mk, and start its driver
 */
static void hotplug_drv1(Side *s)
{
    qtest_qmp_device_add(s->qs->qts, "virtio-blk-pci", "drv1",
                         "{'addr': %s, 'drive': 'drive1', 'ice': true,"
                         " 'ice-preload': '7:aes-xts:256:4096:mk'}",
                         stringify(PCI_SLOT_HP) ".0");
    ice_pci_disk_start(&s->d, s->qs, QPCI_DEVFN(PCI_SLOT_HP, 0), true);
}

/* Hot-unplug a device with crypto requests in flight */
static void test_unplug_in_flight(void)
{
    g_autofree char *img = make_image();
    g_autofree char *img2 = make_image();
    g_autofree char *extra = g_strdup_printf(
        "-object secret,id=mk,format=base64,data=" KEY_B64 " "
        "-drive if=none,id=drive1,file=%s,format=raw", img2);
    QOSState *qs = boot(img, "", extra);
    Side s = { .qs = qs };
    uint8_t data[8][4096];
    IceReq r[8];
    QDict *rsp;

    hotplug_drv1(&s);
    for (int i = 0; i < 8; i++) {
        memset(data[i], i, sizeof(data[i]));
        r[i] = (IceReq) { .type = i % 2 ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT,
                          .sector = 8 * i, .payload = true, .slot = 7,
                          .activate = 1, .dun = i, .data = data[i],
                          .len = sizeof(data[i]) };
        ice_req_submit(qs->qts, s.d.dev, &qs->alloc, s.d.vq, &r[i]);
    }
    submit_multichunk_pair(&s);
    qpci_unplug_acpi_device_test(qs->qts, "drv1", PCI_SLOT_HP);

    rsp = qtest_qmp(qs->qts, "{'execute': 'query-ice', 'arguments':"
                    " { 'id': 'drv1' } }");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"), ==,
                    "Device or block export 'drv1' not found");
    qobject_unref(rsp);
    qtest_shutdown(qs);
    unlink(img);
    unlink(img2);
}

/* ---- requests parked by werror/rerror=stop ---- */

/* Second AES-256-XTS key, for reprogramming slot 7 */
#define KEY2_B64 "MDEyMzQ1Njc4OUFCQ0RFRmZlZGNiYTk4NzY1NDMyMTBa" \
                 "WVhXVlVUU1JRUE9OTUxLSklIR0ZFRENCQTk4NzY1NA=="

/*
 * A blkdebug image whose first write (or read) touching @sector fails
 * with EIO; -drive options for it in @drive
 */
static char *make_failing_image(bool is_write, unsigned sector,
                                char **rules_path, char **drive)
{
    const char *io = is_write ? "write" : "read";
    g_autofree char *rules = g_strdup_printf(
        "[inject-error]\nevent = \"%s_aio\"\niotype = \"%s\"\n"
        "errno = \"5\"\nsector = \"%u\"\nonce = \"on\"\n",
        io, io, sector);
    char *img = make_image();
    int fd = g_file_open_tmp("ice-blkdebug.XXXXXX", rules_path, NULL);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, rules, strlen(rules)), ==, strlen(rules));
    close(fd);
    *drive = g_strdup_printf("blkdebug:%s:%s,werror=stop,rerror=stop",
                             *rules_path, img);
    return img;
}

static bool vm_paused_on_error(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-status'}");
    bool paused = !strcmp(qdict_get_str(qdict_get_qdict(rsp, "return"),
                                        "status"), "io-error");

    qobject_unref(rsp);
    return paused;
}

static void wait_paused_on_error(QTestState *qts)
{
    gint64 start = g_get_monotonic_time();

    while (!vm_paused_on_error(qts)) {
        g_assert(g_get_monotonic_time() - start <= ICE_REQ_TIMEOUT_US);
        g_usleep(1000);
    }
}

static void reprogram_slot7_with_key2(QTestState *qts)
{
    program_xts(qts, 7, 256, "mk2");
}

/*
 * Send a crypto request through slot 7 that fails once: wait until the
 * VM stopped on the error, call @while_stopped (if not NULL), resume,
 * and check that the request then completes with OK
 */
static void run_through_stop(Side *s, bool is_write, uint64_t sector,
                             uint8_t *buf, size_t len, uint64_t dun,
                             void (*while_stopped)(QTestState *qts))
{
    IceReq r = { .type = is_write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
                 .sector = sector, .payload = true, .slot = 7,
                 .activate = 1, .dun = dun, .data = buf, .len = len };

    ice_req_submit(s->qs->qts, s->d.dev, &s->qs->alloc, s->d.vq, &r);
    wait_paused_on_error(s->qs->qts);
    if (while_stopped) {
        while_stopped(s->qs->qts);
    }
    qtest_qmp_assert_success(s->qs->qts, "{'execute': 'cont'}");
    qvirtio_wait_used_elem(s->qs->qts, s->d.dev, s->d.vq, r.head, NULL,
                           ICE_REQ_TIMEOUT_US);
    g_assert_cmpint(ice_req_finish(s->qs->qts, &s->qs->alloc, &r), ==,
                    VIRTIO_BLK_S_OK);
}

/*
 * A request accepted with the key in slot 7 fails, and werror/rerror=stop
 * parks it; while the VM is stopped the host puts another key in slot 7.
 * On 'cont' the request must complete with the key it was accepted with
 * (device page, section 4), never with the new one.  Slot 8 keeps the
 * first key to tell which key the disk's data was made with.
 */
static void test_restart_keeps_key(const void *opaque)
{
    bool is_write = GPOINTER_TO_INT(opaque);
    g_autofree char *rules = NULL, *drive = NULL;
    g_autofree char *img = make_failing_image(is_write, 64, &rules,
                                                  &drive);
    Side s = { .qs = boot(drive, "-object secret,id=mk,format=base64,data="
                          KEY_B64 " -object secret,id=mk2,format=base64,"
                          "data=" KEY2_B64, "") };
    uint8_t pt[4096], buf[4096];

    program_slot(s.qs->qts);
    program_xts(s.qs->qts, 8, 256, "mk");
    start_driver(&s);
    for (size_t i = 0; i < sizeof(pt); i++) {
        pt[i] = i * 7 + 1;
    }
    if (!is_write) {
        memcpy(buf, pt, sizeof(buf));
        g_assert_cmpint(crypto_rw(&s, VIRTIO_BLK_T_OUT, 64, buf, sizeof(buf),
                                  8, 40), ==, VIRTIO_BLK_S_OK);
    }

    if (is_write) {
        memcpy(buf, pt, sizeof(buf));
    } else {
        memset(buf, 0, sizeof(buf));
    }
    run_through_stop(&s, is_write, 64, buf, sizeof(buf), 40,
                     reprogram_slot7_with_key2);

    if (is_write) {
        /* The disk holds what the first key made of pt */
        memset(buf, 0, sizeof(buf));
        g_assert_cmpint(crypto_rw(&s, VIRTIO_BLK_T_IN, 64, buf, sizeof(buf),
                                  8, 40), ==, VIRTIO_BLK_S_OK);
    }
    g_assert(!memcmp(buf, pt, sizeof(buf)));
    g_assert_false(vm_paused_on_error(s.qs->qts));

    stop_driver(&s);
    qtest_shutdown(s.qs);
    unlink(img);
    unlink(rules);
}

/*
 * A request of three chunks (2 MiB + 64 KiB) whose second chunk fails
 * once, with werror/rerror=stop: on 'cont' the whole request runs again
 * from guest memory, so the first chunk is neither encrypted twice on the
 * disk nor decrypted twice in the guest.
 */
static void test_restart_multichunk(const void *opaque)
{
    bool is_write = GPOINTER_TO_INT(opaque);
    const size_t len = 2112 * 1024;
    g_autofree char *rules = NULL, *drive = NULL;
    /* Sector 2112 is 1 MiB + 32 KiB into the request: the second chunk */
    g_autofree char *img = make_failing_image(is_write, 2112, &rules,
                                              &drive);
    Side s = { .qs = boot(drive, "-object secret,id=mk,format=base64,data="
                          KEY_B64, "") };
    g_autofree uint8_t *pt = g_malloc(len);
    g_autofree uint8_t *buf = g_malloc(len);
    g_autofree uint8_t *disk = g_malloc(len);

    program_slot(s.qs->qts);
    start_driver(&s);
    for (size_t i = 0; i < len; i++) {
        pt[i] = (i * 2654435761u) >> 24;
    }
    if (!is_write) {
        memcpy(buf, pt, len);
        g_assert_cmpint(crypto_rw(&s, VIRTIO_BLK_T_OUT, 0, buf, len, 7, 9),
                        ==, VIRTIO_BLK_S_OK);
    }

    if (is_write) {
        memcpy(buf, pt, len);
    } else {
        memset(buf, 0, len);
    }
    run_through_stop(&s, is_write, 0, buf, len, 9, NULL);

    if (is_write) {
        memset(buf, 0, len);
        g_assert_cmpint(crypto_rw(&s, VIRTIO_BLK_T_IN, 0, buf, len, 7, 9),
                        ==, VIRTIO_BLK_S_OK);
    }
    g_assert(!memcmp(buf, pt, len));
    ice_image_read(img, 0, disk, len);
    g_assert(memcmp(disk, pt, len));

    stop_driver(&s);
    qtest_shutdown(s.qs);
    unlink(img);
    unlink(rules);
}

static int count_lines_with(const char *path, const char *what)
{
    g_autofree char *contents = NULL;
    g_auto(GStrv) lines = NULL;
    int n = 0;

    g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
    lines = g_strsplit(contents, "\n", -1);
    for (char **l = lines; *l; l++) {
        n += strstr(*l, what) != NULL;
    }
    return n;
}

/*
 * A request parked by werror=stop holds its key.  When the host evicts
 * the slot and unplugs the device while the VM is still stopped, the key
 * must be wiped all the same (the ice_key_wiped trace event, emitted
 * after the wipe, is the witness).
 */
static void test_unplug_parked(void)
{
    g_autofree char *rules = NULL, *drive = NULL;
    g_autofree char *img = make_failing_image(true, 64, &rules, &drive);
    g_autofree char *img0 = make_image();
    g_autofree char *log = g_strdup_printf("%s/ice-parked-%d.log",
                                           g_get_tmp_dir(), getpid());
    g_autofree char *extra = g_strdup_printf(
        "-object secret,id=mk,format=base64,data=" KEY_B64 " "
        "-drive if=none,id=drive1,file=%s,format=raw "
        "-trace enable=ice_key_wiped -D %s", drive, log);
    QOSState *qs = boot(img0, "", extra);
    Side s = { .qs = qs };
    uint8_t buf[4096];
    IceReq r;

    hotplug_drv1(&s);

    memset(buf, 0x42, sizeof(buf));
    r = (IceReq) { .type = VIRTIO_BLK_T_OUT, .sector = 64, .payload = true,
                   .slot = 7, .activate = 1, .dun = 1, .data = buf,
                   .len = sizeof(buf) };
    ice_req_submit(qs->qts, s.d.dev, &qs->alloc, s.d.vq, &r);
    wait_paused_on_error(qs->qts);
    qtest_qmp_assert_success(qs->qts, "{'execute': 'ice-evict-slot',"
                             " 'arguments': {'id': 'drv1', 'slot': 7}}");
    qpci_unplug_acpi_device_test(qs->qts, "drv1", PCI_SLOT_HP);
    qtest_shutdown(qs);

    g_assert_cmpint(count_lines_with(log, "ice_key_wiped"), ==, 1);
    unlink(log);
    unlink(img);
    unlink(img0);
    unlink(rules);
}

/* ---- block layer flags ---- */

/*
 * Encrypted writes go to the disk from host bounce memory, which is not
 * registered with the block layer (blk_register_buf()): they must not
 * carry BDRV_REQ_REGISTERED_BUF, or a libblkio backend would skip its
 * own bounce buffer and hand unregistered memory to its driver.  Plain
 * writes from guest RAM carry it, which shows the test can see it.
 */
static void test_write_flags(void)
{
    g_autofree char *img = make_image();
    g_autofree char *log = g_strdup_printf("%s/ice-flags-%d.log",
                                           g_get_tmp_dir(), getpid());
    g_autofree char *extra = g_strdup_printf("-trace enable=blk_co_pwritev "
                                             "-D %s", log);
    Side s = { .qs = boot(img, "-object secret,id=mk,format=base64,data="
                          KEY_B64, extra) };
    g_autofree char *contents = NULL;
    g_auto(GStrv) lines = NULL;
    uint8_t buf[4096];
    int plain = 0, crypto = 0;
    IceReq r;

    program_slot(s.qs->qts);
    start_driver(&s);
    memset(buf, 0x11, sizeof(buf));
    r = (IceReq) { .type = VIRTIO_BLK_T_OUT, .sector = 2048, .payload = true,
                   .activate = 0, .data = buf, .len = sizeof(buf) };
    g_assert_cmpint(ice_req_do(s.qs->qts, s.d.dev, &s.qs->alloc, s.d.vq,
                               &r), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpint(crypto_rw(&s, VIRTIO_BLK_T_OUT, 4096, buf, sizeof(buf),
                              7, 1), ==, VIRTIO_BLK_S_OK);
    stop_driver(&s);
    qtest_shutdown(s.qs);

    g_assert_true(g_file_get_contents(log, &contents, NULL, NULL));
    lines = g_strsplit(contents, "\n", -1);
    for (char **l = lines; *l; l++) {
        const char *f = strstr(*l, " flags 0x");
        unsigned long flags;

        if (!strstr(*l, "blk_co_pwritev") || !f) {
            continue;
        }
        g_assert_cmpint(qemu_strtoul(f + strlen(" flags "), NULL, 16,
                                     &flags), ==, 0);
        if (strstr(*l, " offset 1048576 ")) {
            g_assert_cmphex(flags & 0x8, ==, 0x8);   /* REGISTERED_BUF */
            plain++;
        } else if (strstr(*l, " offset 2097152 ")) {
            g_assert_cmphex(flags & 0x8, ==, 0);
            crypto++;
        }
    }
    g_assert_cmpint(plain, ==, 1);
    g_assert_cmpint(crypto, ==, 1);
    unlink(log);
    unlink(img);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/virtio-blk-ice/migration/keys-follow",
                   test_migrate_keys);
    qtest_add_func("/virtio-blk-ice/migration/missing-secret-fails",
                   test_migrate_missing_secret);
    qtest_add_data_func("/virtio-blk-ice/migration/corrupt-slot-count-fails",
                        GINT_TO_POINTER(0), test_migrate_corrupt_table);
    qtest_add_data_func("/virtio-blk-ice/migration/corrupt-secret-id-fails",
                        GINT_TO_POINTER(1), test_migrate_corrupt_table);
    qtest_add_func("/virtio-blk-ice/hygiene/no-key-in-any-output",
                   test_key_hygiene);
    qtest_add_func("/virtio-blk-ice/concurrency/iothreads-and-qmp-churn",
                   test_churn);
    qtest_add_func("/virtio-blk-ice/lifecycle/reset-in-flight",
                   test_reset_in_flight);
    qtest_add_func("/virtio-blk-ice/lifecycle/unplug-in-flight",
                   test_unplug_in_flight);
    qtest_add_data_func("/virtio-blk-ice/lifecycle/werror-restart-keeps-key",
                        GINT_TO_POINTER(true), test_restart_keeps_key);
    qtest_add_data_func("/virtio-blk-ice/lifecycle/rerror-restart-keeps-key",
                        GINT_TO_POINTER(false), test_restart_keeps_key);
    qtest_add_data_func("/virtio-blk-ice/lifecycle/werror-restart-multichunk",
                        GINT_TO_POINTER(true), test_restart_multichunk);
    qtest_add_data_func("/virtio-blk-ice/lifecycle/rerror-restart-multichunk",
                        GINT_TO_POINTER(false), test_restart_multichunk);
    qtest_add_func("/virtio-blk-ice/lifecycle/unplug-parked-wipes-key",
                   test_unplug_parked);
    qtest_add_func("/virtio-blk-ice/block-layer/no-registered-buf-on-bounce",
                   test_write_flags);
    return g_test_run();
}
