/* SPDX-License-Identifier: GPL-2.0-only */
/* The access type of a Unicorn 2.1 page fault (see emu_fault.h). */
#include <string.h>

#include "emu_fault.h"

static const int fault_regs[EMU_FAULT_NREGS] = {
	UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
	UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
	UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15, UC_X86_REG_RFLAGS,
	UC_X86_REG_FS_BASE, UC_X86_REG_GS_BASE, UC_X86_REG_CR3,
};

void emu_fault_regs(uc_engine *uc, uint64_t regs[EMU_FAULT_NREGS])
{
	void *ptrs[EMU_FAULT_NREGS];

	for (int i = 0; i < EMU_FAULT_NREGS; i++) {
		regs[i] = 0;
		ptrs[i] = &regs[i];
	}
	uc_reg_read_batch(uc, (int *)fault_regs, ptrs, EMU_FAULT_NREGS);
}

#define PTE_P   0x1ull
#define PTE_PS  0x80ull
#define PTE_ADDR 0x000ffffffffff000ull

uint64_t emu_gva_to_gpa(const struct pv_vm *vm, uint64_t cr3, uint64_t va)
{
	uint64_t table = cr3 & PTE_ADDR;

	for (int level = 3; level >= 0; level--) {
		uint64_t idx = (va >> (12 + 9 * level)) & 511, e;

		if (table > vm->ram_size - 8 || table + idx * 8 > vm->ram_size - 8)
			return UINT64_MAX;
		memcpy(&e, vm->ram + table + idx * 8, 8);
		if (!(e & PTE_P))
			return UINT64_MAX;
		if (level == 0 || ((e & PTE_PS) && level <= 2)) {
			uint64_t span = 1ull << (12 + 9 * level);

			return ((e & PTE_ADDR) & ~(span - 1)) | (va & (span - 1));
		}
		table = e & PTE_ADDR;
	}
	return UINT64_MAX;
}

/* The scratch engine runs without paging, on the low 52 bits of addresses. */
#define SCRATCH_MASK ((1ull << 52) - 1)

struct probe {
	bool any;                /* stop at the first access */
	uint64_t target;         /* else: page of the faulting address */
	int maps;                /* zero pages given to other accesses */
	bool hit, write;
	uint64_t addr;
};

static bool probe_invalid(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *user)
{
	struct probe *p = user;

	(void)value;
	if (p->any || ((addr & SCRATCH_MASK) & ~4095ull) == p->target ||
	    (((addr + (uint64_t)size - 1) & SCRATCH_MASK) & ~4095ull) == p->target) {
		p->hit = true;
		p->write = type == UC_MEM_WRITE_UNMAPPED || type == UC_MEM_WRITE_PROT;
		p->addr = addr;
		return false;
	}
	/* Another operand (the source of a MOVS, a stack slot): give it a
	 * zero page and go on, a few times at most. */
	if (++p->maps > 4)
		return false;
	return uc_mem_map(uc, addr & ~4095ull, 4096, UC_PROT_ALL) == UC_ERR_OK;
}

uc_engine *emu_probe_open(void)
{
	uc_engine *uc;

	if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK)
		return NULL;
	/* The first call that needs the engine initialises it (code buffer included). */
	if (uc_mem_map(uc, 0, 4096, UC_PROT_ALL) != UC_ERR_OK || uc_mem_unmap(uc, 0, 4096) != UC_ERR_OK) {
		uc_close(uc);
		return NULL;
	}
	return uc;
}

/* Leave the scratch engine as emu_probe_open made it: no memory, no stale code. */
static void probe_empty(uc_engine *uc)
{
	uc_mem_region *r;
	uint32_t n;

	if (uc_mem_regions(uc, &r, &n) != UC_ERR_OK)
		return;
	for (uint32_t i = 0; i < n; i++) {
		uc_ctl_remove_cache(uc, r[i].begin, r[i].end);
		uc_mem_unmap(uc, r[i].begin, r[i].end - r[i].begin + 1);
	}
	uc_free(r);
}

/* Run the instruction at (rip) once in the scratch engine uc (see emu_fault.h). */
static void probe_run(uc_engine *uc, struct pv_vm *vm, const uint64_t regs[EMU_FAULT_NREGS], uint64_t rip,
		      struct probe *p)
{
	uint8_t insn[15];
	size_t n = 0;
	uint64_t cr4 = 0x600, code = rip & SCRATCH_MASK; /* OSFXSR, OSXMMEXCPT as at boot */
	uc_hook h;

	while (n < sizeof(insn)) {
		uint64_t gpa = emu_gva_to_gpa(vm, regs[19], rip + n);

		if (gpa == UINT64_MAX || gpa >= vm->ram_size)
			break;
		insn[n++] = vm->ram[gpa];
	}
	/* A fault fetching the instruction itself is no data access. */
	if (!uc || n == 0 || (!p->any && ((code & ~4095ull) == p->target || ((code + n - 1) & ~4095ull) == p->target)))
		return;
	for (int i = 0; i < EMU_FAULT_NREGS - 1; i++)
		uc_reg_write(uc, fault_regs[i], &regs[i]);
	uc_reg_write(uc, UC_X86_REG_CR4, &cr4);
	if (uc_mem_map(uc, code & ~4095ull, 8192, UC_PROT_ALL) == UC_ERR_OK &&
	    uc_mem_write(uc, code, insn, n) == UC_ERR_OK &&
	    uc_hook_add(uc, &h, UC_HOOK_MEM_INVALID, (void *)probe_invalid, p, 1, 0) == UC_ERR_OK) {
		uc_emu_start(uc, code, 0, 0, 1);
		uc_hook_del(uc, h);
	}
	probe_empty(uc);
}

bool emu_fault_is_write(uc_engine *probe, struct pv_vm *vm, const uint64_t regs[EMU_FAULT_NREGS], uint64_t rip,
			uint64_t cr2)
{
	struct probe p = { .target = (cr2 & SCRATCH_MASK) & ~4095ull };

	probe_run(probe, vm, regs, rip, &p);
	return p.hit && p.write;
}

bool emu_first_access(uc_engine *probe, struct pv_vm *vm, const uint64_t regs[EMU_FAULT_NREGS], uint64_t rip,
		      uint64_t *addr)
{
	struct probe p = { .any = true };

	probe_run(probe, vm, regs, rip, &p);
	/* the scratch engine sees the low 52 bits: sign-extend a high address */
	*addr = (p.addr & (1ull << 51)) ? p.addr | ~SCRATCH_MASK : p.addr;
	return p.hit;
}
