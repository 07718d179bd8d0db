/* SPDX-License-Identifier: BSD-3-Clause */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "rpk_tool.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rpk demo [--count N] [--dt FILE]\n\n"
		"Run the seeds' link as two processes: a self-booted remote lays out its\n"
		"resource table at 0x200c6000 + 0x3b8 and announces rpmsg-client-sample; a\n"
		"master attaches, binds the service and sends N messages (default 100),\n"
		"each echoed back. Exits 0 only if all came back intact. Shared memory and\n"
		"processes are cleaned up, also on Ctrl-C.\n\n"
		"options:\n"
		"  --count N   messages to send (default 100)\n"
		"  --dt FILE   link devicetree with nodes 'master' and 'remote'\n"
		"              (default: %s)\n"
		"  -h, --help  this text\n",
		RPK_DEFAULT_DT);
}

static struct rpk_layout lay;
static char instance[64];
static uint32_t count = 100;

static int remote_main(void *arg)
{
	struct echo_opts o = {
	    .lay = &lay, .node = "remote", .instance = instance, .start_timeout_ms = 10000};

	(void)arg;
	return run_echo_remote(&o);
}

static int master_main(void *arg)
{
	struct check_opts o = {.lay = &lay,
			       .node = "master",
			       .instance = instance,
			       .count = count,
			       .start_timeout_ms = 10000};

	(void)arg;
	return run_echo_master(&o);
}

int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {{"count", required_argument, 0, 'c'},
					     {"dt", required_argument, 0, 'd'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	const char *dt = getenv("RPK_DT") ? getenv("RPK_DT") : RPK_DEFAULT_DT;
	pid_t kids[2];
	unsigned long v;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (parse_number("demo", "count", optarg, 1, 10000000, &v))
				return 2;
			count = (uint32_t)v;
			break;
		case 'd':
			dt = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "rpk demo: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (load_layout(dt, &lay))
		return 1;
	if (!rpk_layout_find(&lay, "master") || !rpk_layout_find(&lay, "remote")) {
		fprintf(stderr, "rpk demo: %s needs link nodes 'master' and 'remote'\n", dt);
		return 2;
	}
	snprintf(instance, sizeof(instance), "demo-%d", (int)getpid());
	printf("rpk demo: %s, shared memory /dev/shm/rpk-%s-*\n", dt, instance);
	install_stop_signals();
	/* The remote boots first, as in the seeds; the master attaches to it. */
	kids[1] = spawn(remote_main, NULL);
	kids[0] = kids[1] > 0 ? spawn(master_main, NULL) : -1;
	rc = supervise(kids, 2, &lay, instance);
	printf("rpk demo: %s\n", rc == 0 ? "PASS" : "FAIL");
	return rc;
}
