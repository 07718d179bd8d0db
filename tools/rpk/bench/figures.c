/* SPDX-License-Identifier: BSD-3-Clause */
/* What a figure says: its rate, and how it compares with its baselines. */
#include "bench/bench.h"

double figure_rate(struct figure *f)
{
	if (f->kind == FIGURE_RATE)
		return f->ns ? (double)f->messages * 1e9 / (double)f->ns : 0.0;
	uint64_t median = samples_permille(&f->latency, 500);

	return median ? 1e9 / (double)median : 0.0;
}

double figure_mb_per_s(struct figure *f)
{
	return figure_rate(f) * f->bytes / 1e6;
}

double figure_ratio(struct figure *f, int i)
{
	struct figure *b = f->baseline[i];

	if (!b || !figure_present(f) || !figure_present(b))
		return 0.0;
	if (f->kind == FIGURE_LATENCY && b->kind == FIGURE_LATENCY)
		return (double)samples_permille(&f->latency, 500) /
		       (double)samples_permille(&b->latency, 500);
	return figure_rate(f) / figure_rate(b);
}

int figure_present(struct figure *f)
{
	return f->kind == FIGURE_LATENCY ? f->latency.count > 0 : f->messages > 0 && f->ns > 0;
}
