/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Round-trip latency: a master sends one message, the remote echoes it, the
 * master times the round trip. Both sides run single-threaded; in polling
 * mode they spin on the rings and ask the peer not to kick, in blocking mode
 * they sleep on the doorbell.
 */
#include <getopt.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rpk/errno.h>

#include "rpk_tool.h"

#define WARMUP 200u

static struct rpk_layout lay;
static char instance[64];
static uint32_t size = 1, count = 10000;
static int polling;

static int remote_main(void *arg)
{
	struct echo_opts o = {&lay, "remote", instance, polling, 10000};

	(void)arg;
	fclose(stdout); /* the remote's chatter would interleave with the figures */
	return run_echo_remote(&o);
}

struct pinger {
	struct rpk_ept ept;
	uint32_t svc;
	int bound, got, bad;
};

static void on_announce(struct rpk_rpmsg *dev, const char *name, uint32_t addr, void *priv)
{
	struct pinger *p = priv;

	(void)dev;
	(void)name;
	if (!p->bound) {
		p->svc = addr;
		p->bound = 1;
	}
}

static int on_echo(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct pinger *p = priv;

	(void)ept;
	(void)data;
	(void)src;
	p->bad += len != size;
	p->got = 1;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The floor under any shared-memory messaging between two processes: a bare
 * ping-pong on one shared word, spinning or sleeping on a futex, with no
 * rings, no headers and no copies. Measured in the same run, it turns the
 * rpmsg figures into ratios that mean something on a noisy machine.
 */
static void bell_wait(uint32_t *word, uint32_t seen)
{
	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == seen)
		if (!polling)
			syscall(SYS_futex, word, FUTEX_WAIT, seen, NULL, NULL, 0);
}

static void bell_ring(uint32_t *word)
{
	__atomic_fetch_add(word, 1, __ATOMIC_RELEASE);
	if (!polling)
		syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static int cmp_u64(const void *a, const void *b);

static uint64_t baseline_median(uint64_t *rtt)
{
	uint32_t *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint32_t *ping = w, *pong = w + 16; /* different cache lines */
	uint32_t rounds = WARMUP + count;
	pid_t pid;

	if (w == MAP_FAILED)
		return 0;
	pid = fork();
	if (pid == 0) {
		for (uint32_t i = 0; i < rounds; i++) {
			bell_wait(ping, i);
			bell_ring(pong);
		}
		_exit(0);
	}
	for (uint32_t i = 0; i < rounds; i++) {
		uint64_t t0 = now_ns();

		bell_ring(ping);
		bell_wait(pong, i);
		if (i >= WARMUP)
			rtt[i - WARMUP] = now_ns() - t0;
	}
	waitpid(pid, NULL, 0);
	munmap(w, 4096);
	qsort(rtt, count, sizeof(*rtt), cmp_u64);
	return rtt[count / 2];
}

static int ping_loop(struct rpk_node *n, struct pinger *p, uint64_t *rtt)
{
	uint8_t msg[RPK_RPMSG_MAX_PAYLOAD];

	memset(msg, 0x5a, sizeof(msg));
	for (uint32_t i = 0; i < WARMUP + count && !rpk_stop; i++) {
		uint64_t t0 = now_ns();
		int rc = rpk_send(&p->ept, msg, size, 2000);

		if (rc == -RPK_EINTR)
			return 1;
		if (rc) {
			fprintf(stderr, "ping: send: %s\n", rpk_strerror(rc));
			return 1;
		}
		p->got = 0;
		while (!p->got && !rpk_stop)
			if (rpk_node_run_once(n, 2000) < 0)
				return 1;
		if (i >= WARMUP)
			rtt[i - WARMUP] = now_ns() - t0;
	}
	return rpk_stop || p->bad;
}

static int master_main(void *arg)
{
	static struct pinger p;
	struct rpk_node_opts nopts = {
	    .instance = instance, .polling = polling, .ns_bind = on_announce, .ns_priv = &p};
	uint64_t *rtt = calloc(count, sizeof(*rtt));
	struct rpk_node *n;
	char err[1024];
	int rc = 1;

	(void)arg;
	if (!rtt || rpk_node_open(&n, &lay, "master", &nopts, err, sizeof(err))) {
		rpk_print_escaped(stderr, err);
		return 1;
	}
	stop_interrupts(n);
	if (rpk_node_start(n, 10000, err, sizeof(err))) {
		rpk_print_escaped(stderr, err);
		goto out;
	}
	if (polling)
		rpk_rpmsg_set_polling(rpk_node_dev(n), 1);
	while (!p.bound && !rpk_stop)
		if (rpk_node_run_once(n, 1000) < 0)
			goto out;
	if (rpk_ept_create(rpk_node_dev(n), &p.ept, "", RPK_ADDR_ANY, p.svc, on_echo, &p))
		goto out;
	rc = ping_loop(n, &p, rtt);
	if (!rc) {
		uint64_t median, bare;

		qsort(rtt, count, sizeof(*rtt), cmp_u64);
		median = rtt[count / 2];
		printf("%-8s %3u B  min %6.2f us  median %6.2f us  p99 %6.2f us",
		       polling ? "polling" : "blocking", size, rtt[0] / 1000.0, median / 1000.0,
		       rtt[(uint64_t)count * 99 / 100] / 1000.0);
		bare = baseline_median(rtt);
		printf("  = %.2fx the bare %s ping-pong (%.2f us)\n",
		       bare ? (double)median / (double)bare : 0.0, polling ? "spin" : "futex",
		       bare / 1000.0);
	}
out:
	stop_interrupts_forget(n);
	rpk_node_close(n);
	free(rtt);
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
