/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <rpk/errno.h>

#include "posix/rpk_posix.h"

/* Shared (not FUTEX_PRIVATE): the word lives in memory two processes map. */
static long futex(uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

uint32_t rpk_posix_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

void rpk_bell_ring(struct rpk_bell *bell)
{
	__atomic_fetch_add(&bell->seq, 1, __ATOMIC_SEQ_CST);
	/* seq_cst pairs with the sleeper's increment of sleepers before its
	 * last look at seq: one of the two always sees the other. */
	if (__atomic_load_n(&bell->sleepers, __ATOMIC_SEQ_CST))
		futex(&bell->seq, FUTEX_WAKE, INT_MAX, NULL);
}

uint32_t rpk_bell_new_session(struct rpk_bell *bell)
{
	uint32_t s = __atomic_load_n(&bell->session, __ATOMIC_RELAXED) + 1;

	if (!s)
		s = 1; /* 0 means "nobody yet" */
	__atomic_store_n(&bell->pid, (uint32_t)getpid(), __ATOMIC_RELAXED);
	/* Release: what we wrote before (table, status) is seen before the session. */
	__atomic_store_n(&bell->session, s, __ATOMIC_RELEASE);
	return s;
}

uint32_t rpk_bell_session(const struct rpk_bell *bell)
{
	return __atomic_load_n(&bell->session, __ATOMIC_ACQUIRE);
}

/* A zombie answers kill(pid, 0) until reaped, but it will never ring again. */
static int is_zombie(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* "pid (comm) S ...": the state follows the last ')' (comm may hold one). */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

int rpk_pid_alive(uint32_t pid)
{
	/* From shared memory: 0 or a negative pid_t would name a process group. */
	if (pid == 0 || pid > INT_MAX)
		return 0;
	if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
		return 0;
	return !is_zombie((pid_t)pid);
}

int rpk_bell_owner_alive(const struct rpk_bell *bell)
{
	return rpk_pid_alive(__atomic_load_n(&bell->pid, __ATOMIC_RELAXED));
}

static struct rpk_posix_port *of(void *ctx)
{
	return ctx;
}

static void port_notify(void *ctx, uint32_t notify_id)
{
	struct rpk_posix_port *p = of(ctx);

	(void)notify_id; /* one bell per direction: the peer polls both queues */
	rpk_bell_ring(p->tx);
	if (p->ext)
		p->ext->ring(p->ext);
}

static void port_lock(void *ctx, enum rpk_lock which)
{
	pthread_mutex_lock(&of(ctx)->lock[which]);
}

static void port_unlock(void *ctx, enum rpk_lock which)
{
	pthread_mutex_unlock(&of(ctx)->lock[which]);
}

static uint32_t port_snapshot(void *ctx)
{
	return __atomic_load_n(&of(ctx)->rx->seq, __ATOMIC_ACQUIRE);
}

/* Adaptive waits spin between these (ns); the budget starts at the low end. */
#define ADAPT_MIN_NS 1000u
#define ADAPT_MAX_NS 50000u

static int spin_wait(struct rpk_posix_port *p, uint32_t snapshot, uint32_t timeout_ms)
{
	uint32_t start = rpk_posix_now_ms();

	for (unsigned n = 0;; n++) {
		if (__atomic_load_n(&p->rx->seq, __ATOMIC_ACQUIRE) != snapshot)
			return 0;
		if ((n & 1023u) == 1023u && timeout_ms != RPK_WAIT_FOREVER &&
		    rpk_posix_now_ms() - start >= timeout_ms)
			return -RPK_ETIMEDOUT;
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	}
}

/*
 * The bell's sleepers word says whether any of our threads sleeps on it. It
 * is in shared memory, so it is a flag we store (set before each sleep,
 * cleared when the last sleeper leaves) and not a count others could skew: a
 * 0 written there by someone else costs at most the sleep it came during.
 */
static void sleeper_enter(struct rpk_posix_port *p)
{
	pthread_mutex_lock(&p->sleep_mu);
	p->nsleep++;
	pthread_mutex_unlock(&p->sleep_mu);
}

static void sleeper_leave(struct rpk_posix_port *p)
{
	pthread_mutex_lock(&p->sleep_mu);
	if (--p->nsleep == 0)
		__atomic_store_n(&p->rx->sleepers, 0, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&p->sleep_mu);
}

static int sleep_wait(struct rpk_posix_port *p, uint32_t snapshot, uint32_t timeout_ms)
{
	struct timespec ts, *tsp = NULL;
	uint32_t start = rpk_posix_now_ms();
	int err = 0;

	sleeper_enter(p);
	for (;;) {
		/* seq_cst: pairs with the ringer's increment of seq before its
		 * look at sleepers; one of the two always sees the other. */
		__atomic_store_n(&p->rx->sleepers, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&p->rx->seq, __ATOMIC_SEQ_CST) != snapshot)
			break;
		if (timeout_ms != RPK_WAIT_FOREVER) {
			uint32_t spent = rpk_posix_now_ms() - start;

			if (spent >= timeout_ms) {
				err = -RPK_ETIMEDOUT;
				break;
			}
			ts.tv_sec = (timeout_ms - spent) / 1000u;
			ts.tv_nsec = (long)((timeout_ms - spent) % 1000u) * 1000000L;
			tsp = &ts;
		}
		/* Ended by the clock: say so even if the bell moved meanwhile,
		 * it rang without waking us (a late wakeup). */
		if (futex(&p->rx->seq, FUTEX_WAIT, snapshot, tsp) < 0 && errno == ETIMEDOUT) {
			err = -RPK_ETIMEDOUT;
			break;
		}
	}
	sleeper_leave(p);
	if (!err)
		__atomic_fetch_add(&p->wakeups, 1, __ATOMIC_RELAXED);
	return err;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A spin that saw the bell ring after waited_ns: spin about twice that. */
static void spin_learn(struct rpk_posix_port *p, uint64_t waited_ns)
{
	uint64_t budget = __atomic_load_n(&p->spin_ns, __ATOMIC_RELAXED);
	uint64_t target = 2 * waited_ns;

	budget = (3 * budget + target) / 4;
	if (budget < ADAPT_MIN_NS)
		budget = ADAPT_MIN_NS;
	if (budget > ADAPT_MAX_NS)
		budget = ADAPT_MAX_NS;
	__atomic_store_n(&p->spin_ns, (uint32_t)budget, __ATOMIC_RELAXED);
}

/*
 * Adaptive: spin on the bell's sequence for a while before sleeping. A ring
 * that comes within the spin costs the peer no system call (no sleepers
 * flag is up) and us no wakeup, so a busy link gets near polling's round
 * trip; a sleep that a ring soon ended makes the next spin longer (it would
 * have caught it), a long one (an idle link) halves it, so an idle node
 * spins almost nothing and sleeps as a blocking one does.
 */
static int adaptive_wait(struct rpk_posix_port *p, uint32_t snapshot, uint32_t timeout_ms)
{
	uint64_t t0 = now_ns(), budget = __atomic_load_n(&p->spin_ns, __ATOMIC_RELAXED), t;
	int err;

	for (unsigned n = 1;; n++) {
		if (__atomic_load_n(&p->rx->seq, __ATOMIC_ACQUIRE) != snapshot) {
			spin_learn(p, now_ns() - t0);
			__atomic_fetch_add(&p->wakeups, 1, __ATOMIC_RELAXED);
			return 0;
		}
		if ((n & 31u) == 0 && now_ns() - t0 >= budget)
			break;
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	}
	err = sleep_wait(p, snapshot, timeout_ms);
	t = now_ns() - t0;
	if (!err && t < ADAPT_MAX_NS)
		spin_learn(p, t);
	else
		__atomic_store_n(&p->spin_ns, (uint32_t)(budget / 2), __ATOMIC_RELAXED);
	return err;
}

static int port_wait(void *ctx, uint32_t snapshot, uint32_t timeout_ms)
{
	struct rpk_posix_port *p = of(ctx);

	if (p->polling)
		return spin_wait(p, snapshot, timeout_ms);
	return p->adaptive ? adaptive_wait(p, snapshot, timeout_ms)
			   : sleep_wait(p, snapshot, timeout_ms);
}

static uint32_t port_now(void *ctx)
{
	(void)ctx;
	return rpk_posix_now_ms();
}

static void port_clean(void *ctx, const void *addr, size_t len)
{
	rpk_sim_cache_clean(of(ctx)->cache, addr, len);
}

static void port_invalidate(void *ctx, const void *addr, size_t len)
{
	rpk_sim_cache_invalidate(of(ctx)->cache, addr, len);
}

static const struct rpk_port_ops posix_ops = {
    .notify = port_notify,
    .lock = port_lock,
    .unlock = port_unlock,
    .event_snapshot = port_snapshot,
    .event_wait = port_wait,
    .now_ms = port_now,
};

void rpk_posix_port_init(struct rpk_posix_port *p, struct rpk_bell *tx, struct rpk_bell *rx,
			 int polling, struct rpk_sim_cache *cache)
{
	pthread_mutexattr_t attr;

	p->ops = posix_ops;
	if (cache) {
		p->ops.cache_clean = port_clean;
		p->ops.cache_invalidate = port_invalidate;
	}
	p->cache = cache;
	p->port.ops = &p->ops;
	p->port.ctx = p;
	p->tx = tx;
	p->rx = rx;
	p->ext = NULL;
	p->polling = polling;
	p->spin_ns = ADAPT_MIN_NS;
	p->wakeups = 0;
	pthread_mutexattr_init(&attr);
	/* Receive callbacks run under the locks and may send or create endpoints. */
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	for (int i = 0; i < RPK_LOCK_COUNT; i++)
		pthread_mutex_init(&p->lock[i], &attr);
	pthread_mutexattr_destroy(&attr);
	pthread_mutex_init(&p->sleep_mu, NULL);
	p->nsleep = 0;
}

void rpk_posix_port_single_thread(struct rpk_posix_port *p)
{
	p->ops.lock = NULL;
	p->ops.unlock = NULL;
}

void rpk_posix_port_fini(struct rpk_posix_port *p)
{
	pthread_mutex_destroy(&p->sleep_mu);
	for (int i = 0; i < RPK_LOCK_COUNT; i++)
		pthread_mutex_destroy(&p->lock[i]);
}
