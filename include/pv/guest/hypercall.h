/* SPDX-License-Identifier: MIT */
/*
 * Guest-side hypercall stubs for ABI v1 (see <pv/abi/core.h> for the convention).
 * Freestanding; x86-64 only.
 */
#ifndef PV_HYPERCALL_H
#define PV_HYPERCALL_H

#include "../abi/core.h"

static inline long pv_hypercall4(unsigned long nr, unsigned long a0, unsigned long a1,
				 unsigned long a2, unsigned long a3)
{
	register unsigned long r8 __asm__("r8") = a2;
	register unsigned long r9 __asm__("r9") = a3;
	unsigned long ret = nr;

	__asm__ __volatile__("outl %%eax, %%dx"
			     : "+a"(ret)
			     : "d"((unsigned short)PV_HC_PORT), "D"(a0), "S"(a1), "r"(r8), "r"(r9)
			     : "memory");
	return (long)ret;
}

static inline long pv_hypercall0(unsigned long nr) { return pv_hypercall4(nr, 0, 0, 0, 0); }
static inline long pv_hypercall1(unsigned long nr, unsigned long a0) { return pv_hypercall4(nr, a0, 0, 0, 0); }
static inline long pv_hypercall2(unsigned long nr, unsigned long a0, unsigned long a1)
{
	return pv_hypercall4(nr, a0, a1, 0, 0);
}

/* Write len bytes at buf to the console; returns len or a PV_E* error. */
static inline long pv_console_write(const void *buf, unsigned long len)
{
	return pv_hypercall2(PV_HC_CONSOLE_WRITE, (unsigned long)buf, len);
}

/* End the VM with exit status status & 0xff. */
static inline __attribute__((noreturn)) void pv_exit(int status)
{
	pv_hypercall1(PV_HC_EXIT, (unsigned long)(unsigned int)status);
	for (;;)
		__asm__ __volatile__("hlt");
}

/* Monotonic nanoseconds since VM creation. */
static inline unsigned long long pv_time_ns(void) { return (unsigned long long)pv_hypercall0(PV_HC_TIME); }

static inline long pv_yield(void) { return pv_hypercall0(PV_HC_YIELD); }

/* Wait until an event is pending or timeout_ns passes (0: no timeout). */
static inline long pv_block(unsigned long long timeout_ns) { return pv_hypercall1(PV_HC_BLOCK, timeout_ns); }

/* pv_block, unless the u32 at watch no longer holds value (see PV_HC_BLOCK). */
static inline long pv_block_watch(unsigned long long timeout_ns, const volatile void *watch, unsigned int value)
{
	return pv_hypercall4(PV_HC_BLOCK, timeout_ns, (unsigned long)watch, value, 0);
}

/* Start vCPU `vcpu` at rip with stack rsp; it gets RDI = arg, RSI = vcpu. */
static inline long pv_vcpu_up(unsigned int vcpu, void (*rip)(unsigned long, unsigned long), void *rsp,
			      unsigned long arg)
{
	return pv_hypercall4(PV_HC_VCPU_UP, vcpu, (unsigned long)rip, (unsigned long)rsp, arg);
}

#endif /* PV_HYPERCALL_H */
