/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef PVBENCH_CPU_H
#define PVBENCH_CPU_H

/* Run workload (0 sieve, 1 stores, 2 branchy) of cpuwork.h natively once;
 * returns its checksum. */
unsigned long bench_cpu_native(int workload);

/* What workload needs before each timed run (the sieve's zeroed buffer). */
void bench_cpu_native_prepare(int workload);

#endif
