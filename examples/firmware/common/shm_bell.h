/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ringing the master through the link's shared-memory mailbox
 * (rpk,shm-mailbox, docs/host-link.md): add 1 to the sequence word of our
 * tx channel. A master that polls (rpk run --polling, Linux's
 * kernel/rpk_shm_mbox.c) sees it change and looks at its rings. We are the
 * word's only writer. resource_table.h (rpk gen) says where it is.
 */
#ifndef RPK_FW_SHM_BELL_H
#define RPK_FW_SHM_BELL_H

#include <stdint.h>

#include "resource_table.h"

static inline void shm_bell_ring(void)
{
	volatile uint32_t *seq =
	    (volatile uint32_t *)(RPK_MBOX_ADDRESS + RPK_MBOX_TX_CHANNEL * RPK_MBOX_STRIDE);

	/* What we published in the rings is seen before the new sequence
	 * (pairs with the master's read of the word before it looks). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*seq = *seq + 1u;
}

#endif
