/* SPDX-License-Identifier: MIT */
/*
 * cpubench: one compute workload of examples/cpuwork.h, run REPS times;
 * prints "cpubench WORKLOAD ns=BEST sum=CHECKSUM" (the fastest repetition,
 * timed with PV_HC_TIME; the sieve's buffer is cleared untimed).  Command line: "WORKLOAD REPS", WORKLOAD one of
 * sieve, stores, branchy (REPS default 5).
 */
#include <pv/guest/sdk.h>

#include "../cpuwork.h"

static unsigned char sieve_buf[CPUWORK_SIEVE_N];
static unsigned long store_buf[CPUWORK_STORE_WORDS];

static unsigned long once(const char *w)
{
	if (!strcmp(w, "sieve"))
		return cpuwork_sieve(sieve_buf, CPUWORK_SIEVE_N);
	if (!strcmp(w, "stores"))
		return cpuwork_stores(store_buf, CPUWORK_STORE_WORDS, CPUWORK_STORE_ROUNDS);
	return cpuwork_branchy(CPUWORK_BRANCHY_N);
}

int pv_main(const struct pv_boot_info *bi)
{
	const char *c = pv_cmdline(), *p;
	char w[16] = "";
	unsigned long long reps, best = ~0ull;
	unsigned long sum = 0;
	unsigned int i;

	(void)bi;
	for (i = 0; c[i] && c[i] != ' ' && i < sizeof(w) - 1; i++)
		w[i] = c[i];
	if (strcmp(w, "sieve") && strcmp(w, "stores") && strcmp(w, "branchy")) {
		pv_printf("cpubench: unknown workload '%s'\n", w);
		return 2;
	}
	reps = c[i] ? pv_strtoull(c + i + 1, &p) : 0;
	if (reps == 0)
		reps = 5;
	for (unsigned long long r = 0; r < reps; r++) {
		unsigned long long t0, t;

		if (!strcmp(w, "sieve"))
			cpuwork_sieve_clear(sieve_buf, CPUWORK_SIEVE_N);
		t0 = pv_time_ns();
		sum = once(w);
		t = pv_time_ns() - t0;
		if (t < best)
			best = t;
	}
	pv_printf("cpubench %s ns=%llu sum=%lx\n", w, best, sum);
	return 0;
}
