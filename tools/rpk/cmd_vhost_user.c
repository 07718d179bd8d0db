/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk vhost-user: a remote node served over vhost-user, so that a Linux
 * guest's own virtio_rpmsg_bus is the master. The node's rpk,services are
 * announced and echo what they receive.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpk/errno.h>

#include "rpk_tool.h"
#include "vhost-user/vhost_user.h"

#define QUIET_ADDR 0x500u /* --control: an echo that announces nothing */

struct app {
	const struct rpk_layout_node *ln;
	int control;
	struct rpk_ept services[RPK_LAYOUT_MAX_SERVICES];
	int alive[RPK_LAYOUT_MAX_SERVICES];
	struct rpk_ept ctl, quiet;
	uint64_t echoed, failed;
};

static int echo(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct app *a = priv;

	if (rpk_sendto(ept, src, data, len, 2000) == 0)
		a->echoed++;
	else
		a->failed++;
	return 0;
}

/* "destroy NAME": the named service goes away (announced to the guest). */
static int control(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct app *a = priv;
	char cmd[64], reply[64] = "unknown command";

	snprintf(cmd, sizeof(cmd), "%.*s", (int)(len < 63 ? len : 63), (const char *)data);
	if (!strncmp(cmd, "destroy ", 8)) {
		snprintf(reply, sizeof(reply), "no service %.40s", cmd + 8);
		for (int i = 0; i < a->ln->num_services; i++)
			if (a->alive[i] && !strcmp(a->ln->services[i], cmd + 8)) {
				rpk_ept_destroy(&a->services[i]);
				a->alive[i] = 0;
				snprintf(reply, sizeof(reply), "destroyed %.40s", cmd + 8);
			}
	}
	rpk_sendto(ept, src, reply, strlen(reply), 2000);
	return 0;
}

static void link_up(struct rpk_rpmsg *dev, void *arg)
{
	struct app *a = arg;
	char name[RPK_ESC_SIZE(RPK_NAME_SIZE)];

	printf("vhost-user: guest driver ready; announcing");
	for (int i = 0; i < a->ln->num_services; i++) {
		a->alive[i] = rpk_ept_create(dev, &a->services[i], a->ln->services[i], RPK_ADDR_ANY,
					     RPK_ADDR_ANY, echo, a) == 0;
		printf(" \"%s\"",
		       rpk_esc_name(name, sizeof(name), a->ln->services[i], RPK_NAME_SIZE));
	}
	if (a->control) {
		rpk_ept_create(dev, &a->ctl, "rpk-control", RPK_ADDR_ANY, RPK_ADDR_ANY, control, a);
		rpk_ept_create(dev, &a->quiet, NULL, QUIET_ADDR, RPK_ADDR_ANY, echo, a);
		printf(" \"rpk-control\" (+ quiet echo at 0x%x)", QUIET_ADDR);
	}
	printf("\n");
	fflush(stdout);
}

static void link_down(struct rpk_rpmsg *dev, void *arg)
{
	struct app *a = arg;

	(void)dev;
	memset(a->alive, 0, sizeof(a->alive));
	printf("vhost-user: guest stopped the device\n");
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rpk vhost-user --socket PATH [--dt FILE] [--node NAME] [--once] "
		"[--control]\n\n"
		"Serve a remote node as a vhost-user rpmsg device (virtio id 7): a Linux guest's\n"
		"own RPMsg stack is the master. The node's rpk,services are announced and echo\n"
		"what they receive. Boot User-Mode Linux against it with\n"
		"  linux ... virtio_uml.device=PATH:7\n\n"
		"options:\n"
		"  --socket PATH  UNIX socket to listen on (required)\n"
		"  --dt FILE      devicetree with the node (default: %s)\n"
		"  --node NAME    remote node whose services to serve (default: remote)\n"
		"  --once         exit when the first guest disconnects\n"
		"  --control      add service \"rpk-control\" (\"destroy NAME\") and an\n"
		"                 unannounced echo at 0x%x, for tests\n"
		"  -h, --help     this text\n",
		RPK_DEFAULT_DT, QUIET_ADDR);
}

int cmd_vhost_user(int argc, char **argv)
{
	static const struct option opts[] = {{"socket", required_argument, 0, 's'},
					     {"dt", required_argument, 0, 'd'},
					     {"node", required_argument, 0, 'n'},
					     {"once", no_argument, 0, 'o'},
					     {"control", no_argument, 0, 'c'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	const char *sock = NULL, *dt = RPK_DEFAULT_DT, *node = "remote";
	static struct rpk_layout lay;
	static struct app a;
	struct rpk_vhu_ops ops = {link_up, link_down, &a};
	struct rpk_vhu_stats st;
	char fbuf[48];
	struct rpk_vhu *v;
	char err[512];
	int once = 0, c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 'd':
			dt = optarg;
			break;
		case 'n':
			node = optarg;
			break;
		case 'o':
			once = 1;
			break;
		case 'c':
			a.control = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!sock || optind != argc) {
		fprintf(stderr, "rpk vhost-user: need --socket PATH\n");
		usage(stderr);
		return 2;
	}
	if (load_layout(dt, &lay))
		return 1;
	a.ln = rpk_layout_find(&lay, node);
	if (!a.ln || a.ln->role != RPK_ROLE_REMOTE) {
		fprintf(stderr, "rpk vhost-user: %s has no remote node '%s'\n", dt, node);
		return 2;
	}
	if (rpk_vhu_listen(&v, sock, &ops, err, sizeof(err))) {
		rpk_print_escaped(stderr, err);
		return 1;
	}
	install_stop_signals();
	printf("vhost-user: listening on %s\n", sock);
	fflush(stdout);
	rc = rpk_vhu_run(v, &rpk_stop, once);
	rpk_vhu_stats(v, &st);
	printf("vhost-user: %llu requests, %u links (features 0x%x%s), %llu kicks in, %llu "
	       "interrupts out, %llu echoed, %llu failed\n",
	       (unsigned long long)st.requests, st.links, st.features,
	       rpk_features_text(fbuf, sizeof(fbuf), st.features), (unsigned long long)st.kicks_in,
	       (unsigned long long)st.calls_out, (unsigned long long)a.echoed,
	       (unsigned long long)a.failed);
	rpk_vhu_close(v);
	if (rc)
		fprintf(stderr, "rpk vhost-user: %s\n", rpk_strerror(rc));
	return rc || a.failed ? 1 : 0;
}
