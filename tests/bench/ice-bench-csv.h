/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Inline crypto engine benchmarks: the CSV file a benchmark writes its
 * rows to (--csv PATH), shared by ice-engine-bench and virtio-blk-ice-bench
 */

#ifndef TESTS_BENCH_ICE_BENCH_CSV_H
#define TESTS_BENCH_ICE_BENCH_CSV_H

/* Create @path, write the header line @columns; NULL @path: no file */
static inline FILE *ice_bench_csv_open(const char *path, const char *columns)
{
    FILE *csv;

    if (!path) {
        return NULL;
    }
    csv = fopen(path, "w");
    g_assert(csv);
    fprintf(csv, "%s\n", columns);
    return csv;
}

#endif /* TESTS_BENCH_ICE_BENCH_CSV_H */
