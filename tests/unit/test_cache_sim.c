/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One side cached, the other coherent: the seeds' configuration (issue 12,
 * item 11). Linux, the master, maps the shared memory coherent (DMA memory);
 * Zephyr, the remote, caches it (MT_NORMAL with CONFIG_CACHE_MANAGEMENT).
 *
 * The link is one block of memory laid out as the seeds' is (vring0, vring1,
 * then the buffers, at 0x200c8000). The master's driver half works on the
 * block itself; the remote's device half works on a private copy that only
 * the host port's simulated write-back cache (port/posix/cache_sim.c) keeps
 * in step, in 64-byte lines. Both halves are the core's own virtqueue code.
 *
 * The steps of the two sides are interleaved by a fixed script, not by
 * threads, so what the scenarios show happens on every run:
 *
 *   1. the master posts message A
 *   2. the remote takes A: its cache now holds the line with the avail ring
 *   3. the master posts B (avail ring entry 1, avail index 2)
 *   4. the remote returns A: it cleans its used entry and used index
 *   5. the master posts C
 *   6. the remote takes whatever is pending, and returns it
 *   7. the master takes back whatever was returned
 *
 * With the seeds' alignment of 16 and 16 entries, the avail ring (bytes 256
 * to 293 of the vring) and the used ring (from 304) share the line at 256.
 * Step 4 writes that whole line back, with the remote's stale copy of the
 * avail ring in it: the avail index goes back from 2 to 1 and B's ring entry
 * back to 0. At step 6 the remote finds entry 1 pointing at descriptor 0 (A's,
 * still described) and delivers A a second time; B is never delivered, and
 * its descriptor never comes back to the master. With an alignment of 64 the
 * used ring starts a line of its own and A, B and C arrive once each.
 *
 * CTest runs each scenario as its own liveness.* test (argument: its name);
 * "unit" runs the rest, no argument runs everything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rpk/errno.h>
#include <rpk/rpmsg.h>
#include <rpk/virtio.h>

#include "posix/rpk_posix.h"

/* The seeds' link (examples/dts/seed-tcc807x.dts), as one block. */
#define BLOCK_DA   0x200c8000ull
#define VRING0_OFF 0x0000u
#define VRING1_OFF 0x1000u /* master -> remote: the queue the scenarios drive */
#define POOL_OFF   0x2000u
#define BLOCK_SIZE 0x6000u
#define NUM	   16u
#define BUF_SIZE   512u
#define MAX_SEEN   8

struct side {
	uint8_t *view; /* the block as this side's code sees it */
	struct rpk_mem_window win;
	struct rpk_mem mem;
	struct rpk_posix_port port;
	struct rpk_vq vq;
	struct rpk_vq_slot slots[NUM];
};

struct link {
	uint8_t *shared;
	uint8_t *remote_copy; /* the remote's cache, when it has one */
	struct rpk_sim_cache cache;
	struct rpk_bell bells[2]; /* never rung: the script says who runs when */
	struct side master, remote;
};

/* What the script saw. */
struct outcome {
	char delivered[MAX_SEEN][32]; /* messages the remote took, in order */
	int num_delivered;
	uint16_t avail_idx_before_return; /* in shared memory, around step 4 */
	uint16_t avail_idx_after_return;
	int returned;	   /* buffers the master took back intact */
	int return_errors; /* used entries the master rejected */
};

static void side_open(struct link *l, struct side *s, uint8_t *view, struct rpk_sim_cache *cache,
		      enum rpk_vq_role role, uint32_t align)
{
	struct rpk_vq_cfg c = {.role = role,
			       .ring = view + VRING1_OFF,
			       .num = NUM,
			       .align = align,
			       .slots = s->slots,
			       .mem = &s->mem,
			       .port = &s->port.port,
			       .notify_id = 1};

	s->view = view;
	s->win.da = BLOCK_DA + POOL_OFF;
	s->win.size = BLOCK_SIZE - POOL_OFF;
	s->win.va = view + POOL_OFF;
	s->mem.win = &s->win;
	s->mem.count = 1;
	rpk_posix_port_init(&s->port, &l->bells[role == RPK_VQ_DRIVER ? 0 : 1],
			    &l->bells[role == RPK_VQ_DRIVER ? 1 : 0], 1, cache);
	assert_int_equal(rpk_vq_init(&s->vq, &c), 0);
}

/* A coherent master; a remote that caches the block or not. */
static struct link *link_open(uint32_t align, int remote_caches)
{
	struct link *l = calloc(1, sizeof(*l));

	assert_non_null(l);
	l->shared = aligned_alloc(4096, BLOCK_SIZE);
	assert_non_null(l->shared);
	memset(l->shared, 0, BLOCK_SIZE);
	side_open(l, &l->master, l->shared, NULL, RPK_VQ_DRIVER, align);
	if (remote_caches) {
		l->remote_copy = aligned_alloc(4096, BLOCK_SIZE);
		assert_non_null(l->remote_copy);
		assert_int_equal(
		    rpk_sim_cache_add(&l->cache, l->remote_copy, l->shared, BLOCK_SIZE), 0);
		side_open(l, &l->remote, l->remote_copy, &l->cache, RPK_VQ_DEVICE, align);
	} else {
		side_open(l, &l->remote, l->shared, NULL, RPK_VQ_DEVICE, align);
	}
	return l;
}

static void link_close(struct link *l)
{
	rpk_posix_port_fini(&l->master.port);
	rpk_posix_port_fini(&l->remote.port);
	free(l->remote_copy);
	free(l->shared);
	free(l);
}

static uint16_t shared_avail_idx(const struct link *l)
{
	const struct rpk_vring_avail *a =
	    (const void *)(l->shared + VRING1_OFF + 16u * NUM); /* after the descriptors */

	return __atomic_load_n(&a->idx, __ATOMIC_ACQUIRE);
}

/* The master sends text in the buffer tied to a fresh descriptor. */
static void master_send(struct link *l, const char *text)
{
	int head = rpk_vq_alloc_desc(&l->master.vq);
	char *buf;

	assert_true(head >= 0);
	buf = (char *)l->master.view + POOL_OFF + (size_t)head * BUF_SIZE;
	snprintf(buf, BUF_SIZE, "%s", text);
	assert_int_equal(rpk_vq_post(&l->master.vq, (uint16_t)head, buf, BUF_SIZE, 0), 0);
}

/* The remote takes one message, if one is pending; returns its descriptor or -1. */
static int remote_take(struct link *l, struct outcome *o)
{
	struct rpk_vq_buf b;
	int rc = rpk_vq_get_avail(&l->remote.vq, 0, &b);

	assert_true(rc >= 0);
	if (rc == 0)
		return -1;
	assert_true(o->num_delivered < MAX_SEEN);
	snprintf(o->delivered[o->num_delivered++], sizeof(o->delivered[0]), "%.*s",
		 (int)strnlen(b.va, b.len), (const char *)b.va);
	return b.head;
}

static void remote_return(struct link *l, int head)
{
	assert_int_equal(rpk_vq_add_used(&l->remote.vq, (uint16_t)head, 0), 0);
}

/* The master takes back every buffer returned to it. */
static void master_reclaim(struct link *l, struct outcome *o)
{
	for (;;) {
		uint32_t len;
		uint16_t head;
		void *buf;
		int rc = rpk_vq_get_used(&l->master.vq, &head, &buf, &len);

		if (rc == 0)
			return;
		if (rc < 0) {
			/* A used entry naming no posted buffer breaks the queue:
			 * only a reset gives the rest back. */
			o->return_errors++;
			return;
		}
		o->returned++;
		rpk_vq_free_desc(&l->master.vq, head);
	}
}

/* The script of the header comment, steps 1 to 7. */
static void run_script(struct link *l, struct outcome *o)
{
	int a, head;

	memset(o, 0, sizeof(*o));
	master_send(l, "message A");
	a = remote_take(l, o);
	assert_true(a >= 0);
	master_send(l, "message B");
	o->avail_idx_before_return = shared_avail_idx(l);
	remote_return(l, a);
	o->avail_idx_after_return = shared_avail_idx(l);
	master_send(l, "message C");
	while ((head = remote_take(l, o)) >= 0)
		remote_return(l, head);
	master_reclaim(l, o);
}

static void assert_all_arrived_once(const struct link *l, const struct outcome *o)
{
	assert_int_equal(o->avail_idx_before_return, 2);
	assert_int_equal(o->avail_idx_after_return, 2);
	assert_int_equal(o->num_delivered, 3);
	assert_string_equal(o->delivered[0], "message A");
	assert_string_equal(o->delivered[1], "message B");
	assert_string_equal(o->delivered[2], "message C");
	assert_int_equal(o->returned, 3);
	assert_int_equal(o->return_errors, 0);
	assert_int_equal(l->master.vq.num_posted, 0);
	assert_int_equal(l->master.vq.stats.bad_head, 0);
	assert_int_equal(l->remote.vq.stats.bad_head, 0);
}

/* ---- scenarios (liveness.*) ---- */

/* The seeds' configuration: alignment 16, the remote caching. B is lost and
 * A delivered twice, because the remote's clean of its used entry wrote back
 * the line it shares with the master's avail ring. */
static void cache_seeds_align16_loses_message(void **state)
{
	struct link *l = link_open(16, 1);
	size_t avail_off = 16u * NUM, used_off = rpk_vring_size(NUM, 16) - (6u + 8u * NUM);
	struct outcome o;

	(void)state;
	/* The geometry of the issue: avail ring at 256..293, used ring from
	 * 304, both in the line at 256. */
	assert_int_equal(avail_off, 256);
	assert_int_equal(used_off, 304);
	assert_int_equal(avail_off / RPK_SIM_LINE, used_off / RPK_SIM_LINE);

	run_script(l, &o);
	/* Step 4 took the master's avail index back: B is unpublished. */
	assert_int_equal(o.avail_idx_before_return, 2);
	assert_int_equal(o.avail_idx_after_return, 1);
	/* The remote got A twice and never B. */
	assert_int_equal(o.num_delivered, 3);
	assert_string_equal(o.delivered[0], "message A");
	assert_string_equal(o.delivered[1], "message A");
	assert_string_equal(o.delivered[2], "message C");
	/* The master got A back once; the second return of A names no posted
	 * buffer and breaks the queue, with B's descriptor still out: only a
	 * reset gives it back. */
	assert_int_equal(o.returned, 1);
	assert_int_equal(o.return_errors, 1);
	assert_int_equal(l->master.vq.stats.bad_head, 1);
	assert_true(l->master.vq.broken);
	assert_int_equal(rpk_vq_slot_state(&l->master.vq, 1), RPK_SLOT_POSTED);
	link_close(l);
}

/* The same script with the used ring on a line of its own. */
static void cache_seeds_align64_intact(void **state)
{
	struct link *l = link_open(64, 1);
	struct outcome o;

	(void)state;
	assert_true((16u * NUM + 6u + 2u * NUM - 1) / RPK_SIM_LINE <
		    (rpk_vring_size(NUM, 64) - (6u + 8u * NUM)) / RPK_SIM_LINE);
	run_script(l, &o);
	assert_all_arrived_once(l, &o);
	link_close(l);
}

/* Where nothing caches the rings (both sides coherent), alignment 16 is safe. */
static void coherent_seeds_align16_intact(void **state)
{
	struct link *l = link_open(16, 0);
	struct outcome o;

	(void)state;
	run_script(l, &o);
	assert_all_arrived_once(l, &o);
	link_close(l);
}

/* ---- the simulation itself (unit) ---- */

/* A clean writes back whole lines, stale neighbours included; an invalidate
 * reloads whole lines. That is what makes the scenarios above fail. */
static void sim_moves_whole_lines(void **state)
{
	uint8_t *shared = aligned_alloc(4096, 4096), *priv = aligned_alloc(4096, 4096);
	struct rpk_sim_cache c = {0};

	(void)state;
	assert_non_null(shared);
	assert_non_null(priv);
	memset(shared, 0, 4096);
	assert_int_equal(rpk_sim_cache_add(&c, priv, shared, 4096), 0);
	shared[64] = 1; /* a peer's write, unseen by our stale copy */
	priv[100] = 2;	/* our write, in the same line */
	assert_int_equal(priv[64], 0);
	rpk_sim_cache_clean(&c, priv + 100, 1);
	assert_int_equal(shared[100], 2);
	assert_int_equal(shared[64], 0); /* the peer's write is gone */
	assert_int_equal(shared[128], 0);

	shared[64] = 3;
	shared[127] = 4;
	shared[128] = 5;
	rpk_sim_cache_invalidate(&c, priv + 70, 2);
	assert_int_equal(priv[64], 3);
	assert_int_equal(priv[127], 4);
	assert_int_equal(priv[128], 0); /* the next line stays as it was */
	free(shared);
	free(priv);
}

/* rpk_rpmsg_init, in either role, over the seeds' block with this alignment. */
static int init_rpmsg(struct side *s, enum rpk_role role, uint32_t align)
{
	static struct rpk_vq_slot slots[2][NUM];
	static struct rpk_ept *buckets[8];
	struct rpk_rpmsg dev;
	struct rpk_rpmsg_cfg c = {
	    .role = role,
	    .vring = {s->view + VRING0_OFF, s->view + VRING1_OFF},
	    .num = NUM,
	    .align = align,
	    .notify_id = {0, 1},
	    .slots = {slots[0], slots[1]},
	    .mem = &s->mem,
	    .port = &s->port.port,
	    .bufs = role == RPK_ROLE_MASTER ? s->view + POOL_OFF : NULL,
	    .buckets = buckets,
	    .num_buckets = 8,
	};

	return rpk_rpmsg_init(&dev, &c);
}

/* The core refuses rings aligned below a cache line where its port maintains
 * caches (the scenarios' remote), and keeps taking them where it does not. */
static void core_refuses_align_below_line_with_caches(void **state)
{
	struct link *l = link_open(64, 1);

	(void)state;
	for (int role = RPK_ROLE_MASTER; role <= RPK_ROLE_REMOTE; role++) {
		assert_int_equal(init_rpmsg(&l->remote, role, 16), -RPK_EINVAL);
		assert_int_equal(init_rpmsg(&l->remote, role, 32), -RPK_EINVAL);
		assert_int_equal(init_rpmsg(&l->remote, role, 64), 0);
		assert_int_equal(init_rpmsg(&l->remote, role, 128), 0);
		assert_int_equal(init_rpmsg(&l->master, role, 16), 0);
	}
	link_close(l);
}

struct scenario {
	const char *name;
	CMUnitTestFunction fn;
};

#define SCENARIO(f)                                                                                \
	{                                                                                          \
#f, f                                                                              \
	}

static const struct scenario scenarios[] = {
    SCENARIO(cache_seeds_align16_loses_message),
    SCENARIO(cache_seeds_align64_intact),
    SCENARIO(coherent_seeds_align16_intact),
};

static int run_scenario(const struct scenario *s)
{
	const struct CMUnitTest t = {s->name, s->fn, NULL, NULL, NULL};

	return _cmocka_run_group_tests(s->name, &t, 1, NULL, NULL);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest unit[] = {
	    cmocka_unit_test(sim_moves_whole_lines),
	    cmocka_unit_test(core_refuses_align_below_line_with_caches),
	};
	int failed = 0;

	if (argc > 1 && strcmp(argv[1], "unit")) {
		for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
			if (!strcmp(argv[1], scenarios[i].name))
				return run_scenario(&scenarios[i]);
		fprintf(stderr, "test_cache_sim: no scenario named '%s'\n", argv[1]);
		return 2;
	}
	failed += cmocka_run_group_tests_name("cache_sim", unit, NULL, NULL);
	if (argc == 1)
		for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
			failed += run_scenario(&scenarios[i]);
	return failed;
}
