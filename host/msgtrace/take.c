/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Taking records out of the message-trace ring (format.h): the part of the
 * reader that trusts nothing in the page, kept apart so that the fuzzer
 * drives it (tests/fuzz/fuzz_msgtrace.c). No OS, no allocation.
 */
#include <string.h>

#include <rpk/rpmsg.h>

#include "msgtrace/format.h"
#include "msgtrace/take.h"

/* Copy record n out of its slot: 1 if it held still, 0 if it was written
 * over (or is being written) meanwhile. */
static int copy_record(const struct msgtrace_slot *slot, uint64_t n, struct msgtrace_slot *copy)
{
	uint64_t before = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);

	if (before != n + 1)
		return 0;
	memcpy(copy, (const void *)slot, sizeof(*copy));
	/* Pairs with the writer's fence after it marks the slot WRITING. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&slot->seq, __ATOMIC_RELAXED) == before;
}

static int well_formed(const struct msgtrace_slot *r)
{
	return r->captured <= MSGTRACE_CAPTURE && r->captured <= r->len && r->dir <= RPK_TAP_RX;
}

int msgtrace_take(const struct msgtrace_slot *slots, uint32_t nslots, uint64_t head, uint64_t *next,
		  struct msgtrace_slot *copy, uint64_t *skipped)
{
	if (!nslots)
		return 0;
	if (head < *next) /* the writer's count went back: a new writer */
		*next = head;
	while (*next < head) {
		uint64_t n;

		if (head - *next > nslots) { /* written over before we came */
			*skipped += head - nslots - *next;
			*next = head - nslots;
		}
		n = (*next)++;
		if (copy_record(&slots[n % nslots], n, copy) && well_formed(copy))
			return 1;
		(*skipped)++; /* overtaken while we copied, or malformed */
	}
	return 0;
}
