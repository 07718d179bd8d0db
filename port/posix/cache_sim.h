/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Simulated non-coherent memory: a side works on a private copy of each
 * region (its "cache"), and only a clean (private -> shared) or an invalidate
 * (shared -> private) moves data, in whole lines as a write-back data cache
 * does. A missing clean or invalidate, or two writers sharing a line, then
 * corrupts data on a laptop as it would on a board.
 */
#ifndef RPK_CACHE_SIM_H
#define RPK_CACHE_SIM_H

#include <stddef.h>
#include <stdint.h>

#define RPK_SIM_LINE	    64u
#define RPK_SIM_MAX_REGIONS 8

struct rpk_sim_cache {
	struct {
		uint8_t *priv, *shared;
		size_t size;
	} reg[RPK_SIM_MAX_REGIONS];
	int count;
};

/* Add a region: priv becomes a copy of shared. Returns 0 or -1 if full. */
int rpk_sim_cache_add(struct rpk_sim_cache *c, uint8_t *priv, uint8_t *shared, size_t size);

/* Write back the whole lines covering [addr, addr + len) of a private copy,
 * and make them visible before whatever the caller publishes next. */
void rpk_sim_cache_clean(struct rpk_sim_cache *c, const void *addr, size_t len);

/* Reload the whole lines covering [addr, addr + len) from shared memory. */
void rpk_sim_cache_invalidate(struct rpk_sim_cache *c, const void *addr, size_t len);

#endif
