/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The bench's remote: a child process serving, at fixed addresses, an echo,
 * a sink that counts what it receives, a control endpoint the master asks
 * for more (or fewer) echo endpoints and for the sink's count, and up to
 * BENCH_MAX_ENDPOINTS echo endpoints for endpoint scaling. It runs single-
 * threaded in the link's mode until SIGTERM. rpk run's remote stays as it is.
 */
#include <stdlib.h>
#include <string.h>

#include <rpk/errno.h>

#include "bench/bench.h"
#include "rpk_tool.h"

#define REPLY_TIMEOUT_MS 2000u

struct bench_remote {
	struct rpk_node *node;
	struct rpk_ept echo, sink, control;
	struct rpk_ept *scale; /* BENCH_MAX_ENDPOINTS of them */
	uint32_t bound;	       /* scaling endpoints bound: scale[0..bound) */
	uint32_t sink_expect, sink_count, sink_reply_to;
	uint64_t failed; /* replies that could not be sent */
};

static void reply(struct bench_remote *r, struct rpk_ept *from, uint32_t to, const void *data,
		  size_t len)
{
	int rc = rpk_sendto(from, to, data, len, REPLY_TIMEOUT_MS);

	if (rc && rc != -RPK_EINTR)
		r->failed++;
}

static int on_echo(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	reply(priv, ept, src, data, len);
	return 0;
}

static int on_sink(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct bench_remote *r = priv;

	(void)ept;
	(void)data;
	(void)len;
	(void)src;
	if (++r->sink_count == r->sink_expect) {
		struct bench_control done = {BENCH_SINK, r->sink_count};

		reply(r, &r->control, r->sink_reply_to, &done, sizeof(done));
	}
	return 0;
}

/* Bind or destroy scaling endpoints until want of them are bound. */
static void bind_scaling(struct bench_remote *r, uint32_t want)
{
	struct rpk_rpmsg *dev = rpk_node_dev(r->node);

	if (want > BENCH_MAX_ENDPOINTS)
		want = BENCH_MAX_ENDPOINTS;
	while (r->bound > want)
		rpk_ept_destroy(&r->scale[--r->bound]);
	while (r->bound < want &&
	       !rpk_ept_create(dev, &r->scale[r->bound], "", BENCH_SCALE_BASE + r->bound,
			       RPK_ADDR_ANY, on_echo, r))
		r->bound++;
}

static int on_control(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct bench_remote *r = priv;
	struct bench_control req, ack;

	if (len != sizeof(req))
		return 0;
	memcpy(&req, data, sizeof(req));
	if (req.op == BENCH_BIND) {
		bind_scaling(r, req.arg);
		ack = (struct bench_control){BENCH_BIND, r->bound};
		reply(r, ept, src, &ack, sizeof(ack));
	} else if (req.op == BENCH_SINK) {
		/* The reply comes from on_sink once the messages are in. */
		r->sink_expect = req.arg;
		r->sink_count = 0;
		r->sink_reply_to = src;
	}
	return 0;
}

int bench_remote_main(void *arg)
{
	const struct bench_link *l = arg;
	struct rpk_node_opts opts = l->opts;
	static struct bench_remote r;
	char err[1024];
	int rc = 0;

	opts.threaded = 0;
	opts.single_thread = 1; /* this loop makes every call */
	opts.instance = l->instance;
	r.scale = calloc(BENCH_MAX_ENDPOINTS, sizeof(*r.scale));
	if (!r.scale || rpk_node_open(&r.node, l->lay, "remote", &opts, err, sizeof(err))) {
		rpk_print_escaped(stderr, r.scale ? err : "bench remote: out of memory\n");
		return 1;
	}
	stop_interrupts(r.node);
	if (rpk_ept_create(rpk_node_dev(r.node), &r.echo, "", BENCH_ECHO_ADDR, RPK_ADDR_ANY,
			   on_echo, &r) ||
	    rpk_ept_create(rpk_node_dev(r.node), &r.sink, "", BENCH_SINK_ADDR, RPK_ADDR_ANY,
			   on_sink, &r) ||
	    rpk_ept_create(rpk_node_dev(r.node), &r.control, "", BENCH_CONTROL_ADDR, RPK_ADDR_ANY,
			   on_control, &r)) {
		fprintf(stderr, "bench remote: cannot create its endpoints\n");
		rc = 1;
	} else if (rpk_node_start(r.node, 10000, err, sizeof(err))) {
		rpk_print_escaped(stderr, err);
		rc = 1;
	}
	while (!rc && !rpk_stop) {
		int ran = rpk_node_run_once(r.node, 200);

		if (ran == -RPK_EINTR)
			break;
		if (ran < 0) {
			fprintf(stderr, "bench remote: link broken: %s\n", rpk_strerror(ran));
			rc = 1;
		}
	}
	if (r.failed) {
		fprintf(stderr, "bench remote: %llu replies could not be sent\n",
			(unsigned long long)r.failed);
		rc = 1;
	}
	stop_interrupts_forget(r.node);
	rpk_node_close(r.node);
	free(r.scale);
	return rc;
}
