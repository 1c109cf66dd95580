// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ice-fscrypt: the few fscrypt ioctls the guest of the fscrypt end-to-end
 * test needs, in a static binary for a busybox initramfs.
 *
 *   ice-fscrypt add-key MOUNTPOINT KEYFILE    add a v2 master key (64 bytes),
 *                                             print its identifier in hex
 *   ice-fscrypt set-policy DIR IDENTIFIER default|iv_ino_lblk_64|cbc_essiv
 *                                             v2 policy: AES-256-XTS contents
 *                                             and AES-256-CTS filenames with
 *                                             the default flags or
 *                                             IV_INO_LBLK_64, or AES-128-CBC
 *                                             (ESSIV) contents and
 *                                             AES-128-CTS filenames
 *   ice-fscrypt nonce FILE                    print the file's nonce in hex
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/fscrypt.h>

static int die(const char *what, const char *arg)
{
    fprintf(stderr, "ice-fscrypt: %s %s: %s\n", what, arg, strerror(errno));
    return 1;
}

static void print_hex(const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        printf("%02x", p[i]);
    }
    printf("\n");
}

static int add_key(const char *mnt, const char *keyfile)
{
    struct {
        struct fscrypt_add_key_arg arg;
        unsigned char raw[FSCRYPT_MAX_KEY_SIZE];
    } k;
    int fd = open(keyfile, O_RDONLY);
    ssize_t n;

    if (fd < 0) {
        return die("open", keyfile);
    }
    memset(&k, 0, sizeof(k));
    n = read(fd, k.raw, sizeof(k.raw));
    close(fd);
    if (n != FSCRYPT_MAX_KEY_SIZE) {
        fprintf(stderr, "ice-fscrypt: %s: need %d bytes\n", keyfile,
                FSCRYPT_MAX_KEY_SIZE);
        return 1;
    }
    k.arg.key_spec.type = FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER;
    k.arg.raw_size = n;
    fd = open(mnt, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        return die("open", mnt);
    }
    if (ioctl(fd, FS_IOC_ADD_ENCRYPTION_KEY, &k) < 0) {
        return die("FS_IOC_ADD_ENCRYPTION_KEY", mnt);
    }
    close(fd);
    print_hex(k.arg.key_spec.u.identifier, FSCRYPT_KEY_IDENTIFIER_SIZE);
    memset(k.raw, 0, sizeof(k.raw));
    return 0;
}

static int set_policy(const char *dir, const char *id, const char *policy)
{
    struct fscrypt_policy_v2 p = {
        .version = FSCRYPT_POLICY_V2,
        .contents_encryption_mode = FSCRYPT_MODE_AES_256_XTS,
        .filenames_encryption_mode = FSCRYPT_MODE_AES_256_CTS,
    };
    int fd;

    if (!strcmp(policy, "iv_ino_lblk_64")) {
        p.flags = FSCRYPT_POLICY_FLAG_IV_INO_LBLK_64;
    } else if (!strcmp(policy, "cbc_essiv")) {
        p.contents_encryption_mode = FSCRYPT_MODE_AES_128_CBC;
        p.filenames_encryption_mode = FSCRYPT_MODE_AES_128_CTS;
    } else if (strcmp(policy, "default")) {
        fprintf(stderr, "ice-fscrypt: unknown policy %s\n", policy);
        return 1;
    }

    if (strlen(id) != 2 * FSCRYPT_KEY_IDENTIFIER_SIZE) {
        fprintf(stderr, "ice-fscrypt: bad identifier %s\n", id);
        return 1;
    }
    for (int i = 0; i < FSCRYPT_KEY_IDENTIFIER_SIZE; i++) {
        sscanf(id + 2 * i, "%2hhx", &p.master_key_identifier[i]);
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        return die("open", dir);
    }
    if (ioctl(fd, FS_IOC_SET_ENCRYPTION_POLICY, &p) < 0) {
        return die("FS_IOC_SET_ENCRYPTION_POLICY", dir);
    }
    close(fd);
    return 0;
}

static int nonce(const char *file)
{
    unsigned char n[16];     /* FS_IOC_GET_ENCRYPTION_NONCE: 16 bytes */
    int fd = open(file, O_RDONLY);

    if (fd < 0) {
        return die("open", file);
    }
    if (ioctl(fd, FS_IOC_GET_ENCRYPTION_NONCE, n) < 0) {
        return die("FS_IOC_GET_ENCRYPTION_NONCE", file);
    }
    close(fd);
    print_hex(n, sizeof(n));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "add-key")) {
        return add_key(argv[2], argv[3]);
    }
    if (argc == 5 && !strcmp(argv[1], "set-policy")) {
        return set_policy(argv[2], argv[3], argv[4]);
    }
    if (argc == 3 && !strcmp(argv[1], "nonce")) {
        return nonce(argv[2]);
    }
    fprintf(stderr, "usage: ice-fscrypt add-key MNT KEYFILE | "
            "set-policy DIR IDENTIFIER default|iv_ino_lblk_64|cbc_essiv | "
            "nonce FILE\n");
    return 2;
}
