/* SPDX-License-Identifier: MIT */
/*
 * hcbench: times N bare port-I/O exits (to PV_NULL_PORT, which the monitor
 * drops before any dispatch) and N hypercalls (PV_HC_VERSION), and prints
 * "hcbench n=N bare_ns=T1 hc_ns=T2" (totals).  Command line: N (default 10000).
 */
#include <pv/guest.h>

static void null_out(void)
{
	__asm__ __volatile__("outl %%eax, %%dx" : : "a"(0), "d"((unsigned short)PV_NULL_PORT) : "memory");
}

int pv_main(const struct pv_boot_info *bi)
{
	unsigned long long n = pv_strtoull(pv_cmdline(), 0), t0, t1, t2;

	(void)bi;
	if (n == 0)
		n = 10000;
	t0 = pv_time_ns();
	for (unsigned long long i = 0; i < n; i++)
		null_out();
	t1 = pv_time_ns();
	for (unsigned long long i = 0; i < n; i++)
		if (pv_hypercall0(PV_HC_VERSION) != PV_ABI_VERSION)
			return 1;
	t2 = pv_time_ns();
	pv_printf("hcbench n=%llu bare_ns=%llu hc_ns=%llu\n", n, t1 - t0, t2 - t1);
	return 0;
}
