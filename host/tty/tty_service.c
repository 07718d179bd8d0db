/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rpk/errno.h>

#include "tty/pty_bridge.h"
#include "tty/tty_service.h"

#define MAX_TTYS 8
#define IDLE_MS	 200 /* the thread looks for work at least this often */
#define RETRY_MS 2   /* bytes waiting for a transmit buffer: look again soon */

struct tty_chan {
	struct pty_bridge b;
	struct rpk_ept ept;
	int opened; /* the pty exists (it outlives the channel) */
	int live;   /* ept is created */
	int gone;   /* the peer went away: destroy ept in the thread */
};

struct rpk_tty_service {
	rpk_tty_publish_cb publish;
	void *publish_ctx;
	struct rpk_node *node;
	struct rpk_rpmsg *dev;
	struct tty_chan ch[MAX_TTYS];
	int num;
	/* A master's announcements, from the node thread to ours. */
	pthread_mutex_t mu;
	uint32_t announced[MAX_TTYS];
	int num_announced;
	int wake; /* eventfd */
	pthread_t thread;
	int running, stop;
};

static void wake(struct rpk_tty_service *t)
{
	uint64_t one = 1;

	if (write(t->wake, &one, sizeof(one)) < 0) {
		/* a full counter: the thread is awake anyway */
	}
}

int rpk_tty_service_new(struct rpk_tty_service **out)
{
	struct rpk_tty_service *t = calloc(1, sizeof(*t));

	if (!t)
		return -RPK_ENOMEM;
	pthread_mutex_init(&t->mu, NULL);
	t->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->wake < 0) {
		pthread_mutex_destroy(&t->mu);
		free(t);
		return -RPK_ENOMEM;
	}
	*out = t;
	return 0;
}

/* Node thread, under its receive locks: only note it. */
void rpk_tty_ns_bind(struct rpk_rpmsg *dev, const char *name, uint32_t addr, void *priv)
{
	struct rpk_tty_service *t = priv;

	(void)dev;
	if (strcmp(name, RPK_TTY_SERVICE))
		return;
	pthread_mutex_lock(&t->mu);
	if (t->num_announced < MAX_TTYS)
		t->announced[t->num_announced++] = addr;
	pthread_mutex_unlock(&t->mu);
	wake(t);
}

/* Node thread: the service went away or the link reset. */
static void on_unbind(struct rpk_ept *ept)
{
	struct tty_chan *c = (struct tty_chan *)((char *)ept - offsetof(struct tty_chan, ept));

	pty_bridge_unbind(&c->b);
	__atomic_store_n(&c->gone, 1, __ATOMIC_RELEASE);
}

static void tty_name(const struct rpk_tty_service *t, const struct tty_chan *c, char *buf,
		     size_t len)
{
	snprintf(buf, len, "ttyRPMSG%d", (int)(c - t->ch));
}

static int open_pty(struct rpk_tty_service *t, struct tty_chan *c, char *err, size_t errlen)
{
	char name[32];

	if (c->opened)
		return 0;
	if (pty_bridge_open(&c->b, NULL, err, errlen))
		return -1;
	tty_name(t, c, name, sizeof(name));
	if (t->publish(t->publish_ctx, name, c->b.target)) {
		snprintf(err, errlen, "rpk up: %s: no room for it in the directory\n", name);
		pty_bridge_close(&c->b);
		return -1;
	}
	pty_bridge_set_wake(&c->b, t->wake);
	c->opened = 1;
	return 0;
}

/* Master: a tty for each announcement, in the first channel not in use. */
static void bind_announced(struct rpk_tty_service *t)
{
	uint32_t addrs[MAX_TTYS];
	char err[PATH_MAX + 128];
	int n;

	pthread_mutex_lock(&t->mu);
	n = t->num_announced;
	memcpy(addrs, t->announced, sizeof(addrs));
	t->num_announced = 0;
	pthread_mutex_unlock(&t->mu);
	for (int i = 0; i < n; i++) {
		struct tty_chan *c = NULL;

		for (int k = 0; k < MAX_TTYS && !c; k++)
			if (!t->ch[k].live)
				c = &t->ch[k];
		if (!c || open_pty(t, c, err, sizeof(err))) {
			fprintf(stderr, "rpk up: no tty for the peer's rpmsg-tty at 0x%x%s%s\n",
				addrs[i], c ? ": " : " (too many)", c ? err : "");
			continue;
		}
		/* Bound at once: like Linux, it announces nothing back. */
		if (rpk_ept_create(t->dev, &c->ept, RPK_TTY_SERVICE, RPK_ADDR_ANY, addrs[i],
				   pty_bridge_rx, &c->b))
			continue;
		rpk_ept_set_unbind(&c->ept, on_unbind);
		c->live = 1;
		__atomic_store_n(&c->gone, 0, __ATOMIC_RELEASE);
		pty_bridge_bind(&c->b, &c->ept, addrs[i]);
		if (c - t->ch >= t->num)
			t->num = (int)(c - t->ch) + 1;
	}
}

/*
 * Endpoints whose peer went: destroyed here, their ptys kept for the next
 * announcement. One the core bound again meanwhile (the peer announced the
 * service anew while it waited here, unbound and named) carries on.
 */
static void reap_gone(struct rpk_tty_service *t)
{
	for (int k = 0; k < t->num; k++) {
		struct tty_chan *c = &t->ch[k];
		uint32_t dst;

		if (!c->live || !__atomic_load_n(&c->gone, __ATOMIC_ACQUIRE))
			continue;
		__atomic_store_n(&c->gone, 0, __ATOMIC_RELAXED);
		dst = rpk_ept_get_dst(&c->ept);
		if (dst != RPK_ADDR_ANY) {
			pty_bridge_bind(&c->b, &c->ept, dst);
		} else {
			rpk_ept_destroy(&c->ept);
			c->live = 0;
		}
	}
}

static void *pump_thread(void *arg)
{
	struct rpk_tty_service *t = arg;
	struct pollfd p[MAX_TTYS + 1];
	int waiting = 0;

	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		uint64_t v;
		int n = 0;

		p[n++] = (struct pollfd){.fd = t->wake, .events = POLLIN};
		for (int k = 0; k < t->num; k++)
			if (t->ch[k].opened)
				pty_bridge_pollfd(&t->ch[k].b, &p[n++]);
		if (poll(p, (nfds_t)n, waiting ? RETRY_MS : IDLE_MS) < 0 && errno != EINTR)
			break;
		if (read(t->wake, &v, sizeof(v)) < 0) {
			/* nothing was signalled */
		}
		reap_gone(t);
		bind_announced(t);
		waiting = 0;
		for (int k = 0; k < t->num; k++)
			if (t->ch[k].opened)
				waiting |= pty_bridge_pump(&t->ch[k].b);
	}
	return NULL;
}

int rpk_tty_service_start(struct rpk_tty_service *t, struct rpk_node *n,
			  const struct rpk_layout_node *ln, rpk_tty_publish_cb publish, void *ctx,
			  char *err, size_t errlen)
{
	sigset_t all, old;
	int rc;

	t->node = n;
	t->dev = rpk_node_dev(n);
	t->publish = publish;
	t->publish_ctx = ctx;
	/* A remote serves the ttys its devicetree names, announced. */
	for (int i = 0; ln->role == RPK_ROLE_REMOTE && i < ln->num_services; i++) {
		struct tty_chan *c = &t->ch[t->num];

		if (strcmp(ln->services[i], RPK_TTY_SERVICE) || t->num == MAX_TTYS)
			continue;
		if (open_pty(t, c, err, errlen))
			return -1;
		t->num++;
		rc = rpk_ept_create(t->dev, &c->ept, RPK_TTY_SERVICE, RPK_ADDR_ANY, RPK_ADDR_ANY,
				    pty_bridge_rx, &c->b);
		if (rc) {
			snprintf(err, errlen, "rpk up: ttyRPMSG%d: %s\n", (int)(c - t->ch),
				 rpk_strerror(rc));
			return -1;
		}
		c->live = 1;
		pty_bridge_bind(&c->b, &c->ept, RPK_ADDR_ANY);
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old); /* signals are the main thread's */
	rc = pthread_create(&t->thread, NULL, pump_thread, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, errlen, "rpk up: ttys: out of resources\n");
		return -1;
	}
	t->running = 1;
	return 0;
}

int rpk_tty_service_count(struct rpk_tty_service *t)
{
	int n = 0;

	for (int k = 0; t && k < t->num; k++)
		n += t->ch[k].opened;
	return n;
}

void rpk_tty_service_close(struct rpk_tty_service *t)
{
	if (!t)
		return;
	if (t->running) {
		__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
		wake(t);
		pthread_join(t->thread, NULL);
	}
	for (int k = 0; k < MAX_TTYS; k++) {
		if (t->ch[k].live)
			rpk_ept_destroy(&t->ch[k].ept);
		if (t->ch[k].opened) {
			char name[32];

			tty_name(t, &t->ch[k], name, sizeof(name));
			t->publish(t->publish_ctx, name, NULL);
			pty_bridge_close(&t->ch[k].b);
		}
	}
	close(t->wake);
	pthread_mutex_destroy(&t->mu);
	free(t);
}
