/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * ice-io: drive a virtio-blk inline crypto engine as a guest would
 *
 * In the spirit of qemu-io, but on the guest side of the device: start a
 * QEMU with an ice=on disk under qtest, negotiate VIRTIO_BLK_F_ICE, and
 * issue read, write, flush and capabilities requests with an explicit
 * sector, length, slot, activate flag and data unit number (DUN).  The
 * status byte of every request is printed.
 *
 * Example:
 *   ice-io -i disk.img -a "-object secret,id=k,file=key.bin,format=raw" \
 *          -d "ice=on,ice-preload=0:aes-xts:256:4096:k" \
 *          -c "write -s 0 -n 7 -t 'hello' 8 4096" -c "read -s 0 -n 7 8 64"
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qapi/error.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qstring.h"
#include "standard-headers/linux/virtio_blk.h"
#include "libqos/virtio-blk-ice.h"

#define ICE_IO_DEVFN QPCI_DEVFN(4, 0)

typedef struct IceIo {
    QOSState *qs;
    IcePciDisk disk;
} IceIo;

static const char *status_name(uint8_t status)
{
    switch (status) {
    case VIRTIO_BLK_S_OK:
        return "OK";
    case VIRTIO_BLK_S_IOERR:
        return "IOERR";
    case VIRTIO_BLK_S_UNSUPP:
        return "UNSUPP";
    default:
        return "?";
    }
}

static void hexdump(const uint8_t *buf, size_t len, uint64_t base)
{
    for (size_t off = 0; off < len; off += 16) {
        size_t n = MIN(16, len - off);

        printf("%08" PRIx64 ":", base + off);
        for (size_t i = 0; i < 16; i++) {
            if (i < n) {
                printf(" %02x", buf[off + i]);
            } else {
                printf("   ");
            }
        }
        printf("  ");
        for (size_t i = 0; i < n; i++) {
            putchar(g_ascii_isprint(buf[off + i]) ? buf[off + i] : '.');
        }
        putchar('\n');
    }
}

static bool parse_u64(const char *s, uint64_t *v)
{
    return qemu_strtou64(s, NULL, 0, v) == 0;
}

/* Common options of read and write; returns the index of the first operand */
typedef struct RwArgs {
    uint64_t slot, activate, dun, pattern;
    const char *text, *in_file, *out_file;
    bool have_pattern;
} RwArgs;

static int parse_rw_args(int argc, char **argv, RwArgs *a)
{
    int i;

    a->activate = 1;
    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *opt = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = val != NULL;

        if (!strcmp(opt, "-s")) {
            ok = ok && parse_u64(val, &a->slot);
        } else if (!strcmp(opt, "-a")) {
            ok = ok && parse_u64(val, &a->activate);
        } else if (!strcmp(opt, "-n")) {
            ok = ok && parse_u64(val, &a->dun);
        } else if (!strcmp(opt, "-P")) {
            ok = ok && parse_u64(val, &a->pattern);
            a->have_pattern = true;
        } else if (!strcmp(opt, "-t")) {
            a->text = val;
        } else if (!strcmp(opt, "-f")) {
            a->in_file = val;
        } else if (!strcmp(opt, "-o")) {
            a->out_file = val;
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "%s: bad option or value '%s'\n", argv[0], opt);
            return -1;
        }
        i++;
    }
    if (argc - i != 2) {
        fprintf(stderr, "%s: expected SECTOR LEN\n", argv[0]);
        return -1;
    }
    if (a->slot > UINT8_MAX || a->activate > UINT8_MAX) {
        fprintf(stderr, "%s: slot and activate are 8-bit values\n", argv[0]);
        return -1;
    }
    return i;
}

static int cmd_rw(IceIo *io, int argc, char **argv, bool write)
{
    RwArgs a = { 0 };
    uint64_t sector, len;
    g_autofree uint8_t *buf = NULL;
    uint8_t status;
    IceReq r;
    int i = parse_rw_args(argc, argv, &a);

    if (i < 0 || !parse_u64(argv[i], &sector) ||
        !parse_u64(argv[i + 1], &len) || len > 64 * 1024 * 1024) {
        if (i >= 0) {
            fprintf(stderr, "%s: bad SECTOR or LEN (at most 64 MiB)\n",
                    argv[0]);
        }
        return -1;
    }
    buf = g_malloc0(len);
    if (write) {
        if (a.in_file) {
            g_autofree char *contents = NULL;
            gsize n;

            if (!g_file_get_contents(a.in_file, &contents, &n, NULL)) {
                fprintf(stderr, "write: cannot read %s\n", a.in_file);
                return -1;
            }
            memcpy(buf, contents, MIN(n, len));
        } else if (a.text) {
            memcpy(buf, a.text, MIN(strlen(a.text), len));
        } else if (a.have_pattern) {
            memset(buf, a.pattern, len);
        }
    }

    r = (IceReq) {
        .type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
        .sector = sector, .payload = io->disk.ice, .slot = a.slot,
        .activate = a.activate, .dun = a.dun, .data = buf, .len = len,
    };
    status = ice_req_do(io->qs->qts, io->disk.dev, &io->qs->alloc, io->disk.vq,
                        &r);
    printf("%s sector %" PRIu64 " len %" PRIu64 " slot %" PRIu64
           " activate %" PRIu64 " dun %" PRIu64 ": status %u (%s)\n",
           argv[0], sector, len, a.slot, a.activate, a.dun, status,
           status_name(status));
    if (!write && status == VIRTIO_BLK_S_OK) {
        if (a.out_file) {
            if (!g_file_set_contents(a.out_file, (char *)buf, len, NULL)) {
                fprintf(stderr, "read: cannot write %s\n", a.out_file);
                return -1;
            }
        } else {
            hexdump(buf, len, sector * 512);
        }
    }
    return status == VIRTIO_BLK_S_OK ? 0 : 1;
}

static int cmd_flush(IceIo *io)
{
    IceReq r = { .type = VIRTIO_BLK_T_FLUSH, .payload = io->disk.ice };
    uint8_t status = ice_req_do(io->qs->qts, io->disk.dev, &io->qs->alloc,
                                io->disk.vq, &r);

    printf("flush: status %u (%s)\n", status, status_name(status));
    return status == VIRTIO_BLK_S_OK ? 0 : 1;
}

static const char *const alg_names[] = {
    "aes-xts", "bitlocker-aes-cbc", "aes-ecb", "essiv-aes-cbc",
};

static int cmd_caps(IceIo *io, int argc, char **argv)
{
    uint64_t len = 1 + 4 * 16;
    g_autofree uint8_t *buf = NULL;
    uint8_t status;
    IceReq r;

    if (argc > 2 || (argc == 2 && (!parse_u64(argv[1], &len) ||
                                   len > 1 + 4 * 255))) {
        fprintf(stderr, "caps: usage: caps [LEN]\n");
        return -1;
    }
    buf = g_malloc0(MAX(len, 1));
    r = (IceReq) { .type = VIRTIO_BLK_T_GET_CRYPTO_CAPABILITIES,
                   .data = len ? buf : NULL, .len = len };
    status = ice_req_do(io->qs->qts, io->disk.dev, &io->qs->alloc, io->disk.vq,
                        &r);
    printf("caps len %" PRIu64 ": status %u (%s)\n", len, status,
           status_name(status));
    if (status != VIRTIO_BLK_S_OK) {
        return 1;
    }
    printf("  %u capabilities\n", buf[0]);
    for (unsigned i = 0; i < buf[0] && 1 + 4 * (i + 1) <= len; i++) {
        uint32_t cap = ldl_le_p(buf + 1 + 4 * i);
        unsigned alg = cap >> 24, mask = (cap >> 16) & 0xff;
        unsigned ks = (cap >> 8) & 0xff;

        printf("  0x%08" PRIx32 "  %-18s key %3u bits  data units:", cap,
               alg < G_N_ELEMENTS(alg_names) ? alg_names[alg] : "unknown",
               ks ? 64 + 64 * ks : 0);
        for (int j = 0; j < 8; j++) {
            if (mask & (1 << j)) {
                printf(" %u", 512 << j);
            }
        }
        printf("\n");
    }
    return 0;
}

static int cmd_qmp(IceIo *io, const char *json)
{
    Error *err = NULL;
    QObject *cmd = qobject_from_json(json, &err);
    QDict *rsp;
    GString *str;

    if (!cmd) {
        fprintf(stderr, "qmp: %s\n", error_get_pretty(err));
        error_free(err);
        return -1;
    }
    rsp = qtest_qmp(io->qs->qts, "%p", cmd);
    str = qobject_to_json_pretty(QOBJECT(rsp), true);

    printf("%s\n", str->str);
    g_string_free(str, true);
    qobject_unref(rsp);
    return 0;
}

static int cmd_info(IceIo *io)
{
    uint16_t slot_info = qvirtio_config_readw(io->disk.dev, 96);

    printf("VIRTIO_BLK_F_ICE negotiated: %s\n",
           io->disk.ice ? "yes" : "no");
    printf("capacity: %" PRIu64 " sectors\n",
           qvirtio_config_readq(io->disk.dev, 0));
    printf("crypto.slot_info: 0x%04x (max_slots %u, slot_offset %u)\n",
           slot_info, slot_info >> 8, slot_info & 0xff);
    return 0;
}

static int run_command(IceIo *io, const char *line)
{
    g_auto(GStrv) argv = NULL;
    g_autoptr(GError) err = NULL;
    int argc;

    if (g_str_has_prefix(line, "qmp ")) {
        return cmd_qmp(io, line + 4);
    }
    if (!g_shell_parse_argv(line, &argc, &argv, &err)) {
        fprintf(stderr, "cannot parse '%s': %s\n", line, err->message);
        return -1;
    }
    if (!strcmp(argv[0], "write") || !strcmp(argv[0], "read")) {
        return cmd_rw(io, argc, argv, argv[0][0] == 'w');
    } else if (!strcmp(argv[0], "flush")) {
        return cmd_flush(io);
    } else if (!strcmp(argv[0], "caps")) {
        return cmd_caps(io, argc, argv);
    } else if (!strcmp(argv[0], "info")) {
        return cmd_info(io);
    }
    fprintf(stderr, "unknown command '%s' (read, write, flush, caps, info, "
            "qmp)\n", argv[0]);
    return -1;
}

/* libqtest reports each QEMU it starts as a "# ..." test message */
static bool verbose;

static void print_handler(const gchar *str)
{
    if (verbose || str[0] != '#') {
        fputs(str, stdout);
    }
}

static void usage(void)
{
    printf(
"Usage: ice-io -i IMAGE [options] [-c COMMAND]...\n"
"       ice-io -u SOCKET [options] [-c COMMAND]...\n"
"Start QEMU with IMAGE on a virtio-blk-pci disk under qtest and act as its\n"
"guest driver.  Without -c, commands are read from standard input.\n"
"\n"
"  -i IMAGE     raw disk image\n"
"  -u SOCKET    a vhost-user-blk-pci disk connected to the vhost-user\n"
"               socket SOCKET, e.g. a qemu-storage-daemon export with\n"
"               ice=on (guest RAM is shared memory)\n"
"  -q QEMU      QEMU binary (default: $QTEST_QEMU_BINARY, else the\n"
"               qemu-system-x86_64 of the build this tool belongs to)\n"
"  -d PROPS     the disk's properties (default: ice=on)\n"
"  -a ARGS      more QEMU arguments, e.g. \"-object secret,...\"\n"
"  -N           do not accept VIRTIO_BLK_F_ICE (16-byte headers)\n"
"  -v           show the QEMU command line\n"
"  -c COMMAND   run COMMAND (may be repeated)\n"
"\n"
"Commands:\n"
"  write [-s SLOT] [-a ACTIVATE] [-n DUN] [-P BYTE|-t TEXT|-f FILE]\n"
"        SECTOR LEN\n"
"  read  [-s SLOT] [-a ACTIVATE] [-n DUN] [-o FILE] SECTOR LEN\n"
"        ACTIVATE defaults to 1; read prints a hex dump unless -o is given\n"
"  flush\n"
"  caps [LEN]   VIRTIO_BLK_T_GET_CRYPTO_CAPABILITIES with LEN data bytes\n"
"  info         negotiated features and the crypto config field\n"
"  qmp JSON     send a QMP command, e.g. qmp {'execute': 'query-ice',\n"
"               'arguments': {'id': 'disk0'}}\n"
"\n"
"The disk has the id disk0.  Exit status: 0 if every request completed\n"
"with VIRTIO_BLK_S_OK, 1 if one did not, 2 on usage errors.\n");
}

int main(int argc, char **argv)
{
    const char *image = NULL, *qemu = NULL, *props = "ice=on", *args = "";
    const char *vhost_user = NULL;
    g_autoptr(GPtrArray) cmds = g_ptr_array_new();
    bool accept_ice = true;
    int opt, ret = 0;
    IceIo io = { 0 };

    g_set_print_handler(print_handler);
    while ((opt = getopt(argc, argv, "i:u:q:d:a:Nvc:h")) != -1) {
        switch (opt) {
        case 'i':
            image = optarg;
            break;
        case 'u':
            vhost_user = optarg;
            break;
        case 'q':
            qemu = optarg;
            break;
        case 'd':
            props = optarg;
            break;
        case 'a':
            args = optarg;
            break;
        case 'N':
            accept_ice = false;
            break;
        case 'v':
            verbose = true;
            break;
        case 'c':
            g_ptr_array_add(cmds, optarg);
            break;
        case 'h':
            usage();
            return 0;
        default:
            usage();
            return 2;
        }
    }
    if (!image == !vhost_user) {
        usage();
        return 2;
    }
    if (qemu) {
        g_setenv("QTEST_QEMU_BINARY", qemu, true);
    } else if (!g_getenv("QTEST_QEMU_BINARY")) {
        /* BUILD/tests/qtest/ice-io -> BUILD/qemu-system-x86_64 */
        g_autofree char *dir = g_path_get_dirname(argv[0]);
        g_autofree char *bin = g_build_filename(dir, "..", "..",
                                                "qemu-system-x86_64", NULL);

        g_setenv("QTEST_QEMU_BINARY", bin, true);
    }

    if (vhost_user) {
        io.qs = qtest_pc_boot("-object memory-backend-shm,id=mem,size=256M "
                              "-M memory-backend=mem -m 256M "
                              "-chardev socket,id=vu0,path=%s "
                              "-device vhost-user-blk-pci,id=disk0,"
                              "chardev=vu0,addr=04.0,%s %s", vhost_user,
                              props, args);
    } else {
        io.qs = qtest_pc_boot("-drive if=none,id=drive0,file=%s,format=raw "
                              "-device virtio-blk-pci,id=disk0,"
                              "drive=drive0,addr=04.0,%s %s", image, props,
                              args);
    }
    ice_pci_disk_start(&io.disk, io.qs, ICE_IO_DEVFN, accept_ice);

    if (cmds->len) {
        for (guint i = 0; i < cmds->len && ret >= 0; i++) {
            int r = run_command(&io, g_ptr_array_index(cmds, i));

            ret = r < 0 ? r : MAX(ret, r);
        }
    } else {
        char line[4096];

        while (fgets(line, sizeof(line), stdin)) {
            int r;

            g_strstrip(line);
            if (!*line || line[0] == '#') {
                continue;
            }
            r = run_command(&io, line);
            ret = r < 0 ? ret : MAX(ret, r);
        }
    }
    fflush(stdout);

    ice_pci_disk_stop(&io.disk, io.qs);
    qtest_shutdown(io.qs);
    return ret < 0 ? 2 : ret;
}
