/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memory windows: the table that turns a peer's device address into a local
 * pointer (docs/architecture.md, rule 2). Addresses read from shared memory
 * are translated here and never cast.
 */
#ifndef RPK_MEM_H
#define RPK_MEM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rpk_mem_window {
	uint64_t da;   /* device address as the peer sees it */
	uint64_t size; /* bytes */
	void *va;      /* where this side has it mapped */
};

struct rpk_mem {
	const struct rpk_mem_window *win;
	unsigned count;
};

/*
 * Local pointer for [da, da + len) if the whole range lies inside one window,
 * NULL otherwise (also on arithmetic overflow and for len 0 outside).
 */
void *rpk_mem_to_va(const struct rpk_mem *mem, uint64_t da, uint64_t len);

/*
 * Device address of the local range [va, va + len): 0 on success with *da
 * set, -RPK_EFAULT if the range is not inside one window.
 */
int rpk_mem_to_da(const struct rpk_mem *mem, const void *va, uint64_t len, uint64_t *da);

#ifdef __cplusplus
}
#endif

#endif
