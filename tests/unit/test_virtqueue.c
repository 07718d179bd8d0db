/* SPDX-License-Identifier: BSD-3-Clause */
/* Split virtqueue: both halves over one ring, honest and hostile peers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rpk/errno.h>
#include <rpk/virtio.h>

#define POOL_DA	  0x20000000ull
#define BUF_SIZE  512u
#define MAX_NUM	  1024u
#define RING_SIZE (64u * 1024u)

/*
 * One side's view of memory. In coherent mode both sides use the same
 * memory. In non-coherent mode each side has a private copy of ring and
 * pool, and only the port's clean (private -> shared) and invalidate
 * (shared -> private) move bytes, so a missing cache call loses data.
 */
struct side {
	uint8_t *ring, *pool;	/* what this side's code touches */
	uint8_t *sring, *spool; /* the real shared memory */
	struct rpk_mem_window win;
	struct rpk_mem mem;
	struct rpk_port port;
	struct rpk_vq vq;
	struct rpk_vq_slot slots[MAX_NUM];
	unsigned notifies, cleans, invalidates;
};

struct fx {
	uint8_t *shared_ring, *shared_pool;
	struct side drv, dev;
	int coherent;
};

static void sync_range(struct side *s, const void *p, size_t len, int to_shared)
{
	const uint8_t *b = p;

	if (s->ring == s->sring)
		return;
	if (b >= s->ring && b + len <= s->ring + RING_SIZE) {
		size_t off = (size_t)(b - s->ring);

		if (to_shared)
			memcpy(s->sring + off, s->ring + off, len);
		else
			memcpy(s->ring + off, s->sring + off, len);
	} else if (b >= s->pool && b + len <= s->pool + MAX_NUM * BUF_SIZE) {
		size_t off = (size_t)(b - s->pool);

		if (to_shared)
			memcpy(s->spool + off, s->pool + off, len);
		else
			memcpy(s->pool + off, s->spool + off, len);
	} else {
		fail_msg("cache op on memory outside ring and pool");
	}
}

static void op_clean(void *ctx, const void *p, size_t len)
{
	struct side *s = ctx;

	s->cleans++;
	sync_range(s, p, len, 1);
}

static void op_invalidate(void *ctx, const void *p, size_t len)
{
	struct side *s = ctx;

	s->invalidates++;
	sync_range(s, p, len, 0);
}

static void op_notify(void *ctx, uint32_t id)
{
	struct side *s = ctx;

	(void)id;
	s->notifies++;
}

static const struct rpk_port_ops ops = {
    .notify = op_notify, .cache_clean = op_clean, .cache_invalidate = op_invalidate};

static void side_setup(struct fx *f, struct side *s, int coherent)
{
	s->sring = f->shared_ring;
	s->spool = f->shared_pool;
	if (coherent) {
		s->ring = s->sring;
		s->pool = s->spool;
	} else {
		s->ring = aligned_alloc(4096, RING_SIZE);
		s->pool = aligned_alloc(4096, MAX_NUM * BUF_SIZE);
		memset(s->ring, 0xee, RING_SIZE); /* stale garbage in the "cache" */
		memset(s->pool, 0xee, MAX_NUM * BUF_SIZE);
	}
	s->win.da = POOL_DA;
	s->win.size = MAX_NUM * BUF_SIZE;
	s->win.va = s->pool;
	s->mem.win = &s->win;
	s->mem.count = 1;
	s->port.ops = &ops;
	s->port.ctx = s;
}

static int fx_setup(void **state, int coherent)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->shared_ring = aligned_alloc(4096, RING_SIZE);
	f->shared_pool = aligned_alloc(4096, MAX_NUM * BUF_SIZE);
	memset(f->shared_ring, 0, RING_SIZE);
	memset(f->shared_pool, 0, MAX_NUM * BUF_SIZE);
	f->coherent = coherent;
	side_setup(f, &f->drv, coherent);
	side_setup(f, &f->dev, coherent);
	*state = f;
	return 0;
}

static int setup_coherent(void **state)
{
	return fx_setup(state, 1);
}

static int setup_noncoherent(void **state)
{
	return fx_setup(state, 0);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f->coherent) {
		free(f->drv.ring);
		free(f->drv.pool);
		free(f->dev.ring);
		free(f->dev.pool);
	}
	free(f->shared_ring);
	free(f->shared_pool);
	free(f);
	return 0;
}

static void open_queues(struct fx *f, uint32_t num, uint32_t align)
{
	struct rpk_vq_cfg c = {.num = num, .align = align};

	c.role = RPK_VQ_DRIVER;
	c.ring = f->drv.ring;
	c.slots = f->drv.slots;
	c.mem = &f->drv.mem;
	c.port = &f->drv.port;
	assert_int_equal(rpk_vq_init(&f->drv.vq, &c), 0);
	c.role = RPK_VQ_DEVICE;
	c.ring = f->dev.ring;
	c.slots = f->dev.slots;
	c.mem = &f->dev.mem;
	c.port = &f->dev.port;
	assert_int_equal(rpk_vq_init(&f->dev.vq, &c), 0);
}

static void *drv_buf(struct fx *f, uint32_t i)
{
	return f->drv.pool + (size_t)i * BUF_SIZE;
}

/* Legacy vring sizes, from the virtio spec's formula (Linux vring_size()). */
static void test_vring_size(void **state)
{
	(void)state;
	assert_int_equal(rpk_vring_size(256, 4096), 10246);
	assert_int_equal(rpk_vring_size(16, 16), 438);
	assert_int_equal(rpk_vring_size(1024, 4096), 28678);
	assert_int_equal(rpk_vring_size(0, 16), 0);
	assert_int_equal(rpk_vring_size(3, 16), 0);
	assert_int_equal(rpk_vring_size(2048, 16), 0);
	assert_int_equal(rpk_vring_size(16, 2), 0);
	assert_int_equal(rpk_vring_size(16, 24), 0);
}

/* Every ring size: the device sees each buffer once, the driver gets each back. */
static void test_round_trip_all_sizes(void **state)
{
	struct fx *f = *state;

	for (uint32_t num = 1; num <= MAX_NUM; num *= 2) {
		struct rpk_vq_buf b;
		void *buf;
		uint32_t len;
		uint16_t head;

		open_queues(f, num, 4096);
		for (uint32_t i = 0; i < num; i++) {
			memset(drv_buf(f, i), (int)i, 8);
			assert_true(rpk_vq_add_buf(&f->drv.vq, drv_buf(f, i), BUF_SIZE, i & 1) >=
				    0);
		}
		assert_int_equal(rpk_vq_add_buf(&f->drv.vq, drv_buf(f, 0), BUF_SIZE, 0),
				 -RPK_ENOSPC);
		for (uint32_t i = 0; i < num; i++) {
			assert_int_equal(rpk_vq_get_avail(&f->dev.vq, i & 1, &b), 1);
			assert_int_equal(b.len, BUF_SIZE);
			assert_ptr_equal(b.va, f->dev.pool + (size_t)i * BUF_SIZE);
			if (!(i & 1))
				assert_int_equal(((uint8_t *)b.va)[0], (uint8_t)i);
			assert_int_equal(rpk_vq_add_used(&f->dev.vq, b.head, i & 1 ? 100 : 0), 0);
		}
		assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 0, &b), 0);
		for (uint32_t i = 0; i < num; i++) {
			assert_int_equal(rpk_vq_get_used(&f->drv.vq, &head, &buf, &len), 1);
			assert_ptr_equal(buf, drv_buf(f, i));
			assert_int_equal(len, i & 1 ? 100 : 0);
			rpk_vq_free_desc(&f->drv.vq, head);
		}
		assert_int_equal(rpk_vq_get_used(&f->drv.vq, &head, &buf, &len), 0);
	}
}

/* Free-running 16-bit indices wrap without losing or repeating a buffer. */
static void test_index_wrap(void **state)
{
	struct fx *f = *state;
	struct rpk_vq_buf b;
	uint32_t len;
	uint16_t head;
	void *buf;

	open_queues(f, 4, 16);
	for (uint32_t i = 0; i < 70000; i++) {
		uint32_t *p = drv_buf(f, i % 3);
		int h;

		*p = i;
		h = rpk_vq_add_buf(&f->drv.vq, p, 4, 0);
		assert_true(h >= 0);
		assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 0, &b), 1);
		assert_int_equal(*(uint32_t *)b.va, i);
		assert_int_equal(rpk_vq_add_used(&f->dev.vq, b.head, 0), 0);
		assert_int_equal(rpk_vq_get_used(&f->drv.vq, &head, &buf, &len), 1);
		assert_int_equal(head, h);
		rpk_vq_free_desc(&f->drv.vq, head);
	}
}

/* The used ring sits at the alignment the resource table gives. */
static void test_layout_offsets(void **state)
{
	struct fx *f = *state;
	struct rpk_vq_buf b;
	uint16_t *avail, *used;

	open_queues(f, 16, 4096);
	assert_true(rpk_vq_add_buf(&f->drv.vq, drv_buf(f, 0), 64, 0) >= 0);
	avail = (uint16_t *)(f->shared_ring + 16 * 16);
	assert_int_equal(avail[1], 1);				/* avail->idx */
	assert_int_equal(avail[2], 0);				/* avail->ring[0]: descriptor 0 */
	assert_int_equal(*(uint64_t *)f->shared_ring, POOL_DA); /* desc[0].addr */
	assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 0, &b), 1);
	assert_int_equal(rpk_vq_add_used(&f->dev.vq, b.head, 0), 0);
	used = (uint16_t *)(f->shared_ring + 4096);
	assert_int_equal(used[1], 1); /* used->idx */
}

static void test_notification_suppression(void **state)
{
	struct fx *f = *state;
	struct rpk_vq_buf b;

	open_queues(f, 8, 16);
	assert_false(rpk_vq_kick_prepare(&f->drv.vq)); /* nothing added */
	assert_true(rpk_vq_add_buf(&f->drv.vq, drv_buf(f, 0), 16, 0) >= 0);
	assert_true(rpk_vq_kick_prepare(&f->drv.vq));
	assert_false(rpk_vq_kick_prepare(&f->drv.vq)); /* already told */

	rpk_vq_disable_notify(&f->dev.vq);
	assert_true(rpk_vq_add_buf(&f->drv.vq, drv_buf(f, 1), 16, 0) >= 0);
	assert_false(rpk_vq_kick_prepare(&f->drv.vq));
	/* Re-enabling reports the buffers that arrived while we did not listen. */
	assert_true(rpk_vq_enable_notify(&f->dev.vq));
	assert_true(rpk_vq_add_buf(&f->drv.vq, drv_buf(f, 2), 16, 0) >= 0);
	assert_true(rpk_vq_kick_prepare(&f->drv.vq));

	assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 0, &b), 1);
	rpk_vq_disable_cb(&f->drv.vq);
	assert_int_equal(rpk_vq_add_used(&f->dev.vq, b.head, 0), 0);
	assert_false(rpk_vq_need_interrupt(&f->dev.vq));
	assert_true(rpk_vq_enable_cb(&f->drv.vq));
	assert_true(rpk_vq_need_interrupt(&f->dev.vq));
}

/* ---- a hostile device, seen by the driver ---- */

static struct rpk_vring_used *used_ring(struct fx *f, uint32_t num, uint32_t align)
{
	return (struct rpk_vring_used *)(f->shared_ring + rpk_vring_size(num, align) - 6 - 8 * num);
}

static void test_driver_rejects_bad_used(void **state)
{
	struct fx *f = *state;
	struct rpk_vring_used *u;
	uint32_t len;
	uint16_t head;
	void *buf;

	open_queues(f, 8, 16);
	u = used_ring(f, 8, 16);
	assert_int_equal(rpk_vq_add_buf(&f->drv.vq, drv_buf(f, 0), 64, 1), 0);
	assert_int_equal(rpk_vq_add_buf(&f->drv.vq, drv_buf(f, 1), 64, 1), 1);
	assert_int_equal(rpk_vq_alloc_desc(&f->drv.vq), 2); /* reserved, never posted */

	/* A length larger than the buffer: the buffer is ours again, the lie
	 * is not passed on. */
	u->ring[0] = (struct rpk_vring_used_elem){.id = 0, .len = 65};
	u->idx = 1;
	assert_int_equal(rpk_vq_get_used(&f->drv.vq, &head, &buf, &len), 1);
	assert_int_equal(head, 0);
	assert_int_equal(len, 0);
	assert_int_equal(f->drv.vq.stats.bad_len, 1);
	assert_false(f->drv.vq.broken);

	/* An id that is not a posted buffer (out of range, never posted, or
	 * returned twice) breaks the queue, as Linux's BAD_RING does: the
	 * buffer the device meant to return is lost behind it until a reset. */
	const uint32_t bad_ids[] = {9, 2, 0};

	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		rpk_vq_reset(&f->drv.vq);
		assert_int_equal(rpk_vq_slot_state(&f->drv.vq, 1), RPK_SLOT_RESERVED);
		assert_int_equal(rpk_vq_post(&f->drv.vq, 1, drv_buf(f, 1), 64, 1), 0);
		u->ring[0] = (struct rpk_vring_used_elem){.id = bad_ids[i], .len = 0};
		u->idx = 1;
		assert_int_equal(rpk_vq_get_used(&f->drv.vq, &head, &buf, &len), -RPK_EPIPE);
		assert_int_equal(f->drv.vq.stats.bad_head, i + 1);
		assert_true(f->drv.vq.broken);
		assert_int_equal(rpk_vq_get_used(&f->drv.vq, &head, &buf, &len), -RPK_EPIPE);
		assert_int_equal(rpk_vq_add_buf(&f->drv.vq, drv_buf(f, 3), 64, 1), -RPK_EPIPE);
		/* The break is one count; forgiving it (the device was leaving)
		 * takes that count back, once. */
		rpk_vq_forgive_break(&f->drv.vq);
		rpk_vq_forgive_break(&f->drv.vq);
		assert_int_equal(f->drv.vq.stats.bad_head, i);
		f->drv.vq.stats.bad_head = (uint32_t)(i + 1);
	}

	/* An index further than the buffers in flight breaks it too. */
	rpk_vq_reset(&f->drv.vq);
	assert_int_equal(rpk_vq_post(&f->drv.vq, 1, drv_buf(f, 1), 64, 1), 0);
	u->idx = 40;
	assert_int_equal(rpk_vq_get_used(&f->drv.vq, &head, &buf, &len), -RPK_EPIPE);
	assert_true(f->drv.vq.broken);
	assert_int_equal(f->drv.vq.stats.bad_idx, 1);
	assert_int_equal(rpk_vq_add_buf(&f->drv.vq, drv_buf(f, 3), 64, 1), -RPK_EPIPE);
}

/* ---- a hostile driver, seen by the device ---- */

struct hostile_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	int expect;
	uint32_t counter_offset;
};

static void test_device_rejects_bad_desc(void **state)
{
	struct fx *f = *state;
	const struct hostile_desc cases[] = {
	    {POOL_DA - 1, 16, 0, -RPK_EFAULT, offsetof(struct rpk_vq_stats, bad_addr)},
	    {POOL_DA + MAX_NUM * BUF_SIZE - 8, 16, 0, -RPK_EFAULT,
	     offsetof(struct rpk_vq_stats, bad_addr)},
	    {UINT64_MAX - 4, 16, 0, -RPK_EFAULT, offsetof(struct rpk_vq_stats, bad_addr)},
	    {POOL_DA, 0, 0, -RPK_EFAULT, offsetof(struct rpk_vq_stats, bad_addr)},
	    {POOL_DA, UINT32_MAX, 0, -RPK_EFAULT, offsetof(struct rpk_vq_stats, bad_addr)},
	    {POOL_DA, 16, RPK_VRING_DESC_F_NEXT, -RPK_EBADMSG,
	     offsetof(struct rpk_vq_stats, bad_desc)},
	    {POOL_DA, 16, RPK_VRING_DESC_F_INDIRECT, -RPK_EBADMSG,
	     offsetof(struct rpk_vq_stats, bad_desc)},
	    {POOL_DA, 16, RPK_VRING_DESC_F_WRITE, -RPK_EBADMSG,
	     offsetof(struct rpk_vq_stats, bad_desc)},
	};
	struct rpk_vring_desc *d = (struct rpk_vring_desc *)f->shared_ring;
	struct rpk_vring_avail *a = (struct rpk_vring_avail *)(f->shared_ring + 16 * 8);
	struct rpk_vring_used *u = used_ring(f, 8, 16);
	struct rpk_vq_buf b;

	open_queues(f, 8, 16);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t *counter =
		    (uint32_t *)((char *)&f->dev.vq.stats + cases[i].counter_offset);
		uint32_t before = *counter;

		d[3] = (struct rpk_vring_desc){cases[i].addr, cases[i].len, cases[i].flags, 0};
		a->ring[a->idx % 8] = 3;
		a->idx++;
		assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 0, &b), cases[i].expect);
		assert_int_equal(*counter, before + 1);
		/* The driver gets the rejected buffer back: a writable one with
		 * nothing written, a readable one with the length it gave (what
		 * OpenAMP's master takes as the buffer's size). */
		assert_int_equal(u->idx, i + 1);
		assert_int_equal(u->ring[i % 8].id, 3);
		assert_int_equal(u->ring[i % 8].len,
				 (cases[i].flags & RPK_VRING_DESC_F_WRITE) ? 0 : cases[i].len);
	}
	assert_false(f->dev.vq.broken);
}

static void test_device_rejects_bad_avail(void **state)
{
	struct fx *f = *state;
	struct rpk_vring_desc *d = (struct rpk_vring_desc *)f->shared_ring;
	struct rpk_vring_avail *a = (struct rpk_vring_avail *)(f->shared_ring + 16 * 8);
	struct rpk_vq_buf b;

	open_queues(f, 8, 16);
	d[1] = (struct rpk_vring_desc){POOL_DA, 64, 0, 0};
	a->ring[0] = 1;
	a->idx = 1;
	assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 0, &b), 1);
	assert_int_equal(b.head, 1);
	/* Returning what we do not hold, or more than the buffer, is refused. */
	assert_int_equal(rpk_vq_add_used(&f->dev.vq, 2, 0), -RPK_EINVAL);
	assert_int_equal(rpk_vq_add_used(&f->dev.vq, 1, 65), -RPK_EINVAL);
	assert_int_equal(rpk_vq_add_used(&f->dev.vq, 1, 64), 0);
	assert_int_equal(rpk_vq_add_used(&f->dev.vq, 1, 0), -RPK_EINVAL);

	/* A head out of range, or one we hold already: the driver's real
	 * buffer behind that entry is lost until a reset, so the queue breaks
	 * (one count, not consumed). */
	a->ring[1] = 8;
	a->idx = 2;
	assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 0, &b), -RPK_EPIPE);
	assert_int_equal(f->dev.vq.stats.bad_head, 1);
	assert_true(f->dev.vq.broken);
	assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 0, &b), -RPK_EPIPE);
	assert_int_equal(f->dev.vq.stats.bad_head, 1);
	rpk_vq_reset(&f->dev.vq);
	a->ring[0] = 1;
	a->ring[1] = 1; /* the same head again while we hold it */
	a->idx = 2;
	assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 0, &b), 1);
	assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 0, &b), -RPK_EPIPE);
	assert_int_equal(f->dev.vq.stats.bad_head, 2);
	rpk_vq_reset(&f->dev.vq);
	a->idx = 0;

	a->idx = (uint16_t)(a->idx + 9); /* more than the ring can hold */
	assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 0, &b), -RPK_EPIPE);
	assert_true(f->dev.vq.broken);
	assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 0, &b), -RPK_EPIPE);
}

/* With private copies synced only by clean/invalidate, data still flows both
 * ways: every publish cleans and every consume invalidates what it must. */
static void test_noncoherent_round_trip(void **state)
{
	struct fx *f = *state;

	assert_false(f->coherent);
	open_queues(f, 16, 16);
	for (uint32_t round = 0; round < 100; round++) {
		struct rpk_vq_buf b;
		uint32_t len;
		uint16_t head;
		void *buf;
		int h;

		snprintf(drv_buf(f, round % 16), 32, "out %u", round);
		h = rpk_vq_add_buf(&f->drv.vq, drv_buf(f, round % 16), 32, 0);
		assert_true(h >= 0);
		assert_true(rpk_vq_add_buf(&f->drv.vq, drv_buf(f, 16 + round % 16), 32, 1) >= 0);

		assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 0, &b), 1);
		assert_string_equal(b.va, drv_buf(f, round % 16));
		assert_int_equal(rpk_vq_add_used(&f->dev.vq, b.head, 0), 0);
		assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 1, &b), 1);
		snprintf(b.va, 32, "in %u", round);
		assert_int_equal(rpk_vq_add_used(&f->dev.vq, b.head, 32), 0);

		assert_int_equal(rpk_vq_get_used(&f->drv.vq, &head, &buf, &len), 1);
		assert_int_equal(head, h);
		rpk_vq_free_desc(&f->drv.vq, head);
		assert_int_equal(rpk_vq_get_used(&f->drv.vq, &head, &buf, &len), 1);
		assert_int_equal(len, 32);
		char want[32];
		snprintf(want, sizeof(want), "in %u", round);
		assert_string_equal(buf, want);
		rpk_vq_free_desc(&f->drv.vq, head);
	}
	assert_true(f->drv.cleans > 0 && f->dev.invalidates > 0);
}

/*
 * rpk_vq_free_used(): what the device returned comes back to the free list in
 * one batch, at most what the caller asked for, checked entry by entry like
 * rpk_vq_get_used(); coherent or not.
 */
static void test_free_used_batch(void **state)
{
	struct fx *f = *state;
	struct rpk_vring_used *u;
	struct rpk_vq_buf b;

	open_queues(f, 8, 16);
	for (uint32_t i = 0; i < 8; i++)
		assert_int_equal(rpk_vq_add_buf(&f->drv.vq, drv_buf(f, i), 64, 0), (int)i);
	assert_int_equal(rpk_vq_free_used(&f->drv.vq, 8), 0); /* nothing returned yet */
	for (uint32_t i = 0; i < 5; i++) {
		assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 0, &b), 1);
		assert_int_equal(rpk_vq_add_used_read(&f->dev.vq, b.head), 0);
	}
	assert_int_equal(rpk_vq_free_used(&f->drv.vq, 2), 2);
	assert_int_equal(f->drv.vq.num_free, 2);
	assert_int_equal(rpk_vq_free_used(&f->drv.vq, 8), 3);
	assert_int_equal(f->drv.vq.num_free, 5);
	assert_int_equal(rpk_vq_free_used(&f->drv.vq, 8), 0);
	/* Freed descriptors are taken again, the returned ones first. */
	for (uint32_t i = 0; i < 5; i++) {
		int h = rpk_vq_alloc_desc(&f->drv.vq);

		assert_true(h >= 0 && h < 5);
		rpk_vq_free_desc(&f->drv.vq, (uint16_t)h);
	}
	assert_int_equal(f->drv.vq.stats.bad_len, 0);
	assert_false(f->drv.vq.broken);

	if (!f->coherent)
		return; /* the hostile entries below are written straight into the ring */
	u = used_ring(f, 8, 16);
	/* A length beyond the buffer is counted; the buffer is ours all the same. */
	u->ring[u->idx & 7] = (struct rpk_vring_used_elem){.id = 5, .len = 65};
	u->idx++;
	assert_int_equal(rpk_vq_free_used(&f->drv.vq, 8), 1);
	assert_int_equal(f->drv.vq.stats.bad_len, 1);
	/* An id returned twice breaks the queue, as in rpk_vq_get_used(). */
	u->ring[u->idx & 7] = (struct rpk_vring_used_elem){.id = 5, .len = 0};
	u->idx++;
	assert_int_equal(rpk_vq_free_used(&f->drv.vq, 8), -RPK_EPIPE);
	assert_int_equal(f->drv.vq.stats.bad_head, 1);
	assert_int_equal(rpk_vq_free_used(&f->drv.vq, 8), -RPK_EPIPE);
	/* So does an index beyond what is in flight. */
	rpk_vq_reset(&f->drv.vq);
	assert_int_equal(rpk_vq_add_buf(&f->drv.vq, drv_buf(f, 0), 64, 0), 0);
	u->idx = 2;
	assert_int_equal(rpk_vq_free_used(&f->drv.vq, 8), -RPK_EPIPE);
	assert_int_equal(f->drv.vq.stats.bad_idx, 1);
}

/*
 * rpk_vq_repost(): a receive buffer goes back with the descriptor it had,
 * written once: the device finds the same buffer, length and direction, and
 * its data reaches the driver (coherent or not). Only a buffer taken back
 * from the used ring can be reposted.
 */
static void test_repost(void **state)
{
	struct fx *f = *state;
	struct rpk_vq_buf b;
	uint32_t len;
	uint16_t head;
	void *buf;

	open_queues(f, 4, 16);
	assert_int_equal(rpk_vq_add_buf(&f->drv.vq, drv_buf(f, 1), 100, 1), 0);
	for (uint32_t round = 0; round < 10; round++) {
		assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 1, &b), 1);
		assert_int_equal(b.head, 0);
		assert_int_equal(b.len, 100);
		assert_ptr_equal(b.va, f->dev.pool + BUF_SIZE);
		snprintf(b.va, 100, "round %u", round);
		assert_int_equal(rpk_vq_add_used(&f->dev.vq, b.head, 20), 0);
		assert_int_equal(rpk_vq_get_used(&f->drv.vq, &head, &buf, &len), 1);
		char want[32];
		snprintf(want, sizeof(want), "round %u", round);
		assert_string_equal(buf, want);
		assert_int_equal(rpk_vq_repost(&f->drv.vq, head, 1), 0);
	}
	/* Not taken back: posted, reserved but never posted, out of range. */
	assert_int_equal(rpk_vq_repost(&f->drv.vq, 0, 1), -RPK_EINVAL);
	assert_int_equal(rpk_vq_alloc_desc(&f->drv.vq), 1);
	assert_int_equal(rpk_vq_repost(&f->drv.vq, 1, 1), -RPK_EINVAL);
	assert_int_equal(rpk_vq_repost(&f->drv.vq, 9, 1), -RPK_EINVAL);
	/* A reset zeroes the descriptors: nothing is left to repost. */
	rpk_vq_reset(&f->drv.vq);
	assert_int_equal(rpk_vq_repost(&f->drv.vq, 0, 1), -RPK_EINVAL);

	if (!f->coherent)
		return;
	/* The descriptor is not written again: what the device wrote over it
	 * is what it finds (its own loss; the driver's records hold). */
	rpk_vq_reset(&f->dev.vq);
	assert_int_equal(rpk_vq_post(&f->drv.vq, 0, drv_buf(f, 1), 100, 1), 0);
	assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 1, &b), 1);
	f->drv.vq.desc[0].len = 50;
	assert_int_equal(rpk_vq_add_used(&f->dev.vq, b.head, 0), 0);
	assert_int_equal(rpk_vq_get_used(&f->drv.vq, &head, &buf, &len), 1);
	assert_int_equal(rpk_vq_repost(&f->drv.vq, head, 1), 0);
	assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 1, &b), 1);
	assert_int_equal(b.len, 50);
	assert_int_equal(rpk_vq_add_used(&f->dev.vq, b.head, 100), -RPK_EINVAL);
	assert_int_equal(rpk_vq_add_used(&f->dev.vq, b.head, 50), 0);
	assert_int_equal(rpk_vq_get_used(&f->drv.vq, &head, &buf, &len), 1);
	assert_int_equal(len, 50); /* within the 100 the driver posted */
	/* A driver in its own bad state: broken. */
	f->drv.vq.broken = 1;
	assert_int_equal(rpk_vq_repost(&f->drv.vq, head, 1), -RPK_EPIPE);
}

/* After a reset the device keeps nothing of the old ring in its cache: the
 * driver zeroed it, and a stale line written back later (with the used flags
 * that share it) would resurrect the old used index. */
static void test_noncoherent_device_reset_forgets_ring(void **state)
{
	struct fx *f = *state;
	size_t used_off = rpk_vring_size(16, 16) - (6u + 8u * 16);
	struct rpk_vq_buf b;

	assert_false(f->coherent);
	open_queues(f, 16, 16);
	for (int i = 0; i < 5; i++) {
		assert_true(rpk_vq_add_buf(&f->drv.vq, drv_buf(f, i), 32, 1) >= 0);
		assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 1, &b), 1);
		assert_int_equal(rpk_vq_add_used(&f->dev.vq, b.head, 8), 0);
	}
	rpk_vq_reset(&f->drv.vq); /* zeroes the shared ring */
	rpk_vq_reset(&f->dev.vq);
	assert_memory_equal(f->dev.ring + used_off, f->shared_ring + used_off, 6u + 8u * 16);
	assert_memory_equal(f->dev.ring, f->shared_ring, 16u * 16 + 6u + 2u * 16);
}

static void test_init_rejects_bad_config(void **state)
{
	struct fx *f = *state;
	struct rpk_vq_cfg c = {.role = RPK_VQ_DRIVER,
			       .ring = f->drv.ring,
			       .num = 16,
			       .align = 16,
			       .slots = f->drv.slots,
			       .mem = &f->drv.mem,
			       .port = &f->drv.port};

	c.num = 12;
	assert_int_equal(rpk_vq_init(&f->drv.vq, &c), -RPK_EINVAL);
	c.num = 16;
	c.ring = f->drv.ring + 4; /* descriptors need 16-byte alignment */
	assert_int_equal(rpk_vq_init(&f->drv.vq, &c), -RPK_EINVAL);
	c.ring = f->drv.ring;
	c.slots = NULL;
	assert_int_equal(rpk_vq_init(&f->drv.vq, &c), -RPK_EINVAL);
}

/* Parts placed apart (as a vhost-user guest hands them over) work the same. */
static void test_separate_parts(void **state)
{
	struct fx *f = *state;
	uint8_t *r = f->shared_ring;
	struct rpk_vq_cfg c = {
	    .num = 8, .slots = f->drv.slots, .mem = &f->drv.mem, .port = &f->drv.port};
	struct rpk_vq_buf b;
	uint32_t len;
	uint16_t head;
	void *buf;

	c.role = RPK_VQ_DRIVER;
	c.parts = (struct rpk_vring_parts){r + 8192, r + 4096 + 2, r + 100};
	assert_int_equal(rpk_vq_init(&f->drv.vq, &c), 0);
	c.role = RPK_VQ_DEVICE;
	c.slots = f->dev.slots;
	assert_int_equal(rpk_vq_init(&f->dev.vq, &c), 0);
	memcpy(drv_buf(f, 0), "parts", 6);
	assert_int_equal(rpk_vq_add_buf(&f->drv.vq, drv_buf(f, 0), 6, 0), 0);
	assert_int_equal(*(uint16_t *)(r + 4096 + 2 + 2), 1); /* avail->idx where we put it */
	assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 0, &b), 1);
	assert_string_equal(b.va, "parts");
	assert_int_equal(rpk_vq_add_used(&f->dev.vq, b.head, 0), 0);
	assert_int_equal(*(uint16_t *)(r + 100 + 2), 1); /* used->idx where we put it */
	assert_int_equal(rpk_vq_get_used(&f->drv.vq, &head, &buf, &len), 1);

	c.parts.desc = r + 8192 + 8; /* descriptors need 16-byte alignment */
	assert_int_equal(rpk_vq_init(&f->dev.vq, &c), -RPK_EINVAL);
	c.parts = (struct rpk_vring_parts){r + 8192, r + 4096 + 1, r + 100};
	assert_int_equal(rpk_vq_init(&f->dev.vq, &c), -RPK_EINVAL);
	c.parts = (struct rpk_vring_parts){r + 8192, r + 4096, r + 102};
	assert_int_equal(rpk_vq_init(&f->dev.vq, &c), -RPK_EINVAL);
	c.parts.used = NULL;
	assert_int_equal(rpk_vq_init(&f->dev.vq, &c), -RPK_EINVAL);
}

/*
 * Each half's own entry points (what a single-role firmware calls, so it
 * links one half only) do what rpk_vq_init() and rpk_vq_reset() do for that
 * half, whatever cfg->role says.
 */
static void test_half_entry_points(void **state)
{
	struct fx *f = *state;
	struct rpk_vq_cfg c = {.role = RPK_VQ_DEVICE, /* not read */
			       .ring = f->drv.ring,
			       .num = 8,
			       .align = 16,
			       .slots = f->drv.slots,
			       .mem = &f->drv.mem,
			       .port = &f->drv.port};
	struct rpk_vq_buf b;
	uint32_t len;
	uint16_t head;
	void *buf;

	memset(f->drv.ring, 0xaa, rpk_vring_size(8, 16));
	assert_int_equal(rpk_vq_init_driver(&f->drv.vq, &c), 0);
	assert_int_equal(f->drv.vq.role, RPK_VQ_DRIVER);
	assert_int_equal(f->drv.vq.avail->idx, 0); /* the driver zeroed the ring */
	c.role = RPK_VQ_DRIVER;
	c.ring = f->dev.ring;
	c.slots = f->dev.slots;
	c.mem = &f->dev.mem;
	c.port = &f->dev.port;
	assert_int_equal(rpk_vq_init_device(&f->dev.vq, &c), 0);
	assert_int_equal(f->dev.vq.role, RPK_VQ_DEVICE);

	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(rpk_vq_add_buf(&f->drv.vq, drv_buf(f, i), 32, 1), (int)i);
	assert_int_equal(rpk_vq_pending(&f->dev.vq), 3);
	assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 1, &b), 1);
	assert_int_equal(rpk_vq_add_used(&f->dev.vq, b.head, 4), 0);
	assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 1, &b), 1); /* held across the reset */
	assert_int_equal(rpk_vq_pending(&f->drv.vq), 1);
	assert_int_equal(rpk_vq_get_used(&f->drv.vq, &head, &buf, &len), 1);
	assert_int_equal(len, 4);

	rpk_vq_reset_driver(&f->drv.vq);
	assert_int_equal(rpk_vq_slot_state(&f->drv.vq, 0), RPK_SLOT_RESERVED); /* taken back */
	assert_int_equal(rpk_vq_slot_state(&f->drv.vq, 1), RPK_SLOT_RESERVED); /* was posted */
	assert_int_equal(rpk_vq_slot_state(&f->drv.vq, 2), RPK_SLOT_RESERVED);
	assert_int_equal(f->drv.vq.num_free, 5);
	assert_int_equal(f->drv.vq.avail->idx, 0);
	rpk_vq_reset_device(&f->dev.vq);
	assert_int_equal(rpk_vq_slot_state(&f->dev.vq, 1), RPK_SLOT_FREE); /* forgotten */
	assert_int_equal(f->dev.vq.num_free, 8);
	assert_int_equal(rpk_vq_pending(&f->dev.vq), 0);

	/* And the new session works. */
	assert_int_equal(rpk_vq_post(&f->drv.vq, 2, drv_buf(f, 2), 32, 1), 0);
	assert_int_equal(rpk_vq_get_avail(&f->dev.vq, 1, &b), 1);
	assert_int_equal(b.head, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vring_size),
	    cmocka_unit_test_setup_teardown(test_round_trip_all_sizes, setup_coherent, teardown),
	    cmocka_unit_test_setup_teardown(test_round_trip_all_sizes, setup_noncoherent, teardown),
	    cmocka_unit_test_setup_teardown(test_index_wrap, setup_coherent, teardown),
	    cmocka_unit_test_setup_teardown(test_layout_offsets, setup_coherent, teardown),
	    cmocka_unit_test_setup_teardown(test_notification_suppression, setup_coherent,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_driver_rejects_bad_used, setup_coherent, teardown),
	    cmocka_unit_test_setup_teardown(test_device_rejects_bad_desc, setup_coherent, teardown),
	    cmocka_unit_test_setup_teardown(test_device_rejects_bad_avail, setup_coherent,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_noncoherent_round_trip, setup_noncoherent,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_noncoherent_device_reset_forgets_ring,
					    setup_noncoherent, teardown),
	    cmocka_unit_test_setup_teardown(test_init_rejects_bad_config, setup_coherent, teardown),
	    cmocka_unit_test_setup_teardown(test_separate_parts, setup_coherent, teardown),
	    cmocka_unit_test_setup_teardown(test_half_entry_points, setup_coherent, teardown),
	    cmocka_unit_test_setup_teardown(test_free_used_batch, setup_coherent, teardown),
	    cmocka_unit_test_setup_teardown(test_free_used_batch, setup_noncoherent, teardown),
	    cmocka_unit_test_setup_teardown(test_repost, setup_coherent, teardown),
	    cmocka_unit_test_setup_teardown(test_repost, setup_noncoherent, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
