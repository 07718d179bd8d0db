/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>

#include <rpk/version.h>

#include "rpk_tool.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *what;
} commands[] = {
    {"run", cmd_run, "run one node of a link described in a devicetree"},
    {"up", cmd_up, "run nodes as a service: endpoint devices (rpmsg_char ABI), counters"},
    {"demo", cmd_demo, "run the seeds' link: a self-booted remote and a master, 100 echoes"},
    {"ping", cmd_ping, "round-trip latency between two nodes, polling and blocking"},
    {"bench", cmd_bench, "latency, throughput, scaling next to bare baselines; instructions"},
    {"rsc", cmd_rsc, "dump a resource table (ELF, raw, or a running node) and its problems"},
    {"status", cmd_status, "state of a running link: offline, detached, attached, crashed"},
    {"stat", cmd_stat, "a running node's counters, and what it rejected from its peer"},
    {"trace", cmd_trace,
     "print the remote's trace buffer (--follow), or every message (--messages)"},
    {"gen", cmd_gen, "write resource table, Linux DT, Zephyr overlay, MMU table from a link"},
    {"dtb", cmd_dtb, "patch a firmware's resource table place into a devicetree blob"},
    {"vhost-user", cmd_vhost_user, "serve a remote node to a Linux guest over vhost-user"},
    {"ivshmem-server", cmd_ivshmem_server, "serve QEMU's ivshmem-doorbell devices and rpk nodes"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: rpk COMMAND [OPTIONS]   (rpk COMMAND --help for its options)\n\n"
		   "rpmsg-kit: RPMsg over shared memory, in both roles, on this host.\n"
		   "rpk --version prints the version.\n\n"
		   "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].what);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("rpk (rpmsg-kit) %s\n", rpk_version());
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "rpk: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
