// SPDX-License-Identifier: BSD-3-Clause
/*
 * A firmware that faults on purpose (the suite's firmware.fault): a load
 * from an address where mps2-an386 has nothing, which the Cortex-M4 takes as
 * a hard fault; board.c's handler must say so on the console.
 */
#include <stdint.h>

#include "board.h"

int main(void)
{
	console_puts("rpk firmware: reading an address with nothing behind it\n");
	return (int)*(volatile uint32_t *)0xf0000000u;
}
