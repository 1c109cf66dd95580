/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What the UFS inline crypto qtests share: the device they run on (a
 * UFS host controller "ufs0" with crypto=on and logical unit 1 on a raw
 * image file) and the QMP view of its engine.
 */

#ifndef TESTS_QTEST_UFS_ICE_QOS_H
#define TESTS_QTEST_UFS_ICE_QOS_H

#include "libqos/ufs-ice.h"

/* The image of the test's logical unit, and the test options' arg */
typedef struct UfsIceEnv {
    char *img;
    void *arg;
} UfsIceEnv;

#define UFS_ICE_DEV_ID "ufs0"

/*
 * QOSGraphTestOptions.before: create the image and add logical unit
 * %UFS_ICE_LUN on it; returns the UfsIceEnv (freed, the image removed,
 * when the test ends)
 */
void *ufs_ice_setup(GString *cmd_line, void *arg);

/*
 * Enable the controller (libqos's ufs_init()), clear the logical unit's
 * power-on unit attention and, with crypto=on, set CGE
 */
void ufs_ice_start(QUfs *ufs, QGuestAllocator *alloc);

/* query-ice's list of programmed slots for ufs0 (qobject_unref() it) */
QList *ufs_ice_query_slots(QTestState *qts);

/* Number of programmed slots query-ice shows */
size_t ufs_ice_num_programmed(QTestState *qts);

/* Program @slot with AES-256-XTS, 4096-byte data units, @key (64 bytes) */
void ufs_ice_program_xts256(QUfs *ufs, unsigned slot, const uint8_t *key);

#endif /* TESTS_QTEST_UFS_ICE_QOS_H */
