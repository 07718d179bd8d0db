/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The floor under any shared-memory messaging between two processes: bare
 * ping-pongs on shared words (spinning, or sleeping on a futex) and a bare
 * single-producer single-consumer ring, with no descriptors, no headers, no
 * validation. Measured in the same run as the rpmsg figures, they turn
 * those into ratios that mean something on a noisy machine.
 */
#include <limits.h>
#include <signal.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rpk/rpmsg.h>

#include "bench/bench.h"
#include "rpk_tool.h"

#define SHARED_SIZE 65536u
#define CACHE_LINE  64u
/* Spins between two looks at whether the peer still lives. */
#define SPINS_PER_CHECK 65536u

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void *map_shared(void)
{
	void *p =
	    mmap(NULL, SHARED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* A dead peer (or a stop) ends a wait that would otherwise spin forever. */
static int peer_gone(pid_t peer)
{
	return rpk_stop || (peer > 0 && waitpid(peer, NULL, WNOHANG) == peer);
}

/* The peer is done, or made to be (we failed or were stopped). */
static void reap(pid_t peer, int failed)
{
	if (failed)
		kill(peer, SIGKILL);
	waitpid(peer, NULL, 0);
}

/* Wait until *word == want; -1 if the peer died meanwhile. */
static int wait_for(uint32_t *word, uint32_t want, int sleep, pid_t peer)
{
	uint32_t spins = 0;

	for (;;) {
		uint32_t seen = __atomic_load_n(word, __ATOMIC_ACQUIRE);

		if (seen == want)
			return 0;
		if (sleep) {
			/* Wakes every 100 ms to look at the peer. */
			struct timespec slice = {0, 100000000};

			if (syscall(SYS_futex, word, FUTEX_WAIT, seen, &slice, NULL, 0) < 0 &&
			    peer_gone(peer))
				return -1;
		} else {
			cpu_relax();
			if (++spins % SPINS_PER_CHECK == 0 && peer_gone(peer))
				return -1;
		}
	}
}

static void publish(uint32_t *word, uint32_t value, int wake)
{
	__atomic_store_n(word, value, __ATOMIC_RELEASE);
	if (wake)
		syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

struct pingpong {
	enum pingpong_kind kind;
	uint32_t rounds;
	uint32_t *ping, *pong; /* the same word with one flag */
};

/* Round i: the master writes ping's value for i, the peer answers on pong. */
static uint32_t ping_value(const struct pingpong *pp, uint32_t i)
{
	return pp->kind == PINGPONG_ONE_FLAG ? 2 * i + 1 : i + 1;
}

static uint32_t pong_value(const struct pingpong *pp, uint32_t i)
{
	return pp->kind == PINGPONG_ONE_FLAG ? 2 * i + 2 : i + 1;
}

static int pingpong_peer(void *arg)
{
	struct pingpong *pp = arg;
	int sleep = pp->kind == PINGPONG_FUTEX;

	for (uint32_t i = 0; i < pp->rounds; i++) {
		if (wait_for(pp->ping, ping_value(pp, i), sleep, getppid()))
			return 1;
		publish(pp->pong, pong_value(pp, i), sleep);
	}
	return 0;
}

int pingpong_run(enum pingpong_kind kind, uint32_t warmup, uint32_t count, struct samples *rtt)
{
	uint32_t *w = map_shared();
	struct pingpong pp = {kind, warmup + count, w, w + CACHE_LINE / sizeof(*w)};
	int sleep = kind == PINGPONG_FUTEX, rc = 0;
	pid_t peer;

	if (!w || samples_reserve(rtt, count))
		goto fail;
	if (kind == PINGPONG_ONE_FLAG)
		pp.pong = pp.ping;
	peer = spawn(pingpong_peer, &pp);
	if (peer < 0)
		goto fail;
	for (uint32_t i = 0; i < pp.rounds && !rc; i++) {
		uint64_t t0 = bench_now_ns();

		publish(pp.ping, ping_value(&pp, i), sleep);
		rc = wait_for(pp.pong, pong_value(&pp, i), sleep, peer);
		if (i >= warmup)
			samples_add(rtt, bench_now_ns() - t0);
	}
	reap(peer, rc);
	munmap(w, SHARED_SIZE);
	return rc;
fail:
	if (w)
		munmap(w, SHARED_SIZE);
	return -1;
}

/* The SPSC ring: as many slots as the link's rings have entries, each a
 * length and the record, as big as an rpmsg buffer. */
#define SPSC_SLOTS 16u

struct spsc_ring {
	_Alignas(CACHE_LINE) uint32_t head;  /* records written (producer) */
	_Alignas(CACHE_LINE) uint32_t tail;  /* records read (consumer) */
	_Alignas(CACHE_LINE) uint32_t ready; /* the producer runs: timing may start */
	_Alignas(CACHE_LINE) uint32_t go;    /* the consumer's start signal */
	struct {
		uint32_t len;
		uint8_t data[RPK_RPMSG_MAX_PAYLOAD];
	} slot[SPSC_SLOTS];
};

_Static_assert(sizeof(struct spsc_ring) <= SHARED_SIZE, "ring fits its mapping");

struct spsc_job {
	struct spsc_ring *ring;
	uint32_t size, count;
};

static int spsc_producer(void *arg)
{
	struct spsc_job *job = arg;
	struct spsc_ring *r = job->ring;
	uint8_t record[RPK_RPMSG_MAX_PAYLOAD];
	uint32_t tail = 0, spins = 0;

	memset(record, 0x5a, sizeof(record));
	publish(&r->ready, 1, 0);
	if (wait_for(&r->go, 1, 0, getppid()))
		return 1;
	for (uint32_t i = 0; i < job->count; i++) {
		while (i - tail >= SPSC_SLOTS) {
			tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
			cpu_relax();
			if (++spins % SPINS_PER_CHECK == 0 && peer_gone(getppid()))
				return 1;
		}
		r->slot[i % SPSC_SLOTS].len = job->size;
		memcpy(r->slot[i % SPSC_SLOTS].data, record, job->size);
		__atomic_store_n(&r->head, i + 1, __ATOMIC_RELEASE);
	}
	return 0;
}

uint64_t spsc_stream_run(uint32_t size, uint32_t count)
{
	struct spsc_ring *r = map_shared();
	struct spsc_job job = {r, size, count};
	uint32_t head = 0, spins = 0, bad = 0;
	uint64_t t0, ns = 0;
	pid_t peer;

	if (!r)
		return 0;
	peer = spawn(spsc_producer, &job);
	if (peer < 0)
		goto out;
	if (wait_for(&r->ready, 1, 0, peer)) { /* the process's start is not the ring's time */
		reap(peer, 1);
		goto out;
	}
	t0 = bench_now_ns();
	publish(&r->go, 1, 0);
	for (uint32_t i = 0; i < count; i++) {
		while (head == i) {
			head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
			cpu_relax();
			if (++spins % SPINS_PER_CHECK == 0 && peer_gone(peer)) {
				reap(peer, 1);
				goto out;
			}
		}
		/* Read what a receive callback gets: the length and the data. */
		bad +=
		    r->slot[i % SPSC_SLOTS].len != size || r->slot[i % SPSC_SLOTS].data[0] != 0x5a;
		__atomic_store_n(&r->tail, i + 1, __ATOMIC_RELEASE);
	}
	ns = bench_now_ns() - t0;
	reap(peer, 0);
	if (bad)
		ns = 0;
out:
	munmap(r, SHARED_SIZE);
	return ns;
}
