/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk bench and rpk ping: what they share. Samples and the clock
 * (samples.c), the bare baselines every rpmsg figure is compared with
 * (baselines_shm.c, baselines_unix.c), the bench's remote (remote.c), the
 * rpmsg cases a master runs against it (rpmsg_cases.c), the figures and
 * their report (figures.c, report.c, plots.c), and instruction counts under
 * callgrind (instructions.c).
 */
#ifndef RPK_BENCH_H
#define RPK_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <rpk/layout.h>
#include <rpk/node.h>

/* ---- samples and the clock (samples.c) ---- */

uint64_t bench_now_ns(void);

/* Latencies in ns, as many as were asked for (no allocation while timing). */
struct samples {
	uint64_t *ns;
	uint32_t count, cap;
	int sorted;
};
int samples_reserve(struct samples *s, uint32_t cap); /* 0 or -1 (no memory) */
void samples_add(struct samples *s, uint64_t ns);
void samples_free(struct samples *s);
/* The sample at that many per mille of the sorted samples (0: min, 500:
 * median, 990: p99); sorts them first. 0 when there are none. */
uint64_t samples_permille(struct samples *s, unsigned permille);

/* ---- bare baselines over shared memory (baselines_shm.c) ---- */

/*
 * How the two processes of a ping-pong signal each other: one shared flag
 * both write (the minimum of cache-line transfers), one flag per direction
 * (what a ring pair does), or one word per direction with a futex wait and
 * wake (what a sleeping doorbell does).
 */
enum pingpong_kind { PINGPONG_ONE_FLAG, PINGPONG_TWO_FLAGS, PINGPONG_FUTEX };
/* warmup untimed then count timed round trips against a forked peer, into
 * rtt. 0, or -1 (no memory, no process). */
int pingpong_run(enum pingpong_kind kind, uint32_t warmup, uint32_t count, struct samples *rtt);
/* count records of size bytes (1..496) one way through a bare single-producer
 * single-consumer ring of 16 slots of 512 bytes in shared memory, both sides
 * spinning. Returns the ns from the first record written to the last one
 * read, or 0 on failure. */
uint64_t spsc_stream_run(uint32_t size, uint32_t count);

/* ---- UNIX SOCK_SEQPACKET baselines (baselines_unix.c) ---- */

/* Round trips of size bytes through an echoing peer. 0 or -1. */
int seqpacket_echo_run(uint32_t size, uint32_t warmup, uint32_t count, struct samples *rtt);
/* count messages one way; the ns until the peer says it read the last, or 0. */
uint64_t seqpacket_stream_run(uint32_t size, uint32_t count);

/* ---- the bench's link (remote.c, rpmsg_cases.c) ---- */

/* Fixed addresses of the bench remote's services: unnamed, so nothing is
 * announced and the master needs no name service to find them. */
#define BENCH_ECHO_ADDR	    0x1000u  /* echoes each message to its sender */
#define BENCH_SINK_ADDR	    0x1001u  /* counts what it receives */
#define BENCH_CONTROL_ADDR  0x1002u  /* struct bench_control requests */
#define BENCH_SCALE_BASE    0x10000u /* the echo endpoints of endpoint scaling */
#define BENCH_MAX_ENDPOINTS 10000u

enum bench_control_op {
	BENCH_BIND = 1, /* have arg scaling endpoints bound; the reply says how many are */
	BENCH_SINK = 2, /* the sink expects arg messages; the reply comes once they came */
};
struct bench_control {
	uint32_t op, arg;
};

/* A link the bench runs its cases on: its remote a child process. */
struct bench_link {
	const struct rpk_layout *lay;
	const char *instance;
	struct rpk_node_opts opts; /* of both sides: the mode */
	pid_t remote;
	struct rpk_node *master;
	/* An unthreaded master's endpoint for control requests and replies. */
	struct rpk_ept control;
	struct bench_control reply;
	int replied;
};

/* The bench remote, run in the child spawn() made: arg is the bench_link. */
int bench_remote_main(void *arg);

/* Start the remote (unless running) and open and start a master, threaded
 * or not. 0 or -1 after saying why on stderr. */
int bench_link_up(struct bench_link *l, int threaded);
/* Close the master; the remote keeps running for the next master. */
void bench_link_master_down(struct bench_link *l);
/* Close the master, stop the remote, remove the link's objects. Returns
 * the remote's exit code. */
int bench_link_down(struct bench_link *l);

/* A master endpoint that times round trips (rpk ping uses it too). */
struct rtt_endpoint {
	struct rpk_ept ept;
	uint32_t size; /* what each echo must measure */
	int got, bad;
};
int rtt_endpoint_create(struct rpk_node *n, struct rtt_endpoint *e, uint32_t dst);
/*
 * warmup untimed then count timed round trips of size bytes, message i to
 * dst_base + i % spread, the master single-threaded (rpk_node_run_once
 * until the echo came). 0, 1 (stopped), or -1 after saying why.
 */
int rtt_run(struct rpk_node *n, struct rtt_endpoint *e, uint32_t size, uint32_t dst_base,
	    uint32_t spread, uint32_t warmup, uint32_t count, struct samples *rtt);

/* On an unthreaded master: have the bench remote bind that many scaling
 * endpoints. 0 or -1 after saying why. */
int bench_bind_endpoints(struct bench_link *l, uint32_t count);
/* count messages of size bytes to the sink; ns until it has them all, or 0. */
/* Streams: the sender's doorbells, rung for its messages, added to *kicks. */
uint64_t rpmsg_stream_run(struct bench_link *l, uint32_t size, uint32_t count, uint64_t *kicks);
#define BENCH_MAX_THREADS 8u
/* threads (up to BENCH_MAX_THREADS) master threads (threaded master), each its own endpoint, count
 * round trips each of size bytes to the echo; ns for all of them, or 0. */
uint64_t rpmsg_concurrent_run(struct bench_link *l, uint32_t threads, uint32_t size,
			      uint32_t count);

/* ---- figures (figures.c) ---- */

enum figure_kind { FIGURE_LATENCY, FIGURE_RATE };

/* One row of the table and the CSV: a latency (samples) or a rate (totals
 * over the rounds), with up to two baselines it is compared with. */
struct figure {
	const char *group; /* "round trip", "stream", "endpoints", "concurrent" */
	const char *name;  /* "two-flag ping-pong", "rpmsg", ... */
	const char *mode;  /* "spin", "futex", "socket", or the rpmsg mode */
	uint32_t bytes, endpoints, threads;
	enum figure_kind kind;
	struct samples latency; /* FIGURE_LATENCY */
	/* FIGURE_RATE: totals, and each round's ns per 1000 messages, whose
	 * median is the rate (a round the machine stalled does not skew it). */
	uint64_t messages, ns;
	uint64_t kicks; /* streams: doorbells the sender rang for its messages */
	struct samples rounds;
	struct figure *baseline[2];
};

/* A round's rate: messages in ns. */
void figure_add_round(struct figure *f, uint64_t messages, uint64_t ns);
/* Messages (or round trips) per second: a rate's median over the rounds,
 * or one over a latency's median. */
double figure_rate(struct figure *f);
double figure_mb_per_s(struct figure *f);
/* How f compares with its baseline i: a latency's median over the
 * baseline's (x times slower), a rate over the baseline's rate. 0: none. */
double figure_ratio(struct figure *f, int i);
/* Whether it has its figure (samples, or a rate over some time). */
int figure_present(struct figure *f);

/* ---- instruction counts (instructions.c) ---- */

struct instr_figure {
	const char *direction; /* "m2r" or "r2m" */
	uint32_t bytes, burst;
	double per_message; /* 0: not measured */
};
#define INSTR_FIGURES 8
/* Run core_instr under callgrind for each figure. 0, or -1 after saying
 * what is missing (valgrind, core_instr) or what failed. */
int instructions_run(const char *core_instr, struct instr_figure figs[INSTR_FIGURES]);
/* core_instr next to the running rpk, or NULL. */
const char *instructions_default_path(char *buf, size_t len);

/* ---- report (report.c, plots.c) ---- */

void report_table(FILE *f, struct figure *figs, int count, const struct instr_figure *instr,
		  int instr_count);
int report_csv(const char *path, struct figure *figs, int count, const struct instr_figure *instr,
	       int instr_count);
/* Latency CDFs and throughput by size as PNGs in dir (gnuplot). 0 or -1. */
int report_plots(const char *dir, struct figure *figs, int count);

#endif
