/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk up: nodes as a service. Each node runs with its endpoint devices
 * (host/chardev: rpmsg_ctrl0, rpmsgN, the devicetree channel's devices,
 * the counters) in a directory of its own, until SIGTERM or SIGINT: one
 * node (--node), every link of a processor in one process (--processor), or
 * every processor of the file, a process each.
 */
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
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
	const char *processor; /* up_processor: the processor whose links run */
	const char *instance;
	const char *group;
	gid_t gid;		  /* the group's, resolved once for every link */
	const char *dir;	  /* the node's directory (a processor's: the parent of
				   * its links'), or NULL: the default */
	const char *base;	  /* without --node: the parent of each node's directory */
	unsigned long timeout_ms; /* 0: wait for the peer as long as it takes */
	int polling;
	int adaptive;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rpk up FILE.dts|FILE.dtb [--node NAME | --processor NAME] [options]\n\n"
		"Run a node as a service until SIGTERM or Ctrl-C: its link comes up (a\n"
		"remote lays out its table, a master attaches), then its endpoint devices\n"
		"appear in its directory, with Linux's rpmsg_char ABI (docs/chardev.md):\n"
		"  rpmsg_ctrl0      RPMSG_CREATE_EPT_IOCTL makes an rpmsgN (while the link is up)\n"
		"  rpmsgN           one write sends a message, one read takes one\n"
		"  rpmsg<C>_<E>     the devicetree channel's devices (misc-dev-endpoints)\n"
		"  interrupts       doorbells received and rung (rx:, tx:)\n"
		"  stats/           counters of the link and of each device\n"
		"It prints \"rpk up: NODE ready: ...\" once the devices are there.\n"
		"With --processor every link of that processor (an rpk,processor node, or a\n"
		"link node under none) runs in this process, a node each. Without --node or\n"
		"--processor every processor of the file runs, each in its own process.\n"
		"A link side under a processor is named PROC/LINK (\"a/to-b\").\n\n"
		"options:\n"
		"  --node NAME       the node to run\n"
		"  --processor NAME  the processor whose links run\n"
		"  --dir DIR         the node's directory (default /run/rpk/INSTANCE/NODE as\n"
		"                    root, else $XDG_RUNTIME_DIR/rpk/INSTANCE/NODE); with\n"
		"                    --processor, the directory that holds one per link\n"
		"                    (DIR/LINK); without either, the directory that holds\n"
		"                    one per node (DIR/NODE, DIR/PROC/LINK)\n"
		"  --instance ID     shared-memory namespace, same on both sides (default: "
		"default)\n"
		"  --group NAME      share the link and the devices with a group: files are\n"
		"                    0660 and that group's (docs/access.md)\n"
		"  --polling         spin on the rings instead of sleeping on the doorbell\n"
		"  --adaptive        spin up to 50 us on the doorbell before sleeping\n"
		"  --timeout MS      give up if the peer has not come within MS (default: wait)\n"
		"  -h, --help        this text\n");
}

static int resolve_group(const char *group, gid_t *gid)
{
	struct group *g;
	char *end;
	unsigned long v;

	if (!group)
		return 0;
	g = getgrnam(group);
	if (g) {
		*gid = g->gr_gid;
	} else {
		v = strtoul(group, &end, 10);
		if (!group[0] || *end) {
			fprintf(stderr, "rpk up: no group '%s'\n", group);
			return -1;
		}
		*gid = (gid_t)v;
	}
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
	} while (rc == -RPK_ETIMEDOUT && !o->timeout_ms && !stop_requested());
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

	co.gid = o->gid;
	co.group_set = o->group != NULL;
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
		flockfile(stdout); /* one line, whatever the other links print */
		printf("rpk up: %s ready: link %s, devices in %s", o->node,
		       rpk_node_state_name(rpk_node_state(n)), dir);
		for (int i = 0; i < num_nets; i++)
			printf("%s%s", i ? " " : ", interfaces ", rpk_netdev_name(nets[i]));
		printf("\n");
		fflush(stdout);
		funlockfile(stdout);
		rc = rpk_chardev_run(cd);
		stop_also_forget(cd);
		if (rc)
			fprintf(stderr, "rpk up: %s: the FUSE session failed\n", o->node);
	}
	for (int i = 0; i < num_nets; i++)
		rpk_netdev_close(nets[i]);
	rpk_tty_service_close(ttys);
	rpk_chardev_close(cd);
	stop_interrupts_forget(n);
	rpk_node_close(n);
	if (rc == -RPK_EINTR || (rc == 0 && stop_requested())) {
		printf("rpk up: %s stopped\n", o->node);
		return 0;
	}
	return rc ? 1 : 0;
}

/* A link of a processor, run by a thread of its own. */
struct link_thread {
	struct up_opts o;
	char dir[4096];
	pthread_t thread;
	int started;
	int rc;
};

static void *run_link(void *arg)
{
	struct link_thread *t = arg;

	t->rc = up_node(&t->o);
	/* A link that cannot run (its devices, its peer within --timeout)
	 * stops its processor: the exit status says so, as with --node. */
	if (t->rc && !stop_requested())
		request_stop();
	return NULL;
}

/* A side's name in its processor: "to-b" for "a/to-b"; a lone link's own. */
static const char *link_in_processor(const char *node)
{
	const char *slash = strrchr(node, '/');

	return slash ? slash + 1 : node;
}

/*
 * Every link of a processor in this process, each a node of its own with its
 * own event thread, started by a thread of its own. That is our choice over
 * one thread serving every link: a link that breaks resets alone while its
 * siblings carry on, a peer that has not come yet holds up no other link's
 * start, and each link is the node `rpk up --node` runs, nothing new.
 */
static int up_processor(void *arg)
{
	const struct up_opts *o = arg;
	const struct rpk_layout_processor *p = rpk_layout_find_processor(o->lay, o->processor);
	static struct link_thread links[RPK_LAYOUT_MAX_NODES];
	int rc = 0;

	for (int i = 0; i < p->num_links; i++) {
		struct link_thread *t = &links[i];

		t->o = *o;
		t->o.node = o->lay->nodes[p->links[i]].name;
		t->rc = 0;
		if (o->dir) {
			snprintf(t->dir, sizeof(t->dir), "%s/%s", o->dir,
				 link_in_processor(t->o.node));
			t->o.dir = t->dir;
		}
		t->started = !pthread_create(&t->thread, NULL, run_link, t);
		if (!t->started) {
			fprintf(stderr, "rpk up: %s: cannot start a thread for %s\n", p->name,
				t->o.node);
			rc = 1;
			request_stop();
			break;
		}
	}
	for (int i = 0; i < p->num_links; i++) {
		if (!links[i].started)
			continue;
		pthread_join(links[i].thread, NULL);
		if (!rc)
			rc = links[i].rc;
	}
	return rc;
}

int cmd_up(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"node", required_argument, 0, 'n'},     {"processor", required_argument, 0, 'P'},
	    {"instance", required_argument, 0, 'i'}, {"dir", required_argument, 0, 'd'},
	    {"group", required_argument, 0, 'g'},    {"polling", no_argument, 0, 'p'},
	    {"adaptive", no_argument, 0, 'a'},	     {"timeout", required_argument, 0, 't'},
	    {"help", no_argument, 0, 'h'},	     {0, 0, 0, 0}};
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
		case 'P':
			o.processor = optarg;
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
	if (o.node && o.processor) {
		fprintf(stderr, "rpk up: --node or --processor, not both\n");
		usage(stderr);
		return 2;
	}
	if (resolve_group(o.group, &o.gid))
		return 2;
	if (load_layout(argv[optind], &lay))
		return 1;
	install_stop_signals();
	if (o.processor) {
		if (!rpk_layout_find_processor(&lay, o.processor)) {
			fprintf(stderr, "rpk up: %s has no processor named '%s'\n", argv[optind],
				o.processor);
			return 2;
		}
		o.dir = dir;
		return up_processor(&o);
	}
	if (o.node) {
		if (!rpk_layout_find(&lay, o.node)) {
			fprintf(stderr, "rpk up: %s has no link node named '%s'\n", argv[optind],
				o.node);
			return 2;
		}
		o.dir = dir;
		return up_node(&o);
	}
	/* Every processor, each its own process (a link node under no processor
	 * is one); Ctrl-C stops them all. */
	static struct up_opts each[RPK_LAYOUT_MAX_NODES];
	pid_t kids[RPK_LAYOUT_MAX_NODES];
	int rc;

	for (int i = 0; i < lay.num_processors; i++) {
		each[i] = o;
		each[i].processor = lay.processors[i].name;
		each[i].base = dir;
		kids[i] = spawn(up_processor, &each[i]);
	}
	rc = supervise(kids, lay.num_processors, &lay, o.instance);
	return rc == 130 ? 0 : rc;
}
