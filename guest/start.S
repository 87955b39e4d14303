/* SPDX-License-Identifier: MIT */
/* Guest entry: RDI = boot info, RSI = vCPU id (see <pv/abi.h>). */
	.section .text.start, "ax"
	.globl _start
	.code64
_start:
	movq %rdi, %r12
	movq %rsi, %r13
	/* clear .bss (which holds our stack, so before using it) */
	leaq __bss_start(%rip), %rdi
	leaq __bss_end(%rip), %rcx
	subq %rdi, %rcx
	xorl %eax, %eax
	cld
	rep stosb
	leaq pv_stack_top(%rip), %rsp
	xorl %ebp, %ebp
	movq %r12, %rdi
	movq %r13, %rsi
	call pv__start
1:	hlt
	jmp 1b

	.section .bss
	.balign 16
	.skip 65536
pv_stack_top:
	.section .note.GNU-stack, "", @progbits
