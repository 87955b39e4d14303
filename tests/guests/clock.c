/* SPDX-License-Identifier: MIT */
/*
 * clock: checks the boot information's tsc_khz against the monitor's clock.
 * Up to five times: read pv_time_ns and the TSC, spin 20 ms by the TSC,
 * read both again; the best try's disagreement is printed in ppm
 * ("tsc_khz=N err_ppm=M"), so one try spoiled by preemption does not count.
 */
#include <pv/guest/sdk.h>

int pv_main(const struct pv_boot_info *bi)
{
	unsigned long long best = ~0ull;

	for (int i = 0; i < 5 && best > 5000; i++) {
		unsigned long long t0 = pv_time_ns(), c0 = pv_rdtsc(), c1, t1, khz, err;

		while (pv_rdtsc() - c0 < pv_tsc_ticks(20000000ull))
			;
		c1 = pv_rdtsc();
		t1 = pv_time_ns();
		if (t1 <= t0)
			continue;
		khz = (c1 - c0) * 1000000ull / (t1 - t0);
		err = khz > bi->tsc_khz ? khz - bi->tsc_khz : bi->tsc_khz - khz;
		err = bi->tsc_khz ? err * 1000000ull / bi->tsc_khz : ~0ull;
		if (err < best)
			best = err;
	}
	pv_printf("tsc_khz=%u err_ppm=%llu\n", bi->tsc_khz, best);
	return 0;
}
