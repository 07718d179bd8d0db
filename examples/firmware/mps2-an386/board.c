// SPDX-License-Identifier: BSD-3-Clause
/*
 * QEMU's mps2-an386 board for the firmware (../common/echo.c): the vector
 * table and reset, a console on UART0 (CMSDK APB UART at 0x40004000, QEMU's
 * -serial), and a fault handler that says what faulted before it halts. The
 * port and the doorbell's interrupts are doorbell_poll.c's or
 * doorbell_uart.c's (the two images build.sh makes).
 */
#include <stdint.h>

#include "board.h"

#define UART0_DATA     (*(volatile uint32_t *)0x40004000u)
#define UART0_STATE    (*(volatile uint32_t *)0x40004004u)
#define UART0_CTRL     (*(volatile uint32_t *)0x40004008u)
#define UART_TX_FULL   1u
#define UART_TX_ENABLE 1u
#define SCB_CFSR       (*(volatile uint32_t *)0xe000ed28u) /* configurable fault status */
#define SCB_HFSR       (*(volatile uint32_t *)0xe000ed2cu)
#define SCB_MMFAR      (*(volatile uint32_t *)0xe000ed34u)
#define SCB_BFAR       (*(volatile uint32_t *)0xe000ed38u)

extern uint32_t __bss_start[], __bss_end[], __stack_bottom[], __stack_top[];
int main(void);

void board_putc(char c)
{
	while (UART0_STATE & UART_TX_FULL)
		;
	UART0_DATA = (uint8_t)c;
}

static void halt(void)
{
	for (;;)
		__asm__ volatile("wfi");
}

/* A fault: say which, where, and stop (the test reads the console). */
__attribute__((used)) static void fault_report(const char *what, const uint32_t *frame)
{
	console_puts("\nrpk firmware: ");
	console_puts(what);
	console_puts(" at pc ");
	console_hex(frame[6]);
	console_puts(", CFSR ");
	console_hex(SCB_CFSR);
	console_puts(", HFSR ");
	console_hex(SCB_HFSR);
	console_puts(", BFAR ");
	console_hex(SCB_BFAR);
	console_puts(", MMFAR ");
	console_hex(SCB_MMFAR);
	console_puts("\n");
	halt();
}

/* The exception frame is on the stack the fault came from (MSP here). */
__attribute__((naked)) static void hard_fault(void)
{
	__asm__ volatile("ldr r0, =hard_fault_name\n"
			 "mrs r1, msp\n"
			 "b fault_report\n");
}

__attribute__((used)) const char hard_fault_name[] = "hard fault";

void platform_stop(int err)
{
	console_puts("rpk firmware: stopped, error ");
	console_dec((uint32_t)-err);
	console_puts("\n");
	halt();
}

__attribute__((noreturn)) void reset_handler(void)
{
	for (uint32_t *p = __bss_start; p < __bss_end; p++)
		*p = 0;
	uintptr_t sp;

	/* Paint the stack below our frame for the high-water mark
	 * (stack_never_used), a margin short of where we stand. */
	__asm__ volatile("mov %0, sp" : "=r"(sp));
	for (uint32_t *p = __stack_bottom; (uintptr_t)p < sp - 64; p++)
		*p = STACK_PAINT;
	UART0_CTRL = UART_TX_ENABLE;
	main();
	halt();
	__builtin_unreachable();
}

static void unexpected(void)
{
	static const uint32_t none[8];

	fault_report("unexpected exception", none);
}

/* The doorbell's interrupts, where the image takes them (doorbell_uart.c). */
__attribute__((weak, alias("unexpected"))) void systick_handler(void);
__attribute__((weak, alias("unexpected"))) void uart1_rx_handler(void);

/* Initial stack, reset, NMI, hard fault, then the other faults and the
 * rest of the architectural vectors, SysTick last; then the board's
 * interrupts 0 to 2 (UART0 RX and TX, UART1 RX: QEMU's mps2.c). */
__attribute__((section(".vectors"), used)) void (*const vectors[16 + 3])(void) = {
    (void (*)(void))__stack_top,
    reset_handler,
    unexpected,
    hard_fault,
    hard_fault,
    hard_fault,
    hard_fault,
    0,
    0,
    0,
    0,
    unexpected,
    unexpected,
    0,
    unexpected,
    systick_handler,
    unexpected,
    unexpected,
    uart1_rx_handler,
};
