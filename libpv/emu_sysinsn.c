/* SPDX-License-Identifier: GPL-2.0-only */
/* #GP for the system instructions Unicorn lets through (see emu_sysinsn.h). */
#include "emu_sysinsn.h"
#include "emu_fault.h"

#define MSR_EFER     0xc0000080u
#define EFER_LME     0x100ull
#define CR0_PG       0x80000000ull
#define MXCSR_MASK   0xffffu  /* bits 16..31 are reserved */
#define MAX_HOOKS    256

/* The fault callback of the engine a hook belongs to (one per process). */
static void (*fault_cb)(struct pv_vcpu *v, unsigned int vector, uint64_t rip);

static bool read_guest(struct pv_vm *vm, uint64_t cr3, uint64_t va, void *buf, unsigned int n)
{
	uint8_t *b = buf;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t gpa = emu_gva_to_gpa(vm, cr3, va + i);

		if (gpa >= vm->ram_size)
			return false;
		b[i] = vm->ram[gpa];
	}
	return true;
}

/* 0: not checked; 1: WRMSR; 2: FXRSTOR (0F AE /1, memory operand). */
static int decode(const uint8_t *b, unsigned int n)
{
	unsigned int i = 0;

	while (i < n && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf0 || b[i] == 0xf2 || b[i] == 0xf3 ||
			 b[i] == 0x2e || b[i] == 0x36 || b[i] == 0x3e || b[i] == 0x26 || b[i] == 0x64 || b[i] == 0x65))
		i++;
	if (i < n && (b[i] & 0xf0) == 0x40) /* REX */
		i++;
	if (i + 1 >= n || b[i] != 0x0f)
		return 0;
	if (b[i + 1] == 0x30)
		return 1;
	if (b[i + 1] == 0xae && i + 2 < n && (b[i + 2] >> 6) != 3 && ((b[i + 2] >> 3) & 7) == 1)
		return 2;
	return 0;
}

static void hook_sysinsn(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	struct pv_vcpu *v = user;
	uint64_t regs[EMU_FAULT_NREGS];
	uint8_t b[15];
	unsigned int n = size < sizeof(b) ? size : sizeof(b);
	int kind;

	emu_fault_regs(uc, regs);
	if (!read_guest(v->vm, regs[19], addr, b, n) || !(kind = decode(b, n)))
		return;
	if (kind == 1) {
		uc_x86_msr efer = { .rid = MSR_EFER };
		uint64_t cr0 = 0;

		if ((uint32_t)regs[1] != MSR_EFER) /* ECX */
			return;
		uc_reg_read(uc, UC_X86_REG_MSR, &efer);
		uc_reg_read(uc, UC_X86_REG_CR0, &cr0);
		if ((cr0 & CR0_PG) && ((regs[0] ^ efer.value) & EFER_LME)) /* EAX */
			fault_cb(v, 13, addr);
		return;
	}
	{
		uint64_t ea;
		uint32_t mxcsr;

		if (emu_first_access(emu_vcpu_probe(v), v->vm, regs, addr, &ea) && read_guest(v->vm, regs[19], ea + 24, &mxcsr, 4) &&
		    (mxcsr & ~MXCSR_MASK))
			fault_cb(v, 13, addr);
	}
}

unsigned int emu_sysinsn_hooks(uc_engine *uc, struct pv_vcpu *v,
			       void (*fault)(struct pv_vcpu *v, unsigned int vector, uint64_t rip))
{
	struct pv_vm *vm = v->vm;
	unsigned int hooks = 0;

	fault_cb = fault;
	for (unsigned int s = 0; s < vm->nr_xsegs; s++) {
		const struct pv_xseg *x = &vm->xsegs[s];
		const uint8_t *code = vm->ram + x->paddr;

		for (uint64_t k = 0; k + 1 < x->len && hooks < MAX_HOOKS; k++) {
			uc_hook h;

			if (code[k] != 0x0f || (code[k + 1] != 0x30 && code[k + 1] != 0xae))
				continue;
			/* the instruction may start up to 5 prefix bytes earlier */
			if (uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)hook_sysinsn, v, x->vaddr + (k > 5 ? k - 5 : 0),
					x->vaddr + k) == UC_ERR_OK)
				hooks++;
		}
	}
	return hooks;
}
