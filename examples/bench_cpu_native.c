/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cpuwork.h workloads on the host, built with the guests' code-generation
 * flags (examples/meson.build) so that both sides run the same code. */
#include "bench_cpu.h"
#include "cpuwork.h"

static unsigned char sieve_buf[CPUWORK_SIEVE_N];
static unsigned long store_buf[CPUWORK_STORE_WORDS];

void bench_cpu_native_prepare(int workload)
{
	if (workload == 0)
		cpuwork_sieve_clear(sieve_buf, CPUWORK_SIEVE_N);
}

unsigned long bench_cpu_native(int workload)
{
	switch (workload) {
	case 0:
		return cpuwork_sieve(sieve_buf, CPUWORK_SIEVE_N);
	case 1:
		return cpuwork_stores(store_buf, CPUWORK_STORE_WORDS, CPUWORK_STORE_ROUNDS);
	default:
		return cpuwork_branchy(CPUWORK_BRANCHY_N);
	}
}
