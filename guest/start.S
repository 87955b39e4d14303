/* SPDX-License-Identifier: MIT */
/* Guest entry: RDI = boot info, RSI = vCPU id (see <pv/abi/core.h>). */
	.section .text.start, "ax"
	.globl _start
	.code64
_start:
	/* .bss is already zero: the loader zero-fills every segment past its
	 * file size (<pv/abi/core.h>), and a store costs dearly under emulation. */
	leaq pv_stack_top(%rip), %rsp
	xorl %ebp, %ebp
	call pv__start
1:	hlt
	jmp 1b

	.section .bss
	.balign 16
	.skip 65536
pv_stack_top:
	.section .note.GNU-stack, "", @progbits
