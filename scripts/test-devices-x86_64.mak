# SPDX-License-Identifier: GPL-2.0-or-later
#
# The devices of a QEMU built only to run the inline crypto qtests
# (./configure --devices=tests, for make check-10.2 and make
# check-sanitizers): QEMU's "pc" machine, which qtest and qos-test boot,
# virtio-blk-pci, vhost-user-blk-pci, the UFS controller and ice-keybox.
# What the machine itself needs comes with it through Kconfig's select,
# except what the two notes below name.

CONFIG_I440FX=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_BLK=y
CONFIG_VHOST_USER_BLK=y
CONFIG_UFS_PCI=y
# ufs-lu is a SCSI device, and UFS_PCI does not select SCSI
CONFIG_SCSI=y
# the pc machine's ACPI tables call into CXL, and without it QEMU 10.2
# does not link (its CXL stubs lack cxl_fmws_get_all_sorted); CXL needs
# PCI Express, its ports and the expander bridge, and its mailbox the
# type 3 device (10.0 links without them; one list serves both bases)
CONFIG_PCI_EXPRESS=y
CONFIG_PCIE_PORT=y
CONFIG_PXB=y
CONFIG_CXL=y
CONFIG_CXL_MEM_DEVICE=y
CONFIG_ICE_KEYBOX=y
