/* SPDX-License-Identifier: BSD-3-Clause */
#include <rpk/errno.h>
#include <rpk/mem.h>

#include "common/mem_window.h"

/* True if [off, off + len) fits in [0, size) without overflow. */
static int range_fits(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

void *rpk_mem_to_va(const struct rpk_mem *mem, uint64_t da, uint64_t len)
{
	for (unsigned i = 0; i < mem->count; i++) {
		void *va = mem_window_va(&mem->win[i], da, len);

		if (va)
			return va;
	}
	return 0;
}

int rpk_mem_to_da(const struct rpk_mem *mem, const void *va, uint64_t len, uint64_t *da)
{
	uintptr_t p = (uintptr_t)va;

	for (unsigned i = 0; i < mem->count; i++) {
		const struct rpk_mem_window *w = &mem->win[i];
		uintptr_t base = (uintptr_t)w->va;

		if (p < base)
			continue;
		if (range_fits(p - base, len, w->size)) {
			*da = w->da + (p - base);
			return 0;
		}
	}
	return -RPK_EFAULT;
}
