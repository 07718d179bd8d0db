/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Observers: a running link's objects mapped read-only, and what is in
 * them, checked before anyone prints it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpk/errno.h>
#include <rpk/node.h>
#include <rpk/observe.h>

#include "posix/rpk_posix.h"

static const struct rpk_port_ops no_ops;

struct rpk_observer {
	const struct rpk_layout *lay;
	const struct rpk_layout_node *ln;
	const struct rpk_region *rsc;
	struct rpk_shm rsc_shm, mbox_shm;
	const struct rpk_bell *remote_bell, *master_bell;
	char mbox_name[200];
	struct rpk_port port; /* no ops: coherent reads */
};

/* 0, -RPK_ENOENT (absent), or an error with err naming the region. */
static int map_ro(struct rpk_shm *shm, const char *instance, const struct rpk_region *r,
		  gid_t group, char *err, size_t errlen)
{
	char name[200], why[1024];
	int rc;

	rpk_node_shm_name(name, sizeof(name), instance, r);
	rc = rpk_shm_open_readonly(shm, name, r->size, group, why, sizeof(why));
	if (rc == -ENOENT)
		return -RPK_ENOENT;
	if (rc)
		snprintf(err, errlen, "%s: %s", r->path, why);
	return rc == -EACCES ? -RPK_EACCES : rc ? -RPK_EIO : 0;
}

int rpk_observer_open(struct rpk_observer **out, const struct rpk_layout *lay, const char *node,
		      const char *instance, const char *group, char *err, size_t errlen)
{
	struct rpk_observer *o;
	gid_t gid = RPK_NO_GROUP;
	char why[300];
	int rc;

	if (group && rpk_group_lookup(group, &gid, why, sizeof(why))) {
		snprintf(err, errlen, "--group: %s", why);
		return -RPK_EINVAL;
	}
	if (!rpk_layout_find(lay, node)) {
		snprintf(err, errlen, "the devicetree has no link node '%s'", node);
		return -RPK_EINVAL;
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return -RPK_ENOMEM;
	o->rsc_shm.fd = o->mbox_shm.fd = -1;
	o->port.ops = &no_ops;
	o->lay = lay;
	o->ln = rpk_layout_find(lay, node);
	o->rsc = &lay->regions[o->ln->region[RPK_REG_RSC]];
	rc = map_ro(&o->rsc_shm, instance, o->rsc, gid, err, errlen);
	if (!rc)
		rc =
		    map_ro(&o->mbox_shm, instance, &lay->regions[o->ln->mailbox], gid, err, errlen);
	if (rc) {
		rpk_observer_close(o);
		return rc;
	}
	rpk_node_shm_name(o->mbox_name, sizeof(o->mbox_name), instance,
			  &lay->regions[o->ln->mailbox]);
	/* The remote rings its tx channel, the master the other one. */
	uint32_t remote_chan = o->ln->role == RPK_ROLE_REMOTE ? o->ln->tx_chan : o->ln->rx_chan;
	uint32_t master_chan = o->ln->role == RPK_ROLE_REMOTE ? o->ln->rx_chan : o->ln->tx_chan;

	o->remote_bell =
	    (const struct rpk_bell *)((const char *)o->mbox_shm.va + remote_chan * RPK_BELL_STRIDE);
	o->master_bell =
	    (const struct rpk_bell *)((const char *)o->mbox_shm.va + master_chan * RPK_BELL_STRIDE);
	*out = o;
	return 0;
}

void rpk_observer_close(struct rpk_observer *o)
{
	if (!o)
		return;
	rpk_shm_close(&o->rsc_shm);
	rpk_shm_close(&o->mbox_shm);
	free(o);
}

const struct rpk_layout_node *rpk_observer_node(const struct rpk_observer *o)
{
	return o->ln;
}

const struct rpk_region *rpk_observer_table_region(const struct rpk_observer *o)
{
	return o->rsc;
}

const struct rpk_port *rpk_observer_port(const struct rpk_observer *o)
{
	return &o->port;
}

int rpk_observe_pid(uint32_t pid, const char *object_name, int *alive)
{
	*alive = rpk_pid_alive(pid);
	return rpk_pid_maps(pid, object_name);
}

static void look(struct rpk_observed_side *s, const struct rpk_bell *b, const char *mbox)
{
	s->session = rpk_bell_session(b);
	s->pid = __atomic_load_n(&b->pid, __ATOMIC_RELAXED);
	s->maps = s->session ? rpk_observe_pid(s->pid, mbox, &s->alive) : 0;
	if (!s->session)
		s->alive = 0;
}

void rpk_observer_sides(struct rpk_observer *o, struct rpk_observed_side *remote,
			struct rpk_observed_side *master)
{
	look(remote, o->remote_bell, o->mbox_name);
	look(master, o->master_bell, o->mbox_name);
}

uint8_t *rpk_observer_table(struct rpk_observer *o, int *published, struct rpk_rsc_problem *why)
{
	const void *shared = (const uint8_t *)o->rsc_shm.va + o->rsc->rsc_offset;
	uint8_t *copy;

	why->entry = -1;
	why->what = "out of memory";
	*published = rpk_rsc_is_published(shared, &o->port);
	if (!*published)
		return NULL;
	copy = malloc(o->rsc->rsc_size);
	if (!copy)
		return NULL;
	rpk_rsc_snapshot(copy, o->rsc->rsc_size, shared, o->rsc->rsc_size, &o->port);
	/* A remote of the other byte order (a misconfigured link): an observer
	 * shows its table in ours, where a node refuses it. */
	if (rpk_rsc_is_byte_swapped(copy, &o->port)) {
		uint8_t *native = malloc(o->rsc->rsc_size);

		if (native && rpk_rsc_swap_copy(native, copy, o->rsc->rsc_size) == 0) {
			free(copy);
			copy = native;
		} else {
			free(native);
		}
	}
	if (rpk_rsc_validate(copy, o->rsc->rsc_size, why) < 0) {
		free(copy);
		return NULL;
	}
	return copy;
}

int rpk_observer_table_raw(struct rpk_observer *o, void *buf, size_t cap)
{
	if (cap < o->rsc->rsc_size)
		return -RPK_EINVAL;
	memcpy(buf, (const uint8_t *)o->rsc_shm.va + o->rsc->rsc_offset, o->rsc->rsc_size);
	return 0;
}

const void *rpk_observer_trace(struct rpk_observer *o, uint32_t *len, char *why, size_t whylen)
{
	struct rpk_rsc_problem bad;
	const struct rpk_fw_rsc_trace *t = NULL;
	uint32_t type, da, tlen;
	uint64_t off;
	int published;
	uint8_t *tbl = rpk_observer_table(o, &published, &bad);

	if (!tbl) {
		if (published)
			snprintf(why, whylen, "the resource table is invalid (entry %d): %s",
				 bad.entry, bad.what);
		else
			snprintf(why, whylen, "no resource table published yet");
		return NULL;
	}
	for (uint32_t i = 0; rpk_rsc_entry(tbl, i, &type); i++)
		if (type == RPK_RSC_TRACE) {
			t = rpk_rsc_entry(tbl, i, NULL);
			break;
		}
	if (!t) {
		snprintf(why, whylen, "the remote's table has no trace entry");
		free(tbl);
		return NULL;
	}
	da = t->da; /* from our private copy: it cannot change under us */
	tlen = t->len;
	free(tbl);
	off = (uint64_t)da - o->rsc->da;
	if (da < o->rsc->da || off + tlen > o->rsc->size) {
		snprintf(why, whylen, "trace at 0x%x (0x%x bytes) is outside %s", da, tlen,
			 o->rsc->path);
		return NULL;
	}
	*len = tlen;
	return (const uint8_t *)o->rsc_shm.va + off;
}
