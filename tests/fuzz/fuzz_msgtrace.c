/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the message-trace reader's view of a ring another process
 * writes (host/msgtrace/take.c). The input is the writer's head, where the
 * reader stands, a ring size (1..16 slots) and the slots' bytes. Whatever
 * they hold, msgtrace_take() must end within the ring's size, hand out only
 * well-formed records with their numbers in order, and account for every
 * number it passes: taken + skipped = how far it moved.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rpk/rpmsg.h>

#include "fuzz_common.h"

#include "msgtrace/format.h"
#include "msgtrace/take.h"

#define MAX_SLOTS 16u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msgtrace_slot *slots, copy;
	uint64_t head, next, start, skipped = 0, taken = 0;
	uint32_t nslots;

	if (size < 17)
		return 0;
	memcpy(&head, data, 8);
	memcpy(&next, data + 8, 8);
	nslots = 1u + data[16] % MAX_SLOTS;
	data += 17;
	size -= 17;
	/* Small numbers often, so that records are found where they should be. */
	if (head & (1ull << 63))
		head &= 0xff;
	if (next & (1ull << 63))
		next &= 0xff;
	slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return 0;
	memcpy(slots, data, size < nslots * sizeof(*slots) ? size : nslots * sizeof(*slots));
	start = next < head ? next : head;
	for (uint32_t calls = 0;; calls++) {
		int r = msgtrace_take(slots, nslots, head, &next, &copy, &skipped);

		CHECK(calls <= nslots + 1);
		CHECK(next <= head);
		if (!r)
			break;
		taken++;
		CHECK(copy.seq == next); /* record next - 1 is in a slot as seq next */
		CHECK(copy.captured <= MSGTRACE_CAPTURE && copy.captured <= copy.len);
		CHECK(copy.dir <= RPK_TAP_RX);
	}
	CHECK(next == head);
	CHECK(taken + skipped == head - start);
	free(slots);
	return 0;
}
