/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPMsg layer: a master and a remote device in one process over the same
 * memory (two vrings and one buffer pool), each with its own fake port. The
 * port's clock only moves when a wait runs out, so timeouts are exact and
 * nothing sleeps. Some tests play a hostile peer by writing the shared rings
 * and buffers themselves.
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
#include <rpk/mem.h>
#include <rpk/port.h>
#include <rpk/rpmsg.h>
#include <rpk/virtio.h>

#define POOL_DA	   0x200ca000u
#define RING_ALIGN 64u /* the port has cache_invalidate (a hook): rings own their lines */
#define NBUCKETS   64u
#define NSERVICES  64u
#define MAX_HELD   1024u
#define MAX_WAITS  100000u
#define JUNK_CAP   100000u
#define NS_F	   (1u << RPK_VIRTIO_RPMSG_F_NS)

#define M(f) (&(f)->m.dev)
#define R(f) (&(f)->r.dev)

/* What an endpoint received. */
struct rec {
	unsigned count, unbinds;
	uint32_t src;
	size_t len;
	uint8_t data[RPK_RPMSG_BUF_SIZE];
	int hold; /* 1: hold every message, 2: hold the next one only */
	int hold_rc, release_in_cb_rc;
	void *held[MAX_HELD];
	unsigned nheld;
};

struct fx;

struct side {
	struct rpk_rpmsg dev;
	struct rpk_port port;
	struct rpk_vq_slot *slots[2];
	struct rpk_ept *buckets[NBUCKETS];
	struct rpk_service services[NSERVICES];
	struct fx *fx;
	struct side *peer;
	/* doorbells this side rang */
	unsigned notifies;
	uint32_t notify_ids; /* bit per notify id */
	/* event_wait: the hook plays the peer while we "sleep" */
	int (*wait_hook)(struct side *s, uint32_t timeout_ms);
	unsigned waits;
	uint32_t wait_ms[16];
	uint16_t seen_avail1_flags, seen_used0_flags; /* ring flags during the last wait */
	/* cache_invalidate: lets a hostile peer act while we read the ring */
	void (*inv_hook)(struct side *s, const void *p);
	/* ns_bind */
	unsigned binds;
	char bind_name[RPK_NAME_SIZE];
	uint32_t bind_addr;
	int bind_create; /* create an endpoint bound to what is announced */
	int bound_up;
	struct rpk_ept bound;
	struct rec bound_rec;
};

struct fx {
	uint32_t num, buf_size;
	size_t ring_size, pool_size;
	uint8_t *ring[2];
	uint8_t *pool;
	struct rpk_mem_window win;
	struct rpk_mem mem;
	struct side m, r;
	uint32_t clock;
	uint16_t raw_next; /* hostile remote: next avail entry of queue 0 to take */
	unsigned junk;	   /* junk entries a hostile peer published */
	void *extra;	   /* per-test storage, freed in teardown */
};

/* ---- ring layout, computed independently of the code under test ---- */

static struct rpk_vring_desc *ring_desc(struct fx *f, int q)
{
	return (struct rpk_vring_desc *)(void *)f->ring[q];
}

static struct rpk_vring_avail *ring_avail(struct fx *f, int q)
{
	return (struct rpk_vring_avail *)(void *)(f->ring[q] + 16u * f->num);
}

static struct rpk_vring_used *ring_used(struct fx *f, int q)
{
	/* Legacy layout: descriptors, then avail {flags, idx, ring[num],
	 * used_event}, then the used ring at the next multiple of align. */
	size_t off = 16u * f->num + 6u + 2u * f->num;

	off = (off + RING_ALIGN - 1) & ~(size_t)(RING_ALIGN - 1);
	return (struct rpk_vring_used *)(void *)(f->ring[q] + off);
}

static uint8_t *pool_at(struct fx *f, uint64_t da, uint32_t len)
{
	assert_true(da >= POOL_DA && da + len <= POOL_DA + f->pool_size);
	return f->pool + (da - POOL_DA);
}

/* The buffer the remote returned last on queue 0 (the master's receive queue). */
static uint8_t *last_used_buf(struct fx *f, uint32_t *len)
{
	struct rpk_vring_used *u = ring_used(f, 0);
	struct rpk_vring_used_elem *e = &u->ring[(uint16_t)(u->idx - 1) & (f->num - 1)];

	assert_true(u->idx > 0);
	assert_true(e->id < f->num);
	*len = e->len;
	return pool_at(f, ring_desc(f, 0)[e->id].addr, ring_desc(f, 0)[e->id].len);
}

/* The buffer the master posted last on queue 1 (its send queue). */
static uint8_t *last_avail_buf(struct fx *f, uint32_t *len)
{
	struct rpk_vring_avail *a = ring_avail(f, 1);
	uint16_t head = a->ring[(uint16_t)(a->idx - 1) & (f->num - 1)];
	struct rpk_vring_desc *d;

	assert_true(a->idx > 0);
	assert_true(head < f->num);
	d = &ring_desc(f, 1)[head];
	*len = d->len;
	return pool_at(f, d->addr, d->len);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static uint32_t get32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* The 16 header bytes as they must appear on the wire. */
static void make_hdr(uint8_t out[16], uint32_t src, uint32_t dst, uint16_t len)
{
	memset(out, 0, 16);
	put32(out, src);
	put32(out + 4, dst);
	put16(out + 12, len);
}

static void expect_hdr(const uint8_t *buf, uint32_t src, uint32_t dst, uint16_t len)
{
	uint8_t want[16];

	make_hdr(want, src, dst, len);
	assert_memory_equal(buf, want, 16);
}

/* A name-service message; name is copied with memcpy (may lack a NUL). */
static void make_ns(uint8_t out[40], const char *name, size_t name_len, uint32_t addr,
		    uint32_t flags)
{
	memset(out, 0, 40);
	memcpy(out, name, name_len);
	put32(out + 32, addr);
	put32(out + 36, flags);
}

static void expect_ns(const uint8_t *payload, const char *name, uint32_t addr, uint32_t flags)
{
	uint8_t want[40];

	make_ns(want, name, strlen(name), addr, flags);
	assert_memory_equal(payload, want, 40);
}

/* ---- fake port ---- */

static void p_notify(void *ctx, uint32_t id)
{
	struct side *s = ctx;

	s->notifies++;
	s->notify_ids |= 1u << (id & 31u);
}

static void p_invalidate(void *ctx, const void *p, size_t len)
{
	struct side *s = ctx;

	(void)len;
	if (s->inv_hook)
		s->inv_hook(s, p);
}

static uint32_t p_snapshot(void *ctx)
{
	struct side *s = ctx;

	return s->peer->notifies; /* doorbells rung at us */
}

static int p_wait(void *ctx, uint32_t snapshot, uint32_t timeout_ms)
{
	struct side *s = ctx;
	struct fx *f = s->fx;

	(void)snapshot;
	if (s->waits < 16)
		s->wait_ms[s->waits] = timeout_ms;
	if (++s->waits > MAX_WAITS)
		fail_msg("a send keeps waiting");
	s->seen_avail1_flags = ring_avail(f, 1)->flags;
	s->seen_used0_flags = ring_used(f, 0)->flags;
	if (s->wait_hook)
		return s->wait_hook(s, timeout_ms);
	f->clock += timeout_ms; /* nobody kicks: the time runs out */
	return -RPK_ETIMEDOUT;
}

static uint32_t p_now(void *ctx)
{
	struct side *s = ctx;

	return s->fx->clock;
}

static const struct rpk_port_ops port_ops = {
    .notify = p_notify,
    .cache_invalidate = p_invalidate,
    .event_snapshot = p_snapshot,
    .event_wait = p_wait,
    .now_ms = p_now,
};

/* The peer makes progress while we wait. */
static int hook_peer_polls(struct side *s, uint32_t timeout_ms)
{
	(void)timeout_ms;
	assert_true(rpk_rpmsg_poll(&s->peer->dev) >= 0);
	return 0;
}

/* Woken for nothing, 30 ms later. */
static int hook_spurious(struct side *s, uint32_t timeout_ms)
{
	(void)timeout_ms;
	s->fx->clock += 30;
	return 0;
}

/* ---- endpoints' callbacks ---- */

static int rec_cb(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct rec *r = priv;

	r->count++;
	r->src = src;
	r->len = len;
	memcpy(r->data, data, len < sizeof(r->data) ? len : sizeof(r->data));
	if (r->hold) {
		if (r->hold == 2)
			r->hold = 0;
		r->hold_rc = rpk_hold_rx_buffer(ept->dev, data);
		/* Not ours to give back while its callback runs. */
		r->release_in_cb_rc = rpk_release_rx_buffer(ept->dev, data);
		if (!r->hold_rc && r->nheld < MAX_HELD)
			r->held[r->nheld++] = data;
	}
	return 0;
}

static void rec_unbind(struct rpk_ept *ept)
{
	struct rec *r = ept->priv;

	r->unbinds++;
}

static void on_ns_bind(struct rpk_rpmsg *dev, const char *name, uint32_t addr, void *priv)
{
	struct side *s = priv;

	assert_ptr_equal(dev, &s->dev);
	s->binds++;
	snprintf(s->bind_name, sizeof(s->bind_name), "%s", name);
	s->bind_addr = addr;
	if (s->bind_create && !s->bound_up) {
		assert_int_equal(
		    rpk_ept_create(dev, &s->bound, name, RPK_ADDR_ANY, addr, rec_cb, &s->bound_rec),
		    0);
		s->bound.unbind = rec_unbind;
		s->bound_up = 1;
	}
}

/* ---- fixture ---- */

static void side_setup(struct fx *f, struct side *s, struct side *peer)
{
	s->fx = f;
	s->peer = peer;
	s->port.ops = &port_ops;
	s->port.ctx = s;
	for (int q = 0; q < 2; q++) {
		s->slots[q] = calloc(f->num, sizeof(*s->slots[q]));
		assert_non_null(s->slots[q]);
	}
}

static struct fx *fx_new(void **state, uint32_t num, uint32_t buf_size)
{
	struct fx *f = calloc(1, sizeof(*f));
	size_t rs = rpk_vring_size(num, RING_ALIGN);

	assert_non_null(f);
	*state = f;
	assert_true(rs > 0);
	f->num = num;
	f->buf_size = buf_size;
	f->ring_size = (rs + 4095) & ~(size_t)4095;
	f->pool_size = (size_t)2 * num * buf_size;
	for (int q = 0; q < 2; q++) {
		f->ring[q] = aligned_alloc(4096, f->ring_size);
		assert_non_null(f->ring[q]);
		memset(f->ring[q], 0, f->ring_size);
	}
	f->pool = aligned_alloc(4096, (f->pool_size + 4095) & ~(size_t)4095);
	assert_non_null(f->pool);
	memset(f->pool, 0xee, f->pool_size); /* so zero fields must really be written */
	f->win.da = POOL_DA;
	f->win.size = f->pool_size;
	f->win.va = f->pool;
	f->mem.win = &f->win;
	f->mem.count = 1;
	f->clock = 5000;
	side_setup(f, &f->m, &f->r);
	side_setup(f, &f->r, &f->m);
	return f;
}

static int fx_free(void **state)
{
	struct fx *f = *state;

	if (!f)
		return 0;
	free(f->ring[0]);
	free(f->ring[1]);
	free(f->pool);
	for (int q = 0; q < 2; q++) {
		free(f->m.slots[q]);
		free(f->r.slots[q]);
	}
	free(f->extra);
	free(f);
	*state = NULL;
	return 0;
}

static struct rpk_rpmsg_cfg side_cfg(struct fx *f, struct side *s, enum rpk_role role)
{
	int master = role == RPK_ROLE_MASTER;
	struct rpk_rpmsg_cfg cfg = {
	    .role = role,
	    .vring = {f->ring[0], f->ring[1]},
	    .num = f->num,
	    .align = RING_ALIGN,
	    .notify_id = {0, 1},
	    .slots = {s->slots[0], s->slots[1]},
	    .mem = &f->mem,
	    .port = &s->port,
	    .bufs = master ? f->pool : NULL,
	    .buf_size = master && f->buf_size != RPK_RPMSG_BUF_SIZE ? f->buf_size : 0,
	    .buckets = s->buckets,
	    .num_buckets = NBUCKETS,
	    .services = s->services,
	    .num_services = NSERVICES,
	    .ns_bind = on_ns_bind,
	    .ns_priv = s,
	};

	return cfg;
}

static void side_init(struct fx *f, struct side *s, enum rpk_role role)
{
	struct rpk_rpmsg_cfg cfg = side_cfg(f, s, role);

	assert_int_equal(rpk_rpmsg_init(&s->dev, &cfg), 0);
}

static void fx_init_both(struct fx *f)
{
	side_init(f, &f->m, RPK_ROLE_MASTER);
	side_init(f, &f->r, RPK_ROLE_REMOTE);
}

/* Bring-up as the host runtime does it: master first, then the remote. */
static void fx_start(struct fx *f, uint32_t features)
{
	assert_int_equal(rpk_rpmsg_start(M(f), features), 0);
	assert_int_equal(rpk_rpmsg_start(R(f), features), 0);
}

static struct fx *fx_up(void **state, uint32_t num, uint32_t features)
{
	struct fx *f = fx_new(state, num, RPK_RPMSG_BUF_SIZE);

	fx_init_both(f);
	fx_start(f, features);
	return f;
}

static void ept_new(struct rpk_rpmsg *dev, struct rpk_ept *e, const char *name, uint32_t src,
		    uint32_t dst, struct rec *r)
{
	assert_int_equal(rpk_ept_create(dev, e, name, src, dst, rec_cb, r), 0);
	e->unbind = rec_unbind;
}

/* ---- a hostile peer writing the rings by hand ---- */

static void raw_used_put(struct fx *f, int q, uint32_t id, uint32_t len)
{
	struct rpk_vring_used *u = ring_used(f, q);

	u->ring[u->idx & (f->num - 1)].id = id;
	u->ring[u->idx & (f->num - 1)].len = len;
	__atomic_store_n(&u->idx, (uint16_t)(u->idx + 1), __ATOMIC_RELEASE);
}

/* Play the remote: fill the master's next receive buffer and return it with
 * used length used_len; the header says hdr_len. */
static void raw_remote_send(struct fx *f, uint32_t src, uint32_t dst, uint16_t hdr_len,
			    const void *payload, size_t plen, uint32_t used_len)
{
	struct rpk_vring_avail *a = ring_avail(f, 0);
	struct rpk_vring_desc *d;
	uint16_t head;
	uint8_t *buf;

	assert_true((uint16_t)(a->idx - f->raw_next) > 0);
	head = a->ring[f->raw_next++ & (f->num - 1)];
	assert_true(head < f->num);
	d = &ring_desc(f, 0)[head];
	assert_true(d->flags & RPK_VRING_DESC_F_WRITE);
	buf = pool_at(f, d->addr, d->len);
	make_hdr(buf, src, dst, hdr_len);
	memcpy(buf + 16, payload, plen);
	raw_used_put(f, 0, head, used_len);
}

/* Play the master: post descriptor head for [da, da + len) on queue q. */
static void raw_master_post_q(struct fx *f, int q, uint16_t head, uint64_t da, uint32_t len,
			      uint16_t flags)
{
	struct rpk_vring_desc *d = &ring_desc(f, q)[head];
	struct rpk_vring_avail *a = ring_avail(f, q);

	d->addr = da;
	d->len = len;
	d->flags = flags;
	d->next = 0;
	a->ring[a->idx & (f->num - 1)] = head;
	__atomic_store_n(&a->idx, (uint16_t)(a->idx + 1), __ATOMIC_RELEASE);
}

/* Play the master: a message for the remote on queue 1. */
static void raw_master_post(struct fx *f, uint16_t head, uint64_t da, uint32_t len, uint16_t flags)
{
	raw_master_post_q(f, 1, head, da, len, flags);
}

/* While the master reads its receive queue's used index, publish junk. */
static void junk_used0(struct side *s, const void *p)
{
	struct fx *f = s->fx;
	struct rpk_vring_used *u = ring_used(f, 0);

	if (p != &u->idx || f->junk >= JUNK_CAP)
		return;
	f->junk++;
	raw_used_put(f, 0, 0xffffu, 16);
}

/* While the remote reads its receive queue's avail index, publish junk. */
static void junk_avail1(struct side *s, const void *p)
{
	struct fx *f = s->fx;
	struct rpk_vring_avail *a = ring_avail(f, 1);

	if (p != &a->idx || f->junk >= JUNK_CAP)
		return;
	f->junk++;
	a->ring[a->idx & (f->num - 1)] = 0xffffu;
	__atomic_store_n(&a->idx, (uint16_t)(a->idx + 1), __ATOMIC_RELEASE);
}

/* ---- wire format ---- */

static void check_pool_layout(void **state, uint32_t num)
{
	struct fx *f = fx_new(state, num, RPK_RPMSG_BUF_SIZE);
	uint32_t nbufs = num < 256 ? num : 256;
	struct rpk_vring_avail *a0 = ring_avail(f, 0), *a1 = ring_avail(f, 1);
	uint8_t *seen = calloc(2 * nbufs, 1);
	struct rpk_ept re;
	struct rec rr = {0};

	f->extra = seen;
	assert_non_null(seen);
	side_init(f, &f->m, RPK_ROLE_MASTER);
	for (int q = 0; q < 2; q++) {
		assert_ptr_equal(f->m.dev.vq[q].desc, ring_desc(f, q));
		assert_ptr_equal(f->m.dev.vq[q].avail, ring_avail(f, q));
		assert_ptr_equal(f->m.dev.vq[q].used, ring_used(f, q));
	}
	/* min(num, 256) receive buffers of 512 bytes, each once, from the first half. */
	assert_int_equal(a0->idx, nbufs);
	for (uint32_t i = 0; i < nbufs; i++) {
		uint16_t head = a0->ring[i];
		struct rpk_vring_desc *d = &ring_desc(f, 0)[head];
		uint64_t off = d->addr - POOL_DA;

		assert_true(head < num);
		assert_int_equal(d->len, RPK_RPMSG_BUF_SIZE);
		assert_int_equal(d->flags, RPK_VRING_DESC_F_WRITE);
		assert_true(d->addr >= POOL_DA && off < (uint64_t)nbufs * RPK_RPMSG_BUF_SIZE);
		assert_int_equal(off % RPK_RPMSG_BUF_SIZE, 0);
		assert_int_equal(seen[off / RPK_RPMSG_BUF_SIZE], 0);
		seen[off / RPK_RPMSG_BUF_SIZE] = 1;
	}
	assert_int_equal(a1->idx, 0); /* nothing to send yet */
	assert_int_equal(f->m.notifies, 0);

	side_init(f, &f->r, RPK_ROLE_REMOTE);
	ept_new(R(f), &re, NULL, RPK_ADDR_ANY, RPK_ADDR_ANY, &rr);
	/* The master kicks its receive queue once at start, the remote not at all. */
	assert_int_equal(rpk_rpmsg_start(M(f), 0), 0);
	assert_int_equal(f->m.notifies, 1);
	assert_int_equal(f->m.notify_ids, 1u << 0);
	assert_int_equal(rpk_rpmsg_start(R(f), 0), 0);
	assert_int_equal(f->r.notifies, 0);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 0);
	assert_int_equal(f->m.notifies, 1);
	assert_int_equal(f->r.notifies, 0);

	/* Sends use the second half: exactly nbufs buffers, then none. */
	for (uint32_t i = 0; i < nbufs; i++) {
		uint32_t len;
		uint8_t *buf;
		uint64_t off;

		assert_int_equal(
		    rpk_send_offchannel_raw(M(f), 99, re.addr, &i, sizeof(i), RPK_NO_WAIT), 0);
		buf = last_avail_buf(f, &len);
		assert_int_equal(len, RPK_RPMSG_HDR_SIZE + sizeof(i));
		assert_int_equal(ring_desc(f, 1)[a1->ring[i & (num - 1)]].flags, 0);
		off = (uint64_t)(buf - f->pool);
		assert_true(off >= (uint64_t)nbufs * RPK_RPMSG_BUF_SIZE &&
			    off < (uint64_t)2 * nbufs * RPK_RPMSG_BUF_SIZE);
		assert_int_equal(off % RPK_RPMSG_BUF_SIZE, 0);
		assert_int_equal(seen[off / RPK_RPMSG_BUF_SIZE], 0);
		seen[off / RPK_RPMSG_BUF_SIZE] = 1;
		expect_hdr(buf, 99, re.addr, sizeof(i));
	}
	assert_int_equal(rpk_send_offchannel_raw(M(f), 99, re.addr, "x", 1, RPK_NO_WAIT),
			 -RPK_EAGAIN);
	while (rpk_rpmsg_poll(R(f)) > 0)
		;
	assert_int_equal(rr.count, nbufs);
	assert_int_equal(rr.src, 99);
}

static void test_pool_layout_16(void **state)
{
	check_pool_layout(state, 16);
}

static void test_pool_layout_512(void **state)
{
	check_pool_layout(state, 512);
}

static void test_wire_header_both_ways(void **state)
{
	struct fx *f = fx_new(state, 16, RPK_RPMSG_BUF_SIZE);
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};
	uint8_t big[RPK_RPMSG_BUF_SIZE];
	uint32_t len;
	uint8_t *buf;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 1);
	fx_init_both(f);
	ept_new(R(f), &re, NULL, RPK_ADDR_ANY, 2000, &rr);
	assert_int_equal(re.addr, RPK_RESERVED_ADDRESSES);
	fx_start(f, 0);
	ept_new(M(f), &me, NULL, 2000, RPK_ADDR_ANY, &mr);

	/* remote -> master, in a master receive buffer. */
	assert_int_equal(rpk_send(&re, "hello", 5, RPK_NO_WAIT), 0);
	assert_int_equal(ring_used(f, 0)->idx, 1);
	buf = last_used_buf(f, &len);
	assert_int_equal(len, RPK_RPMSG_HDR_SIZE + 5);
	expect_hdr(buf, re.addr, 2000, 5);
	assert_memory_equal(buf + 16, "hello", 5);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(mr.count, 1);
	assert_int_equal(mr.src, re.addr);
	assert_int_equal(mr.len, 5);
	assert_memory_equal(mr.data, "hello", 5);

	/* master -> remote: the full 496-byte payload, not one more. */
	assert_int_equal(rpk_max_payload(M(f)), RPK_RPMSG_MAX_PAYLOAD);
	assert_int_equal(rpk_sendto(&me, re.addr, big, RPK_RPMSG_MAX_PAYLOAD, RPK_NO_WAIT), 0);
	buf = last_avail_buf(f, &len);
	assert_int_equal(len, RPK_RPMSG_BUF_SIZE);
	expect_hdr(buf, 2000, re.addr, RPK_RPMSG_MAX_PAYLOAD);
	assert_memory_equal(buf + 16, big, RPK_RPMSG_MAX_PAYLOAD);
	assert_int_equal(rpk_sendto(&me, re.addr, big, RPK_RPMSG_MAX_PAYLOAD + 1, RPK_NO_WAIT),
			 -RPK_EMSGSIZE);
	assert_int_equal(ring_avail(f, 1)->idx, 1); /* the refused one was not published */
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(rr.count, 1);
	assert_int_equal(rr.src, 2000);
	assert_int_equal(rr.len, RPK_RPMSG_MAX_PAYLOAD);
	assert_memory_equal(rr.data, big, RPK_RPMSG_MAX_PAYLOAD);

	/* The remote can fill a master buffer too. */
	assert_int_equal(rpk_send(&re, big, RPK_RPMSG_MAX_PAYLOAD, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_send(&re, big, RPK_RPMSG_MAX_PAYLOAD + 1, RPK_NO_WAIT), -RPK_EMSGSIZE);
	buf = last_used_buf(f, &len);
	assert_int_equal(len, RPK_RPMSG_BUF_SIZE);
	expect_hdr(buf, re.addr, 2000, RPK_RPMSG_MAX_PAYLOAD);
	/* An empty message is a message. */
	assert_int_equal(rpk_send(&re, NULL, 0, RPK_NO_WAIT), 0);
	buf = last_used_buf(f, &len);
	assert_int_equal(len, RPK_RPMSG_HDR_SIZE);
	expect_hdr(buf, re.addr, 2000, 0);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 2);
	assert_int_equal(mr.count, 3);
	assert_int_equal(mr.len, 0);
	assert_int_equal(f->m.dev.stats.rx_msgs, 3);
	assert_int_equal(f->r.dev.stats.tx_msgs, 3);
}

/*
 * The role's own init entry points (what a single-role firmware calls, so it
 * links one role's code) set up the same device as rpk_rpmsg_init(), whatever
 * cfg->role says; rpk_rpmsg_init() refuses a role it does not know.
 */
static void test_role_init_entry_points(void **state)
{
	struct fx *f = fx_new(state, 16, RPK_RPMSG_BUF_SIZE);
	struct rpk_rpmsg_cfg mc = side_cfg(f, &f->m, RPK_ROLE_MASTER);
	struct rpk_rpmsg_cfg rc = side_cfg(f, &f->r, RPK_ROLE_REMOTE);
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};

	mc.role = RPK_ROLE_REMOTE; /* not read by the role's own init */
	rc.role = RPK_ROLE_MASTER;
	assert_int_equal(rpk_rpmsg_init_master(M(f), &mc), 0);
	assert_int_equal(rpk_rpmsg_init_remote(R(f), &rc), 0);
	assert_int_equal(M(f)->role, RPK_ROLE_MASTER);
	assert_int_equal(R(f)->role, RPK_ROLE_REMOTE);
	assert_ptr_equal(M(f)->rvq, &M(f)->vq[0]);
	assert_ptr_equal(R(f)->rvq, &R(f)->vq[1]);
	assert_int_equal(M(f)->vq[0].role, RPK_VQ_DRIVER);
	assert_int_equal(R(f)->vq[0].role, RPK_VQ_DEVICE);
	assert_int_equal(ring_avail(f, 0)->idx, 16); /* the master posted its receive buffers */
	assert_int_equal(rpk_rpmsg_lay_out(R(f)), -RPK_EBUSY); /* the master's to do */
	assert_int_equal(rpk_rpmsg_lay_out(M(f)), 0);

	ept_new(R(f), &re, "svc", RPK_ADDR_ANY, RPK_ADDR_ANY, &rr);
	fx_start(f, 1u << RPK_VIRTIO_RPMSG_F_NS);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1); /* the announcement */
	ept_new(M(f), &me, "svc", RPK_ADDR_ANY, RPK_ADDR_ANY, &mr);
	assert_int_equal(rpk_ept_get_dst(&me), re.addr);
	assert_int_equal(rpk_send(&me, "ping", 4, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(rr.count, 1);
	assert_int_equal(rpk_sendto(&re, rr.src, "pong", 4, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(mr.count, 1);
	assert_memory_equal(mr.data, "pong", 4);

	/* Each role checks what it needs; the run-time choice knows two roles. */
	mc.bufs = NULL;
	assert_int_equal(rpk_rpmsg_init_master(M(f), &mc), -RPK_EINVAL);
	assert_int_equal(rpk_rpmsg_init_remote(R(f), &mc), 0); /* a remote has no pool */
	mc.bufs = f->pool;
	mc.role = (enum rpk_role)2;
	assert_int_equal(rpk_rpmsg_init(M(f), &mc), -RPK_EINVAL);
	rc.num_buckets = 3;
	assert_int_equal(rpk_rpmsg_init_remote(R(f), &rc), -RPK_EINVAL);
}

/*
 * A remote set up with rpk_rpmsg_init_remote() (what keeps their code out of
 * an image that never asks) hears no announcements and refuses event
 * indices until it asks for them; once it asks, both work. Asked for or not,
 * its own announcements go out.
 */
static void check_remote_parts(struct fx *f, int asked)
{
	struct rpk_rpmsg_cfg mc = side_cfg(f, &f->m, RPK_ROLE_MASTER);
	struct rpk_rpmsg_cfg rc = side_cfg(f, &f->r, RPK_ROLE_REMOTE);
	const uint32_t ev = 1u << RPK_VIRTIO_RING_F_EVENT_IDX;
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};

	memset(f->ring[0], 0, f->ring_size);
	memset(f->ring[1], 0, f->ring_size);
	assert_int_equal(rpk_rpmsg_init_master(M(f), &mc), 0);
	assert_int_equal(rpk_rpmsg_init_remote(R(f), &rc), 0);
	if (asked) {
		rpk_rpmsg_listen_ns(R(f));
		rpk_rpmsg_use_event_idx(R(f));
	} else {
		/* Refused whole: nothing started. */
		assert_int_equal(rpk_rpmsg_start(R(f), NS_F | ev), -RPK_ENOTSUP);
		assert_false(rpk_rpmsg_is_up(R(f)));
		assert_int_equal(ring_used(f, 0)->idx, 0);
	}
	/* Each side's own named endpoint: the master's is announced to the
	 * remote, the remote's to the master. */
	ept_new(M(f), &me, "m-svc", RPK_ADDR_ANY, RPK_ADDR_ANY, &mr);
	ept_new(R(f), &re, "m-svc", RPK_ADDR_ANY, 0x500, &rr); /* bound: not announced */
	fx_start(f, NS_F | (asked ? ev : 0));
	assert_int_equal(R(f)->rvq->event_idx, asked);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1); /* the master's announcement */
	if (asked) {
		assert_int_equal(f->r.dev.stats.rx_no_ept, 0);
		assert_ptr_equal(rpk_ept_lookup(R(f), RPK_NS_ADDR), &R(f)->ns_ept);
		assert_int_equal(f->r.binds, 1);
		assert_string_equal(f->r.bind_name, "m-svc");
		assert_int_equal(f->r.bind_addr, me.addr);
	} else {
		assert_int_equal(f->r.dev.stats.rx_no_ept, 1);
		assert_null(rpk_ept_lookup(R(f), RPK_NS_ADDR));
		assert_int_equal(f->r.binds, 0);
	}
	/* Messages flow either way; the remote's announcement reaches the
	 * master, which hears by default. */
	assert_int_equal(rpk_sendto(&re, me.addr, "ping", 4, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(mr.count, 1);
	assert_int_equal(rpk_sendto(&me, re.addr, "pong", 4, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(rr.count, 1);
	rpk_ept_destroy(&re);
	rpk_ept_destroy(&me);
}

static void test_remote_parts_asked_for(void **state)
{
	struct fx *f = fx_new(state, 16, RPK_RPMSG_BUF_SIZE);

	check_remote_parts(f, 0);
	f->r.binds = 0;
	check_remote_parts(f, 1);
}

static void test_remote_max_payload_follows_master(void **state)
{
	struct fx *f = fx_new(state, 8, 256);
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};
	uint8_t big[256];
	void *b;
	uint32_t size;

	memset(big, 0x5a, sizeof(big));
	fx_init_both(f);
	fx_start(f, 0);
	ept_new(M(f), &me, NULL, 2000, RPK_ADDR_ANY, &mr);
	ept_new(R(f), &re, NULL, RPK_ADDR_ANY, 2000, &rr);

	assert_int_equal(rpk_max_payload(M(f)), 240);
	assert_int_equal(rpk_send(&re, big, 241, RPK_NO_WAIT), -RPK_EMSGSIZE);
	assert_int_equal(rpk_max_payload(R(f)), 240);
	assert_int_equal(rpk_send(&re, big, 240, RPK_NO_WAIT), 0);
	/* The refused send kept its buffer: 8 in flight in all. */
	for (int i = 1; i < 8; i++)
		assert_int_equal(rpk_send(&re, big, 1, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_send(&re, big, 1, RPK_NO_WAIT), -RPK_EAGAIN);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 8);
	assert_int_equal(mr.count, 8);
	assert_int_equal(rpk_get_tx_buffer(R(f), &b, &size, RPK_NO_WAIT), 0);
	assert_int_equal(size, 240);
	assert_int_equal(rpk_send_nocopy(&re, 2000, b, 241), -RPK_EMSGSIZE);
	assert_int_equal(rpk_release_tx_buffer(R(f), b), 0);

	assert_int_equal(rpk_sendto(&me, re.addr, big, 241, RPK_NO_WAIT), -RPK_EMSGSIZE);
	assert_int_equal(rpk_sendto(&me, re.addr, big, 240, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(rr.len, 240);
}

/* ---- name service ---- */

static void test_ns_announce_bind_destroy(void **state)
{
	struct fx *f = fx_new(state, 16, RPK_RPMSG_BUF_SIZE);
	struct rpk_ept me, re, late;
	struct rec mr = {0}, rr = {0}, lr = {0};
	uint32_t len;
	uint8_t *buf;

	fx_init_both(f);
	ept_new(R(f), &re, "rpmsg-echo", RPK_ADDR_ANY, RPK_ADDR_ANY, &rr);
	assert_int_equal(ring_used(f, 0)->idx, 0);
	assert_int_equal(rpk_rpmsg_start(M(f), NS_F), 0);
	assert_int_equal(ring_used(f, 0)->idx, 0); /* not before the remote's start */
	assert_int_equal(rpk_rpmsg_start(R(f), NS_F), 0);
	assert_int_equal(ring_used(f, 0)->idx, 1);
	buf = last_used_buf(f, &len);
	assert_int_equal(len, RPK_RPMSG_HDR_SIZE + 40);
	expect_hdr(buf, re.addr, RPK_NS_ADDR, 40);
	expect_ns(buf + 16, "rpmsg-echo", re.addr, RPK_NS_CREATE);

	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(f->m.binds, 1);
	assert_string_equal(f->m.bind_name, "rpmsg-echo");
	assert_int_equal(f->m.bind_addr, re.addr);
	assert_int_equal(f->m.dev.stats.ns_bad, 0);

	/* A later endpoint by that name is bound through the service table. */
	ept_new(M(f), &me, "rpmsg-echo", RPK_ADDR_ANY, RPK_ADDR_ANY, &mr);
	assert_int_equal(me.dst, re.addr);
	assert_int_equal(f->m.binds, 1);
	assert_int_equal(rpk_send(&me, "ping", 4, RPK_NO_WAIT), 0);
	while (rpk_rpmsg_poll(R(f)) > 0)
		;
	/* Like Linux, it did not announce itself back: only the ping arrived. */
	assert_int_equal(f->r.dev.stats.rx_msgs, 1);
	assert_int_equal(rr.count, 1);
	assert_int_equal(rr.src, me.addr);
	assert_memory_equal(rr.data, "ping", 4);

	/* Destroy is announced; the master's bound endpoint is unbound. */
	rpk_ept_destroy(&re);
	buf = last_used_buf(f, &len);
	assert_int_equal(len, RPK_RPMSG_HDR_SIZE + 40);
	expect_hdr(buf, re.addr, RPK_NS_ADDR, 40);
	expect_ns(buf + 16, "rpmsg-echo", re.addr, RPK_NS_DESTROY);
	assert_null(rpk_ept_lookup(R(f), re.addr));
	assert_int_equal(f->r.dev.stats.ns_lost, 0);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(mr.unbinds, 1);
	assert_int_equal(me.dst, RPK_ADDR_ANY);
	assert_int_equal(f->m.binds, 1);
	assert_int_equal(rpk_send(&me, "x", 1, RPK_NO_WAIT), -RPK_ENOTCONN);
	/* ...and the service is forgotten. */
	ept_new(M(f), &late, "rpmsg-echo", RPK_ADDR_ANY, RPK_ADDR_ANY, &lr);
	assert_int_equal(late.dst, RPK_ADDR_ANY);
}

static void test_ns_bound_on_arrival(void **state)
{
	struct fx *f = fx_new(state, 16, RPK_RPMSG_BUF_SIZE);
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};
	uint32_t len;
	uint8_t *buf;

	fx_init_both(f);
	ept_new(R(f), &re, "svc", RPK_ADDR_ANY, RPK_ADDR_ANY, &rr);
	assert_int_equal(rpk_rpmsg_start(M(f), NS_F), 0);
	/* The master's endpoint exists before the remote's announcement. */
	ept_new(M(f), &me, "svc", 3000, RPK_ADDR_ANY, &mr);
	buf = last_avail_buf(f, &len);
	assert_int_equal(len, RPK_RPMSG_HDR_SIZE + 40);
	expect_hdr(buf, 3000, RPK_NS_ADDR, 40);
	expect_ns(buf + 16, "svc", 3000, RPK_NS_CREATE);
	assert_int_equal(me.dst, RPK_ADDR_ANY);

	assert_int_equal(rpk_rpmsg_start(R(f), NS_F), 0);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(f->m.binds, 0);
	assert_int_equal(me.dst, re.addr);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(f->r.binds, 0);
	assert_int_equal(re.dst, 3000);

	assert_int_equal(rpk_send(&me, "m2r", 3, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_send(&re, "r2m", 3, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(rr.count, 1);
	assert_memory_equal(rr.data, "m2r", 3);
	assert_int_equal(mr.count, 1);
	assert_memory_equal(mr.data, "r2m", 3);
}

static void test_ns_master_destroy_unbinds_remote(void **state)
{
	struct fx *f = fx_up(state, 16, NS_F);
	struct rpk_ept me;
	struct rec mr = {0};
	uint8_t ns[40];
	uint32_t len;
	uint8_t *buf;

	f->r.bind_create = 1;
	ept_new(M(f), &me, "svc-m", RPK_ADDR_ANY, RPK_ADDR_ANY, &mr);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(f->r.binds, 1);
	assert_string_equal(f->r.bind_name, "svc-m");
	assert_int_equal(f->r.bind_addr, me.addr);
	assert_int_equal(f->r.bound.dst, me.addr);
	assert_int_equal(rpk_send(&f->r.bound, "hi", 2, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(mr.count, 1);
	assert_int_equal(mr.src, f->r.bound.addr);

	rpk_ept_destroy(&me);
	buf = last_avail_buf(f, &len);
	assert_int_equal(len, RPK_RPMSG_HDR_SIZE + 40);
	expect_hdr(buf, me.addr, RPK_NS_ADDR, 40);
	expect_ns(buf + 16, "svc-m", me.addr, RPK_NS_DESTROY);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(f->r.bound_rec.unbinds, 1);
	assert_int_equal(f->r.bound.dst, RPK_ADDR_ANY);
	assert_int_equal(rpk_send(&f->r.bound, "hi", 2, RPK_NO_WAIT), -RPK_ENOTCONN);
	/* A second destroy of the same service unbinds nothing more. */
	make_ns(ns, "svc-m", 5, me.addr, RPK_NS_DESTROY);
	assert_int_equal(rpk_send_offchannel_raw(M(f), me.addr, RPK_NS_ADDR, ns, 40, 0), 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(f->r.dev.stats.ns_bad, 0);
	assert_int_equal(f->r.bound_rec.unbinds, 1);
}

static void test_ns_disabled_sends_nothing(void **state)
{
	struct fx *f = fx_new(state, 16, RPK_RPMSG_BUF_SIZE);
	struct rpk_ept me, re, re2;
	struct rec mr = {0}, rr = {0}, rr2 = {0};
	uint8_t ns[40];

	fx_init_both(f);
	ept_new(R(f), &re, "svc", RPK_ADDR_ANY, RPK_ADDR_ANY, &rr);
	fx_start(f, 0);
	ept_new(R(f), &re2, "svc2", RPK_ADDR_ANY, RPK_ADDR_ANY, &rr2);
	ept_new(M(f), &me, "svc", RPK_ADDR_ANY, RPK_ADDR_ANY, &mr);
	assert_int_equal(ring_used(f, 0)->idx, 0);
	assert_int_equal(ring_avail(f, 1)->idx, 0);
	assert_int_equal(f->m.notifies, 1); /* the start kick only */
	assert_int_equal(f->r.notifies, 0);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 0);
	assert_int_equal(f->m.binds + f->r.binds, 0);
	assert_int_equal(me.dst, RPK_ADDR_ANY);
	assert_int_equal(re.dst, RPK_ADDR_ANY);
	assert_null(rpk_ept_lookup(M(f), RPK_NS_ADDR));
	assert_null(rpk_ept_lookup(R(f), RPK_NS_ADDR));

	rpk_ept_destroy(&re);
	rpk_ept_destroy(&re2);
	rpk_ept_destroy(&me);
	assert_int_equal(ring_used(f, 0)->idx, 0);
	assert_int_equal(ring_avail(f, 1)->idx, 0);
	assert_int_equal(f->m.dev.stats.ns_lost + f->r.dev.stats.ns_lost, 0);
	/* No announcement is left owed to a peer without a name service. */
	assert_int_equal(f->r.dev.ns_pending, 0);
	assert_int_equal(f->m.dev.ns_pending, 0);

	/* Nobody listens at 53. */
	make_ns(ns, "svc", 3, 1024, RPK_NS_CREATE);
	assert_int_equal(rpk_send_offchannel_raw(R(f), 1024, RPK_NS_ADDR, ns, 40, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(f->m.dev.stats.rx_no_ept, 1);
	assert_int_equal(f->m.binds, 0);
}

/* ---- addresses and dispatch ---- */

static void test_addresses(void **state)
{
	struct fx *f = fx_up(state, 16, NS_F);
	struct rpk_ept e[8], x;
	struct rec r = {0};
	char name[40];

	ept_new(R(f), &e[0], NULL, RPK_ADDR_ANY, RPK_ADDR_ANY, &r);
	ept_new(R(f), &e[1], NULL, RPK_ADDR_ANY, RPK_ADDR_ANY, &r);
	ept_new(R(f), &e[2], NULL, RPK_ADDR_ANY, RPK_ADDR_ANY, &r);
	assert_int_equal(e[0].addr, 1024);
	assert_int_equal(e[1].addr, 1025);
	assert_int_equal(e[2].addr, 1026);
	ept_new(R(f), &e[3], NULL, 1027, RPK_ADDR_ANY, &r);
	ept_new(R(f), &e[4], NULL, RPK_ADDR_ANY, RPK_ADDR_ANY, &r);
	assert_int_equal(e[4].addr, 1028); /* skips the fixed one */
	assert_int_equal(rpk_ept_create(R(f), &x, NULL, 1025, RPK_ADDR_ANY, rec_cb, &r),
			 -RPK_EADDRINUSE);
	assert_int_equal(rpk_ept_create(R(f), &x, NULL, RPK_NS_ADDR, RPK_ADDR_ANY, rec_cb, &r),
			 -RPK_EADDRINUSE);
	memset(name, 'a', sizeof(name));
	name[RPK_NAME_SIZE] = 0;
	assert_int_equal(rpk_ept_create(R(f), &x, name, RPK_ADDR_ANY, RPK_ADDR_ANY, rec_cb, &r),
			 -RPK_EINVAL);
	name[RPK_NAME_SIZE] = 'a';
	name[sizeof(name) - 1] = 0;
	assert_int_equal(rpk_ept_create(R(f), &x, name, 3000, RPK_ADDR_ANY, rec_cb, &r),
			 -RPK_EINVAL);
	assert_null(rpk_ept_lookup(R(f), 3000));
	name[RPK_NAME_SIZE - 1] = 0; /* 31 characters fit */
	ept_new(R(f), &e[5], name, RPK_ADDR_ANY, RPK_ADDR_ANY, &r);
	assert_int_equal(e[5].addr, 1029);
	assert_string_equal(e[5].name, name);

	assert_ptr_equal(rpk_ept_lookup(R(f), 1025), &e[1]);
	assert_ptr_equal(rpk_ept_lookup(R(f), 1027), &e[3]);
	assert_non_null(rpk_ept_lookup(R(f), RPK_NS_ADDR));
	assert_null(rpk_ept_lookup(R(f), 1030));
	assert_null(rpk_ept_lookup(R(f), 1024 + NBUCKETS)); /* same bucket as 1024 */
	assert_null(rpk_ept_lookup(M(f), 1025));	    /* each side has its own */
	rpk_ept_destroy(&e[1]);
	assert_null(rpk_ept_lookup(R(f), 1025));
	assert_ptr_equal(rpk_ept_lookup(R(f), 1024), &e[0]);
	ept_new(R(f), &e[6], NULL, 1025, RPK_ADDR_ANY, &r);
	assert_ptr_equal(rpk_ept_lookup(R(f), 1025), &e[6]);
	ept_new(R(f), &e[7], NULL, RPK_ADDR_ANY, RPK_ADDR_ANY, &r);
	assert_int_equal(e[7].addr, 1030); /* still increasing */

	ept_new(M(f), &x, NULL, RPK_ADDR_ANY, RPK_ADDR_ANY, &r);
	assert_int_equal(x.addr, 1024);
}

#define NEPT 1000

struct many {
	struct rpk_ept e[NEPT];
	unsigned count[NEPT];
	unsigned wrong;
};

static int many_cb(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct many *mm = priv;
	size_t i = (size_t)(ept - mm->e);

	if (i >= NEPT || len != 4 || get32(data) != ept->addr || src != 77)
		mm->wrong++;
	else
		mm->count[i]++;
	return 0;
}

/* Master sends one message; when all its buffers are out, the remote drains. */
static void m_send_pump(struct fx *f, uint32_t src, uint32_t dst, const void *data, size_t len)
{
	int rc = rpk_send_offchannel_raw(M(f), src, dst, data, len, RPK_NO_WAIT);

	if (rc == -RPK_EAGAIN) {
		assert_true(rpk_rpmsg_poll(R(f)) > 0);
		rc = rpk_send_offchannel_raw(M(f), src, dst, data, len, RPK_NO_WAIT);
	}
	assert_int_equal(rc, 0);
}

static void test_dispatch_1000_endpoints(void **state)
{
	struct fx *f = fx_up(state, 16, 0);
	struct many *mm = calloc(1, sizeof(*mm));

	f->extra = mm;
	assert_non_null(mm);
	for (uint32_t i = 0; i < NEPT; i++) {
		assert_int_equal(
		    rpk_ept_create(R(f), &mm->e[i], NULL, RPK_ADDR_ANY, RPK_ADDR_ANY, many_cb, mm),
		    0);
		assert_int_equal(mm->e[i].addr, RPK_RESERVED_ADDRESSES + i);
	}
	for (uint32_t k = 0; k < NEPT; k++) {
		uint32_t addr = RPK_RESERVED_ADDRESSES + (k * 7919u) % NEPT;

		m_send_pump(f, 77, addr, &addr, 4);
	}
	while (rpk_rpmsg_poll(R(f)) > 0)
		;
	assert_int_equal(mm->wrong, 0);
	for (uint32_t i = 0; i < NEPT; i++)
		assert_int_equal(mm->count[i], 1);
	assert_int_equal(f->r.dev.stats.rx_msgs, NEPT);
	assert_int_equal(f->r.dev.stats.rx_no_ept, 0);

	for (uint32_t i = 0; i < NEPT; i += 100) {
		rpk_ept_destroy(&mm->e[i]);
		assert_null(rpk_ept_lookup(R(f), RPK_RESERVED_ADDRESSES + i));
	}
	for (uint32_t i = 0; i < NEPT; i++) {
		uint32_t addr = RPK_RESERVED_ADDRESSES + i;

		assert_ptr_equal(rpk_ept_lookup(R(f), addr), i % 100 ? &mm->e[i] : NULL);
		m_send_pump(f, 77, addr, &addr, 4);
	}
	while (rpk_rpmsg_poll(R(f)) > 0)
		;
	assert_int_equal(mm->wrong, 0);
	for (uint32_t i = 0; i < NEPT; i++)
		assert_int_equal(mm->count[i], i % 100 ? 2 : 1);
	assert_int_equal(f->r.dev.stats.rx_no_ept, NEPT / 100);

	/* Unbound addresses: dropped and counted, and the buffers come back. */
	for (uint32_t i = 0; i < 3 * f->num; i++)
		m_send_pump(f, 77, 50000, "lost", 4);
	while (rpk_rpmsg_poll(R(f)) > 0)
		;
	assert_int_equal(f->r.dev.stats.rx_no_ept, NEPT / 100 + 3 * f->num);
	assert_int_equal(mm->wrong, 0);
}

/* ---- sending ---- */

static void test_send_errors(void **state)
{
	struct fx *f = fx_new(state, 16, RPK_RPMSG_BUF_SIZE);
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};
	void *b;
	uint32_t size;
	uint8_t big[8];

	fx_init_both(f);
	ept_new(R(f), &re, NULL, RPK_ADDR_ANY, 2000, &rr);
	ept_new(M(f), &me, NULL, 2000, RPK_ADDR_ANY, &mr);
	assert_int_equal(rpk_send(&re, "x", 1, RPK_NO_WAIT), -RPK_ENOTCONN);
	assert_int_equal(rpk_sendto(&me, re.addr, "x", 1, RPK_NO_WAIT), -RPK_ENOTCONN);
	assert_int_equal(rpk_sendto(&me, re.addr, "x", 1, 100), -RPK_ENOTCONN);
	assert_int_equal(rpk_get_tx_buffer(M(f), &b, &size, RPK_NO_WAIT), -RPK_ENOTCONN);
	assert_int_equal(rpk_get_tx_buffer(R(f), &b, &size, RPK_NO_WAIT), -RPK_ENOTCONN);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 0);
	assert_int_equal(f->m.waits + f->r.waits, 0);
	assert_int_equal(ring_avail(f, 1)->idx, 0);

	fx_start(f, NS_F);
	assert_int_equal(rpk_send(&me, "x", 1, RPK_NO_WAIT), -RPK_ENOTCONN); /* dst ANY */
	assert_int_equal(rpk_send(&me, "x", 1, 100), -RPK_ENOTCONN);
	assert_int_equal(rpk_send_offchannel_raw(M(f), RPK_ADDR_ANY, re.addr, "x", 1, 0),
			 -RPK_ENOTCONN);
	assert_int_equal(rpk_sendto(&re, RPK_ADDR_ANY, "x", 1, RPK_NO_WAIT), -RPK_ENOTCONN);
	assert_int_equal(rpk_sendto(&me, re.addr, big, 0x10000, RPK_NO_WAIT), -RPK_EMSGSIZE);
	assert_int_equal(rpk_sendto(&me, re.addr, NULL, 4, RPK_NO_WAIT), -RPK_EINVAL);
	assert_int_equal(rpk_get_tx_buffer(M(f), &b, &size, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_send_nocopy(&me, RPK_ADDR_ANY, b, 1), -RPK_ENOTCONN);
	assert_int_equal(rpk_release_tx_buffer(M(f), b), 0);
	assert_int_equal(ring_avail(f, 1)->idx, 0);
	assert_int_equal(ring_used(f, 0)->idx, 0);
	assert_int_equal(f->m.waits + f->r.waits, 0);
}

static void test_trysend_eagain_until_peer_polls(void **state)
{
	struct fx *f = fx_up(state, 8, 0);
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};

	ept_new(M(f), &me, NULL, 2000, RPK_ADDR_ANY, &mr);
	ept_new(R(f), &re, NULL, RPK_ADDR_ANY, 2000, &rr);
	me.dst = re.addr;
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 8; i++)
			assert_int_equal(rpk_trysend(&me, "m", 1), 0);
		assert_int_equal(rpk_trysend(&me, "m", 1), -RPK_EAGAIN);
		for (int i = 0; i < 8; i++)
			assert_int_equal(rpk_trysend(&re, "r", 1), 0);
		assert_int_equal(rpk_trysend(&re, "r", 1), -RPK_EAGAIN);
		assert_int_equal(rpk_rpmsg_poll(R(f)), 8);
		assert_int_equal(rpk_rpmsg_poll(M(f)), 8);
	}
	assert_int_equal(rr.count, 24);
	assert_int_equal(mr.count, 24);
	assert_int_equal(f->m.waits + f->r.waits, 0);
	assert_int_equal(f->m.dev.stats.tx_msgs, 24);
	assert_int_equal(f->r.dev.stats.tx_msgs, 24);
}

static void test_blocking_send_master(void **state)
{
	struct fx *f = fx_up(state, 4, 0);
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};
	uint32_t t0;

	ept_new(R(f), &re, NULL, RPK_ADDR_ANY, 2000, &rr);
	ept_new(M(f), &me, NULL, 2000, re.addr, &mr);
	/* No "tx complete" interrupts while nobody waits. */
	assert_int_equal(ring_avail(f, 1)->flags, RPK_VRING_AVAIL_F_NO_INTERRUPT);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rpk_trysend(&me, "a", 1), 0);

	/* The peer never frees a buffer: the deadline passes. */
	t0 = f->clock;
	assert_int_equal(rpk_send(&me, "b", 1, 100), -RPK_ETIMEDOUT);
	assert_int_equal(f->m.waits, 1);
	assert_int_equal(f->m.wait_ms[0], 100);
	assert_int_equal(f->clock - t0, 100);
	assert_int_equal(f->m.seen_avail1_flags, 0); /* asked for a kick while waiting */
	assert_int_equal(ring_avail(f, 1)->flags, RPK_VRING_AVAIL_F_NO_INTERRUPT);

	/* Spurious wake-ups do not stretch the deadline. */
	f->m.waits = 0;
	f->m.wait_hook = hook_spurious;
	assert_int_equal(rpk_send(&me, "b", 1, 100), -RPK_ETIMEDOUT);
	assert_int_equal(f->m.waits, 4);
	assert_int_equal(f->m.wait_ms[0], 100);
	assert_int_equal(f->m.wait_ms[1], 70);
	assert_int_equal(f->m.wait_ms[2], 40);
	assert_int_equal(f->m.wait_ms[3], 10);
	assert_int_equal(ring_avail(f, 1)->flags, RPK_VRING_AVAIL_F_NO_INTERRUPT);
	/* ...also when the millisecond clock wraps during the wait. */
	f->m.waits = 0;
	f->clock = 0xffffffc0u;
	assert_int_equal(rpk_send(&me, "b", 1, 100), -RPK_ETIMEDOUT);
	assert_int_equal(f->m.waits, 4);
	assert_int_equal(f->m.wait_ms[3], 10);
	assert_int_equal(f->r.notifies, 0);
	assert_int_equal(rr.count, 0);

	/* The peer polls while we wait: it kicks us, and we get a buffer. */
	f->m.waits = 0;
	f->m.wait_hook = hook_peer_polls;
	t0 = f->clock;
	assert_int_equal(rpk_send(&me, "c", 1, 100), 0);
	assert_int_equal(f->m.waits, 1);
	assert_int_equal(f->m.seen_avail1_flags, 0);
	assert_int_equal(rr.count, 4);
	assert_int_equal(f->r.notifies, 1);
	assert_int_equal(f->clock, t0);
	assert_int_equal(ring_avail(f, 1)->flags, RPK_VRING_AVAIL_F_NO_INTERRUPT);
	/* Nobody waits now: the remote takes the rest without kicking. */
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(rr.count, 5);
	assert_memory_equal(rr.data, "c", 1);
	assert_int_equal(f->r.notifies, 1);
}

static void test_blocking_send_remote(void **state)
{
	struct fx *f = fx_up(state, 4, 0);
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};
	unsigned kicks;
	uint32_t t0;

	ept_new(M(f), &me, NULL, 2000, RPK_ADDR_ANY, &mr);
	ept_new(R(f), &re, NULL, RPK_ADDR_ANY, 2000, &rr);
	/* The remote wants no kick for new transmit buffers while nobody waits. */
	assert_int_equal(ring_used(f, 0)->flags, RPK_VRING_USED_F_NO_NOTIFY);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rpk_trysend(&re, "a", 1), 0);

	t0 = f->clock;
	assert_int_equal(rpk_send(&re, "b", 1, 250), -RPK_ETIMEDOUT);
	assert_int_equal(f->r.waits, 1);
	assert_int_equal(f->r.wait_ms[0], 250);
	assert_int_equal(f->clock - t0, 250);
	assert_int_equal(f->r.seen_used0_flags, 0);
	assert_int_equal(ring_used(f, 0)->flags, RPK_VRING_USED_F_NO_NOTIFY);

	/* The master reposts while we wait and kicks us for it. */
	kicks = f->m.notifies;
	f->r.waits = 0;
	f->r.wait_hook = hook_peer_polls;
	assert_int_equal(rpk_send(&re, "c", 1, 250), 0);
	assert_int_equal(f->r.waits, 1);
	assert_int_equal(mr.count, 4);
	assert_int_equal(f->m.notifies, kicks + 1);
	assert_int_equal(ring_used(f, 0)->flags, RPK_VRING_USED_F_NO_NOTIFY);
	/* Nobody waits: reposting is silent again. */
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(mr.count, 5);
	assert_int_equal(f->m.notifies, kicks + 1);
}

/*
 * With RPK_VIRTIO_RING_F_EVENT_IDX a sender kicks once per batch the
 * receiver has not yet taken: the receiver asks for the next kick (its
 * event index) only when it has taken all it saw. Messages sent while it
 * has not looked cost no kick; the first after it looked does. Either way.
 */
static void test_event_idx_one_kick_per_batch(void **state)
{
	struct fx *f = fx_up(state, 16, (1u << RPK_VIRTIO_RING_F_EVENT_IDX));
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};
	unsigned m0, r0;

	ept_new(R(f), &re, NULL, RPK_ADDR_ANY, 2000, &rr);
	ept_new(M(f), &me, NULL, 2000, re.addr, &mr);
	m0 = f->m.notifies;
	for (int i = 0; i < 5; i++)
		assert_int_equal(rpk_trysend(&me, "b", 1), 0);
	assert_int_equal(f->m.notifies, m0 + 1); /* the remote had not looked */
	assert_int_equal(rpk_rpmsg_poll(R(f)), 5);
	assert_int_equal(rpk_trysend(&me, "c", 1), 0);
	assert_int_equal(f->m.notifies, m0 + 2); /* it looked, and asked again */
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(rr.count, 6);

	r0 = f->r.notifies;
	for (int i = 0; i < 5; i++)
		assert_int_equal(rpk_trysend(&re, "d", 1), 0);
	assert_int_equal(f->r.notifies, r0 + 1);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 5);
	assert_int_equal(rpk_trysend(&re, "e", 1), 0);
	assert_int_equal(f->r.notifies, r0 + 2);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(mr.count, 6);

	/* Polling: no kicks at all (the event is put far away), and after it
	 * one per batch again. */
	rpk_rpmsg_set_polling(R(f), 1);
	m0 = f->m.notifies;
	for (int i = 0; i < 3; i++)
		assert_int_equal(rpk_trysend(&me, "p", 1), 0);
	assert_int_equal(f->m.notifies, m0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 3);
	rpk_rpmsg_set_polling(R(f), 0);
	assert_int_equal(rpk_trysend(&me, "q", 1), 0);
	assert_int_equal(f->m.notifies, m0 + 1);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
}

static void test_kicks_only_when_asked(void **state)
{
	struct fx *f = fx_up(state, 16, 0);
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};

	ept_new(R(f), &re, NULL, RPK_ADDR_ANY, 2000, &rr);
	ept_new(M(f), &me, NULL, 2000, re.addr, &mr);
	assert_int_equal(f->m.notifies, 1);
	assert_int_equal(f->m.dev.stats.rx_kicks, 1); /* the start kick: buffers posted */
	assert_int_equal(f->m.dev.stats.tx_kicks, 0);
	assert_int_equal(f->r.notifies, 0);

	assert_int_equal(rpk_trysend(&me, "1", 1), 0);
	assert_int_equal(f->m.notifies, 2);
	assert_int_equal(f->m.notify_ids, (1u << 0) | (1u << 1));
	rpk_rpmsg_set_polling(R(f), 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rpk_trysend(&me, "2", 1), 0);
	assert_int_equal(f->m.notifies, 2);
	assert_int_equal(f->m.dev.stats.tx_kicks, 1);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 4); /* polling still receives */
	rpk_rpmsg_set_polling(R(f), 0);
	assert_int_equal(rpk_trysend(&me, "3", 1), 0);
	assert_int_equal(f->m.notifies, 3);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(f->r.notifies, 0); /* consuming is silent */

	assert_int_equal(rpk_trysend(&re, "4", 1), 0);
	assert_int_equal(f->r.notifies, 1);
	assert_int_equal(f->r.notify_ids, 1u << 0);
	rpk_rpmsg_set_polling(M(f), 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rpk_trysend(&re, "5", 1), 0);
	assert_int_equal(f->r.notifies, 1);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 4);
	rpk_rpmsg_set_polling(M(f), 0);
	assert_int_equal(rpk_trysend(&re, "6", 1), 0);
	assert_int_equal(f->r.notifies, 2);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(f->m.notifies, 3); /* reposting is silent */
	assert_int_equal(mr.count, 5);
	assert_int_equal(rr.count, 5);
}

/* ---- zero copy ---- */

static void check_zero_copy(struct fx *f, struct side *tx, struct rpk_ept *src_ept, uint32_t dst,
			    struct rec *peer_rec, int master)
{
	struct rpk_rpmsg *dev = &tx->dev;
	uint32_t nbufs = f->num, size, len;
	uint8_t foreign[64] = {0};
	void *b, *b2, *all[64];
	uint8_t *wire;
	size_t lo, off;

	assert_true(nbufs <= 64);
	lo = master ? (size_t)nbufs * RPK_RPMSG_BUF_SIZE : 0;
	assert_int_equal(rpk_get_tx_buffer(dev, &b, &size, RPK_NO_WAIT), 0);
	assert_int_equal(size, RPK_RPMSG_MAX_PAYLOAD);
	off = (size_t)((uint8_t *)b - f->pool);
	assert_true(off >= lo + 16 && off < lo + (size_t)nbufs * RPK_RPMSG_BUF_SIZE);
	assert_int_equal((off - 16) % RPK_RPMSG_BUF_SIZE, 0);
	memcpy(b, "zero-copy", 9);
	assert_int_equal(rpk_send_nocopy(src_ept, dst, b, RPK_RPMSG_MAX_PAYLOAD + 1),
			 -RPK_EMSGSIZE);
	assert_int_equal(rpk_send_nocopy(src_ept, dst, b, 9), 0);
	wire = master ? last_avail_buf(f, &len) : last_used_buf(f, &len);
	assert_ptr_equal(wire + 16, b);
	assert_int_equal(len, RPK_RPMSG_HDR_SIZE + 9);
	expect_hdr(wire, src_ept->addr, dst, 9);
	assert_int_equal(rpk_rpmsg_poll(&tx->peer->dev), 1);
	assert_int_equal(peer_rec->count, 1);
	assert_int_equal(peer_rec->src, src_ept->addr);
	assert_int_equal(peer_rec->len, 9);
	assert_memory_equal(peer_rec->data, "zero-copy", 9);
	/* Sent already: neither sendable nor releasable. */
	assert_int_equal(rpk_send_nocopy(src_ept, dst, b, 9), -RPK_EINVAL);
	assert_int_equal(rpk_release_tx_buffer(dev, b), -RPK_EINVAL);

	/* Foreign and misplaced pointers. */
	assert_int_equal(rpk_release_tx_buffer(dev, foreign + 16), -RPK_EINVAL);
	assert_int_equal(rpk_send_nocopy(src_ept, dst, foreign + 16, 1), -RPK_EINVAL);
	assert_int_equal(rpk_get_tx_buffer(dev, &b2, &size, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_release_tx_buffer(dev, (uint8_t *)b2 + 8), -RPK_EINVAL);
	assert_int_equal(rpk_send_nocopy(src_ept, dst, (uint8_t *)b2 + 8, 1), -RPK_EINVAL);
	/* A buffer of the other direction. */
	assert_int_equal(rpk_release_tx_buffer(
			     dev, f->pool + (master ? 0 : (size_t)nbufs * RPK_RPMSG_BUF_SIZE) + 16),
			 -RPK_EINVAL);
	assert_int_equal(rpk_release_tx_buffer(dev, b2), 0);
	assert_int_equal(rpk_release_tx_buffer(dev, b2), -RPK_EINVAL);
	assert_int_equal(rpk_send_nocopy(src_ept, dst, b2, 1), -RPK_EINVAL);

	/* Releasing unsent buffers many times over leaks none. */
	for (uint32_t i = 0; i < 20 * nbufs; i++) {
		assert_int_equal(rpk_get_tx_buffer(dev, &b2, &size, RPK_NO_WAIT), 0);
		assert_int_equal(size, RPK_RPMSG_MAX_PAYLOAD);
		assert_int_equal(rpk_release_tx_buffer(dev, b2), 0);
	}
	/* The peer has taken the first one back: all nbufs are ours. */
	for (uint32_t i = 0; i < nbufs; i++)
		assert_int_equal(rpk_get_tx_buffer(dev, &all[i], &size, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_get_tx_buffer(dev, &b2, &size, RPK_NO_WAIT), -RPK_EAGAIN);
	for (uint32_t i = 0; i < nbufs; i++)
		for (uint32_t j = 0; j < i; j++)
			assert_ptr_not_equal(all[i], all[j]);
	for (uint32_t i = 0; i < nbufs; i++)
		assert_int_equal(rpk_release_tx_buffer(dev, all[i]), 0);
	for (uint32_t i = 0; i < nbufs; i++) {
		assert_int_equal(rpk_get_tx_buffer(dev, &all[i], &size, RPK_NO_WAIT), 0);
		put32(all[i], i);
	}
	for (uint32_t i = 0; i < nbufs; i++) {
		assert_int_equal(rpk_send_nocopy(src_ept, dst, all[i], 4), 0);
		expect_hdr((uint8_t *)all[i] - 16, src_ept->addr, dst, 4);
	}
	assert_int_equal(rpk_rpmsg_poll(&tx->peer->dev), (int)nbufs);
	assert_int_equal(peer_rec->count, 1 + nbufs);
	assert_int_equal(get32(peer_rec->data), nbufs - 1);
	assert_int_equal(rpk_get_tx_buffer(dev, &b2, &size, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_release_tx_buffer(dev, b2), 0);
}

static void test_zero_copy_master(void **state)
{
	struct fx *f = fx_up(state, 8, 0);
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};

	ept_new(M(f), &me, NULL, 2000, RPK_ADDR_ANY, &mr);
	ept_new(R(f), &re, NULL, RPK_ADDR_ANY, 2000, &rr);
	check_zero_copy(f, &f->m, &me, re.addr, &rr, 1);
}

static void test_zero_copy_remote(void **state)
{
	struct fx *f = fx_up(state, 8, 0);
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};

	ept_new(M(f), &me, NULL, 2000, RPK_ADDR_ANY, &mr);
	ept_new(R(f), &re, NULL, RPK_ADDR_ANY, 2000, &rr);
	check_zero_copy(f, &f->r, &re, 2000, &mr, 0);
}

/* ---- holding received buffers ---- */

static void check_hold(struct fx *f, struct side *rx, struct rpk_ept *tx_ept, struct rec *rr)
{
	struct rpk_rpmsg *dev = &rx->dev;
	uint32_t num = f->num;
	char msg[32];
	void *first;

	/* Hold one; the rest circulates around it and leaves it intact. */
	rr->hold = 2;
	assert_int_equal(rpk_trysend(tx_ept, "first", 6), 0);
	assert_int_equal(rpk_rpmsg_poll(dev), 1);
	assert_int_equal(rr->hold_rc, 0);
	assert_int_equal(rr->release_in_cb_rc, -RPK_EINVAL);
	assert_int_equal(rr->nheld, 1);
	first = rr->held[0];
	assert_int_equal(rpk_hold_rx_buffer(dev, first), -RPK_EINVAL); /* outside a callback */
	for (uint32_t i = 0; i < 3 * num; i++) {
		snprintf(msg, sizeof(msg), "other %u", i);
		assert_int_equal(rpk_trysend(tx_ept, msg, sizeof(msg)), 0);
		assert_int_equal(rpk_rpmsg_poll(dev), 1);
	}
	assert_int_equal(rr->count, 1 + 3 * num);
	assert_memory_equal(first, "first", 6);
	/* One buffer short: num - 1 in flight. */
	for (uint32_t i = 0; i < num - 1; i++)
		assert_int_equal(rpk_trysend(tx_ept, "x", 1), 0);
	assert_int_equal(rpk_trysend(tx_ept, "x", 1), -RPK_EAGAIN);
	assert_int_equal(rpk_rpmsg_poll(dev), (int)num - 1);
	assert_int_equal(rpk_release_rx_buffer(dev, first), 0);
	assert_int_equal(rpk_release_rx_buffer(dev, first), -RPK_EINVAL);
	for (uint32_t i = 0; i < num; i++)
		assert_int_equal(rpk_trysend(tx_ept, "x", 1), 0);
	assert_int_equal(rpk_trysend(tx_ept, "x", 1), -RPK_EAGAIN);
	assert_int_equal(rpk_rpmsg_poll(dev), (int)num);

	/* Hold every message: the sender runs out after num, polls or not. */
	rr->hold = 1;
	rr->nheld = 0;
	for (uint32_t i = 0; i < num; i++) {
		snprintf(msg, sizeof(msg), "held %u", i);
		assert_int_equal(rpk_trysend(tx_ept, msg, sizeof(msg)), 0);
		assert_int_equal(rpk_rpmsg_poll(dev), 1);
		assert_int_equal(rr->hold_rc, 0);
	}
	assert_int_equal(rr->nheld, num);
	assert_int_equal(rpk_trysend(tx_ept, "x", 1), -RPK_EAGAIN);
	assert_int_equal(rpk_rpmsg_poll(dev), 0);
	assert_int_equal(rpk_trysend(tx_ept, "x", 1), -RPK_EAGAIN);
	rr->hold = 0;
	for (uint32_t i = 0; i < num; i++) {
		snprintf(msg, sizeof(msg), "held %u", i);
		assert_memory_equal(rr->held[i], msg, sizeof(msg));
		assert_int_equal(rpk_hold_rx_buffer(dev, rr->held[i]), -RPK_EINVAL);
		assert_int_equal(rpk_release_rx_buffer(dev, rr->held[i]), 0);
		assert_int_equal(rpk_release_rx_buffer(dev, rr->held[i]), -RPK_EINVAL);
		/* Each release gives the sender one buffer. */
		assert_int_equal(rpk_trysend(tx_ept, "y", 1), 0);
		assert_int_equal(rpk_trysend(tx_ept, "y", 1), -RPK_EAGAIN);
	}
	assert_int_equal(rpk_rpmsg_poll(dev), (int)num);
	/* Pointers that were never held. */
	assert_int_equal(rpk_release_rx_buffer(dev, f->pool + 16), -RPK_EINVAL);
	assert_int_equal(rpk_release_rx_buffer(dev, f->pool + 24), -RPK_EINVAL);
}

/* ---- batching: buffers received in one poll go back in one index update ---- */

/* A port that cannot wait (a polling firmware's): its callbacks cannot block. */
static const struct rpk_port_ops port_ops_nowait = {
    .notify = p_notify,
    .cache_invalidate = p_invalidate,
};

/* What the peer could see of the buffers given back, at each callback. */
struct seen_idx {
	struct fx *f;
	int q, driver_idx; /* the index written by the receiver: avail (master) or used */
	uint16_t at[16];
	unsigned n;
	void *held; /* hold the first message, give it back during the third */
	int release_rc;
};

static uint16_t peer_visible(struct seen_idx *v)
{
	return v->driver_idx ? ring_avail(v->f, v->q)->idx : ring_used(v->f, v->q)->idx;
}

static int seen_cb(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct seen_idx *v = priv;

	(void)len;
	(void)src;
	if (v->n < 16)
		v->at[v->n] = peer_visible(v);
	if (v->n == 0 && rpk_hold_rx_buffer(ept->dev, data) == 0)
		v->held = data;
	if (v->n == 2 && v->held)
		v->release_rc = rpk_release_rx_buffer(ept->dev, v->held);
	v->n++;
	return 0;
}

/*
 * rx is the side receiving five messages in one poll, holding the first and
 * giving it back during the third callback. With a port that cannot wait,
 * the buffers go back when the batch ends, or when a callback releases one
 * (what the batch gave back so far is published with it); with a port that
 * can wait, each goes back at once.
 */
static void check_batch(void **state, int nowait, int master_rx)
{
	struct fx *f = fx_new(state, 16, RPK_RPMSG_BUF_SIZE);
	struct side *rx = master_rx ? &f->m : &f->r, *tx = master_rx ? &f->r : &f->m;
	struct seen_idx v = {.f = f, .q = master_rx ? 0 : 1, .driver_idx = master_rx};
	struct rpk_ept rxe, txe;
	struct rec tr = {0};
	uint16_t start;

	if (nowait)
		f->m.port.ops = f->r.port.ops = &port_ops_nowait;
	fx_init_both(f);
	fx_start(f, 0);
	assert_int_equal(rpk_ept_create(&rx->dev, &rxe, NULL, 3000, RPK_ADDR_ANY, seen_cb, &v), 0);
	ept_new(&tx->dev, &txe, NULL, 3001, 3000, &tr);
	start = peer_visible(&v);
	for (int i = 0; i < 5; i++)
		assert_int_equal(rpk_trysend(&txe, "m", 1), 0);
	assert_int_equal(rpk_rpmsg_poll(&rx->dev), 5);
	assert_int_equal(v.n, 5);
	assert_int_equal(v.release_rc, 0);
	assert_int_equal(v.at[0], start);
	assert_int_equal(v.at[1], start); /* the first is held */
	if (nowait) {
		assert_int_equal(v.at[2], start);     /* the second waits for the batch's end */
		assert_int_equal(v.at[3], start + 2); /* the release published it, and itself */
		assert_int_equal(v.at[4], start + 2);
	} else {
		assert_int_equal(v.at[2], start + 1);
		assert_int_equal(v.at[3], start + 3);
		assert_int_equal(v.at[4], start + 4);
	}
	assert_int_equal(peer_visible(&v), start + 5);
	/* Nothing lost: the sender gets all its buffers back, over and over. */
	for (int round = 0; round < 40; round++) {
		for (int i = 0; i < 5; i++)
			assert_int_equal(rpk_trysend(&txe, "n", 1), 0);
		assert_int_equal(rpk_rpmsg_poll(&rx->dev), 5);
	}
	assert_int_equal(v.n, 205);
}

static void test_batch_remote_rx_nowait(void **state)
{
	check_batch(state, 1, 0);
}

static void test_batch_master_rx_nowait(void **state)
{
	check_batch(state, 1, 1);
}

static void test_batch_remote_rx_waiting_port(void **state)
{
	check_batch(state, 0, 0);
}

static void test_batch_master_rx_waiting_port(void **state)
{
	check_batch(state, 0, 1);
}

/* ---- symmetric links: each side sends from a pool of its own ---- */

struct sym_pools {
	struct rpk_mem_window win[2]; /* the master's half of f->pool, the remote's */
	struct rpk_mem mem[2];
};

/* Both sides symmetric: the master's pool is the first half of f->pool, the
 * remote's the second; each may receive only in the other's. */
static void sym_init_both(struct fx *f)
{
	struct sym_pools *p = calloc(1, sizeof(*p));
	size_t half = f->pool_size / 2;
	struct side *sides[2] = {&f->m, &f->r};

	assert_non_null(p);
	f->extra = p;
	for (int i = 0; i < 2; i++) {
		p->win[i].da = POOL_DA + i * half;
		p->win[i].size = half;
		p->win[i].va = f->pool + i * half;
		p->mem[i].win = &p->win[i];
		p->mem[i].count = 1;
	}
	for (int i = 0; i < 2; i++) {
		struct rpk_rpmsg_cfg cfg =
		    side_cfg(f, sides[i], i ? RPK_ROLE_REMOTE : RPK_ROLE_MASTER);

		cfg.bufs = p->win[i].va;
		cfg.bufs_mem = &p->mem[i];
		cfg.mem = &p->mem[1 - i];
		assert_int_equal(rpk_rpmsg_init_symmetric(&sides[i]->dev, &cfg), 0);
	}
}

static int in_half(struct fx *f, uint64_t da, int half)
{
	uint64_t h = f->pool_size / 2;

	return da >= POOL_DA + half * h && da < POOL_DA + (half + 1) * h;
}

/* Each side sends from its own pool and drives only its own ring; 1000
 * messages each way come through in order. */
static void test_symmetric_both_ways(void **state)
{
	struct fx *f = fx_new(state, 16, RPK_RPMSG_BUF_SIZE);
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};

	sym_init_both(f);
	/* Init writes nothing to the peer's ring: no receive buffers posted. */
	assert_int_equal(ring_avail(f, 0)->idx, 0);
	assert_int_equal(ring_avail(f, 1)->idx, 0);
	fx_start(f, 0);
	ept_new(M(f), &me, NULL, RPK_ADDR_ANY, RPK_ADDR_ANY, &mr);
	ept_new(R(f), &re, NULL, RPK_ADDR_ANY, RPK_ADDR_ANY, &rr);
	for (uint32_t i = 0; i < 1000; i++) {
		uint32_t len;

		assert_int_equal(
		    rpk_send_offchannel_raw(M(f), me.addr, re.addr, &i, sizeof(i), RPK_NO_WAIT), 0);
		assert_int_equal(
		    rpk_send_offchannel_raw(R(f), re.addr, me.addr, &i, sizeof(i), RPK_NO_WAIT), 0);
		/* The master's message is in its pool, on its ring (queue 1). */
		assert_non_null(last_avail_buf(f, &len));
		assert_true(in_half(
		    f,
		    ring_desc(f, 1)[ring_avail(f, 1)->ring[(ring_avail(f, 1)->idx - 1) & 15]].addr,
		    0));
		assert_true(in_half(
		    f,
		    ring_desc(f, 0)[ring_avail(f, 0)->ring[(ring_avail(f, 0)->idx - 1) & 15]].addr,
		    1));
		assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
		assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
		assert_int_equal(rr.count, i + 1);
		assert_int_equal(mr.count, i + 1);
		assert_memory_equal(rr.data, &i, sizeof(i));
		assert_memory_equal(mr.data, &i, sizeof(i));
	}
	assert_int_equal(M(f)->stats.tx_bad_buf + R(f)->stats.tx_bad_buf, 0);
}

/* A reset: each side takes back its own buffers (what the peer never read is
 * counted lost, by the sender) and lays out its own ring only; nothing of
 * before is delivered after. */
static void test_symmetric_reset(void **state)
{
	struct fx *f = fx_new(state, 16, RPK_RPMSG_BUF_SIZE);
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};
	uint32_t x = 7;

	sym_init_both(f);
	fx_start(f, 0);
	ept_new(M(f), &me, NULL, 0x400, RPK_ADDR_ANY, &mr);
	ept_new(R(f), &re, NULL, 0x400, RPK_ADDR_ANY, &rr);
	for (int i = 0; i < 3; i++)
		assert_int_equal(
		    rpk_send_offchannel_raw(M(f), me.addr, re.addr, &x, sizeof(x), RPK_NO_WAIT), 0);
	assert_int_equal(
	    rpk_send_offchannel_raw(R(f), re.addr, me.addr, &x, sizeof(x), RPK_NO_WAIT), 0);
	/* The remote goes first: its own ring anew, the master's untouched. */
	rpk_rpmsg_reset(R(f));
	assert_int_equal(ring_avail(f, 0)->idx, 0);
	assert_int_equal(ring_avail(f, 1)->idx, 3);
	assert_int_equal(R(f)->stats.tx_lost, 1);
	rpk_rpmsg_reset(M(f));
	assert_int_equal(ring_avail(f, 1)->idx, 0);
	assert_int_equal(M(f)->stats.tx_lost, 3);
	/* Every buffer is free again on both sides: a whole ring of sends each. */
	fx_start(f, 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 0);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 0);
	for (uint32_t i = 0; i < 16; i++) {
		assert_int_equal(
		    rpk_send_offchannel_raw(M(f), me.addr, re.addr, &i, sizeof(i), RPK_NO_WAIT), 0);
		assert_int_equal(
		    rpk_send_offchannel_raw(R(f), re.addr, me.addr, &i, sizeof(i), RPK_NO_WAIT), 0);
	}
	while (rpk_rpmsg_poll(R(f)) > 0 || rpk_rpmsg_poll(M(f)) > 0)
		;
	assert_int_equal(rr.count, 16);
	assert_int_equal(mr.count, 16);
	assert_int_equal(M(f)->stats.tx_bad_buf + R(f)->stats.tx_bad_buf, 0);
}

/* A descriptor into the receiver's own pool (not the sender's) is refused. */
static void test_symmetric_refuses_own_pool(void **state)
{
	struct fx *f = fx_new(state, 16, RPK_RPMSG_BUF_SIZE);
	struct rpk_ept re;
	struct rec rr = {0};

	sym_init_both(f);
	fx_start(f, 0);
	ept_new(R(f), &re, NULL, 0x400, RPK_ADDR_ANY, &rr);
	/* Play the master: post a message that lies in the remote's own half. */
	make_hdr(f->pool + f->pool_size / 2, 0x401, 0x400, 4);
	raw_master_post_q(f, 1, 0, POOL_DA + f->pool_size / 2, 20, 0);
	assert_true(rpk_rpmsg_poll(R(f)) <= 0);
	assert_int_equal(rr.count, 0);
	assert_true(R(f)->vq[1].stats.bad_addr > 0);
}

static void test_hold_master(void **state)
{
	struct fx *f = fx_up(state, 8, 0);
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};

	ept_new(M(f), &me, NULL, 2000, RPK_ADDR_ANY, &mr);
	ept_new(R(f), &re, NULL, RPK_ADDR_ANY, 2000, &rr);
	check_hold(f, &f->m, &re, &mr);
}

static void test_hold_remote(void **state)
{
	struct fx *f = fx_up(state, 8, 0);
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};

	ept_new(R(f), &re, NULL, RPK_ADDR_ANY, 2000, &rr);
	ept_new(M(f), &me, NULL, 2000, re.addr, &mr);
	check_hold(f, &f->r, &me, &rr);
}

/* ---- reset: the peer crashed, rebooted or detached ---- */

/* The remote reboots: the master resets, a fresh remote comes up on the same
 * memory, and nothing of the old session leaks into the new one. */
static void test_reset_master_remote_reboots(void **state)
{
	struct fx *f = fx_up(state, 8, NS_F);
	struct rpk_ept re, me, fixed, msvc, re2;
	struct rec rr = {0}, mr = {0}, fr = {0}, sr = {0}, rr2 = {0};
	uint8_t kept[RPK_RPMSG_MAX_PAYLOAD];

	ept_new(R(f), &re, "echo", RPK_ADDR_ANY, RPK_ADDR_ANY, &rr);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	ept_new(M(f), &me, "echo", RPK_ADDR_ANY, RPK_ADDR_ANY, &mr);
	assert_int_equal(me.dst, re.addr);
	ept_new(M(f), &fixed, NULL, 3000, 2000, &fr);
	ept_new(M(f), &msvc, "m-svc", RPK_ADDR_ANY, RPK_ADDR_ANY, &sr);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1); /* the announcement of m-svc */
	assert_int_equal(f->r.binds, 1);

	/* The master holds one message from the remote... */
	mr.hold = 1;
	assert_int_equal(rpk_sendto(&re, me.addr, "keep me", 7, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(mr.nheld, 1);
	memcpy(kept, mr.held[0], 7);
	/* ...and sends three the remote never reads. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(rpk_send(&me, "lost", 4, RPK_NO_WAIT), 0);

	rpk_rpmsg_reset(M(f));
	assert_false(rpk_rpmsg_is_up(M(f)));
	assert_int_equal(f->m.dev.stats.tx_lost, 3);
	assert_int_equal(f->m.dev.stats.resets, 1);
	/* Every endpoint with an unbind callback heard of it; only the one bound
	 * through an announcement lost its destination. */
	assert_int_equal(mr.unbinds, 1);
	assert_int_equal(fr.unbinds, 1);
	assert_int_equal(sr.unbinds, 1);
	assert_int_equal(me.dst, RPK_ADDR_ANY);
	assert_int_equal(fixed.dst, 2000);
	assert_int_equal(rpk_send(&fixed, "x", 1, RPK_NO_WAIT), -RPK_ENOTCONN);
	/* Fresh rings: nothing sent, every receive buffer but the held one posted. */
	assert_int_equal(ring_avail(f, 1)->idx, 0);
	assert_int_equal(ring_used(f, 1)->idx, 0);
	assert_int_equal(ring_used(f, 0)->idx, 0);
	assert_int_equal(ring_avail(f, 0)->idx, 7);
	assert_memory_equal(mr.held[0], kept, 7);

	/* A new remote on the same memory (its old endpoints died with it). */
	memset(&rr, 0, sizeof(rr));
	f->r.binds = 0;
	side_init(f, &f->r, RPK_ROLE_REMOTE);
	ept_new(R(f), &re2, "echo", 5000, RPK_ADDR_ANY, &rr2);
	assert_int_equal(rpk_rpmsg_start(M(f), NS_F), 0);
	assert_int_equal(rpk_rpmsg_start(R(f), NS_F), 0);
	/* The master announces m-svc again; the remote announces echo. */
	while (rpk_rpmsg_poll(R(f)) > 0 || rpk_rpmsg_poll(M(f)) > 0)
		;
	assert_int_equal(f->r.binds, 1);
	assert_string_equal(f->r.bind_name, "m-svc");
	assert_int_equal(me.dst, 5000);
	assert_int_equal(f->m.binds, 1); /* rebound to me, not offered to ns_bind */

	/* The held buffer is released into the new ring, and traffic flows. */
	uint16_t posted = ring_avail(f, 0)->idx;

	assert_memory_equal(mr.held[0], kept, 7);
	assert_int_equal(rpk_release_rx_buffer(M(f), mr.held[0]), 0);
	assert_int_equal(ring_avail(f, 0)->idx, (uint16_t)(posted + 1));
	mr.hold = 0;
	assert_int_equal(rpk_send(&me, "new", 3, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(rr2.count, 1); /* the three lost ones never arrive */
	assert_memory_equal(rr2.data, "new", 3);
	assert_int_equal(rpk_sendto(&re2, me.addr, "back", 4, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_memory_equal(mr.data, "back", 4);
}

static int hook_reset_self(struct side *s, uint32_t timeout_ms)
{
	(void)timeout_ms;
	rpk_rpmsg_reset(&s->dev);
	return 0;
}

/* A sender waiting for a buffer when the link resets gets an error, in both roles. */
static void test_reset_fails_blocked_sender(void **state)
{
	struct fx *f = fx_up(state, 4, 0);
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};

	ept_new(R(f), &re, NULL, RPK_ADDR_ANY, 2000, &rr);
	ept_new(M(f), &me, NULL, 2000, re.addr, &mr);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rpk_trysend(&me, "a", 1), 0);
	f->m.wait_hook = hook_reset_self;
	assert_int_equal(rpk_send(&me, "b", 1, RPK_WAIT_FOREVER), -RPK_EPIPE);
	assert_int_equal(f->m.waits, 1);
	assert_int_equal(f->m.dev.stats.tx_lost, 4);

	/* The remote has sent everything the master gave it. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(rpk_trysend(&re, "r", 1), 0);
	f->r.wait_hook = hook_reset_self;
	assert_int_equal(rpk_send(&re, "r", 1, RPK_WAIT_FOREVER), -RPK_EPIPE);
	assert_int_equal(f->r.waits, 1);
}

/* The master detaches and attaches again: the remote keeps its endpoints,
 * forgets buffers of the old session, and announces again. */
static void test_reset_remote_side_reattach(void **state)
{
	struct fx *f = fx_up(state, 8, NS_F);
	struct rpk_ept re, me;
	struct rec rr = {0}, mr = {0};
	void *buf;
	uint32_t size;

	ept_new(R(f), &re, "svc", 4000, RPK_ADDR_ANY, &rr);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(f->m.binds, 1);
	ept_new(M(f), &me, NULL, 2000, 4000, &mr);
	rr.hold = 1;
	assert_int_equal(rpk_send(&me, "held", 4, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(rr.nheld, 1);
	assert_int_equal(rpk_get_tx_buffer(R(f), &buf, &size, RPK_NO_WAIT), 0);

	rpk_rpmsg_reset(M(f));
	rpk_rpmsg_reset(R(f));
	assert_int_equal(rr.unbinds, 1);
	/* Buffers of the old session are the master's again. */
	assert_int_equal(rpk_release_rx_buffer(R(f), rr.held[0]), -RPK_EINVAL);
	assert_int_equal(rpk_release_tx_buffer(R(f), buf), -RPK_EINVAL);
	assert_int_equal(rpk_rpmsg_start(M(f), NS_F), 0);
	assert_int_equal(rpk_rpmsg_start(R(f), NS_F), 0);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(f->m.binds, 2); /* announced again */
	assert_int_equal(f->m.bind_addr, 4000);
	rr.hold = 0;
	for (int i = 0; i < 20; i++) { /* more than a ring: buffers do cycle */
		assert_int_equal(rpk_send(&me, "again", 5, RPK_NO_WAIT), 0);
		assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
		assert_int_equal(rpk_sendto(&re, 2000, "back", 4, RPK_NO_WAIT), 0);
		assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	}
	assert_int_equal(rr.count, 21);
	assert_int_equal(mr.count, 20);
	assert_int_equal(f->m.dev.stats.rx_bad_buf + f->r.dev.stats.rx_bad_buf, 0);
}

/* The remote finds its receive ring 3 entries behind where it was. */
static void jump_back(struct fx *f)
{
	memset(f->ring[1], 0, f->ring_size);
	ring_avail(f, 1)->idx = 1;
	assert_int_equal(rpk_rpmsg_poll(R(f)), -RPK_EPIPE);
}

static void send_three(struct rpk_ept *me, struct fx *f)
{
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rpk_send(me, "m", 1, RPK_NO_WAIT), 0);
		assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	}
}

/* A break while the master stays is counted for good; one seen as a
 * detaching master zeroes the rings (it left first) is forgiven, once. */
static void test_reset_forgive_break(void **state)
{
	struct fx *f = fx_up(state, 8, 0);
	const struct rpk_vq_stats *rs = &f->r.dev.rvq->stats;
	struct rpk_ept re, me;
	struct rec rr = {0}, mr = {0};

	ept_new(R(f), &re, NULL, 4000, RPK_ADDR_ANY, &rr);
	ept_new(M(f), &me, NULL, 2000, 4000, &mr);
	send_three(&me, f);
	jump_back(f); /* a corruption: the master did not leave */
	assert_int_equal(rs->bad_idx, 1);
	assert_int_equal(f->r.dev.stats.rx_bad_buf, 0); /* one break, counted once */
	rpk_rpmsg_reset(M(f));
	rpk_rpmsg_reset(R(f));
	rpk_rpmsg_forgive_break(R(f)); /* not broken any more: nothing to take back */
	assert_int_equal(rs->bad_idx, 1);

	assert_int_equal(rpk_rpmsg_start(M(f), 0), 0);
	assert_int_equal(rpk_rpmsg_start(R(f), 0), 0);
	send_three(&me, f);
	jump_back(f); /* the master detached */
	assert_int_equal(rs->bad_idx, 2);
	rpk_rpmsg_forgive_break(R(f));
	assert_int_equal(rs->bad_idx, 1);
	rpk_rpmsg_forgive_break(R(f)); /* the same break: forgiven already */
	assert_int_equal(rs->bad_idx, 1);
	assert_int_equal(rpk_rpmsg_poll(R(f)), -RPK_EPIPE); /* still broken until the reset */
	rpk_rpmsg_reset(R(f));
	assert_int_equal(rs->bad_idx, 1);
	assert_int_equal(f->r.dev.svq->stats.bad_idx, 0);
}

/* A transmit buffer the remote gave back unsent is usable in the next session. */
static void test_reset_remote_spare_buffers(void **state)
{
	struct fx *f = fx_up(state, 4, 0);
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};
	void *bufs[4];
	uint32_t size;

	ept_new(M(f), &me, NULL, 2000, RPK_ADDR_ANY, &mr);
	ept_new(R(f), &re, NULL, RPK_ADDR_ANY, 2000, &rr);
	for (int i = 0; i < 4; i++) /* every buffer the master offers */
		assert_int_equal(rpk_get_tx_buffer(R(f), &bufs[i], &size, RPK_NO_WAIT), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rpk_release_tx_buffer(R(f), bufs[i]), 0);
	rpk_rpmsg_reset(M(f));
	rpk_rpmsg_reset(R(f));
	assert_int_equal(rpk_rpmsg_start(M(f), 0), 0);
	assert_int_equal(rpk_rpmsg_start(R(f), 0), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(rpk_get_tx_buffer(R(f), &bufs[i], &size, RPK_NO_WAIT), 0);
		memcpy(bufs[i], "zc", 2);
		assert_int_equal(rpk_send_nocopy(&re, 2000, bufs[i], 2), 0);
	}
	assert_int_equal(rpk_rpmsg_poll(M(f)), 4);
	assert_int_equal(mr.count, 4);
}

/* ---- a hostile peer ---- */

static struct fx *master_alone(void **state, uint32_t num, uint32_t features)
{
	struct fx *f = fx_new(state, num, RPK_RPMSG_BUF_SIZE);

	side_init(f, &f->m, RPK_ROLE_MASTER);
	assert_int_equal(rpk_rpmsg_start(M(f), features), 0);
	return f;
}

static struct fx *remote_alone(void **state, uint32_t num, uint32_t features)
{
	struct fx *f = fx_new(state, num, RPK_RPMSG_BUF_SIZE);

	side_init(f, &f->r, RPK_ROLE_REMOTE);
	assert_int_equal(rpk_rpmsg_start(R(f), features), 0);
	return f;
}

/* rpk_rpmsg_set_tap: what a trace sees. */
struct tap_log {
	int n;
	struct rpk_tap_msg m[8];
	uint8_t data[8][8];
	uint32_t peer_used_at_tx; /* the peer's view when the TX tap ran */
	struct fx *f;
};

static void tap_record(void *ctx, const struct rpk_tap_msg *m)
{
	struct tap_log *t = ctx;

	if (t->n >= 8)
		return;
	t->m[t->n] = *m;
	memcpy(t->data[t->n], m->data, m->len < 8 ? m->len : 8);
	if (m->dir == RPK_TAP_TX)
		t->peer_used_at_tx = ring_used(t->f, 0)->idx;
	t->n++;
}

static void test_tap_sees_every_message(void **state)
{
	struct fx *f = fx_new(state, 16, RPK_RPMSG_BUF_SIZE);
	struct tap_log rt = {.f = f}, mt = {.f = f};
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};

	fx_init_both(f);
	rpk_rpmsg_set_tap(R(f), tap_record, &rt);
	rpk_rpmsg_set_tap(M(f), tap_record, &mt);
	ept_new(R(f), &re, "rpmsg-echo", RPK_ADDR_ANY, RPK_ADDR_ANY, &rr);
	assert_int_equal(rpk_rpmsg_start(M(f), NS_F), 0);
	assert_int_equal(rpk_rpmsg_start(R(f), NS_F), 0);
	/* The announcement, traced before the peer could see it. */
	assert_int_equal(rt.n, 1);
	assert_int_equal(rt.m[0].dir, RPK_TAP_TX);
	assert_int_equal(rt.m[0].src, re.addr);
	assert_int_equal(rt.m[0].dst, RPK_NS_ADDR);
	assert_int_equal(rt.m[0].len, 40);
	assert_int_equal(rt.peer_used_at_tx, 0);
	assert_memory_equal(rt.data[0], "rpmsg-ec", 8);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(mt.n, 1);
	assert_int_equal(mt.m[0].dir, RPK_TAP_RX);
	assert_int_equal(mt.m[0].dst, RPK_NS_ADDR);

	ept_new(M(f), &me, "rpmsg-echo", RPK_ADDR_ANY, RPK_ADDR_ANY, &mr);
	assert_int_equal(rpk_send(&me, "ping", 4, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_send_offchannel_raw(M(f), me.addr, 4321, "lost", 4, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 2);
	/* Both arrive in the trace, also the one no endpoint takes. */
	assert_int_equal(rt.n, 3);
	assert_int_equal(rt.m[1].dir, RPK_TAP_RX);
	assert_int_equal(rt.m[1].src, me.addr);
	assert_int_equal(rt.m[1].dst, re.addr);
	assert_int_equal(rt.m[1].len, 4);
	assert_int_equal(rt.m[1].flags, 0);
	assert_memory_equal(rt.data[1], "ping", 4);
	assert_int_equal(rt.m[2].dst, 4321);
	assert_int_equal(f->r.dev.stats.rx_no_ept, 1);
	assert_int_equal(mt.n, 3);

	/* Unset: nothing more is traced. */
	rpk_rpmsg_set_tap(R(f), NULL, NULL);
	assert_int_equal(rpk_send(&me, "ping", 4, RPK_NO_WAIT), 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(rt.n, 3);
	assert_int_equal(rr.count, 2);
}

static void test_tap_skips_invalid_headers(void **state)
{
	struct fx *f = master_alone(state, 8, NS_F);
	struct tap_log mt = {.f = f};
	struct rpk_ept me;
	struct rec mr = {0};

	rpk_rpmsg_set_tap(M(f), tap_record, &mt);
	ept_new(M(f), &me, NULL, 2000, RPK_ADDR_ANY, &mr);
	raw_remote_send(f, 1024, 2000, 5, "abcde", 5, 16 + 4); /* header says more */
	raw_remote_send(f, 1024, 2000, 0, "", 0, 8);	       /* shorter than a header */
	raw_remote_send(f, 1024, 2000, 4, "good", 4, 16 + 4);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 3);
	assert_int_equal(mt.n, 1);
	assert_memory_equal(mt.data[0], "good", 4);
	assert_int_equal(mt.m[0].src, 1024);
}

static void test_hostile_lengths_to_master(void **state)
{
	struct fx *f = master_alone(state, 8, NS_F);
	struct rpk_ept me;
	struct rec mr = {0};
	struct rpk_rpmsg_stats *st = &f->m.dev.stats;

	ept_new(M(f), &me, NULL, 2000, RPK_ADDR_ANY, &mr);
	raw_remote_send(f, 1024, 2000, 5, "abcde", 5, 16 + 4); /* header says more */
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(st->rx_bad_len, 1);
	raw_remote_send(f, 1024, 2000, 0, "", 0, 8); /* shorter than a header */
	raw_remote_send(f, 1024, 2000, 0, "", 0, 0);
	raw_remote_send(f, 1024, 2000, 4, "abcd", 4, RPK_RPMSG_BUF_SIZE + 1); /* past the buffer */
	raw_remote_send(f, 1024, 2000, 0xffff, "abcd", 4, RPK_RPMSG_BUF_SIZE);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 4);
	assert_int_equal(st->rx_bad_len, 5);
	assert_int_equal(st->rx_bad_buf, 0);
	assert_int_equal(mr.count, 0);
	assert_int_equal(st->rx_msgs, 0);
	/* The bad buffers were posted again; a good message still gets through. */
	assert_int_equal(ring_avail(f, 0)->idx, 8 + 5);
	raw_remote_send(f, 1024, 2000, 4, "good", 4, 16 + 4);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(mr.count, 1);
	assert_memory_equal(mr.data, "good", 4);
	/* A used id that names no buffer of ours: the buffer the remote meant
	 * is lost behind it, so the link breaks (a reset gives it back). */
	raw_used_put(f, 0, 0xffff, 20);
	assert_int_equal(rpk_rpmsg_poll(M(f)), -RPK_EPIPE);
	assert_int_equal(f->m.dev.vq[0].stats.bad_head, 1);
	assert_int_equal(st->rx_bad_buf, 0);
}

static void test_hostile_lengths_to_remote(void **state)
{
	struct fx *f = remote_alone(state, 8, 0);
	struct rpk_ept re;
	struct rec rr = {0};
	struct rpk_rpmsg_stats *st = &f->r.dev.stats;

	ept_new(R(f), &re, NULL, 2000, RPK_ADDR_ANY, &rr);
	make_hdr(f->pool, 1, 2000, 5);
	raw_master_post(f, 0, POOL_DA, 16 + 4, 0); /* header says more than the buffer */
	make_hdr(f->pool + 512, 1, 2000, 0);
	raw_master_post(f, 1, POOL_DA + 512, 8, 0); /* shorter than a header */
	make_hdr(f->pool + 1024, 1, 2000, 1);
	raw_master_post(f, 2, POOL_DA + 1024, 32, RPK_VRING_DESC_F_WRITE); /* wrong direction */
	raw_master_post(f, 3, POOL_DA + f->pool_size, 32, 0);		   /* outside memory */
	make_hdr(f->pool + 2048, 1, 2000, 4);
	memcpy(f->pool + 2048 + 16, "good", 4);
	raw_master_post(f, 4, POOL_DA + 2048, 16 + 4, 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 3);
	assert_int_equal(st->rx_bad_len, 2);
	assert_int_equal(st->rx_bad_buf, 2);
	assert_int_equal(rr.count, 1);
	assert_int_equal(rr.src, 1);
	assert_memory_equal(rr.data, "good", 4);
	/* Every buffer went back to the master. */
	assert_int_equal(ring_used(f, 1)->idx, 5);
}

static void test_hostile_ns_messages(void **state)
{
	struct fx *f = master_alone(state, 8, NS_F);
	struct rpk_rpmsg_stats *st = &f->m.dev.stats;
	char long_name[RPK_NAME_SIZE];
	uint8_t ns[48];

	memset(long_name, 'n', sizeof(long_name));
	make_ns(ns, "svc", 3, 1024, RPK_NS_CREATE);
	raw_remote_send(f, 1024, RPK_NS_ADDR, 39, ns, 39, 16 + 39);
	memset(ns + 40, 0, 8);
	raw_remote_send(f, 1024, RPK_NS_ADDR, 41, ns, 41, 16 + 41);
	make_ns(ns, long_name, sizeof(long_name), 1024, RPK_NS_CREATE);
	raw_remote_send(f, 1024, RPK_NS_ADDR, 40, ns, 40, 16 + 40);
	make_ns(ns, "", 0, 1024, RPK_NS_CREATE);
	raw_remote_send(f, 1024, RPK_NS_ADDR, 40, ns, 40, 16 + 40);
	make_ns(ns, "svc", 3, 1024, 7);
	raw_remote_send(f, 1024, RPK_NS_ADDR, 40, ns, 40, 16 + 40);
	make_ns(ns, "svc", 3, RPK_ADDR_ANY, RPK_NS_CREATE);
	raw_remote_send(f, 1024, RPK_NS_ADDR, 40, ns, 40, 16 + 40);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 6);
	assert_int_equal(st->ns_bad, 6);
	assert_int_equal(f->m.binds, 0);
	/* A destroy for an unknown service is harmless. */
	make_ns(ns, "nobody", 6, 1500, RPK_NS_DESTROY);
	raw_remote_send(f, 1024, RPK_NS_ADDR, 40, ns, 40, 16 + 40);
	make_ns(ns, "svc", 3, 1024, RPK_NS_CREATE);
	raw_remote_send(f, 1024, RPK_NS_ADDR, 40, ns, 40, 16 + 40);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 2);
	assert_int_equal(st->ns_bad, 6);
	assert_int_equal(f->m.binds, 1);
	assert_string_equal(f->m.bind_name, "svc");
	assert_int_equal(f->m.bind_addr, 1024);
}

static void test_hostile_ns_flood(void **state)
{
	struct fx *f = master_alone(state, 8, NS_F);
	struct rpk_rpmsg_stats *st = &f->m.dev.stats;
	struct rpk_ept early, late;
	struct rec er = {0}, lr = {0};
	char name[RPK_NAME_SIZE];
	uint8_t ns[40];

	for (uint32_t i = 0; i < 2000; i++) {
		int n = snprintf(name, sizeof(name), "flood-%u", i);

		make_ns(ns, name, (size_t)n, 1024 + i, RPK_NS_CREATE);
		raw_remote_send(f, 1024 + i, RPK_NS_ADDR, 40, ns, 40, 16 + 40);
		assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	}
	assert_int_equal(f->m.binds, 2000);
	assert_int_equal(st->ns_table_full, 2000 - NSERVICES);
	assert_int_equal(st->ns_bad, 0);
	ept_new(M(f), &early, "flood-5", RPK_ADDR_ANY, RPK_ADDR_ANY, &er);
	assert_int_equal(early.dst, 1024 + 5);
	ept_new(M(f), &late, "flood-1999", RPK_ADDR_ANY, RPK_ADDR_ANY, &lr);
	assert_int_equal(late.dst, RPK_ADDR_ANY);
}

static void test_hostile_index_jump_master(void **state)
{
	struct fx *f = master_alone(state, 8, 0);
	struct rpk_ept me;
	struct rec mr = {0};
	void *b, *kept;
	uint32_t size;

	ept_new(M(f), &me, NULL, 2000, 1024, &mr);
	assert_int_equal(rpk_trysend(&me, "ok", 2), 0);
	assert_int_equal(rpk_get_tx_buffer(M(f), &kept, &size, RPK_NO_WAIT), 0);
	ring_used(f, 0)->idx = (uint16_t)(f->num + 1); /* more than was ever posted */
	assert_int_equal(rpk_rpmsg_poll(M(f)), -RPK_EPIPE);
	assert_int_equal(rpk_rpmsg_poll(M(f)), -RPK_EPIPE);
	assert_int_equal(rpk_trysend(&me, "x", 1), -RPK_EPIPE);
	assert_int_equal(rpk_send(&me, "x", 1, 100), -RPK_EPIPE);
	assert_int_equal(rpk_get_tx_buffer(M(f), &b, &size, RPK_NO_WAIT), -RPK_EPIPE);
	/* A buffer taken before the break is not sent either. */
	assert_int_equal(rpk_send_nocopy(&me, 1024, kept, 1), -RPK_EPIPE);
	assert_int_equal(ring_avail(f, 1)->idx, 1);
	assert_int_equal(rpk_release_tx_buffer(M(f), kept), 0);
	assert_int_equal(mr.count, 0);
	assert_int_equal(f->m.waits, 0);
}

static void test_hostile_index_jump_master_tx(void **state)
{
	struct fx *f = master_alone(state, 8, 0);
	struct rpk_ept me;
	struct rec mr = {0};

	ept_new(M(f), &me, NULL, 2000, 1024, &mr);
	for (int i = 0; i < 8; i++)
		assert_int_equal(rpk_trysend(&me, "ok", 2), 0);
	ring_used(f, 1)->idx = 0x7000; /* the remote "returns" thousands */
	assert_int_equal(rpk_trysend(&me, "x", 1), -RPK_EPIPE);
	assert_int_equal(rpk_rpmsg_poll(M(f)), -RPK_EPIPE);
	assert_int_equal(rpk_send(&me, "x", 1, 100), -RPK_EPIPE);
}

static void test_hostile_index_jump_remote(void **state)
{
	struct fx *f = remote_alone(state, 8, 0);
	struct rpk_ept re;
	struct rec rr = {0};
	void *b, *kept;
	uint32_t size;

	ept_new(R(f), &re, NULL, RPK_ADDR_ANY, 2000, &rr);
	/* A receive buffer of the master's, taken before the break. */
	raw_master_post_q(f, 0, 0, POOL_DA, RPK_RPMSG_BUF_SIZE, RPK_VRING_DESC_F_WRITE);
	assert_int_equal(rpk_get_tx_buffer(R(f), &kept, &size, RPK_NO_WAIT), 0);
	ring_avail(f, 1)->idx = (uint16_t)(f->num + 1);
	assert_int_equal(rpk_rpmsg_poll(R(f)), -RPK_EPIPE);
	assert_int_equal(rpk_rpmsg_poll(R(f)), -RPK_EPIPE);
	assert_int_equal(rpk_trysend(&re, "x", 1), -RPK_EPIPE);
	assert_int_equal(rpk_send(&re, "x", 1, 100), -RPK_EPIPE);
	assert_int_equal(rpk_get_tx_buffer(R(f), &b, &size, RPK_NO_WAIT), -RPK_EPIPE);
	assert_int_equal(rpk_send_nocopy(&re, 2000, kept, 1), -RPK_EPIPE);
	assert_int_equal(ring_used(f, 0)->idx, 0);
	assert_int_equal(rpk_release_tx_buffer(R(f), kept), 0);
	assert_int_equal(rr.count, 0);
	assert_int_equal(f->r.waits, 0);
}

static void test_hostile_junk_flood_master(void **state)
{
	struct fx *f = master_alone(state, 16, 0);
	struct rpk_ept me;
	struct rec mr = {0};

	ept_new(M(f), &me, NULL, 2000, RPK_ADDR_ANY, &mr);
	f->m.inv_hook = junk_used0;
	/* The first junk entry breaks the queue: no more is read, ever. */
	assert_int_equal(rpk_rpmsg_poll(M(f)), -RPK_EPIPE);
	assert_int_equal(rpk_rpmsg_poll(M(f)), -RPK_EPIPE);
	assert_true(f->junk <= 2);
	assert_int_equal(f->m.dev.vq[0].stats.bad_head, 1);
	assert_int_equal(f->m.dev.stats.rx_bad_buf, 0);
	f->m.inv_hook = NULL;
	/* A reset brings the link back with every buffer. */
	rpk_rpmsg_reset(M(f));
	assert_int_equal(ring_avail(f, 0)->idx, f->num);
	assert_int_equal(rpk_rpmsg_start(M(f), 0), 0);
	f->raw_next = 0;
	raw_remote_send(f, 1024, 2000, 2, "ok", 2, 18);
	assert_int_equal(rpk_rpmsg_poll(M(f)), 1);
	assert_int_equal(mr.count, 1);
}

static void test_hostile_junk_flood_remote(void **state)
{
	struct fx *f = remote_alone(state, 16, 0);
	struct rpk_ept re;
	struct rec rr = {0};

	ept_new(R(f), &re, NULL, 2000, RPK_ADDR_ANY, &rr);
	f->r.inv_hook = junk_avail1;
	/* The first junk head breaks the queue: no more is read, ever. */
	assert_int_equal(rpk_rpmsg_poll(R(f)), -RPK_EPIPE);
	assert_int_equal(rpk_rpmsg_poll(R(f)), -RPK_EPIPE);
	assert_true(f->junk <= 2);
	assert_int_equal(f->r.dev.vq[1].stats.bad_head, 1);
	assert_int_equal(f->r.dev.stats.rx_bad_buf, 0);
	f->r.inv_hook = NULL;
	/* The master resets the rings; the link comes back. */
	rpk_rpmsg_reset(R(f));
	memset(f->ring[1], 0, f->ring_size);
	assert_int_equal(rpk_rpmsg_start(R(f), 0), 0);
	make_hdr(f->pool, 1, 2000, 2);
	memcpy(f->pool + 16, "ok", 2);
	raw_master_post(f, 0, POOL_DA, 18, 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(rr.count, 1);
}

/* ---- liveness (issue 12): what a foreign master relies on ---- */

/*
 * Our remote hands a master-to-remote buffer back with its full length in
 * used.len, as OpenAMP's remote does: OpenAMP's master takes a reused
 * buffer's size from it (0 made it copy a negative length). Every way back
 * does it: read and dispatched, held then released, and refused.
 */
static void test_liveness_used_len_full_buffer(void **state)
{
	struct fx *f = remote_alone(state, 8, 0);
	struct rpk_vring_used *u = ring_used(f, 1);
	struct rpk_ept re;
	struct rec rr = {0};

	ept_new(R(f), &re, NULL, 2000, RPK_ADDR_ANY, &rr);
	/* Dispatched: a 4-byte message in a 512-byte buffer. */
	make_hdr(f->pool, 1, 2000, 4);
	raw_master_post(f, 0, POOL_DA, RPK_RPMSG_BUF_SIZE, 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(u->idx, 1);
	assert_int_equal(u->ring[0].id, 0);
	assert_int_equal(u->ring[0].len, RPK_RPMSG_BUF_SIZE);
	/* A buffer posted with just the message's length goes back with that. */
	make_hdr(f->pool + 512, 1, 2000, 4);
	raw_master_post(f, 1, POOL_DA + 512, 16 + 4, 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(u->ring[1].len, 16 + 4);
	/* Held, then released. */
	rr.hold = 2;
	make_hdr(f->pool + 1024, 1, 2000, 4);
	raw_master_post(f, 2, POOL_DA + 1024, RPK_RPMSG_BUF_SIZE, 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(u->idx, 2);
	assert_int_equal(rr.nheld, 1);
	assert_int_equal(rpk_release_rx_buffer(R(f), rr.held[0]), 0);
	assert_int_equal(u->idx, 3);
	assert_int_equal(u->ring[2].len, RPK_RPMSG_BUF_SIZE);
	/* Refused: no header, shorter than a header, outside memory. */
	raw_master_post(f, 3, POOL_DA + 1536, 8, 0);
	raw_master_post(f, 4, POOL_DA + f->pool_size, 32, 0);
	raw_master_post(f, 5, POOL_DA + 2048, 16, RPK_VRING_DESC_F_NEXT);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(u->idx, 6);
	assert_int_equal(u->ring[3].len, 8);
	assert_int_equal(u->ring[4].len, 32);
	assert_int_equal(u->ring[5].len, 16);
}

/* Ctrl-C while a sender waits for a buffer: the handler interrupts the
 * device and wakes the port; the send gives up at once, and so does every
 * later send that would wait, while sends that find a buffer still go. */
static int hook_interrupt(struct side *s, uint32_t timeout_ms)
{
	(void)timeout_ms;
	rpk_rpmsg_interrupt(&s->dev);
	return 0; /* woken */
}

static void test_liveness_interrupt_blocked_send(void **state)
{
	struct fx *f = fx_up(state, 4, 0);
	struct rpk_ept me, re;
	struct rec mr = {0}, rr = {0};

	ept_new(R(f), &re, NULL, RPK_ADDR_ANY, 2000, &rr);
	ept_new(M(f), &me, NULL, 2000, re.addr, &mr);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rpk_trysend(&me, "a", 1), 0);
	f->m.wait_hook = hook_interrupt;
	assert_int_equal(rpk_send(&me, "b", 1, RPK_WAIT_FOREVER), -RPK_EINTR);
	assert_int_equal(f->m.waits, 1);
	assert_int_equal(ring_avail(f, 1)->flags, RPK_VRING_AVAIL_F_NO_INTERRUPT);
	f->m.wait_hook = NULL;
	assert_int_equal(rpk_send(&me, "b", 1, RPK_WAIT_FOREVER), -RPK_EINTR);
	assert_int_equal(f->m.waits, 1); /* did not even wait */
	assert_int_equal(rpk_trysend(&me, "b", 1), -RPK_EAGAIN);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 4);
	assert_int_equal(rpk_send(&me, "c", 1, RPK_WAIT_FOREVER), 0);
	assert_int_equal(rpk_rpmsg_poll(R(f)), 1);
	assert_int_equal(rr.count, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_pool_layout_16, fx_free),
	    cmocka_unit_test_teardown(test_pool_layout_512, fx_free),
	    cmocka_unit_test_teardown(test_wire_header_both_ways, fx_free),
	    cmocka_unit_test_teardown(test_batch_remote_rx_nowait, fx_free),
	    cmocka_unit_test_teardown(test_batch_master_rx_nowait, fx_free),
	    cmocka_unit_test_teardown(test_batch_remote_rx_waiting_port, fx_free),
	    cmocka_unit_test_teardown(test_batch_master_rx_waiting_port, fx_free),
	    cmocka_unit_test_teardown(test_symmetric_both_ways, fx_free),
	    cmocka_unit_test_teardown(test_symmetric_reset, fx_free),
	    cmocka_unit_test_teardown(test_symmetric_refuses_own_pool, fx_free),
	    cmocka_unit_test_teardown(test_role_init_entry_points, fx_free),
	    cmocka_unit_test_teardown(test_remote_parts_asked_for, fx_free),
	    cmocka_unit_test_teardown(test_remote_max_payload_follows_master, fx_free),
	    cmocka_unit_test_teardown(test_ns_announce_bind_destroy, fx_free),
	    cmocka_unit_test_teardown(test_ns_bound_on_arrival, fx_free),
	    cmocka_unit_test_teardown(test_ns_master_destroy_unbinds_remote, fx_free),
	    cmocka_unit_test_teardown(test_ns_disabled_sends_nothing, fx_free),
	    cmocka_unit_test_teardown(test_addresses, fx_free),
	    cmocka_unit_test_teardown(test_dispatch_1000_endpoints, fx_free),
	    cmocka_unit_test_teardown(test_send_errors, fx_free),
	    cmocka_unit_test_teardown(test_trysend_eagain_until_peer_polls, fx_free),
	    cmocka_unit_test_teardown(test_blocking_send_master, fx_free),
	    cmocka_unit_test_teardown(test_blocking_send_remote, fx_free),
	    cmocka_unit_test_teardown(test_kicks_only_when_asked, fx_free),
	    cmocka_unit_test_teardown(test_zero_copy_master, fx_free),
	    cmocka_unit_test_teardown(test_zero_copy_remote, fx_free),
	    cmocka_unit_test_teardown(test_hold_master, fx_free),
	    cmocka_unit_test_teardown(test_hold_remote, fx_free),
	    cmocka_unit_test_teardown(test_reset_master_remote_reboots, fx_free),
	    cmocka_unit_test_teardown(test_reset_fails_blocked_sender, fx_free),
	    cmocka_unit_test_teardown(test_reset_remote_side_reattach, fx_free),
	    cmocka_unit_test_teardown(test_reset_forgive_break, fx_free),
	    cmocka_unit_test_teardown(test_reset_remote_spare_buffers, fx_free),
	    cmocka_unit_test_teardown(test_tap_sees_every_message, fx_free),
	    cmocka_unit_test_teardown(test_tap_skips_invalid_headers, fx_free),
	    cmocka_unit_test_teardown(test_hostile_lengths_to_master, fx_free),
	    cmocka_unit_test_teardown(test_hostile_lengths_to_remote, fx_free),
	    cmocka_unit_test_teardown(test_hostile_ns_messages, fx_free),
	    cmocka_unit_test_teardown(test_hostile_ns_flood, fx_free),
	    cmocka_unit_test_teardown(test_hostile_index_jump_master, fx_free),
	    cmocka_unit_test_teardown(test_hostile_index_jump_master_tx, fx_free),
	    cmocka_unit_test_teardown(test_hostile_index_jump_remote, fx_free),
	    cmocka_unit_test_teardown(test_hostile_junk_flood_master, fx_free),
	    cmocka_unit_test_teardown(test_hostile_junk_flood_remote, fx_free),
	    cmocka_unit_test_teardown(test_liveness_used_len_full_buffer, fx_free),
	    cmocka_unit_test_teardown(test_liveness_interrupt_blocked_send, fx_free),
	    cmocka_unit_test_teardown(test_event_idx_one_kick_per_batch, fx_free),
	};

	/* CTest runs the liveness tests on their own too (tests/CMakeLists.txt). */
	if (getenv("RPK_TEST_FILTER"))
		cmocka_set_test_filter(getenv("RPK_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
