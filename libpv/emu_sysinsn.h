/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * System instructions Unicorn runs where KVM raises #GP: WRMSR that changes
 * EFER.LME while paging is on, and FXRSTOR of an MXCSR with reserved bits
 * set.  Unicorn has no hook for either instruction, so the backend looks
 * for their encodings in the ELF's executable segments and puts a code hook
 * on each place one may start (a few bytes of range, for prefixes): the
 * hook runs only there, just before the instruction, and checks it.  Code a
 * guest writes at run time is not covered, nor places past the first 256.
 */
#ifndef PV_EMU_SYSINSN_H
#define PV_EMU_SYSINSN_H

#include <stdbool.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

#include "internal.h"

/*
 * Add the hooks for (vm)'s executable segments to (uc).  When a checked
 * instruction at RIP must fault, (fault)(v, vector, rip) is called from
 * the hook, before the instruction runs; the caller stops the engine.
 * Returns the number of hooks added.
 */
unsigned int emu_sysinsn_hooks(uc_engine *uc, struct pv_vcpu *v,
			       void (*fault)(struct pv_vcpu *v, unsigned int vector, uint64_t rip));

#endif
