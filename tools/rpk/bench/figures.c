/* SPDX-License-Identifier: BSD-3-Clause */
/* What a figure says: its rate, and how it compares with its baselines. */
#include "bench/bench.h"

void figure_add_round(struct figure *f, uint64_t messages, uint64_t ns)
{
	if (!ns || !messages || samples_reserve(&f->rounds, 1))
		return;
	f->messages += messages;
	f->ns += ns;
	samples_add(&f->rounds, ns * 1000u / messages);
}

double figure_rate(struct figure *f)
{
	uint64_t median = samples_permille(f->kind == FIGURE_RATE ? &f->rounds : &f->latency, 500);

	if (!median)
		return 0.0;
	return (f->kind == FIGURE_RATE ? 1e12 : 1e9) / (double)median;
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
