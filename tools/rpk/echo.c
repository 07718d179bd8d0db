/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The echo pair every rpk command builds on: a remote that echoes each
 * message of its services back to the sender (what the kernel's
 * rpmsg_client_sample expects of a remote), and a master that binds the
 * first announced service and checks that its messages come back intact.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rpk/errno.h>

#include "rpk_tool.h"

#define ECHO_SEND_TIMEOUT_MS 2000u
#define ECHO_RECV_TIMEOUT_MS 5000u

struct echo_state {
	uint64_t echoed;
	uint64_t failed;
};

static int echo_cb(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct echo_state *st = priv;

	int rc = rpk_sendto(ept, src, data, len, ECHO_SEND_TIMEOUT_MS);

	if (rc == 0)
		st->echoed++;
	else if (rc != -RPK_EINTR) /* not a failure: we are stopping */
		st->failed++;
	return 0;
}

static const char *role_name(enum rpk_role r)
{
	return r == RPK_ROLE_MASTER ? "master" : "remote";
}

static void print_counts(struct rpk_node *n)
{
	struct rpk_node_counts c;
	const char *me = role_name(rpk_node_role(n));
	const char *peer =
	    role_name(rpk_node_role(n) == RPK_ROLE_MASTER ? RPK_ROLE_REMOTE : RPK_ROLE_MASTER);

	rpk_node_counts(n, &c);
	printf("%s: %s -> %s: %llu messages, %llu kicks; received %llu messages, woken %llu "
	       "times\n",
	       me, me, peer, (unsigned long long)c.tx_msgs, (unsigned long long)c.tx_kicks,
	       (unsigned long long)c.rx_msgs, (unsigned long long)c.rx_wakeups);
}

static void close_node(struct rpk_node *n)
{
	stop_interrupts_forget(n);
	rpk_node_close(n);
}

/* Why the node stopped for good: its message names a region of the layout. */
static void node_error(const char *who, struct rpk_node *n)
{
	fprintf(stderr, "%s: ", who);
	rpk_print_escaped(stderr, rpk_node_error(n));
	fprintf(stderr, "\n");
}

int run_echo_remote(const struct echo_opts *o)
{
	const struct rpk_layout_node *ln = rpk_layout_find(o->lay, o->node);
	struct rpk_node_opts nopts = {.instance = o->instance,
				      .polling = o->polling,
				      .adaptive = o->adaptive,
				      .booted = o->booted,
				      .group = o->group,
				      .memory_file = o->memory_file,
				      .memory_base = o->memory_base,
				      .doorbell_socket = o->doorbell_socket,
				      .ivshmem_socket = o->ivshmem_socket};
	struct rpk_ept epts[RPK_LAYOUT_MAX_SERVICES];
	struct echo_state st = {0};
	struct rpk_node *n;
	char err[1024], name[RPK_ESC_SIZE(RPK_NAME_SIZE)];
	int rc = 0;

	if (!ln || ln->role != RPK_ROLE_REMOTE || !ln->num_services) {
		fprintf(stderr, "rpk: node '%s' must be a remote with rpk,services\n", o->node);
		return 2;
	}
	if (rpk_node_open(&n, o->lay, o->node, &nopts, err, sizeof(err))) {
		rpk_print_escaped(stderr, err);
		return 1;
	}
	stop_interrupts(n);
	if (o->chaos)
		rpk_node_set_chaos(n, o->chaos, o->chaos_every_ms);
	for (int i = 0; i < ln->num_services; i++)
		rpk_ept_create(rpk_node_dev(n), &epts[i], ln->services[i], RPK_ADDR_ANY,
			       RPK_ADDR_ANY, echo_cb, &st);
	rc = rpk_node_start(n, o->start_timeout_ms, err, sizeof(err));
	if (rc) {
		rpk_print_escaped(stderr, err);
		close_node(n);
		return rc == -RPK_EINTR ? 130 : 1;
	}
	const struct rpk_region *rr = &o->lay->regions[ln->region[RPK_REG_RSC]];
	if (ln->static_link)
		printf("remote: link header at 0x%llx (static link), master attached; serving",
		       (unsigned long long)rr->da);
	else
		printf("remote: resource table at 0x%llx, master attached; serving",
		       (unsigned long long)(rr->da + rr->rsc_offset));
	for (int i = 0; i < ln->num_services; i++)
		printf(" \"%s\" at 0x%x",
		       rpk_esc_name(name, sizeof(name), epts[i].name, RPK_NAME_SIZE), epts[i].addr);
	printf("\n");
	fflush(stdout);
	pid_t master = getppid();

	/* Booted, we are the master's child: its processor goes with it. */
	while (!rpk_stop && (!o->booted || getppid() == master)) {
		int r = rpk_node_run_once(n, 200);

		if (r == -RPK_EINTR)
			break;
		if (r < 0) {
			if (rpk_node_error(n))
				node_error("remote", n);
			else
				fprintf(stderr, "remote: link broken: %s\n", rpk_strerror(r));
			rc = 1;
			break;
		}
	}
	print_counts(n);
	if (st.failed) {
		fprintf(stderr, "remote: %llu echoes could not be sent\n",
			(unsigned long long)st.failed);
		rc = 1;
	}
	close_node(n);
	return rc;
}

struct bind_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char name[RPK_NAME_SIZE];
	uint32_t addr;
	int bound;
};

static void on_announce(struct rpk_rpmsg *dev, const char *name, uint32_t addr, void *priv)
{
	struct bind_wait *w = priv;

	(void)dev;
	pthread_mutex_lock(&w->mu);
	if (!w->bound) {
		snprintf(w->name, sizeof(w->name), "%s", name);
		w->addr = addr;
		w->bound = 1;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
}

/* Up to timeout_ms, in slices: a signal handler cannot signal the condition. */
static int wait_bound(struct bind_wait *w, uint32_t timeout_ms)
{
	int ok;

	pthread_mutex_lock(&w->mu);
	for (uint32_t waited = 0; !w->bound && !rpk_stop && waited < timeout_ms; waited += 50) {
		struct timespec dl;

		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_nsec += 50 * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w->cv, &w->mu, &dl);
	}
	ok = w->bound;
	pthread_mutex_unlock(&w->mu);
	return ok;
}

/* A well-mixed function of i (a 32-bit finaliser): the sizes of a run look
 * random, and the same run gives the same ones. */
static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	return x ^ (x >> 16);
}

/* Message i: its index, then a pattern, in a pseudo-random size 1..max. */
static size_t make_msg(uint8_t *buf, uint32_t i, uint32_t max)
{
	size_t len = 1 + mix32(i) % max;

	for (size_t k = 0; k < len; k++)
		buf[k] = (uint8_t)(i * 131u + k * 7u);
	memcpy(buf, &i, len < sizeof(i) ? len : sizeof(i));
	return len;
}

static uint32_t check_echoes(struct rpk_inbox *h, uint32_t count, uint32_t max)
{
	/* The largest payload a link's buffers may carry (rpk,buf-size). */
	static uint8_t out[RPK_LAYOUT_MAX_BUF_SIZE], in[RPK_LAYOUT_MAX_BUF_SIZE];
	uint32_t ok = 0;

	for (uint32_t i = 0; i < count && !rpk_stop; i++) {
		size_t len = make_msg(out, i, max);
		int rc = rpk_send(rpk_inbox_ept(h), out, len, ECHO_SEND_TIMEOUT_MS);

		if (rc == -RPK_EINTR)
			break;
		if (rc) {
			fprintf(stderr, "master: send %u failed: %s\n", i, rpk_strerror(rc));
			break;
		}
		rc = rpk_inbox_recv(h, in, sizeof(in), NULL, ECHO_RECV_TIMEOUT_MS);
		if (rc == -RPK_EINTR)
			break;
		if (rc < 0) {
			fprintf(stderr, "master: echo %u: %s\n", i, rpk_strerror(rc));
			break;
		}
		if ((size_t)rc != len || memcmp(in, out, len)) {
			fprintf(stderr, "master: echo %u corrupted (%d bytes, sent %zu)\n", i, rc,
				len);
			continue;
		}
		ok++;
	}
	return ok;
}

/* Auto-boot: load the firmware into the link and start its remote. */
static int boot(struct rpk_node *n, const struct check_opts *o, struct remote_proc *rp, char *err,
		size_t errlen)
{
	size_t size;
	uint8_t *img = read_whole_file("run", o->firmware, &size);
	int rc;

	if (!img) {
		snprintf(err, errlen, "rpk run: cannot read the firmware\n");
		return -RPK_EIO;
	}
	rc = rpk_node_boot(n, img, size, o->start_timeout_ms, err, errlen);
	free(img);
	if (!rc)
		printf("master: booted %s (remote '%s', pid %d)\n", o->firmware, rp->node,
		       (int)rp->pid);
	return rc;
}

int run_echo_master(const struct check_opts *o)
{
	struct bind_wait w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	struct rpk_node_opts nopts = {.instance = o->instance,
				      .polling = o->polling,
				      .adaptive = o->adaptive,
				      .threaded = 1,
				      .ns_bind = on_announce,
				      .ns_priv = &w,
				      .group = o->group,
				      .memory_file = o->memory_file,
				      .memory_base = o->memory_base,
				      .doorbell_socket = o->doorbell_socket,
				      .ivshmem_socket = o->ivshmem_socket};
	struct remote_proc rp = {.dt = o->dt, .instance = o->instance, .group = o->group};
	struct rpk_inbox *h = NULL;
	char fbuf[48];
	struct rpk_node *n;
	char err[1024], name[RPK_ESC_SIZE(RPK_NAME_SIZE)];
	uint32_t ok;
	int rc;

	if (o->firmware) {
		const struct rpk_layout_node *peer =
		    link_peer(o->lay, rpk_layout_find(o->lay, o->node), RPK_ROLE_REMOTE);

		rp.node = peer ? peer->name : NULL;
		if (!rp.node) {
			fprintf(stderr, "rpk run: no remote node shares %s's resource table\n",
				o->node);
			return 2;
		}
		nopts.start_remote = remote_proc_start;
		nopts.stop_remote = remote_proc_stop;
		nopts.rproc_priv = &rp;
	}

	if (rpk_node_open(&n, o->lay, o->node, &nopts, err, sizeof(err))) {
		rpk_print_escaped(stderr, err);
		return 1;
	}
	stop_interrupts(n);
	if (o->chaos)
		rpk_node_set_chaos(n, o->chaos, o->chaos_every_ms);
	rc = o->firmware ? boot(n, o, &rp, err, sizeof(err))
			 : rpk_node_start(n, o->start_timeout_ms, err, sizeof(err));
	if (rc) {
		rpk_print_escaped(stderr, err);
		close_node(n);
		return rc == -RPK_EINTR ? 130 : 1;
	}
	printf("master: attached to the remote's %s, features 0x%x%s\n",
	       rpk_layout_find(o->lay, o->node)->static_link ? "link header (static link)"
							     : "resource table",
	       rpk_node_dev(n)->features,
	       rpk_features_text(fbuf, sizeof(fbuf), rpk_node_dev(n)->features));
	if (!wait_bound(&w, o->start_timeout_ms)) {
		if (!rpk_stop)
			fprintf(stderr, "master: no service announced within %u ms\n",
				o->start_timeout_ms);
		close_node(n);
		return rpk_stop ? 130 : 1;
	}
	rc = rpk_inbox_open(n, &h, w.name, RPK_ADDR_ANY, w.addr);
	/* Announced by the remote: its name is what it wrote in shared memory. */
	rpk_esc_name(name, sizeof(name), w.name, sizeof(w.name));
	if (rc) {
		fprintf(stderr, "master: cannot bind \"%s\": %s\n", name, rpk_strerror(rc));
		close_node(n);
		return 1;
	}
	printf("master: bound \"%s\": 0x%x -> 0x%x\n", name, rpk_inbox_ept(h)->addr, w.addr);
	if (!o->count) {
		struct timespec period = {0, 20000000};

		/* The event thread runs the link; it stops for good if a region
		 * shrinks under us. Not pause(): the signal may run its handler in
		 * the event thread. */
		while (!rpk_stop && !rpk_node_error(n))
			nanosleep(&period, NULL);
		rc = 0;
	} else {
		ok = check_echoes(h, o->count, rpk_max_payload(rpk_node_dev(n)));
		printf("master: %u/%u messages came back intact\n", ok, o->count);
		rc = ok == o->count ? 0 : rpk_stop ? 130 : 1; /* 130: stopped before the count */
	}
	if (rpk_node_error(n)) {
		node_error("master", n);
		rc = 1;
	}
	rpk_inbox_close(h);
	print_counts(n);
	close_node(n);
	return rc;
}
