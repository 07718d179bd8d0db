/* SPDX-License-Identifier: BSD-3-Clause */
/* The figures as a table for people and as CSV for tools. */
#include <errno.h>
#include <string.h>

#include "bench/bench.h"

/* What the group's third column counts. */
static const char *param_name(const struct figure *f)
{
	if (f->threads)
		return "threads";
	if (f->endpoints)
		return "endpoints";
	return "bytes";
}

static uint32_t param_value(const struct figure *f)
{
	return f->threads ? f->threads : f->endpoints ? f->endpoints : f->bytes;
}

static void print_header(FILE *f, struct figure *fig)
{
	fprintf(f, "\n%-33s %9s", fig->group, param_name(fig));
	if (fig->kind == FIGURE_LATENCY)
		fprintf(f, " %9s %9s %9s", "min us", "median us", "p99 us");
	else
		fprintf(f, " %12s %9s", fig->threads ? "trips/s" : "msgs/s",
			fig->threads ? "" : "MB/s");
	fprintf(f, "  vs baseline\n");
}

/* An rpmsg stream counts the doorbells its sender rang (0 when polling). */
static int counts_kicks(const struct figure *fig)
{
	return fig->messages && !strcmp(fig->group, "stream") && !strcmp(fig->name, "rpmsg");
}

static void print_ratios(FILE *f, struct figure *fig)
{
	for (int i = 0; i < 2; i++) {
		double r = figure_ratio(fig, i);

		if (fig->baseline[i])
			fprintf(f, "%s", i ? ", " : "  ");
		if (fig->baseline[i] && r > 0)
			/* Small ratios keep their digits: a starved case must not read 0. */
			fprintf(f, r < 0.01 ? "%.5fx %s" : "%.2fx %s", r, fig->baseline[i]->name);
		else if (fig->baseline[i])
			fprintf(f, "- %s", fig->baseline[i]->name);
	}
}

static void print_row(FILE *f, struct figure *fig)
{
	char param[16] = "-";

	if (param_value(fig))
		snprintf(param, sizeof(param), "%u", param_value(fig));
	fprintf(f, "  %-22s %-8s %9s", fig->name, fig->mode, param);
	if (!figure_present(fig))
		fprintf(f, " %9s", "(missing)");
	else if (fig->kind == FIGURE_LATENCY)
		fprintf(f, " %9.2f %9.2f %9.2f", samples_permille(&fig->latency, 0) / 1e3,
			samples_permille(&fig->latency, 500) / 1e3,
			samples_permille(&fig->latency, 990) / 1e3);
	else if (fig->threads)
		fprintf(f, " %12.0f %9s", figure_rate(fig), "");
	else
		fprintf(f, " %12.0f %9.2f", figure_rate(fig), figure_mb_per_s(fig));
	print_ratios(f, fig);
	if (counts_kicks(fig))
		fprintf(f, "; %.3f kicks/msg", (double)fig->kicks / (double)fig->messages);
	fprintf(f, "\n");
}

void report_table(FILE *f, struct figure *figs, int count, const struct instr_figure *instr,
		  int instr_count)
{
	for (int i = 0; i < count; i++) {
		if (!i || strcmp(figs[i].group, figs[i - 1].group) ||
		    figs[i].kind != figs[i - 1].kind)
			print_header(f, &figs[i]);
		print_row(f, &figs[i]);
	}
	if (instr_count)
		fprintf(f, "\n%-33s %9s %9s %9s\n", "instructions (core, null port)", "bytes",
			"burst", "per msg");
	for (int i = 0; i < instr_count; i++)
		fprintf(f, "  %-22s %-8s %9u %9u %9.0f\n", "send+receive", instr[i].direction,
			instr[i].bytes, instr[i].burst, instr[i].per_message);
}

/* A CSV field: names are ours, but quote them in case one gets a comma. */
static void csv_text(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fprintf(f, *s == '"' ? "\"\"" : "%c", *s);
	fputc('"', f);
}

static void csv_uint(FILE *f, uint32_t v)
{
	if (v)
		fprintf(f, "%u", v);
}

static void csv_row(FILE *f, struct figure *fig)
{
	int latency = fig->kind == FIGURE_LATENCY, present = figure_present(fig);

	csv_text(f, fig->group);
	fputc(',', f);
	csv_text(f, fig->name);
	fputc(',', f);
	csv_text(f, fig->mode);
	fputc(',', f);
	csv_uint(f, fig->bytes);
	fputc(',', f);
	csv_uint(f, fig->endpoints);
	fputc(',', f);
	csv_uint(f, fig->threads);
	fprintf(f, ",,%llu,", (unsigned long long)(latency ? fig->latency.count : fig->messages));
	if (latency && present)
		fprintf(f, "%.3f,%.3f,%.3f,,", samples_permille(&fig->latency, 0) / 1e3,
			samples_permille(&fig->latency, 500) / 1e3,
			samples_permille(&fig->latency, 990) / 1e3);
	else if (present && fig->threads) /* round trips: no bytes per second */
		fprintf(f, ",,,%.1f,", figure_rate(fig));
	else if (present)
		fprintf(f, ",,,%.1f,%.3f", figure_rate(fig), figure_mb_per_s(fig));
	else
		fprintf(f, ",,,,");
	for (int i = 0; i < 2; i++) {
		fputc(',', f);
		if (fig->baseline[i])
			csv_text(f, fig->baseline[i]->name);
		fputc(',', f);
		if (figure_ratio(fig, i) > 0)
			fprintf(f, figure_ratio(fig, i) < 0.001 ? "%.7f" : "%.3f",
				figure_ratio(fig, i));
	}
	fprintf(f, ",,");
	if (counts_kicks(fig))
		fprintf(f, "%.4f", (double)fig->kicks / (double)fig->messages);
	fprintf(f, "\n");
}

int report_csv(const char *path, struct figure *figs, int count, const struct instr_figure *instr,
	       int instr_count)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "rpk bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "group,name,mode,bytes,endpoints,threads,burst,count,min_us,median_us,p99_us,"
		   "per_s,mb_per_s,baseline,ratio,baseline2,ratio2,instructions_per_msg,"
		   "kicks_per_msg\n");
	for (int i = 0; i < count; i++)
		csv_row(f, &figs[i]);
	for (int i = 0; i < instr_count; i++)
		fprintf(f, "\"instructions\",\"send+receive\",\"%s\",%u,,,%u,,,,,,,,,,,%.1f,\n",
			instr[i].direction, instr[i].bytes, instr[i].burst, instr[i].per_message);
	if (fclose(f)) {
		fprintf(stderr, "rpk bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}
