/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * virtio-blk inline crypto engine fuzzing target (libFuzzer, qos)
 *
 * The device has ice=on and two programmed slots, and the fuzzer is a
 * driver that negotiated VIRTIO_BLK_F_ICE.  Each input is a list of
 * requests whose type, header length, payload (slot, activate, DUN),
 * sector, data length, descriptor layout and direction all come from the
 * input, so coverage guidance can explore the request parsing and every
 * check of the crypto path.  Run as
 *   qemu-fuzz-x86_64 --fuzz-target=virtio-blk-ice-fuzz
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/virtio-blk.h"
#include "tests/qtest/libqos/virtio-blk-ice.h"
#include "standard-headers/linux/virtio_blk.h"
#include "fuzz.h"
#include "qos_fuzz.h"

/* One request: the fixed part of a record, followed by its data */
typedef struct QEMU_PACKED IceFuzzRecord {
    uint8_t type;           /* index into types[], else used as it is */
    uint8_t hdr;            /* bit 7: no payload; bits 0-5: short header */
    uint8_t slot;
    uint8_t activate;
    uint8_t layout;         /* bit 7: data reversed; bits 0-6: piece size */
    uint8_t pad[3];
    uint32_t len;           /* data bytes, at most ICE_FUZZ_MAX_LEN */
    uint64_t sector;
    uint64_t dun;
} IceFuzzRecord;

#define ICE_FUZZ_MAX_LEN    (128 * 1024)
#define ICE_FUZZ_MAX_REQS   16

static const uint32_t types[] = {
    VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
    VIRTIO_BLK_T_GET_CRYPTO_CAPABILITIES, VIRTIO_BLK_T_GET_ID,
    VIRTIO_BLK_T_WRITE_ZEROES, VIRTIO_BLK_T_DISCARD,
};

static void ice_fuzz(QTestState *s, const unsigned char *data, size_t size)
{
    QVirtioBlk *blk = fuzz_qos_obj;
    QGuestAllocator *alloc = fuzz_qos_alloc;
    static uint8_t buf[ICE_FUZZ_MAX_LEN];
    IceReq reqs[ICE_FUZZ_MAX_REQS];
    size_t split[ICE_FUZZ_MAX_REQS][3];
    QVirtQueue *vq;
    int n;

    /*
     * A virtio reset rather than fuzz_reset(): a system reset would also
     * unmap the PCI BARs that qos mapped once.  Key slots survive either.
     */
    qvirtio_start_device(blk->vdev);
    vq = ice_req_start_device(blk->vdev, alloc, true);

    for (n = 0; n < ICE_FUZZ_MAX_REQS && size >= sizeof(IceFuzzRecord); n++) {
        IceFuzzRecord rec;
        IceReq *r = &reqs[n];

        memcpy(&rec, data, sizeof(rec));
        data += sizeof(rec);
        size -= sizeof(rec);

        *r = (IceReq) {
            .type = rec.type < ARRAY_SIZE(types) ? types[rec.type] : rec.type,
            .sector = le64_to_cpu(rec.sector),
            .payload = !(rec.hdr & 0x80),
            .hdr_len = rec.hdr & 0x3f,      /* 0: the proper length */
            .slot = rec.slot,
            .activate = rec.activate,
            .dun = le64_to_cpu(rec.dun),
            .len = MIN(le32_to_cpu(rec.len), ICE_FUZZ_MAX_LEN),
            .reverse = rec.layout & 0x80,
            .data = buf,
            .split = split[n],
        };
        /* Data units split over descriptors of a fuzzed size */
        memset(split[n], 0, sizeof(split[n]));
        if (rec.layout & 0x7f) {
            split[n][0] = (rec.layout & 0x7f) * 37;
            split[n][1] = ICE_REQ_ZERO_DESC * !!(rec.pad[0] & 1);
        }
        memset(buf, rec.pad[1], r->len);
        ice_req_submit(s, blk->vdev, alloc, vq, r);
    }
    flush_events(s);

    /* The reset drains what is still in flight; then free guest memory */
    qvirtio_reset(blk->vdev);
    while (n--) {
        guest_free(alloc, reqs[n].addr);
    }
    qvirtqueue_cleanup(blk->vdev->bus, vq, alloc);
}

static void ice_fuzz_pre(QTestState *s)
{
    qos_init_path(s);
}

static void *ice_fuzz_setup(GString *cmd_line, void *arg)
{
    /*
     * The harness splits this with wordexp(): the ';' between the two
     * preloaded slots must be quoted.  There is no QMP in the fuzzer.
     */
    g_string_append(cmd_line,
                    " -drive if=none,id=drive0,file=null-co://,format=raw,"
                    "file.read-zeroes=on"
                    " -object secret,id=k0,format=base64,"
                    "data=MDEyMzQ1Njc4OWFiY2RlZkZFRENCQTk4NzY1NDMyMTA="
                    " -object secret,id=k1,format=base64,"
                    "data=SUNFLUZVWlotS0VZLTEyOA=="
                    " -global virtio-blk-device.ice=on"
                    " -global virtio-blk-device.ice-slots=4"
                    " -global virtio-blk-device.ice-slot-offset=1"
                    " -global 'virtio-blk-device.ice-preload="
                    "1:aes-xts:128:512:k0;2:essiv-aes-cbc:128:4096:k1' ");
    return arg;
}

static void register_virtio_blk_ice_fuzz_targets(void)
{
    fuzz_add_qos_target(&(FuzzTarget){
                .name = "virtio-blk-ice-fuzz",
                .description = "Fuzz virtio-blk requests with the inline "
                               "crypto payload (VIRTIO_BLK_F_ICE)",
                .pre_fuzz = &ice_fuzz_pre,
                .fuzz = ice_fuzz,},
                "virtio-blk",
                &(QOSGraphTestOptions){.before = ice_fuzz_setup}
                );
}

fuzz_target_init(register_virtio_blk_ice_fuzz_targets);
