/* SPDX-License-Identifier: MIT */
/*
 * abuse: a guest that leans on the monitor (tests/test_abuse.c).
 * Command line:
 *   replay     a console hypercall and a read outside RAM in one block of
 *              code: the fault must not repeat the hypercall
 *   ringidx    bumps a ring producer index and reads outside RAM in one
 *              block of code: the index must end as the guest wrote it
 *              (prints "idx at ADDR" first)
 *   blockwrap  PV_HC_BLOCK with a timeout near 2^64 ns and nothing that
 *              could wake it: no timeout, so the VM ends in deadlock
 *   copystorm  every vCPU loops on 256-op batches of 64 KiB grant copies
 *   spam       console writes forever
 */
#include <pv/guest/sdk.h>

static struct pv_grant_copy_op ops[256] __attribute__((aligned(8)));
static unsigned char from[65536], to[65536];
static unsigned char stacks[8][16384] __attribute__((aligned(16)));

static void copier(unsigned long arg, unsigned long vcpu)
{
	(void)arg, (void)vcpu;
	for (;;)
		pv_hypercall2(PV_HC_GRANT_COPY, (unsigned long)ops, 256);
}

int pv_main(const struct pv_boot_info *bi)
{
	const char *c = pv_cmdline();

	if (!strcmp(c, "replay")) {
		static const char msg[] = "SIDE-EFFECT\n";
		unsigned long bad = bi->ram_size + (1ul << 30);

		__asm__ __volatile__("mov %1, %%rdi\n\t"
				     "mov %2, %%rsi\n\t"
				     "mov %3, %%eax\n\t"
				     "mov %4, %%dx\n\t"
				     "outl %%eax, %%dx\n\t"
				     "mov (%0), %%rax"
				     :
				     : "r"(bad), "r"((unsigned long)msg), "r"((unsigned long)sizeof(msg) - 1),
				       "i"(PV_HC_CONSOLE_WRITE), "i"(PV_HC_PORT)
				     : "rax", "rdi", "rsi", "rdx", "memory");
		return 3; /* not reached */
	}
	if (!strcmp(c, "ringidx")) {
		static volatile unsigned int prod = 41;
		unsigned long bad = bi->ram_size + (1ul << 30);

		pv_printf("idx at 0x%lx\n", (unsigned long)&prod);
		pv_flush();
		__asm__ __volatile__("incl (%0)\n\t"
				     "mov (%1), %%rax"
				     :
				     : "r"(&prod), "r"(bad)
				     : "rax", "memory");
		return 3; /* not reached */
	}
	if (!strcmp(c, "blockwrap")) {
		long r = pv_block(~0ull - 5);

		pv_printf("block returned %ld\n", r);
		return 4;
	}
	if (!strcmp(c, "copystorm")) {
		for (int i = 0; i < 256; i++)
			ops[i] = (struct pv_grant_copy_op){ .src = { .addr = (unsigned long)from, .domid = PV_DOMID_SELF },
							    .dst = { .addr = (unsigned long)to, .domid = PV_DOMID_SELF },
							    .len = sizeof(to) };
		for (unsigned int v = 1; v < bi->nr_vcpus && v < 8; v++)
			pv_vcpu_up(v, copier, stacks[v] + sizeof(stacks[v]), 0);
		copier(0, 0);
	}
	if (!strcmp(c, "spam")) {
		static char line[4096];

		memset(line, 'x', sizeof(line) - 1);
		line[sizeof(line) - 1] = '\n';
		for (;;)
			pv_console_write(line, sizeof(line));
	}
	pv_printf("abuse: unknown command line '%s'\n", c);
	return 2;
}
