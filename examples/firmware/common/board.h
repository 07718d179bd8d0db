/* SPDX-License-Identifier: BSD-3-Clause */
/* The board under the firmware (each board's board.c): the port the core
 * calls, a console, stack accounting. */
#ifndef RPK_FW_BOARD_H
#define RPK_FW_BOARD_H

#include <stdint.h>

#include <rpk/port.h>

#define STACK_PAINT 0xdeadbeefu

/* Doorbell and cache maintenance for the link (rpk/port.h). */
extern const struct rpk_port board_port;
/* Start taking the master's doorbell (nothing on a polling board). */
void board_doorbell_init(void);
/* Wait for the master's doorbell, or a tick, since the last return; at once
 * on a polling board. The caller looks at its rings before and after. */
void board_idle(void);
/* The master's doorbells taken as interrupts so far (0 on a polling board). */
uint32_t board_knocks(void);

/* One character out on the board's console (console.c builds on it). */
void board_putc(char c);
void console_puts(const char *s);
void console_hex(uint32_t v);
void console_dec(uint32_t v);
/* Bytes of the stack never written since reset, and its size. */
uint32_t stack_never_used(void);
uint32_t stack_size(void);
/* Report a failure (a negative RPK_E* code) and halt. */
void platform_stop(int err);

#endif
