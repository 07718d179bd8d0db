// SPDX-License-Identifier: BSD-3-Clause
/*
 * QEMU's virt board with a Cortex-A53 for the firmware (../common/echo.c),
 * as the seeds' remote runs on the TCC807x's Cortex-A55: EL1, its MMU and
 * data cache on, its translation table built from the list `rpk gen` writes
 * for Zephyr (mmu_regions.h), so a region the devicetree does not give the
 * firmware is not mapped and faults. A console on the PL011 at 0x09000000
 * (QEMU's -serial), the port (polling, cache maintenance by address, the
 * generic timer), and an exception report that names what faulted.
 */
#include <stdint.h>

#include <rpk/errno.h>

#include "board.h"
#include "mmu.h"
#include "mmu_regions.h"
#include "shm_bell.h"

#define UART_BASE    0x09000000u
#define UART_DR	     (*(volatile uint32_t *)(UART_BASE + 0x00u))
#define UART_FR	     (*(volatile uint32_t *)(UART_BASE + 0x18u))
#define UART_FR_TXFF (1u << 5)

extern uint32_t __bss_start[], __bss_end[], __stack_bottom[], __stack_top[];
extern char __text_start[], __text_end[], __image_end[];
extern char __rsc_region_start[], __rsc_region_end[];
int main(void);

void board_putc(char c)
{
	while (UART_FR & UART_FR_TXFF)
		;
	UART_DR = (uint8_t)c;
}

static void console_hex64(uint64_t v)
{
	console_hex((uint32_t)(v >> 32));
	for (int shift = 28; shift >= 0; shift -= 4)
		board_putc("0123456789abcdef"[(v >> shift) & 0xfu]);
}

static uintptr_t dcache_line(void)
{
	uint64_t ctr;

	__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
	return (uintptr_t)4u << ((ctr >> 16) & 0xfu); /* DminLine: log2 of words */
}

/* Clean (write back) the lines of [addr, addr + len) to memory, where the
 * master reads them: the core calls it on what it publishes. */
static void cache_clean(void *ctx, const void *addr, size_t len)
{
	uintptr_t line = dcache_line(), p = (uintptr_t)addr & ~(line - 1);

	(void)ctx;
	for (; p < (uintptr_t)addr + len; p += line)
		__asm__ volatile("dc cvac, %0" ::"r"(p) : "memory");
	__asm__ volatile("dsb sy" ::: "memory"); /* done before the index that publishes it */
}

/* Drop the lines of [addr, addr + len), so the next read comes from memory
 * the master wrote: the core calls it before it consumes. Clean-and-
 * invalidate, not invalidate alone: a line the range shares at its edges
 * may hold our own unwritten data. */
static void cache_invalidate(void *ctx, const void *addr, size_t len)
{
	uintptr_t line = dcache_line(), p = (uintptr_t)addr & ~(line - 1);

	(void)ctx;
	for (; p < (uintptr_t)addr + len; p += line)
		__asm__ volatile("dc civac, %0" ::"r"(p) : "memory");
	__asm__ volatile("dsb sy" ::: "memory");
}

static void notify(void *ctx, uint32_t id)
{
	(void)ctx;
	(void)id;
	shm_bell_ring();
}

/* The generic timer: a tick for timeouts. */
static uint32_t now_ms(void *ctx)
{
	uint64_t count, freq;

	(void)ctx;
	__asm__ volatile("isb\n"
			 "mrs %0, cntvct_el0\n"
			 "mrs %1, cntfrq_el0"
			 : "=r"(count), "=r"(freq));
	return (uint32_t)(count / (freq / 1000u));
}

void board_doorbell_init(void)
{
}

/* Both sides poll: nothing to wait for. */
void board_idle(void)
{
}

uint32_t board_knocks(void)
{
	return 0;
}

/* One thread, no interrupts taken: no locks. */
static const struct rpk_port_ops ops = {
    .notify = notify,
    .cache_clean = cache_clean,
    .cache_invalidate = cache_invalidate,
    .now_ms = now_ms,
};
const struct rpk_port board_port = {&ops, 0};

static void halt(void)
{
	for (;;)
		__asm__ volatile("wfi");
}

void platform_stop(int err)
{
	console_puts("rpk firmware: stopped, error ");
	console_dec((uint32_t)-err);
	console_puts("\n");
	halt();
}

static const char *exception_class(uint64_t esr)
{
	switch (esr >> 26) {
	case 0x25:
		/* DFSC 0b0001LL: a translation fault at level LL (not mapped);
		 * 0b100001: an alignment fault. */
		if ((esr & 0x3cu) == 0x04u)
			return "data abort, translation fault (not mapped)";
		if ((esr & 0x3fu) == 0x21u)
			return "data abort, alignment fault";
		return "data abort";
	case 0x21:
		return "instruction abort";
	case 0x22:
		return "PC alignment fault";
	case 0x26:
		return "SP alignment fault";
	case 0x00:
		return "unknown instruction";
	default:
		return "exception";
	}
}

/* Any exception (start.S's vectors): say which, where, and stop. */
__attribute__((noreturn)) void exception_report(uint64_t vector, uint64_t esr, uint64_t far,
						uint64_t elr);
void exception_report(uint64_t vector, uint64_t esr, uint64_t far, uint64_t elr)
{
	console_puts("\nrpk firmware: ");
	console_puts((vector & 3u) == 0 ? exception_class(esr) : "unexpected interrupt");
	console_puts(" at pc ");
	console_hex64(elr);
	console_puts(", address ");
	console_hex64(far);
	console_puts(", ESR ");
	console_hex((uint32_t)esr);
	console_puts(", vector ");
	console_dec((uint32_t)vector);
	console_puts("\n");
	halt();
	__builtin_unreachable();
}

/* What the firmware may touch: its image (code read-only), the table's
 * region (inside the image, as in seed 000), the console, the mailbox's
 * page (a device to us, as a SoC's mailbox is: uncached), and the link's
 * carveouts exactly as rpk gen lists them for Zephyr. */
static const struct mmu_region regions[] = {
    MMU_REGION_FLAT_ENTRY("TEXT", 0, 0, MT_NORMAL | MT_P_RO_U_NA | MT_P_EXECUTE),
    MMU_REGION_FLAT_ENTRY("DATA", 0, 0, MT_NORMAL | MT_P_RW_U_NA),
    MMU_REGION_FLAT_ENTRY("RSCTABLE", 0, 0, MT_NORMAL | MT_P_RW_U_NA),
    MMU_REGION_FLAT_ENTRY("UART", UART_BASE, 0x1000, MT_DEVICE_nGnRnE | MT_P_RW_U_NA),
    MMU_REGION_FLAT_ENTRY("MAILBOX", RPK_MBOX_ADDRESS, 0x1000, MT_DEVICE_nGnRnE | MT_P_RW_U_NA),
    RPK_MMU_REGIONS};

__attribute__((noreturn)) void board_start(void);
void board_start(void)
{
	struct mmu_region image[sizeof(regions) / sizeof(regions[0])];
	uintptr_t sp;

	for (uint32_t *p = __bss_start; p < __bss_end; p++)
		*p = 0;
	/* Paint the stack below our frame for the high-water mark
	 * (stack_never_used), a margin short of where we stand. */
	__asm__ volatile("mov %0, sp" : "=r"(sp));
	for (uint32_t *p = __stack_bottom; (uintptr_t)p < sp - 256; p++)
		*p = STACK_PAINT;
	for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++)
		image[i] = regions[i];
	image[0].base = (uintptr_t)__text_start;
	image[0].size = (size_t)(__text_end - __text_start);
	image[1].base = (uintptr_t)__text_end;
	image[1].size = (size_t)(__image_end - __text_end);
	image[2].base = (uintptr_t)__rsc_region_start;
	image[2].size = (size_t)(__rsc_region_end - __rsc_region_start);
	mmu_enable(image, sizeof(image) / sizeof(image[0]));
	console_puts("rpk firmware: MMU on, ");
	console_dec((uint32_t)(sizeof(regions) / sizeof(regions[0])));
	console_puts(" regions mapped, data cache on\n");
	main();
	halt();
	__builtin_unreachable();
}
