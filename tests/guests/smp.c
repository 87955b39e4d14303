/* SPDX-License-Identifier: MIT */
/*
 * smp: starts every secondary vCPU; each stores its share in its own slot
 * and sets its flag; vCPU 0 waits for all flags (yielding), prints the sum and
 * exits.  With command line "hlt", vCPU 0 instead halts with nothing that
 * could wake it: the monitor must end the VM, not hang.
 */
#include <pv/guest/sdk.h>

static volatile unsigned int done[64];
/* One slot per vCPU: under the emulation backend guest lock prefixes are
 * not atomic across vCPUs (DESIGN.md section 3), so no shared counter. */
static volatile unsigned long part[64];
static unsigned char stacks[64][4096] __attribute__((aligned(16)));

static void secondary(unsigned long arg, unsigned long id)
{
	part[id] = arg;
	done[id] = 1;
	for (;;)
		pv_block(0);
}

int pv_main(const struct pv_boot_info *bi)
{
	unsigned int n = bi->nr_vcpus;

	if (!strcmp(pv_cmdline(), "hlt")) {
		pv_printf("halting\n");
		__asm__ __volatile__("hlt");
		pv_printf("woke up\n");
		return 1;
	}
	for (unsigned int i = 1; i < n; i++) {
		long r = pv_vcpu_up(i, secondary, stacks[i] + sizeof(stacks[i]), i * 10);

		if (r) {
			pv_printf("vcpu_up(%u)=%ld\n", i, r);
			return 1;
		}
	}
	pv_printf("again=%ld\n", n > 1 ? pv_vcpu_up(1, secondary, stacks[1] + 4096, 0) : 0L);
	unsigned long sum = 0;

	for (unsigned int i = 1; i < n; i++) {
		while (!done[i])
			pv_yield();
		sum += part[i];
	}
	pv_printf("vcpus=%u sum=%lu\n", n, sum);
	return 0;
}
