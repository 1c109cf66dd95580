/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto engine benchmarks: the CPU time QEMU spends, shared by
 * virtio-blk-ice-bench and ufs-ice-bench
 */

#ifndef TESTS_BENCH_ICE_BENCH_CPU_H
#define TESTS_BENCH_ICE_BENCH_CPU_H

/* CPU ticks (user + system) of process @pid, or of its thread @tid if not 0 */
static inline uint64_t ice_bench_cpu_ticks(pid_t pid, int tid)
{
    g_autofree char *path = tid ?
        g_strdup_printf("/proc/%d/task/%d/stat", pid, tid) :
        g_strdup_printf("/proc/%d/stat", pid);
    g_autofree char *text = NULL;
    unsigned long utime = 0, stime = 0;
    char *p;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return 0;
    }
    /* Fields after the command name, which may contain spaces */
    p = strrchr(text, ')');
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                     "%lu %lu", &utime, &stime) != 2) {
        return 0;
    }
    return utime + stime;
}

#endif /* TESTS_BENCH_ICE_BENCH_CPU_H */
