/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A chaos peer: one side writes one class of corruption into the link. For
 * each class the honest side counts it where `rpk stat` shows it (its
 * counter page is what these tests read), does not crash or hang, and either
 * keeps serving valid traffic on the control endpoint or, where the rings
 * make no sense any more (an index jump, an entry naming a buffer that is
 * not the peer's), resets the link: readers see the reset once, and the link
 * comes back by itself with the endpoints it had.
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

#include "node/chaos.h"
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

/* The side that found the rings broken, and its peer, once the link is back. */
static int finder_back(const struct rpk_node_stats_page *p)
{
	return p->broken == 1 && p->attaches >= 2 && p->state == RPK_NODE_ATTACHED;
}

static int other_back(const struct rpk_node_stats_page *p)
{
	return p->broken == 0 && p->link_resets >= 1 && p->attaches >= 2 &&
	       p->state == RPK_NODE_ATTACHED;
}

/*
 * A class that breaks the rings: the honest side counts it on the queue
 * (queue, field), the link resets (a remote asks its master with
 * DEVICE_NEEDS_RESET, a master resets at once) and comes back by itself.
 */
static void breaking_class(enum rpk_chaos c, const char *finder, const char *other, int queue,
			   size_t field)
{
	struct rpk_node_stats_page p;
	struct twonode t;
	char buf[64];

	if (!strcmp(finder, "remote")) {
		up(&t, RPK_CHAOS_NONE, NULL);
		assert_int_equal(rpk_node_chaos(t.master, c), 0);
	} else {
		up(&t, c, NULL);
		assert_int_equal(remote_writes(&t), 0);
	}
	twonode_wait_stats(&t, finder, finder_back, "the link broken, then back", &p);
	assert_int_equal(*(const uint32_t *)((const char *)&p.vq[queue] + field), 1);
	assert_int_equal(p.rpmsg.rx_no_ept, 0); /* nothing corrupt was delivered */
	if (!strcmp(finder, "remote"))
		assert_int_equal(p.reset_asks, 1); /* it asked its master for the reset */
	twonode_wait_stats(&t, other, other_back, "a reset of the live link", &p);
	if (!strcmp(other, "master"))
		assert_int_equal(p.reset_asks, 1); /* the remote asked */
	/* Readers saw the reset once; the control channel works again. */
	assert_int_equal(rpk_inbox_recv(t.ctl, buf, sizeof(buf), NULL, WAIT_MS), -RPK_ECONNRESET);
	still_serving(&t);
	teardown(&t);
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
	breaking_class(RPK_CHAOS_DESC_HEAD, "remote", "master", 1,
		       offsetof(struct rpk_vq_stats, bad_head));
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

static void test_avail_idx(void **state)
{
	(void)state;
	breaking_class(RPK_CHAOS_AVAIL_IDX, "remote", "master", 1,
		       offsetof(struct rpk_vq_stats, bad_idx));
}

/* ---- the honest master, against a chaos remote ---- */

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
	breaking_class(RPK_CHAOS_USED_ID, "master", "remote", 0,
		       offsetof(struct rpk_vq_stats, bad_head));
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

static void test_used_idx(void **state)
{
	(void)state;
	breaking_class(RPK_CHAOS_USED_IDX, "master", "remote", 0,
		       offsetof(struct rpk_vq_stats, bad_idx));
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
