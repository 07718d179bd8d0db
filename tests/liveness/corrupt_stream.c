/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A link that always comes back. A sequence-checked stream runs from the
 * master (this process) to the remote (a forked child), which echoes every
 * message; at a random moment of each round a third party (this process,
 * through its own mapping of the link's memory) writes one class of
 * corruption into the shared state: ring indices, ring entries, ring flags,
 * a bell's sleepers flag, pid or session, the vdev status. Each round must
 * recover within RECOVERY_BOUND_MS; over all rounds no message may arrive
 * twice or corrupted, in either direction, and every message the master
 * sent that the remote never got must be counted in the master's tx_lost.
 *
 * RPK_LIVENESS_ROUNDS (default 150) and RPK_LIVENESS_SEED (default: from the
 * clock) set the run; the seed is printed, so a failure can be replayed.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <rpk/errno.h>
#include <rpk/rsc_table.h>

#include "posix/rpk_posix.h"
#include "twonode.h"

#define STREAM_ADDR	  200u
#define RECOVERY_BOUND_MS 10000u
#define STEADY_ECHOES	  8 /* a round has recovered once this many come back in a row */
#define MAX_LEN		  200u
#define NUM		  16u /* link16.dts */
#define ALIGN		  64u

/* ---- the message: sequence number, length, a pattern derived from both ---- */

static size_t make_msg(uint8_t *buf, uint32_t seq)
{
	size_t len = 8 + (seq * 37u) % (MAX_LEN - 8);

	memcpy(buf, &seq, 4);
	memcpy(buf + 4, &len, 4);
	for (size_t k = 8; k < len; k++)
		buf[k] = (uint8_t)(seq * 131u + k * 7u);
	return len;
}

/* The sequence number of an intact message, or -1. */
static int64_t check_msg(const uint8_t *buf, size_t len)
{
	uint8_t want[MAX_LEN];
	uint32_t seq;

	if (len < 8 || len > MAX_LEN)
		return -1;
	memcpy(&seq, buf, 4);
	if (make_msg(want, seq) != len || memcmp(want, buf, len))
		return -1;
	return seq;
}

/* ---- the remote: checks the stream, echoes it ---- */

struct remote_side {
	struct rpk_ept ept;
	int64_t last;
	uint64_t received, dups, corrupt, gaps, echo_failed;
};

static struct remote_side rs; /* the child's own copy */

static int stream_rx(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	int64_t seq = check_msg(data, len);

	(void)priv;
	if (seq < 0) {
		rs.corrupt++;
		return 0;
	}
	if (seq <= rs.last) {
		rs.dups++;
		return 0;
	}
	if (seq > rs.last + 1)
		rs.gaps += (uint64_t)(seq - rs.last - 1);
	rs.last = seq;
	rs.received++;
	if (rpk_sendto(ept, src, data, len, 100))
		rs.echo_failed++;
	return 0;
}

static void remote_setup(struct rpk_node *n, void *arg)
{
	(void)arg;
	rs.last = -1;
	assert_int_equal(rpk_ept_create(rpk_node_dev(n), &rs.ept, NULL, STREAM_ADDR, RPK_ADDR_ANY,
					stream_rx, NULL),
			 0);
}

static int remote_command(struct rpk_node *n, const char *cmd, char *out, size_t outlen, void *arg)
{
	(void)n;
	(void)arg;
	if (!strcmp(cmd, "stream"))
		snprintf(out, outlen, "%llu %llu %llu %llu %lld", (unsigned long long)rs.received,
			 (unsigned long long)rs.dups, (unsigned long long)rs.corrupt,
			 (unsigned long long)rs.gaps, (long long)rs.last);
	return 0;
}

static const struct remote_ops ops = {.setup = remote_setup, .command = remote_command};

/* ---- the third party: its own mapping of the link's memory ---- */

struct shared {
	uint8_t *vring[2], *rsc, *mbox;
	size_t rsc_size, mbox_size;
	const struct rpk_layout_node *m, *r; /* the master's and the remote's nodes */
	const struct rpk_layout *lay;
	size_t vdev_off; /* of the rpmsg vdev in the rsc region */
};

static void shared_open(struct shared *s, const struct twonode *t)
{
	const struct rpk_region *rr;
	const uint8_t *tbl;
	int idx;

	s->lay = &t->lay;
	s->m = rpk_layout_find(&t->lay, "master");
	s->r = rpk_layout_find(&t->lay, "remote");
	for (int q = 0; q < 2; q++)
		s->vring[q] = twonode_map(t, s->r->region[RPK_REG_VRING0 + q], NULL);
	s->rsc = twonode_map(t, s->r->region[RPK_REG_RSC], &s->rsc_size);
	s->mbox = twonode_map(t, s->r->mailbox, &s->mbox_size);
	rr = &t->lay.regions[s->r->region[RPK_REG_RSC]];
	tbl = s->rsc + rr->rsc_offset;
	idx = rpk_rsc_find_vdev(tbl, RPK_VIRTIO_ID_RPMSG);
	assert_true(idx >= 0);
	s->vdev_off = (size_t)((const uint8_t *)rpk_rsc_entry(tbl, (uint32_t)idx, NULL) - s->rsc);
}

static void shared_close(struct shared *s, const struct twonode *t)
{
	for (int q = 0; q < 2; q++)
		munmap(s->vring[q], t->lay.regions[s->r->region[RPK_REG_VRING0 + q]].size);
	munmap(s->rsc, s->rsc_size);
	munmap(s->mbox, s->mbox_size);
}

static struct rpk_vring_avail *avail(struct shared *s, int q)
{
	return (struct rpk_vring_avail *)(void *)(s->vring[q] + 16u * NUM);
}

static struct rpk_vring_used *used(struct shared *s, int q)
{
	return (struct rpk_vring_used *)(void *)(s->vring[q] + rpk_vring_size(NUM, ALIGN) -
						 (6u + 8u * NUM));
}

/* The bell the master rings (chan its tx), or the remote's. */
static struct rpk_bell *bell(struct shared *s, int of_master)
{
	uint32_t chan = of_master ? s->m->tx_chan : s->r->tx_chan;

	return (struct rpk_bell *)(void *)(s->mbox + chan * RPK_BELL_STRIDE);
}

static uint8_t *status(struct shared *s)
{
	return (uint8_t *)s->rsc + s->vdev_off + offsetof(struct rpk_fw_rsc_vdev, status);
}

static void store16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

static void store32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

/* A pid no process has: one that just exited and was reaped. */
static uint32_t dead_pid(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	return (uint32_t)p;
}

enum corruption {
	AVAIL_IDX_JUMP,	 /* the driver's index leaps past the ring */
	USED_IDX_JUMP,	 /* the device's index leaps past the ring */
	AVAIL_BAD_HEAD,	 /* an entry names a descriptor out of range, and is published */
	USED_BAD_ID,	 /* an entry names an id out of range, and is published */
	AVAIL_NO_INTR,	 /* the driver "asks" for no interrupts */
	USED_NO_NOTIFY,	 /* the device "asks" for no kicks */
	USED_EVENT,	 /* the driver's event index (EVENT_IDX) is anything */
	AVAIL_EVENT,	 /* the device's event index is anything */
	SLEEPERS_ZERO,	 /* a listener looks awake to its ringer */
	PID_DEAD,	 /* a bell names a process that does not exist */
	PID_ONE,	 /* a bell names a live process that is not a node */
	SESSION_FORGED,	 /* a bell claims a new session */
	STATUS_NEEDS,	 /* DEVICE_NEEDS_RESET appears in the status */
	STATUS_NOT_OK,	 /* DRIVER_OK disappears from the status */
	STATUS_GARBAGE,	 /* the status byte is anything */
	CORRUPTION_COUNT /* */
};

static const char *const corruption_names[CORRUPTION_COUNT] = {
    "avail-idx-jump", "used-idx-jump",	"avail-bad-head", "used-bad-id",   "avail-no-intr",
    "used-no-notify", "used-event",	"avail-event",	  "sleepers-zero", "pid-dead",
    "pid-one",	      "session-forged", "status-needs",	  "status-not-ok", "status-garbage"};

static void corrupt(struct shared *s, enum corruption c, unsigned r)
{
	int q = (int)(r & 1), master = (int)((r >> 1) & 1);
	struct rpk_vring_avail *a = avail(s, q);
	struct rpk_vring_used *u = used(s, q);
	uint16_t i;

	switch (c) {
	case AVAIL_IDX_JUMP:
		store16(&a->idx, (uint16_t)(a->idx + NUM + 1 + (r >> 2) % 1000));
		break;
	case USED_IDX_JUMP:
		store16(&u->idx, (uint16_t)(u->idx + NUM + 1 + (r >> 2) % 1000));
		break;
	case AVAIL_BAD_HEAD:
		i = a->idx;
		store16(&a->ring[i % NUM], (uint16_t)(NUM + (r >> 2) % 100));
		store16(&a->idx, (uint16_t)(i + 1));
		break;
	case USED_BAD_ID:
		i = u->idx;
		store32(&u->ring[i % NUM].id, NUM + (r >> 2) % 100);
		store16(&u->idx, (uint16_t)(i + 1));
		break;
	case AVAIL_NO_INTR:
		store16(&a->flags, RPK_VRING_AVAIL_F_NO_INTERRUPT);
		break;
	case USED_NO_NOTIFY:
		store16(&u->flags, RPK_VRING_USED_F_NO_NOTIFY);
		break;
	case USED_EVENT: /* after the avail ring */
		store16(&a->ring[NUM], (uint16_t)(r >> 2));
		break;
	case AVAIL_EVENT: /* after the used ring */
		store16((uint16_t *)(void *)&u->ring[NUM], (uint16_t)(r >> 2));
		break;
	case SLEEPERS_ZERO:
		store32(&bell(s, master)->sleepers, 0);
		break;
	case PID_DEAD:
		store32(&bell(s, master)->pid, dead_pid());
		break;
	case PID_ONE:
		store32(&bell(s, master)->pid, 1);
		break;
	case SESSION_FORGED:
		store32(&bell(s, master)->session, 0x40000000u + (r >> 2) % 100000);
		break;
	case STATUS_NEEDS:
		__atomic_or_fetch(status(s), RPK_VIRTIO_STATUS_NEEDS_RESET, __ATOMIC_SEQ_CST);
		break;
	case STATUS_NOT_OK:
		__atomic_and_fetch(status(s), (uint8_t)~RPK_VIRTIO_STATUS_DRIVER_OK,
				   __ATOMIC_SEQ_CST);
		break;
	case STATUS_GARBAGE:
		__atomic_store_n(status(s), (uint8_t)(r >> 3), __ATOMIC_SEQ_CST);
		break;
	default:
		break;
	}
}

/* ---- the master: sends the stream, checks the echoes ---- */

struct master_side {
	struct rpk_inbox *h;
	uint32_t next;	   /* next sequence number to send */
	uint64_t sent;	   /* sends that returned 0 */
	int64_t last_echo; /* highest echo seen */
	uint64_t echoes, echo_dups, echo_corrupt, resets_seen;
};

static uint32_t now_ms(void)
{
	return rpk_posix_now_ms();
}

/* One message out (a failed send is retried with the same number later). */
static int send_one(struct master_side *m)
{
	uint8_t buf[MAX_LEN];
	size_t len = make_msg(buf, m->next);
	int rc = rpk_send(rpk_inbox_ept(m->h), buf, len, 50);

	if (rc == 0) {
		m->next++;
		m->sent++;
	}
	return rc;
}

/* Echoes that arrived within wait_ms; returns how many were intact and new. */
static int take_echoes(struct master_side *m, uint32_t wait_ms)
{
	uint8_t buf[RPK_RPMSG_MAX_PAYLOAD];
	int got = 0;

	for (;;) {
		int n = rpk_inbox_recv(m->h, buf, sizeof(buf), NULL, wait_ms);
		int64_t seq;

		if (n == -RPK_ECONNRESET) {
			m->resets_seen++;
			continue;
		}
		if (n < 0)
			return got;
		wait_ms = 0;
		seq = check_msg(buf, (size_t)n);
		if (seq < 0) {
			m->echo_corrupt++;
		} else if (seq <= m->last_echo) {
			m->echo_dups++;
		} else {
			m->last_echo = seq;
			m->echoes++;
			got++;
		}
	}
}

static struct twonode *the_link; /* for what a failure prints */
static struct shared *the_shared;

/* What both sides say, when a round does not recover. */
static void print_link(void)
{
	struct rpk_node_stats_page p;
	struct rpk_bell *b;

	if (rpk_node_read_stats(the_link->instance, "remote", &p) == 0)
		printf("  remote: %s, attaches %u, broken %u, reset asks %u, link resets %u\n",
		       rpk_node_state_name((enum rpk_node_state)p.state), p.attaches, p.broken,
		       p.reset_asks, p.link_resets);
	if (rpk_node_read_stats(the_link->instance, "master", &p) == 0)
		printf("  master: %s, attaches %u, broken %u, reset asks %u, link resets %u, "
		       "crashes %u\n",
		       rpk_node_state_name((enum rpk_node_state)p.state), p.attaches, p.broken,
		       p.reset_asks, p.link_resets, p.crashes);
	for (int mst = 0; mst < 2; mst++) {
		b = bell(the_shared, mst);
		printf("  %s bell: pid %u session %u sleepers %u\n", mst ? "master" : "remote",
		       b->pid, b->session, b->sleepers);
	}
	printf("  status 0x%02x\n", *status(the_shared));
	fflush(stdout);
}

/* Send and take echoes until STEADY_ECHOES came back in a row; the time it took. */
static uint32_t until_steady(struct master_side *m, uint32_t since, unsigned round, int c,
			     unsigned seed)
{
	int steady = 0;

	while (steady < STEADY_ECHOES) {
		uint32_t spent = now_ms() - since;

		if (spent > RECOVERY_BOUND_MS) {
			print_link();
			fail_msg("round %u (%s, seed %u): no recovery within %u ms", round,
				 corruption_names[c], seed, RECOVERY_BOUND_MS);
		}
		if (send_one(m) != 0) {
			steady = 0;
			take_echoes(m, 5);
			continue;
		}
		int got = take_echoes(m, 200);

		steady = got ? steady + got : 0;
	}
	return now_ms() - since;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static unsigned env_or(const char *name, unsigned dflt)
{
	const char *v = getenv(name);

	return v && *v ? (unsigned)strtoul(v, NULL, 0) : dflt;
}

static void test_corruption_rounds(void **state)
{
	unsigned rounds = env_or("RPK_LIVENESS_ROUNDS", 150);
	unsigned seed = env_or("RPK_LIVENESS_SEED", (unsigned)time(NULL) ^ (unsigned)getpid());
	uint32_t *took = calloc(rounds, sizeof(*took));
	struct master_side m = {.last_echo = -1};
	struct rpk_node_counts mc;
	unsigned long long rrecv, rdups, rcorrupt, rgaps;
	long long rlast;
	struct shared sh;
	struct twonode t;

	(void)state;
	assert_non_null(took);
	printf("liveness: %u rounds, seed %u (RPK_LIVENESS_SEED=%u replays it)\n", rounds, seed,
	       seed);
	fflush(stdout);
	srand(seed);
	twonode_up(&t, "link16.dts", &ops, NULL, NULL);
	assert_int_equal(rpk_inbox_open(t.master, &m.h, NULL, RPK_ADDR_ANY, STREAM_ADDR), 0);
	shared_open(&sh, &t);
	the_link = &t;
	the_shared = &sh;
	until_steady(&m, now_ms(), 0, 0, seed);

	for (unsigned round = 0; round < rounds; round++) {
		int c = (int)(round % CORRUPTION_COUNT); /* every class as often */
		unsigned r = (unsigned)rand();
		unsigned before = (unsigned)rand() % 6; /* messages sent before it strikes */
		uint32_t at;

		for (unsigned i = 0; i < before; i++)
			if (send_one(&m) == 0)
				take_echoes(&m, 0);
		if (rand() & 1)
			usleep((useconds_t)(rand() % 3000));
		at = now_ms();
		corrupt(&sh, (enum corruption)c, r);
		/* Mostly give the peers time to look before the stream writes
		 * over it (the next send rewrites an index or a flag). */
		if (rand() % 4)
			usleep((useconds_t)(rand() % 60000));
		took[round] = until_steady(&m, at, round, c, seed);
	}

	/* Drain: the control command travels behind the last stream message;
	 * its channel saw the resets too (once). */
	take_echoes(&m, 100);
	while (rpk_inbox_recv(t.ctl, (char[8]){0}, 8, NULL, 0) == -RPK_ECONNRESET)
		;
	assert_int_equal(sscanf(twonode_cmd(&t, "stream"), "%llu %llu %llu %llu %lld", &rrecv,
				&rdups, &rcorrupt, &rgaps, &rlast),
			 5);
	rpk_node_counts(t.master, &mc);
	qsort(took, rounds, sizeof(*took), cmp_u32);
	printf("liveness: recovery ms over %u rounds: min %u, median %u, p90 %u, max %u\n", rounds,
	       took[0], took[rounds / 2], took[rounds * 9 / 10], took[rounds - 1]);
	printf("liveness: master sent %llu, remote received %llu (gaps %llu), master tx_lost %u; "
	       "echoes %llu; resets seen by the master's reader %llu; link resets %u, broken %u, "
	       "crashes %u, late wakeups %llu\n",
	       (unsigned long long)m.sent, rrecv, rgaps, mc.tx_lost, (unsigned long long)m.echoes,
	       (unsigned long long)m.resets_seen, mc.link_resets, mc.broken, mc.crashes,
	       (unsigned long long)mc.late_wakeups);
	/* Nothing twice, nothing corrupted, either way. */
	assert_int_equal(rdups, 0);
	assert_int_equal(rcorrupt, 0);
	assert_int_equal(m.echo_dups, 0);
	assert_int_equal(m.echo_corrupt, 0);
	/* Every message the remote never got is one the master counted lost. */
	assert_true(m.sent >= rrecv);
	if (m.sent - rrecv > mc.tx_lost)
		fail_msg("seed %u: %llu messages vanished, tx_lost says %u", seed,
			 (unsigned long long)(m.sent - rrecv), mc.tx_lost);
	assert_int_equal(rlast, (long long)m.next - 1);
	/* The rounds did take the link down and back, not only race past. */
	assert_true(mc.link_resets + mc.crashes >= rounds / 10);

	shared_close(&sh, &t);
	free(took);
	rpk_inbox_close(m.h);
	twonode_down(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_corruption_rounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
