/* SPDX-License-Identifier: BSD-3-Clause */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <rpk/errno.h>

#include "twonode.h"

#define START_TIMEOUT_MS 20000u

/* How long a command may take; RPK_TEST_WAIT_MS shortens it for tests that
 * are expected to fail. */
static unsigned cmd_timeout_ms(void)
{
	const char *env = getenv("RPK_TEST_WAIT_MS");

	return env ? (unsigned)strtoul(env, NULL, 0) : 60000u;
}
#define CMD_TIMEOUT_MS cmd_timeout_ms()

static volatile sig_atomic_t poked;
static int note_wr = -1; /* child: write end of the note pipe */

static void on_usr1(int sig)
{
	(void)sig;
	poked = 1;
}

struct ctl_state {
	const struct remote_ops *ops;
	struct rpk_node *n;
	int quit;
};

static int ctl_cb(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct ctl_state *cs = priv;
	char cmd[RPK_RPMSG_MAX_PAYLOAD + 1], out[RPK_RPMSG_MAX_PAYLOAD] = "ok";

	memcpy(cmd, data, len);
	cmd[len] = 0;
	if (!strcmp(cmd, "quit"))
		cs->quit = 1;
	else if (cs->ops->command && cs->ops->command(cs->n, cmd, out, sizeof(out), cs->ops->arg))
		cs->quit = 1;
	rpk_sendto(ept, src, out, strlen(out), RPK_WAIT_FOREVER);
	return 0;
}

/* The child: a remote node run by this thread, until told to quit. */
static int remote_main(struct twonode *t, const struct remote_ops *ops)
{
	struct rpk_node_opts o = {
	    .instance = t->instance, .ns_bind = ops->ns_bind, .ns_priv = ops->arg};
	struct ctl_state cs = {.ops = ops};
	struct rpk_ept ctl;
	char err[1024];

	if (rpk_node_open(&cs.n, &t->lay, "remote", &o, err, sizeof(err))) {
		fprintf(stderr, "remote: %s", err);
		return 10;
	}
	if (rpk_ept_create(rpk_node_dev(cs.n), &ctl, NULL, CTL_ADDR, RPK_ADDR_ANY, ctl_cb, &cs))
		return 11;
	if (ops->setup)
		ops->setup(cs.n, ops->arg);
	if (rpk_node_start(cs.n, START_TIMEOUT_MS, err, sizeof(err))) {
		fprintf(stderr, "remote: %s", err);
		return 12;
	}
	while (!cs.quit) {
		if (rpk_node_run_once(cs.n, 1000) < 0) {
			fprintf(stderr, "remote: link broken\n");
			return 13;
		}
		if (poked) {
			poked = 0;
			if (ops->on_signal)
				ops->on_signal(cs.n, ops->arg);
		}
	}
	/* Let the master's last sends drain before the memory goes away. */
	rpk_node_run_once(cs.n, 0);
	rpk_node_close(cs.n);
	return 0;
}

void twonode_up(struct twonode *t, const char *dts, const struct remote_ops *ops,
		rpk_ns_bind_cb ns_bind, void *ns_priv)
{
	static unsigned seq;
	char path[512], err[4096];
	struct rpk_node_opts o = {.threaded = 1, .ns_bind = ns_bind, .ns_priv = ns_priv};

	memset(t, 0, sizeof(*t));
	snprintf(path, sizeof(path), "%s/integration/%s", RPK_TEST_DATA, dts);
	if (rpk_layout_load(path, &t->lay, err, sizeof(err)))
		fail_msg("%s", err);
	snprintf(t->instance, sizeof(t->instance), "itest-%d-%u", (int)getpid(), seq++);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	t->child = fork();
	assert_true(t->child >= 0);
	if (t->child == 0) {
		close(fds[0]);
		note_wr = fds[1];
		struct sigaction sa = {.sa_handler = on_usr1};
		int rc;

		/* If the test process dies, so does its remote (it holds ctest's pipe). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigaction(SIGUSR1, &sa, NULL); /* no SA_RESTART: the wait returns */
		rc = remote_main(t, ops);

		fflush(NULL);
		_exit(rc);
	}
	close(fds[1]);
	t->note_fd = fds[0];
	o.instance = t->instance;
	if (rpk_node_open(&t->master, &t->lay, "master", &o, err, sizeof(err)) ||
	    rpk_node_start(t->master, START_TIMEOUT_MS, err, sizeof(err)))
		fail_msg("master: %s", err);
	assert_int_equal(rpk_inbox_open(t->master, &t->ctl, NULL, RPK_ADDR_ANY, CTL_ADDR), 0);
}

const char *twonode_cmd(struct twonode *t, const char *fmt, ...)
{
	static char reply[RPK_RPMSG_MAX_PAYLOAD + 1];
	char cmd[RPK_RPMSG_MAX_PAYLOAD];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(rpk_send(rpk_inbox_ept(t->ctl), cmd, strlen(cmd), CMD_TIMEOUT_MS), 0);
	n = rpk_inbox_recv(t->ctl, reply, sizeof(reply) - 1, NULL, CMD_TIMEOUT_MS);
	if (n < 0)
		fail_msg("no reply to '%s': %s", cmd, rpk_strerror(n));
	reply[n] = 0;
	return reply;
}

static int wait_child(pid_t pid, unsigned timeout_ms)
{
	for (unsigned waited = 0;; waited += 10) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (waited >= timeout_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		usleep(10000);
	}
}

void twonode_note(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(note_wr, line, (size_t)n) != n)
		_exit(20);
}

const char *twonode_read_note(struct twonode *t, unsigned timeout_ms)
{
	static char line[256];
	struct pollfd p = {.fd = t->note_fd, .events = POLLIN};
	size_t used = 0;

	while (used < sizeof(line) - 1) {
		if (poll(&p, 1, (int)timeout_ms) != 1 || read(t->note_fd, line + used, 1) != 1)
			fail_msg("no note from the remote within %u ms", timeout_ms);
		if (line[used] == '\n')
			break;
		used++;
	}
	line[used] = 0;
	return line;
}

void twonode_signal(struct twonode *t)
{
	assert_int_equal(kill(t->child, SIGUSR1), 0);
}

void twonode_wait_stats(struct twonode *t, const char *node, twonode_stats_pred pred,
			const char *what, struct rpk_node_stats_page *out)
{
	struct timespec ts = {0, 2000000};

	for (unsigned waited = 0; waited < 20000; waited += 2) {
		if (rpk_node_read_stats(t->instance, node, out) == 0 && pred(out))
			return;
		nanosleep(&ts, NULL);
	}
	fail_msg("%s's counters never showed %s (state %s, broken %u, rx_bad_len %u, "
		 "rx_bad_buf %u, ns_bad %u)",
		 node, what, rpk_node_state_name((enum rpk_node_state)out->state), out->broken,
		 out->rpmsg.rx_bad_len, out->rpmsg.rx_bad_buf, out->rpmsg.ns_bad);
}

void *twonode_map(const struct twonode *t, int region, size_t *size)
{
	const struct rpk_region *r = &t->lay.regions[region];
	char name[200], path[260];
	void *va;
	int fd;

	rpk_node_shm_name(name, sizeof(name), t->instance, r);
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	va = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	assert_true(va != MAP_FAILED);
	if (size)
		*size = r->size;
	return va;
}

void twonode_down(struct twonode *t)
{
	assert_string_equal(twonode_cmd(t, "quit"), "ok");
	rpk_inbox_close(t->ctl);
	t->ctl = NULL;
	assert_int_equal(wait_child(t->child, CMD_TIMEOUT_MS), 0);
	t->child = 0;
	rpk_node_close(t->master);
	t->master = NULL;
	close(t->note_fd);
	rpk_node_unlink_all(&t->lay, t->instance);
}

void twonode_kill(struct twonode *t)
{
	if (t->child > 0) {
		kill(t->child, SIGKILL);
		waitpid(t->child, NULL, 0);
		t->child = 0;
	}
	if (t->instance[0])
		rpk_node_unlink_all(&t->lay, t->instance);
}
