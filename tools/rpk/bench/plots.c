/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The figures as PNG plots, drawn by gnuplot from data files written next
 * to them: the round-trip latency CDF at each size (rtt-cdf-SIZE.png, every
 * round-trip figure of that size and the size-less ping-pongs), and stream
 * throughput by size in MB/s and in messages/s (stream-mb.png,
 * stream-msgs.png).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"

/* Points of a CDF: enough for a smooth curve, few enough for a small file. */
#define CDF_POINTS 200u
#define MAX_SIZES  8

static FILE *open_in(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "rpk bench: %s: %s\n", path, strerror(errno));
	return f;
}

/* A line's title: its name and mode, quoted for gnuplot. */
static void title(FILE *gp, const struct figure *fig)
{
	fprintf(gp, "title \"%s (%s)\"", fig->name, fig->mode);
}

static int is_round_trip(const struct figure *f)
{
	return f->kind == FIGURE_LATENCY && !f->endpoints && !strcmp(f->group, "round trip");
}

static int is_stream(const struct figure *f)
{
	return f->kind == FIGURE_RATE && !strcmp(f->group, "stream");
}

static int write_cdf(const char *dir, int index, struct figure *fig)
{
	char name[64];
	FILE *f;

	snprintf(name, sizeof(name), "cdf-%d.dat", index);
	f = open_in(dir, name);
	if (!f)
		return -1;
	for (unsigned p = 0; p <= CDF_POINTS; p++) {
		unsigned permille = p * 1000u / CDF_POINTS;

		fprintf(f, "%.3f %.4f\n", samples_permille(&fig->latency, permille) / 1e3,
			permille / 1000.0);
	}
	return fclose(f) ? -1 : 0;
}

static void plot_cdfs(FILE *gp, const char *dir, struct figure *figs, int count)
{
	uint32_t sizes[MAX_SIZES];
	int nsizes = 0;

	for (int i = 0; i < count; i++) {
		int seen = 0;

		if (!is_round_trip(&figs[i]) || !figs[i].bytes)
			continue;
		for (int k = 0; k < nsizes; k++)
			seen |= sizes[k] == figs[i].bytes;
		if (!seen && nsizes < MAX_SIZES)
			sizes[nsizes++] = figs[i].bytes;
	}
	for (int k = 0; k < nsizes; k++) {
		const char *sep = "plot ";

		fprintf(
		    gp,
		    "set output \"%s/rtt-cdf-%u.png\"\n"
		    "set title \"round-trip latency, %u-byte messages\"\n"
		    "set xlabel \"round trip (us)\"\nset ylabel \"fraction of round trips\"\n"
		    "set logscale x\nunset logscale y\nset key bottom right\nset yrange [0:1]\n",
		    dir, sizes[k], sizes[k]);
		for (int i = 0; i < count; i++) {
			if (!is_round_trip(&figs[i]) ||
			    (figs[i].bytes && figs[i].bytes != sizes[k]) ||
			    !figure_present(&figs[i]))
				continue;
			fprintf(gp, "%s\"%s/cdf-%d.dat\" using 1:2 with lines ", sep, dir, i);
			title(gp, &figs[i]);
			sep = ", \\\n     ";
		}
		fprintf(gp, "\n");
	}
}

/* Whether figure i is the first of its line (a name and a mode) in the
 * stream plots: that one's data file holds the line. */
static int first_of_line(struct figure *figs, int i)
{
	if (!is_stream(&figs[i]))
		return 0;
	for (int j = 0; j < i; j++)
		if (is_stream(&figs[j]) && !strcmp(figs[j].name, figs[i].name) &&
		    !strcmp(figs[j].mode, figs[i].mode))
			return 0;
	return 1;
}

/* One data file per stream line: size, msgs/s, MB/s. */
static void plot_streams(FILE *gp, const char *dir, struct figure *figs, int count)
{
	static const char *const what[2][3] = {{"stream-mb", "MB/s", "3"},
					       {"stream-msgs", "messages/s", "2"}};

	for (int w = 0; w < 2; w++) {
		const char *sep = "plot ";

		fprintf(gp,
			"set output \"%s/%s.png\"\nset title \"one-way stream throughput\"\n"
			"set xlabel \"message size (bytes)\"\nset ylabel \"%s\"\n"
			"set logscale xy\nset key bottom right\nset autoscale y\n",
			dir, what[w][0], what[w][1]);
		for (int i = 0; i < count; i++) {
			if (!first_of_line(figs, i))
				continue;
			fprintf(gp, "%s\"%s/stream-%d.dat\" using 1:%s with linespoints ", sep, dir,
				i, what[w][2]);
			title(gp, &figs[i]);
			sep = ", \\\n     ";
		}
		fprintf(gp, "\n");
	}
}

static int write_streams(const char *dir, struct figure *figs, int count)
{
	for (int i = 0; i < count; i++) {
		char name[64];
		FILE *f;

		if (!first_of_line(figs, i))
			continue;
		snprintf(name, sizeof(name), "stream-%d.dat", i);
		f = open_in(dir, name);
		if (!f)
			return -1;
		for (int j = i; j < count; j++)
			if (is_stream(&figs[j]) && !strcmp(figs[j].name, figs[i].name) &&
			    !strcmp(figs[j].mode, figs[i].mode) && figure_present(&figs[j]))
				fprintf(f, "%u %.1f %.3f\n", figs[j].bytes, figure_rate(&figs[j]),
					figure_mb_per_s(&figs[j]));
		if (fclose(f))
			return -1;
	}
	return 0;
}

static int run_gnuplot(const char *script)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execlp("gnuplot", "gnuplot", script, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
		fprintf(stderr, "rpk bench: gnuplot failed\n");
		return -1;
	}
	if (WEXITSTATUS(st) == 127) {
		fprintf(stderr, "rpk bench: --plots needs gnuplot (Debian: apt-get install "
				"gnuplot-nox), not found in PATH\n");
		return -1;
	}
	if (WEXITSTATUS(st)) {
		fprintf(stderr, "rpk bench: gnuplot failed on %s\n", script);
		return -1;
	}
	return 0;
}

int report_plots(const char *dir, struct figure *figs, int count)
{
	char script[4096];
	FILE *gp;

	if (mkdir(dir, 0777) && errno != EEXIST) {
		fprintf(stderr, "rpk bench: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < count; i++)
		if (is_round_trip(&figs[i]) && figure_present(&figs[i]) &&
		    write_cdf(dir, i, &figs[i]))
			return -1;
	if (write_streams(dir, figs, count))
		return -1;
	gp = open_in(dir, "bench.gp");
	if (!gp)
		return -1;
	fprintf(gp, "set terminal png size 800,600\nset grid\n");
	plot_cdfs(gp, dir, figs, count);
	plot_streams(gp, dir, figs, count);
	if (fclose(gp))
		return -1;
	snprintf(script, sizeof(script), "%s/bench.gp", dir);
	return run_gnuplot(script);
}
