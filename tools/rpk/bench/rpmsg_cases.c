/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rpmsg cases, run by a master against the bench remote: round trips
 * (one endpoint, or spread over many of the remote's), a one-way stream to
 * the remote's sink, and concurrent endpoints in threads of their own. The
 * link's mode (polling, blocking) is its node options, the same on both
 * sides.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <rpk/errno.h>

#include "bench/bench.h"
#include "rpk_tool.h"

#define SEND_TIMEOUT_MS	   2000u
#define RECEIVE_TIMEOUT_MS 5000u
#define REPLY_TIMEOUT_NS   10000000000ull
#define START_TIMEOUT_MS   10000u
/* Untimed round trips of each thread before the concurrent ones. */
#define CONCURRENT_WARMUP 50u

static int on_control_reply(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct bench_link *l = priv;

	(void)ept;
	(void)src;
	if (len == sizeof(l->reply)) {
		memcpy(&l->reply, data, sizeof(l->reply));
		l->replied = 1;
	}
	return 0;
}

int bench_link_up(struct bench_link *l, int threaded)
{
	struct rpk_node_opts opts = l->opts;
	char err[1024];

	opts.instance = l->instance;
	opts.threaded = threaded;
	/* One thread makes every call: no locks in the core, as a
	 * single-threaded application would run it. */
	opts.single_thread = !threaded;
	if (l->remote <= 0)
		l->remote = spawn(bench_remote_main, l);
	if (l->remote < 0) {
		fprintf(stderr, "rpk bench: cannot start the remote\n");
		return -1;
	}
	if (rpk_node_open(&l->master, l->lay, "master", &opts, err, sizeof(err))) {
		rpk_print_escaped(stderr, err);
		l->master = NULL;
		return -1;
	}
	stop_interrupts(l->master);
	if (rpk_node_start(l->master, START_TIMEOUT_MS, err, sizeof(err))) {
		rpk_print_escaped(stderr, err);
		bench_link_master_down(l);
		return -1;
	}
	if (!threaded && rpk_ept_create(rpk_node_dev(l->master), &l->control, "", RPK_ADDR_ANY,
					BENCH_CONTROL_ADDR, on_control_reply, l)) {
		fprintf(stderr, "rpk bench: cannot create the control endpoint\n");
		bench_link_master_down(l);
		return -1;
	}
	return 0;
}

void bench_link_master_down(struct bench_link *l)
{
	if (!l->master)
		return;
	stop_interrupts_forget(l->master);
	rpk_node_close(l->master);
	l->master = NULL;
}

int bench_link_down(struct bench_link *l)
{
	int st = 0;

	bench_link_master_down(l);
	if (l->remote > 0) {
		kill(l->remote, SIGTERM);
		if (waitpid(l->remote, &st, 0) != l->remote)
			st = 0;
		l->remote = 0;
	}
	rpk_node_unlink_all(l->lay, l->instance);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static int on_echo(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct rtt_endpoint *e = priv;

	(void)ept;
	(void)data;
	(void)src;
	e->bad += len != e->size;
	e->got = 1;
	return 0;
}

int rtt_endpoint_create(struct rpk_node *n, struct rtt_endpoint *e, uint32_t dst)
{
	return rpk_ept_create(rpk_node_dev(n), &e->ept, "", RPK_ADDR_ANY, dst, on_echo, e);
}

int rtt_run(struct rpk_node *n, struct rtt_endpoint *e, uint32_t size, uint32_t dst_base,
	    uint32_t spread, uint32_t warmup, uint32_t count, struct samples *rtt)
{
	uint8_t msg[RPK_RPMSG_MAX_PAYLOAD];

	if (samples_reserve(rtt, count))
		return -1;
	memset(msg, 0x5a, sizeof(msg));
	e->size = size;
	e->bad = 0;
	for (uint32_t i = 0; i < warmup + count; i++) {
		uint64_t t0 = bench_now_ns();
		int rc = rpk_sendto(&e->ept, dst_base + i % spread, msg, size, SEND_TIMEOUT_MS);

		if (rc == -RPK_EINTR || rpk_stop)
			return 1;
		if (rc) {
			fprintf(stderr, "round trip: send: %s\n", rpk_strerror(rc));
			return -1;
		}
		e->got = 0;
		while (!e->got) {
			rc = rpk_node_run_once(n, SEND_TIMEOUT_MS);
			if (rc == -RPK_EINTR || rpk_stop)
				return 1;
			if (rc < 0) {
				fprintf(stderr, "round trip: %s\n", rpk_strerror(rc));
				return -1;
			}
		}
		if (i >= warmup)
			samples_add(rtt, bench_now_ns() - t0);
	}
	if (e->bad) {
		fprintf(stderr, "round trip: %d echoes of the wrong size\n", e->bad);
		return -1;
	}
	return 0;
}

static int send_control(struct bench_link *l, uint32_t op, uint32_t arg)
{
	struct bench_control req = {op, arg};
	int rc;

	l->replied = 0;
	rc = rpk_send(&l->control, &req, sizeof(req), SEND_TIMEOUT_MS);
	if (rc)
		fprintf(stderr, "rpk bench: control request: %s\n", rpk_strerror(rc));
	return rc ? -1 : 0;
}

static int await_reply(struct bench_link *l, uint32_t op)
{
	uint64_t deadline = bench_now_ns() + REPLY_TIMEOUT_NS;

	while (!l->replied && !rpk_stop) {
		int rc = rpk_node_run_once(l->master, 100);

		if (rc < 0 && rc != -RPK_EINTR) {
			fprintf(stderr, "rpk bench: waiting for the remote: %s\n",
				rpk_strerror(rc));
			return -1;
		}
		if (bench_now_ns() > deadline) {
			fprintf(stderr, "rpk bench: the remote did not answer\n");
			return -1;
		}
	}
	return l->replied && l->reply.op == op ? 0 : -1;
}

int bench_bind_endpoints(struct bench_link *l, uint32_t count)
{
	if (send_control(l, BENCH_BIND, count) || await_reply(l, BENCH_BIND))
		return -1;
	if (l->reply.arg != count) {
		fprintf(stderr, "rpk bench: the remote bound %u endpoints of %u\n", l->reply.arg,
			count);
		return -1;
	}
	return 0;
}

uint64_t rpmsg_stream_run(struct bench_link *l, uint32_t size, uint32_t count, uint64_t *kicks)
{
	uint8_t msg[RPK_RPMSG_MAX_PAYLOAD];
	struct rpk_rpmsg_stats before, after;
	uint64_t t0, ns;

	memset(msg, 0x5a, sizeof(msg));
	if (send_control(l, BENCH_SINK, count))
		return 0;
	rpk_rpmsg_get_stats(rpk_node_dev(l->master), &before, NULL);
	t0 = bench_now_ns();
	for (uint32_t i = 0; i < count; i++) {
		int rc = rpk_sendto(&l->control, BENCH_SINK_ADDR, msg, size, SEND_TIMEOUT_MS);

		if (rc) {
			if (rc != -RPK_EINTR)
				fprintf(stderr, "stream: send %u: %s\n", i, rpk_strerror(rc));
			return 0;
		}
	}
	if (await_reply(l, BENCH_SINK) || l->reply.arg != count)
		return 0;
	ns = bench_now_ns() - t0;
	rpk_rpmsg_get_stats(rpk_node_dev(l->master), &after, NULL);
	*kicks += after.tx_kicks - before.tx_kicks;
	return ns;
}

/* The threads start timing together, once each has its endpoint and warmed up. */
struct start_gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint32_t ready;
	int open;
};

struct concurrent_thread {
	struct bench_link *link;
	struct start_gate *gate;
	uint32_t size, count;
	int failed;
};

/* One endpoint's round trips to the echo, each its own thread; the node's
 * event thread delivers the echoes to its inbox. */
static int round_trips(struct rpk_inbox *h, uint32_t size, uint32_t count)
{
	uint8_t out[RPK_RPMSG_MAX_PAYLOAD], in[RPK_RPMSG_MAX_PAYLOAD];

	memset(out, 0x5a, sizeof(out));
	for (uint32_t i = 0; i < count; i++) {
		int rc = rpk_send(rpk_inbox_ept(h), out, size, SEND_TIMEOUT_MS);

		if (!rc)
			rc = rpk_inbox_recv(h, in, sizeof(in), NULL, RECEIVE_TIMEOUT_MS);
		if (rc != (int)size) {
			fprintf(stderr, "concurrent round trip %u: %s\n", i,
				rc < 0 ? rpk_strerror(rc) : "an echo of the wrong size");
			return -1;
		}
	}
	return 0;
}

static void *concurrent_main(void *arg)
{
	struct concurrent_thread *t = arg;
	struct start_gate *g = t->gate;
	struct rpk_inbox *h = NULL;

	if (rpk_inbox_open(t->link->master, &h, "", RPK_ADDR_ANY, BENCH_ECHO_ADDR))
		t->failed = 1;
	else
		t->failed = round_trips(h, t->size, CONCURRENT_WARMUP) != 0;
	pthread_mutex_lock(&g->mu);
	g->ready++;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
	if (!t->failed)
		t->failed = round_trips(h, t->size, t->count) != 0;
	if (h)
		rpk_inbox_close(h);
	return NULL;
}

uint64_t rpmsg_concurrent_run(struct bench_link *l, uint32_t threads, uint32_t size, uint32_t count)
{
	struct start_gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	struct concurrent_thread t[BENCH_MAX_THREADS];
	pthread_t tid[BENCH_MAX_THREADS];
	uint32_t started = 0;
	uint64_t t0, ns;
	int failed = threads > BENCH_MAX_THREADS;

	for (; started < threads && !failed; started++) {
		t[started] = (struct concurrent_thread){l, &gate, size, count, 0};
		failed = pthread_create(&tid[started], NULL, concurrent_main, &t[started]) != 0;
	}
	started -= failed && started; /* the one that failed did not start */
	pthread_mutex_lock(&gate.mu);
	while (gate.ready < started)
		pthread_cond_wait(&gate.cv, &gate.mu);
	gate.open = 1;
	pthread_cond_broadcast(&gate.cv);
	pthread_mutex_unlock(&gate.mu);
	t0 = bench_now_ns();
	for (uint32_t i = 0; i < started; i++) {
		pthread_join(tid[i], NULL);
		failed |= t[i].failed;
	}
	ns = bench_now_ns() - t0;
	if (failed)
		fprintf(stderr, "rpk bench: %u concurrent endpoints: a round trip failed\n",
			threads);
	return failed ? 0 : ns;
}
