/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A chaos peer: one side writes one class of corruption into the link. For
 * each class the honest side counts it where `rpk stat` shows it (its
 * counter page is what these tests read), does not crash or hang, and either
 * keeps serving valid traffic on the control endpoint or takes the link down
 * cleanly (senders get an error, readers a reset).
 *
 * Driver-side classes come from the master (this process), device-side
 * ones from the forked remote, on SIGUSR1 so that no reply of its own
 * follows the corruption and overwrites it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <rpk/errno.h>

#include "twonode.h"

#define WAIT_MS	     20000u
#define NOTE_WAIT_MS 60000u
#define PINGS	     64

static enum rpk_chaos remote_class; /* set before the fork: the remote inherits it */

static void remote_inject(struct rpk_node *n, void *arg)
{
	(void)arg;
	twonode_note("%d", rpk_node_chaos(n, remote_class));
}

static const struct remote_ops ops = {.on_signal = remote_inject};

struct binds {
	unsigned count;
};

static void count_binds(struct rpk_rpmsg *dev, const char *name, uint32_t addr, void *priv)
{
	(void)dev;
	(void)addr;
	if (!strncmp(name, "chaos-", 6))
		__atomic_add_fetch(&((struct binds *)priv)->count, 1, __ATOMIC_RELAXED);
}

/* Valid traffic still flows on the control endpoint, both ways. */
static void still_serving(struct twonode *t)
{
	for (int i = 0; i < PINGS; i++)
		assert_string_equal(twonode_cmd(t, "ping %d", i), "ok");
}

static void up(struct twonode *t, enum rpk_chaos remote_side, struct binds *b)
{
	remote_class = remote_side;
	twonode_up(t, "link16.dts", &ops, b ? count_binds : NULL, b);
	still_serving(t); /* the link works before the corruption */
}

/* The remote writes one corruption; returns what rpk_node_chaos said. */
static int remote_writes(struct twonode *t)
{
	twonode_signal(t);
	return atoi(twonode_read_note(t, NOTE_WAIT_MS));
}

static void teardown(struct twonode *t)
{
	twonode_down(t);
}

/* ---- the honest remote, against a chaos master ---- */

static int remote_bad_head(const struct rpk_node_stats_page *p)
{
	return p->vq[1].bad_head >= 1;
}

static int remote_bad_addr(const struct rpk_node_stats_page *p)
{
	return p->vq[1].bad_addr >= 1;
}

static int remote_bad_desc(const struct rpk_node_stats_page *p)
{
	return p->vq[1].bad_desc >= 1;
}

static int remote_rx_bad_buf(const struct rpk_node_stats_page *p)
{
	return p->rpmsg.rx_bad_buf >= 1;
}

static int remote_broke_link(const struct rpk_node_stats_page *p)
{
	return p->vq[1].bad_idx >= 1 && p->broken == 1 && p->state == RPK_NODE_DETACHED;
}

static void master_class(enum rpk_chaos c, twonode_stats_pred counted, const char *what)
{
	struct rpk_node_stats_page p;
	struct twonode t;

	up(&t, RPK_CHAOS_NONE, NULL);
	assert_int_equal(rpk_node_chaos(t.master, c), 0);
	twonode_wait_stats(&t, "remote", counted, what, &p);
	assert_int_equal(p.state, RPK_NODE_ATTACHED);
	assert_int_equal(p.broken, 0);
	still_serving(&t);
	teardown(&t);
}

static void test_desc_head(void **state)
{
	(void)state;
	master_class(RPK_CHAOS_DESC_HEAD, remote_bad_head, "a bad head on vring1");
}

static void test_desc_addr(void **state)
{
	(void)state;
	master_class(RPK_CHAOS_DESC_ADDR, remote_bad_addr, "an address outside on vring1");
}

static void test_desc_len(void **state)
{
	(void)state;
	master_class(RPK_CHAOS_DESC_LEN, remote_rx_bad_buf, "a bad receive buffer");
}

static void test_desc_loop(void **state)
{
	(void)state;
	master_class(RPK_CHAOS_DESC_LOOP, remote_bad_desc, "a bad descriptor on vring1");
}

/* The remote takes the link down, then serves the master's next session. */
static void test_avail_idx(void **state)
{
	struct rpk_node_stats_page p;
	struct twonode t;
	char buf[64], err[512];

	(void)state;
	up(&t, RPK_CHAOS_NONE, NULL);
	assert_int_equal(rpk_node_chaos(t.master, RPK_CHAOS_AVAIL_IDX), 0);
	twonode_wait_stats(&t, "remote", remote_broke_link, "a broken link", &p);
	/* A new master session: the link comes back with the endpoints it had. */
	assert_int_equal(rpk_node_detach(t.master), 0);
	assert_int_equal(rpk_node_attach(t.master, WAIT_MS, err, sizeof(err)), 0);
	assert_int_equal(rpk_hept_recv(t.ctl, buf, sizeof(buf), NULL, 0), -RPK_ECONNRESET);
	still_serving(&t);
	teardown(&t);
}

/* ---- the honest master, against a chaos remote ---- */

static int master_bad_head(const struct rpk_node_stats_page *p)
{
	return p->vq[0].bad_head >= 1 && p->rpmsg.rx_bad_buf >= 1;
}

static int master_bad_len(const struct rpk_node_stats_page *p)
{
	return p->vq[0].bad_len >= 1 && p->rpmsg.rx_bad_len >= 1;
}

static int master_rx_bad_len(const struct rpk_node_stats_page *p)
{
	return p->rpmsg.rx_bad_len >= 1;
}

static int master_ns_bad(const struct rpk_node_stats_page *p)
{
	return p->rpmsg.ns_bad >= 1;
}

static int master_broke_link(const struct rpk_node_stats_page *p)
{
	return p->vq[0].bad_idx >= 1 && p->broken == 1 && p->state == RPK_NODE_CRASHED;
}

static void remote_class_test(enum rpk_chaos c, twonode_stats_pred counted, const char *what)
{
	struct rpk_node_stats_page p;
	struct twonode t;

	up(&t, c, NULL);
	assert_int_equal(remote_writes(&t), 0);
	twonode_wait_stats(&t, "master", counted, what, &p);
	assert_int_equal(p.state, RPK_NODE_ATTACHED);
	assert_int_equal(p.broken, 0);
	assert_int_equal(p.rpmsg.rx_no_ept, 0); /* nothing corrupt was delivered */
	still_serving(&t);
	teardown(&t);
}

static void test_used_id(void **state)
{
	(void)state;
	remote_class_test(RPK_CHAOS_USED_ID, master_bad_head, "a bad used id");
}

static void test_used_len(void **state)
{
	(void)state;
	remote_class_test(RPK_CHAOS_USED_LEN, master_bad_len, "a used length too large");
}

static void test_msg_len(void **state)
{
	(void)state;
	remote_class_test(RPK_CHAOS_MSG_LEN, master_rx_bad_len, "a header length too large");
}

static void test_msg_empty(void **state)
{
	(void)state;
	remote_class_test(RPK_CHAOS_MSG_EMPTY, master_rx_bad_len, "an empty buffer");
}

static void test_ns_name(void **state)
{
	(void)state;
	remote_class_test(RPK_CHAOS_NS_NAME, master_ns_bad, "a malformed announcement");
}

static int master_table_full(const struct rpk_node_stats_page *p)
{
	return p->rpmsg.ns_table_full >= 1;
}

/* Thousands of services: each is offered to the user, the table stays bounded. */
static void test_ns_flood(void **state)
{
	struct rpk_node_stats_page p;
	struct binds b = {0};
	struct twonode t;

	(void)state;
	up(&t, RPK_CHAOS_NS_FLOOD, &b);
	assert_int_equal(remote_writes(&t), 0);
	twonode_wait_stats(&t, "master", master_table_full, "a full service table", &p);
	still_serving(&t); /* behind the flood on the same ring: all of it was read */
	assert_int_equal(__atomic_load_n(&b.count, __ATOMIC_RELAXED), RPK_CHAOS_FLOOD_COUNT);
	assert_int_equal(p.broken, 0);
	teardown(&t);
}

/* The master takes the link down: senders fail at once, readers see a reset. */
static void test_used_idx(void **state)
{
	struct rpk_node_stats_page p;
	struct twonode t;
	char buf[64];

	(void)state;
	up(&t, RPK_CHAOS_USED_IDX, NULL);
	assert_int_equal(remote_writes(&t), 0);
	twonode_wait_stats(&t, "master", master_broke_link, "a broken link", &p);
	assert_int_equal(rpk_send(rpk_hept_ept(t.ctl), "x", 1, RPK_WAIT_FOREVER), -RPK_ENOTCONN);
	assert_int_equal(rpk_hept_recv(t.ctl, buf, sizeof(buf), NULL, 0), -RPK_ECONNRESET);
	/* It stays down for this remote session: no re-attach to the same table. */
	assert_int_equal(rpk_node_state(t.master), RPK_NODE_CRASHED);
	rpk_hept_close(t.ctl);
	rpk_node_close(t.master);
	twonode_kill(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_avail_idx), cmocka_unit_test(test_desc_head),
	    cmocka_unit_test(test_desc_addr), cmocka_unit_test(test_desc_len),
	    cmocka_unit_test(test_desc_loop), cmocka_unit_test(test_used_idx),
	    cmocka_unit_test(test_used_id),   cmocka_unit_test(test_used_len),
	    cmocka_unit_test(test_msg_len),   cmocka_unit_test(test_msg_empty),
	    cmocka_unit_test(test_ns_name),   cmocka_unit_test(test_ns_flood),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
