/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: an rpmsg device in the master role facing a hostile remote.
 *
 * The master owns two vrings and a buffer pool (exactly sized heap blocks).
 * Input: one configuration byte, then a script of operations. The script
 * plays the remote two ways: by hand (writing headers and payloads, name
 * service messages included, into the master's receive buffers, used ring
 * entries and indices of both queues, raw bytes anywhere, and writes that
 * happen while the master invalidates) and through an honest remote (the
 * library's own remote role on the same memory, which announces services,
 * sends, and consumes the master's messages). The master polls, sends (copy
 * and zero-copy), holds and releases receive buffers, creates and destroys
 * endpoints, from the top level and from inside its callbacks.
 *
 * Checked: callbacks see only payloads inside a receive buffer of the pool,
 * no longer than the buffer's payload room (496 bytes for 512-byte buffers);
 * name-service binds carry a terminated name; every buffer is accounted for
 * (posted, or held by us) while the queue is healthy; counters never go
 * back; poll's count matches the counters; locks are balanced and taken in
 * order; once broken, everything says -RPK_EPIPE.
 *
 * Configuration byte: bits 0-2 num (NUM_TABLE), bits 3-4 buffer size
 * (BUFSZ_TABLE), bit 5 name service, bit 6 polling mode, bit 7 align 4096
 * (else 64: the port's invalidate hook makes the core want whole lines).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpk/errno.h>
#include <rpk/mem.h>
#include <rpk/port.h>
#include <rpk/rpmsg.h>
#include <rpk/virtio.h>

#include "fuzz_common.h"

/* Keep in sync with gen_corpus.c. */
#define POOL_DA	  0x200ca000ull
#define NBUCKETS  8u
#define NSERVICES 4u
#define MAX_EPTS  12u
#define MAX_HELD  512u
#define HOOK_MAX  48u
#define NS_F	  (1u << RPK_VIRTIO_RPMSG_F_NS)

static const uint32_t NUM_TABLE[8] = {1, 2, 4, 8, 16, 32, 64, 512};
static const uint32_t BUFSZ_TABLE[4] = {512, 512, 128, 1024};
static const char *const NAMES[8] = {
    "rpmsg-fuzz",
    "rpmsg-client-sample",
    "rpmsg-remote-svc",
    "",
    "x",
    "rpmsg-tty",
    "a-name-of-exactly-31-characters",
    "a-name-of-32-characters-is-2long", /* too long for an endpoint */
};

enum op {
	OP_POLL,	/* master polls */
	OP_SEND,	/* u8 ept, u8 dst, u16 len, u8 kind [, u32 src] */
	OP_GET_TX,	/* rpk_get_tx_buffer */
	OP_SEND_NOCOPY, /* u8 sel, u8 ept, u8 dst, u16 len */
	OP_RELEASE_TX,	/* u8 sel */
	OP_RELEASE_RX,	/* u8 sel */
	OP_EPT_CREATE,	/* u8 name, u8 src, u8 dst */
	OP_EPT_DESTROY, /* u8 sel */
	OP_MISC,	/* u8 v: polling on/off, pending, lookup, name service */
	OP_CB_MODE,	/* u8 mode: what callbacks do */
	OP_H_MSG,	/* hostile remote: a message in a receive buffer (see op_h_msg) */
	OP_H_RET_TX,	/* hostile remote: u8 sel [, u32 id], u8 lensel [, u32 len] on vring 1 */
	OP_H_IDX,	/* hostile remote: u8 v: used index of either queue */
	OP_H_RAW,	/* hostile remote: u8 region, u32 off, u8 n, n bytes */
	OP_H_HOOK,	/* hostile remote: OP_H_RAW during an invalidate (u8 countdown first) */
	OP_R_SEND,	/* honest remote: u8 ept, u8 dst, u16 len */
	OP_R_POLL,	/* honest remote polls (consumes the master's messages) */
	OP_R_EPT,	/* honest remote: u8 v: create or destroy an endpoint */
	OP_WAIT_MODE,	/* u8 mode: what happens while a send waits (see m_wait) */
	OP_COUNT
};

/* Callback behaviour (OP_CB_MODE). */
#define CB_HOLD	       0x01u /* hold the buffer */
#define CB_REPLY       0x02u /* send back to the sender */
#define CB_DESTROY     0x04u /* destroy the endpoint (once) */
#define CB_CREATE      0x08u /* create an endpoint (once) */
#define CB_BAD_HOLD    0x10u /* hold with a wrong pointer */
#define CB_RELEASE_OLD 0x20u /* release an older held buffer */
#define CB_TX_BUF      0x40u /* take a transmit buffer and give it back */
#define CB_BIND_CREATE 0x80u /* ns_bind creates an endpoint for the service */

struct eslot {
	struct rpk_ept ept;
	int live;
	struct fz *f;
};

struct fz {
	struct in in;
	uint32_t num, buf_size, nbufs, align, features;
	size_t ring_size, pool_size;
	uint8_t *ring[2], *pool;
	struct rpk_mem_window win;
	struct rpk_mem mem;
	struct rpk_port_ops mops;
	struct rpk_port mport, rport;
	struct rpk_rpmsg m, r;
	struct rpk_vq_slot *mslots[2], *rslots[2];
	struct rpk_ept *mbuckets[NBUCKETS], *rbuckets[NBUCKETS];
	struct rpk_service msvc[NSERVICES], rsvc[NSERVICES];
	struct eslot me[MAX_EPTS], re[MAX_EPTS];
	uint8_t cb_mode;
	unsigned in_cb, callbacks, binds;
	void *rx_held[MAX_HELD], *tx_held[MAX_HELD];
	unsigned nrx_held, ntx_held;
	unsigned depth[RPK_LOCK_COUNT];
	struct rpk_rpmsg_stats stats;
	int broken[2];
	unsigned ops;
	/* a write the "remote" does while the master invalidates */
	uint32_t clock, wakeups;
	uint64_t rung[2]; /* doorbells rung, per notify id */
	uint8_t wait_mode;
	unsigned waits; /* in the current operation */
	int hook_armed;
	unsigned hook_countdown, hook_fired;
	uint8_t hook_region;
	uint32_t hook_off;
	uint8_t hook_len, hook_bytes[HOOK_MAX];
};

static const struct rpk_port_ops no_ops;
static uint8_t payload[0x10001];
static uint8_t not_pool[1024];

static struct rpk_vring_desc *ring_desc(struct fz *f, int q)
{
	return (struct rpk_vring_desc *)(void *)f->ring[q];
}

static struct rpk_vring_avail *ring_avail(struct fz *f, int q)
{
	return (struct rpk_vring_avail *)(void *)(f->ring[q] + 16u * f->num);
}

static struct rpk_vring_used *ring_used(struct fz *f, int q)
{
	return (struct rpk_vring_used *)(void *)(f->ring[q] + f->ring_size - (6u + 8u * f->num));
}

/* Write into ring 0, ring 1 or the pool, clipped to it. */
static void region_write(struct fz *f, uint8_t region, uint32_t off, const uint8_t *b, size_t n)
{
	uint8_t *base = region % 3 == 2 ? f->pool : f->ring[region % 3];
	size_t size = region % 3 == 2 ? f->pool_size : f->ring_size;

	off %= size;
	if (n > size - off)
		n = size - off;
	memcpy(base + off, b, n);
}

/* ---- the master's port: locks checked, invalidate lets the remote act ---- */

static void m_lock(void *ctx, enum rpk_lock which)
{
	struct fz *f = ctx;

	lock_checked(f->depth, which);
}

static void m_unlock(void *ctx, enum rpk_lock which)
{
	struct fz *f = ctx;

	unlock_checked(f->depth, which);
}

static void m_invalidate(void *ctx, const void *p, size_t len)
{
	struct fz *f = ctx;

	(void)p;
	(void)len;
	if (!f->hook_armed || f->hook_countdown--)
		return;
	f->hook_armed = 0;
	f->hook_fired++;
	region_write(f, f->hook_region, f->hook_off, f->hook_bytes, f->hook_len);
}

static void m_notify(void *ctx, uint32_t notify_id)
{
	struct fz *f = ctx;

	CHECK(notify_id < 2);
	f->rung[notify_id]++;
}

static uint32_t m_snapshot(void *ctx)
{
	struct fz *f = ctx;

	return f->wakeups;
}

/*
 * A send is waiting for a buffer (the transmit lock released). By wait_mode:
 * the time runs out; the honest remote polls (and gives buffers back); a
 * spurious wakeup; or the hostile remote's armed write lands now. The fake
 * clock always moves, so a wait with a timeout ends.
 */
static int m_wait(void *ctx, uint32_t snapshot, uint32_t timeout_ms)
{
	struct fz *f = ctx;

	(void)snapshot;
	CHECK(!f->depth[RPK_LOCK_TX]);
	CHECK(timeout_ms > 0 && timeout_ms != RPK_WAIT_FOREVER);
	CHECK(++f->waits <= 5000); /* bounded by the timeout */
	switch (f->wait_mode % 4) {
	case 0:
		f->clock += timeout_ms;
		return -RPK_ETIMEDOUT;
	case 1:
		rpk_rpmsg_poll(&f->r);
		f->clock += 1;
		f->wakeups++;
		return 0;
	case 2:
		f->clock += 3;
		f->wakeups++;
		return 0;
	default:
		if (f->hook_armed) {
			f->hook_armed = 0;
			f->hook_fired++;
			region_write(f, f->hook_region, f->hook_off, f->hook_bytes, f->hook_len);
		}
		f->clock += 1;
		f->wakeups++;
		return 0;
	}
}

static uint32_t m_now(void *ctx)
{
	struct fz *f = ctx;

	return f->clock;
}

/* ---- what we hold ---- */

static void hold_add(void **list, unsigned *n, void *p)
{
	CHECK(list_find(list, *n, p) < 0); /* never handed out twice */
	list_add(list, n, MAX_HELD, p);
}

/* Index of a pool buffer's payload in a half (0 receive, 1 send), or -1. */
static int pool_buf(const struct fz *f, int half, const void *payload_p)
{
	uintptr_t base = (uintptr_t)f->pool + (uintptr_t)half * f->nbufs * f->buf_size;
	uintptr_t p = (uintptr_t)payload_p - RPK_RPMSG_HDR_SIZE;

	if (p < base || (p - base) % f->buf_size || (p - base) / f->buf_size >= f->nbufs)
		return -1;
	return (int)((p - base) / f->buf_size);
}

static uint8_t *rx_buf(const struct fz *f, uint32_t i)
{
	return f->pool + (size_t)i * f->buf_size;
}

static int broken(const struct fz *f)
{
	return f->m.broken || f->m.vq[0].broken || f->m.vq[1].broken;
}

/* ---- endpoints ---- */

static int m_cb(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv);

static struct eslot *free_slot(struct eslot *s)
{
	for (unsigned i = 0; i < MAX_EPTS; i++)
		if (!s[i].live)
			return &s[i];
	return NULL;
}

static struct eslot *nth_live(struct eslot *s, unsigned k)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_EPTS; i++)
		n += s[i].live;
	if (!n)
		return NULL;
	k %= n;
	for (unsigned i = 0; i < MAX_EPTS; i++)
		if (s[i].live && !k--)
			return &s[i];
	return NULL;
}

static void m_unbind(struct rpk_ept *ept);

/* Create a master endpoint and check what rpk_ept_create says. */
static void m_create(struct fz *f, const char *name, uint32_t src, uint32_t dst)
{
	struct eslot *s = free_slot(f->me);
	size_t nlen = strlen(name);
	int in_use = src != RPK_ADDR_ANY && (src == RPK_NS_ADDR || rpk_ept_lookup(&f->m, src));
	int r;

	if (!s)
		return;
	s->f = f;
	r = rpk_ept_create(&f->m, &s->ept, name, src, dst, m_cb, s);
	if (nlen >= RPK_NAME_SIZE) {
		CHECK(r == -RPK_EINVAL);
		return;
	}
	if (in_use) {
		CHECK(r == -RPK_EADDRINUSE);
		return;
	}
	CHECK(r == 0);
	s->live = 1;
	s->ept.unbind = m_unbind;
	CHECK(rpk_ept_lookup(&f->m, s->ept.addr) == &s->ept);
	CHECK(s->ept.addr != RPK_ADDR_ANY && s->ept.addr != RPK_NS_ADDR);
	if (src == RPK_ADDR_ANY)
		CHECK(s->ept.addr >= RPK_RESERVED_ADDRESSES);
	else
		CHECK(s->ept.addr == src);
	CHECK(strcmp(s->ept.name, name) == 0);
}

static void m_destroy(struct fz *f, struct eslot *s)
{
	uint32_t addr = s->ept.addr;

	(void)f;
	s->live = 0;
	rpk_ept_destroy(&s->ept);
	CHECK(rpk_ept_lookup(&f->m, addr) != &s->ept);
}

static void m_unbind(struct rpk_ept *ept)
{
	struct eslot *s = ept->priv;
	struct fz *f = s->f;

	CHECK(s->live && &s->ept == ept);
	CHECK(ept->dst == RPK_ADDR_ANY);
	if ((f->cb_mode & CB_DESTROY)) {
		f->cb_mode &= (uint8_t)~CB_DESTROY;
		m_destroy(f, s);
	}
}

static void m_ns_bind(struct rpk_rpmsg *dev, const char *name, uint32_t addr, void *priv)
{
	struct fz *f = priv;

	CHECK(dev == &f->m);
	CHECK(memchr(name, 0, RPK_NAME_SIZE) != NULL && name[0]);
	CHECK(addr != RPK_ADDR_ANY);
	/* Only for a service no unbound endpoint of ours was waiting for. */
	for (unsigned i = 0; i < MAX_EPTS; i++)
		CHECK(!f->me[i].live || f->me[i].ept.dst != RPK_ADDR_ANY ||
		      strcmp(f->me[i].ept.name, name) != 0);
	f->binds++;
	if (f->cb_mode & CB_BIND_CREATE)
		m_create(f, name, RPK_ADDR_ANY, addr);
}

static int m_cb(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct eslot *s = priv;
	struct fz *f = s->f;
	const volatile uint8_t *d = data;
	uint8_t acc = 0;
	int i = pool_buf(f, 0, data), r;

	CHECK(s->live && &s->ept == ept && ept->dev == &f->m);
	CHECK(f->depth[RPK_LOCK_RX] && f->depth[RPK_LOCK_EPT]);
	/* A payload inside one receive buffer, within its room. */
	CHECK(i >= 0);
	CHECK(len <= f->buf_size - RPK_RPMSG_HDR_SIZE);
	CHECK(f->buf_size != RPK_RPMSG_BUF_SIZE || len <= RPK_RPMSG_MAX_PAYLOAD);
	CHECK(rpk_vq_slot_state(&f->m.vq[0], (uint32_t)i) == RPK_SLOT_RESERVED);
	CHECK(list_find(f->rx_held, f->nrx_held, data) < 0);
	for (size_t k = 0; k < len; k++)
		acc ^= d[k];
	(void)acc;
	f->callbacks++;
	f->in_cb++;

	if (f->cb_mode & CB_BAD_HOLD)
		CHECK(rpk_hold_rx_buffer(ept->dev, (char *)data + RPK_RPMSG_HDR_SIZE) ==
		      -RPK_EINVAL);
	if ((f->cb_mode & CB_RELEASE_OLD) && f->nrx_held) {
		r = rpk_release_rx_buffer(ept->dev, f->rx_held[0]);
		CHECK(r == 0 || (r == -RPK_EPIPE && f->m.vq[0].broken));
		if (r == 0)
			list_del(f->rx_held, &f->nrx_held, 0);
	}
	if (f->cb_mode & CB_HOLD) {
		CHECK(rpk_hold_rx_buffer(ept->dev, data) == 0);
		/* Not ours to give back while its callback runs. */
		CHECK(rpk_release_rx_buffer(ept->dev, data) == -RPK_EINVAL);
		hold_add(f->rx_held, &f->nrx_held, data);
	}
	if (f->cb_mode & CB_REPLY) {
		size_t n = len < 64 ? len : 64;

		r = rpk_trysendto(ept, src, data, n);
		CHECK(r == 0 || r == -RPK_EAGAIN || r == -RPK_ENOTCONN || r == -RPK_EPIPE);
		CHECK(r != -RPK_ENOTCONN || src == RPK_ADDR_ANY);
	}
	if (f->cb_mode & CB_TX_BUF) {
		void *buf;
		uint32_t cap;

		r = rpk_get_tx_buffer(ept->dev, &buf, &cap, RPK_NO_WAIT);
		if (r == 0)
			CHECK(rpk_release_tx_buffer(ept->dev, buf) == 0);
	}
	if (f->cb_mode & CB_CREATE) {
		f->cb_mode &= (uint8_t)~CB_CREATE;
		m_create(f, NAMES[f->callbacks % 8], RPK_ADDR_ANY, RPK_ADDR_ANY);
	}
	if (f->cb_mode & CB_DESTROY) {
		f->cb_mode &= (uint8_t)~CB_DESTROY;
		m_destroy(f, s);
	}
	f->in_cb--;
	return 0;
}

/* The honest remote's endpoints just take what comes. */
static int r_cb(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept;
	(void)data;
	(void)len;
	(void)src;
	(void)priv;
	return 0;
}

static void r_create(struct fz *f, const char *name, uint32_t src)
{
	struct eslot *s = free_slot(f->re);

	if (s && rpk_ept_create(&f->r, &s->ept, name, src, RPK_ADDR_ANY, r_cb, s) == 0)
		s->live = 1;
}

/* ---- invariants after every operation ---- */

UNTRACED static void check_stats(struct fz *f)
{
	const struct rpk_rpmsg_stats *a = &f->stats, *b = &f->m.stats;

	/* Counters only go up. */
	CHECK(b->tx_msgs >= a->tx_msgs && b->rx_msgs >= a->rx_msgs && b->tx_kicks >= a->tx_kicks &&
	      b->rx_kicks >= a->rx_kicks);
	CHECK(b->rx_no_ept >= a->rx_no_ept && b->rx_bad_len >= a->rx_bad_len);
	CHECK(b->rx_bad_buf >= a->rx_bad_buf && b->ns_bad >= a->ns_bad);
	CHECK(b->ns_table_full >= a->ns_table_full && b->ns_lost >= a->ns_lost);
	CHECK(b->tx_bad_buf >= a->tx_bad_buf);
	CHECK(f->m.stats.rx_msgs >= f->callbacks);
	/* Every doorbell rung is counted once, on its queue's side. */
	CHECK(b->tx_kicks == f->rung[f->m.svq->notify_id] &&
	      b->rx_kicks == f->rung[f->m.rvq->notify_id]);
	f->stats = *b;
}

/* After every operation; the sweep over every descriptor (full) only now
 * and then on big rings, and always after the last operation. */
UNTRACED static void check_state(struct fz *f, int full)
{
	struct rpk_vq *rvq = &f->m.vq[0], *svq = &f->m.vq[1];
	unsigned n[2][4] = {{0}};
	uint8_t rmark[RPK_RPMSG_MAX_BUFS / 2], smark[RPK_RPMSG_MAX_BUFS / 2];

	for (int l = 0; l < RPK_LOCK_COUNT; l++)
		CHECK(f->depth[l] == 0);
	CHECK(!f->in_cb && f->m.rx_cur == NULL);
	CHECK(f->m.up);
	check_stats(f);
	for (int q = 0; q < 2; q++) {
		if (f->broken[q])
			CHECK(f->m.vq[q].broken); /* broken is for good */
		f->broken[q] = f->m.vq[q].broken;
	}
	CHECK(rpk_max_payload(&f->m) == f->buf_size - RPK_RPMSG_HDR_SIZE);
	if (!full)
		return;

	/* What we hold, by buffer index: each a pool buffer of the right half, once. */
	memset(rmark, 0, sizeof(rmark));
	memset(smark, 0, sizeof(smark));
	for (unsigned i = 0; i < f->nrx_held; i++) {
		int k = pool_buf(f, 0, f->rx_held[i]);

		CHECK(k >= 0 && !rmark[k]);
		rmark[k] = 1;
	}
	for (unsigned i = 0; i < f->ntx_held; i++) {
		int k = pool_buf(f, 1, f->tx_held[i]);

		CHECK(k >= 0 && !smark[k]);
		smark[k] = 1;
	}
	for (uint32_t h = 0; h < f->num; h++) {
		uint8_t rs = rvq->slots[h].state, ss = svq->slots[h].state;

		CHECK(rs <= RPK_SLOT_POSTED && ss <= RPK_SLOT_POSTED);
		n[0][rs]++;
		n[1][ss]++;
		if (h >= f->nbufs) {
			/* Descriptors past the pool are never used. */
			CHECK(rs == RPK_SLOT_RESERVED && ss == RPK_SLOT_RESERVED);
			continue;
		}
		/* Every receive buffer is posted or held by us; every transmit
		 * buffer we hold is reserved, and nothing else is. */
		if (!rvq->broken)
			CHECK(rs == (rmark[h] ? RPK_SLOT_RESERVED : RPK_SLOT_POSTED));
		if (!svq->broken)
			CHECK((ss == RPK_SLOT_RESERVED) == smark[h]);
	}
	for (int q = 0; q < 2; q++) {
		CHECK(f->m.vq[q].num_free == n[q][RPK_SLOT_FREE]);
		CHECK(f->m.vq[q].num_posted == n[q][RPK_SLOT_POSTED]);
	}
	CHECK(n[0][RPK_SLOT_FREE] == 0);
}

/* ---- the master's operations ---- */

static void op_poll(struct fz *f)
{
	const struct rpk_rpmsg_stats s = f->m.stats;
	int was_broken = broken(f);
	int r = rpk_rpmsg_poll(&f->m);

	if (was_broken)
		CHECK(r == -RPK_EPIPE);
	if (r >= 0) {
		const struct rpk_rpmsg_stats *t = &f->m.stats;

		CHECK((uint32_t)r <= f->num);
		/* Each buffer handled is counted once: delivered, no endpoint or bad length. */
		CHECK(t->rx_msgs - s.rx_msgs + (t->rx_no_ept - s.rx_no_ept) +
			  (t->rx_bad_len - s.rx_bad_len) ==
		      (uint64_t)r);
	} else {
		CHECK(r == -RPK_EPIPE && broken(f));
	}
}

static uint32_t pick_dst(struct fz *f, uint8_t v)
{
	switch (v % 8) {
	case 0:
		return RPK_NS_ADDR;
	case 1:
	case 2:
	case 3:
		return f->re[v % 8 - 1].ept.addr; /* the remote's endpoints */
	case 4:
		return f->me[(v >> 3) % MAX_EPTS].ept.addr; /* ours */
	case 5:
		return RPK_ADDR_ANY;
	case 6:
		return in_u32(&f->in);
	default:
		return RPK_RESERVED_ADDRESSES + (v >> 3);
	}
}

/* After a send that worked: the newest entry of vring 1 is the message. */
UNTRACED static void check_sent(struct fz *f, uint32_t src, uint32_t dst, const void *data,
				size_t len)
{
	struct rpk_vring_avail *a = ring_avail(f, 1);
	uint16_t head = a->ring[(uint16_t)(f->m.vq[1].next_avail - 1) & (f->num - 1)];
	struct rpk_vring_desc *d;
	struct rpk_rpmsg_hdr h;
	const uint8_t *buf;

	CHECK(a->idx == f->m.vq[1].next_avail);
	CHECK(head < f->nbufs);
	d = &ring_desc(f, 1)[head];
	CHECK(d->flags == 0 && d->len == RPK_RPMSG_HDR_SIZE + len);
	CHECK(d->addr == POOL_DA + (uint64_t)(f->nbufs + head) * f->buf_size);
	buf = rx_buf(f, f->nbufs + head);
	memcpy(&h, buf, sizeof(h));
	CHECK(h.src == src && h.dst == dst && h.len == len && h.reserved == 0 && h.flags == 0);
	if (data)
		CHECK(memcmp(buf + RPK_RPMSG_HDR_SIZE, data, len) == 0);
}

static void op_send(struct fz *f)
{
	struct eslot *s = &f->me[in_u8(&f->in) % MAX_EPTS];
	uint32_t dst = pick_dst(f, in_u8(&f->in));
	uint16_t len16 = in_u16(&f->in);
	uint8_t kind = in_u8(&f->in);
	size_t len = (kind & 4) ? 0x10000u : len16 % (f->buf_size + 8);
	/* bit 4: wait up to 1..71 ms for a buffer (only raw sends take a timeout) */
	uint32_t timeout = (kind & 16) ? 1u + (kind >> 5) * 10u : RPK_NO_WAIT;
	uint32_t src = s->ept.addr;
	uint64_t tx = f->m.stats.tx_msgs;
	unsigned fired = f->hook_fired;
	int was_broken = broken(f);
	int r;

	if (!s->live)
		return;
	switch (kind & 3) {
	case 0:
		dst = s->ept.dst;
		r = rpk_trysend(&s->ept, payload, len);
		break;
	case 1:
		r = rpk_trysendto(&s->ept, dst, payload, len);
		break;
	default:
		src = (kind & 8) ? RPK_ADDR_ANY : in_u32(&f->in);
		r = rpk_send_offchannel_raw(&f->m, src, dst, payload, len, timeout);
		break;
	}
	if (src == RPK_ADDR_ANY || dst == RPK_ADDR_ANY) {
		CHECK(r == -RPK_ENOTCONN);
	} else if (len > 0xffff) {
		CHECK(r == -RPK_EMSGSIZE);
	} else if (was_broken) {
		CHECK(r == -RPK_EPIPE);
	} else if (r == 0) {
		CHECK(len <= f->buf_size - RPK_RPMSG_HDR_SIZE);
		CHECK(f->m.stats.tx_msgs == tx + 1);
		if (fired == f->hook_fired)
			check_sent(f, src, dst, payload, len);
	} else {
		CHECK(r == (timeout && (kind & 3) >= 2 ? -RPK_ETIMEDOUT : -RPK_EAGAIN) ||
		      r == -RPK_EPIPE ||
		      (r == -RPK_EMSGSIZE && len > f->buf_size - RPK_RPMSG_HDR_SIZE));
		CHECK(r != -RPK_EPIPE || broken(f));
	}
	if (r)
		CHECK(f->m.stats.tx_msgs == tx);
}

static void op_get_tx(struct fz *f)
{
	void *buf = NULL;
	uint32_t cap = 0;
	int was_broken = broken(f);
	int r = rpk_get_tx_buffer(&f->m, &buf, &cap, RPK_NO_WAIT);

	if (was_broken)
		CHECK(r == -RPK_EPIPE);
	if (r == 0) {
		int i = pool_buf(f, 1, buf);

		CHECK(i >= 0 && cap == f->buf_size - RPK_RPMSG_HDR_SIZE);
		CHECK(rpk_vq_slot_state(&f->m.vq[1], (uint32_t)i) == RPK_SLOT_RESERVED);
		memset(buf, 0x5a, cap); /* all of it is ours to write */
		hold_add(f->tx_held, &f->ntx_held, buf);
	} else {
		CHECK(r == -RPK_EAGAIN || (r == -RPK_EPIPE && broken(f)));
	}
}

/* A held transmit buffer, or something that is not one. */
static void *pick_tx(struct fz *f, uint8_t sel, int *held)
{
	*held = 0;
	if (!(sel & 0x80) && f->ntx_held) {
		*held = 1;
		return f->tx_held[sel % f->ntx_held];
	}
	switch (sel & 3) {
	case 0:
		return rx_buf(f, sel % f->nbufs) + RPK_RPMSG_HDR_SIZE; /* a receive buffer */
	case 1:
		return rx_buf(f, f->nbufs + sel % f->nbufs) + 8; /* misaligned */
	case 2:
		return not_pool + 64;
	default: {
		/* a transmit buffer we do not hold */
		void *p = rx_buf(f, f->nbufs + sel % f->nbufs) + RPK_RPMSG_HDR_SIZE;

		*held = list_find(f->tx_held, f->ntx_held, p) >= 0;
		return p;
	}
	}
}

static void op_send_nocopy(struct fz *f)
{
	int held;
	uint8_t sel = in_u8(&f->in);
	void *buf = pick_tx(f, sel, &held);
	struct eslot *s = &f->me[in_u8(&f->in) % MAX_EPTS];
	uint32_t dst = pick_dst(f, in_u8(&f->in));
	size_t len = in_u16(&f->in) % (f->buf_size + 8);
	uint64_t tx = f->m.stats.tx_msgs;
	unsigned fired = f->hook_fired;
	int was_broken = broken(f), r;

	if (!s->live)
		return;
	if (held)
		memcpy(buf, payload, len < f->buf_size - 16 ? len : f->buf_size - 16);
	r = rpk_send_nocopy(&s->ept, dst, buf, len);
	if (dst == RPK_ADDR_ANY)
		CHECK(r == -RPK_ENOTCONN);
	else if (!held)
		CHECK(r == -RPK_EINVAL);
	else if (was_broken)
		CHECK(r == -RPK_EPIPE);
	else if (len > f->buf_size - RPK_RPMSG_HDR_SIZE)
		CHECK(r == -RPK_EMSGSIZE);
	else
		CHECK(r == 0 || (r == -RPK_EPIPE && broken(f)));
	if (r == 0) {
		CHECK(f->m.stats.tx_msgs == tx + 1);
		if (fired == f->hook_fired)
			check_sent(f, s->ept.addr, dst, NULL, len);
		list_del(f->tx_held, &f->ntx_held,
			 (unsigned)list_find(f->tx_held, f->ntx_held, buf));
	}
}

static void op_release_tx(struct fz *f)
{
	int held;
	void *buf = pick_tx(f, in_u8(&f->in), &held);
	int r = rpk_release_tx_buffer(&f->m, buf);

	CHECK(r == (held ? 0 : -RPK_EINVAL));
	if (held)
		list_del(f->tx_held, &f->ntx_held,
			 (unsigned)list_find(f->tx_held, f->ntx_held, buf));
}

static void op_release_rx(struct fz *f)
{
	uint8_t sel = in_u8(&f->in);
	void *buf;
	int k = -1, r;

	if (!(sel & 0x80) && f->nrx_held) {
		k = (int)(sel % f->nrx_held);
		buf = f->rx_held[k];
	} else if (sel & 1) {
		buf = rx_buf(f, f->nbufs + sel % f->nbufs) + RPK_RPMSG_HDR_SIZE; /* a send buffer */
	} else {
		buf = rx_buf(f, sel % f->nbufs) + RPK_RPMSG_HDR_SIZE;
		k = list_find(f->rx_held, f->nrx_held, buf);
	}
	r = rpk_release_rx_buffer(&f->m, buf);
	if (k < 0) {
		CHECK(r == -RPK_EINVAL);
	} else if (f->m.vq[0].broken) {
		CHECK(r == -RPK_EPIPE);
	} else {
		CHECK(r == 0);
		list_del(f->rx_held, &f->nrx_held, (unsigned)k);
	}
}

static void op_ept_create(struct fz *f)
{
	uint8_t name = in_u8(&f->in), src = in_u8(&f->in), dst = in_u8(&f->in);
	uint32_t s, d;

	switch (src % 4) {
	case 0:
		s = RPK_ADDR_ANY;
		break;
	case 1:
		s = RPK_NS_ADDR;
		break;
	case 2:
		s = src >> 2; /* small, often taken */
		break;
	default:
		s = in_u32(&f->in);
		break;
	}
	d = (dst & 1) ? RPK_ADDR_ANY : pick_dst(f, dst >> 1);
	m_create(f, NAMES[name % 8], s, d);
}

static void op_misc(struct fz *f)
{
	uint8_t v = in_u8(&f->in);
	unsigned fired;
	uint32_t addr;
	struct rpk_ept *e;

	switch (v % 4) {
	case 0:
		fired = f->hook_fired;
		rpk_rpmsg_set_polling(&f->m, v & 4);
		if (fired == f->hook_fired)
			CHECK(ring_avail(f, 0)->flags ==
			      ((v & 4) ? RPK_VRING_AVAIL_F_NO_INTERRUPT : 0));
		break;
	case 1: {
		int p = rpk_rpmsg_pending(&f->m);

		CHECK(p == 0 || p == 1);
		break;
	}
	case 2:
		addr = pick_dst(f, (uint8_t)(v >> 2));
		e = rpk_ept_lookup(&f->m, addr);
		if (e && e != &f->m.ns_ept) {
			struct eslot *s = e->priv;

			CHECK(s >= f->me && s < f->me + MAX_EPTS && s->live && &s->ept == e);
			CHECK(e->addr == addr);
		}
		break;
	default:
		/* The name service is bound at 53 exactly when it was negotiated. */
		e = rpk_ept_lookup(&f->m, RPK_NS_ADDR);
		CHECK(e == ((f->features & NS_F) ? &f->m.ns_ept : NULL));
		break;
	}
}

/* ---- the hostile remote ---- */

/*
 * OP_H_MSG: u8 flags (bit 0 raw id, bit 1 do not return it, bit 2 do not
 * write it), u8 id [, u32 raw id], u32 src, u8 dst, u8 lensel [, u16 len],
 * u8 kind (0 raw: u8 n, n bytes; 1 name service: u8 name [, 32 bytes],
 * u32 addr, u8 flags), u8 usedsel [, u32 used length].
 */
static void op_h_msg(struct fz *f)
{
	uint8_t flags = in_u8(&f->in), id8 = in_u8(&f->in);
	uint32_t id = (flags & 1) ? in_u32(&f->in) : id8 % f->nbufs;
	uint8_t *buf = rx_buf(f, id < f->nbufs ? id : id8 % f->nbufs);
	uint32_t room = f->buf_size - RPK_RPMSG_HDR_SIZE, n = 0, used_len;
	struct rpk_rpmsg_hdr h;
	uint8_t body[RPK_RPMSG_HDR_SIZE + 1024], lensel, usedsel;

	memset(&h, 0, sizeof(h));
	h.src = in_u32(&f->in);
	h.dst = pick_dst(f, in_u8(&f->in));
	lensel = in_u8(&f->in);
	if (in_u8(&f->in) & 1) {
		struct rpk_ns_msg m;
		uint8_t name = in_u8(&f->in);

		memset(&m, 0, sizeof(m));
		if (name & 0x80) {
			for (unsigned i = 0; i < RPK_NAME_SIZE; i++)
				m.name[i] = (char)in_u8(&f->in);
		} else {
			memcpy(m.name, NAMES[name % 8], strlen(NAMES[name % 8]));
		}
		m.addr = in_u32(&f->in);
		m.flags = in_u8(&f->in) % 3;
		n = sizeof(m);
		memcpy(body + RPK_RPMSG_HDR_SIZE, &m, n);
		if (!(flags & 8))
			h.dst = RPK_NS_ADDR;
	} else {
		n = in_u8(&f->in);
		for (uint32_t i = 0; i < n; i++)
			body[RPK_RPMSG_HDR_SIZE + i] = in_u8(&f->in);
	}
	switch (lensel & 3) {
	case 0:
		h.len = (uint16_t)n;
		break;
	case 1:
		h.len = in_u16(&f->in);
		break;
	case 2:
		h.len = (uint16_t)room;
		break;
	default:
		h.len = (uint16_t)(room + 1);
		break;
	}
	h.flags = lensel >> 2;
	memcpy(body, &h, sizeof(h));
	if (!(flags & 4))
		memcpy(buf, body, RPK_RPMSG_HDR_SIZE + (n < room ? n : room));

	usedsel = in_u8(&f->in);
	switch (usedsel & 3) {
	case 0:
		used_len = RPK_RPMSG_HDR_SIZE + h.len;
		break;
	case 1:
		used_len = f->buf_size;
		break;
	case 2:
		used_len = f->buf_size + 1;
		break;
	default:
		used_len = in_u32(&f->in);
		break;
	}
	if (!(flags & 2)) {
		struct rpk_vring_used *u = ring_used(f, 0);

		u->ring[u->idx & (f->num - 1)].id = id;
		u->ring[u->idx & (f->num - 1)].len = used_len;
		u->idx++;
	}
}

/* The remote returns a transmit buffer on vring 1. */
static void op_h_ret_tx(struct fz *f)
{
	uint8_t sel = in_u8(&f->in), lensel;
	struct rpk_vring_used *u = ring_used(f, 1);
	struct rpk_vring_used_elem *e = &u->ring[u->idx & (f->num - 1)];
	uint32_t id = f->num, posted = 16;

	if (sel & 0x80) {
		id = in_u32(&f->in);
	} else if (f->m.vq[1].num_posted) {
		unsigned k = sel % f->m.vq[1].num_posted;

		for (uint32_t h = 0; h < f->num; h++)
			if (f->m.vq[1].slots[h].state == RPK_SLOT_POSTED && !k--) {
				id = h;
				break;
			}
	}
	if (id < f->num)
		posted = ring_desc(f, 1)[id].len;
	lensel = in_u8(&f->in);
	switch (lensel & 3) {
	case 0:
		e->len = 0;
		break;
	case 1:
		e->len = posted;
		break;
	case 2:
		e->len = posted + 1;
		break;
	default:
		e->len = in_u32(&f->in);
		break;
	}
	e->id = id;
	u->idx++;
}

static void op_h_idx(struct fz *f)
{
	uint8_t v = in_u8(&f->in);
	struct rpk_vring_used *u = ring_used(f, v & 1);

	if (v & 0x80)
		u->idx = in_u16(&f->in);
	else
		u->idx += (uint16_t)(((v >> 1) & 0x3f) % (f->num + 2));
}

static void op_h_raw(struct fz *f, int hook)
{
	uint8_t countdown = hook ? in_u8(&f->in) : 0;
	uint8_t region = in_u8(&f->in), n, bytes[256];
	uint32_t off = in_u32(&f->in);

	n = in_u8(&f->in);
	if (hook)
		n %= HOOK_MAX + 1;
	for (unsigned i = 0; i < n; i++)
		bytes[i] = in_u8(&f->in);
	if (!hook) {
		region_write(f, region, off, bytes, n);
		return;
	}
	f->hook_armed = 1;
	f->hook_countdown = countdown & 15u;
	f->hook_region = region;
	f->hook_off = off;
	f->hook_len = n;
	memcpy(f->hook_bytes, bytes, n);
}

/* ---- the honest remote ---- */

static void op_r_send(struct fz *f)
{
	struct eslot *s = &f->re[in_u8(&f->in) % MAX_EPTS];
	uint8_t d = in_u8(&f->in);
	uint32_t dst = (d & 1) ? f->me[(d >> 1) % MAX_EPTS].ept.addr : pick_dst(f, d >> 1);
	size_t len = in_u16(&f->in) % (RPK_RPMSG_BUF_SIZE + 8);

	if (s->live)
		rpk_send_offchannel_raw(&f->r, s->ept.addr, dst, payload, len, RPK_NO_WAIT);
}

static void op_r_ept(struct fz *f)
{
	uint8_t v = in_u8(&f->in);
	struct eslot *s;

	if (v & 1) {
		s = nth_live(f->re, v >> 1);
		if (s) {
			s->live = 0;
			rpk_ept_destroy(&s->ept);
		}
	} else {
		r_create(f, NAMES[(v >> 1) % 8], (v & 2) ? RPK_ADDR_ANY : (uint32_t)(v >> 2));
	}
}

/* ---- setup ---- */

static int setup(struct fz *f)
{
	uint8_t cfg = in_u8(&f->in);
	struct rpk_rpmsg_cfg mc, rc;
	void *p;

	f->num = NUM_TABLE[cfg & 7u];
	f->buf_size = BUFSZ_TABLE[(cfg >> 3) & 3u];
	f->features = (cfg & 32u) ? NS_F : 0;
	f->align = (cfg & 128u) ? 4096u : RPK_CACHE_LINE;
	f->nbufs = f->num < RPK_RPMSG_MAX_BUFS / 2 ? f->num : RPK_RPMSG_MAX_BUFS / 2;
	f->ring_size = rpk_vring_size(f->num, f->align);
	f->pool_size = (size_t)2 * f->nbufs * f->buf_size;
	for (int q = 0; q < 2; q++) {
		if (posix_memalign(&p, 16, f->ring_size))
			return -1;
		f->ring[q] = p;
		memset(p, 0, f->ring_size);
		f->mslots[q] = calloc(f->num, sizeof(struct rpk_vq_slot));
		f->rslots[q] = calloc(f->num, sizeof(struct rpk_vq_slot));
		if (!f->mslots[q] || !f->rslots[q])
			return -1;
	}
	if (posix_memalign(&p, RPK_CACHE_LINE, f->pool_size))
		return -1;
	f->pool = p;
	memset(f->pool, 0xee, f->pool_size);
	f->win.da = POOL_DA;
	f->win.size = f->pool_size;
	f->win.va = f->pool;
	f->mem.win = &f->win;
	f->mem.count = 1;

	f->mops = no_ops;
	f->mops.lock = m_lock;
	f->mops.unlock = m_unlock;
	f->mops.cache_invalidate = m_invalidate;
	f->mops.notify = m_notify;
	f->mops.event_snapshot = m_snapshot;
	f->mops.event_wait = m_wait;
	f->mops.now_ms = m_now;
	f->mport.ops = &f->mops;
	f->mport.ctx = f;
	f->rport.ops = &no_ops;

	memset(&mc, 0, sizeof(mc));
	mc.role = RPK_ROLE_MASTER;
	mc.vring[0] = f->ring[0];
	mc.vring[1] = f->ring[1];
	mc.num = f->num;
	mc.align = f->align;
	mc.notify_id[1] = 1;
	mc.slots[0] = f->mslots[0];
	mc.slots[1] = f->mslots[1];
	mc.mem = &f->mem;
	mc.port = &f->mport;
	mc.bufs = f->pool;
	mc.buf_size = f->buf_size;
	mc.buckets = f->mbuckets;
	mc.num_buckets = NBUCKETS;
	mc.services = f->msvc;
	mc.num_services = NSERVICES;
	mc.ns_bind = m_ns_bind;
	mc.ns_priv = f;
	rc = mc;
	rc.role = RPK_ROLE_REMOTE;
	rc.slots[0] = f->rslots[0];
	rc.slots[1] = f->rslots[1];
	rc.port = &f->rport;
	rc.bufs = NULL;
	rc.buf_size = 0;
	rc.buckets = f->rbuckets;
	rc.services = f->rsvc;
	rc.ns_bind = NULL;
	CHECK(rpk_rpmsg_init(&f->m, &mc) == 0);
	CHECK(rpk_rpmsg_init(&f->r, &rc) == 0);

	/* Ours: fixed addresses, a named one that announces itself, and one
	 * waiting for the remote's "rpmsg-client-sample". */
	m_create(f, "", 1, RPK_ADDR_ANY);
	m_create(f, NAMES[0], RPK_ADDR_ANY, RPK_ADDR_ANY);
	m_create(f, NAMES[1], RPK_ADDR_ANY, RPK_ADDR_ANY);
	m_create(f, "", RPK_RESERVED_ADDRESSES, RPK_ADDR_ANY);
	/* The honest remote's: the sample service, a fixed address, another service. */
	r_create(f, NAMES[1], RPK_ADDR_ANY);
	r_create(f, "", 1);
	r_create(f, NAMES[2], RPK_ADDR_ANY);

	CHECK(rpk_rpmsg_start(&f->m, f->features) == 0);
	CHECK(rpk_rpmsg_start(&f->r, f->features) == 0);
	if (cfg & 64u)
		rpk_rpmsg_set_polling(&f->m, 1);
	f->stats = f->m.stats;
	return 0;
}

static void teardown(struct fz *f)
{
	for (int q = 0; q < 2; q++) {
		free(f->ring[q]);
		free(f->mslots[q]);
		free(f->rslots[q]);
	}
	free(f->pool);
	free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz *f = calloc(1, sizeof(*f));

	if (!f)
		return 0;
	if (!payload[1])
		for (size_t i = 0; i < sizeof(payload); i++)
			payload[i] = (uint8_t)(i * 7u + 1u);
	f->in.p = data;
	f->in.n = size;
	if (setup(f) == 0) {
		check_state(f, 1);
		while (f->in.n) {
			uint8_t op = in_u8(&f->in) % OP_COUNT;
			struct eslot *s;

			f->waits = 0;
			switch (op) {
			case OP_POLL:
				op_poll(f);
				break;
			case OP_SEND:
				op_send(f);
				break;
			case OP_GET_TX:
				op_get_tx(f);
				break;
			case OP_SEND_NOCOPY:
				op_send_nocopy(f);
				break;
			case OP_RELEASE_TX:
				op_release_tx(f);
				break;
			case OP_RELEASE_RX:
				op_release_rx(f);
				break;
			case OP_EPT_CREATE:
				op_ept_create(f);
				break;
			case OP_EPT_DESTROY:
				s = nth_live(f->me, in_u8(&f->in));
				if (s)
					m_destroy(f, s);
				break;
			case OP_MISC:
				op_misc(f);
				break;
			case OP_CB_MODE:
				f->cb_mode = in_u8(&f->in);
				break;
			case OP_WAIT_MODE:
				f->wait_mode = in_u8(&f->in);
				break;
			case OP_H_MSG:
				op_h_msg(f);
				break;
			case OP_H_RET_TX:
				op_h_ret_tx(f);
				break;
			case OP_H_IDX:
				op_h_idx(f);
				break;
			case OP_H_RAW:
				op_h_raw(f, 0);
				break;
			case OP_H_HOOK:
				op_h_raw(f, 1);
				break;
			case OP_R_SEND:
				op_r_send(f);
				break;
			case OP_R_POLL:
				rpk_rpmsg_poll(&f->r);
				break;
			case OP_R_EPT:
				op_r_ept(f);
				break;
			default:
				break;
			}
			check_state(f, f->num <= 16 || !(++f->ops & 7) || !f->in.n);
		}
	}
	teardown(f);
	return 0;
}
