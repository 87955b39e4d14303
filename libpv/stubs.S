/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guest exception stubs.  These bytes are not run by the host: the loader
 * copies them to PV_STUBS_ADDR in guest memory and points every IDT gate at
 * them.  Stub N (16 bytes each, N < 32) pushes a zero error code where the
 * CPU pushes none, then N, and jumps to the common tail, which reports the
 * exception with one PV_HC_FAULT hypercall.  Vectors >= 32 share one stub
 * that reports vector 256.  Position-independent: only relative jumps.
 */
#include "pv/abi/core.h"

	.section .rodata
	.balign 16
	.globl pv__stubs_start, pv__stubs_end
	.code64
pv__stubs_start:
	.set vec, 0
	.rept 32
	.balign 16
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp common
	.set vec, vec + 1
	.endr
	.balign 16
	pushq $0
	pushq $256
common:
	movq (%rsp), %rdi	/* vector */
	movq 8(%rsp), %rsi	/* error code */
	movq 16(%rsp), %r8	/* RIP of the faulting instruction (or the next one, for traps) */
	movq %cr2, %r9
	movl $PV_HC_FAULT, %eax
	movw $0x0500, %dx	/* PV_HC_PORT (its C suffix trips clang's assembler): loader.c checks */
	outl %eax, %dx
1:	hlt
	jmp 1b
pv__stubs_end:
	.section .note.GNU-stack, "", @progbits
