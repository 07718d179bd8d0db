// SPDX-License-Identifier: BSD-3-Clause
/*
 * A single-threaded pair of nodes (rpk_node_opts.single_thread): a master
 * and a remote in this one thread, no event thread, each polled in turn,
 * exchange round trips through an inbox, every echo intact and in order.
 * Such a node's core takes no locks (struct rpk_rpmsg.locking is 0, where a
 * node that may be called from several threads has them); a node cannot be
 * both single-threaded and threaded.
 *
 *   single_thread LINK.dts [ROUND_TRIPS]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rpk/errno.h>
#include <rpk/node.h>

#define ECHO_ADDR 0x400u

static int echo(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	/* No wait: nothing else would make the master give buffers back. */
	if (rpk_sendto(ept, src, data, len, RPK_NO_WAIT))
		fprintf(stderr, "single_thread: an echo could not be sent\n");
	return 0;
}

struct starter {
	struct rpk_node *n;
	int rc;
};

/* Both sides' start waits for the other: the remote's runs beside the
 * master's, and the thread is joined before any other call (the node is
 * handed on, as single_thread allows). */
static void *start_remote(void *arg)
{
	struct starter *s = arg;
	char err[512];

	s->rc = rpk_node_start(s->n, 10000, err, sizeof(err));
	if (s->rc)
		fprintf(stderr, "remote: %s", err);
	return NULL;
}

/* One round trip: send, let the remote echo, let the master take it. */
static int round_trip(struct rpk_node *m, struct rpk_node *r, struct rpk_inbox *in, uint32_t i)
{
	char msg[64], back[64];
	int len = snprintf(msg, sizeof(msg), "single-threaded %u", i), got = -RPK_ETIMEDOUT;

	if (rpk_send(rpk_inbox_ept(in), msg, (size_t)len, RPK_NO_WAIT))
		return -1;
	for (int tries = 0; tries < 1000 && got == -RPK_ETIMEDOUT; tries++) {
		rpk_node_run_once(r, 1);
		rpk_node_run_once(m, 1);
		got = rpk_inbox_recv(in, back, sizeof(back), NULL, 0);
	}
	return got == len && !memcmp(back, msg, (size_t)len) ? 0 : -1;
}

static int run(const struct rpk_layout *lay, int round_trips)
{
	struct rpk_node_opts o = {.single_thread = 1};
	struct rpk_node *m = NULL, *r = NULL, *both = NULL;
	struct starter st = {0};
	struct rpk_inbox *in = NULL;
	struct rpk_ept ept;
	char instance[64], err[512];
	pthread_t th;
	int rc = 1;

	snprintf(instance, sizeof(instance), "single-%d", (int)getpid());
	o.instance = instance;
	o.threaded = 1;
	if (rpk_node_open(&both, lay, "master", &o, err, sizeof(err)) != -RPK_EINVAL) {
		fprintf(stderr, "single_thread: a threaded single-threaded node was opened\n");
		rpk_node_close(both);
		return 1;
	}
	printf("threaded and single_thread refused: %s", err);
	o.threaded = 0;
	if (rpk_node_open(&r, lay, "remote", &o, err, sizeof(err)) ||
	    rpk_ept_create(rpk_node_dev(r), &ept, "", ECHO_ADDR, RPK_ADDR_ANY, echo, NULL) ||
	    rpk_node_open(&m, lay, "master", &o, err, sizeof(err))) {
		fprintf(stderr, "single_thread: %s\n", err);
		goto out;
	}
	st.n = r;
	pthread_create(&th, NULL, start_remote, &st);
	if (rpk_node_start(m, 10000, err, sizeof(err))) {
		fprintf(stderr, "master: %s", err);
		pthread_join(th, NULL);
		goto out;
	}
	pthread_join(th, NULL);
	if (st.rc || rpk_inbox_open(m, &in, "", RPK_ADDR_ANY, ECHO_ADDR))
		goto out;
	if (rpk_node_dev(m)->locking || rpk_node_dev(r)->locking) {
		fprintf(stderr, "single_thread: the core still takes locks\n");
		goto out;
	}
	for (int i = 0; i < round_trips; i++)
		if (round_trip(m, r, in, (uint32_t)i)) {
			fprintf(stderr, "single_thread: round trip %d failed\n", i);
			goto out;
		}
	printf("%d round trips in one thread, no locks in the core\n", round_trips);
	rc = 0;
out:
	if (in)
		rpk_inbox_close(in);
	rpk_node_close(m);
	rpk_node_close(r);
	return rc;
}

/* A node that may be called from several threads has its locks. */
static int locks_otherwise(const struct rpk_layout *lay)
{
	struct rpk_node_opts o = {.instance = "single-check"};
	struct rpk_node *n = NULL;
	char err[512];
	int locking;

	if (rpk_node_open(&n, lay, "remote", &o, err, sizeof(err))) {
		fprintf(stderr, "single_thread: %s", err);
		return 1;
	}
	locking = rpk_node_dev(n)->locking;
	rpk_node_close(n);
	if (!locking)
		fprintf(stderr, "single_thread: a node for several threads has no locks\n");
	return !locking;
}

int main(int argc, char **argv)
{
	static struct rpk_layout lay;
	char err[4096];
	int round_trips = argc == 3 ? atoi(argv[2]) : 2000;

	if (argc < 2 || argc > 3 || round_trips < 1) {
		fprintf(stderr, "usage: single_thread LINK.dts [ROUND_TRIPS]\n");
		return 2;
	}
	if (rpk_layout_load(argv[1], &lay, err, sizeof(err))) {
		fprintf(stderr, "%s", err);
		return 2;
	}
	return locks_otherwise(&lay) | run(&lay, round_trips);
}
