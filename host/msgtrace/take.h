/* SPDX-License-Identifier: BSD-3-Clause */
/* Taking records out of the message-trace ring (take.c). */
#ifndef RPK_HOST_MSGTRACE_TAKE_H
#define RPK_HOST_MSGTRACE_TAKE_H

#include <stdint.h>

#include "msgtrace/format.h"

/*
 * The next record of the ring slots[nslots] that exists by the writer's
 * head (read once by the caller), from *next on: 1 with it in copy (checked:
 * captured within the slot and the header's length, a known direction), 0
 * when *next has reached head. Records passed over (written over, being
 * written, malformed) are added to *skipped; *next moves past what it took.
 */
int msgtrace_take(const struct msgtrace_slot *slots, uint32_t nslots, uint64_t head, uint64_t *next,
		  struct msgtrace_slot *copy, uint64_t *skipped);

#endif
