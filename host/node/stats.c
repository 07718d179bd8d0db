/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A node's counters in shared memory, for `rpk stat`: a page it rewrites
 * under a sequence count, and a reader that copies it consistently.
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

void rpk_node_stats_name(char *buf, size_t len, const char *instance, const char *node)
{
	char object[64];

	snprintf(buf, len, "/rpk-%s-stats-%s", instance,
		 rpk_layout_object_name(object, sizeof(object), node));
}

/* Counters are a convenience: a node runs without them if the page fails. */
void node_open_stats(struct rpk_node *n)
{
	char name[160], why[1024];

	rpk_node_stats_name(name, sizeof(name), n->instance, n->ln->name);
	/* A page the access model refuses is left alone: we run without. */
	if (rpk_shm_open(&n->stats, name, sizeof(struct rpk_node_stats_page), n->group, why,
			 sizeof(why)))
		n->stats.va = NULL;
}

void node_publish_stats(struct rpk_node *n)
{
	struct rpk_node_stats_page *pg = n->stats.va, tmp = {0};

	if (!pg)
		return;
	tmp.magic = RPK_STATS_MAGIC;
	tmp.pid = (uint32_t)getpid();
	tmp.state = (uint32_t)rpk_node_state(n);
	tmp.crashes = __atomic_load_n(&n->crashes, __ATOMIC_RELAXED);
	tmp.attaches = __atomic_load_n(&n->attaches, __ATOMIC_RELAXED);
	tmp.broken = __atomic_load_n(&n->broken, __ATOMIC_RELAXED);
	tmp.chaos = __atomic_load_n(&n->chaos, __ATOMIC_RELAXED);
	tmp.reset_asks = __atomic_load_n(&n->reset_asks, __ATOMIC_RELAXED);
	tmp.link_resets = __atomic_load_n(&n->link_resets, __ATOMIC_RELAXED);
	tmp.bell_fixed = __atomic_load_n(&n->bell_fixed, __ATOMIC_RELAXED);
	tmp.peer_signed = rpk_bell_session(n->port.rx) != 0;
	tmp.late_wakeups = __atomic_load_n(&n->late_wakeups, __ATOMIC_RELAXED);
	tmp.rx_wakeups = __atomic_load_n(&n->port.wakeups, __ATOMIC_RELAXED);
	if (n->have_device)
		rpk_rpmsg_get_stats(&n->dev, &tmp.rpmsg, tmp.vq);
	__atomic_store_n(&pg->seq, n->stats_seq + 1, __ATOMIC_RELEASE); /* odd: writing */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(&pg->magic, &tmp.magic, sizeof(uint32_t));
	memcpy((char *)pg + 8, (char *)&tmp + 8, sizeof(tmp) - 8);
	n->stats_seq += 2;
	__atomic_store_n(&pg->seq, n->stats_seq, __ATOMIC_RELEASE);
}

/* A consistent copy: the same even seq before and after. */
static int copy_page(const struct rpk_node_stats_page *pg, struct rpk_node_stats_page *out)
{
	for (int tries = 0; tries < 1000; tries++) {
		uint32_t a = __atomic_load_n(&pg->seq, __ATOMIC_ACQUIRE);

		memcpy(out, (const void *)pg, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!(a & 1) && __atomic_load_n(&pg->seq, __ATOMIC_RELAXED) == a)
			return out->magic == RPK_STATS_MAGIC ? 0 : -RPK_EIO;
	}
	return -RPK_EIO;
}

int rpk_node_read_stats(const char *instance, const char *node, struct rpk_node_stats_page *out)
{
	char err[1024];

	return rpk_node_read_stats_group(instance, node, NULL, out, err, sizeof(err));
}

int rpk_node_read_stats_group(const char *instance, const char *node, const char *group,
			      struct rpk_node_stats_page *out, char *err, size_t errlen)
{
	struct rpk_shm shm = {.fd = -1};
	gid_t gid = RPK_NO_GROUP;
	char name[160];
	int rc;

	if (group && rpk_group_lookup(group, &gid, err, errlen))
		return -RPK_EINVAL;
	rpk_node_stats_name(name, sizeof(name), instance, node);
	rc = rpk_shm_open_readonly(&shm, name, sizeof(*out), gid, err, errlen);
	if (rc == -ENOENT)
		return -RPK_ENOENT;
	if (rc)
		return -RPK_EIO;
	rc = copy_page(shm.va, out);
	if (rc)
		snprintf(err, errlen, "/dev/shm%s holds no counters", name);
	rpk_shm_close(&shm);
	return rc;
}
