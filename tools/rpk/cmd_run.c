/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpk_tool.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: rpk run FILE.dts|FILE.dtb --node NAME [options]\n\n"
		   "Run one node of a link as this process until Ctrl-C.\n"
		   "A remote node lays out its resource table and echoes every message\n"
		   "sent to its rpk,services. A master node attaches to the remote's table,\n"
		   "binds the first service announced and, with --count, checks that many\n"
		   "echoes and exits 0 if all came back intact.\n\n"
		   "options:\n"
		   "  --node NAME       link node to run (required)\n"
		   "  --instance ID     shared-memory namespace, same on both sides (default: "
		   "default)\n"
		   "  --group NAME      share the link with a group (name or gid): objects we\n"
		   "                    create are mode 0660 and that group's, and objects of\n"
		   "                    that group are joined. Without it a link is its user's\n"
		   "                    alone: objects are mode 0600, and an object another\n"
		   "                    user owns or can access is refused (docs/access.md)\n"
		   "  --count N         master: send N messages, check the echoes, exit\n"
		   "  --polling         spin on the rings instead of sleeping on the doorbell\n"
		   "  --adaptive        spin up to 50 us on the doorbell before sleeping, as\n"
		   "                    long as rings come that soon (near polling's latency\n"
		   "                    under load, a sleeping node's CPU when idle)\n"
		   "  --timeout MS      how long to wait for the peer to appear (default 30000)\n"
		   "  --firmware ELF    master: boot the remote with this firmware (its segments\n"
		   "                    loaded into the link's memory, its table installed), then\n"
		   "                    reload and restart it whenever it crashes\n"
		   "  --booted          remote: run with the table a master installed (how\n"
		   "                    --firmware starts its remote)\n"
		   "  --memory-file F   the link's memory is an emulator's RAM file (QEMU's\n"
		   "                    memory-backend-file, share=on): every region is mapped\n"
		   "                    from F at its address minus --memory-base (default 0)\n"
		   "  --memory-base A   the address F's first byte stands for\n"
		   "  --doorbell-socket S  doorbells as bytes on the UNIX socket S, an\n"
		   "                    emulator's UART (QEMU -serial unix:S,server=on): a kick\n"
		   "                    sends a byte, a byte that comes wakes us\n"
		   "  --ivshmem S       doorbells as interrupts through the ivshmem server on\n"
		   "                    the UNIX socket S (rpk ivshmem-server), whose other peer\n"
		   "                    is QEMU's ivshmem-doorbell device: vectors are the\n"
		   "                    mailbox channels\n"
		   "  --chaos CLASS     chaos peer: write one corruption of CLASS into the link\n"
		   "                    every --chaos-every MS (default 1000); --chaos list\n"
		   "                    names the classes. The other side's `rpk stat` counts\n"
		   "                    what it rejected.\n"
		   "  -h, --help        this text\n");
}

static int parse_chaos(const char *arg, enum rpk_chaos *out)
{
	if (!strcmp(arg, "list")) {
		printf("chaos classes (name, who writes it, what it does):\n");
		rpk_chaos_list(stdout);
		return 0;
	}
	*out = rpk_chaos_parse(arg);
	if (*out == RPK_CHAOS_NONE) {
		fprintf(stderr, "rpk run: unknown chaos class '%s' (rpk run --chaos list)\n", arg);
		return 2;
	}
	return -1;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {{"node", required_argument, 0, 'n'},
					     {"instance", required_argument, 0, 'i'},
					     {"count", required_argument, 0, 'c'},
					     {"polling", no_argument, 0, 'p'},
					     {"adaptive", no_argument, 0, 'a'},
					     {"timeout", required_argument, 0, 't'},
					     {"chaos", required_argument, 0, 'C'},
					     {"firmware", required_argument, 0, 'F'},
					     {"booted", no_argument, 0, 'B'},
					     {"chaos-every", required_argument, 0, 'E'},
					     {"group", required_argument, 0, 'g'},
					     {"memory-file", required_argument, 0, 'M'},
					     {"memory-base", required_argument, 0, 'b'},
					     {"doorbell-socket", required_argument, 0, 'D'},
					     {"ivshmem", required_argument, 0, 'V'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	const char *node = NULL, *instance = "default";
	unsigned long count = 0, timeout = 30000, chaos_every = 1000;
	enum rpk_chaos chaos = RPK_CHAOS_NONE;
	const char *firmware = NULL, *group = NULL, *memory_file = NULL, *doorbell_socket = NULL,
		   *ivshmem_socket = NULL;
	unsigned long long memory_base = 0;
	char *end;
	int booted = 0;
	static struct rpk_layout lay;
	const struct rpk_layout_node *ln;
	int polling = 0, adaptive = 0, c;

	/* A node runs for long: whoever follows its log (tail -f, a test) sees
	 * each line as it happens, not when the node exits. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			node = optarg;
			break;
		case 'i':
			instance = optarg;
			break;
		case 'c':
			if (parse_number("run", "count", optarg, 1, 100000000, &count))
				return 2;
			break;
		case 'p':
			polling = 1;
			break;
		case 'a':
			adaptive = 1;
			break;
		case 't':
			if (parse_number("run", "timeout", optarg, 1, 3600000, &timeout))
				return 2;
			break;
		case 'C':
			c = parse_chaos(optarg, &chaos);
			if (c >= 0)
				return c;
			break;
		case 'F':
			firmware = optarg;
			break;
		case 'B':
			booted = 1;
			break;
		case 'g':
			group = optarg;
			break;
		case 'M':
			memory_file = optarg;
			break;
		case 'D':
			doorbell_socket = optarg;
			break;
		case 'V':
			ivshmem_socket = optarg;
			break;
		case 'b':
			errno = 0;
			memory_base = strtoull(optarg, &end, 0);
			if (!optarg[0] || *end || errno || optarg[0] == '-') {
				fprintf(stderr, "rpk run: --memory-base '%s' is not an address\n",
					optarg);
				return 2;
			}
			break;
		case 'E':
			if (parse_number("run", "chaos-every", optarg, 1, 3600000, &chaos_every))
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
	c = load_dt_operand("run", argc, argv, node, &lay, usage);
	if (c)
		return c;
	ln = rpk_layout_find(&lay, node);
	if (!ln) {
		fprintf(stderr, "rpk run: %s has no link node named '%s'\n", argv[optind], node);
		return 2;
	}
	if (chaos && !rpk_chaos_role_ok(chaos, ln->role)) {
		fprintf(stderr,
			"rpk run: chaos class '%s' corrupts what a %s writes; '%s' is a %s\n",
			rpk_chaos_name(chaos), ln->role == RPK_ROLE_MASTER ? "remote" : "master",
			node, ln->role == RPK_ROLE_MASTER ? "master" : "remote");
		return 2;
	}
	if ((firmware && ln->role != RPK_ROLE_MASTER) || (booted && ln->role != RPK_ROLE_REMOTE)) {
		fprintf(stderr, "rpk run: --%s is for a %s node; '%s' is not one\n",
			firmware ? "firmware" : "booted", firmware ? "master" : "remote", node);
		return 2;
	}
	if (doorbell_socket && ivshmem_socket) {
		fprintf(stderr, "rpk run: --doorbell-socket and --ivshmem are two kinds of "
				"doorbell: give one\n");
		return 2;
	}
	install_stop_signals();
	if (ln->role == RPK_ROLE_REMOTE) {
		struct echo_opts o = {.lay = &lay,
				      .node = node,
				      .instance = instance,
				      .polling = polling,
				      .adaptive = adaptive,
				      .start_timeout_ms = (uint32_t)timeout,
				      .chaos = chaos,
				      .chaos_every_ms = (uint32_t)chaos_every,
				      .booted = booted,
				      .group = group,
				      .memory_file = memory_file,
				      .memory_base = memory_base,
				      .doorbell_socket = doorbell_socket,
				      .ivshmem_socket = ivshmem_socket};

		return run_echo_remote(&o);
	}
	struct check_opts o = {.lay = &lay,
			       .node = node,
			       .instance = instance,
			       .count = (uint32_t)count,
			       .polling = polling,
			       .adaptive = adaptive,
			       .start_timeout_ms = (uint32_t)timeout,
			       .chaos = chaos,
			       .chaos_every_ms = (uint32_t)chaos_every,
			       .firmware = firmware,
			       .dt = argv[optind],
			       .group = group,
			       .memory_file = memory_file,
			       .memory_base = memory_base,
			       .doorbell_socket = doorbell_socket,
			       .ivshmem_socket = ivshmem_socket};

	return run_echo_master(&o);
}
