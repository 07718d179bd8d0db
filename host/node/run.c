/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Running a node: the loop that polls and sleeps on the doorbell, the event
 * thread, interrupts, and a region that shrank under us.
 */
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rpk/errno.h>

#include "node/node_internal.h"

/* Wait until cond(n) holds (its session in *session), sleeping on the
 * doorbell; 0, -RPK_ETIMEDOUT or -RPK_EINTR. */
int node_wait_for(struct rpk_node *n, int (*cond)(struct rpk_node *, uint32_t *),
		  uint32_t timeout_ms, uint32_t *session)
{
	uint32_t start = rpk_posix_now_ms();
	struct rpk_port *p = &n->port.port;

	for (;;) {
		uint32_t snap = p->ops->event_snapshot(p->ctx), spent;

		if (cond(n, session))
			return 0;
		node_serve_observers(n, rpk_posix_now_ms()); /* the run loop does not run yet */
		if (__atomic_load_n(&n->interrupted, __ATOMIC_ACQUIRE))
			return -RPK_EINTR;
		spent = rpk_posix_now_ms() - start;
		if (timeout_ms != RPK_WAIT_FOREVER && spent >= timeout_ms)
			return -RPK_ETIMEDOUT;
		/* Not every change rings (a status write, a peer that dies): look
		 * again at least every watchdog period. */
		p->ops->event_wait(p->ctx, snap,
				   timeout_ms - spent < WATCH_MS ? timeout_ms - spent : WATCH_MS);
	}
}

/* Sleep on the doorbell for up to ms (less if it rings). */
void node_pause(struct rpk_node *n, uint32_t ms)
{
	struct rpk_port *p = &n->port.port;

	p->ops->event_wait(p->ctx, p->ops->event_snapshot(p->ctx), ms);
}

/* ---- running ---- */

/* Polling mode: the peer does not ring, so watch the rings themselves. */
static int spin_once(struct rpk_node *n, uint32_t timeout_ms)
{
	uint32_t start = rpk_posix_now_ms();

	for (uint32_t spins = 1;; spins++) {
		int r = rpk_rpmsg_poll(&n->dev);

		if (r)
			return r;
		/* The clock costs as much as an empty poll: looked at once per
		 * 64 of them (microseconds), enough for a deadline in ms. */
		if ((spins % 64 == 0 || !timeout_ms) && rpk_posix_now_ms() - start >= timeout_ms)
			return 0;
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	}
}

/*
 * Handle what arrived, else sleep on the doorbell for up to timeout_ms and
 * look again. Messages found after a sleep that no doorbell ended came
 * without a kick (or with a ring that did not wake us): the watchdog found
 * them, late. A peer that does that (or memory that lost its flags or our
 * sleepers flag) shows in late_wakeups instead of only as a slow link.
 */
static int poll_or_wait(struct rpk_node *n, uint32_t timeout_ms)
{
	struct rpk_port *p = &n->port.port;
	uint32_t snap;
	int r, w;

	if (n->opts.polling)
		return spin_once(n, timeout_ms);
	snap = p->ops->event_snapshot(p->ctx);
	r = rpk_rpmsg_poll(&n->dev);
	if (r != 0 || !timeout_ms)
		return r;
	w = p->ops->event_wait(p->ctx, snap, timeout_ms);
	r = rpk_rpmsg_poll(&n->dev);
	if (w == -RPK_ETIMEDOUT && r > 0)
		__atomic_add_fetch(&n->late_wakeups, (uint64_t)r, __ATOMIC_RELAXED);
	return r;
}

/* The first region whose object shrank under us, said in msg; 0 if none. */
static int find_shrunk(struct rpk_node *n, char *msg, size_t len)
{
	const struct rpk_shm *shm[RPK_REG_COUNT + 3];
	const struct rpk_region *r[RPK_REG_COUNT + 3];
	int count = 0;
	char name[160];
	size_t size;

	for (int k = 0; k < RPK_REG_COUNT; k++) {
		shm[count] = &n->shm[k];
		r[count++] = node_region(n, k);
	}
	shm[count] = &n->mbox;
	r[count++] = &n->lay->regions[n->ln->mailbox];
	if (n->fw_shm.va) {
		shm[count] = &n->fw_shm;
		r[count++] = &n->lay->regions[n->ln->firmware];
	}
	if (n->peer_pool.va) {
		shm[count] = &n->peer_pool;
		r[count++] = &n->lay->regions[n->ln->peer_buffer];
	}
	for (int i = 0; i < count; i++) {
		if (!rpk_shm_shrunk(shm[i], &size))
			continue;
		rpk_node_shm_name(name, sizeof(name), n->instance, r[i]);
		snprintf(msg, len,
			 "region %s (/dev/shm%s) shrank to %zu bytes under us, the layout gives it "
			 "%llu: the link is gone",
			 r[i]->path, name, size, (unsigned long long)r[i]->size);
		return 1;
	}
	return 0;
}

/* The first failure found is the one said, by any thread. */
static void publish_failure(struct rpk_node *n, const char *msg)
{
	pthread_mutex_lock(&n->fail_mu);
	if (!__atomic_load_n(&n->failed, __ATOMIC_ACQUIRE)) {
		snprintf(n->failure, sizeof(n->failure), "%s", msg);
		__atomic_store_n(&n->failed, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&n->fail_mu);
}

/*
 * A region whose object shrank under us (someone truncated it): the SIGBUS
 * guard absorbed the faults, but the link is gone. Take it down so blocked
 * callers return, and keep saying why. Looked at once a watchdog period, or
 * now (force).
 */
static int regions_shrank(struct rpk_node *n, int force)
{
	uint32_t now = rpk_posix_now_ms();
	char msg[sizeof(n->failure)];

	if (!__atomic_load_n(&n->failed, __ATOMIC_ACQUIRE)) {
		if (!force) { /* the run loop's own clock: other threads force */
			if (now - n->last_size_ms < WATCH_MS)
				return 0;
			n->last_size_ms = now;
		}
		if (!find_shrunk(n, msg, sizeof(msg)))
			return 0;
		publish_failure(n, msg);
	}
	if (!__atomic_load_n(&n->taken_down, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&n->life);
		if (!n->taken_down) {
			if (n->have_device)
				rpk_rpmsg_reset(&n->dev); /* senders and receivers return */
			node_set_state(n, RPK_NODE_OFFLINE);
			node_wake_self(n);
			__atomic_store_n(&n->taken_down, 1, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&n->life);
	}
	return -RPK_EIO;
}

/* Never waits for life: a caller may be in a receive callback while
 * another thread holds life and waits for the receive lock. */
const char *rpk_node_error(struct rpk_node *n)
{
	char msg[sizeof(n->failure)];

	if (!__atomic_load_n(&n->failed, __ATOMIC_ACQUIRE) && find_shrunk(n, msg, sizeof(msg)))
		publish_failure(n, msg); /* the run loop takes the link down */
	return __atomic_load_n(&n->failed, __ATOMIC_ACQUIRE) ? n->failure : NULL;
}

static int run_once(struct rpk_node *n, uint32_t timeout_ms)
{
	int r;

	r = regions_shrank(n, 0);
	if (r)
		return r;
	node_watch(n, 0);
	/* Wake up now and then to look at the peer: a dead one rings no bell. */
	r = poll_or_wait(n, timeout_ms < WATCH_MS ? timeout_ms : WATCH_MS);
	if (r == -RPK_EPIPE) {
		/* Rings that make no sense: a peer that just went away, or a bad
		 * one. A link already taken down (its reset may still be under
		 * way: the state changes first) had the error in the session
		 * that ended; the next one starts with sound rings. */
		if (node_link_live(n)) {
			node_watch(n, 1);
			pthread_mutex_lock(&n->life);
			node_link_broken(n);
			pthread_mutex_unlock(&n->life);
		}
		r = 0;
	} else if (r == 0) {
		node_watch(n, 0);
	}
	return r;
}

int rpk_node_run_once(struct rpk_node *n, uint32_t timeout_ms)
{
	if (__atomic_load_n(&n->interrupted, __ATOMIC_ACQUIRE))
		return -RPK_EINTR;
	return run_once(n, timeout_ms);
}

/* The event thread serves the link until close: an interrupt is for the
 * application's own waits, not for it. */
static void *event_thread(void *arg)
{
	struct rpk_node *n = arg;

	while (!__atomic_load_n(&n->stop, __ATOMIC_ACQUIRE))
		if (run_once(n, RPK_WAIT_FOREVER) < 0)
			break;
	return NULL;
}

/* The event thread, if the options ask for one and it is not running yet.
 * It keeps the creator's signal mask: what it starts (a booted remote's
 * process) inherits it. */
int node_start_thread(struct rpk_node *n)
{
	if (!n->opts.threaded || n->thread_running)
		return 0;
	if (pthread_create(&n->thread, NULL, event_thread, n))
		return -RPK_ENOMEM;
	n->thread_running = 1;
	return 0;
}

void rpk_node_interrupt(struct rpk_node *n)
{
	__atomic_store_n(&n->interrupted, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&n->have_device, __ATOMIC_SEQ_CST))
		rpk_rpmsg_interrupt(&n->dev);
	node_wake_self(n); /* an atomic add and a futex wake: fine in a signal handler */
}

int rpk_node_interrupted(const struct rpk_node *n)
{
	return __atomic_load_n(&n->interrupted, __ATOMIC_ACQUIRE);
}

int rpk_node_start(struct rpk_node *n, uint32_t timeout_ms, char *err, size_t errlen)
{
	int rc;

	rc = n->ln->role == RPK_ROLE_REMOTE ? node_start_remote(n, timeout_ms, err, errlen)
					    : node_start_master(n, timeout_ms, err, errlen);
	return rc ? rc : node_start_thread(n);
}
