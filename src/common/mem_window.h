/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The check of one memory window (include/rpk/mem.h), inline: rpk_mem_to_va()
 * loops over it, and the device half of the virtqueue takes it directly for
 * the common table of a single window, without the call.
 */
#ifndef RPK_SRC_COMMON_MEM_WINDOW_H
#define RPK_SRC_COMMON_MEM_WINDOW_H

#include <rpk/mem.h>

/* Local pointer for [da, da + len) if it lies inside w, else NULL; no overflow. */
static inline void *mem_window_va(const struct rpk_mem_window *w, uint64_t da, uint64_t len)
{
	uint64_t off = da - w->da;

	if (da < w->da || off > w->size || len > w->size - off)
		return 0;
	return (char *)w->va + off;
}

/* rpk_mem_to_va(), with a table of one window looked up in place. */
static inline void *mem_da_to_va(const struct rpk_mem *mem, uint64_t da, uint64_t len)
{
	return mem->count == 1 ? mem_window_va(mem->win, da, len) : rpk_mem_to_va(mem, da, len);
}

#endif
