/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hosted endpoint: messages wait in a queue for a blocking receive, one
 * message per receive as with Linux's /dev/rpmsgN. The queue holds the
 * receive buffers themselves (no copy, no allocation per message); a reader
 * that falls behind therefore slows the sender down instead of losing data.
 *
 * When the link resets, a reader learns it once (-RPK_ECONNRESET). A side
 * that receives in buffers of its own (the master) keeps what it had
 * received: its held buffers survive a reset. One that receives in the
 * peer's buffers (the remote, and either side of a symmetric link) drops
 * them and counts them lost: they are the peer's again, and its next
 * session writes over them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rpk/errno.h>

#include <rpk/node.h>

#define INTERRUPT_SLICE_MS 50u

struct held_msg {
	void *data;
	uint32_t len;
	uint32_t src;
};

struct rpk_inbox {
	struct rpk_ept ept;
	struct rpk_rpmsg *dev;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct held_msg *q;
	uint32_t cap, head, count;
	int reset_seen; /* a reset not yet reported to a reader */
	uint64_t dropped;
};

static int inbox_rx(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct rpk_inbox *h = priv;

	(void)ept;
	pthread_mutex_lock(&h->mu);
	/* The queue has a slot per receive buffer, so it cannot overflow. */
	if (h->count < h->cap && rpk_hold_rx_buffer(h->dev, data) == 0) {
		struct held_msg *m = &h->q[(h->head + h->count) % h->cap];

		m->data = data;
		m->len = (uint32_t)len;
		m->src = src;
		h->count++;
		pthread_cond_signal(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
	return 0;
}

static void inbox_unbind(struct rpk_ept *ept)
{
	struct rpk_inbox *h = ept->priv;

	pthread_mutex_lock(&h->mu);
	if (!rpk_rpmsg_is_up(h->dev)) { /* a reset, not just a service gone */
		h->reset_seen = 1;
		if (h->dev->rvq->role == RPK_VQ_DEVICE) { /* the peer's buffers */
			h->dropped += h->count;
			h->count = 0;
		}
	}
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

int rpk_inbox_open(struct rpk_node *n, struct rpk_inbox **out, const char *name, uint32_t src,
		   uint32_t dst)
{
	struct rpk_rpmsg *dev = rpk_node_dev(n);
	struct rpk_inbox *h = calloc(1, sizeof(*h));
	pthread_condattr_t ca;
	int rc;

	if (!h)
		return -RPK_ENOMEM;
	h->dev = dev;
	h->cap = 2u * dev->rvq->num;
	h->q = calloc(h->cap, sizeof(*h->q));
	if (!h->q) {
		free(h);
		return -RPK_ENOMEM;
	}
	pthread_mutex_init(&h->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cv, &ca);
	pthread_condattr_destroy(&ca);
	rc = rpk_ept_create(dev, &h->ept, name, src, dst, inbox_rx, h);
	if (rc) {
		pthread_cond_destroy(&h->cv);
		pthread_mutex_destroy(&h->mu);
		free(h->q);
		free(h);
		return rc;
	}
	rpk_ept_set_unbind(&h->ept, inbox_unbind);
	*out = h;
	return 0;
}

struct rpk_ept *rpk_inbox_ept(struct rpk_inbox *h)
{
	return &h->ept;
}

static void deadline_in(struct timespec *ts, uint32_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000u;
	ts->tv_nsec += (long)(ms % 1000u) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

int rpk_inbox_recv(struct rpk_inbox *h, void *buf, size_t cap, uint32_t *src, uint32_t timeout_ms)
{
	struct held_msg m;
	struct timespec dl;
	int rc = 0;

	if (timeout_ms != RPK_WAIT_FOREVER)
		deadline_in(&dl, timeout_ms);
	pthread_mutex_lock(&h->mu);
	while (!h->count && rc == 0) {
		struct timespec slice;

		if (h->reset_seen) {
			h->reset_seen = 0;
			rc = -RPK_ECONNRESET;
			break;
		}
		if (__atomic_load_n(&h->dev->interrupted, __ATOMIC_RELAXED)) {
			rc = -RPK_EINTR;
			break;
		}
		/* A signal handler cannot signal the condition: an interrupt is
		 * seen within one slice. */
		deadline_in(&slice, INTERRUPT_SLICE_MS);
		if (timeout_ms != RPK_WAIT_FOREVER && !before(&slice, &dl))
			slice = dl;
		if (pthread_cond_timedwait(&h->cv, &h->mu, &slice) == ETIMEDOUT &&
		    timeout_ms != RPK_WAIT_FOREVER && !before(&slice, &dl))
			rc = -RPK_ETIMEDOUT;
	}
	if (h->count) {
		m = h->q[h->head];
		if (m.len > cap) {
			rc = -RPK_EMSGSIZE;
		} else {
			/* Copied under the lock: a reset cannot take the buffer
			 * back halfway through. */
			memcpy(buf, m.data, m.len);
			h->head = (h->head + 1) % h->cap;
			h->count--;
			rc = (int)m.len;
		}
	}
	pthread_mutex_unlock(&h->mu);
	if (rc < 0)
		return rc;
	if (src)
		*src = m.src;
	rpk_release_rx_buffer(h->dev, m.data);
	return rc;
}

void rpk_inbox_close(struct rpk_inbox *h)
{
	if (!h)
		return;
	/* After destroy no callback runs, so the queue is ours alone. */
	rpk_ept_destroy(&h->ept);
	for (; h->count; h->count--, h->head = (h->head + 1) % h->cap)
		rpk_release_rx_buffer(h->dev, h->q[h->head].data);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h->q);
	free(h);
}
