/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk stat: a running node's counters (messages, kicks, link events, and
 * every class of peer misbehaviour it caught), from the page it keeps in
 * shared memory.
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpk/errno.h>

#include <rpk/node.h>
#include <rpk/observe.h>

#include "rpk_tool.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: rpk stat FILE.dts|FILE.dtb --node NAME [--instance ID]\n"
		   "                [--group NAME] [--dir DIR]\n\n"
		   "Print a running node's counters: messages and kicks each way, link\n"
		   "events, and what it rejected from its peer, by class; and, if rpk up\n"
		   "serves it, each endpoint device's.\n\n"
		   "options:\n"
		   "  --node NAME       the node (required)\n"
		   "  --instance ID     shared-memory namespace (default: default)\n"
		   "  --group NAME      the link is shared with this group (docs/access.md)\n"
		   "  --dir DIR         rpk up's directory for the node, if not the default\n"
		   "  -h, --help        this text\n");
}

static void print_vq(const char *name, const struct rpk_vq_stats *v)
{
	printf("  %s  index jumps %u, bad heads %u, bad descriptors %u, addresses outside "
	       "%u, lengths too large %u\n",
	       name, v->bad_idx, v->bad_head, v->bad_desc, v->bad_addr, v->bad_len);
}

static void print_page(const struct rpk_node_stats_page *p, const char *path, const char *instance,
		       const char *whose)
{
	const struct rpk_rpmsg_stats *s = &p->rpmsg;

	printf("%s (instance %s): %s, pid %u%s\n", path, instance,
	       rpk_node_state_name((enum rpk_node_state)p->state), p->pid, whose);
	printf("  messages sent %llu, received %llu\n", (unsigned long long)s->tx_msgs,
	       (unsigned long long)s->rx_msgs);
	printf("  kicks    rung %llu (for sends %llu, for returned buffers %llu), woken %llu "
	       "times\n",
	       (unsigned long long)(s->tx_kicks + s->rx_kicks), (unsigned long long)s->tx_kicks,
	       (unsigned long long)s->rx_kicks, (unsigned long long)p->rx_wakeups);
	printf("  link     attaches %u, crashes %u, broken by the peer %u, resets %u, sent but "
	       "lost in a reset %u\n",
	       p->attaches, p->crashes, p->broken, s->resets, s->tx_lost);
	printf("  resets   of a live link %u, requested (DEVICE_NEEDS_RESET) %u, buffers taken "
	       "back %u\n",
	       p->link_resets, p->reset_asks, s->bufs_recovered);
	printf("  late     messages found by the watchdog %llu, sends that found a buffer late "
	       "%u\n",
	       (unsigned long long)p->late_wakeups, s->tx_late);
	printf("  repaired ring flags %u, our doorbell's signature %u; the peer %s\n",
	       s->flags_fixed, p->bell_fixed,
	       p->peer_signed ? "signs its doorbell"
			      : "does not sign its doorbell (liveness unknown)");
	if (p->chaos)
		printf("  chaos    corruptions written %u\n", p->chaos);
	printf("  dropped  no endpoint %u, bad length %u, bad receive buffer %u, bad transmit "
	       "buffer %u\n",
	       s->rx_no_ept, s->rx_bad_len, s->rx_bad_buf, s->tx_bad_buf);
	printf("  names    malformed %u, table full %u, announcements lost %u\n", s->ns_bad,
	       s->ns_table_full, s->ns_lost);
	print_vq("vring0", &p->vq[0]);
	print_vq("vring1", &p->vq[1]);
}

/* One "name: value" line of a device's stats file (0 if missing). */
static unsigned long long stat_value(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, klen) && l[klen] == ':')
			return strtoull(l + klen + 1, NULL, 0);
	return 0;
}

/* The endpoint devices rpk up serves for this node (its stats/ files). */
static void print_devices(const char *dir, const char *instance, const char *node)
{
	char base[4096], path[4200], file[4600], text[1024];
	struct dirent **names;
	int count;

	if (dir)
		snprintf(base, sizeof(base), "%s", dir);
	else
		service_dir(base, sizeof(base), instance, node);
	snprintf(path, sizeof(path), "%s/stats", base);
	count = scandir(path, &names, NULL, alphasort);
	if (count < 0)
		return;
	printf("  devices  (%s)\n", path);
	for (int i = 0; i < count; i++) {
		FILE *f;
		size_t n;

		snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name);
		if (names[i]->d_name[0] == '.' || !strcmp(names[i]->d_name, "link") ||
		    !(f = fopen(file, "r"))) {
			free(names[i]);
			continue;
		}
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = 0;
		printf(
		    "    %-12s src 0x%llx dst 0x%llx: rx %llu msgs %llu bytes, tx %llu msgs %llu "
		    "bytes, %llu dropped, %llu errors\n",
		    names[i]->d_name, stat_value(text, "src"), stat_value(text, "dst"),
		    stat_value(text, "rx_msgs"), stat_value(text, "rx_bytes"),
		    stat_value(text, "tx_msgs"), stat_value(text, "tx_bytes"),
		    stat_value(text, "drops"), stat_value(text, "errors"));
		free(names[i]);
	}
	free(names);
}

/* The page says who wrote it; a process that does not map the page did not
 * (a killed node's page stays behind, and anyone who can write the page can
 * write a pid). */
static const char *whose(uint32_t pid, const char *page)
{
	int alive, maps = rpk_observe_pid(pid, page, &alive);

	if (maps == 1)
		return "";
	if (!alive)
		return " (gone: its last counters)";
	return maps ? " (cannot tell whether it keeps this page)"
		    : " (does not map this page: not its counters)";
}

int cmd_stat(int argc, char **argv)
{
	static struct rpk_layout lay;
	const struct rpk_layout_node *ln;
	struct rpk_node_stats_page page;
	const char *node, *instance, *group, *dir;
	char name[200], why[1024], path[RPK_ESC_SIZE(RPK_LAYOUT_PATH)];
	int c = parse_node_command("stat", argc, argv, usage, &lay, &node, &instance, &group, &dir);

	if (c >= 0)
		return c;
	ln = rpk_layout_find(&lay, node);
	if (!ln) {
		fprintf(stderr, "rpk stat: the devicetree has no link node '%s'\n", node);
		return 1;
	}
	rpk_esc_name(path, sizeof(path), ln->path, sizeof(ln->path));
	rpk_node_stats_name(name, sizeof(name), instance, ln->name);
	c = rpk_node_read_stats_group(instance, ln->name, group, &page, why, sizeof(why));
	if (c == -RPK_ENOENT) {
		fprintf(stderr, "rpk stat: %s is not running in instance '%s' (no %s)\n", path,
			instance, name);
		return 1;
	}
	if (c) {
		fprintf(stderr, "rpk stat: ");
		rpk_print_escaped(stderr, why);
		fprintf(stderr, "\n");
		return 1;
	}
	print_page(&page, path, instance, whose(page.pid, name));
	print_devices(dir, instance, ln->name);
	return 0;
}
