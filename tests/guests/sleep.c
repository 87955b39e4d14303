/* SPDX-License-Identifier: MIT */
/*
 * sleep: blocks in PV_HC_BLOCK for the milliseconds on its command line
 * (default 200), then exits 0.  Its vCPU uses almost no CPU time meanwhile.
 */
#include <pv/guest/sdk.h>

int pv_main(const struct pv_boot_info *bi)
{
	unsigned long long ms = pv_strtoull(pv_cmdline(), 0), end;

	(void)bi;
	if (!ms)
		ms = 200;
	end = pv_time_ns() + ms * 1000000ull;
	for (unsigned long long now = pv_time_ns(); now < end; now = pv_time_ns())
		pv_block(end - now);
	pv_printf("slept %llu ms\n", ms);
	return 0;
}
