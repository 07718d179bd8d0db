/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Round-trip latency: a master sends one message, the remote echoes it, the
 * master times the round trip. Both sides run single-threaded; in polling
 * mode they spin on the rings and ask the peer not to kick, in blocking mode
 * they sleep on the doorbell.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "rpk_tool.h"

#define WARMUP 200u

static struct rpk_layout lay;
static char instance[64];
static uint32_t size = 1, count = 10000;
static int polling;

static int remote_main(void *arg)
{
	struct echo_opts o = {.lay = &lay,
			      .node = "remote",
			      .instance = instance,
			      .polling = polling,
			      .start_timeout_ms = 10000};

	(void)arg;
	fclose(stdout); /* the remote's chatter would interleave with the figures */
	return run_echo_remote(&o);
}

/* The echo service the remote announced. */
struct service {
	uint32_t addr;
	int bound;
};

static void on_announce(struct rpk_rpmsg *dev, const char *name, uint32_t addr, void *priv)
{
	struct service *svc = priv;

	(void)dev;
	(void)name;
	if (!svc->bound) {
		svc->addr = addr;
		svc->bound = 1;
	}
}

/* The figures, and the bare ping-pong of the same kind measured now
 * (tools/rpk/bench/baselines_shm.c): the ratio means something on a noisy
 * machine. */
static void report(struct samples *rtt)
{
	struct samples bare = {0};
	uint64_t median = samples_permille(rtt, 500), bare_median;

	printf("%-8s %3u B  min %6.2f us  median %6.2f us  p99 %6.2f us",
	       polling ? "polling" : "blocking", size, samples_permille(rtt, 0) / 1000.0,
	       median / 1000.0, samples_permille(rtt, 990) / 1000.0);
	pingpong_run(polling ? PINGPONG_TWO_FLAGS : PINGPONG_FUTEX, WARMUP, count, &bare);
	bare_median = samples_permille(&bare, 500);
	printf("  = %.2fx the bare %s ping-pong (%.2f us)\n",
	       bare_median ? (double)median / (double)bare_median : 0.0, polling ? "spin" : "futex",
	       bare_median / 1000.0);
	samples_free(&bare);
}

static int master_main(void *arg)
{
	static struct service svc;
	static struct rtt_endpoint e;
	struct rpk_node_opts nopts = {
	    .instance = instance, .polling = polling, .ns_bind = on_announce, .ns_priv = &svc};
	struct samples rtt = {0};
	struct rpk_node *n;
	char err[1024];
	int rc = 1;

	(void)arg;
	if (rpk_node_open(&n, &lay, "master", &nopts, err, sizeof(err))) {
		rpk_print_escaped(stderr, err);
		return 1;
	}
	stop_interrupts(n);
	if (rpk_node_start(n, 10000, err, sizeof(err))) {
		rpk_print_escaped(stderr, err);
		goto out;
	}
	while (!svc.bound && !rpk_stop)
		if (rpk_node_run_once(n, 1000) < 0)
			goto out;
	if (rtt_endpoint_create(n, &e, svc.addr))
		goto out;
	rc = rtt_run(n, &e, size, svc.addr, 1, WARMUP, count, &rtt) ? 1 : 0;
	if (!rc)
		report(&rtt);
out:
	stop_interrupts_forget(n);
	rpk_node_close(n);
	samples_free(&rtt);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rpk ping [--size N] [--count M] [--mode poll|block|both] [--dt FILE]\n\n"
		"Measure round-trip latency (min, median, p99) between a master and an\n"
		"echoing remote, each its own process.\n\n"
		"options:\n"
		"  --size N    payload bytes, 1..496 (default 1)\n"
		"  --count M   timed round trips (default 10000), after %u warm-up ones\n"
		"  --mode M    poll, block or both (default both)\n"
		"  --dt FILE   link devicetree with nodes 'master' and 'remote'\n"
		"              (default: %s)\n"
		"  -h, --help  this text\n",
		WARMUP, RPK_DEFAULT_DT);
}

static int run_pair(void)
{
	pid_t kids[2];

	snprintf(instance, sizeof(instance), "ping-%d-%d", (int)getpid(), polling);
	kids[1] = spawn(remote_main, NULL);
	kids[0] = kids[1] > 0 ? spawn(master_main, NULL) : -1;
	return supervise(kids, 2, &lay, instance);
}

int cmd_ping(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"size", required_argument, 0, 's'}, {"count", required_argument, 0, 'c'},
	    {"mode", required_argument, 0, 'm'}, {"dt", required_argument, 0, 'd'},
	    {"help", no_argument, 0, 'h'},	 {0, 0, 0, 0}};
	const char *dt = getenv("RPK_DT") ? getenv("RPK_DT") : RPK_DEFAULT_DT, *mode = "both";
	unsigned long v;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_number("ping", "size", optarg, 1, RPK_RPMSG_MAX_PAYLOAD, &v))
				return 2;
			size = (uint32_t)v;
			break;
		case 'c':
			if (parse_number("ping", "count", optarg, 1, 10000000, &v))
				return 2;
			count = (uint32_t)v;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'd':
			dt = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc ||
	    (strcmp(mode, "poll") && strcmp(mode, "block") && strcmp(mode, "both"))) {
		fprintf(stderr, "rpk ping: bad arguments\n");
		usage(stderr);
		return 2;
	}
	if (load_layout(dt, &lay))
		return 1;
	install_stop_signals();
	if (strcmp(mode, "block")) {
		polling = 1;
		rc = run_pair();
	}
	if (!rc && strcmp(mode, "poll")) {
		polling = 0;
		rc = run_pair();
	}
	return rc;
}
