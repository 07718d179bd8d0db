/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk up: nodes as a service. Each node runs with its endpoint devices
 * (host/chardev: rpmsg_ctrl0, rpmsgN, the devicetree channel's devices,
 * the counters) in a directory of its own, until SIGTERM or SIGINT.
 */
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rpk/errno.h>

#include "chardev/chardev.h"
#include "netdev/netdev.h"
#include "tty/tty_service.h"
#include "rpk_tool.h"

struct up_opts {
	const struct rpk_layout *lay;
	const char *node;
	const char *instance;
	const char *group;
	const char *dir;	  /* the node's directory, or NULL: the default */
	const char *base;	  /* without --node: the parent of each node's directory */
	unsigned long timeout_ms; /* 0: wait for the peer as long as it takes */
	int polling;
	int adaptive;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rpk up FILE.dts|FILE.dtb [--node NAME] [options]\n\n"
		"Run a node as a service until SIGTERM or Ctrl-C: its link comes up (a\n"
		"remote lays out its table, a master attaches), then its endpoint devices\n"
		"appear in its directory, with Linux's rpmsg_char ABI (docs/chardev.md):\n"
		"  rpmsg_ctrl0      RPMSG_CREATE_EPT_IOCTL makes an rpmsgN (while the link is up)\n"
		"  rpmsgN           one write sends a message, one read takes one\n"
		"  rpmsg<C>_<E>     the devicetree channel's devices (misc-dev-endpoints)\n"
		"  interrupts       doorbells received and rung (rx:, tx:)\n"
		"  stats/           counters of the link and of each device\n"
		"It prints \"rpk up: NODE ready: ...\" once the devices are there.\n"
		"Without --node every link node of the file runs, each in its own process.\n\n"
		"options:\n"
		"  --node NAME       the node to run\n"
		"  --dir DIR         the node's directory (default /run/rpk/INSTANCE/NODE as\n"
		"                    root, else $XDG_RUNTIME_DIR/rpk/INSTANCE/NODE); without\n"
		"                    --node, the directory that holds one per node\n"
		"  --instance ID     shared-memory namespace, same on both sides (default: "
		"default)\n"
		"  --group NAME      share the link and the devices with a group: files are\n"
		"                    0660 and that group's (docs/access.md)\n"
		"  --polling         spin on the rings instead of sleeping on the doorbell\n"
		"  --adaptive        spin up to 50 us on the doorbell before sleeping\n"
		"  --timeout MS      give up if the peer has not come within MS (default: wait)\n"
		"  -h, --help        this text\n");
}

static int resolve_group(const char *group, struct rpk_chardev_opts *co)
{
	struct group *g;
	char *end;
	unsigned long v;

	if (!group)
		return 0;
	g = getgrnam(group);
	if (g) {
		co->gid = g->gr_gid;
	} else {
		v = strtoul(group, &end, 10);
		if (!group[0] || *end) {
			fprintf(stderr, "rpk up: no group '%s'\n", group);
			return -1;
		}
		co->gid = (gid_t)v;
	}
	co->group_set = 1;
	return 0;
}

static void stop_service(void *arg)
{
	rpk_chardev_stop(arg);
}

static int start_link(struct rpk_node *n, const struct up_opts *o)
{
	char err[1024];
	int rc;

	do {
		rc = rpk_node_start(n, o->timeout_ms ? (uint32_t)o->timeout_ms : 1000u, err,
				    sizeof(err));
	} while (rc == -RPK_ETIMEDOUT && !o->timeout_ms && !rpk_stop);
	if (rc == -RPK_ETIMEDOUT)
		fprintf(stderr, "rpk up: %s: the peer did not come within %lu ms\n", o->node,
			o->timeout_ms);
	else if (rc && rc != -RPK_EINTR)
		rpk_print_escaped(stderr, err);
	return rc;
}

/* A tty's pty, shown in the service's directory. */
static int publish_tty(void *ctx, const char *name, const char *target)
{
	return rpk_chardev_link(ctx, name, target);
}

static int up_node(void *arg)
{
	const struct up_opts *o = arg;
	const struct rpk_layout_node *ln = rpk_layout_find(o->lay, o->node);
	struct rpk_node_opts nopts = {.instance = o->instance,
				      .polling = o->polling,
				      .adaptive = o->adaptive,
				      .threaded = 1,
				      .group = o->group};
	struct rpk_chardev_opts co = {0};
	struct rpk_chardev *cd = NULL;
	struct rpk_tty_service *ttys = NULL;
	struct rpk_netdev *nets[RPK_LAYOUT_MAX_DEVICES] = {0};
	int num_nets = 0;
	struct rpk_node *n;
	char err[1024], dir[4096];
	int rc;

	if (resolve_group(o->group, &co))
		return 2;
	if (o->dir)
		snprintf(dir, sizeof(dir), "%s", o->dir);
	else if (o->base)
		snprintf(dir, sizeof(dir), "%s/%s", o->base, o->node);
	else
		service_dir(dir, sizeof(dir), o->instance, o->node);
	co.dir = dir;
	/* A master's ttys come with the peer's announcements. */
	if (rpk_tty_service_new(&ttys)) {
		fprintf(stderr, "rpk up: out of memory\n");
		return 1;
	}
	nopts.ns_bind = rpk_tty_ns_bind;
	nopts.ns_priv = ttys;
	if (rpk_node_open(&n, o->lay, o->node, &nopts, err, sizeof(err))) {
		rpk_print_escaped(stderr, err);
		rpk_tty_service_close(ttys);
		return 1;
	}
	stop_interrupts(n);
	printf("rpk up: %s: waiting for the peer\n", o->node);
	fflush(stdout);
	rc = start_link(n, o);
	if (!rc) {
		rc = rpk_chardev_open(&cd, n, ln, &co, err, sizeof(err));
		if (rc)
			rpk_print_escaped(stderr, err);
	}
	/* Seed 004's network interfaces (eth-dev-endpoints). */
	for (int i = 0; !rc && i < ln->channel.num_eth; i++) {
		rc = rpk_netdev_open(&nets[num_nets], n, ln->channel.index, ln->channel.eth[i],
				     ln->channel.src, err, sizeof(err));
		if (rc)
			rpk_print_escaped(stderr, err);
		else
			num_nets++;
	}
	/* rpmsg-tty channels (Linux's rpmsg_tty): a pty each. */
	if (!rc && rpk_tty_service_start(ttys, n, ln, publish_tty, cd, err, sizeof(err))) {
		rpk_print_escaped(stderr, err);
		rc = -RPK_EIO;
	}
	if (!rc) {
		stop_also(stop_service, cd);
		printf("rpk up: %s ready: link %s, devices in %s", o->node,
		       rpk_node_state_name(rpk_node_state(n)), dir);
		for (int i = 0; i < num_nets; i++)
			printf("%s%s", i ? " " : ", interfaces ", rpk_netdev_name(nets[i]));
		printf("\n");
		fflush(stdout);
		rc = rpk_chardev_run(cd);
		stop_also(NULL, NULL);
		if (rc)
			fprintf(stderr, "rpk up: %s: the FUSE session failed\n", o->node);
	}
	for (int i = 0; i < num_nets; i++)
		rpk_netdev_close(nets[i]);
	rpk_tty_service_close(ttys);
	rpk_chardev_close(cd);
	stop_interrupts_forget(n);
	rpk_node_close(n);
	if (rc == -RPK_EINTR || (rc == 0 && rpk_stop)) {
		printf("rpk up: %s stopped\n", o->node);
		return 0;
	}
	return rc ? 1 : 0;
}

int cmd_up(int argc, char **argv)
{
	static const struct option opts[] = {{"node", required_argument, 0, 'n'},
					     {"instance", required_argument, 0, 'i'},
					     {"dir", required_argument, 0, 'd'},
					     {"group", required_argument, 0, 'g'},
					     {"polling", no_argument, 0, 'p'},
					     {"adaptive", no_argument, 0, 'a'},
					     {"timeout", required_argument, 0, 't'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	static struct rpk_layout lay;
	struct up_opts o = {.lay = &lay, .instance = "default"};
	const char *dir = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o.node = optarg;
			break;
		case 'i':
			o.instance = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'g':
			o.group = optarg;
			break;
		case 'p':
			o.polling = 1;
			break;
		case 'a':
			o.adaptive = 1;
			break;
		case 't':
			if (parse_number("up", "timeout", optarg, 1, 3600000, &o.timeout_ms))
				return 2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "rpk up: need one devicetree file\n");
		usage(stderr);
		return 2;
	}
	if (load_layout(argv[optind], &lay))
		return 1;
	install_stop_signals();
	if (o.node) {
		if (!rpk_layout_find(&lay, o.node)) {
			fprintf(stderr, "rpk up: %s has no link node named '%s'\n", argv[optind],
				o.node);
			return 2;
		}
		o.dir = dir;
		return up_node(&o);
	}
	/* Every node, each its own process; Ctrl-C stops them all. */
	static struct up_opts each[RPK_LAYOUT_MAX_NODES];
	pid_t kids[RPK_LAYOUT_MAX_NODES];
	int rc;

	if (lay.num_nodes > 8) {
		fprintf(stderr, "rpk up: at most 8 nodes at once (%d here)\n", lay.num_nodes);
		return 2;
	}
	for (int i = 0; i < lay.num_nodes; i++) {
		each[i] = o;
		each[i].node = lay.nodes[i].name;
		each[i].base = dir;
		kids[i] = spawn(up_node, &each[i]);
	}
	rc = supervise(kids, lay.num_nodes, &lay, o.instance);
	return rc == 130 ? 0 : rc;
}
