/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk trace: print the remote's trace buffer (the table's RSC_TRACE entry),
 * and with --follow keep printing what it adds, like tail -f.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rpk/errno.h>
#include <rpk/trace.h>

#include <rpk/observe.h>

#include "rpk_tool.h"
#include "trace_messages.h"

#define FOLLOW_PERIOD_MS 100

static void usage(FILE *f)
{
	fprintf(f, "usage: rpk trace FILE.dts|FILE.dtb --node NAME [--instance ID] [--group NAME]\n"
		   "                 [--follow]\n"
		   "       rpk trace FILE.dts|FILE.dtb --node NAME --messages [--pcap FILE]\n"
		   "                 [--count N] [--instance ID] [--group NAME]\n\n"
		   "Print the remote's trace buffer, found through its resource table\n"
		   "(the layout's rpk,trace-size gives it one).\n\n"
		   "With --messages, print every message the running node NAME sends or\n"
		   "receives, name service included: its header and a hex dump, until\n"
		   "Ctrl-C. The node never waits for this reader: messages it could not\n"
		   "keep up with are counted as lost.\n\n"
		   "options:\n"
		   "  --node NAME       either side of the link (required)\n"
		   "  --instance ID     shared-memory namespace (default: default)\n"
		   "  --group NAME      the link is shared with this group (docs/access.md)\n"
		   "  -f, --follow      keep printing new lines until Ctrl-C\n"
		   "  -m, --messages    the node's messages instead of the remote's log\n"
		   "  --pcap FILE       with --messages: write a pcap capture instead; tshark\n"
		   "                    decodes it with -X lua_script:rpmsg.lua (installed in\n"
		   "                    share/rpmsg-kit, tools/wireshark/ in the sources)\n"
		   "  --count N         with --messages: stop after N messages\n"
		   "  -h, --help        this text\n");
}

/* Print what is new; -1 if the buffer holds no trace. */
static int print_new(struct rpk_observer *o, const void *buf, uint32_t len,
		     struct rpk_trace_cursor *cur)
{
	static char out[4096], text[RPK_ESC_SIZE(sizeof(out))];
	uint32_t lost;
	int n;

	do {
		n = rpk_trace_read(buf, len, cur, out, sizeof(out), &lost, rpk_observer_port(o));
		if (n < 0)
			return -1;
		if (lost)
			printf("[rpk trace: %u bytes lost]\n", lost);
		/* The remote's text: lines, never escape sequences. */
		fputs(rpk_escape(text, sizeof(text), out, (size_t)n, 1), stdout);
	} while (n == (int)sizeof(out));
	fflush(stdout);
	return 0;
}

static int trace(const struct rpk_layout *lay, const char *node, const char *instance,
		 const char *group, int follow)
{
	struct timespec period = {0, FOLLOW_PERIOD_MS * 1000000L};
	struct rpk_observer *o;
	const void *buf;
	struct rpk_trace_cursor cur = {0, 0};
	uint32_t len = 0;
	char err[1024];
	int rc = rpk_observer_open(&o, lay, node, instance, group, err, sizeof(err));

	if (rc == -RPK_ENOENT) {
		fprintf(stderr, "rpk trace: no running link for instance '%s'\n", instance);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "rpk trace: ");
		rpk_print_escaped(stderr, err);
		fprintf(stderr, "\n");
		return 1;
	}
	buf = rpk_observer_trace(o, &len, err, sizeof(err));
	if (!buf) {
		fprintf(stderr, "rpk trace: ");
		rpk_print_escaped(stderr, err);
		fprintf(stderr, "\n");
		rpk_observer_close(o);
		return 1;
	}
	rc = print_new(o, buf, len, &cur);
	if (rc)
		fprintf(stderr, "rpk trace: no trace in the buffer at its entry\n");
	while (!rc && follow && !rpk_stop) {
		nanosleep(&period, NULL);     /* an observer polls; the remote never waits on it */
		print_new(o, buf, len, &cur); /* fails only while a restart lays it out */
	}
	rpk_observer_close(o);
	return rc ? 1 : 0;
}

int cmd_trace(int argc, char **argv)
{
	static const struct option opts[] = {{"node", required_argument, 0, 'n'},
					     {"instance", required_argument, 0, 'i'},
					     {"group", required_argument, 0, 'g'},
					     {"follow", no_argument, 0, 'f'},
					     {"messages", no_argument, 0, 'm'},
					     {"pcap", required_argument, 0, 'p'},
					     {"count", required_argument, 0, 'c'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	struct trace_messages_opts mo = {.instance = "default"};
	static struct rpk_layout lay;
	int follow = 0, messages = 0, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "fmh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			mo.node = optarg;
			break;
		case 'i':
			mo.instance = optarg;
			break;
		case 'g':
			mo.group = optarg;
			break;
		case 'f':
			follow = 1;
			break;
		case 'm':
			messages = 1;
			break;
		case 'p':
			mo.pcap = optarg;
			break;
		case 'c':
			if (parse_number("trace", "--count", optarg, 1, ~0ul, &mo.count))
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
	if (!messages && (mo.pcap || mo.count)) {
		fprintf(stderr, "rpk trace: --pcap and --count go with --messages\n");
		return 2;
	}
	if (messages && follow) {
		fprintf(stderr, "rpk trace: --messages always follows; --follow is for the log\n");
		return 2;
	}
	c = load_dt_operand("trace", argc, argv, mo.node, &lay, usage);
	if (c)
		return c;
	if (!rpk_layout_find(&lay, mo.node)) {
		fprintf(stderr, "rpk trace: %s has no link node named '%s'\n", argv[optind],
			mo.node);
		return 2;
	}
	install_stop_signals();
	if (messages)
		return trace_messages(&mo);
	return trace(&lay, mo.node, mo.instance, mo.group, follow);
}
