/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk status: the state of a link as Linux's remoteproc would name it, seen
 * from outside: offline (nothing there), detached (the remote runs, no
 * master is attached), attached, crashed (the remote's process is gone but
 * its table is still there). A running master's own word (its counter page)
 * wins: only it knows it booted the remote (running) or gave up on it.
 * Without --node, every link of the file, a row each.
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
	fprintf(f, "usage: rpk status FILE.dts|FILE.dtb [--node NAME] [--instance ID]\n"
		   "                  [--group NAME]\n\n"
		   "Print the state of a link (offline, running, detached, attached, crashed),\n"
		   "both sides' processes and sessions, and the vdev handshake. Without --node,\n"
		   "every link of the file, one row each: its master and remote sides, its\n"
		   "state, each side's process and the vdev handshake.\n\n"
		   "options:\n"
		   "  --node NAME       either side of the link (default: every link)\n"
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

/* What is known of a side's process, for both the long form and a row. */
enum side_seen { SIDE_UNSIGNED, SIDE_NEVER, SIDE_RUNNING, SIDE_GONE, SIDE_FOREIGN };

static enum side_seen side_seen(const struct side *s)
{
	if (!s->bell.session)
		return s->active ? SIDE_UNSIGNED : SIDE_NEVER;
	if (s->bell.maps == 1)
		return SIDE_RUNNING;
	return s->bell.alive ? SIDE_FOREIGN : SIDE_GONE;
}

static void print_side(const char *who, const struct side *s)
{
	const struct rpk_observed_side *b = &s->bell;

	switch (side_seen(s)) {
	case SIDE_UNSIGNED:
		printf("  %-7s does not sign its doorbell (docs/host-link.md): liveness unknown\n",
		       who);
		break;
	case SIDE_NEVER:
		printf("  %-7s never started\n", who);
		break;
	case SIDE_RUNNING:
		printf("  %-7s pid %u, session %u, running\n", who, b->pid, b->session);
		break;
	case SIDE_GONE:
		printf("  %-7s pid %u, session %u, gone\n", who, b->pid, b->session);
		break;
	case SIDE_FOREIGN:
		printf("  %-7s pid %u (%s this link: ignored), session %u\n", who, b->pid,
		       b->maps ? "cannot tell whether it maps" : "does not map", b->session);
		break;
	}
}

/* A side in a row of the table: what print_side says, short. */
static const char *side_cell(char *buf, size_t len, const struct side *s)
{
	switch (side_seen(s)) {
	case SIDE_UNSIGNED:
		return "unsigned";
	case SIDE_NEVER:
		return "never started";
	case SIDE_RUNNING:
		snprintf(buf, len, "pid %u running", s->bell.pid);
		break;
	case SIDE_GONE:
		snprintf(buf, len, "pid %u gone", s->bell.pid);
		break;
	case SIDE_FOREIGN:
		snprintf(buf, len, "pid %u ignored", s->bell.pid);
		break;
	}
	return buf;
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

/* What `rpk status` learns of one link, for the long form and for a row. */
struct link_view {
	const struct rpk_layout_node *ln; /* the side named */
	int running;			  /* the link's objects exist (else: offline) */
	const char *state;
	struct side remote, master;
	int published;
	uint8_t *tbl; /* a validated copy (free it), or NULL: why */
	struct rpk_rsc_problem why;
	const struct rpk_fw_rsc_vdev *v; /* the rpmsg vdev in tbl, or NULL */
	unsigned long long at;		 /* where the table lives */
};

/* Look at the link of node: 0 (running 0 if its objects do not exist), or
 * the observer's error with why in err. */
static int observe_link(const struct rpk_layout *lay, const char *node, const char *instance,
			const char *group, struct link_view *lv, char *err, size_t errlen)
{
	const struct rpk_region *rr;
	struct rpk_observer *o;
	int rc = rpk_observer_open(&o, lay, node, instance, group, err, errlen);

	memset(lv, 0, sizeof(*lv));
	lv->ln = rpk_layout_find(lay, node);
	lv->state = "offline";
	if (rc == -RPK_ENOENT)
		return 0;
	if (rc)
		return rc;
	lv->running = 1;
	rr = rpk_observer_table_region(o);
	lv->tbl = rpk_observer_table(o, &lv->published, &lv->why);
	lv->v = rpmsg_vdev(lv->tbl);
	lv->at = (unsigned long long)(rr->da + rr->rsc_offset);
	rpk_observer_sides(o, &lv->remote.bell, &lv->master.bell);
	lv->remote.active = lv->published;
	lv->master.active = lv->v && (lv->v->status & RPK_VIRTIO_STATUS_DRIVER_OK);
	lv->state =
	    state_of(lay, o, instance, group, &lv->remote, &lv->master, lv->published, lv->v);
	rpk_observer_close(o);
	return 0;
}

static int show(const struct rpk_layout *lay, const char *node, const char *instance,
		const char *group)
{
	struct link_view lv;
	char err[1024], path[RPK_ESC_SIZE(RPK_LAYOUT_PATH)];

	if (observe_link(lay, node, instance, group, &lv, err, sizeof(err))) {
		fprintf(stderr, "rpk status: ");
		rpk_print_escaped(stderr, err);
		fprintf(stderr, "\n");
		return 1;
	}
	if (!lv.running) {
		printf("offline\n  no shared memory for instance '%s'\n", instance);
		return 0;
	}
	printf("%s\n", lv.state);
	printf("  link    %s, instance %s\n",
	       rpk_esc_name(path, sizeof(path), lv.ln->path, sizeof(lv.ln->path)), instance);
	print_side("remote", &lv.remote);
	print_side("master", &lv.master);
	if (!lv.published) {
		printf("  table   not published at 0x%llx\n", lv.at);
	} else if (!lv.tbl) {
		printf("  table   at 0x%llx is invalid (entry %d): %s\n", lv.at, lv.why.entry,
		       lv.why.what);
	} else {
		printf("  table   at 0x%llx\n", lv.at);
		print_vdev(lv.v);
	}
	free(lv.tbl);
	return 0;
}

/* The vdev handshake in a row: what print_vdev and the table line say, short. */
static const char *vdev_cell(char *buf, size_t len, const struct link_view *lv)
{
	const struct rpk_fw_rsc_vdev *v = lv->v;

	if (!lv->published)
		return "no table";
	if (!lv->tbl)
		return "invalid table";
	if (!v)
		return "no rpmsg vdev";
	snprintf(buf, len, "0x%02x%s", v->status,
		 v->status & RPK_VIRTIO_STATUS_DRIVER_OK ? " DRIVER_OK" : "");
	return buf;
}

/* Every link of the file, a row each: its master and remote sides (a side
 * the file lacks is "-"), its state, each side's process, the vdev. */
static int show_all(const struct rpk_layout *lay, const char *instance, const char *group)
{
	enum { NAME = RPK_ESC_SIZE(sizeof(lay->nodes[0].name)) };
	char names[RPK_LAYOUT_MAX_NODES][2][NAME];
	int rows = 0, width = 6;

	/* Each link once: from its master, or from a side without a peer. */
	for (int i = 0; i < lay->num_nodes; i++) {
		const struct rpk_layout_node *n = &lay->nodes[i], *peer = rpk_layout_peer(lay, n);
		const struct rpk_layout_node *m = n->role == RPK_ROLE_MASTER ? n : peer;
		const struct rpk_layout_node *r = n->role == RPK_ROLE_MASTER ? peer : n;

		if (peer && n->role != RPK_ROLE_MASTER)
			continue;
		for (int k = 0; k < 2; k++) {
			const struct rpk_layout_node *side = k ? r : m;
			int len;

			if (side)
				rpk_esc_name(names[rows][k], NAME, side->name, sizeof(side->name));
			else
				snprintf(names[rows][k], NAME, "-");
			len = (int)strlen(names[rows][k]);
			width = len > width ? len : width;
		}
		rows++;
	}
	printf("%-*s  %-*s  %-9s  %-20s  %-20s  %s\n", width, "MASTER", width, "REMOTE", "STATE",
	       "MASTER PROCESS", "REMOTE PROCESS", "VDEV");
	for (int row = 0, i = 0; i < lay->num_nodes; i++) {
		const struct rpk_layout_node *n = &lay->nodes[i], *peer = rpk_layout_peer(lay, n);
		struct link_view lv;
		char err[1024], mcell[32], rcell[32], vcell[32];

		if (peer && n->role != RPK_ROLE_MASTER)
			continue;
		if (observe_link(lay, n->name, instance, group, &lv, err, sizeof(err))) {
			printf("%-*s  %-*s  %-9s  %-20s  %-20s  %s\n", width, names[row][0], width,
			       names[row][1], "unknown", "-", "-", "-");
			fprintf(stderr, "rpk status: ");
			rpk_print_escaped(stderr, err);
			if (!err[0] || err[strlen(err) - 1] != '\n')
				fprintf(stderr, "\n");
		} else if (!lv.running) {
			printf("%-*s  %-*s  %-9s  %-20s  %-20s  %s\n", width, names[row][0], width,
			       names[row][1], lv.state, "-", "-", "-");
		} else {
			printf("%-*s  %-*s  %-9s  %-20s  %-20s  %s\n", width, names[row][0], width,
			       names[row][1], lv.state, side_cell(mcell, sizeof(mcell), &lv.master),
			       side_cell(rcell, sizeof(rcell), &lv.remote),
			       vdev_cell(vcell, sizeof(vcell), &lv));
		}
		free(lv.tbl);
		row++;
	}
	return 0;
}

int cmd_status(int argc, char **argv)
{
	static struct rpk_layout lay;
	const char *node, *instance, *group;
	int rc = parse_file_command("status", argc, argv, usage, &lay, &node, &instance, &group);

	if (rc >= 0)
		return rc;
	return node ? show(&lay, node, instance, group) : show_all(&lay, instance, group);
}
