/* SPDX-License-Identifier: BSD-3-Clause */
/* Latency samples and the clock they are taken with. */
#include <stdlib.h>
#include <time.h>

#include "bench/bench.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int samples_reserve(struct samples *s, uint32_t cap)
{
	uint64_t *ns;

	if (s->cap - s->count >= cap)
		return 0;
	ns = realloc(s->ns, ((size_t)s->count + cap) * sizeof(*ns));
	if (!ns)
		return -1;
	s->ns = ns;
	s->cap = s->count + cap;
	return 0;
}

void samples_add(struct samples *s, uint64_t ns)
{
	if (s->count < s->cap) {
		s->ns[s->count++] = ns;
		s->sorted = 0;
	}
}

void samples_free(struct samples *s)
{
	free(s->ns);
	*s = (struct samples){0};
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t samples_permille(struct samples *s, unsigned permille)
{
	if (!s->count)
		return 0;
	if (!s->sorted) {
		qsort(s->ns, s->count, sizeof(*s->ns), cmp_u64);
		s->sorted = 1;
	}
	return s->ns[(uint64_t)(s->count - 1) * permille / 1000u];
}
