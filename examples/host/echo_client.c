// SPDX-License-Identifier: BSD-3-Clause
/*
 * An application on rpmsg-kit's host API, as a user writes one: it runs the
 * master side of a link, binds the remote's echo service by name, sends
 * messages with timeouts and checks that each comes back. When the remote
 * crashes or reboots, the link resets: the application waits for the remote
 * to announce its service again and goes on where it was. Ctrl-C stops it
 * at once.
 *
 *     echo_client LINK.dts [--node NAME] [--instance ID] [--service NAME] [--count N]
 *
 * Against `rpk run LINK.dts --node remote`, which echoes on the services the
 * devicetree names. Built against the installed library: with pkg-config
 * (cc echo_client.c $(pkg-config --cflags --libs rpmsg-kit)) or with CMake
 * (find_package(rpmsg-kit), examples/host/CMakeLists.txt).
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep, with -std=c11 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rpk/errno.h>
#include <rpk/layout.h>
#include <rpk/node.h>
#include <rpk/rpmsg.h>
#include <rpk/version.h>

#define START_MS   10000u /* for the remote's table */
#define BIND_MS	   10000u /* for its service, after a start or a reset */
#define SEND_MS	   1000u
#define REPLY_MS   2000u
#define MAX_RESETS 10 /* resets a run lives through before giving up */

static struct rpk_node *volatile the_node;

static void on_signal(int sig)
{
	(void)sig;
	if (the_node)
		rpk_node_interrupt(the_node); /* async-signal-safe */
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Wait until the endpoint is bound to the remote's service (it binds when the
 * remote announces it: at start, and again after each reset). */
static int wait_bound(struct rpk_node *n, struct rpk_inbox *in)
{
	for (unsigned ms = 0; ms < BIND_MS; ms += 10) {
		if (rpk_ept_get_dst(rpk_inbox_ept(in)) != RPK_ADDR_ANY)
			return 0;
		if (rpk_node_interrupted(n))
			return -RPK_EINTR;
		sleep_ms(10);
	}
	return -RPK_ETIMEDOUT;
}

/* Message i: its number, then a pattern; sizes walk from 4 to the payload. */
static size_t make_msg(char *buf, unsigned i, size_t max)
{
	size_t len = 4 + (i * 37u) % (max - 4);

	memcpy(buf, &i, 4);
	for (size_t k = 4; k < len; k++)
		buf[k] = (char)(i * 131u + k);
	return len;
}

/* One message out and its echo back: 0, or the error that stopped it. */
static int round_trip(struct rpk_inbox *in, unsigned i, size_t max)
{
	char out[RPK_RPMSG_MAX_PAYLOAD], back[RPK_RPMSG_MAX_PAYLOAD];
	size_t len = make_msg(out, i, max);
	int rc = rpk_send(rpk_inbox_ept(in), out, len, SEND_MS);

	if (rc)
		return rc;
	do
		rc = rpk_inbox_recv(in, back, sizeof(back), NULL, REPLY_MS);
	while (rc >= 0 && ((size_t)rc < 4 || memcmp(back, out, 4))); /* an older echo */
	if (rc < 0)
		return rc;
	if ((size_t)rc != len || memcmp(back, out, len)) {
		fprintf(stderr, "echo_client: echo %u came back corrupted\n", i);
		return -RPK_EBADMSG;
	}
	return 0;
}

static int run(struct rpk_node *n, const char *service, unsigned count)
{
	struct rpk_inbox *in;
	unsigned resets = 0, i = 0;
	int rc = rpk_inbox_open(n, &in, service, RPK_ADDR_ANY, RPK_ADDR_ANY);

	if (rc) {
		fprintf(stderr, "echo_client: cannot open an endpoint: %s\n", rpk_strerror(rc));
		return 1;
	}
	rc = wait_bound(n, in);
	while (!rc && i < count) {
		rc = round_trip(in, i, rpk_max_payload(rpk_node_dev(n)));
		if (!rc) {
			i++;
			continue;
		}
		/* The link went down under us (the remote crashed or rebooted):
		 * wait for its service again and send message i again. */
		if ((rc == -RPK_ECONNRESET || rc == -RPK_ENOTCONN || rc == -RPK_EPIPE ||
		     rc == -RPK_ETIMEDOUT) &&
		    ++resets <= MAX_RESETS) {
			printf("echo_client: the link reset at message %u (%s): waiting for %s\n",
			       i, rpk_strerror(rc), service);
			sleep_ms(100);
			rc = wait_bound(n, in);
		}
	}
	rpk_inbox_close(in);
	if (rc) {
		fprintf(stderr, "echo_client: stopped at message %u: %s\n", i, rpk_strerror(rc));
		return rc == -RPK_EINTR ? 130 : 1;
	}
	printf("echo_client: %u/%u echoes intact (%u resets lived through)\n", i, count, resets);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: echo_client LINK.dts [--node NAME] [--instance ID] "
			"[--service NAME] [--count N]\n");
}

int main(int argc, char **argv)
{
	struct rpk_node_opts opts = {.instance = "default", .threaded = 1};
	const char *node = "master", *service = "rpk-echo", *dt = NULL;
	struct rpk_layout *lay = malloc(sizeof(*lay));
	unsigned count = 100;
	struct rpk_node *n;
	char err[1024];
	int rc;

	for (int a = 1; a < argc; a++) {
		if (a + 1 < argc && !strcmp(argv[a], "--node"))
			node = argv[++a];
		else if (a + 1 < argc && !strcmp(argv[a], "--instance"))
			opts.instance = argv[++a];
		else if (a + 1 < argc && !strcmp(argv[a], "--service"))
			service = argv[++a];
		else if (a + 1 < argc && !strcmp(argv[a], "--count"))
			count = (unsigned)strtoul(argv[++a], NULL, 0);
		else if (!dt && argv[a][0] != '-')
			dt = argv[a];
		else {
			usage();
			return 2;
		}
	}
	if (!dt || !lay || !count) {
		usage();
		return 2;
	}
	printf("echo_client: rpmsg-kit %s (built against %s)\n", rpk_version(), RPK_VERSION);
	rc = rpk_layout_load(dt, lay, err, sizeof(err));
	if (!rc)
		rc = rpk_node_open(&n, lay, node, &opts, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "%s", err);
		free(lay);
		return 1;
	}
	the_node = n;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = rpk_node_start(n, START_MS, err, sizeof(err));
	if (rc)
		fprintf(stderr, "%s", err);
	else
		rc = run(n, service, count);
	the_node = NULL;
	rpk_node_close(n);
	free(lay);
	return rc == -RPK_EINTR ? 130 : rc < 0 ? 1 : rc;
}
