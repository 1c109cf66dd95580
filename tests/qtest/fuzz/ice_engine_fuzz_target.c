/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The ice-engine-fuzz target of qemu-fuzz-*: the inline crypto engine
 * alone, no device and no guest (see ice_engine_fuzz.c).  Run as
 *   qemu-fuzz-x86_64 --fuzz-target=ice-engine-fuzz
 */

#include "qemu/osdep.h"
#include "qemu/module.h"
#include "fuzz.h"
#include "ice_engine_fuzz.h"

/* A machine is started anyway (argv[0] first); the smallest one will do */
static GString *ice_engine_fuzz_cmdline(FuzzTarget *t)
{
    return g_string_new(TARGET_NAME " -machine none -nodefaults");
}

static void ice_engine_fuzz(QTestState *s, const unsigned char *data,
                            size_t size)
{
    ice_engine_fuzz_one(data, size);
}

static void register_ice_engine_fuzz_target(void)
{
    fuzz_add_target(&(FuzzTarget){
            .name = "ice-engine-fuzz",
            .description = "Fuzz the inline crypto engine's slots and "
                           "per-data-unit crypto, without a device",
            .get_init_cmdline = ice_engine_fuzz_cmdline,
            .fuzz = ice_engine_fuzz,
    });
}

fuzz_target_init(register_ice_engine_fuzz_target);
