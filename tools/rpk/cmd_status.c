/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk status: the state of a link as Linux's remoteproc would name it, seen
 * from outside: offline (nothing there), detached (the remote runs, no
 * master is attached), attached, crashed (the remote's process is gone but
 * its table is still there). A running master's own word (its counter page)
 * wins: only it knows it booted the remote (running) or gave up on it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpk/errno.h>
#include <rpk/observe.h>

#include "rpk_tool.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: rpk status FILE.dts|FILE.dtb --node NAME [--instance ID]\n"
		   "                  [--group NAME]\n\n"
		   "Print the state of a link (offline, running, detached, attached, crashed),\n"
		   "both sides' processes and sessions, and the vdev handshake.\n\n"
		   "options:\n"
		   "  --node NAME       either side of the link (required)\n"
		   "  --instance ID     shared-memory namespace (default: default)\n"
		   "  --group NAME      the link is shared with this group (docs/access.md)\n"
		   "  -h, --help        this text\n");
}

/* What a side's doorbell says (checked: rpk_observer_sides), and whether the
 * shared state shows it at work (a table, DRIVER_OK). */
struct side {
	struct rpk_observed_side bell;
	int active;
};

/* 1: a node of this link runs it; -1: a peer that does not sign its bell
 * is at work (whether it lives cannot be told); 0: none. */
static int alive(const struct side *s)
{
	if (!s->bell.session)
		return s->active ? -1 : 0;
	return s->bell.maps == 1;
}

static void print_side(const char *who, const struct side *s)
{
	const struct rpk_observed_side *b = &s->bell;

	if (!b->session && s->active)
		printf("  %-7s does not sign its doorbell (docs/host-link.md): liveness unknown\n",
		       who);
	else if (!b->session)
		printf("  %-7s never started\n", who);
	else if (b->maps == 1)
		printf("  %-7s pid %u, session %u, running\n", who, b->pid, b->session);
	else if (!b->alive)
		printf("  %-7s pid %u, session %u, gone\n", who, b->pid, b->session);
	else
		printf("  %-7s pid %u (%s this link: ignored), session %u\n", who, b->pid,
		       b->maps ? "cannot tell whether it maps" : "does not map", b->session);
}

static const struct rpk_fw_rsc_vdev *rpmsg_vdev(const uint8_t *tbl)
{
	int idx = tbl ? rpk_rsc_find_vdev(tbl, RPK_VIRTIO_ID_RPMSG) : -1;

	return idx < 0 ? NULL : rpk_rsc_entry(tbl, (uint32_t)idx, NULL);
}

static void print_vdev(const struct rpk_fw_rsc_vdev *v)
{
	if (!v) {
		printf("  vdev    none for rpmsg in the table\n");
		return;
	}
	printf("  vdev    status 0x%02x%s%s%s, features offered 0x%x, accepted 0x%x\n", v->status,
	       v->status & RPK_VIRTIO_STATUS_ACKNOWLEDGE ? " ACKNOWLEDGE" : "",
	       v->status & RPK_VIRTIO_STATUS_DRIVER ? " DRIVER" : "",
	       v->status & RPK_VIRTIO_STATUS_DRIVER_OK ? " DRIVER_OK" : "", v->dfeatures,
	       v->gfeatures);
}

/* The state a live master process reports, or NULL. */
static const char *master_says(const struct rpk_layout *lay, struct rpk_observer *o,
			       const char *instance, const char *group)
{
	const struct rpk_layout_node *m = link_peer(lay, rpk_observer_node(o), RPK_ROLE_MASTER);
	struct rpk_node_stats_page pg;
	char why[1024], page[200];
	int alive;

	if (!m || rpk_node_read_stats_group(instance, m->name, group, &pg, why, sizeof(why)))
		return NULL;
	/* Its page, if the process it names maps it: a killed master's page
	 * stays behind, and anyone who can write it can write a pid. */
	rpk_node_stats_name(page, sizeof(page), instance, m->name);
	if (rpk_observe_pid(pg.pid, page, &alive) != 1)
		return NULL;
	return rpk_node_state_name((enum rpk_node_state)pg.state);
}

/* The state from what shared memory shows (remoteproc's names). */
static const char *state_of(const struct rpk_layout *lay, struct rpk_observer *o,
			    const char *instance, const char *group, const struct side *remote,
			    const struct side *master, int published,
			    const struct rpk_fw_rsc_vdev *v)
{
	const char *said = master_says(lay, o, instance, group);

	if (said)
		return said;
	/* A side that does not sign counts as there while the shared state
	 * shows it at work: it may have died, nothing here can tell. */
	if (!published)
		return "offline";
	if (!alive(remote))
		return "crashed"; /* its table outlived it */
	if (v && (v->status & RPK_VIRTIO_STATUS_DRIVER_OK) && alive(master))
		return "attached";
	return "detached";
}

static int show(const struct rpk_layout *lay, const char *node, const char *instance,
		const char *group)
{
	struct rpk_rsc_problem why;
	const struct rpk_fw_rsc_vdev *v;
	const struct rpk_layout_node *ln;
	const struct rpk_region *rr;
	struct rpk_observer *o;
	struct side remote, master;
	unsigned long long at;
	char err[1024], path[RPK_ESC_SIZE(RPK_LAYOUT_PATH)];
	int published;
	uint8_t *tbl;
	int rc = rpk_observer_open(&o, lay, node, instance, group, err, sizeof(err));

	if (rc == -RPK_ENOENT) {
		printf("offline\n  no shared memory for instance '%s'\n", instance);
		return 0;
	}
	if (rc) {
		fprintf(stderr, "rpk status: ");
		rpk_print_escaped(stderr, err);
		fprintf(stderr, "\n");
		return 1;
	}
	ln = rpk_observer_node(o);
	rr = rpk_observer_table_region(o);
	tbl = rpk_observer_table(o, &published, &why);
	v = rpmsg_vdev(tbl);
	at = (unsigned long long)(rr->da + rr->rsc_offset);
	rpk_observer_sides(o, &remote.bell, &master.bell);
	remote.active = published;
	master.active = v && (v->status & RPK_VIRTIO_STATUS_DRIVER_OK);
	printf("%s\n", state_of(lay, o, instance, group, &remote, &master, published, v));
	printf("  link    %s, instance %s\n",
	       rpk_esc_name(path, sizeof(path), ln->path, sizeof(ln->path)), instance);
	print_side("remote", &remote);
	print_side("master", &master);
	if (!published) {
		printf("  table   not published at 0x%llx\n", at);
	} else if (!tbl) {
		printf("  table   at 0x%llx is invalid (entry %d): %s\n", at, why.entry, why.what);
	} else {
		printf("  table   at 0x%llx\n", at);
		print_vdev(v);
	}
	free(tbl);
	rpk_observer_close(o);
	return 0;
}

int cmd_status(int argc, char **argv)
{
	static struct rpk_layout lay;
	const char *node, *instance, *group;
	int rc =
	    parse_node_command("status", argc, argv, usage, &lay, &node, &instance, &group, NULL);

	return rc >= 0 ? rc : show(&lay, node, instance, group);
}
