/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * No silent slowdown. One stray write can silence a doorbell: a ring flag
 * that says "do not kick me" (on a link without event indices), an event
 * index far ahead (with them), or a bell's sleepers flag that says "nobody
 * sleeps". The side that owns the flag writes it again within a watchdog
 * period, and every message found by the watchdog instead of a kick counts
 * as a late wakeup in the counters `rpk stat` prints, so a peer (or memory)
 * that does this shows up instead of only making the link slow.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <rpk/errno.h>

#include "posix/rpk_posix.h"
#include "twonode.h"

#define NUM	  16u /* link16.dts */
#define ALIGN	  64u
#define BOUND_MS  20000u
#define MAX_TRIES 200

static const struct rpk_layout_node *node(const struct twonode *t, const char *name)
{
	return rpk_layout_find(&t->lay, name);
}

static uint16_t *avail_flags(uint8_t *ring)
{
	return (uint16_t *)(void *)(ring + 16u * NUM);
}

static uint16_t *used_flags(uint8_t *ring)
{
	return (uint16_t *)(void *)(ring + rpk_vring_size(NUM, ALIGN) - (6u + 8u * NUM));
}

/* The event indices (RPK_VIRTIO_RING_F_EVENT_IDX): the driver's after the
 * avail ring, the device's after the used ring. */
static uint16_t *used_event(uint8_t *ring)
{
	return avail_flags(ring) + 2 + NUM;
}

static uint16_t *avail_event(uint8_t *ring)
{
	return (uint16_t *)(void *)(ring + rpk_vring_size(NUM, ALIGN) - 2u);
}

static struct rpk_node_stats_page stats(const struct twonode *t, const char *who)
{
	struct rpk_node_stats_page p;

	assert_int_equal(rpk_node_read_stats(t->instance, who, &p), 0);
	return p;
}

/* Poll (bounded) until *p == want; fails with what. */
static void until_equal16(const uint16_t *p, uint16_t want, const char *what)
{
	for (unsigned ms = 0; ms < BOUND_MS; ms++) {
		if (__atomic_load_n(p, __ATOMIC_ACQUIRE) == want)
			return;
		usleep(1000);
	}
	fail_msg("%s never came back to %u", what, want);
}

static void until_equal32(const uint32_t *p, uint32_t want, const char *what)
{
	for (unsigned ms = 0; ms < BOUND_MS; ms++) {
		if (__atomic_load_n(p, __ATOMIC_ACQUIRE) == want)
			return;
		usleep(1000);
	}
	fail_msg("%s never came back to %u", what, want);
}

/*
 * On an idle link (a side with caches also restores the line when it writes
 * back its own part of it), the stray value is repaired within a watchdog
 * period, and the repair shows in who's counters.
 */
static void until_fixed(const struct twonode *t, const char *who, uint16_t *p, uint16_t v)
{
	uint32_t before = stats(t, who).rpmsg.flags_fixed;

	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
	until_equal16(p, 0, "the flag");
	for (unsigned ms = 0; ms < BOUND_MS; ms++) {
		if (stats(t, who).rpmsg.flags_fixed > before)
			return;
		usleep(1000);
	}
	fail_msg("%s never counted the repaired flag", who);
}

/* The same for an event index: the stray value goes (rewritten by its
 * owner), and the repair is counted. */
static void until_event_fixed(const struct twonode *t, const char *who, uint16_t *p, uint16_t v)
{
	uint32_t before = stats(t, who).rpmsg.flags_fixed;

	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
	for (unsigned ms = 0; ms < BOUND_MS; ms++) {
		if (__atomic_load_n(p, __ATOMIC_ACQUIRE) != v &&
		    stats(t, who).rpmsg.flags_fixed > before)
			return;
		usleep(1000);
	}
	fail_msg("%s never repaired its event index", who);
}

/* A round trip on the control channel while the stray value is in place:
 * the reply (or the command) then arrives without a kick. */
static void ping(struct twonode *t)
{
	assert_string_equal(twonode_cmd(t, "ping"), "ok");
}

/* Write *p = v, ping; until who's late wakeups grew (the write may be
 * repaired before the message it would silence). */
static void until_late16(struct twonode *t, const char *who, uint16_t *p, uint16_t v)
{
	uint64_t before = stats(t, who).late_wakeups;

	for (int i = 0; i < MAX_TRIES; i++) {
		__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
		ping(t);
		for (int w = 0; w < 100; w++) {
			if (stats(t, who).late_wakeups > before)
				return;
			usleep(1000);
		}
	}
	fail_msg("%s never counted a late wakeup", who);
}

static void up(struct twonode *t)
{
	twonode_up(t, "link16.dts", &(struct remote_ops){0}, NULL, NULL);
	ping(t);
}

/* A link on the ring flags: no event indices offered (RPK_NO_EVENT_IDX). */
static void up_on_flags(struct twonode *t)
{
	setenv("RPK_NO_EVENT_IDX", "1", 1);
	up(t);
	unsetenv("RPK_NO_EVENT_IDX");
}

/* vring0's avail flags are the master's: "no interrupts" there silenced the
 * remote's kicks for its replies. */
static void test_master_flag_repaired(void **state)
{
	const struct rpk_layout_node *m;
	struct twonode t;
	uint8_t *vring0;

	(void)state;
	up_on_flags(&t);
	m = node(&t, "master");
	vring0 = twonode_map(&t, m->region[RPK_REG_VRING0], NULL);
	until_late16(&t, "master", avail_flags(vring0), RPK_VRING_AVAIL_F_NO_INTERRUPT);
	until_equal16(avail_flags(vring0), 0, "vring0's avail flags");
	until_fixed(&t, "master", avail_flags(vring0), RPK_VRING_AVAIL_F_NO_INTERRUPT);
	ping(&t);
	munmap(vring0, t.lay.regions[m->region[RPK_REG_VRING0]].size);
	twonode_down(&t);
}

/* vring1's used flags are the remote's: "no notify" there silenced the
 * master's kicks for its commands. */
static void test_remote_flag_repaired(void **state)
{
	const struct rpk_layout_node *r;
	struct twonode t;
	uint8_t *vring1;

	(void)state;
	up_on_flags(&t);
	r = node(&t, "remote");
	vring1 = twonode_map(&t, r->region[RPK_REG_VRING1], NULL);
	until_late16(&t, "remote", used_flags(vring1), RPK_VRING_USED_F_NO_NOTIFY);
	until_equal16(used_flags(vring1), 0, "vring1's used flags");
	until_fixed(&t, "remote", used_flags(vring1), RPK_VRING_USED_F_NO_NOTIFY);
	ping(&t);
	munmap(vring1, t.lay.regions[r->region[RPK_REG_VRING1]].size);
	twonode_down(&t);
}

/* With event indices: the master's used_event on vring0, far ahead, silenced
 * the remote's kicks for its replies; the remote's avail_event on vring1 the
 * master's for its commands. Each owner writes its own again. */
static void test_master_event_repaired(void **state)
{
	const struct rpk_layout_node *m;
	struct twonode t;
	uint8_t *vring0;

	(void)state;
	up(&t);
	m = node(&t, "master");
	vring0 = twonode_map(&t, m->region[RPK_REG_VRING0], NULL);
	until_late16(&t, "master", used_event(vring0), 0x7fff);
	until_event_fixed(&t, "master", used_event(vring0), 0x7fff);
	ping(&t);
	munmap(vring0, t.lay.regions[m->region[RPK_REG_VRING0]].size);
	twonode_down(&t);
}

static void test_remote_event_repaired(void **state)
{
	const struct rpk_layout_node *r;
	struct twonode t;
	uint8_t *vring1;

	(void)state;
	up(&t);
	r = node(&t, "remote");
	vring1 = twonode_map(&t, r->region[RPK_REG_VRING1], NULL);
	until_late16(&t, "remote", avail_event(vring1), 0x7fff);
	until_event_fixed(&t, "remote", avail_event(vring1), 0x7fff);
	ping(&t);
	munmap(vring1, t.lay.regions[r->region[RPK_REG_VRING1]].size);
	twonode_down(&t);
}

/* The master's sleepers flag (in the bell the remote rings) said nobody
 * sleeps: the remote skipped the wake. The master counts the late wakeup
 * and sets the flag again when it next sleeps. */
static void test_sleepers_restored(void **state)
{
	const struct rpk_layout_node *m;
	struct rpk_node_stats_page p;
	struct rpk_bell *b;
	struct twonode t;
	uint8_t *mbox;
	uint64_t before;
	int i;

	(void)state;
	up(&t);
	m = node(&t, "master");
	mbox = twonode_map(&t, m->mailbox, NULL);
	b = (struct rpk_bell *)(void *)(mbox + m->rx_chan * RPK_BELL_STRIDE);
	until_equal32(&b->sleepers, 1, "the master's sleepers flag");
	before = stats(&t, "master").late_wakeups;
	for (i = 0; i < MAX_TRIES && stats(&t, "master").late_wakeups == before; i++) {
		until_equal32(&b->sleepers, 1, "the master's sleepers flag");
		__atomic_store_n(&b->sleepers, 0, __ATOMIC_SEQ_CST);
		ping(&t);
		usleep(60000); /* one watchdog period for the late one to be counted */
	}
	assert_true(i < MAX_TRIES);
	until_equal32(&b->sleepers, 1, "the master's sleepers flag");
	p = stats(&t, "master");
	assert_true(p.late_wakeups > before);
	ping(&t);
	munmap(mbox, t.lay.regions[m->mailbox].size);
	twonode_down(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_master_flag_repaired),
	    cmocka_unit_test(test_remote_flag_repaired),
	    cmocka_unit_test(test_master_event_repaired),
	    cmocka_unit_test(test_remote_event_repaired),
	    cmocka_unit_test(test_sleepers_restored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
