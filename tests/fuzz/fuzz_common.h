/* SPDX-License-Identifier: BSD-3-Clause */
/* What every fuzz target needs: invariant checks, an input reader, and a
 * lock-order checker for the fake ports. */
#ifndef RPK_FUZZ_COMMON_H
#define RPK_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <rpk/port.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* For the invariant checkers: their comparisons steer nothing worth steering,
 * yet traced for coverage they took a third of an rpmsg target's time. Not
 * inlined, so the calls stay outside the traced code. */
#define UNTRACED __attribute__((noinline, no_sanitize("coverage")))

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c);  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The input, read little-endian; past its end every read gives 0. */
struct in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t in_u8(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint16_t in_u16(struct in *in)
{
	uint16_t lo = in_u8(in);

	return (uint16_t)(lo | (uint16_t)in_u8(in) << 8);
}

static inline uint32_t in_u32(struct in *in)
{
	uint32_t lo = in_u16(in);

	return lo | (uint32_t)in_u16(in) << 16;
}

static inline uint64_t in_u64(struct in *in)
{
	uint64_t lo = in_u32(in);

	return lo | (uint64_t)in_u32(in) << 32;
}

/* Lock order: RX, then EPT, then TX; a lock already held may be taken again. */
static inline unsigned lock_rank(enum rpk_lock which)
{
	return which == RPK_LOCK_RX ? 0 : which == RPK_LOCK_EPT ? 1 : 2;
}

UNTRACED static inline void lock_checked(unsigned depth[RPK_LOCK_COUNT], enum rpk_lock which)
{
	CHECK(which < RPK_LOCK_COUNT);
	if (!depth[which])
		for (int l = 0; l < RPK_LOCK_COUNT; l++)
			CHECK(!depth[l] || lock_rank((enum rpk_lock)l) < lock_rank(which));
	depth[which]++;
}

UNTRACED static inline void unlock_checked(unsigned depth[RPK_LOCK_COUNT], enum rpk_lock which)
{
	CHECK(which < RPK_LOCK_COUNT && depth[which] > 0);
	depth[which]--;
}

/* A list of buffers the target holds. */
static inline void list_add(void **list, unsigned *n, unsigned cap, void *p)
{
	CHECK(*n < cap);
	list[(*n)++] = p;
}

static inline void list_del(void **list, unsigned *n, unsigned k)
{
	list[k] = list[--*n];
}

static inline int list_find(void *const *list, unsigned n, const void *p)
{
	for (unsigned i = 0; i < n; i++)
		if (list[i] == p)
			return (int)i;
	return -1;
}

#endif
