// SPDX-License-Identifier: BSD-3-Clause
/*
 * The mps2-an386 firmware's doorbells as interrupts (fw-irq.elf), through
 * UART1 (CMSDK APB UART at 0x40005000), which QEMU connects to a UNIX
 * socket (-serial unix:PATH,server=on) the host's master holds
 * (rpk run --doorbell-socket PATH):
 *
 *   master -> firmware: the master sends a byte; UART1's receive interrupt
 *       (IRQ 2) wakes the firmware from wfi;
 *   firmware -> master: notify sends a byte, which the master's reader
 *       takes as our ring.
 *
 * A byte is only a knock: the rings say what there is. SysTick wakes the
 * firmware every 10 ms as well, so it sees a master come or go (the vdev
 * status) without a knock.
 */
#include "board.h"

#define UART1_DATA	(*(volatile uint32_t *)0x40005000u)
#define UART1_STATE	(*(volatile uint32_t *)0x40005004u)
#define UART1_CTRL	(*(volatile uint32_t *)0x40005008u)
#define UART1_INTCLEAR	(*(volatile uint32_t *)0x4000500cu) /* write 1 to clear */
#define UART1_BAUDDIV	(*(volatile uint32_t *)0x40005010u)
#define UART_TX_FULL	(1u << 0)
#define UART_TX_EN	(1u << 0)
#define UART_RX_EN	(1u << 1)
#define UART_RX_INT_EN	(1u << 3)
#define UART_RX_INT	(1u << 1)
#define NVIC_ISER0	(*(volatile uint32_t *)0xe000e100u)
#define UART1_RX_IRQ	2u
#define SYST_CSR	(*(volatile uint32_t *)0xe000e010u)
#define SYST_RVR	(*(volatile uint32_t *)0xe000e014u)
#define SYST_CVR	(*(volatile uint32_t *)0xe000e018u)
#define SYST_ENABLE_INT 7u	  /* enable, interrupt, processor clock */
#define SYSCLK_HZ	25000000u /* QEMU's mps2 boards */
#define TICK_HZ		100u

/* Set by the interrupts, cleared by board_idle: a knock or a tick came. */
static volatile uint32_t knocked;
static volatile uint32_t knocks;

void uart1_rx_handler(void);
void uart1_rx_handler(void)
{
	/* Clear first, then take the byte: taking it lets the next one in
	 * (QEMU may deliver it within the read), whose interrupt a clear
	 * after the read would wipe out, and with it every knock after. */
	UART1_INTCLEAR = UART_RX_INT;
	(void)UART1_DATA;
	knocked = 1;
	knocks++;
}

void systick_handler(void);
void systick_handler(void)
{
	knocked = 1;
}

static void notify(void *ctx, uint32_t id)
{
	(void)ctx;
	(void)id;
	/* A full transmitter holds a knock the master has yet to read:
	 * one is enough. */
	if (!(UART1_STATE & UART_TX_FULL))
		UART1_DATA = 'k';
}

static const struct rpk_port_ops ops = {.notify = notify};
const struct rpk_port board_port = {&ops, 0};

void board_doorbell_init(void)
{
	UART1_BAUDDIV = 16;
	UART1_CTRL = UART_TX_EN | UART_RX_EN | UART_RX_INT_EN;
	NVIC_ISER0 = 1u << UART1_RX_IRQ;
	SYST_RVR = SYSCLK_HZ / TICK_HZ - 1;
	SYST_CVR = 0;
	SYST_CSR = SYST_ENABLE_INT;
}

/* Sleep until a knock or a tick since the last return. On a Cortex-M4
 * the race-free form masks interrupts around the look and the wfi (a
 * masked pending interrupt still ends a wfi), but QEMU 7.2's wfi does not
 * wake for a masked one: here it took a tick (10 ms) per message. So we
 * sleep with interrupts on: a knock between the look and the wfi is taken
 * before the wfi, which then sleeps until the next knock or tick. Late by
 * at most a tick in that two-instruction window, never lost. */
void board_idle(void)
{
	if (!knocked)
		__asm__ volatile("wfi" ::: "memory");
	knocked = 0;
}

uint32_t board_knocks(void)
{
	return knocks;
}
