/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unicorn 2.1 raises a #PF at the exact instruction but does not say
 * whether the access was a write (the error code stays inside the engine).
 * emu_fault_is_write() finds out without touching the guest: it runs the
 * faulting instruction once more in a private scratch engine that holds only
 * a copy of the instruction's bytes, with the vCPU's registers, and sees
 * which access reaches the faulting address.
 */
#ifndef PV_EMU_FAULT_H
#define PV_EMU_FAULT_H

#include <stdbool.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

#include "internal.h"

/* RAX..R15, RFLAGS, FS_BASE, GS_BASE, CR3 (in that order). */
#define EMU_FAULT_NREGS 20

/* Read the registers the probe needs from (uc) into (regs). */
void emu_fault_regs(uc_engine *uc, uint64_t regs[EMU_FAULT_NREGS]);

/*
 * The scratch engine of one vCPU, opened and made ready (an engine maps its
 * executable code buffer on first use, which a sandboxed vCPU thread may
 * not do) before the vCPU runs; NULL on failure (the probes then cannot
 * tell).  Each probe leaves it empty again; uc_close() it with the vCPU.
 */
uc_engine *emu_probe_open(void);

/* vCPU v's scratch engine (backend_emu.c), or NULL. */
uc_engine *emu_vcpu_probe(struct pv_vcpu *v);

/* Whether the instruction at (rip) faulted writing (cr2), given the vCPU's
 * (regs) and (vm)'s RAM for its page tables, run in (probe) from
 * emu_probe_open.  false when it cannot tell. */
bool emu_fault_is_write(uc_engine *probe, struct pv_vm *vm, const uint64_t regs[EMU_FAULT_NREGS], uint64_t rip,
			uint64_t cr2);

/* Guest-physical address of (va) through (vm)'s 4-level page tables at
 * (cr3), or UINT64_MAX when it is not mapped or the tables leave RAM. */
uint64_t emu_gva_to_gpa(const struct pv_vm *vm, uint64_t cr3, uint64_t va);

/* The address of the first memory access of the instruction at (rip), run
 * the same way; false when it makes none that could be seen. */
bool emu_first_access(uc_engine *probe, struct pv_vm *vm, const uint64_t regs[EMU_FAULT_NREGS], uint64_t rip,
		      uint64_t *addr);

#endif
