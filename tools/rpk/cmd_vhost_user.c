/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk vhost-user: a remote node served over vhost-user, so that a Linux
 * guest's own virtio_rpmsg_bus is the master. The node's rpk,services are
 * announced and echo what they receive.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpk/errno.h>

#include "rpk_tool.h"
#include "tty/pty_bridge.h"
#include "vhost-user/vhost_user.h"

#define QUIET_ADDR 0x500u /* --control: an echo that announces nothing */

#define TTY_SERVICE "rpmsg-tty" /* Linux's rpmsg_tty binds to it */

struct app {
	const struct rpk_layout_node *ln;
	int control;
	const char *dir; /* --dir: rpmsg-tty services become ptys linked here */
	struct pty_bridge tty[RPK_LAYOUT_MAX_SERVICES];
	int is_tty[RPK_LAYOUT_MAX_SERVICES];
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
		if (a->is_tty[i]) {
			a->alive[i] =
			    rpk_ept_create(dev, &a->services[i], a->ln->services[i], RPK_ADDR_ANY,
					   RPK_ADDR_ANY, pty_bridge_rx, &a->tty[i]) == 0;
			if (a->alive[i])
				pty_bridge_bind(&a->tty[i], &a->services[i], RPK_ADDR_ANY);
		} else {
			a->alive[i] = rpk_ept_create(dev, &a->services[i], a->ln->services[i],
						     RPK_ADDR_ANY, RPK_ADDR_ANY, echo, a) == 0;
		}
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
	for (int i = 0; i < a->ln->num_services; i++)
		if (a->is_tty[i])
			pty_bridge_unbind(&a->tty[i]);
	printf("vhost-user: guest stopped the device\n");
	fflush(stdout);
}

/* The ptys, waited on in the serving loop (rpk_vhu_ops.poll_fds). */
static int tty_fds(struct pollfd *p, int max, void *arg)
{
	struct app *a = arg;
	int n = 0;

	for (int i = 0; i < a->ln->num_services && n < max; i++)
		if (a->is_tty[i])
			pty_bridge_pollfd(&a->tty[i], &p[n++]);
	return n;
}

static void tty_pump(struct rpk_rpmsg *dev, const struct pollfd *p, int n, void *arg)
{
	struct app *a = arg;

	(void)dev, (void)p, (void)n;
	for (int i = 0; i < a->ln->num_services; i++)
		if (a->is_tty[i])
			pty_bridge_pump(&a->tty[i]);
}

/* Each rpmsg-tty service a pty, DIR/ttyRPMSG<k> as Linux numbers them. */
static int open_ttys(struct app *a)
{
	char link[PATH_MAX], err[PATH_MAX + 128];
	int k = 0;

	for (int i = 0; i < a->ln->num_services; i++) {
		if (strcmp(a->ln->services[i], TTY_SERVICE))
			continue;
		snprintf(link, sizeof(link), "%s/ttyRPMSG%d", a->dir, k++);
		if (pty_bridge_open(&a->tty[i], link, err, sizeof(err))) {
			fprintf(stderr, "rpk vhost-user: ");
			rpk_print_escaped(stderr, err);
			fprintf(stderr, "\n");
			return -1;
		}
		a->is_tty[i] = 1;
		printf("vhost-user: %s is %s\n", link, a->tty[i].slave_path);
	}
	return 0;
}

static void close_ttys(struct app *a)
{
	for (int i = 0; i < a->ln->num_services; i++)
		if (a->is_tty[i]) {
			printf("vhost-user: ttyRPMSG: %llu bytes to the guest, %llu from it, %llu "
			       "dropped\n",
			       (unsigned long long)a->tty[i].to_peer,
			       (unsigned long long)a->tty[i].to_pty,
			       (unsigned long long)a->tty[i].dropped);
			pty_bridge_close(&a->tty[i]);
		}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rpk vhost-user --socket PATH [--dt FILE] [--node NAME] [--dir DIR]\n"
		"                      [--once] [--control]\n\n"
		"Serve a remote node as a vhost-user rpmsg device (virtio id 7): a Linux guest's\n"
		"own RPMsg stack is the master. The node's rpk,services are announced and echo\n"
		"what they receive. Boot User-Mode Linux against it with\n"
		"  linux ... virtio_uml.device=PATH:7\n\n"
		"options:\n"
		"  --socket PATH  UNIX socket to listen on (required)\n"
		"  --dt FILE      devicetree with the node (default: %s)\n"
		"  --node NAME    remote node whose services to serve (default: remote)\n"
		"  --dir DIR      each \"rpmsg-tty\" service is a pty, linked as\n"
		"                 DIR/ttyRPMSG0, 1, ... (the other end of the guest's\n"
		"                 /dev/ttyRPMSGn) instead of an echo\n"
		"  --once         exit when the first guest disconnects\n"
		"  --control      add service \"rpk-control\" (\"destroy NAME\") and an\n"
		"                 unannounced echo at 0x%x, for tests\n"
		"  -h, --help     this text\n",
		RPK_DEFAULT_DT, QUIET_ADDR);
}

int cmd_vhost_user(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, 0, 's'}, {"dt", required_argument, 0, 'd'},
	    {"node", required_argument, 0, 'n'},   {"once", no_argument, 0, 'o'},
	    {"dir", required_argument, 0, 'D'},	   {"control", no_argument, 0, 'c'},
	    {"help", no_argument, 0, 'h'},	   {0, 0, 0, 0}};
	const char *sock = NULL, *dt = RPK_DEFAULT_DT, *node = "remote";
	static struct rpk_layout lay;
	static struct app a;
	struct rpk_vhu_ops ops = {link_up, link_down, &a, tty_fds, tty_pump};
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
		case 'D':
			a.dir = optarg;
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
	if (a.ln->static_link) {
		fprintf(stderr,
			"rpk vhost-user: node '%s' is a side of a static link (a \"link\" region, "
			"no resource table): Linux's rpmsg has no static links, its guest needs "
			"a \"rsc-table\"\n",
			node);
		return 2;
	}
	if (a.ln->buf_size != RPK_RPMSG_BUF_SIZE) {
		fprintf(
		    stderr,
		    "rpk vhost-user: node '%s' has rpk,buf-size %u, but the guest is Linux, whose "
		    "virtio_rpmsg_bus uses %u-byte buffers: larger buffers are for links between "
		    "rpmsg-kit peers\n",
		    node, a.ln->buf_size, RPK_RPMSG_BUF_SIZE);
		return 2;
	}
	if (a.dir && open_ttys(&a)) {
		close_ttys(&a);
		return 1;
	}
	if (rpk_vhu_listen(&v, sock, &ops, err, sizeof(err))) {
		rpk_print_escaped(stderr, err);
		close_ttys(&a);
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
	close_ttys(&a);
	if (rc)
		fprintf(stderr, "rpk vhost-user: %s\n", rpk_strerror(rc));
	return rc || a.failed ? 1 : 0;
}
