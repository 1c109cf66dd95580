/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest: a hostile guest cannot make the inline crypto data path of
 * virtio-blk exhaust host memory or stall QEMU's main loop
 *
 * The guest fills a 1024-entry queue with maximum-size encrypted writes
 * and reads whose data descriptors all point at the same 4 MiB of guest
 * RAM (legal for virtio-blk: 128 MiB requests from 4 MiB of memory),
 * while a throttled backend holds them.  Then the throttle is lifted and
 * everything completes, the writes waiting for bounce memory (the
 * ice_bounce_wait trace event says they did).  Throughout, QEMU's peak
 * RSS may grow by no more than the device's bounce limit plus a small
 * slack, and QMP must answer query-status within 100 ms (one answer of
 * the run may take up to 1 s: these machines are shared, and a stalled
 * main loop would be slow on every request, not once).  Every
 * request completes with OK and the disk holds exactly the AES-256-XTS
 * ciphertext of the data, computed here with libgcrypt unit by unit.
 */

#include "qemu/osdep.h"
#include <gcrypt.h>
#include "libqtest.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qobject/qdict.h"
#include "standard-headers/linux/virtio_blk.h"
#include "libqos/libqos-pc.h"
#include "libqos/virtio.h"
#include "libqos/virtio-pci.h"
#include "libqos/ice-host.h"
#include "libqos/virtio-blk-ice.h"

#define DEVFN           QPCI_DEVFN(4, 0)
#define QUEUE_SIZE      1024
#define ALIAS_LEN       (4 * 1024 * 1024)   /* guest RAM behind every desc */
#define DESCS_MAX       32                  /* data descriptors a request */
#define WRITES          8                   /* i % 3 != 2 of 12 */
#define READS           4
#define DUS             4096
#define DUN             1000
#define SLOT            3
#define BOUNCE_LIMIT    (2 * 1024 * 1024)   /* ice-bounce-limit */
#define RSS_SLACK_MIB   32                  /* threads, stacks, heap */
#define QMP_MAX_US      (100 * 1000)
#define QMP_OUTLIER_US  (1000 * 1000)
#define TIMEOUT_US      (120 * 1000 * 1000)

/*
 * Data descriptors per request: 32 (128 MiB requests), fewer with
 * ICE_BOUND_DESCS for slow builds such as ThreadSanitizer's
 */
static int descs = DESCS_MAX;

/*
 * Slack on top of the bounce limit, in MiB; larger with ICE_BOUND_SLACK
 * for builds whose shadow memory grows with the memory QEMU touches
 * (ThreadSanitizer)
 */
static int rss_slack_mib = RSS_SLACK_MIB;

/* AES-256-XTS key material, 64 bytes */
static const uint8_t key[64] = {
    0x27, 0x18, 0x28, 0x18, 0x28, 0x45, 0x90, 0x45,
    0x23, 0x53, 0x60, 0x28, 0x74, 0x71, 0x35, 0x26,
    0x62, 0x49, 0x77, 0x57, 0x24, 0x70, 0x93, 0x69,
    0x99, 0x59, 0x57, 0x49, 0x66, 0x96, 0x76, 0x27,
    0x31, 0x41, 0x59, 0x26, 0x53, 0x58, 0x97, 0x93,
    0x23, 0x84, 0x62, 0x64, 0x33, 0x83, 0x27, 0x95,
    0x02, 0x88, 0x41, 0x97, 0x16, 0x93, 0x99, 0x37,
    0x51, 0x05, 0x82, 0x09, 0x74, 0x94, 0x45, 0x92,
};

/* One request whose data descriptors all alias the same guest memory */
typedef struct AliasedReq {
    bool is_write;
    uint64_t hdr;           /* 32-byte header */
    uint64_t status;
    uint32_t head;
} AliasedReq;

static void submit_aliased(QTestState *qts, QVirtioDevice *dev,
                           QGuestAllocator *alloc, QVirtQueue *vq,
                           uint64_t alias, AliasedReq *r)
{
    uint8_t hdr[32] = { 0 };
    uint8_t status = 0xff;

    stl_le_p(hdr, r->is_write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN);
    stq_le_p(hdr + 8, 0);                   /* sector */
    hdr[16] = SLOT;
    hdr[17] = 1;                            /* activate */
    stq_le_p(hdr + 24, DUN);
    r->hdr = guest_alloc(alloc, sizeof(hdr));
    r->status = guest_alloc(alloc, 1);
    qtest_memwrite(qts, r->hdr, hdr, sizeof(hdr));
    qtest_memwrite(qts, r->status, &status, 1);

    r->head = qvirtqueue_add(qts, vq, r->hdr, sizeof(hdr), false, true);
    for (int i = 0; i < descs; i++) {
        qvirtqueue_add(qts, vq, alias, ALIAS_LEN, !r->is_write, true);
    }
    qvirtqueue_add(qts, vq, r->status, 1, true, false);
    qvirtqueue_kick(qts, dev, vq, r->head);
}

/* Peak RSS of @pid in bytes (VmHWM) */
static uint64_t peak_rss(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
    g_autofree char *contents = NULL;
    const char *p;

    g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
    p = strstr(contents, "VmHWM:");
    g_assert_nonnull(p);
    return g_ascii_strtoull(p + strlen("VmHWM:"), NULL, 10) * 1024;
}

/* Start counting the peak RSS of @pid from its current RSS */
static void reset_peak_rss(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/clear_refs", pid);
    int fd = open(path, O_WRONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, "5", 1), ==, 1);
    close(fd);
}

/* QMP round trips: how many, the slowest, how many over QMP_MAX_US */
typedef struct QmpTimes {
    int count;
    gint64 worst;
    int slow;
} QmpTimes;

/* Time one query-status */
static void qmp_round_trip(QTestState *qts, QmpTimes *t)
{
    gint64 start = g_get_monotonic_time();
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-status'}");
    gint64 us = g_get_monotonic_time() - start;

    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    t->count++;
    t->worst = MAX(t->worst, us);
    t->slow += us > QMP_MAX_US;
}

/*
 * What AES-256-XTS with @key makes of @pt in data units of @dus bytes, at
 * data unit @dun onwards
 */
static void xts_encrypt(const uint8_t *pt, uint8_t *ct, size_t len,
                        size_t dus, uint64_t dun)
{
    gcry_cipher_hd_t h;

    g_assert_cmpint(gcry_cipher_open(&h, GCRY_CIPHER_AES256,
                                     GCRY_CIPHER_MODE_XTS, 0), ==, 0);
    g_assert_cmpint(gcry_cipher_setkey(h, key, sizeof(key)), ==, 0);
    for (size_t off = 0; off < len; off += dus, dun++) {
        uint64_t tweak[2] = { cpu_to_le64(dun), 0 };

        g_assert_cmpint(gcry_cipher_setiv(h, tweak, sizeof(tweak)), ==, 0);
        g_assert_cmpint(gcry_cipher_encrypt(h, ct + off, dus, pt + off, dus),
                        ==, 0);
    }
    gcry_cipher_close(h);
}

static void test_hostile_aliased_queue(void)
{
    g_autofree char *img = NULL;
    g_autofree char *log = g_strdup_printf("%s/ice-bound-%d.log",
                                           g_get_tmp_dir(), getpid());
    g_autofree char *trace = NULL;
    g_autofree char *key_b64 = g_base64_encode(key, sizeof(key));
    g_autofree uint8_t *pt = g_malloc(ALIAS_LEN);
    g_autofree uint8_t *disk = g_malloc(ALIAS_LEN);
    g_autofree uint8_t *expect = g_malloc(ALIAS_LEN);
    AliasedReq r[WRITES + READS] = { 0 };
    uint32_t heads[WRITES + READS];
    bool used[WRITES + READS] = { 0 };
    IcePciDisk disk_dev;
    QmpTimes qmp = { 0 };
    gint64 start;
    uint64_t base, held, peak;
    QOSState *qs;
    QVirtQueue *vq;
    uint64_t alias_pt, alias_rd[READS];
    pid_t pid;
    int done;

    img = ice_image_create((uint64_t)ALIAS_LEN * descs);

    /*
     * A 4 KiB/s throttle lets the first chunk through and holds the rest
     * until block_set_io_throttle lifts it.
     */
    qs = qtest_pc_boot("-m 256 -trace enable=ice_bounce_wait -D %s "
                       "-object secret,id=k,format=base64,data=%s "
                       "-drive if=none,id=drive0,file=%s,format=raw,"
                       "throttling.bps-total=4096 "
                       "-device virtio-blk-pci,id=drv0,drive=drive0,"
                       "addr=04.0,ice=on,queue-size=%d,"
                       "ice-bounce-limit=%d,"
                       "ice-preload=%d:aes-xts:256:%d:k",
                       log, key_b64, img, QUEUE_SIZE, BOUNCE_LIMIT, SLOT,
                       DUS);
    pid = qtest_pid(qs->qts);
    ice_pci_disk_start(&disk_dev, qs, DEVFN, true);
    vq = disk_dev.vq;
    g_assert_cmpint(vq->size, ==, QUEUE_SIZE);

    for (size_t i = 0; i < ALIAS_LEN; i++) {
        pt[i] = (i * 2654435761u) >> 24;
    }
    /*
     * Writes read the plaintext from one buffer; each read lands in one
     * of its own (reads sharing one would race with each other in guest
     * memory, which is the guest's business but floods ThreadSanitizer)
     */
    alias_pt = guest_alloc(&qs->alloc, ALIAS_LEN);
    qtest_bufwrite(qs->qts, alias_pt, pt, ALIAS_LEN);
    for (int i = 0; i < READS; i++) {
        alias_rd[i] = guest_alloc(&qs->alloc, ALIAS_LEN);
        qtest_memset(qs->qts, alias_rd[i], 0, ALIAS_LEN);
    }

    reset_peak_rss(pid);
    base = peak_rss(pid);

    /* Fill the queue: two writes, then a read, and again */
    for (int i = 0; i < WRITES + READS; i++) {
        r[i].is_write = i % 3 != 2;
        submit_aliased(qs->qts, disk_dev.dev, &qs->alloc, vq,
                       r[i].is_write ? alias_pt : alias_rd[i / 3], &r[i]);
        heads[i] = r[i].head;
        qmp_round_trip(qs->qts, &qmp);
    }

    /* Held by the throttle, which lets one chunk or request through */
    start = g_get_monotonic_time();
    while (g_get_monotonic_time() - start < 300 * 1000) {
        qmp_round_trip(qs->qts, &qmp);
        g_assert_cmpint(ice_req_reap(qs->qts, disk_dev.dev, vq, heads, used,
                                     WRITES + READS), <=, 1);
    }
    held = peak_rss(pid) - base;

    qtest_qmp_assert_success(qs->qts, "{'execute': 'block_set_io_throttle',"
                             " 'arguments': { 'device': 'drive0',"
                             " 'bps': 0, 'bps_rd': 0, 'bps_wr': 0,"
                             " 'iops': 100000000, 'iops_rd': 0,"
                             " 'iops_wr': 0 } }");
    start = g_get_monotonic_time();
    do {
        qmp_round_trip(qs->qts, &qmp);
        done = ice_req_reap(qs->qts, disk_dev.dev, vq, heads, used,
                            WRITES + READS);
        g_assert(g_get_monotonic_time() - start <= TIMEOUT_US);
    } while (done < WRITES + READS);
    peak = peak_rss(pid) - base;

    g_test_message("peak RSS growth: %" PRIu64 " KiB while held, %" PRIu64
                   " KiB in all (bounce limit %d KiB, slack %d KiB); "
                   "%d query-status, slowest %" PRId64 " us, %d over %d us",
                   held / 1024, peak / 1024, BOUNCE_LIMIT / 1024,
                   rss_slack_mib * 1024, qmp.count, qmp.worst, qmp.slow,
                   QMP_MAX_US);
    g_assert_cmpuint(peak, <=,
                     BOUNCE_LIMIT + rss_slack_mib * 1024 * 1024ull);
    g_assert_cmpint(qmp.slow, <=, 1);
    g_assert_cmpint(qmp.worst, <=, QMP_OUTLIER_US);

    for (int i = 0; i < WRITES + READS; i++) {
        g_assert_cmpint(qtest_readb(qs->qts, r[i].status), ==,
                        VIRTIO_BLK_S_OK);
    }

    /* Every write put the same ciphertext at the same place */
    for (int d = 0; d < descs; d++) {
        uint64_t off = (uint64_t)d * ALIAS_LEN;

        xts_encrypt(pt, expect, ALIAS_LEN, DUS, DUN + off / DUS);
        ice_image_read(img, off, disk, ALIAS_LEN);
        g_assert(!memcmp(disk, expect, ALIAS_LEN));
    }

    qtest_shutdown(qs);

    /* The writes really ran into the bounce limit and waited */
    g_assert_true(g_file_get_contents(log, &trace, NULL, NULL));
    g_assert_nonnull(strstr(trace, "ice_bounce_wait"));
    unlink(log);
    unlink(img);
}

/* ---- cipher state: every slot, split data units, several IOThreads ---- */

#define CS_SLOTS        255                 /* ice-slots, the most */
#define CS_DUS          (64 * 1024)         /* the largest data unit */
#define CS_REQ_LEN      (2 * CS_DUS)        /* > x-ice-offload-min, 64 KiB */
#define CS_QUEUES       2                   /* one IOThread each */
#define CS_BATCH        8                   /* requests a queue at once */
/* What one cipher set costs at most (the set, libgcrypt's handles) */
#define CS_SET_MAX      (8 * 1024)
#define CS_IDLE_SETS    2                   /* ICE_IDLE_SETS_MAX */
#define CS_SLACK_MIB    4                   /* threads, heap */

/* ICE_BOUND_SLACK replaces this slack too */
static int cs_slack_mib = CS_SLACK_MIB;

/*
 * The data buffers of a read: the second data unit straddles the two,
 * so the engine decrypts it through a scratch buffer
 */
static const size_t cs_split[] = { 96 * 1024, 32 * 1024, 0 };

/* Read the ciphertext at sector 0 through @slot on every queue */
static void cs_read_slots(QOSState *qs, IcePciDisk *d, QVirtQueue **vqs,
                          unsigned first, unsigned n, const uint8_t *pt)
{
    IceReq r[CS_QUEUES][CS_BATCH];
    g_autofree uint8_t *buf = g_malloc(CS_REQ_LEN);

    for (unsigned s = first; s < first + n; s += CS_QUEUES * CS_BATCH) {
        int in_flight[CS_QUEUES] = { 0 };

        for (unsigned i = 0; i < CS_QUEUES * CS_BATCH && s + i < first + n;
             i++) {
            int q = i % CS_QUEUES;
            IceReq *req = &r[q][in_flight[q]++];

            *req = (IceReq) {
                .type = VIRTIO_BLK_T_IN, .payload = true, .slot = s + i,
                .activate = 1, .dun = 0, .len = CS_REQ_LEN,
                .split = cs_split, .data = g_malloc0(CS_REQ_LEN),
            };
            ice_req_submit(qs->qts, d->dev, &qs->alloc, vqs[q], req);
        }
        for (int q = 0; q < CS_QUEUES; q++) {
            ice_req_wait_all(qs->qts, d->dev, vqs[q], r[q], in_flight[q]);
            for (int i = 0; i < in_flight[q]; i++) {
                g_assert_cmpint(ice_req_finish(qs->qts, &qs->alloc,
                                               &r[q][i]), ==,
                                VIRTIO_BLK_S_OK);
                g_assert(!memcmp(r[q][i].data, pt, CS_REQ_LEN));
                g_free(r[q][i].data);
            }
        }
    }
}

/*
 * With every slot programmed, reads of 64 KiB data units split across
 * buffers, large enough for worker threads, on two IOThreads: QEMU's RSS
 * grows by no more than the cipher state bound of the device page,
 * slots * ICE_IDLE_SETS_MAX * 8 KiB + (CPUs + IOThreads + 1) *
 * (8 KiB + 64 KiB), plus a little slack.  (Keys that kept a set per
 * concurrent user, each with a 64 KiB scratch buffer, grew by over
 * 16 MiB here.)  Every read returns the plaintext.
 */
static void test_cipher_state_every_slot(void)
{
    g_autofree char *img = ice_image_create(CS_REQ_LEN);
    g_autofree uint8_t *pt = g_malloc(CS_REQ_LEN);
    g_autofree uint8_t *ct = g_malloc(CS_REQ_LEN);
    long cpus = MAX(1, sysconf(_SC_NPROCESSORS_ONLN));
    uint64_t bound = (uint64_t)CS_SLOTS * CS_IDLE_SETS * CS_SET_MAX +
                     (cpus + CS_QUEUES + 1) * (CS_SET_MAX + CS_DUS);
    QVirtQueue *vqs[CS_QUEUES];
    IcePciDisk d = { 0 };
    uint64_t base, growth;
    QOSState *qs;
    pid_t pid;

    for (size_t i = 0; i < CS_REQ_LEN; i++) {
        pt[i] = i * 7 + (i >> 12);
    }
    xts_encrypt(pt, ct, CS_REQ_LEN, CS_DUS, 0);
    ice_image_write(img, 0, ct, CS_REQ_LEN);

    qs = qtest_pc_boot("-m 256 -object iothread,id=io0 "
                       "-object iothread,id=io1 "
                       "-drive if=none,id=drive0,file=%s,format=raw "
                       "-device '{\"driver\": \"virtio-blk-pci\", "
                       "\"id\": \"drv0\", \"drive\": \"drive0\", "
                       "\"addr\": \"04.0\", \"num-queues\": %d, "
                       "\"iothread-vq-mapping\": [{\"iothread\": \"io0\"}, "
                       "{\"iothread\": \"io1\"}], \"ice\": true, "
                       "\"ice-slots\": %d}'", img, CS_QUEUES, CS_SLOTS);
    pid = qtest_pid(qs->qts);
    ice_qmp_add_secret(qs->qts, "k", key, sizeof(key));
    reset_peak_rss(pid);
    base = peak_rss(pid);
    for (unsigned s = 0; s < CS_SLOTS; s++) {
        g_autofree char *err = ice_qmp_program_slot(qs->qts, "drv0", s,
                                                    "aes-xts", 256, CS_DUS,
                                                    "k");
        g_assert_null(err);
    }
    /* A key and its first cipher set, with QMP's own allocations */
    g_test_message("programming %d slots grew the peak RSS by %" PRIu64
                   " KiB", CS_SLOTS, (peak_rss(pid) - base) / 1024);

    virtio_pci_init(&d.pci, qs->pcibus, &(QPCIAddress) { .devfn = DEVFN });
    qvirtio_pci_device_enable(&d.pci);
    d.dev = &d.pci.vdev;
    qvirtio_start_device(d.dev);
    ice_req_start_queues(d.dev, &qs->alloc, true, vqs, CS_QUEUES);

    /* Warm up on one slot: threads, guest memory, the allocator */
    cs_read_slots(qs, &d, vqs, 0, CS_QUEUES * CS_BATCH, pt);
    reset_peak_rss(pid);
    base = peak_rss(pid);
    for (int round = 0; round < 2; round++) {
        cs_read_slots(qs, &d, vqs, 0, CS_SLOTS, pt);
    }
    growth = peak_rss(pid) - base;

    g_test_message("peak RSS growth with %d slots read on %d IOThreads, %ld "
                   "CPUs: %" PRIu64 " KiB (cipher state bound %" PRIu64
                   " KiB, slack %d KiB)", CS_SLOTS, CS_QUEUES, cpus,
                   growth / 1024, bound / 1024, cs_slack_mib * 1024);
    g_assert_cmpuint(growth, <=, bound + cs_slack_mib * 1024 * 1024ull);

    for (int q = 0; q < CS_QUEUES; q++) {
        qvirtqueue_cleanup(d.dev->bus, vqs[q], &qs->alloc);
    }
    qvirtio_pci_device_disable(&d.pci);
    qtest_shutdown(qs);
    unlink(img);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_assert_nonnull(gcry_check_version(NULL));
    if (g_getenv("ICE_BOUND_DESCS")) {
        g_assert_cmpint(qemu_strtoi(g_getenv("ICE_BOUND_DESCS"), NULL, 10,
                                    &descs), ==, 0);
        descs = CLAMP(descs, 1, DESCS_MAX);
    }
    if (g_getenv("ICE_BOUND_SLACK")) {
        g_assert_cmpint(qemu_strtoi(g_getenv("ICE_BOUND_SLACK"), NULL, 10,
                                    &rss_slack_mib), ==, 0);
        cs_slack_mib = rss_slack_mib;
    }
    qtest_add_func("/virtio-blk-ice/bound/aliased-queue-memory-and-latency",
                   test_hostile_aliased_queue);
    qtest_add_func("/virtio-blk-ice/bound/cipher-state-every-slot",
                   test_cipher_state_every_slot);
    return g_test_run();
}
