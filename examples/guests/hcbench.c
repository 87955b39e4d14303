/* SPDX-License-Identifier: MIT */
/*
 * hcbench: times N bare port-I/O exits and N hypercalls with the same
 * instruction sequence, differing only in the port: PV_NULL_PORT (dropped by
 * the monitor before any dispatch) or PV_HC_PORT (PV_HC_VERSION).  Prints
 * "hcbench n=N bare_ns=T1 hc_ns=T2" (totals).  Command line: N (default 10000).
 */
#include <pv/guest/sdk.h>

static inline unsigned long trap(unsigned short port)
{
	unsigned long ret = PV_HC_VERSION;

	__asm__ __volatile__("outl %%eax, %%dx" : "+a"(ret) : "d"(port) : "memory");
	return ret;
}

static __attribute__((noinline)) unsigned long loop(unsigned short port, unsigned long long n)
{
	unsigned long acc = 0;

	for (unsigned long long i = 0; i < n; i++)
		acc += trap(port);
	return acc;
}

int pv_main(const struct pv_boot_info *bi)
{
	unsigned long long n = pv_strtoull(pv_cmdline(), 0), t0, t1, t2;

	(void)bi;
	if (n == 0)
		n = 10000;
	t0 = pv_time_ns();
	if (loop(PV_NULL_PORT, n) != 0)
		return 1;
	t1 = pv_time_ns();
	if (loop(PV_HC_PORT, n) != n * PV_ABI_VERSION)
		return 1;
	t2 = pv_time_ns();
	pv_printf("hcbench n=%llu bare_ns=%llu hc_ns=%llu\n", n, t1 - t0, t2 - t1);
	return 0;
}
