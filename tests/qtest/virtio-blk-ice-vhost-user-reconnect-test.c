/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QTest: a vhost-user-blk export with ice=on forgets what a front end
 * negotiated when it disconnects
 *
 * QEMU's own front end sends VHOST_USER_SET_FEATURES on every connection,
 * so this test is its own minimal vhost-user front end: one memfd region,
 * one queue of 16 descriptors, requests built by hand.  The first
 * connection acknowledges VIRTIO_BLK_F_ICE; the second reconnects without
 * SET_FEATURES, so its requests carry no crypto payload: a plain write
 * must land as it is on the image and GET_CRYPTO_CAPABILITIES must be
 * unsupported.  The host's key survives both, and a third connection
 * that acknowledges the feature again writes IEEE 1619 vector 10's
 * ciphertext with it.
 */

#include "qemu/osdep.h"
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <poll.h>
#include "libqtest.h"
#include "qemu/atomic.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "standard-headers/linux/virtio_blk.h"
#include "standard-headers/linux/virtio_config.h"
#include "standard-headers/linux/virtio_ring.h"
#include "libqos/ice-host.h"
#include "../ice-vectors.h"

/* vhost-user requests this front end sends */
#define VU_GET_FEATURES         1
#define VU_SET_FEATURES         2
#define VU_SET_OWNER            3
#define VU_SET_MEM_TABLE        5
#define VU_SET_VRING_NUM        8
#define VU_SET_VRING_ADDR       9
#define VU_SET_VRING_BASE       10
#define VU_SET_VRING_KICK       12
#define VU_SET_VRING_CALL       13
#define VU_VERSION              0x1
#define VU_MEM_REGIONS_MAX      8

/* The shared memory: guest physical address 0 is offset 0 */
#define MEM_SIZE        (1024 * 1024)
#define MEM_UADDR       0x7f0000000000ull  /* the front end's "address" */
#define QSIZE           16
#define DESC_OFF        0x0000
#define AVAIL_OFF       0x1000
#define USED_OFF        0x2000
#define HDR_OFF         0x10000     /* header and payload, 32 bytes */
#define DATA_OFF        0x11000     /* 512 bytes */
#define STATUS_OFF      0x12000
#define SECTOR          8
#define SLOT            3
#define CAPS_LEN        (1 + 4 * 9)  /* a count, the capability words */

typedef struct VuMsgHdr {
    uint32_t request;
    uint32_t flags;
    uint32_t size;
} QEMU_PACKED VuMsgHdr;

/* One front-end connection */
typedef struct Conn {
    int sock;
    int kick;
    int call;
    uint16_t avail_idx;
    uint16_t used_idx;
} Conn;

static int mem_fd = -1;
static uint8_t *mem;

/* Send request @req with @len bytes of @payload and, if >= 0, file @fd */
static void vu_send(Conn *c, uint32_t req, const void *payload, size_t len,
                    int fd)
{
    VuMsgHdr hdr = { .request = req, .flags = VU_VERSION, .size = len };
    struct iovec iov[2] = {
        { .iov_base = &hdr, .iov_len = sizeof(hdr) },
        { .iov_base = (void *)payload, .iov_len = len },
    };
    char control[CMSG_SPACE(sizeof(int))] = { 0 };
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };

    if (fd >= 0) {
        struct cmsghdr *cmsg;

        msg.msg_control = control;
        msg.msg_controllen = sizeof(control);
        cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    }
    g_assert_cmpint(sendmsg(c->sock, &msg, 0), ==, sizeof(hdr) + len);
}

static void vu_send_u64(Conn *c, uint32_t req, uint64_t val, int fd)
{
    vu_send(c, req, &val, sizeof(val), fd);
}

static uint64_t vu_get_features(Conn *c)
{
    VuMsgHdr hdr;
    uint64_t features;

    vu_send(c, VU_GET_FEATURES, NULL, 0, -1);
    g_assert_cmpint(read(c->sock, &hdr, sizeof(hdr)), ==, sizeof(hdr));
    g_assert_cmpuint(hdr.request, ==, VU_GET_FEATURES);
    g_assert_cmpuint(hdr.size, ==, sizeof(features));
    g_assert_cmpint(read(c->sock, &features, sizeof(features)), ==,
                    sizeof(features));
    return features;
}

/*
 * Connect to @path, acknowledge @features unless 0, share the memory and
 * start queue 0 on a ring left empty
 */
static void conn_open(Conn *c, const char *path, uint64_t features)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct {
        uint32_t nregions;
        uint32_t padding;
        uint64_t regions[VU_MEM_REGIONS_MAX][4];
    } QEMU_PACKED table = {
        .nregions = 1,
        .regions[0] = { 0, MEM_SIZE, MEM_UADDR, 0 },
    };
    struct {
        uint32_t index;
        uint32_t flags;
        uint64_t desc, used, avail, log;
    } QEMU_PACKED vaddr = {
        .desc = MEM_UADDR + DESC_OFF,
        .used = MEM_UADDR + USED_OFF,
        .avail = MEM_UADDR + AVAIL_OFF,
    };
    uint32_t state[2] = { 0, QSIZE };

    memset(mem, 0, HDR_OFF);
    *c = (Conn) {
        .sock = socket(AF_UNIX, SOCK_STREAM, 0),
        .kick = eventfd(0, 0),
        .call = eventfd(0, EFD_NONBLOCK),
    };
    g_assert_cmpint(c->sock, >=, 0);
    g_assert_cmpint(c->kick, >=, 0);
    g_assert_cmpint(c->call, >=, 0);
    pstrcpy(addr.sun_path, sizeof(addr.sun_path), path);
    g_assert_cmpint(connect(c->sock, (struct sockaddr *)&addr,
                            sizeof(addr)), ==, 0);

    if (features) {
        g_assert_true(vu_get_features(c) & features);
        vu_send_u64(c, VU_SET_FEATURES, features, -1);
    }
    vu_send(c, VU_SET_OWNER, NULL, 0, -1);
    vu_send(c, VU_SET_MEM_TABLE, &table, sizeof(table), mem_fd);
    vu_send(c, VU_SET_VRING_NUM, state, sizeof(state), -1);
    vu_send(c, VU_SET_VRING_ADDR, &vaddr, sizeof(vaddr), -1);
    state[1] = 0;
    vu_send(c, VU_SET_VRING_BASE, state, sizeof(state), -1);
    vu_send_u64(c, VU_SET_VRING_CALL, 0, c->call);
    vu_send_u64(c, VU_SET_VRING_KICK, 0, c->kick);
}

static void conn_close(Conn *c)
{
    close(c->sock);
    close(c->kick);
    close(c->call);
}

static void set_desc(int i, uint64_t off, uint32_t len, uint16_t flags)
{
    struct vring_desc *d = (struct vring_desc *)(mem + DESC_OFF) + i;

    d->addr = cpu_to_le64(off);
    d->len = cpu_to_le32(len);
    d->flags = cpu_to_le16(flags | (i < 2 ? VRING_DESC_F_NEXT : 0));
    d->next = cpu_to_le16(i + 1);
}

/*
 * One request of @type: header (with the crypto payload @payload if not
 * NULL), @len bytes at DATA_OFF, the status byte.  Returns the status.
 */
static uint8_t conn_request(Conn *c, uint32_t type, const void *payload,
                            uint32_t len)
{
    struct virtio_blk_outhdr *hdr = (void *)(mem + HDR_OFF);
    struct vring_avail *avail = (void *)(mem + AVAIL_OFF);
    struct vring_used *used = (void *)(mem + USED_OFF);
    bool dev_writes = type != VIRTIO_BLK_T_OUT;
    struct pollfd pfd = { .fd = c->call, .events = POLLIN };
    uint64_t n;

    hdr->type = cpu_to_le32(type);
    hdr->ioprio = 0;
    hdr->sector = cpu_to_le64(SECTOR);
    if (payload) {
        memcpy(hdr + 1, payload, sizeof(struct virtio_blk_crypto_payload));
    }
    mem[STATUS_OFF] = 0xff;
    set_desc(0, HDR_OFF, sizeof(*hdr) +
             (payload ? sizeof(struct virtio_blk_crypto_payload) : 0), 0);
    set_desc(1, DATA_OFF, len, dev_writes ? VRING_DESC_F_WRITE : 0);
    set_desc(2, STATUS_OFF, 1, VRING_DESC_F_WRITE);
    avail->ring[c->avail_idx % QSIZE] = cpu_to_le16(0);
    smp_wmb();      /* the descriptors before the index that publishes them */
    avail->idx = cpu_to_le16(++c->avail_idx);
    smp_mb();       /* the index before the kick */
    n = 1;
    g_assert_cmpint(write(c->kick, &n, sizeof(n)), ==, sizeof(n));

    while (le16_to_cpu(qatomic_read(&used->idx)) == c->used_idx) {
        g_assert_cmpint(poll(&pfd, 1, 10 * 1000), ==, 1);
        g_assert_cmpint(read(c->call, &n, sizeof(n)), ==, sizeof(n));
    }
    c->used_idx++;
    smp_rmb();      /* the used index before the status it covers */
    return mem[STATUS_OFF];
}

/* The export's programmed slots, as query-ice lists them */
static int64_t programmed_slots(IceQsd *qsd)
{
    QDict *rsp = ice_qsd_qmp(qsd, "{'execute': 'query-ice', 'arguments':"
                             " {'id': '" ICE_QSD_EXPORT_ID "'}}");
    QDict *ret = qdict_get_qdict(rsp, "return");
    int64_t n;

    g_assert_nonnull(ret);
    n = qlist_size(qdict_get_qlist(ret, "slots"));
    qobject_unref(rsp);
    return n;
}

static void test_reconnect_without_set_features(void)
{
    const IceKat *t = ice_kat_find("xts-256/ieee1619-v10");
    const uint64_t ice = 1ull << VIRTIO_F_VERSION_1 |
                         1ull << VIRTIO_BLK_F_ICE;
    g_autofree char *img = ice_image_create(1024 * 1024);
    g_autofree char *sock = g_strdup_printf("%s/ice-reconnect-%d.sock",
                                            g_get_tmp_dir(), getpid());
    g_autofree uint8_t *ct = NULL;
    struct virtio_blk_crypto_payload payload = {
        .slot = SLOT, .activate = 1,
        .data_unit_num = cpu_to_le64(t->dun),
    };
    uint8_t pt[512], disk[512];
    size_t ct_len;
    IceQsd qsd;
    Conn c;

    mem_fd = memfd_create("ice-reconnect", 0);
    g_assert_cmpint(mem_fd, >=, 0);
    g_assert_cmpint(ftruncate(mem_fd, MEM_SIZE), ==, 0);
    mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mem_fd, 0);
    g_assert(mem != MAP_FAILED);
    ct = unhex(t->ct, &ct_len);
    ice_kat_plaintext(t, pt, sizeof(pt));

    ice_qsd_start_export(&qsd, img, sock, "");
    ice_keys_program_kat(NULL, &qsd, ICE_QSD_EXPORT_ID, t, SLOT, "k");

    /* The first front end acknowledges the feature */
    conn_open(&c, sock, ice);
    g_assert_cmpuint(conn_request(&c, VIRTIO_BLK_T_GET_CRYPTO_CAPABILITIES,
                                  NULL, CAPS_LEN), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(mem[DATA_OFF], >, 0);     /* the count of words */
    conn_close(&c);

    /*
     * The next one does not: its requests have no payload, and a plain
     * write lands as it is
     */
    conn_open(&c, sock, 0);
    memcpy(mem + DATA_OFF, pt, sizeof(pt));
    g_assert_cmpuint(conn_request(&c, VIRTIO_BLK_T_OUT, NULL, sizeof(pt)),
                     ==, VIRTIO_BLK_S_OK);
    ice_image_read(img, SECTOR * 512, disk, sizeof(disk));
    g_assert(!memcmp(disk, pt, sizeof(pt)));
    g_assert_cmpuint(conn_request(&c, VIRTIO_BLK_T_GET_CRYPTO_CAPABILITIES,
                                  NULL, CAPS_LEN), ==, VIRTIO_BLK_S_UNSUPP);
    conn_close(&c);

    /* The host's key stayed: a front end that negotiates uses it */
    g_assert_cmpint(programmed_slots(&qsd), ==, 1);
    conn_open(&c, sock, ice);
    memcpy(mem + DATA_OFF, pt, sizeof(pt));
    g_assert_cmpuint(conn_request(&c, VIRTIO_BLK_T_OUT, &payload,
                                  sizeof(pt)), ==, VIRTIO_BLK_S_OK);
    ice_image_read(img, SECTOR * 512, disk, sizeof(disk));
    g_assert(!memcmp(disk, ct, MIN(ct_len, sizeof(disk))));
    conn_close(&c);

    ice_qsd_stop(&qsd);
    munmap(mem, MEM_SIZE);
    close(mem_fd);
    unlink(sock);
    unlink(img);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_getenv("QTEST_QEMU_STORAGE_DAEMON_BINARY")) {
        g_test_skip("qemu-storage-daemon with vhost-user-blk is not built");
        return g_test_run();
    }
    qtest_add_func("/vhost-user-blk-ice/reconnect-without-set-features",
                   test_reconnect_without_set_features);
    return g_test_run();
}
