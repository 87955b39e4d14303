/* SPDX-License-Identifier: MIT */
/*
 * higherhalf: a guest kernel with its own page tables.  Its boot stub (at
 * 1 MiB, run under the monitor's identity map) builds a PML4 that maps
 *   - linear [4 KiB, 2 MiB) to the same physical addresses (the monitor's
 *     GDT, IDT, fault stubs and boot info, and the stub itself; page 0 stays
 *     absent), and
 *   - HH_KBASE + [2 MiB, 8 MiB) to physical [2 MiB, 8 MiB), where the kernel
 *     is linked (higherhalf.ld),
 * and nothing else: RAM at its identity address above 2 MiB is gone.  It
 * loads CR3 and jumps to the kernel in the higher half.  Hypercalls take
 * guest-physical pointers, so the kernel passes virt - HH_KBASE.
 * Command line:
 *   (empty)  sieve below 100000 in higher-half memory, report, exit 0
 *   low      read its own kernel image at its physical address, which this
 *            map does not cover: #PF at that address
 *   high     write above the kernel's map (HH_KBASE + 1 GiB): #PF
 */
#include <pv/guest/hypercall.h>

#define HH_KBASE 0xffffffff80000000ul

/* Boot stub: physical, 64-bit, before our page tables exist. */
__asm__(".section .boot.text, \"ax\"\n"
	".globl hh_boot\n"
	"hh_boot:\n"
	"	mov %rdi, %r12\n"                      /* boot info (physical) */
	"	lea hh_pdpt_lo(%rip), %rax\n"
	"	or $3, %rax\n"
	"	mov %rax, hh_pml4(%rip)\n"             /* PML4[0]   -> low PDPT */
	"	lea hh_pdpt_hi(%rip), %rax\n"
	"	or $3, %rax\n"
	"	mov %rax, hh_pml4+511*8(%rip)\n"       /* PML4[511] -> high PDPT */
	"	lea hh_pd_lo(%rip), %rax\n"
	"	or $3, %rax\n"
	"	mov %rax, hh_pdpt_lo(%rip)\n"          /* 0..1 GiB */
	"	lea hh_pd_hi(%rip), %rax\n"
	"	or $3, %rax\n"
	"	mov %rax, hh_pdpt_hi+510*8(%rip)\n"    /* HH_KBASE..+1 GiB */
	"	lea hh_pt_lo(%rip), %rax\n"
	"	or $3, %rax\n"
	"	mov %rax, hh_pd_lo(%rip)\n"            /* first 2 MiB in 4 KiB pages */
	"	lea hh_pt_lo+8(%rip), %rdi\n"
	"	mov $0x1003, %rax\n"                   /* page 1 on, present + writable */
	"	mov $511, %ecx\n"
	"1:	mov %rax, (%rdi)\n"
	"	add $8, %rdi\n"
	"	add $0x1000, %rax\n"
	"	dec %ecx\n"
	"	jnz 1b\n"
	"	lea hh_pd_hi+8(%rip), %rdi\n"          /* HH_KBASE + 2 MiB.. -> 2 MiB.. */
	"	mov $0x200083, %rax\n"                 /* 2 MiB page, present + writable */
	"	mov $3, %ecx\n"
	"2:	mov %rax, (%rdi)\n"
	"	add $8, %rdi\n"
	"	add $0x200000, %rax\n"
	"	dec %ecx\n"
	"	jnz 2b\n"
	"	lea hh_pml4(%rip), %rax\n"
	"	mov %rax, %cr3\n"
	"	movabs $hh_stack_top, %rsp\n"
	"	mov %r12, %rdi\n"
	"	movabs $hh_main, %rax\n"
	"	call *%rax\n"
	"3:	hlt\n"
	"	jmp 3b\n"
	".section .boot.bss, \"aw\", @nobits\n"
	".balign 4096\n"
	"hh_pml4: .skip 4096\n"
	"hh_pdpt_lo: .skip 4096\n"
	"hh_pdpt_hi: .skip 4096\n"
	"hh_pd_lo: .skip 4096\n"
	"hh_pd_hi: .skip 4096\n"
	"hh_pt_lo: .skip 4096\n"
	".bss\n"
	".balign 16\n"
	"hh_stack: .skip 16384\n"
	"hh_stack_top:\n"
	".text\n");

static char line[256];
static unsigned int line_len;

static unsigned long phys(const void *p) { return (unsigned long)p - HH_KBASE; }

static void put(const char *s)
{
	while (*s && line_len < sizeof(line))
		line[line_len++] = *s++;
}

static void put_hex(unsigned long v)
{
	char b[19];
	int i = 18;

	b[i] = 0;
	do
		b[--i] = "0123456789abcdef"[v & 15];
	while ((v >>= 4) && i > 2);
	b[--i] = 'x';
	b[--i] = '0';
	put(b + i);
}

static void put_dec(unsigned long v)
{
	char b[21];
	int i = 20;

	b[i] = 0;
	do
		b[--i] = (char)('0' + v % 10);
	while ((v /= 10) && i > 0);
	put(b + i);
}

static void flush(void)
{
	pv_console_write((const void *)phys(line), line_len); /* guest-physical */
	line_len = 0;
}

#define N 100000
static unsigned char composite[N];

static unsigned long sieve(void)
{
	unsigned long count = 0;

	for (unsigned long i = 2; i < N; i++) {
		if (composite[i])
			continue;
		count++;
		for (unsigned long j = i * i; j < N; j += i)
			composite[j] = 1;
	}
	return count;
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

void hh_main(const struct pv_boot_info *bi);

void hh_main(const struct pv_boot_info *bi)
{
	const char *cmd = (const char *)(unsigned long)bi->cmdline; /* low memory: still identity-mapped */
	unsigned long rip, cr3;

	__asm__ __volatile__("lea 0(%%rip), %0" : "=r"(rip));
	__asm__ __volatile__("mov %%cr3, %0" : "=r"(cr3));
	put("higherhalf: kernel at ");
	put_hex(rip & ~0xffful);
	put(", cr3 ");
	put_hex(cr3);
	put("\n");
	flush();
	if (streq(cmd, "low")) {
		volatile unsigned char *p = (volatile unsigned char *)phys(composite);

		put("higherhalf: reading my data at its physical address ");
		put_hex((unsigned long)p);
		put("\n");
		flush();
		(void)*p;
	} else if (streq(cmd, "high")) {
		volatile unsigned long *p = (volatile unsigned long *)(HH_KBASE + (1ul << 30));

		*p = 1;
	} else {
		put("higherhalf: ");
		put_dec(sieve());
		put(" primes below ");
		put_dec(N);
		put("\n");
		flush();
		pv_exit(0);
	}
	put("higherhalf: survived '");
	put(cmd);
	put("'\n");
	flush();
	pv_exit(1);
}
