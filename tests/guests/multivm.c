/* SPDX-License-Identifier: MIT */
/*
 * multivm: proves a VM sees only its own memory.  Command line:
 * "SECRET PROBE": fills 64 KiB at 2 MiB with the byte SECRET, asks the monitor
 * to print from PROBE (an address outside this VM's RAM, inside a bigger
 * VM's), prints a checksum of its own pattern, then reads PROBE directly,
 * which must end the VM with a fault.
 */
#include <pv/guest/sdk.h>

int pv_main(const struct pv_boot_info *bi)
{
	const char *p;
	unsigned long secret = pv_strtoull(pv_cmdline(), &p) & 0xff;
	unsigned long probe = pv_strtoull(p + 1, 0);
	unsigned char *mine = (unsigned char *)0x200000;
	unsigned long sum = 0;

	for (unsigned long i = 0; i < (1ul << 16); i++)
		mine[i] = (unsigned char)secret;
	pv_printf("domain %u secret %lu\n", bi->domid, secret);
	pv_printf("console_probe=%ld\n", pv_console_write((void *)probe, 64));
	for (int round = 0; round < 50; round++) {
		for (unsigned long i = 0; i < (1ul << 16); i += 4096)
			sum += mine[i];
		pv_yield();
	}
	pv_printf("sum=%lu\n", sum);
	pv_flush();
	return (int)*(volatile unsigned char *)probe; /* must fault */
}
