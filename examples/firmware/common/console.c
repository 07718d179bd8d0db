// SPDX-License-Identifier: BSD-3-Clause
/*
 * What every board's firmware prints and measures, over the board's
 * board_putc: text, numbers, and the stack's high-water mark (the stack is
 * painted with STACK_PAINT at reset, between the link script's
 * __stack_bottom and __stack_top).
 */
#include <stdint.h>

#include "board.h"

extern uint32_t __stack_bottom[], __stack_top[];

void console_puts(const char *s)
{
	for (; *s; s++)
		board_putc(*s);
}

void console_hex(uint32_t v)
{
	char buf[11] = "0x";

	for (int i = 0; i < 8; i++)
		buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xfu];
	buf[10] = 0;
	console_puts(buf);
}

void console_dec(uint32_t v)
{
	char buf[11];
	int i = 10;

	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	console_puts(buf + i);
}

/* Bytes of the stack never written since reset: it was painted at reset. */
uint32_t stack_never_used(void)
{
	uint32_t *p = __stack_bottom;

	while (p < __stack_top && *p == STACK_PAINT)
		p++;
	return (uint32_t)((uintptr_t)p - (uintptr_t)__stack_bottom);
}

uint32_t stack_size(void)
{
	return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)__stack_bottom);
}
