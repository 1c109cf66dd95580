# SPDX-License-Identifier: GPL-2.0-or-later
#
# Thin wrapper: the real work is done by ./configure, QEMU's meson/ninja
# build and the scripts in scripts/.  See README.md.

BUILD ?= build
-include $(BUILD)/config.mak

NINJA ?= ninja
# What `make` builds: the emulator, the tools, the programs the tests and
# benchmarks use, and every test and benchmark of meson's suite "ice"
# (scripts/run-checks --list-targets reads them from meson's introspection
# data once build.ninja is up to date).
ICE_TARGETS = qemu-system-x86_64 qemu-img qemu-io \
	storage-daemon/qemu-storage-daemon \
	tests/qtest/ice-io tests/qtest/virtio-blk-ice-bench \
	tests/qtest/ufs-ice-bench
ICE_SUITE_TARGETS = scripts/run-checks $(BUILD) --list-targets

.PHONY: all build configure check check-sanitizers check-10.2 check-tsan \
	check-xfstests series demo \
	bench fuzz \
	update-patches clean distclean help

# The main job: everything from a fresh machine up to a built QEMU.
all:
	@scripts/install-deps
	@$(MAKE) --no-print-directory build

# Re-running configure is cheap: it re-links new files and re-applies the
# series only when it changed.
configure:
	@if [ -x $(BUILD)/config.status ]; then $(BUILD)/config.status; \
	 else ./configure --build-dir=$(BUILD); fi

build: configure
	$(NINJA) -C $(BUILD)/qemu build.ninja
	$(NINJA) -C $(BUILD)/qemu $(ICE_TARGETS) $$($(ICE_SUITE_TARGETS))
	@echo
	@echo "Built $(BUILD)/qemu/qemu-system-x86_64 with the inline crypto overlay."
	@echo "Start it, for example:"
	@echo "  $(BUILD)/qemu/qemu-img create -f raw disk.img 64M"
	@echo "  $(BUILD)/qemu/qemu-system-x86_64 -nographic \\"
	@echo "      -drive if=none,id=d0,file=disk.img,format=raw -device virtio-blk-pci,drive=d0"

# Everything from a fresh machine: dependencies, base, configure, build,
# then the tests.  Ends with "N passed, N failed".
check:
	@scripts/install-deps && $(MAKE) --no-print-directory build || \
	 { echo "set-up or build failed"; echo "0 passed, 1 failed"; exit 1; }
	@scripts/run-checks $(BUILD)

# The main job on a fresh machine: set up, build, show the round trip.
demo:
	@scripts/install-deps
	@$(MAKE) --no-print-directory build >/dev/null
	@scripts/demo $(BUILD)

# Benchmarks print tables; they are not pass/fail tests.
bench: build
	$(BUILD)/qemu/tests/bench/ice-engine-bench --csv $(BUILD)/ice-engine-bench.csv
	$(BUILD)/qemu/tests/qtest/virtio-blk-ice-bench --csv $(BUILD)/virtio-blk-ice-bench.csv
	$(BUILD)/qemu/tests/qtest/ufs-ice-bench --csv $(BUILD)/ufs-ice-bench.csv

# $(call build_variant,DIR,CONFIGURE OPTIONS,WHAT): configure (again with
# the options it had, then these, which win) and build a build directory
# of its own, the build's output in DIR/build.log; a failure ends the run
# with "0 passed, 1 failed".
define build_variant
	@if [ -x $(1)/config.status ]; then $(1)/config.status $(2); \
	 else ./configure --build-dir=$(1) $(2); fi || \
	 { echo "configure for $(3) failed"; echo "0 passed, 1 failed"; exit 1; }
	@echo "building $(3) in $(1) (log: $(1)/build.log)"
	@$(MAKE) --no-print-directory BUILD=$(1) build > $(1)/build.log 2>&1 || \
	 { tail -n 30 $(1)/build.log; echo "$(3): build failed"; \
	   echo "0 passed, 1 failed"; exit 1; }
endef

# The ICE tests again on a QEMU built with AddressSanitizer and UBSan, in a
# build directory of its own.  Any sanitizer report fails a test.  The
# bound test's RSS slack is larger there: ASan keeps freed memory in its
# quarantine (up to 256 MiB by default) and maps shadow memory.  That
# grew QEMU's peak RSS by 16-40 MiB in the aliased-queue test and by 283
# MiB in the cipher-state test, which frees a scratch buffer per request
# (0.1-0.4 MiB and under 0.1 MiB without ASan, where make check holds
# them to 32 MiB and 4 MiB over their bounds).  The quarantine keeps its
# default size: catching use after free matters more here than RSS.
# Line tables only (-g1): reports keep file and line, and the build is
# faster than with full debug information.  Only the devices the qtests
# use (--devices=tests), as in check-10.2.
SAN_BUILD ?= build-san
check-sanitizers:
	@scripts/install-deps
	$(call build_variant,$(SAN_BUILD),--enable-sanitizers --debug-info=lines --devices=tests,QEMU with ASan and UBSan)
	@ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	 UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1 \
	 ICE_BOUND_SLACK=384 \
	 scripts/run-checks $(SAN_BUILD) --only unit qos qtest

# The series on the newer base as a distribution builds it: QEMU 10.2 with
# gnutls as its crypto backend (Debian's debian/rules passes no crypto
# option and build-depends on gnutls), in a build directory of its own.
# Runs the unit tests, QEMU's own virtio-blk qtests and ours, and the
# series check against the 10.2 base.  CI runs it as well.  Without debug
# information: nothing reads it there, and it cost a tenth of the build.
# Nor TCG and the devices no test here uses (--devices=tests): a fifth
# less to compile.
QEMU102_BUILD ?= build-102
check-10.2:
	@scripts/install-deps
	$(call build_variant,$(QEMU102_BUILD),--qemu=10.2 --crypto=gnutls --debug-info=none --devices=tests,QEMU 10.2 (gnutls))
	@scripts/run-checks $(QEMU102_BUILD) --only unit qos qtest series

# The ICE tests on a QEMU built with ThreadSanitizer, in a build directory
# of its own: the worker-pool data path, IOThreads, QMP churn.  Reports go
# to $(TSAN_BUILD)/tsan/; scripts/tsan-report counts them and fails on any
# with a frame in our inline crypto code (block/ice, hw/block/ice,
# hw/ufs/ice, block/export/ice-export.c).  Not part of CI (a fourth full build).  The
# bound test runs smaller there, with room for TSan's shadow memory.
TSAN_BUILD ?= build-tsan
check-tsan:
	@scripts/install-deps
	$(call build_variant,$(TSAN_BUILD),--enable-tsan,QEMU with TSan)
	@rm -rf $(TSAN_BUILD)/tsan && mkdir -p $(TSAN_BUILD)/tsan
	@TSAN_OPTIONS="suppressions=$(CURDIR)/$(TSAN_BUILD)/src/tests/tsan/suppressions.tsan \
	 detect_deadlocks=false history_size=7 exitcode=0 die_after_fork=0 \
	 log_path=$(CURDIR)/$(TSAN_BUILD)/tsan/report" \
	 ICE_BOUND_DESCS=2 ICE_BOUND_SLACK=512 \
	 scripts/run-checks $(TSAN_BUILD) --only unit qos qtest
	@scripts/tsan-report $(TSAN_BUILD)/tsan

# Linux's own fscrypt test suite, fstests' encrypt group, on the guest
# kernel of contrib/linux under TCG: ext4 and f2fs with -o inlinecrypt on
# virtio-blk ice=on disks with ice-keybox, on ufs crypto=on logical units,
# and on plain disks (blk-crypto-fallback, the baseline).  fstests comes
# from the tarball in XFSTESTS_DIR (../shared/xfstests), built inside a
# minimal Debian root made with mmdebstrap and cached in $(BUILD)/xfstests.
# See scripts/check-xfstests for what it varies and checks.
check-xfstests:
	@scripts/install-deps && $(MAKE) --no-print-directory build || \
	 { echo "set-up or build failed"; echo "0 passed, 1 failed"; exit 1; }
	@scripts/check-xfstests $(BUILD); rc=$$?; \
	 if [ $$rc = 0 ]; then echo "1 passed, 0 failed"; \
	 elif [ $$rc = 77 ]; then echo "0 passed, 0 failed (skipped)"; \
	 else echo "0 passed, 1 failed"; exit 1; fi

# Coverage-guided fuzzing of the engine and of the device (ice-engine-fuzz,
# virtio-blk-ice-fuzz and generic-fuzz on a clang build in $(FUZZ_BUILD)),
# then longer hostile-guest runs
ICE_FUZZ_SECONDS ?= 120
ICE_FUZZ_COUNT ?= 20000
ICE_FUZZ_SEEDS ?= 1 2 3
FUZZ_BUILD ?= build-fuzz
fuzz: build
	@scripts/install-deps --fuzz
	@scripts/fuzz-ice $(FUZZ_BUILD) $(ICE_FUZZ_SECONDS)
	@for seed in $(ICE_FUZZ_SEEDS); do \
	  echo "hostile guest: seed $$seed, $(ICE_FUZZ_COUNT) requests"; \
	  (cd $(BUILD)/qemu && ICE_FUZZ_SEED=$$seed ICE_FUZZ_COUNT=$(ICE_FUZZ_COUNT) \
	   QTEST_QEMU_BINARY=./qemu-system-x86_64 ./tests/qtest/qos-test -p \
	   /x86_64/pc/i440FX-pcihost/pci-bus-pc/pci-bus/virtio-blk-pci/virtio-blk/virtio-blk-tests/ice/hostile-guest \
	   2>/dev/null | grep -E '^(ok|not ok)|requests:') || exit 1; \
	done

series: configure
	@scripts/export-series $(BUILD)

# Turn commits made in $(BUILD)/src on top of the base back into patches/.
update-patches:
	@scripts/update-patches $(BUILD)

clean:
	@[ ! -d $(BUILD)/qemu ] || $(NINJA) -C $(BUILD)/qemu clean

distclean:
	rm -rf $(BUILD)

help:
	@echo "make            build QEMU with the overlay (runs ./configure if needed)"
	@echo "make check      install deps, build, run all tests; prints 'N passed, N failed'"
	@echo "make demo       write and read through an ICE disk, decrypt with openssl"
	@echo "make bench      engine throughput next to raw libgcrypt"
	@echo "make check-sanitizers  the ICE tests on an ASan/UBSan build ($(SAN_BUILD))"
	@echo "make check-10.2  the ICE tests, virtio-blk qtests and series on QEMU 10.2 with gnutls ($(QEMU102_BUILD))"
	@echo "make check-tsan  the ICE tests on a ThreadSanitizer build ($(TSAN_BUILD))"
	@echo "make check-xfstests  fstests' encrypt group on virtio-blk ICE, UFS crypto and plain disks"
	@echo "make fuzz       libFuzzer on the engine and the device, long hostile-guest runs"
	@echo "make series     export the git-am-able series into $(BUILD)/series"
	@echo "                (for QEMU 10.2: make BUILD=$(QEMU102_BUILD) series)"
	@echo "make update-patches  refresh patches/ from commits in $(BUILD)/src"
