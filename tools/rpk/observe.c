/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "observe.h"

static const struct rpk_port_ops no_ops;

static int map_ro(struct rpk_shm *shm, const char *instance, const struct rpk_region *r,
		  gid_t group, const char *cmd)
{
	char name[200], why[1024];
	int rc;

	rpk_node_shm_name(name, sizeof(name), instance, r);
	rc = rpk_shm_open_readonly(shm, name, r->size, group, why, sizeof(why));
	if (rc == -ENOENT)
		return 1;
	if (rc) {
		fprintf(stderr, "rpk %s: ", cmd);
		rpk_print_escaped(stderr, r->path);
		fprintf(stderr, ": ");
		rpk_print_escaped(stderr, why);
		fprintf(stderr, "\n");
	}
	return rc ? -1 : 0;
}

int observe_open(struct observed *o, const struct rpk_layout *lay, const char *node,
		 const char *instance, const char *group, const char *cmd)
{
	const struct rpk_region *mbox;
	gid_t gid = RPK_NO_GROUP;
	char why[300];
	int rc;

	memset(o, 0, sizeof(*o));
	o->rsc_shm.fd = o->mbox_shm.fd = -1;
	o->port.ops = &no_ops;
	o->lay = lay;
	if (group && rpk_group_lookup(group, &gid, why, sizeof(why))) {
		fprintf(stderr, "rpk %s: --group: %s\n", cmd, why);
		return -1;
	}
	o->ln = rpk_layout_find(lay, node);
	if (!o->ln) {
		fprintf(stderr, "rpk %s: the devicetree has no link node '%s'\n", cmd, node);
		return -1;
	}
	o->rsc = &lay->regions[o->ln->region[RPK_REG_RSC]];
	mbox = &lay->regions[o->ln->mailbox];
	rc = map_ro(&o->rsc_shm, instance, o->rsc, gid, cmd);
	if (!rc)
		rc = map_ro(&o->mbox_shm, instance, mbox, gid, cmd);
	if (rc) {
		observe_close(o);
		return rc;
	}
	/* The remote rings its tx channel, the master the other one. */
	uint32_t remote_chan = o->ln->role == RPK_ROLE_REMOTE ? o->ln->tx_chan : o->ln->rx_chan;
	uint32_t master_chan = o->ln->role == RPK_ROLE_REMOTE ? o->ln->rx_chan : o->ln->tx_chan;

	o->remote_bell =
	    (const struct rpk_bell *)((const char *)o->mbox_shm.va + remote_chan * RPK_BELL_STRIDE);
	o->master_bell =
	    (const struct rpk_bell *)((const char *)o->mbox_shm.va + master_chan * RPK_BELL_STRIDE);
	return 0;
}

void observe_close(struct observed *o)
{
	rpk_shm_close(&o->rsc_shm);
	rpk_shm_close(&o->mbox_shm);
}

uint8_t *observe_table(struct observed *o, int *published, struct rpk_rsc_problem *why)
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
	if (rpk_rsc_validate(copy, o->rsc->rsc_size, why) < 0) {
		free(copy);
		return NULL;
	}
	return copy;
}
