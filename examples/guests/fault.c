/* SPDX-License-Identifier: MIT */
/*
 * fault: does something illegal; the monitor must report it and exit
 * non-zero.  The command line picks what: ud2 (default), null, outside
 * (read past the end of RAM), outside-write, div0, int3, syscall (#UD:
 * EFER.SCE is off), efer-lme (WRMSR clearing EFER.LME in long mode: #GP),
 * fxrstor-mxcsr (FXRSTOR of an MXCSR with reserved bits set: #GP), and
 * sysinsn-ok (the same instructions with allowed values: no fault).
 */
#include <pv/guest/sdk.h>

/* An FXSAVE area: MXCSR at byte 24, reserved bits 16..31 set. */
static unsigned char fxarea[512] __attribute__((aligned(16)));

int pv_main(const struct pv_boot_info *bi)
{
	const char *how = pv_cmdline();

	pv_printf("fault: about to do '%s'\n", *how ? how : "ud2");
	pv_flush();
	if (!strcmp(how, "null")) {
		unsigned long v;

		/* Through asm so the compiler cannot reason about address 0x10. */
		__asm__ __volatile__("movq 0x10, %0" : "=r"(v));
		(void)v;
	} else if (!strcmp(how, "outside")) {
		volatile unsigned long *p = (volatile unsigned long *)(uintptr_t)(bi->ram_size + 0x1000);
		(void)*p;
	} else if (!strcmp(how, "outside-write")) {
		volatile unsigned long *p = (volatile unsigned long *)(uintptr_t)(bi->ram_size + 0x1000);

		*p = 1;
	} else if (!strcmp(how, "div0")) {
		volatile unsigned int zero = 0;
		volatile unsigned int x = 7 / zero;
		(void)x;
	} else if (!strcmp(how, "int3")) {
		__asm__ __volatile__("int3");
	} else if (!strcmp(how, "syscall")) {
		/* mid-block: the #UD must name the syscall, not the block start */
		__asm__ __volatile__("mov $60, %%eax\n\tsyscall" : : : "rax", "rcx", "r11", "memory");
	} else if (!strcmp(how, "efer-lme")) {
		unsigned int lo, hi;

		__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080u));
		__asm__ __volatile__("wrmsr" : : "a"(lo & ~0x100u), "d"(hi), "c"(0xc0000080u) : "memory");
	} else if (!strcmp(how, "fxrstor-mxcsr")) {
		__asm__ __volatile__("fxsave %0" : "=m"(fxarea));
		fxarea[26] = 0xff; /* MXCSR bits 16..31 */
		fxarea[27] = 0xff;
		__asm__ __volatile__("fxrstor %0" : : "m"(fxarea));
	} else if (!strcmp(how, "sysinsn-ok")) {
		unsigned int lo, hi;

		__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080u));
		__asm__ __volatile__("wrmsr" : : "a"(lo), "d"(hi), "c"(0xc0000080u) : "memory");
		__asm__ __volatile__("fxsave %0" : "=m"(fxarea));
		__asm__ __volatile__("fxrstor %0" : : "m"(fxarea));
	} else {
		__asm__ __volatile__("ud2");
	}
	pv_printf("fault: survived '%s'\n", how);
	return 0;
}
