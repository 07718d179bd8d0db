/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A remote that dies, reboots or is detached from: the master notices, tells
 * its users, starts the rings over and re-attaches, and no message of an old
 * session is delivered twice, late or corrupted.
 *
 * The crashing remote is the real `rpk run` echo remote, killed with SIGKILL
 * at random points in the middle of a burst (RPK_CRASH_CYCLES times, default
 * 100; RPK_CRASH_SEED fixes the random sequence). RPK_RECOVERY_DT names the
 * link's devicetree in tests/integration (default link16.dts; static16.dts
 * runs it all on a static link).
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <rpk/errno.h>

#include "twonode.h"

#define WINDOW	       8u /* messages in flight at most */
#define BIND_WAIT_MS   20000u
#define RECV_WAIT_MS   10000u
#define ECHO_SERVICE   "rpk-echo"
#define DEFAULT_CYCLES 100u

struct link {
	struct rpk_layout lay;
	char instance[64];
	char dts[512];
	struct rpk_node *master;
	struct rpk_inbox *echo;
	pid_t remote;
};

static unsigned env_u(const char *name, unsigned dflt)
{
	const char *v = getenv(name);

	return v && *v ? (unsigned)strtoul(v, NULL, 0) : dflt;
}

static const char *link_dts(void)
{
	const char *v = getenv("RPK_RECOVERY_DT");

	return v && *v ? v : "link16.dts";
}

/*
 * Remotes are forked by a helper process forked at start-up, while this
 * process has one thread: forking a process whose other threads hold locks
 * (the master's, libc's, or an emulator's such as qemu-user's, which runs
 * the big-endian build) may hang the child before it ever runs the remote.
 */
struct spawner_req {
	char op; /* 's': spawn, 'w': wait for pid */
	pid_t pid;
	char dts[512];
	char instance[64];
};

static int spawner_in = -1, spawner_out = -1;

static void spawner_serve(int in, int out)
{
	struct spawner_req r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	while (read(in, &r, sizeof(r)) == (ssize_t)sizeof(r)) {
		pid_t pid = -1;

		if (r.op == 's') {
			pid = fork();
			if (pid == 0) {
				int null = open("/dev/null", O_WRONLY);

				prctl(PR_SET_PDEATHSIG, SIGKILL);
				if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
					_exit(126);
				execl(RPK_BIN, "rpk", "run", r.dts, "--node", "remote",
				      "--instance", r.instance, "--timeout", "60000", (char *)NULL);
				_exit(127);
			}
		} else if (r.op == 'w') {
			pid = waitpid(r.pid, NULL, 0);
		}
		if (write(out, &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
			break;
	}
	_exit(0);
}

static void spawner_start(void)
{
	int req[2], rep[2];
	pid_t pid;

	if (pipe(req) || pipe(rep))
		abort();
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		close(req[1]);
		close(rep[0]);
		spawner_serve(req[0], rep[1]);
	}
	close(req[0]);
	close(rep[1]);
	spawner_in = req[1];
	spawner_out = rep[0];
}

static pid_t spawner_ask(struct spawner_req *r)
{
	pid_t pid = -1;

	assert_int_equal(write(spawner_in, r, sizeof(*r)), (ssize_t)sizeof(*r));
	assert_int_equal(read(spawner_out, &pid, sizeof(pid)), (ssize_t)sizeof(pid));
	return pid;
}

/* The real echo remote, as a user would run it. */
static pid_t spawn_remote(struct link *l)
{
	struct spawner_req r = {.op = 's'};
	pid_t pid;

	snprintf(r.dts, sizeof(r.dts), "%s", l->dts);
	snprintf(r.instance, sizeof(r.instance), "%s", l->instance);
	pid = spawner_ask(&r);
	assert_true(pid > 0);
	return pid;
}

/* Reap a remote that was killed (or is about to die). */
static void reap_remote(pid_t pid)
{
	struct spawner_req r = {.op = 'w', .pid = pid};

	spawner_ask(&r);
}

static void kill_remote(struct link *l)
{
	if (l->remote > 0) {
		kill(l->remote, SIGKILL);
		reap_remote(l->remote);
		l->remote = 0;
	}
}

static void link_up(struct link *l, int threaded)
{
	static unsigned seq;
	struct rpk_node_opts o = {.threaded = threaded};
	char err[4096];

	memset(l, 0, sizeof(*l));
	snprintf(l->dts, sizeof(l->dts), "%s/integration/%s", RPK_TEST_DATA, link_dts());
	if (rpk_layout_load(l->dts, &l->lay, err, sizeof(err)))
		fail_msg("%s", err);
	snprintf(l->instance, sizeof(l->instance), "recovery-%d-%u", (int)getpid(), seq++);
	l->remote = spawn_remote(l);
	o.instance = l->instance;
	if (rpk_node_open(&l->master, &l->lay, "master", &o, err, sizeof(err)) ||
	    rpk_node_start(l->master, BIND_WAIT_MS, err, sizeof(err)))
		fail_msg("master: %s", err);
	/* Bound by name: binds again each time the remote announces it. */
	assert_int_equal(
	    rpk_inbox_open(l->master, &l->echo, ECHO_SERVICE, RPK_ADDR_ANY, RPK_ADDR_ANY), 0);
}

static void link_down(struct link *l)
{
	kill_remote(l);
	rpk_inbox_close(l->echo);
	rpk_node_close(l->master);
	rpk_node_unlink_all(&l->lay, l->instance);
}

/* A process's state letter from /proc (R, S, Z...), or "gone". */
static const char *proc_state(pid_t pid)
{
	static char state[16];
	char path[64], line[256], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = pid > 0 ? fopen(path, "r") : NULL;
	if (!f)
		return "gone";
	p = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
	fclose(f);
	snprintf(state, sizeof(state), "state %c", p && p[1] && p[2] ? p[2] : '?');
	return state;
}

/* Wait until the link is up and the echo service bound (a bounded poll). */
static void wait_bound(struct link *l)
{
	struct timespec ts = {0, 1000000};

	for (unsigned ms = 0; ms < BIND_WAIT_MS; ms++) {
		if (rpk_node_state(l->master) == RPK_NODE_ATTACHED &&
		    rpk_ept_get_dst(rpk_inbox_ept(l->echo)) != RPK_ADDR_ANY)
			return;
		nanosleep(&ts, NULL);
	}
	struct rpk_rpmsg_stats s;

	rpk_rpmsg_get_stats(rpk_node_dev(l->master), &s, NULL);
	/* Whether the remote process still runs tells a remote that never
	 * came up from a master that never saw it. */
	fail_msg("echo service not bound within %u ms (remote %d %s; state %s; master received "
		 "%llu, sent %llu, no endpoint %u, bad length %u, bad buffer %u, names bad "
		 "%u/full %u/lost %u, resets %u)",
		 BIND_WAIT_MS, (int)l->remote, proc_state(l->remote),
		 rpk_node_state_name(rpk_node_state(l->master)), (unsigned long long)s.rx_msgs,
		 (unsigned long long)s.tx_msgs, s.rx_no_ept, s.rx_bad_len, s.rx_bad_buf, s.ns_bad,
		 s.ns_table_full, s.ns_lost, s.resets);
}

/* ---- messages that tell their session, sequence and integrity ---- */

struct msg_hdr {
	uint32_t cycle, seq, len;
};

static size_t make_msg(uint8_t *buf, uint32_t cycle, uint32_t seq)
{
	struct msg_hdr h = {cycle, seq, (uint32_t)(sizeof(h) + (seq * 53u) % 300u)};

	memcpy(buf, &h, sizeof(h));
	for (uint32_t k = sizeof(h); k < h.len; k++)
		buf[k] = (uint8_t)(seq * 7u + k * 13u + cycle);
	return h.len;
}

struct tally {
	uint32_t cycle;
	uint32_t next_seq; /* sends that returned 0 */
	int64_t last_echo; /* highest sequence echoed, -1 none */
	uint32_t echoed;
};

/* Check one echo: this session's, in order, once, intact. */
static void check_echo(struct tally *t, const uint8_t *buf, int len)
{
	uint8_t want[RPK_RPMSG_MAX_PAYLOAD];
	struct msg_hdr h;

	assert_true(len >= (int)sizeof(h));
	memcpy(&h, buf, sizeof(h));
	if (h.cycle != t->cycle)
		fail_msg("cycle %u: an echo of cycle %u arrived", t->cycle, h.cycle);
	if ((int64_t)h.seq <= t->last_echo)
		fail_msg("cycle %u: echo %u after %lld: duplicated or reordered", t->cycle, h.seq,
			 (long long)t->last_echo);
	if (h.seq >= t->next_seq)
		fail_msg("cycle %u: echo %u of a message never reported sent", t->cycle, h.seq);
	assert_int_equal((size_t)len, make_msg(want, h.cycle, h.seq));
	assert_memory_equal(buf, want, (size_t)len);
	t->last_echo = h.seq;
	t->echoed++;
}

/*
 * The crash: the remote is killed from another thread once `after` echoes
 * came back, delay_us later (the point in a message's way it dies at).
 * Counted in echoes, not time: a slow machine moves the point, not the
 * traffic before it.
 */
struct killer {
	struct link *l;
	uint32_t after;
	unsigned delay_us;
	pthread_t th;
	int started;
};

static void *kill_later(void *arg)
{
	struct killer *k = arg;
	struct timespec ts = {0, (long)k->delay_us * 1000L};

	nanosleep(&ts, NULL); /* only picks the point of the crash */
	kill(k->l->remote, SIGKILL);
	return NULL;
}

static void start_killer(struct killer *k, const struct tally *t)
{
	if (k && !k->started && t->echoed >= k->after) {
		assert_int_equal(pthread_create(&k->th, NULL, kill_later, k), 0);
		k->started = 1;
	}
}

/*
 * Keep WINDOW messages in flight until the link fails (or count are echoed,
 * if count is non-zero), starting the killer k (if any) on its count.
 * Returns 0 if it ended on count, else the error.
 */
static int burst(struct link *l, struct tally *t, uint32_t count, struct killer *k)
{
	uint8_t out[RPK_RPMSG_MAX_PAYLOAD], in[RPK_RPMSG_MAX_PAYLOAD];

	for (;;) {
		int rc;

		start_killer(k, t);
		if (count && t->echoed >= count)
			return 0;
		if (t->next_seq - t->echoed < WINDOW && (!count || t->next_seq < count)) {
			size_t len = make_msg(out, t->cycle, t->next_seq);

			rc = rpk_send(rpk_inbox_ept(l->echo), out, len, RECV_WAIT_MS);
			if (rc)
				return rc;
			t->next_seq++;
			continue;
		}
		rc = rpk_inbox_recv(l->echo, in, sizeof(in), NULL, RECV_WAIT_MS);
		if (rc < 0)
			return rc;
		check_echo(t, in, rc);
	}
}

/* Echoes that were received before the reset may still be queued; then the
 * reset's notice (-RPK_ECONNRESET), once. */
static void drain(struct link *l, struct tally *t)
{
	uint8_t in[RPK_RPMSG_MAX_PAYLOAD];
	int rc;

	while ((rc = rpk_inbox_recv(l->echo, in, sizeof(in), NULL, 0)) >= 0)
		check_echo(t, in, rc);
}

struct totals {
	uint64_t sent, echoed, lost_max;
};

/*
 * A cycle's end, looked at once the next session is bound: only then did the
 * master's reset surely run (a send may fail on the link going down before
 * the reset delivers what the dead remote published and tells the inbox).
 */
static void settle(struct link *l, struct tally *t, uint32_t killed_after, struct totals *tot)
{
	drain(l, t);
	/* What the link accepted came back, but what was in flight. */
	assert_true(t->next_seq - t->echoed <= WINDOW);
	printf("cycle %u: killed after %u echoes, %u sent, %u echoed\n", t->cycle, killed_after,
	       t->next_seq, t->echoed);
	tot->sent += t->next_seq;
	tot->echoed += t->echoed;
	if (t->next_seq - t->echoed > tot->lost_max)
		tot->lost_max = t->next_seq - t->echoed;
}

static void test_crash_cycles(void **state)
{
	unsigned cycles = env_u("RPK_CRASH_CYCLES", DEFAULT_CYCLES);
	unsigned seed = env_u("RPK_CRASH_SEED", (unsigned)time(NULL));
	struct rpk_node_counts c;
	struct totals tot = {0};
	uint64_t before_kills = 0;
	struct tally prev = {0};
	uint32_t prev_after = 0;
	struct link l;

	(void)state;
	/* Unbuffered: a run killed by its timeout still shows how far it got. */
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("crash cycles: %u, seed %u\n", cycles, seed);
	srand(seed);
	link_up(&l, 1);
	for (uint32_t cycle = 0; cycle < cycles; cycle++) {
		struct tally t = {.cycle = cycle, .last_echo = -1};
		struct killer k = {&l, (uint32_t)rand() % 64u, (unsigned)rand() % 2000u};
		int rc;

		wait_bound(&l);
		if (cycle)
			settle(&l, &prev, prev_after, &tot);
		rc = burst(&l, &t, 0, &k);
		/* Only the kill ends the traffic. */
		if (!k.started)
			fail_msg("cycle %u: traffic ended with %s before the kill", cycle,
				 rpk_strerror(rc));
		pthread_join(k.th, NULL);
		before_kills += k.after;
		reap_remote(l.remote);
		l.remote = 0;
		/* A dead peer costs an error, never a hang. */
		if (rc != -RPK_EPIPE && rc != -RPK_ENOTCONN && rc != -RPK_ECONNRESET)
			fail_msg("cycle %u: traffic ended with %s", cycle, rpk_strerror(rc));
		prev = t;
		prev_after = k.after;
		l.remote = spawn_remote(&l);
	}
	/* After the last reboot, traffic flows in full. */
	{
		struct tally t = {.cycle = cycles, .last_echo = -1};

		wait_bound(&l);
		if (cycles)
			settle(&l, &prev, prev_after, &tot);
		assert_int_equal(burst(&l, &t, 1000, NULL), 0);
		assert_int_equal(t.echoed, 1000);
	}
	rpk_node_counts(l.master, &c);
	printf("crash cycles: %u crashes seen, %u attaches, %llu sent, %llu echoed, at most %llu "
	       "lost in a crash, %u reported lost by the master\n",
	       c.crashes, c.attaches, (unsigned long long)tot.sent, (unsigned long long)tot.echoed,
	       (unsigned long long)tot.lost_max, c.tx_lost);
	assert_int_equal(c.crashes, cycles);
	assert_int_equal(c.attaches, cycles + 1);
	/* Everything echoed before each kill was seen. */
	assert_true(tot.echoed >= before_kills);
	link_down(&l);
}

struct blocked {
	struct link *l;
	int rc;
};

static void *send_forever(void *arg)
{
	struct blocked *b = arg;

	b->rc = rpk_send(rpk_inbox_ept(b->l->echo), "stuck", 5, RPK_WAIT_FOREVER);
	return NULL;
}

/* A sender blocked on a full ring when the remote dies returns an error. */
static void test_blocked_sender_fails_on_crash(void **state)
{
	struct blocked b = {.rc = 1};
	struct link l;
	pthread_t th;
	int rc, n = 0;

	(void)state;
	link_up(&l, 1);
	wait_bound(&l);
	b.l = &l;
	assert_int_equal(kill(l.remote, SIGSTOP), 0); /* it consumes nothing more */
	while ((rc = rpk_trysend(rpk_inbox_ept(l.echo), "fill", 4)) == 0)
		n++;
	assert_int_equal(rc, -RPK_EAGAIN);
	assert_true(n > 0);
	assert_int_equal(pthread_create(&th, NULL, send_forever, &b), 0);
	kill_remote(&l);
	pthread_join(th, NULL);
	assert_int_equal(b.rc, -RPK_EPIPE);
	assert_int_equal(rpk_node_state(l.master), RPK_NODE_CRASHED);
	/* The reader learns it once, then waits normally again. */
	uint8_t in[RPK_RPMSG_MAX_PAYLOAD];
	assert_int_equal(rpk_inbox_recv(l.echo, in, sizeof(in), NULL, RECV_WAIT_MS),
			 -RPK_ECONNRESET);
	assert_int_equal(rpk_inbox_recv(l.echo, in, sizeof(in), NULL, 0), -RPK_ETIMEDOUT);
	assert_int_equal(rpk_send(rpk_inbox_ept(l.echo), "x", 1, RPK_NO_WAIT), -RPK_ENOTCONN);

	/* Recovery: the rings start over; all 16 buffers are there again. */
	l.remote = spawn_remote(&l);
	wait_bound(&l);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(rpk_send(rpk_inbox_ept(l.echo), "again", 5, RECV_WAIT_MS), 0);
		assert_int_equal(rpk_inbox_recv(l.echo, in, sizeof(in), NULL, RECV_WAIT_MS), 5);
		assert_memory_equal(in, "again", 5);
	}
	link_down(&l);
}

/* Wait until the master has handed count more messages to endpoints than
 * base (a bounded poll): they wait in the inbox, unread. */
static void wait_received(struct link *l, uint64_t base, unsigned count)
{
	struct timespec ts = {0, 1000000};
	struct rpk_rpmsg_stats s;

	for (unsigned ms = 0; ms < RECV_WAIT_MS; ms++) {
		rpk_rpmsg_get_stats(rpk_node_dev(l->master), &s, NULL);
		if (s.rx_msgs >= base + count)
			return;
		nanosleep(&ts, NULL);
	}
	fail_msg("%u echoes not received within %u ms (%llu of %llu)", count, RECV_WAIT_MS,
		 (unsigned long long)(s.rx_msgs - base), (unsigned long long)base);
}

/* Wait until the master has seen the remote die (a bounded poll). */
static void wait_crashed(struct link *l)
{
	struct timespec ts = {0, 1000000};

	for (unsigned ms = 0; ms < BIND_WAIT_MS; ms++) {
		if (rpk_node_state(l->master) == RPK_NODE_CRASHED)
			return;
		nanosleep(&ts, NULL);
	}
	fail_msg("the remote's death not seen within %u ms", BIND_WAIT_MS);
}

static uint64_t received(struct link *l)
{
	struct rpk_rpmsg_stats s;

	rpk_rpmsg_get_stats(rpk_node_dev(l->master), &s, NULL);
	return s.rx_msgs;
}

static void send_tagged(struct link *l, const char *tag, int count)
{
	char msg[32];

	for (int i = 0; i < count; i++) {
		int len = snprintf(msg, sizeof(msg), "%s %d", tag, i);

		assert_int_equal(rpk_send(rpk_inbox_ept(l->echo), msg, (size_t)len, RECV_WAIT_MS),
				 0);
	}
}

static void expect_tagged(struct link *l, const char *tag, int count)
{
	char msg[32], in[RPK_RPMSG_MAX_PAYLOAD];

	for (int i = 0; i < count; i++) {
		int len = snprintf(msg, sizeof(msg), "%s %d", tag, i);

		assert_int_equal(rpk_inbox_recv(l->echo, in, sizeof(in), NULL, RECV_WAIT_MS), len);
		assert_memory_equal(in, msg, (size_t)len);
	}
}

/*
 * Echoes still queued in the inbox when the remote dies. Where the master
 * receives in buffers of its own (a remoteproc-style link) they survive the
 * reset and are read intact; where it receives in the remote's (a
 * symmetric link), they are dropped: the rebooted remote writes over those
 * buffers (its announcement, its next echoes), and a queued echo must never
 * be read with another's bytes. Then the new session's echoes, then the
 * reset's notice.
 */
static void test_queued_echoes_across_reboot(void **state)
{
	struct link l;
	uint8_t in[RPK_RPMSG_MAX_PAYLOAD];
	int keeps;

	(void)state;
	link_up(&l, 1);
	wait_bound(&l);
	keeps = rpk_node_dev(l.master)->rvq->role == RPK_VQ_DRIVER;
	{
		uint64_t base = received(&l);

		send_tagged(&l, "before", 8);
		wait_received(&l, base, 8);
	}
	kill_remote(&l);
	wait_crashed(&l); /* else the first sends go to the address of the old session */
	l.remote = spawn_remote(&l);
	wait_bound(&l);
	{
		uint64_t base = received(&l);

		send_tagged(&l, "after", 8);
		wait_received(&l, base, 8);
	}
	if (keeps)
		expect_tagged(&l, "before", 8);
	expect_tagged(&l, "after", 8);
	assert_int_equal(rpk_inbox_recv(l.echo, in, sizeof(in), NULL, RECV_WAIT_MS),
			 -RPK_ECONNRESET);
	assert_int_equal(rpk_inbox_recv(l.echo, in, sizeof(in), NULL, 0), -RPK_ETIMEDOUT);
	link_down(&l);
}

/* ---- detach and attach again, the remote running all along ---- */

struct svc_state {
	struct rpk_ept ept;
};

static int echo_cb(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	rpk_sendto(ept, src, data, len, 1000);
	return 0;
}

static void svc_setup(struct rpk_node *n, void *arg)
{
	struct svc_state *s = arg;

	assert_int_equal(
	    rpk_ept_create(rpk_node_dev(n), &s->ept, "svc", RPK_ADDR_ANY, RPK_ADDR_ANY, echo_cb, s),
	    0);
}

static int svc_command(struct rpk_node *n, const char *cmd, char *out, size_t outlen, void *arg)
{
	struct svc_state *s = arg;
	struct rpk_node_counts c;

	if (!strcmp(cmd, "info")) {
		rpk_node_counts(n, &c);
		snprintf(out, outlen, "addr=%u attaches=%u state=%s", s->ept.addr, c.attaches,
			 rpk_node_state_name(rpk_node_state(n)));
	}
	return 0;
}

struct bound_to {
	pthread_mutex_t mu;
	uint32_t addr, announcements;
};

static void on_announce(struct rpk_rpmsg *dev, const char *name, uint32_t addr, void *priv)
{
	struct bound_to *b = priv;

	(void)dev;
	if (strcmp(name, "svc"))
		return;
	pthread_mutex_lock(&b->mu);
	b->addr = addr;
	b->announcements++;
	pthread_mutex_unlock(&b->mu);
}

static uint32_t announcements(struct bound_to *b)
{
	uint32_t n;

	pthread_mutex_lock(&b->mu);
	n = b->announcements;
	pthread_mutex_unlock(&b->mu);
	return n;
}

/* Wait for the n-th announcement of "svc"; say what the master saw if none. */
static void wait_announcements(struct bound_to *b, struct rpk_node *master, uint32_t n)
{
	struct rpk_rpmsg_stats s;

	for (unsigned ms = 0; ms < BIND_WAIT_MS && announcements(b) < n; ms++)
		usleep(1000);
	if (announcements(b) >= n)
		return;
	rpk_rpmsg_get_stats(rpk_node_dev(master), &s, NULL);
	fail_msg("announcement %u of svc not seen within %u ms (state %s; master received %llu, "
		 "sent %llu, no endpoint %u, names bad %u/full %u/lost %u, resets %u)",
		 n, BIND_WAIT_MS, rpk_node_state_name(rpk_node_state(master)),
		 (unsigned long long)s.rx_msgs, (unsigned long long)s.tx_msgs, s.rx_no_ept,
		 s.ns_bad, s.ns_table_full, s.ns_lost, s.resets);
}

static void echo_some(struct rpk_inbox *h, int count)
{
	char out[32], in[RPK_RPMSG_MAX_PAYLOAD];

	for (int i = 0; i < count; i++) {
		int len = snprintf(out, sizeof(out), "message %d", i);

		assert_int_equal(rpk_send(rpk_inbox_ept(h), out, (size_t)len, RECV_WAIT_MS), 0);
		assert_int_equal(rpk_inbox_recv(h, in, sizeof(in), NULL, RECV_WAIT_MS), len);
		assert_memory_equal(in, out, (size_t)len);
	}
}

static int remote_was_reset(const struct rpk_node_stats_page *p)
{
	return p->rpmsg.resets >= 1;
}

static void test_detach_and_reattach(void **state)
{
	struct svc_state svc = {0};
	struct remote_ops ops = {.setup = svc_setup, .command = svc_command, .arg = &svc};
	struct bound_to b = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct twonode t;
	struct rpk_inbox *h;
	char before[128], err[512];
	uint8_t in[16];

	(void)state;
	twonode_up(&t, link_dts(), &ops, on_announce, &b);
	wait_announcements(&b, t.master, 1);
	assert_int_equal(announcements(&b), 1);
	assert_int_equal(rpk_inbox_open(t.master, &h, NULL, RPK_ADDR_ANY, b.addr), 0);
	echo_some(h, 50);
	snprintf(before, sizeof(before), "%s", twonode_cmd(&t, "info"));
	assert_non_null(strstr(before, "attaches=1 state=attached"));

	assert_int_equal(rpk_node_detach(t.master), 0);
	assert_int_equal(rpk_node_state(t.master), RPK_NODE_DETACHED);
	assert_int_equal(rpk_node_detach(t.master), -RPK_EINVAL);
	assert_int_equal(rpk_send(rpk_inbox_ept(h), "x", 1, RPK_NO_WAIT), -RPK_ENOTCONN);
	assert_int_equal(rpk_inbox_recv(h, in, sizeof(in), NULL, RECV_WAIT_MS), -RPK_ECONNRESET);

	/* The control channel heard of the reset too. */
	assert_int_equal(rpk_inbox_recv(t.ctl, in, sizeof(in), NULL, 0), -RPK_ECONNRESET);
	if (rpk_node_attach(t.master, BIND_WAIT_MS, err, sizeof(err)))
		fail_msg("attach: %s", err);
	assert_int_equal(rpk_node_state(t.master), RPK_NODE_ATTACHED);
	/* The remote announces its service again, at the same address. */
	wait_announcements(&b, t.master, 2);
	assert_int_equal(announcements(&b), 2);
	echo_some(h, 50);
	const char *after = twonode_cmd(&t, "info");
	char want[128];
	unsigned addr;

	assert_int_equal(sscanf(before, "addr=%u", &addr), 1);
	snprintf(want, sizeof(want), "addr=%u attaches=2 state=attached", addr);
	assert_string_equal(after, want);
	assert_int_equal(b.addr, addr);
	/* A detach is no corruption: the remote, which may have read the rings
	 * the master zeroed before it saw the new session, counts none. */
	struct rpk_node_stats_page page;

	twonode_wait_stats(&t, "remote", remote_was_reset, "the reset", &page);
	assert_int_equal(page.broken, 0);
	assert_int_equal(page.vq[0].bad_idx + page.vq[1].bad_idx, 0);
	rpk_inbox_close(h);
	twonode_down(&t);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_detach_and_reattach),
	    cmocka_unit_test(test_blocked_sender_fails_on_crash),
	    cmocka_unit_test(test_queued_echoes_across_reboot),
	    cmocka_unit_test(test_crash_cycles),
	};
	const struct CMUnitTest crash_only[] = {cmocka_unit_test(test_crash_cycles)};

	spawner_start(); /* before any thread */
	/* RPK_TEST_FILTER: run only the tests whose names match (a cmocka pattern). */
	if (getenv("RPK_TEST_FILTER"))
		cmocka_set_test_filter(getenv("RPK_TEST_FILTER"));
	if (argc > 1 && !strcmp(argv[1], "crash-cycles"))
		return cmocka_run_group_tests(crash_only, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
