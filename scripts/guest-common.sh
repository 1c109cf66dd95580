# SPDX-License-Identifier: GPL-2.0-or-later
#
# Shared by the tests that boot the guest kernel of contrib/linux
# (scripts/guest-driver-test, scripts/guest-fscrypt-test); sourced, with
# srcdir, builddir and say() set.  Sets objdir and kernel, and provides
# initramfs_start, initramfs_pack and boot_guest.

objdir=$builddir/qemu

set +e
kernel=$("$srcdir/scripts/guest-kernel" "$builddir")
rc=$?
set -e
kernel=$(printf '%s\n' "$kernel" | tail -n 1)
[ $rc = 77 ] && { say "SKIP: no guest kernel source"; exit 77; }
[ $rc = 0 ] || { say "FAIL: the guest kernel did not build"; exit 1; }

busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
    busybox=/bin/busybox
[ -x "$busybox" ] || { say "FAIL: busybox-static is not installed"; exit 1; }

# initramfs_start DIR: a busybox tree in DIR, whose /init the caller writes
initramfs_start() {
    rm -rf "$1" && mkdir -p "$1/bin" "$1/proc" "$1/sys" "$1/dev" "$1/mnt"
    cp "$busybox" "$1/bin/busybox"
}

# initramfs_pack DIR OUT: the tree as a gzipped cpio archive
initramfs_pack() {
    chmod +x "$1/init"
    (cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) > "$2"
}

# TCG by default, as scripts/guest-boot-test; ICE_GUEST_ACCEL=kvm tries
# KVM first
accel="-accel tcg"
[ "${ICE_GUEST_ACCEL:-tcg}" = kvm ] && [ -w /dev/kvm ] &&
    accel="-accel kvm -accel tcg"

# boot_guest NAME INITRD QEMU_ARGS...: boot the kernel once.  The
# console (kernel messages) goes to NAME.log; the init's report, each
# line written with its own "echo ... > /dev/ttyS1", to NAME.out.  A
# second port keeps kernel messages out of the report's lines, and
# closing the tty after each line waits until it is sent, so a reboot
# right after it loses nothing.  The guest ends with "reboot -f", which
# -no-reboot turns into an exit (this kernel has no ACPI to power off).
boot_guest() {
    guest=$1 initrd=$2
    shift 2
    rm -f "$guest.log" "$guest.out"
    # shellcheck disable=SC2086 # $accel is two or four words
    timeout 300 "$objdir/qemu-system-x86_64" -M pc $accel -m 256 \
        -nodefaults -display none -no-reboot \
        -serial "file:$guest.log" -serial "file:$guest.out" \
        -kernel "$kernel" -initrd "$initrd" \
        -append "console=ttyS0 panic=-1 loglevel=7" "$@" || true
    touch "$guest.out"
}
