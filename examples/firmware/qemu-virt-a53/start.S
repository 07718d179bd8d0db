/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reset and exception vectors of the AArch64 firmware (QEMU virt, Cortex-A53).
 * QEMU starts a bare ELF at its entry at EL1 (no EL2 or EL3 on virt unless
 * asked for), MMU and caches off. We take a stack, install the vectors and
 * go to C (board.c), which builds the translation table and turns them on.
 */
	.section .text.boot, "ax"
	.global _start
_start:
	mrs	x0, CurrentEL
	cmp	x0, #(1 << 2)		/* EL1: all this firmware runs at */
	b.ne	.Lwrong_el
	ldr	x0, =__stack_top
	mov	sp, x0
	ldr	x0, =vectors
	msr	vbar_el1, x0
	isb
	bl	board_start		/* does not return */
.Lwrong_el:
	wfe
	b	.Lwrong_el

/*
 * 16 vectors of 0x80 bytes (current EL with SP0, with SPx, lower EL AArch64,
 * lower EL AArch32; synchronous, IRQ, FIQ, SError each). None is expected
 * here: each passes its number and the syndrome to exception_report, which
 * prints them and halts.
 */
	.macro	vector n
	.balign	0x80
	mov	x0, #\n
	b	exception_entry
	.endm

	.section .text.vectors, "ax"
	.balign	0x800
	.global	vectors
vectors:
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	vector	\n
	.endr

exception_entry:
	mrs	x1, esr_el1
	mrs	x2, far_el1
	mrs	x3, elr_el1
	b	exception_report
