/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk bench: rpmsg-kit's latency and throughput next to bare baselines, in
 * one run. Rounds alternate the baselines and the rpmsg cases of each mode,
 * so that whatever else the machine does hits both; each figure gathers its
 * samples over all rounds. --instructions counts the core's instructions
 * per message instead (tools/rpk/bench/instructions.c).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "rpk_tool.h"

static const uint32_t sizes[] = {1, 16, 64, 256, 496};
static const uint32_t endpoint_counts[] = {1, 10, 100, 1000, BENCH_MAX_ENDPOINTS};
static const uint32_t thread_counts[] = {2, BENCH_MAX_THREADS};
#define NSIZES	   (sizeof(sizes) / sizeof(sizes[0]))
#define NENDPOINTS (sizeof(endpoint_counts) / sizeof(endpoint_counts[0]))
#define NTHREADS   (sizeof(thread_counts) / sizeof(thread_counts[0]))
/* Endpoint scaling and concurrent endpoints send messages of this size. */
#define SMALL_MESSAGE 16u

/*
 * The modes the rpmsg cases run in: a mode is its node options (both sides
 * get them) and the bare ping-pong its round trips compare with. A mode is
 * one more row here. Adaptive compares with the two-flag ping-pong: under
 * load it should come near polling's round trip.
 */
static const struct bench_mode {
	const char *name;
	struct rpk_node_opts opts;
	enum pingpong_kind baseline;
} modes[] = {
    {"polling", {.polling = 1}, PINGPONG_TWO_FLAGS},
    {"blocking", {.polling = 0}, PINGPONG_FUTEX},
    {"adaptive", {.adaptive = 1}, PINGPONG_TWO_FLAGS},
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

/* How much each round measures. */
struct amounts {
	uint32_t rounds;
	uint32_t warmup;       /* untimed round trips before each timed chunk */
	uint32_t round_trips;  /* per figure and round */
	uint32_t ring_records; /* the bare SPSC ring's stream */
	uint32_t messages;     /* the other streams */
	uint32_t scaled;       /* round trips per endpoint count */
	uint32_t concurrent;   /* round trips per thread */
};

static const struct amounts full = {5, 100, 2000, 200000, 20000, 1000, 1000};
static const struct amounts quick = {2, 50, 300, 20000, 2000, 100, 100};

#define MAX_FIGURES (3 + 3 * NSIZES + NMODES * (3 * NSIZES + NENDPOINTS + NTHREADS))

struct plan {
	struct figure figs[MAX_FIGURES];
	int count;
	struct figure *pingpong[3]; /* by enum pingpong_kind */
	struct figure *echo[NSIZES], *ring[NSIZES], *socket_stream[NSIZES];
	struct figure *rtt[NMODES][NSIZES], *stream[NMODES][NSIZES];
	struct figure *scaled[NMODES][NENDPOINTS], *concurrent[NMODES][NTHREADS];
	/* --versus: one-way streams on a second link, against the first's */
	struct figure *versus[NMODES][NSIZES];
};

static struct figure *add(struct plan *p, struct figure f)
{
	p->figs[p->count] = f;
	return &p->figs[p->count++];
}

/* The streams of a second link (--versus), each with its ratio to the same
 * stream on the first link. */
static void plan_versus(struct plan *p, const char *name)
{
	for (size_t m = 0; m < NMODES; m++)
		for (size_t s = 0; s < NSIZES; s++)
			p->versus[m][s] = add(p, (struct figure){"stream", name, modes[m].name,
								 sizes[s], .kind = FIGURE_RATE,
								 .baseline = {p->stream[m][s]}});
}

static void make_plan(struct plan *p)
{
	static const char *const pingpong_names[] = {"one-flag ping-pong", "two-flag ping-pong",
						     "futex ping-pong"};

	for (int k = 0; k < 3; k++)
		p->pingpong[k] = add(p, (struct figure){"round trip", pingpong_names[k],
							k == PINGPONG_FUTEX ? "futex" : "spin"});
	for (size_t s = 0; s < NSIZES; s++)
		p->echo[s] =
		    add(p, (struct figure){"round trip", "SEQPACKET echo", "socket", sizes[s]});
	for (size_t m = 0; m < NMODES; m++)
		for (size_t s = 0; s < NSIZES; s++)
			p->rtt[m][s] =
			    add(p, (struct figure){
				       .group = "round trip",
				       .name = "rpmsg",
				       .mode = modes[m].name,
				       .bytes = sizes[s],
				       .baseline = {p->pingpong[modes[m].baseline], p->echo[s]}});
	for (size_t s = 0; s < NSIZES; s++)
		p->ring[s] = add(p, (struct figure){"stream", "SPSC ring", "spin", sizes[s],
						    .kind = FIGURE_RATE});
	for (size_t s = 0; s < NSIZES; s++)
		p->socket_stream[s] = add(p, (struct figure){"stream", "SEQPACKET stream", "socket",
							     sizes[s], .kind = FIGURE_RATE});
	for (size_t m = 0; m < NMODES; m++)
		for (size_t s = 0; s < NSIZES; s++)
			p->stream[m][s] =
			    add(p, (struct figure){"stream", "rpmsg", modes[m].name, sizes[s],
						   .kind = FIGURE_RATE,
						   .baseline = {p->ring[s], p->socket_stream[s]}});
	for (size_t m = 0; m < NMODES; m++)
		for (size_t e = 0; e < NENDPOINTS; e++)
			p->scaled[m][e] =
			    add(p, (struct figure){"endpoints (round trip)", "rpmsg", modes[m].name,
						   SMALL_MESSAGE, endpoint_counts[e],
						   .baseline = {p->pingpong[modes[m].baseline]}});
	for (size_t m = 0; m < NMODES; m++)
		for (size_t t = 0; t < NTHREADS; t++)
			p->concurrent[m][t] =
			    add(p, (struct figure){"concurrent endpoints", "rpmsg", modes[m].name,
						   SMALL_MESSAGE, .threads = thread_counts[t],
						   .kind = FIGURE_RATE,
						   .baseline = {p->pingpong[modes[m].baseline]}});
}

/* A round of every baseline; -1 if one failed. */
static int run_baselines(struct plan *p, const struct amounts *a)
{
	int rc = 0;

	for (int k = 0; k < 3 && !rc; k++)
		rc = pingpong_run(k, a->warmup, a->round_trips, &p->pingpong[k]->latency);
	for (size_t s = 0; s < NSIZES && !rc; s++)
		rc = seqpacket_echo_run(sizes[s], a->warmup, a->round_trips, &p->echo[s]->latency);
	for (size_t s = 0; s < NSIZES && !rc && !rpk_stop; s++) {
		uint64_t ring = spsc_stream_run(sizes[s], a->ring_records);
		uint64_t socket = seqpacket_stream_run(sizes[s], a->messages);

		figure_add_round(p->ring[s], a->ring_records, ring);
		figure_add_round(p->socket_stream[s], a->messages, socket);
		rc = !ring || !socket ? -1 : 0;
	}
	if (rc && !rpk_stop)
		fprintf(stderr, "rpk bench: a baseline failed\n");
	return rc;
}

/* The cases of a master that runs the link itself (no event thread). */
static int run_single_thread_cases(struct plan *p, size_t m, const struct amounts *a,
				   struct bench_link *l)
{
	static struct rtt_endpoint e;
	int rc = rtt_endpoint_create(l->master, &e, BENCH_ECHO_ADDR);

	for (size_t s = 0; s < NSIZES && !rc; s++)
		rc = rtt_run(l->master, &e, sizes[s], BENCH_ECHO_ADDR, 1, a->warmup, a->round_trips,
			     &p->rtt[m][s]->latency);
	for (size_t s = 0; s < NSIZES && !rc && !rpk_stop; s++) {
		uint64_t ns = rpmsg_stream_run(l, sizes[s], a->messages, &p->stream[m][s]->kicks);

		figure_add_round(p->stream[m][s], a->messages, ns);
		rc = ns ? 0 : -1;
	}
	for (size_t k = 0; k < NENDPOINTS && !rc && !rpk_stop; k++) {
		rc = bench_bind_endpoints(l, endpoint_counts[k]);
		if (!rc)
			rc = rtt_run(l->master, &e, SMALL_MESSAGE, BENCH_SCALE_BASE,
				     endpoint_counts[k], a->warmup, a->scaled,
				     &p->scaled[m][k]->latency);
	}
	return rc || rpk_stop ? -1 : 0;
}

/* End a session of the link; a remote that failed fails the round. */
static int link_down(struct bench_link *l, size_t m, int rc)
{
	if (bench_link_down(l) && !rc && !rpk_stop) {
		fprintf(stderr, "rpk bench: the %s remote failed\n", modes[m].name);
		rc = -1;
	}
	return rc;
}

/*
 * A round of a mode's cases; -1 if one failed. Each session has a fresh
 * remote: a threaded master re-attached to the remote of an earlier master
 * found its first sends refused (not connected) in blocking mode.
 */
static int run_mode(struct plan *p, size_t m, const struct amounts *a, struct bench_link *l)
{
	int rc;

	l->opts = modes[m].opts;
	rc = bench_link_up(l, 0);
	if (!rc)
		rc = run_single_thread_cases(p, m, a, l);
	rc = link_down(l, m, rc);
	/* Concurrent endpoints need the node's event thread. */
	if (!rc)
		rc = bench_link_up(l, 1);
	for (size_t t = 0; t < NTHREADS && !rc && !rpk_stop; t++) {
		uint64_t ns =
		    rpmsg_concurrent_run(l, thread_counts[t], SMALL_MESSAGE, a->concurrent);

		figure_add_round(p->concurrent[m][t], (uint64_t)thread_counts[t] * a->concurrent,
				 ns);
		rc = ns ? 0 : -1;
	}
	rc = link_down(l, m, rc);
	if (rc && !rpk_stop)
		fprintf(stderr, "rpk bench: the %s cases failed\n", modes[m].name);
	return rc;
}

/* A round of the second link's streams, each mode on a fresh session. */
static int run_versus(struct plan *p, const struct amounts *a, struct bench_link *l)
{
	int rc = 0;

	for (size_t m = 0; m < NMODES && !rc && !rpk_stop; m++) {
		l->opts = modes[m].opts;
		rc = bench_link_up(l, 0);
		for (size_t s = 0; s < NSIZES && !rc && !rpk_stop; s++) {
			uint64_t ns =
			    rpmsg_stream_run(l, sizes[s], a->messages, &p->versus[m][s]->kicks);

			figure_add_round(p->versus[m][s], a->messages, ns);
			rc = ns ? 0 : -1;
		}
		rc = link_down(l, m, rc);
	}
	if (rc && !rpk_stop)
		fprintf(stderr, "rpk bench: the streams on the --versus link failed\n");
	return rc;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: rpk bench [--quick] [--rounds N] [--csv FILE] [--plots DIR] [--dt FILE]\n"
	    "                 [--versus FILE]\n"
	    "       rpk bench --instructions [--core-instr PATH] [--csv FILE]\n\n"
	    "Measure rpmsg-kit between two processes (round trips, one-way streams,\n"
	    "endpoint scaling, concurrent endpoints; polling, blocking and adaptive) next to bare\n"
	    "baselines (shared-memory ping-pongs and ring, futex, UNIX SEQPACKET), in\n"
	    "interleaved rounds, and print min/median/p99 or rates with their ratios.\n\n"
	    "options:\n"
	    "  --quick            a small version of every case (a few seconds)\n"
	    "  --rounds N         rounds of every case (default %u, quick %u)\n"
	    "  --csv FILE         the figures as CSV too\n"
	    "  --plots DIR        PNG plots with gnuplot: rtt-cdf-SIZE.png, stream-mb.png,\n"
	    "                     stream-msgs.png\n"
	    "  --versus FILE      also the one-way streams on this second link (nodes\n"
	    "                     'master' and 'remote'), in the same rounds, each with\n"
	    "                     its ratio to the same stream on the --dt link\n"
	    "  --dt FILE          link devicetree with nodes 'master' and 'remote'\n"
	    "                     (default: %s)\n"
	    "  --instructions     instructions per message of the core over a null port\n"
	    "                     (bench/core_instr under valgrind's callgrind) instead\n"
	    "  --core-instr PATH  core_instr (default: next to rpk)\n"
	    "  -h, --help         this text\n",
	    full.rounds, quick.rounds, RPK_DEFAULT_DT);
}

struct options {
	struct amounts amounts;
	const char *csv, *plots, *dt, *versus, *core_instr;
	int instructions;
};

/* Returns -1 to go on, else the exit code. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
	    {"quick", no_argument, 0, 'q'},	   {"rounds", required_argument, 0, 'r'},
	    {"csv", required_argument, 0, 'c'},	   {"plots", required_argument, 0, 'p'},
	    {"dt", required_argument, 0, 'd'},	   {"versus", required_argument, 0, 'v'},
	    {"instructions", no_argument, 0, 'i'}, {"core-instr", required_argument, 0, 'x'},
	    {"help", no_argument, 0, 'h'},	   {0, 0, 0, 0}};
	unsigned long rounds = 0;
	int c;

	o->amounts = full;
	o->dt = getenv("RPK_DT") ? getenv("RPK_DT") : RPK_DEFAULT_DT;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			o->amounts = quick;
			break;
		case 'r':
			if (parse_number("bench", "rounds", optarg, 1, 1000, &rounds))
				return 2;
			break;
		case 'c':
			o->csv = optarg;
			break;
		case 'p':
			o->plots = optarg;
			break;
		case 'd':
			o->dt = optarg;
			break;
		case 'v':
			o->versus = optarg;
			break;
		case 'i':
			o->instructions = 1;
			break;
		case 'x':
			o->core_instr = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "rpk bench: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (rounds)
		o->amounts.rounds = (uint32_t)rounds;
	return -1;
}

static int run_instructions(const struct options *o)
{
	struct instr_figure figs[INSTR_FIGURES];
	char path[4096];
	const char *core =
	    o->core_instr ? o->core_instr : instructions_default_path(path, sizeof(path));

	if (instructions_run(core, figs))
		return 1;
	report_table(stdout, NULL, 0, figs, INSTR_FIGURES);
	return o->csv && report_csv(o->csv, NULL, 0, figs, INSTR_FIGURES) ? 1 : 0;
}

static int run_timed(const struct options *o, struct plan *p)
{
	static struct rpk_layout lay, versus_lay;
	char instance[64], versus_instance[64];
	struct bench_link link = {.lay = &lay, .instance = instance};
	struct bench_link versus = {.lay = &versus_lay, .instance = versus_instance};
	int rc = 0, missing = 0;

	if (load_layout(o->dt, &lay) || (o->versus && load_layout(o->versus, &versus_lay)))
		return 1;
	snprintf(instance, sizeof(instance), "bench-%d", (int)getpid());
	snprintf(versus_instance, sizeof(versus_instance), "bench-versus-%d", (int)getpid());
	make_plan(p);
	if (o->versus) /* rows named by the file */
		plan_versus(p, strrchr(o->versus, '/') ? strrchr(o->versus, '/') + 1 : o->versus);
	printf("rpk bench: %u rounds, each the baselines then every case in each mode (",
	       o->amounts.rounds);
	for (size_t m = 0; m < NMODES; m++)
		printf("%s%s", m ? ", " : "", modes[m].name);
	printf("), link %s%s%s\n", o->dt, o->versus ? ", streams also on " : "",
	       o->versus ? o->versus : "");
	fflush(stdout);
	for (uint32_t r = 0; r < o->amounts.rounds && !rc && !rpk_stop; r++) {
		rc = run_baselines(p, &o->amounts);
		for (size_t m = 0; m < NMODES && !rc && !rpk_stop; m++)
			rc = run_mode(p, m, &o->amounts, &link);
		if (o->versus && !rc && !rpk_stop)
			rc = run_versus(p, &o->amounts, &versus);
	}
	if (rpk_stop)
		return 130;
	report_table(stdout, p->figs, p->count, NULL, 0);
	for (int i = 0; i < p->count; i++)
		missing += !figure_present(&p->figs[i]);
	if (o->csv && report_csv(o->csv, p->figs, p->count, NULL, 0))
		rc = 1;
	if (o->plots && report_plots(o->plots, p->figs, p->count))
		rc = 1;
	if (missing)
		fprintf(stderr, "rpk bench: %d figures missing\n", missing);
	return rc || missing ? 1 : 0;
}

int cmd_bench(int argc, char **argv)
{
	static struct plan plan;
	struct options o = {0};
	int rc = parse_options(argc, argv, &o);

	if (rc >= 0)
		return rc;
	install_stop_signals();
	if (o.instructions)
		return run_instructions(&o);
	rc = run_timed(&o, &plan);
	for (int i = 0; i < plan.count; i++) {
		samples_free(&plan.figs[i].latency);
		samples_free(&plan.figs[i].rounds);
	}
	return rc;
}
