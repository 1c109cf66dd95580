/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * End-to-end benchmark of QEMU's UFS host controller with and without
 * UFSHCI inline crypto, next to virtio-blk with and without its engine,
 * in one run
 *
 * The benchmark is the UFS guest driver.  Guest RAM comes from a shared
 * memory backend that it maps, so request descriptors, UPIUs, PRDTs and
 * data are written straight into guest memory; only the doorbell goes
 * through qtest, and completions are polled in the request descriptors.
 * The 32 transfer request slots of the doorbell list are all in flight.
 * The logical unit's image is a file on /dev/shm (aio=threads).
 *
 * For every configuration, request size and direction it prints MB/s,
 * IOPS and QEMU's CPU seconds per GiB (from /proc/PID/stat), the median
 * of --repeat runs with their spread, and the ratio of crypto to plain.
 * Then it runs virtio-blk-ice-bench (next to it) for plain virtio-blk and
 * AES-256-XTS on the same rows and backend, and prints what crypto costs
 * on each: the MB/s ratio and the CPU seconds per GiB it adds.  Not a
 * pass/fail test.
 *
 * Usage: ufs-ice-bench [--quick] [--seconds S] [--repeat N] [--csv FILE]
 *                      [--no-virtio]
 */

#include "qemu/osdep.h"
#include <sys/mman.h>
#include "qemu/atomic.h"
#include "qemu/bswap.h"
#include "scsi/constants.h"
#include "libqos/libqos-pc.h"
#include "libqos/ufs-ice.h"
#include "ice-bench-cpu.h"
#include "ice-bench-csv.h"

#define RAM_SIZE        (512ull * 1024 * 1024)
#define IMG_SIZE        (512ull * 1024 * 1024)
#define NSLOTS          32
#define DEVFN           QPCI_DEVFN(4, 0)
#define OCS_PENDING     0xf

static const size_t req_sizes[] = { 65536, 1024 * 1024 };
#define N_SIZES G_N_ELEMENTS(req_sizes)

typedef struct Result {
    double mbs, iops, cpu_per_gib;
    double spread;              /* (max - min) / median of the MB/s */
    bool valid;
} Result;

static double seconds_per_row = 1.0;
static int repeat = 3;

typedef struct Bench {
    QOSState *qs;
    QUfs ufs;
    uint8_t *ram;
    char *mem_path;
    bool crypto;
    uint64_t data[NSLOTS];
} Bench;

static inline void *gpa(Bench *b, uint64_t addr)
{
    return b->ram + addr;
}

static void bench_start(Bench *b, bool crypto, const char *img)
{
    uint8_t key[64];
    int fd;

    memset(b, 0, sizeof(*b));
    b->crypto = crypto;
    b->mem_path = g_strdup_printf("/dev/shm/ufs-ice-bench-mem-%d", getpid());
    b->qs = qtest_pc_boot(
        "-machine pc,memory-backend=mem -m %llu "
        "-object memory-backend-file,id=mem,size=%llu,mem-path=%s,share=on "
        "-blockdev driver=file,node-name=f0,filename=%s,aio=threads "
        "-blockdev driver=raw,node-name=d0,file=f0 "
        "-device ufs,id=ufs0,addr=04.0,nutrs=%d,crypto=%s "
        "-device ufs-lu,bus=ufs0,drive=d0,lun=0",
        RAM_SIZE >> 20, RAM_SIZE, b->mem_path, img, NSLOTS,
        crypto ? "on" : "off");
    fd = open(b->mem_path, O_RDWR);
    g_assert_cmpint(fd, >=, 0);
    b->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    g_assert(b->ram != MAP_FAILED);
    close(fd);

    qpci_device_init(&b->ufs.dev, b->qs->pcibus,
                     &(QPCIAddress) { .devfn = DEVFN });
    ufs_init(&b->ufs, &b->qs->alloc);
    if (crypto) {
        for (int i = 0; i < 64; i++) {
            key[i] = i * 13 + 7;
        }
        ufs_ice_write_hce(&b->ufs, 3);
        ufs_ice_program(&b->ufs, 0, ufs_ice_find_cap(&b->ufs, 0, 3), 4096,
                        key, sizeof(key), true);
    }
    for (int i = 0; i < NSLOTS; i++) {
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

/* Fill in transfer request @i: UTRD, command UPIU and PRDT */
static void submit(Bench *b, int i, bool write, uint64_t lba, size_t len)
{
    uint64_t upiu = b->ufs.cmd_desc_addr + i * UTP_COMMAND_DESCRIPTOR_SIZE;
    UtpTransferReqDesc *utrd = gpa(b, b->ufs.utrlba +
                                   i * sizeof(UtpTransferReqDesc));
    UfshcdSgEntry *prdt = gpa(b, upiu + UTP_PRDT_UPIU_OFFSET);
    UtpUpiuReq *req = gpa(b, upiu);
    size_t n = DIV_ROUND_UP(len, UFS_ICE_PRD_MAX);
    uint32_t blocks = len / UFS_ICE_BLOCK;

    for (size_t k = 0; k < n; k++) {
        prdt[k].addr = cpu_to_le64(b->data[i] + k * UFS_ICE_PRD_MAX);
        prdt[k].reserved = 0;
        prdt[k].size = cpu_to_le32(MIN(len - k * UFS_ICE_PRD_MAX,
                                       UFS_ICE_PRD_MAX) - 1);
    }
    memset(req, 0, sizeof(*req));
    req->header.trans_type = UFS_UPIU_TRANSACTION_COMMAND;
    req->header.flags = write ? UFS_UPIU_CMD_FLAGS_WRITE :
                                UFS_UPIU_CMD_FLAGS_READ;
    req->header.task_tag = i;
    req->sc.exp_data_transfer_len = cpu_to_be32(len);
    req->sc.cdb[0] = write ? WRITE_10 : READ_10;
    stl_be_p(&req->sc.cdb[2], lba);
    stw_be_p(&req->sc.cdb[7], blocks);

    *utrd = ufs_build_req_utrd(upiu, write ? UFS_UTP_HOST_TO_DEVICE :
                               UFS_UTP_DEVICE_TO_HOST, n);
    /* Polled: no interrupt */
    utrd->header.dword_0 &= ~cpu_to_le32(UFS_UTP_REQ_DESC_INT_CMD);
    if (b->crypto) {
        utrd->header.dword_0 |=
            cpu_to_le32(UFS_UTP_REQ_DESC_CRYPTO_ENABLE_CMD);
        utrd->header.dword_1 = cpu_to_le32(lba);
    }
}

static uint8_t ocs_of(Bench *b, int i)
{
    UtpTransferReqDesc *utrd = gpa(b, b->ufs.utrlba +
                                   i * sizeof(UtpTransferReqDesc));

    return le32_to_cpu(qatomic_read(&utrd->header.dword_2)) & 0xf;
}

static Result run_once(Bench *b, bool write, size_t len)
{
    uint64_t blocks = IMG_SIZE / UFS_ICE_BLOCK, next = 0, done = 0;
    pid_t pid = qtest_pid(b->qs->qts);
    uint64_t t0_ticks = ice_bench_cpu_ticks(pid, 0);
    gint64 t0 = g_get_monotonic_time(), t1, deadline;
    long hz = sysconf(_SC_CLK_TCK);
    Result r = { .valid = true };
    uint32_t in_flight = 0, ring = 0;

    deadline = t0 + seconds_per_row * G_USEC_PER_SEC;
    for (int i = 0; i < NSLOTS; i++) {
        submit(b, i, write, next, len);
        next = (next + len / UFS_ICE_BLOCK) % blocks;
        ring |= 1u << i;
    }
    for (;;) {
        bool more = g_get_monotonic_time() < deadline;

        if (ring) {
            /* The requests are in guest memory before the doorbell */
            smp_wmb();
            ufs_wreg(&b->ufs, A_UTRLDBR, ring);
            in_flight |= ring;
            ring = 0;
        }
        for (int i = 0; i < NSLOTS; i++) {
            uint8_t ocs;

            if (!(in_flight & (1u << i))) {
                continue;
            }
            ocs = ocs_of(b, i);
            if (ocs == OCS_PENDING) {
                continue;
            }
            /* Read the response only after its OCS */
            smp_rmb();
            in_flight &= ~(1u << i);
            done++;
            r.valid &= ocs == UFS_OCS_SUCCESS;
            if (more) {
                submit(b, i, write, next, len);
                next = (next + len / UFS_ICE_BLOCK) % blocks;
                ring |= 1u << i;
            }
        }
        if (!more && !in_flight && !ring) {
            break;
        }
    }
    t1 = g_get_monotonic_time();
    r.iops = done / ((t1 - t0) / (double)G_USEC_PER_SEC);
    r.mbs = r.iops * len / 1e6;
    r.cpu_per_gib = (ice_bench_cpu_ticks(pid, 0) - t0_ticks) / (double)hz /
                    (done * (double)len / (1 << 30));
    return r;
}

static int result_cmp(const void *a, const void *b)
{
    double x = ((const Result *)a)->mbs, y = ((const Result *)b)->mbs;

    return x < y ? -1 : x > y;
}

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

/* One virtio-blk-ice-bench row: MB/s and CPU s/GiB */
typedef struct VirtioRow {
    double mbs, cpu_per_gib;
    bool found;
} VirtioRow;

/*
 * Run virtio-blk-ice-bench for plain virtio-blk and AES-256-XTS on the
 * same rows; fill @rows[config][write][size] from its CSV
 */
static bool run_virtio(const char *dir, VirtioRow rows[2][2][N_SIZES])
{
    g_autofree char *bench = g_build_filename(dir, "virtio-blk-ice-bench",
                                              NULL);
    g_autofree char *csv = g_strdup_printf("/tmp/ufs-ice-bench-%d.csv",
                                           getpid());
    g_autofree char *seconds = g_strdup_printf("%g", seconds_per_row);
    g_autofree char *rep = g_strdup_printf("%d", repeat);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    const char *argv[] = {
        bench, "--configs", "plain,ice-aes256-xts", "--backends",
        "shm-threads", "--rows",
        "write-65536,read-65536,write-1048576,read-1048576",
        "--seconds", seconds, "--repeat", rep, "--csv", csv, NULL,
    };
    gint status;

    if (!g_file_test(bench, G_FILE_TEST_IS_EXECUTABLE)) {
        printf("(no %s: virtio-blk rows skipped)\n", bench);
        return false;
    }
    printf("\nvirtio-blk, same rows (%s):\n", bench);
    fflush(stdout);
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN,
                      NULL, NULL, NULL, NULL, &status, NULL) ||
        !WIFEXITED(status) || WEXITSTATUS(status) ||
        !g_file_get_contents(csv, &text, NULL, NULL)) {
        printf("(virtio-blk-ice-bench failed)\n");
        return false;
    }
    unlink(csv);
    lines = g_strsplit(text, "\n", -1);
    for (int l = 1; lines[l]; l++) {
        g_auto(GStrv) f = g_strsplit(lines[l], ",", -1);
        int c, w;
        size_t s;

        if (g_strv_length(f) < 8) {
            continue;
        }
        c = !strcmp(f[0], "ice-aes256-xts");
        w = !strcmp(f[2], "write");
        for (s = 0; s < N_SIZES; s++) {
            if (req_sizes[s] == g_ascii_strtoull(f[3], NULL, 10)) {
                rows[c][w][s] = (VirtioRow) {
                    .mbs = g_ascii_strtod(f[4], NULL),
                    .cpu_per_gib = g_ascii_strtod(f[7], NULL),
                    .found = true,
                };
            }
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    const char *csv_path = NULL;
    bool virtio = true;
    g_autofree char *dir = g_path_get_dirname(argv[0]);
    g_autofree char *img = g_strdup_printf("/dev/shm/ufs-ice-bench-%d.img",
                                           getpid());
    static Result res[2][2][N_SIZES];
    static VirtioRow vrows[2][2][N_SIZES];
    FILE *csv;
    int fd;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            seconds_per_row = 0.3;
        } else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
            repeat = MAX(1, atoi(argv[++i]));
        } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            seconds_per_row = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--csv") && i + 1 < argc) {
            csv_path = argv[++i];
        } else if (!strcmp(argv[i], "--no-virtio")) {
            virtio = false;
        }
    }
    if (!g_getenv("QTEST_QEMU_BINARY")) {
        g_setenv("QTEST_QEMU_BINARY", g_build_filename(dir, "..", "..",
                                       "qemu-system-x86_64", NULL), true);
    }
    fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0600);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, IMG_SIZE), ==, 0);
    close(fd);

    csv = ice_bench_csv_open(csv_path, "device,config,dir,size,mbs,spread,"
                             "iops,cpu_s_per_gib,vs_plain");
    printf("UFS, %d transfer requests in flight, /dev/shm image, "
           "%.1f s per run, median of %d runs\n", NSLOTS, seconds_per_row,
           repeat);
    printf("%-10s %-5s %7s | %8s %5s %9s %7s | %6s\n", "config", "dir",
           "size", "MB/s", "sprd", "IOPS", "CPUs/G", "/plain");
    for (int c = 0; c < 2; c++) {
        Bench b;

        bench_start(&b, c, img);
        for (int w = 1; w >= 0; w--) {
            for (size_t s = 0; s < N_SIZES; s++) {
                Result *r = &res[c][w][s];
                g_autofree char *ratio = NULL;

                *r = run_row(&b, w, req_sizes[s]);
                ratio = c ? g_strdup_printf("%.2f", r->mbs /
                                            res[0][w][s].mbs) : g_strdup("-");
                printf("%-10s %-5s %7zu | %8.0f %4.0f%% %9.0f %7.3f | %6s%s\n",
                       c ? "ufs-xts256" : "ufs-plain", w ? "write" : "read",
                       req_sizes[s], r->mbs, 100 * r->spread, r->iops,
                       r->cpu_per_gib, ratio, r->valid ? "" : "  (errors!)");
                if (csv) {
                    fprintf(csv, "ufs,%s,%s,%zu,%.1f,%.3f,%.0f,%.4f,%s\n",
                            c ? "ufs-xts256" : "ufs-plain",
                            w ? "write" : "read", req_sizes[s], r->mbs,
                            r->spread, r->iops, r->cpu_per_gib, ratio);
                }
                fflush(stdout);
            }
        }
        bench_stop(&b);
    }
    unlink(img);

    if (virtio && run_virtio(dir, vrows)) {
        printf("\nWhat crypto costs (AES-256-XTS, 4096-byte data units): "
               "MB/s crypto / plain, and CPU s/GiB added\n");
        printf("%-5s %7s | %10s %10s | %10s %10s\n", "dir", "size",
               "UFS ratio", "UFS +CPU", "virtio", "virtio +CPU");
        for (int w = 1; w >= 0; w--) {
            for (size_t s = 0; s < N_SIZES; s++) {
                VirtioRow *vp = &vrows[0][w][s], *vi = &vrows[1][w][s];
                Result *up = &res[0][w][s], *ui = &res[1][w][s];

                if (!vp->found || !vi->found) {
                    continue;
                }
                printf("%-5s %7zu | %10.2f %10.3f | %10.2f %10.3f\n",
                       w ? "write" : "read", req_sizes[s],
                       ui->mbs / up->mbs, ui->cpu_per_gib - up->cpu_per_gib,
                       vi->mbs / vp->mbs, vi->cpu_per_gib - vp->cpu_per_gib);
                if (csv) {
                    fprintf(csv, "virtio,plain,%s,%zu,%.1f,,,%.4f,-\n"
                            "virtio,ice-aes256-xts,%s,%zu,%.1f,,,%.4f,%.2f\n",
                            w ? "write" : "read", req_sizes[s], vp->mbs,
                            vp->cpu_per_gib, w ? "write" : "read",
                            req_sizes[s], vi->mbs, vi->cpu_per_gib,
                            vi->mbs / vp->mbs);
                }
            }
        }
    }
    if (csv) {
        fclose(csv);
    }
    return 0;
}
