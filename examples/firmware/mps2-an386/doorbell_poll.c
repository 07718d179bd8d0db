// SPDX-License-Identifier: BSD-3-Clause
/*
 * The mps2-an386 firmware's port when both sides poll (fw.elf): a ring is a
 * change of the shared-memory mailbox's word, and we wait for nothing. A
 * Cortex-M4 has no data cache, and the firmware has one thread.
 */
#include "board.h"
#include "shm_bell.h"

static void notify(void *ctx, uint32_t id)
{
	(void)ctx;
	(void)id;
	shm_bell_ring();
}

static const struct rpk_port_ops ops = {.notify = notify};
const struct rpk_port board_port = {&ops, 0};

void board_doorbell_init(void)
{
}

void board_idle(void)
{
}

uint32_t board_knocks(void)
{
	return 0;
}
