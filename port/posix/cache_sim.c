/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "posix/cache_sim.h"

/* Move the whole lines covering [addr, addr + len) one way or the other. */
static void sim_move(struct rpk_sim_cache *c, const void *addr, size_t len, int to_shared)
{
	const uint8_t *a = addr;

	for (int i = 0; i < c->count; i++) {
		size_t off, end;

		if (a < c->reg[i].priv || a >= c->reg[i].priv + c->reg[i].size)
			continue;
		off = (size_t)(a - c->reg[i].priv) & ~(size_t)(RPK_SIM_LINE - 1);
		end = (size_t)(a - c->reg[i].priv) + len;
		end = (end + RPK_SIM_LINE - 1) & ~(size_t)(RPK_SIM_LINE - 1);
		if (end > c->reg[i].size)
			end = c->reg[i].size;
		if (to_shared)
			memcpy(c->reg[i].shared + off, c->reg[i].priv + off, end - off);
		else
			memcpy(c->reg[i].priv + off, c->reg[i].shared + off, end - off);
		return;
	}
}

void rpk_sim_cache_clean(struct rpk_sim_cache *c, const void *addr, size_t len)
{
	/* The copy must be visible before whatever the caller publishes next. */
	sim_move(c, addr, len, 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void rpk_sim_cache_invalidate(struct rpk_sim_cache *c, const void *addr, size_t len)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	sim_move(c, addr, len, 0);
}

int rpk_sim_cache_add(struct rpk_sim_cache *c, uint8_t *priv, uint8_t *shared, size_t size)
{
	if (c->count == RPK_SIM_MAX_REGIONS)
		return -1;
	c->reg[c->count].priv = priv;
	c->reg[c->count].shared = shared;
	c->reg[c->count].size = size;
	c->count++;
	memcpy(priv, shared, size);
	return 0;
}
