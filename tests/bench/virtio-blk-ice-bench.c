/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * End-to-end benchmark of virtio-blk with and without the inline crypto
 * engine, next to QEMU's LUKS driver, on the same harness and in one run
 *
 * The benchmark is the guest driver.  Guest RAM comes from a shared
 * memory backend that it maps, so descriptors, headers and data are
 * written straight into guest memory and never cross the qtest socket;
 * only kicks (when the device asks for them) go through qtest, and
 * completions are polled in the used ring.  Many requests are in flight;
 * the device runs in one IOThread.
 *
 * For every configuration, backend, request size and direction it prints
 * MB/s, IOPS, QEMU's CPU seconds per GiB (from /proc/PID/stat) and the
 * IOThread's own (from /proc/PID/task/TID/stat), with ratios to plain
 * virtio-blk, and raw libgcrypt's seconds per GiB for the same modes
 * measured in the same run.  Each row is the median of --repeat runs,
 * with their spread ((max - min) / median).  Not a pass/fail test.
 *
 * Usage: virtio-blk-ice-bench [--quick] [--seconds S] [--repeat N]
 *                             [--csv FILE] [--configs NAME,...]
 *                             [--backends NAME,...] [--rows DIR-SIZE,...]
 *                             [--idle-wait-us US]
 */

#include "qemu/osdep.h"
#include <sys/mman.h>
#include <gcrypt.h>
#include "qemu/atomic.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "standard-headers/linux/virtio_blk.h"
#include "standard-headers/linux/virtio_ring.h"
#include "libqos/ice-host.h"
#include "libqos/virtio-blk-ice.h"
#include "ice-bench-cpu.h"
#include "ice-bench-csv.h"

#define RAM_SIZE        (1024ull * 1024 * 1024)
#define IMG_SIZE        (512ull * 1024 * 1024)
#define QUEUE_DEPTH     32
#define DEVFN           QPCI_DEVFN(4, 0)

/* ---- what is measured ---- */

typedef enum { CFG_PLAIN, CFG_ICE_XTS, CFG_ICE_XTS_INLINE,
               CFG_ICE_XTS_OFFLOAD, CFG_ICE_ESSIV, CFG_ICE_OFF, CFG_LUKS,
               N_CFG } ConfigId;

static const struct {
    const char *name;
    bool ice;           /* negotiate VIRTIO_BLK_F_ICE, 32-byte headers */
    uint8_t activate;
    const char *props;  /* device properties */
} configs[N_CFG] = {
    [CFG_PLAIN] = { "plain", false, 0, "" },
    [CFG_ICE_XTS] = { "ice-aes256-xts", true, 1,
                      ",ice=on,ice-preload=0:aes-xts:256:4096:k0" },
    /* All crypto in the IOThread, or all of it in worker threads */
    [CFG_ICE_XTS_INLINE] = { "ice-xts-inline", true, 1,
                             ",ice=on,ice-preload=0:aes-xts:256:4096:k0,"
                             "x-ice-offload-min=1G" },
    [CFG_ICE_XTS_OFFLOAD] = { "ice-xts-offload", true, 1,
                              ",ice=on,ice-preload=0:aes-xts:256:4096:k0,"
                              "x-ice-offload-min=0" },
    [CFG_ICE_ESSIV] = { "ice-essiv128-cbc", true, 1,
                        ",ice=on,ice-preload=0:essiv-aes-cbc:128:4096:k1" },
    [CFG_ICE_OFF] = { "ice-activate0", true, 0,
                      ",ice=on,ice-preload=0:aes-xts:256:4096:k0" },
    [CFG_LUKS] = { "luks-aes256-xts", false, 0, "" },
};

typedef enum { BK_NULL, BK_URING, BK_THREADS, N_BK } BackendId;

static const char *const backend_names[N_BK] = {
    [BK_NULL] = "null-co", [BK_URING] = "shm-io_uring",
    [BK_THREADS] = "shm-threads",
};

static const size_t req_sizes[] = { 4096, 65536, 1024 * 1024 };
#define N_SIZES G_N_ELEMENTS(req_sizes)

typedef struct Result {
    double mbs, iops, cpu_per_gib;
    double iot_cpu_per_gib;     /* the IOThread's own CPU time */
    double spread;              /* (max - min) / median of the MB/s */
    bool valid;
} Result;

static double seconds_per_row = 1.0;
static int repeat = 3;
/*
 * How long the driver sleeps when no request completed.  Spinning (0) is
 * the default: sleeping lets QEMU use the driver's CPU but adds latency,
 * and measured worse here on every row.
 */
static long idle_wait_ns;
static const char *only_configs;    /* comma-separated names, or NULL */
static const char *only_backends;
static const char *only_rows;       /* e.g. "write-1048576,read-4096" */

static bool selected(const char *list, const char *name)
{
    g_auto(GStrv) names = NULL;

    if (!list) {
        return true;
    }
    names = g_strsplit(list, ",", -1);
    return g_strv_contains((const gchar * const *)names, name);
}

/* ---- the harness ---- */

typedef struct Bench {
    QOSState *qs;
    IcePciDisk disk;
    QVirtQueue *vq;                 /* disk.vq */
    uint8_t *ram;
    char *mem_path;
    bool ice;
    uint8_t activate;
    uint64_t hdr[QUEUE_DEPTH];      /* guest address of header + status */
    uint64_t data[QUEUE_DEPTH];     /* guest address of the data buffer */
    uint16_t avail_idx;
    uint16_t used_idx;
    int iothread_tid;
} Bench;

static inline void *gpa(Bench *b, uint64_t addr)
{
    return b->ram + addr;
}

static void bench_start(Bench *b, ConfigId cfg, BackendId bk,
                        const char *shm_img, const char *luks_img)
{
    g_autofree char *drive = NULL;
    uint16_t *avail_flags;

    memset(b, 0, sizeof(*b));
    b->mem_path = g_strdup_printf("/dev/shm/ice-bench-mem-%d", getpid());
    b->ice = configs[cfg].ice;
    b->activate = configs[cfg].activate;

    if (cfg == CFG_LUKS) {
        drive = g_strdup_printf(
            "-object secret,id=lk,data=ice-bench "
            "-blockdev driver=file,node-name=f0,filename=%s,aio=%s "
            "-blockdev driver=luks,node-name=d0,file=f0,key-secret=lk",
            luks_img, bk == BK_THREADS ? "threads" : "io_uring");
    } else if (bk == BK_NULL) {
        drive = g_strdup_printf("-blockdev driver=null-co,node-name=d0,"
                                "size=%llu", IMG_SIZE);
    } else {
        drive = g_strdup_printf("-blockdev driver=file,node-name=f0,"
                                "filename=%s,aio=%s "
                                "-blockdev driver=raw,node-name=d0,file=f0",
                                shm_img,
                                bk == BK_THREADS ? "threads" : "io_uring");
    }
    b->qs = qtest_pc_boot(
        "-machine pc,memory-backend=mem -m %llu "
        "-object memory-backend-file,id=mem,size=%llu,mem-path=%s,share=on "
        "-object iothread,id=io0 "
        "-object secret,id=k0,format=base64,data=%s "
        "-object secret,id=k1,format=base64,data=%s %s "
        "-device virtio-blk-pci,id=disk0,drive=d0,addr=04.0,iothread=io0,"
        "queue-size=256%s",
        RAM_SIZE >> 20, RAM_SIZE, b->mem_path,
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWZmZWRjYmE5ODc2NTQzMjEw"
        "ZmVkY2JhOTg3NjU0MzIxMA==", "AAECAwQFBgcICQoLDA0ODw==", drive,
        configs[cfg].props);

    /* The backend file exists once the machine is built */
    {
        int fd = open(b->mem_path, O_RDWR);

        g_assert_cmpint(fd, >=, 0);
        b->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                      0);
        g_assert(b->ram != MAP_FAILED);
        close(fd);
    }

    ice_pci_disk_start(&b->disk, b->qs, DEVFN, b->ice);
    g_assert_true(b->disk.ice == b->ice);
    b->vq = b->disk.vq;

    /* The IOThread, to tell its CPU time from the rest of QEMU's */
    {
        QDict *rsp = qtest_qmp(b->qs->qts, "{'execute': 'query-iothreads'}");
        QList *list = qdict_get_qlist(rsp, "return");

        b->iothread_tid = qdict_get_int(qobject_to(QDict,
                                                   qlist_peek(list)),
                                        "thread-id");
        qobject_unref(rsp);
    }

    /* Polled: no interrupts please */
    avail_flags = gpa(b, b->vq->avail);
    *avail_flags = cpu_to_le16(VRING_AVAIL_F_NO_INTERRUPT);

    for (int i = 0; i < QUEUE_DEPTH; i++) {
        b->hdr[i] = guest_alloc(&b->qs->alloc, 64);
        b->data[i] = guest_alloc(&b->qs->alloc, 1024 * 1024);
        memset(gpa(b, b->data[i]), 0x5a, 1024 * 1024);
    }
}

static void bench_stop(Bench *b)
{
    munmap(b->ram, RAM_SIZE);
    qtest_shutdown(b->qs);
    unlink(b->mem_path);
    g_free(b->mem_path);
}

/* Fill in request @i (header, three descriptors) and publish it */
static void submit(Bench *b, int i, bool write, uint64_t sector, size_t len)
{
    uint8_t *hdr = gpa(b, b->hdr[i]);
    uint8_t *desc = gpa(b, b->vq->desc) + 16 * 3 * i;
    uint16_t *avail = gpa(b, b->vq->avail);
    size_t hlen = b->ice ? 32 : 16;

    memset(hdr, 0, 48);
    stl_le_p(hdr, write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN);
    stq_le_p(hdr + 8, sector);
    hdr[17] = b->activate;
    stq_le_p(hdr + 24, sector * 512 / 4096);        /* DUN of 4 KiB units */
    hdr[40] = 0xff;                                 /* status */

    stq_le_p(desc, b->hdr[i]);
    stl_le_p(desc + 8, hlen);
    stw_le_p(desc + 12, VRING_DESC_F_NEXT);
    stw_le_p(desc + 14, 3 * i + 1);
    stq_le_p(desc + 16, b->data[i]);
    stl_le_p(desc + 24, len);
    stw_le_p(desc + 28, VRING_DESC_F_NEXT | (write ? 0 : VRING_DESC_F_WRITE));
    stw_le_p(desc + 30, 3 * i + 2);
    stq_le_p(desc + 32, b->hdr[i] + 40);
    stl_le_p(desc + 40, 1);
    stw_le_p(desc + 44, VRING_DESC_F_WRITE);

    avail[2 + b->avail_idx % b->vq->size] = cpu_to_le16(3 * i);
    b->avail_idx++;
}

/* Make new requests visible, and kick unless the device is polling */
static void publish(Bench *b)
{
    uint16_t *avail = gpa(b, b->vq->avail);
    uint16_t *used = gpa(b, b->vq->used);

    /* The descriptors and ring entries are visible before the index */
    smp_wmb();
    qatomic_set(&avail[1], cpu_to_le16(b->avail_idx));
    /* The index is visible before we look whether the device wants a kick */
    smp_mb();
    if (!(le16_to_cpu(qatomic_read(&used[0])) & VRING_USED_F_NO_NOTIFY)) {
        b->disk.dev->bus->virtqueue_kick(b->disk.dev, b->vq);
    }
}

static Result run_once(Bench *b, bool write, size_t len)
{
    uint16_t *used = gpa(b, b->vq->used);
    uint64_t sectors = IMG_SIZE / 512, next = 0, done = 0;
    pid_t pid = qtest_pid(b->qs->qts);
    uint64_t t0_ticks = ice_bench_cpu_ticks(pid, 0);
    uint64_t t0_iot = ice_bench_cpu_ticks(pid, b->iothread_tid);
    gint64 t0 = g_get_monotonic_time(), t1, deadline;
    long hz = sysconf(_SC_CLK_TCK);
    Result r = { .valid = true };

    deadline = t0 + seconds_per_row * G_USEC_PER_SEC;
    for (int i = 0; i < QUEUE_DEPTH; i++) {
        submit(b, i, write, next, len);
        next = (next + len / 512) % sectors;
    }
    publish(b);

    for (;;) {
        uint16_t idx = le16_to_cpu(qatomic_read(&used[1]));
        bool more = g_get_monotonic_time() < deadline;
        int refilled = 0;

        /* Read the used elements only after their index */
        smp_rmb();
        while (b->used_idx != idx) {
            uint8_t *elem = (uint8_t *)used + 4 + 8 *
                            (b->used_idx % b->vq->size);
            int i = ldl_le_p(elem) / 3;

            b->used_idx++;
            done++;
            if (((uint8_t *)gpa(b, b->hdr[i]))[40] != VIRTIO_BLK_S_OK) {
                r.valid = false;
            }
            if (more) {
                submit(b, i, write, next, len);
                next = (next + len / 512) % sectors;
                refilled++;
            }
        }
        if (refilled) {
            publish(b);
        } else if (idle_wait_ns) {
            /* Leave the CPU to QEMU while nothing completes */
            g_usleep(idle_wait_ns / 1000);
        }
        if (!more && (uint16_t)(b->avail_idx - b->used_idx) == 0) {
            break;
        }
    }
    t1 = g_get_monotonic_time();
    r.iops = done / ((t1 - t0) / (double)G_USEC_PER_SEC);
    r.mbs = r.iops * len / 1e6;
    r.cpu_per_gib = (ice_bench_cpu_ticks(pid, 0) - t0_ticks) /
                    (double)hz / (done * (double)len / (1 << 30));
    r.iot_cpu_per_gib = (ice_bench_cpu_ticks(pid, b->iothread_tid) - t0_iot) /
                        (double)hz / (done * (double)len / (1 << 30));
    return r;
}

static int result_cmp(const void *a, const void *b)
{
    double x = ((const Result *)a)->mbs, y = ((const Result *)b)->mbs;

    return x < y ? -1 : x > y;
}

/* The median of @repeat runs of one row, with their spread */
static Result run_row(Bench *b, bool write, size_t len)
{
    g_autofree Result *runs = g_new(Result, repeat);
    Result r;

    for (int i = 0; i < repeat; i++) {
        runs[i] = run_once(b, write, len);
    }
    qsort(runs, repeat, sizeof(*runs), result_cmp);
    r = runs[repeat / 2];
    r.spread = (runs[repeat - 1].mbs - runs[0].mbs) / r.mbs;
    for (int i = 0; i < repeat; i++) {
        r.valid &= runs[i].valid;
    }
    return r;
}

/* ---- raw libgcrypt, same modes, same run ---- */

static double raw_seconds_per_gib(bool essiv, bool decrypt)
{
    size_t len = 1024 * 1024, dus = 4096;
    uint8_t key[64], iv[16];
    g_autofree uint8_t *buf = g_malloc0(len);
    gcry_cipher_hd_t h, ivh = NULL;
    uint64_t bytes = 0, dun = 0;
    gint64 t0;

    for (int i = 0; i < 64; i++) {
        key[i] = i * 7 + 1;
    }
    gcry_cipher_open(&h, essiv ? GCRY_CIPHER_AES128 : GCRY_CIPHER_AES256,
                     essiv ? GCRY_CIPHER_MODE_CBC : GCRY_CIPHER_MODE_XTS, 0);
    gcry_cipher_setkey(h, key, essiv ? 16 : 64);
    if (essiv) {
        gcry_cipher_open(&ivh, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_ECB, 0);
        gcry_cipher_setkey(ivh, key, 32);
    }
    t0 = g_get_monotonic_time();
    while (g_get_monotonic_time() - t0 < 0.5 * G_USEC_PER_SEC) {
        for (size_t off = 0; off < len; off += dus, dun++) {
            memset(iv, 0, sizeof(iv));
            stq_le_p(iv, dun);
            if (ivh) {
                gcry_cipher_encrypt(ivh, iv, 16, NULL, 0);
            }
            gcry_cipher_setiv(h, iv, 16);
            if (decrypt) {
                gcry_cipher_decrypt(h, buf + off, dus, NULL, 0);
            } else {
                gcry_cipher_encrypt(h, buf + off, dus, NULL, 0);
            }
        }
        bytes += len;
    }
    gcry_cipher_close(h);
    gcry_cipher_close(ivh);
    return (g_get_monotonic_time() - t0) / (double)G_USEC_PER_SEC /
           (bytes / (double)(1 << 30));
}

/* ---- main ---- */

static char *make_images(char **luks_img)
{
    g_autofree char *qemu_img = NULL, *dir = NULL;
    char *shm_img = g_strdup_printf("/dev/shm/ice-bench-raw-%d", getpid());
    g_autofree uint8_t *chunk = g_malloc(1 << 20);
    g_autofree char *cmd = NULL;

    /*
     * Write every byte: reading holes (or fallocated pages) of a tmpfs
     * file is far faster than reading data, and would flatter whichever
     * configuration reads before anything was written.
     */
    g_assert_true(g_file_set_contents(shm_img, "", 0, NULL));
    memset(chunk, 0xa5, 1 << 20);
    for (uint64_t off = 0; off < IMG_SIZE; off += 1 << 20) {
        ice_image_write(shm_img, off, chunk, 1 << 20);
    }

    /* QEMU's LUKS driver writes LUKS1: aes-256-xts-plain64 */
    dir = g_path_get_dirname(g_getenv("QTEST_QEMU_BINARY"));
    qemu_img = g_build_filename(dir, "qemu-img", NULL);
    *luks_img = g_strdup_printf("/dev/shm/ice-bench-luks-%d", getpid());
    cmd = g_strdup_printf("%s create -q -f luks --object secret,id=lk,"
                          "data=ice-bench -o key-secret=lk,cipher-alg=aes-256,"
                          "cipher-mode=xts,ivgen-alg=plain64,iter-time=10 "
                          "%s %llu", qemu_img, *luks_img, IMG_SIZE);
    g_assert_cmpint(system(cmd), ==, 0);
    /* Fill the LUKS payload too, encrypting the raw image into it */
    g_free(cmd);
    cmd = g_strdup_printf("%s convert -n --object secret,id=lk,data=ice-bench"
                          " -f raw --target-image-opts %s "
                          "driver=luks,file.filename=%s,key-secret=lk",
                          qemu_img, shm_img, *luks_img);
    g_assert_cmpint(system(cmd), ==, 0);
    return shm_img;
}

static void print_row(FILE *csv, ConfigId c, BackendId bk, bool write,
                      size_t len, const Result *r, const Result *plain,
                      const Result *luks)
{
    g_autofree char *vs_plain = NULL, *vs_luks = NULL;

    vs_plain = plain && plain->mbs ?
               g_strdup_printf("%.2f", r->mbs / plain->mbs) : g_strdup("-");
    vs_luks = luks && luks->mbs ? g_strdup_printf("%.2f", r->mbs / luks->mbs)
                                : g_strdup("-");
    printf("%-17s %-12s %-5s %7zu | %8.0f %4.0f%% %9.0f %7.3f %7.3f | "
           "%6s %6s%s\n",
           configs[c].name, backend_names[bk], write ? "write" : "read", len,
           r->mbs, 100 * r->spread, r->iops, r->cpu_per_gib,
           r->iot_cpu_per_gib, vs_plain, vs_luks,
           r->valid ? "" : "  (errors!)");
    if (csv) {
        fprintf(csv, "%s,%s,%s,%zu,%.1f,%.3f,%.0f,%.4f,%.4f,%s,%s\n",
                configs[c].name, backend_names[bk],
                write ? "write" : "read", len, r->mbs, r->spread, r->iops,
                r->cpu_per_gib, r->iot_cpu_per_gib, vs_plain, vs_luks);
    }
    fflush(stdout);
}

/* A column of print_cpu_table(): raw libgcrypt s/GiB for read, write */
typedef struct CpuColumn {
    ConfigId c;
    double raw[2];
} CpuColumn;

/*
 * CPU seconds per GiB on shm-io_uring, a row per direction and request
 * size, for the configurations of @cols (ended by N_CFG): with @iothread
 * the IOThread's own against plain virtio-blk's, else what each adds
 * over plain against raw libgcrypt doing the same crypto
 */
static void print_cpu_table(Result res[N_CFG][N_BK][2][N_SIZES],
                            bool iothread, const CpuColumn *cols)
{
    for (int w = 0; w < 2; w++) {
        for (size_t s = iothread ? 0 : 1; s < N_SIZES; s++) {
            const Result *plain = &res[CFG_PLAIN][BK_URING][w][s];

            printf("  %-5s %7zu:", w ? "write" : "read", req_sizes[s]);
            if (iothread) {
                printf(" plain %.3f", plain->iot_cpu_per_gib);
            }
            for (const CpuColumn *col = cols; col->c != N_CFG; col++) {
                const Result *r = &res[col->c][BK_URING][w][s];
                double added = r->cpu_per_gib - plain->cpu_per_gib;

                if (!r->iops) {
                    continue;
                } else if (iothread) {
                    printf("  %s %.3f (x%.2f)", configs[col->c].name,
                           r->iot_cpu_per_gib,
                           r->iot_cpu_per_gib / plain->iot_cpu_per_gib);
                } else {
                    printf("  %s +%.3f (raw %.3f, x%.2f)",
                           configs[col->c].name, added, col->raw[w],
                           added / col->raw[w]);
                }
            }
            printf("\n");
        }
    }
}

int main(int argc, char **argv)
{
    const char *csv_path = NULL;
    FILE *csv = NULL;
    g_autofree char *luks_img = NULL, *shm_img = NULL;
    static Result res[N_CFG][N_BK][2][N_SIZES];
    double raw_xts_enc, raw_xts_dec, raw_essiv_enc, raw_essiv_dec;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            seconds_per_row = 0.3;
        } else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
            repeat = MAX(1, atoi(argv[++i]));
        } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            seconds_per_row = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--csv") && i + 1 < argc) {
            csv_path = argv[++i];
        } else if (!strcmp(argv[i], "--idle-wait-us") && i + 1 < argc) {
            idle_wait_ns = atol(argv[++i]) * 1000;
        } else if (!strcmp(argv[i], "--configs") && i + 1 < argc) {
            only_configs = argv[++i];
        } else if (!strcmp(argv[i], "--rows") && i + 1 < argc) {
            only_rows = argv[++i];
        } else if (!strcmp(argv[i], "--backends") && i + 1 < argc) {
            only_backends = argv[++i];
        }
    }
    if (!g_getenv("QTEST_QEMU_BINARY")) {
        g_autofree char *dir = g_path_get_dirname(argv[0]);

        g_setenv("QTEST_QEMU_BINARY", g_build_filename(dir, "..", "..",
                                       "qemu-system-x86_64", NULL), true);
    }
    gcry_check_version(NULL);
    shm_img = make_images(&luks_img);
    csv = ice_bench_csv_open(csv_path, "config,backend,direction,request,"
                             "mbs,spread,iops,qemu_cpu_s_per_gib,"
                             "iothread_cpu_s_per_gib,vs_plain,vs_luks");

    raw_xts_enc = raw_seconds_per_gib(false, false);
    raw_xts_dec = raw_seconds_per_gib(false, true);
    raw_essiv_enc = raw_seconds_per_gib(true, false);
    raw_essiv_dec = raw_seconds_per_gib(true, true);

    printf("virtio-blk end to end: QD %d, one IOThread, median of %d runs "
           "of %.1f s per row; CPU s/GiB of QEMU and of its IOThread from "
           "/proc\n\n", QUEUE_DEPTH, repeat, seconds_per_row);
    printf("%-17s %-12s %-5s %7s | %8s %5s %9s %7s %7s | %6s %6s\n",
           "config", "backend", "dir", "request", "MB/s", "sprd", "IOPS",
           "cpu/GiB", "iot/GiB", "/plain", "/luks");
    for (BackendId bk = 0; bk < N_BK; bk++) {
        for (ConfigId c = 0; c < N_CFG; c++) {
            Bench b;

            if ((c == CFG_LUKS && bk == BK_NULL) ||   /* needs an image */
                !selected(only_configs, configs[c].name) ||
                !selected(only_backends, backend_names[bk])) {
                res[c][bk][0][0].valid = false;
                continue;
            }
            bench_start(&b, c, bk, shm_img, luks_img);
            for (int w = 0; w < 2; w++) {
                for (size_t s = 0; s < G_N_ELEMENTS(req_sizes); s++) {
                    g_autofree char *row = g_strdup_printf(
                        "%s-%zu", w ? "write" : "read", req_sizes[s]);

                    if (selected(only_rows, row)) {
                        res[c][bk][w][s] = run_row(&b, w, req_sizes[s]);
                    }
                }
            }
            bench_stop(&b);
        }
        for (ConfigId c = 0; c < N_CFG; c++) {
            for (int w = 0; w < 2; w++) {
                for (size_t s = 0; s < G_N_ELEMENTS(req_sizes); s++) {
                    if (!res[c][bk][w][s].iops) {
                        continue;       /* not measured */
                    }
                    print_row(csv, c, bk, w, req_sizes[s], &res[c][bk][w][s],
                              &res[CFG_PLAIN][bk][w][s],
                              bk == BK_NULL ? NULL : &res[CFG_LUKS][bk][w][s]);
                }
            }
        }
        printf("\n");
    }

    /* Crypto efficiency: CPU ICE adds over plain, against raw libgcrypt */
    printf("QEMU CPU s/GiB that ICE adds over plain (shm-io_uring), next to "
           "raw libgcrypt s/GiB (4 KiB units, one thread):\n");
    print_cpu_table(res, false, (const CpuColumn[]) {
        { CFG_ICE_XTS, { raw_xts_dec, raw_xts_enc } },
        { CFG_ICE_XTS_INLINE, { raw_xts_dec, raw_xts_enc } },
        { CFG_ICE_ESSIV, { raw_essiv_dec, raw_essiv_enc } },
        { N_CFG },
    });
    printf("IOThread CPU s/GiB, ICE AES-256-XTS against plain "
           "(shm-io_uring):\n");
    print_cpu_table(res, true, (const CpuColumn[]) {
        { CFG_ICE_XTS }, { CFG_ICE_XTS_INLINE }, { CFG_ICE_XTS_OFFLOAD },
        { N_CFG },
    });

    if (csv) {
        fclose(csv);
    }
    unlink(shm_img);
    unlink(luks_img);
    return 0;
}
