/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: an rpmsg device in the remote role facing a hostile master.
 *
 * The remote uses the master's buffers: whatever descriptors the master puts
 * on vring 1 (messages for us) and vring 0 (buffers for our messages). Two
 * memory windows (the master's pool and another region) and both rings are
 * exactly sized heap blocks. Input: one configuration byte, then a script of
 * operations. The script plays the master by hand (descriptors pointing
 * anywhere with any length and flags, headers and name-service messages,
 * avail indices and flags, raw bytes, writes during an invalidate) and
 * through an honest master (the library's own master role on the same
 * memory, which posts buffers, sends and takes our messages). The remote
 * polls, sends (copy and zero-copy), holds and releases receive buffers and
 * creates and destroys endpoints, also from inside its callbacks.
 *
 * Checked: callbacks see only payloads inside the buffer the descriptor
 * described, inside one window; transmit buffers handed out lie inside a
 * window and inside the descriptor; held buffers are accounted for; sends
 * publish what they say; counters never go back; poll's count matches the
 * counters; locks are balanced and taken in order; once broken, everything
 * says -RPK_EPIPE.
 *
 * Configuration byte: bits 0-2 num (NUM_TABLE), bits 3-4 the master's buffer
 * size (BUFSZ_TABLE), bit 5 name service, bit 6 polling mode, bit 7 align 4096
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
#define POOL_DA	   0x200ca000ull
#define EXTRA_DA   0x30000000ull
#define EXTRA_SIZE 2048u
#define NBUCKETS   8u
#define NSERVICES  4u
#define MAX_EPTS   12u
#define MAX_HELD   1024u
#define HOOK_MAX   48u
#define NS_F	   (1u << RPK_VIRTIO_RPMSG_F_NS)

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
	OP_POLL,	/* remote polls */
	OP_SEND,	/* u8 ept, u8 dst, u16 len, u8 kind [, u32 src] */
	OP_GET_TX,	/* rpk_get_tx_buffer */
	OP_SEND_NOCOPY, /* u8 sel, u8 ept, u8 dst, u16 len */
	OP_RELEASE_TX,	/* u8 sel */
	OP_RELEASE_RX,	/* u8 sel */
	OP_EPT_CREATE,	/* u8 name, u8 src, u8 dst */
	OP_EPT_DESTROY, /* u8 sel */
	OP_MISC,	/* u8 v: polling on/off, pending, lookup, name service */
	OP_CB_MODE,	/* u8 mode: what callbacks do */
	OP_H_MSG,	/* hostile master: a message on vring 1 (see op_h_msg) */
	OP_H_TXBUF,	/* hostile master: a buffer for us on vring 0 (see op_h_txbuf) */
	OP_H_IDX,	/* hostile master: u8 v: avail index or flags of either queue */
	OP_H_RAW,	/* hostile master: u8 region, u32 off, u8 n, n bytes */
	OP_H_HOOK,	/* hostile master: OP_H_RAW during an invalidate (u8 countdown first) */
	OP_M_SEND,	/* honest master: u8 ept, u8 dst, u16 len */
	OP_M_POLL,	/* honest master polls (takes our messages, posts buffers again) */
	OP_M_EPT,	/* honest master: u8 v: create or destroy an endpoint */
	OP_WAIT_MODE,	/* u8 mode: what happens while a send waits (see r_wait) */
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
	uint8_t *ring[2], *pool, *extra;
	struct rpk_mem_window mwin, rwin[2];
	struct rpk_mem mmem, rmem;
	struct rpk_port_ops rops;
	struct rpk_port mport, rport;
	struct rpk_rpmsg m, r;
	struct rpk_vq_slot *mslots[2], *rslots[2];
	struct rpk_ept *mbuckets[NBUCKETS], *rbuckets[NBUCKETS];
	struct rpk_service msvc[NSERVICES], rsvc[NSERVICES];
	struct eslot me[MAX_EPTS], re[MAX_EPTS];
	uint8_t cb_mode;
	unsigned in_cb, callbacks, binds;
	/* The master may offer one buffer under two descriptors, so a pointer
	 * may be here twice. */
	void *rx_held[MAX_HELD], *tx_held[MAX_HELD];
	unsigned nrx_held, ntx_held;
	unsigned depth[RPK_LOCK_COUNT];
	struct rpk_rpmsg_stats stats;
	int broken[2];
	unsigned ops;
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

/* Write into ring 0, ring 1, the pool or the extra window, clipped to it. */
static void region_write(struct fz *f, uint8_t region, uint32_t off, const uint8_t *b, size_t n)
{
	uint8_t *base[4] = {f->ring[0], f->ring[1], f->pool, f->extra};
	size_t size[4] = {f->ring_size, f->ring_size, f->pool_size, EXTRA_SIZE};

	region %= 4;
	off %= size[region];
	if (n > size[region] - off)
		n = size[region] - off;
	memcpy(base[region] + off, b, n);
}

/* ---- the remote's port: locks checked, invalidate lets the master act ---- */

static void r_lock(void *ctx, enum rpk_lock which)
{
	struct fz *f = ctx;

	lock_checked(f->depth, which);
}

static void r_unlock(void *ctx, enum rpk_lock which)
{
	struct fz *f = ctx;

	unlock_checked(f->depth, which);
}

static void r_invalidate(void *ctx, const void *p, size_t len)
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

static void r_notify(void *ctx, uint32_t notify_id)
{
	struct fz *f = ctx;

	CHECK(notify_id < 2);
	f->rung[notify_id]++;
}

static uint32_t r_snapshot(void *ctx)
{
	struct fz *f = ctx;

	return f->wakeups;
}

/*
 * A send is waiting for a buffer (the transmit lock released). By wait_mode:
 * the time runs out; the honest master polls (and gives buffers back); a
 * spurious wakeup; or the hostile master's armed write lands now. The fake
 * clock always moves, so a wait with a timeout ends.
 */
static int r_wait(void *ctx, uint32_t snapshot, uint32_t timeout_ms)
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
		rpk_rpmsg_poll(&f->m);
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

static uint32_t r_now(void *ctx)
{
	struct fz *f = ctx;

	return f->clock;
}

/* ---- what we hold ---- */

/* [p, p + len) inside one of the remote's windows. */
UNTRACED static int in_window(const struct fz *f, const void *p, uint64_t len)
{
	for (unsigned i = 0; i < f->rmem.count; i++) {
		uintptr_t b = (uintptr_t)f->rwin[i].va, q = (uintptr_t)p;

		if (q >= b && q - b <= f->rwin[i].size && len <= f->rwin[i].size - (q - b))
			return 1;
	}
	return 0;
}

/* The longest buffer a queue holds at hdr (the master may alias), 0 if none. */
UNTRACED static uint32_t held_len(const struct rpk_vq *vq, const void *hdr)
{
	uint32_t len = 0;

	for (uint32_t h = 0; h < vq->num; h++)
		if (vq->slots[h].state == RPK_SLOT_HELD && vq->slots[h].buf == hdr &&
		    vq->slots[h].len > len)
			len = vq->slots[h].len;
	return len;
}

/* The transmit descriptor the caller's buffer at payload p stands for, as
 * the header's stashed head and the queue's record agree, or -1. */
UNTRACED static int tx_head_of(const struct fz *f, const void *p)
{
	const uint8_t *hdr = (const uint8_t *)p - RPK_RPMSG_HDR_SIZE;
	uint32_t head;

	memcpy(&head, hdr + 8, sizeof(head));
	if (rpk_vq_slot_buf(&f->r.vq[0], head, RPK_SLOT_HELD) != hdr || f->r.vq[0].slots[head].user)
		return -1;
	return (int)head;
}

UNTRACED static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;

	return x < y ? -1 : x > y;
}

/* The two lists hold the same pointers, as many times each. */
UNTRACED static void check_same(void **a, unsigned na, void *const *b, unsigned nb)
{
	static void *sb[MAX_HELD];

	CHECK(na == nb && nb <= MAX_HELD);
	memcpy(sb, b, nb * sizeof(*b));
	qsort(a, na, sizeof(*a), cmp_ptr);
	qsort(sb, nb, sizeof(*sb), cmp_ptr);
	CHECK(memcmp(a, sb, na * sizeof(*a)) == 0);
}

static int broken(const struct fz *f)
{
	return f->r.broken || f->r.vq[0].broken || f->r.vq[1].broken;
}

/* ---- endpoints ---- */

static int r_cb(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv);
static void r_unbind(struct rpk_ept *ept);

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

/* Create an endpoint of the remote under test and check what rpk_ept_create says. */
static void r_create(struct fz *f, const char *name, uint32_t src, uint32_t dst)
{
	struct eslot *s = free_slot(f->re);
	size_t nlen = strlen(name);
	int in_use = src != RPK_ADDR_ANY && (src == RPK_NS_ADDR || rpk_ept_lookup(&f->r, src));
	int r;

	if (!s)
		return;
	s->f = f;
	r = rpk_ept_create(&f->r, &s->ept, name, src, dst, r_cb, s);
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
	s->ept.unbind = r_unbind;
	CHECK(rpk_ept_lookup(&f->r, s->ept.addr) == &s->ept);
	CHECK(s->ept.addr != RPK_ADDR_ANY && s->ept.addr != RPK_NS_ADDR);
	if (src == RPK_ADDR_ANY)
		CHECK(s->ept.addr >= RPK_RESERVED_ADDRESSES);
	else
		CHECK(s->ept.addr == src);
	CHECK(strcmp(s->ept.name, name) == 0);
}

static void r_destroy(struct fz *f, struct eslot *s)
{
	uint32_t addr = s->ept.addr;

	s->live = 0;
	rpk_ept_destroy(&s->ept);
	CHECK(rpk_ept_lookup(&f->r, addr) != &s->ept);
}

static void r_unbind(struct rpk_ept *ept)
{
	struct eslot *s = ept->priv;
	struct fz *f = s->f;

	CHECK(s->live && &s->ept == ept);
	CHECK(ept->dst == RPK_ADDR_ANY);
	if (f->cb_mode & CB_DESTROY) {
		f->cb_mode &= (uint8_t)~CB_DESTROY;
		r_destroy(f, s);
	}
}

static void r_ns_bind(struct rpk_rpmsg *dev, const char *name, uint32_t addr, void *priv)
{
	struct fz *f = priv;

	CHECK(dev == &f->r);
	CHECK(memchr(name, 0, RPK_NAME_SIZE) != NULL && name[0]);
	CHECK(addr != RPK_ADDR_ANY);
	for (unsigned i = 0; i < MAX_EPTS; i++)
		CHECK(!f->re[i].live || f->re[i].ept.dst != RPK_ADDR_ANY ||
		      strcmp(f->re[i].ept.name, name) != 0);
	f->binds++;
	if (f->cb_mode & CB_BIND_CREATE)
		r_create(f, name, RPK_ADDR_ANY, addr);
}

static int r_cb(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct eslot *s = priv;
	struct fz *f = s->f;
	const volatile uint8_t *d = data;
	uint8_t *hdr = (uint8_t *)data - RPK_RPMSG_HDR_SIZE;
	uint32_t blen = held_len(&f->r.vq[1], hdr);
	uint8_t acc = 0;
	int r;

	CHECK(s->live && &s->ept == ept && ept->dev == &f->r);
	CHECK(f->depth[RPK_LOCK_RX] && f->depth[RPK_LOCK_EPT]);
	CHECK(f->r.rx_cur == hdr);
	/* The payload lies inside the buffer the descriptor gave, inside a window. */
	CHECK(blen > 0);
	CHECK(((uintptr_t)hdr & 3u) == 0);
	CHECK(len <= 0xffffu && len + RPK_RPMSG_HDR_SIZE <= blen);
	CHECK(in_window(f, hdr, blen));
	for (size_t k = 0; k < len; k++)
		acc ^= d[k];
	(void)acc;
	f->callbacks++;
	f->in_cb++;

	if (f->cb_mode & CB_BAD_HOLD)
		CHECK(rpk_hold_rx_buffer(ept->dev, (char *)data + 4) == -RPK_EINVAL);
	if ((f->cb_mode & CB_RELEASE_OLD) && f->nrx_held) {
		r = rpk_release_rx_buffer(ept->dev, f->rx_held[0]);
		/* The master may have handed us the same buffer again: then it
		 * is the one whose callback runs, not ours to give back yet. */
		if (f->rx_held[0] == data)
			CHECK(r == -RPK_EINVAL);
		else
			CHECK(r == 0 || (r == -RPK_EPIPE && f->r.vq[1].broken));
		if (r == 0)
			list_del(f->rx_held, &f->nrx_held, 0);
	}
	if (f->cb_mode & CB_HOLD) {
		CHECK(rpk_hold_rx_buffer(ept->dev, data) == 0);
		CHECK(rpk_release_rx_buffer(ept->dev, data) == -RPK_EINVAL);
		list_add(f->rx_held, &f->nrx_held, MAX_HELD, data);
	}
	if (f->cb_mode & CB_REPLY) {
		size_t n = len < 64 ? len : 64;

		r = rpk_trysendto(ept, src, payload, n);
		CHECK(r == 0 || r == -RPK_EAGAIN || r == -RPK_ENOTCONN || r == -RPK_EPIPE ||
		      r == -RPK_EMSGSIZE);
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
		r_create(f, NAMES[f->callbacks % 8], RPK_ADDR_ANY, RPK_ADDR_ANY);
	}
	if (f->cb_mode & CB_DESTROY) {
		f->cb_mode &= (uint8_t)~CB_DESTROY;
		r_destroy(f, s);
	}
	f->in_cb--;
	return 0;
}

/* The honest master's endpoints just take what comes. */
static int m_cb(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept;
	(void)data;
	(void)len;
	(void)src;
	(void)priv;
	return 0;
}

static void m_create(struct fz *f, const char *name, uint32_t src)
{
	struct eslot *s = free_slot(f->me);

	if (s && rpk_ept_create(&f->m, &s->ept, name, src, RPK_ADDR_ANY, m_cb, s) == 0)
		s->live = 1;
}

/* ---- invariants after every operation ---- */

UNTRACED static void check_stats(struct fz *f)
{
	const struct rpk_rpmsg_stats *a = &f->stats, *b = &f->r.stats;

	CHECK(b->tx_msgs >= a->tx_msgs && b->rx_msgs >= a->rx_msgs && b->tx_kicks >= a->tx_kicks &&
	      b->rx_kicks >= a->rx_kicks);
	CHECK(b->rx_no_ept >= a->rx_no_ept && b->rx_bad_len >= a->rx_bad_len);
	CHECK(b->rx_bad_buf >= a->rx_bad_buf && b->ns_bad >= a->ns_bad);
	CHECK(b->ns_table_full >= a->ns_table_full && b->ns_lost >= a->ns_lost);
	CHECK(b->tx_bad_buf >= a->tx_bad_buf);
	CHECK(f->r.stats.rx_msgs >= f->callbacks);
	/* Every doorbell rung is counted once, on its queue's side. */
	CHECK(b->tx_kicks == f->rung[f->r.svq->notify_id] &&
	      b->rx_kicks == f->rung[f->r.rvq->notify_id]);
	f->stats = *b;
}

/* After every operation; the sweep over every descriptor (full) only now
 * and then on big rings, and always after the last operation. */
UNTRACED static void check_state(struct fz *f, int full)
{
	static void *rx[MAX_HELD], *tx[MAX_HELD];
	unsigned nrx = 0, ntx = 0, spare = 0;

	for (int l = 0; l < RPK_LOCK_COUNT; l++)
		CHECK(f->depth[l] == 0);
	CHECK(!f->in_cb && f->r.rx_cur == NULL);
	CHECK(f->r.up);
	check_stats(f);
	CHECK(rpk_max_payload(&f->r) <= 0xffffu);
	for (int q = 0; q < 2; q++) {
		if (f->broken[q])
			CHECK(f->r.vq[q].broken); /* broken is for good */
		f->broken[q] = f->r.vq[q].broken;
	}
	if (!full)
		return;
	for (int q = 0; q < 2; q++) {
		const struct rpk_vq *vq = &f->r.vq[q];
		unsigned held = 0;

		for (uint32_t h = 0; h < f->num; h++) {
			const struct rpk_vq_slot *s = &vq->slots[h];

			CHECK(s->state == RPK_SLOT_FREE || s->state == RPK_SLOT_HELD);
			if (s->state != RPK_SLOT_HELD)
				continue;
			held++;
			/* Whatever we hold lies inside a window. */
			CHECK(s->len > 0 && in_window(f, s->buf, s->len));
			if (q == 1)
				rx[nrx++] = (uint8_t *)s->buf + RPK_RPMSG_HDR_SIZE;
			else if (s->user)
				spare++;
			else
				tx[ntx++] = (uint8_t *)s->buf + RPK_RPMSG_HDR_SIZE;
		}
		CHECK(vq->num_free == f->num - held);
	}
	CHECK(spare == f->r.num_spare);
	/* The receive buffers held are exactly those we hold. */
	check_same(rx, nrx, f->rx_held, f->nrx_held);
	/* The transmit buffers held are those we hold and the spares (plus,
	 * once the queue is broken, any it could not give back). */
	if (!f->r.vq[0].broken)
		check_same(tx, ntx, f->tx_held, f->ntx_held);
	else
		CHECK(ntx >= f->ntx_held);
}

/* ---- the remote's operations ---- */

static void op_poll(struct fz *f)
{
	const struct rpk_rpmsg_stats s = f->r.stats;
	int was_broken = broken(f);
	int r = rpk_rpmsg_poll(&f->r);

	if (was_broken)
		CHECK(r == -RPK_EPIPE);
	if (r >= 0) {
		const struct rpk_rpmsg_stats *t = &f->r.stats;

		CHECK((uint32_t)r <= f->num);
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
		return f->me[v % 8 - 1].ept.addr; /* the master's endpoints */
	case 4:
		return f->re[(v >> 3) % MAX_EPTS].ept.addr; /* ours */
	case 5:
		return RPK_ADDR_ANY;
	case 6:
		return in_u32(&f->in);
	default:
		return RPK_RESERVED_ADDRESSES + (v >> 3);
	}
}

/* After a send that worked: the newest used entry of vring 0 says so. */
UNTRACED static void check_sent(struct fz *f, size_t len)
{
	struct rpk_vring_used *u = ring_used(f, 0);
	struct rpk_vring_used_elem *e =
	    &u->ring[(uint16_t)(f->r.vq[0].next_used - 1) & (f->num - 1)];

	CHECK(u->idx == f->r.vq[0].next_used);
	CHECK(e->id < f->num && e->len == RPK_RPMSG_HDR_SIZE + len);
	CHECK(f->r.vq[0].slots[e->id].state == RPK_SLOT_FREE);
}

static void op_send(struct fz *f)
{
	struct eslot *s = &f->re[in_u8(&f->in) % MAX_EPTS];
	uint32_t dst = pick_dst(f, in_u8(&f->in));
	uint16_t len16 = in_u16(&f->in);
	uint8_t kind = in_u8(&f->in);
	size_t len = (kind & 4) ? 0x10000u : len16 % (f->buf_size + 8);
	/* bit 4: wait up to 1..71 ms for a buffer (only raw sends take a timeout) */
	uint32_t timeout = (kind & 16) ? 1u + (kind >> 5) * 10u : RPK_NO_WAIT;
	uint32_t src = s->ept.addr;
	uint64_t tx = f->r.stats.tx_msgs;
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
		r = rpk_send_offchannel_raw(&f->r, src, dst, payload, len, timeout);
		break;
	}
	if (src == RPK_ADDR_ANY || dst == RPK_ADDR_ANY) {
		CHECK(r == -RPK_ENOTCONN);
	} else if (len > 0xffff) {
		CHECK(r == -RPK_EMSGSIZE);
	} else if (was_broken) {
		CHECK(r == -RPK_EPIPE);
	} else if (r == 0) {
		CHECK(f->r.stats.tx_msgs == tx + 1);
		if (fired == f->hook_fired)
			check_sent(f, len);
	} else {
		CHECK(r == (timeout && (kind & 3) >= 2 ? -RPK_ETIMEDOUT : -RPK_EAGAIN) ||
		      r == -RPK_EPIPE || r == -RPK_EMSGSIZE);
		CHECK(r != -RPK_EPIPE || broken(f));
	}
	if (r)
		CHECK(f->r.stats.tx_msgs == tx);
}

static void op_get_tx(struct fz *f)
{
	void *buf = NULL;
	uint32_t cap = 0;
	int was_broken = broken(f);
	int r = rpk_get_tx_buffer(&f->r, &buf, &cap, RPK_NO_WAIT);

	if (was_broken)
		CHECK(r == -RPK_EPIPE);
	if (r == 0) {
		uint8_t *hdr = (uint8_t *)buf - RPK_RPMSG_HDR_SIZE;
		int h = tx_head_of(f, buf);

		/* A buffer the master offered, its head stashed in the header,
		 * big enough for what we were told. */
		CHECK(h >= 0);
		CHECK(((uintptr_t)hdr & 3u) == 0);
		CHECK(cap <= 0xffffu && cap + RPK_RPMSG_HDR_SIZE <= f->r.vq[0].slots[h].len);
		CHECK(in_window(f, hdr, RPK_RPMSG_HDR_SIZE + (uint64_t)cap));
		memset(buf, 0x5a, cap); /* all of it is ours to write */
		list_add(f->tx_held, &f->ntx_held, MAX_HELD, buf);
	} else {
		CHECK(r == -RPK_EAGAIN || (r == -RPK_EPIPE && broken(f)));
	}
}

/*
 * A held transmit buffer, or something that is not one (pointers with 16
 * readable bytes before them: the remote reads the header's reserved word).
 */
static void *pick_tx(struct fz *f, uint8_t sel)
{
	if (!(sel & 0x80) && f->ntx_held)
		return f->tx_held[sel % f->ntx_held];
	switch (sel & 3) {
	case 0:
		/* a receive buffer we hold */
		return f->nrx_held ? f->rx_held[sel % f->nrx_held] : not_pool + 64;
	case 1:
		return f->ntx_held ? (uint8_t *)f->tx_held[sel % f->ntx_held] + 4 : not_pool + 32;
	case 2:
		return not_pool + 64;
	default:
		return f->pool + RPK_RPMSG_HDR_SIZE +
		       ((sel >> 2) * 4u) % (f->pool_size - 2 * RPK_RPMSG_HDR_SIZE);
	}
}

static void op_send_nocopy(struct fz *f)
{
	uint8_t sel = in_u8(&f->in);
	void *buf = pick_tx(f, sel);
	struct eslot *s = &f->re[in_u8(&f->in) % MAX_EPTS];
	uint32_t dst = pick_dst(f, in_u8(&f->in));
	size_t len = in_u16(&f->in) % (f->buf_size + 8);
	uint64_t tx = f->r.stats.tx_msgs;
	unsigned fired = f->hook_fired;
	int was_broken = broken(f), r, k, head;
	uint32_t cap = 0;

	if (!s->live)
		return;
	/* Which buffer the remote will take this for: the head stashed in
	 * the header (the master may have rewritten it) if the queue agrees. */
	head = tx_head_of(f, buf);
	if (head >= 0) {
		uint32_t blen = f->r.vq[0].slots[head].len - RPK_RPMSG_HDR_SIZE;

		cap = blen > 0xffffu ? 0xffffu : blen;
		memcpy(buf, payload, len < cap ? len : cap);
	}
	r = rpk_send_nocopy(&s->ept, dst, buf, len);
	if (dst == RPK_ADDR_ANY)
		CHECK(r == -RPK_ENOTCONN);
	else if (head < 0)
		CHECK(r == -RPK_EINVAL);
	else if (was_broken)
		CHECK(r == -RPK_EPIPE);
	else if (len > cap)
		CHECK(r == -RPK_EMSGSIZE);
	else
		CHECK(r == 0);
	if (r == 0) {
		CHECK(f->r.stats.tx_msgs == tx + 1);
		if (fired == f->hook_fired)
			check_sent(f, len);
		/* Only a buffer we hold can have gone. */
		k = list_find(f->tx_held, f->ntx_held, buf);
		CHECK(k >= 0);
		list_del(f->tx_held, &f->ntx_held, (unsigned)k);
	} else {
		CHECK(f->r.stats.tx_msgs == tx);
	}
}

static void op_release_tx(struct fz *f)
{
	int k;
	void *buf = pick_tx(f, in_u8(&f->in));
	int head = tx_head_of(f, buf);
	int r = rpk_release_tx_buffer(&f->r, buf);

	CHECK(r == (head >= 0 ? 0 : -RPK_EINVAL));
	if (r == 0) {
		CHECK(f->r.vq[0].slots[head].user); /* a spare now */
		k = list_find(f->tx_held, f->ntx_held, buf);
		CHECK(k >= 0);
		list_del(f->tx_held, &f->ntx_held, (unsigned)k);
	}
}

static void op_release_rx(struct fz *f)
{
	uint8_t sel = in_u8(&f->in);
	void *buf;
	int k = -1, r;

	if (!(sel & 0x80) && f->nrx_held) {
		k = (int)(sel % f->nrx_held);
		buf = f->rx_held[k];
	} else if ((sel & 1) && f->ntx_held) {
		buf = f->tx_held[sel % f->ntx_held];
	} else {
		buf = not_pool + 64;
	}
	r = rpk_release_rx_buffer(&f->r, buf);
	if (k < 0) {
		/* A transmit buffer may share its memory with a held receive buffer. */
		k = list_find(f->rx_held, f->nrx_held, buf);
		CHECK(r == -RPK_EINVAL || (k >= 0 && (r == 0 || r == -RPK_EPIPE)));
	} else if (f->r.vq[1].broken) {
		CHECK(r == -RPK_EPIPE);
	} else {
		CHECK(r == 0);
	}
	if (r == 0)
		list_del(f->rx_held, &f->nrx_held, (unsigned)k);
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
		s = src >> 2;
		break;
	default:
		s = in_u32(&f->in);
		break;
	}
	d = (dst & 1) ? RPK_ADDR_ANY : pick_dst(f, dst >> 1);
	r_create(f, NAMES[name % 8], s, d);
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
		rpk_rpmsg_set_polling(&f->r, v & 4);
		if (fired == f->hook_fired)
			CHECK(ring_used(f, 1)->flags == ((v & 4) ? RPK_VRING_USED_F_NO_NOTIFY : 0));
		break;
	case 1: {
		int p = rpk_rpmsg_pending(&f->r);

		CHECK(p == 0 || p == 1);
		break;
	}
	case 2:
		addr = pick_dst(f, (uint8_t)(v >> 2));
		e = rpk_ept_lookup(&f->r, addr);
		if (e && e != &f->r.ns_ept) {
			struct eslot *s = e->priv;

			CHECK(s >= f->re && s < f->re + MAX_EPTS && s->live && &s->ept == e);
			CHECK(e->addr == addr);
		}
		break;
	default:
		e = rpk_ept_lookup(&f->r, RPK_NS_ADDR);
		CHECK(e == ((f->features & NS_F) ? &f->r.ns_ept : NULL));
		break;
	}
}

/* ---- the hostile master ---- */

/* A device address: in the pool, in the extra window, near their ends, or anything. */
static uint64_t pick_da(struct fz *f, uint8_t kind, uint16_t off)
{
	switch (kind & 7) {
	case 0:
	case 1:
		return POOL_DA + off % f->pool_size;
	case 2:
		return POOL_DA + (off % f->pool_size & ~(uint64_t)3);
	case 3:
		return EXTRA_DA + off % EXTRA_SIZE;
	case 4:
		return POOL_DA + f->pool_size - off % 64;
	case 5:
		return EXTRA_DA + EXTRA_SIZE - off % 64;
	case 6:
		return POOL_DA + (uint64_t)(off % (2 * f->nbufs)) * f->buf_size;
	default:
		return in_u64(&f->in);
	}
}

static void *da_to_va(struct fz *f, uint64_t da, uint64_t len)
{
	return rpk_mem_to_va(&f->rmem, da, len);
}

static void post_desc(struct fz *f, int q, uint16_t head, uint64_t da, uint32_t len, uint16_t flags,
		      int publish)
{
	struct rpk_vring_desc *d = &ring_desc(f, q)[head & (f->num - 1)];
	struct rpk_vring_avail *a = ring_avail(f, q);

	d->addr = da;
	d->len = len;
	d->flags = flags;
	d->next = 0;
	if (publish) {
		a->ring[a->idx & (f->num - 1)] = (head & 0x8000) ? head : head & (f->num - 1);
		a->idx++;
	}
}

/*
 * OP_H_MSG: u8 flags (bit 0 wrong direction, bit 1 chained, bit 2 do not
 * publish, bit 3 do not write the message, bit 4 out-of-range head), u8
 * head, u8 kind, u16 off [, u64 da], u32 src, u8 dst, u8 lensel [, u16 len],
 * u8 payload kind (0 raw: u8 n, n bytes; 1 name service: u8 name
 * [, 32 bytes], u32 addr, u8 flags), u8 desc length selector [, u32].
 */
static void op_h_msg(struct fz *f)
{
	uint8_t flags = in_u8(&f->in), head8 = in_u8(&f->in), kind = in_u8(&f->in);
	uint16_t off = in_u16(&f->in);
	uint64_t da = pick_da(f, kind, off);
	struct rpk_rpmsg_hdr h;
	uint8_t body[RPK_RPMSG_HDR_SIZE + 256], lensel, dsel;
	uint32_t n, dlen;
	uint16_t dflags = 0;
	void *va;

	memset(&h, 0, sizeof(h));
	h.src = in_u32(&f->in);
	h.dst = pick_dst(f, in_u8(&f->in));
	lensel = in_u8(&f->in);
	if (in_u8(&f->in) & 1) {
		struct rpk_ns_msg m;
		uint8_t name = in_u8(&f->in);

		memset(&m, 0, sizeof(m));
		if (name & 0x80)
			for (unsigned i = 0; i < RPK_NAME_SIZE; i++)
				m.name[i] = (char)in_u8(&f->in);
		else
			memcpy(m.name, NAMES[name % 8], strlen(NAMES[name % 8]));
		m.addr = in_u32(&f->in);
		m.flags = in_u8(&f->in) % 3;
		n = sizeof(m);
		memcpy(body + RPK_RPMSG_HDR_SIZE, &m, n);
		if (!(lensel & 0x80))
			h.dst = RPK_NS_ADDR;
	} else {
		n = in_u8(&f->in);
		for (uint32_t i = 0; i < n; i++)
			body[RPK_RPMSG_HDR_SIZE + i] = in_u8(&f->in);
	}
	h.len = (lensel & 3) == 1 ? in_u16(&f->in) : (uint16_t)(n + (lensel & 3) / 2);
	memcpy(body, &h, sizeof(h));

	dsel = in_u8(&f->in);
	switch (dsel & 3) {
	case 0:
		dlen = RPK_RPMSG_HDR_SIZE + n; /* just the message */
		break;
	case 1:
		dlen = f->buf_size;
		break;
	case 2:
		dlen = (dsel >> 2) % 24; /* too short for a header, or just enough */
		break;
	default:
		dlen = in_u32(&f->in);
		break;
	}
	if (!(flags & 8) && (va = da_to_va(f, da, 1)) != NULL) {
		/* Write the message where the descriptor points, clipped to the window. */
		uint32_t room = 0;

		while (room < RPK_RPMSG_HDR_SIZE + n && da_to_va(f, da, room + 1))
			room++;
		memcpy(va, body, room);
	}
	if (flags & 1)
		dflags |= RPK_VRING_DESC_F_WRITE;
	if (flags & 2)
		dflags |= (dsel & 0x80) ? RPK_VRING_DESC_F_INDIRECT : RPK_VRING_DESC_F_NEXT;
	post_desc(f, 1, (flags & 16) ? (uint16_t)(0x8000u | head8) : head8, da, dlen, dflags,
		  !(flags & 4));
}

/*
 * OP_H_TXBUF: u8 flags (bit 0 wrong direction, bit 1 chained, bit 2 do not
 * publish), u8 head, u8 kind, u16 off [, u64 da], u8 lensel [, u32 len].
 */
static void op_h_txbuf(struct fz *f)
{
	uint8_t flags = in_u8(&f->in), head8 = in_u8(&f->in), kind = in_u8(&f->in);
	uint16_t off = in_u16(&f->in);
	uint64_t da = pick_da(f, kind, off);
	uint8_t lensel = in_u8(&f->in);
	uint16_t dflags = (flags & 1) ? 0 : RPK_VRING_DESC_F_WRITE;
	uint32_t len;

	switch (lensel & 3) {
	case 0:
		len = f->buf_size;
		break;
	case 1:
		len = (lensel >> 2) % 24;
		break;
	case 2:
		len = RPK_RPMSG_HDR_SIZE + (uint32_t)(lensel >> 2) * 8u;
		break;
	default:
		len = in_u32(&f->in);
		break;
	}
	if (flags & 2)
		dflags |= RPK_VRING_DESC_F_NEXT;
	post_desc(f, 0, head8, da, len, dflags, !(flags & 4));
}

static void op_h_idx(struct fz *f)
{
	uint8_t v = in_u8(&f->in);
	struct rpk_vring_avail *a = ring_avail(f, v & 1);

	switch ((v >> 1) & 3) {
	case 0:
		a->idx = in_u16(&f->in);
		break;
	case 1:
		a->idx += (uint16_t)((v >> 3) % (f->num + 2));
		break;
	case 2:
		a->idx -= (uint16_t)((v >> 3) % (f->num + 2));
		break;
	default:
		a->flags = (v >> 3) & 1;
		break;
	}
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

/* ---- the honest master ---- */

static void op_m_send(struct fz *f)
{
	struct eslot *s = &f->me[in_u8(&f->in) % MAX_EPTS];
	uint8_t d = in_u8(&f->in);
	uint32_t dst = (d & 1) ? f->re[(d >> 1) % MAX_EPTS].ept.addr : pick_dst(f, d >> 1);
	size_t len = in_u16(&f->in) % (f->buf_size + 8);

	if (s->live)
		rpk_send_offchannel_raw(&f->m, s->ept.addr, dst, payload, len, RPK_NO_WAIT);
}

static void op_m_ept(struct fz *f)
{
	uint8_t v = in_u8(&f->in);
	struct eslot *s;

	if (v & 1) {
		s = nth_live(f->me, v >> 1);
		if (s) {
			s->live = 0;
			rpk_ept_destroy(&s->ept);
		}
	} else {
		m_create(f, NAMES[(v >> 1) % 8], (v & 2) ? RPK_ADDR_ANY : (uint32_t)(v >> 2));
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
	f->extra = malloc(EXTRA_SIZE);
	if (!f->extra)
		return -1;
	memset(f->extra, 0xdd, EXTRA_SIZE);
	f->mwin.da = POOL_DA;
	f->mwin.size = f->pool_size;
	f->mwin.va = f->pool;
	f->mmem.win = &f->mwin;
	f->mmem.count = 1;
	f->rwin[0] = f->mwin;
	f->rwin[1].da = EXTRA_DA;
	f->rwin[1].size = EXTRA_SIZE;
	f->rwin[1].va = f->extra;
	f->rmem.win = f->rwin;
	f->rmem.count = 2;

	f->rops = no_ops;
	f->rops.lock = r_lock;
	f->rops.unlock = r_unlock;
	f->rops.cache_invalidate = r_invalidate;
	f->rops.notify = r_notify;
	f->rops.event_snapshot = r_snapshot;
	f->rops.event_wait = r_wait;
	f->rops.now_ms = r_now;
	f->rport.ops = &f->rops;
	f->rport.ctx = f;
	f->mport.ops = &no_ops;

	memset(&mc, 0, sizeof(mc));
	mc.role = RPK_ROLE_MASTER;
	mc.vring[0] = f->ring[0];
	mc.vring[1] = f->ring[1];
	mc.num = f->num;
	mc.align = f->align;
	mc.notify_id[1] = 1;
	mc.slots[0] = f->mslots[0];
	mc.slots[1] = f->mslots[1];
	mc.mem = &f->mmem;
	mc.port = &f->mport;
	mc.bufs = f->pool;
	mc.buf_size = f->buf_size;
	mc.buckets = f->mbuckets;
	mc.num_buckets = NBUCKETS;
	mc.services = f->msvc;
	mc.num_services = NSERVICES;
	rc = mc;
	rc.role = RPK_ROLE_REMOTE;
	rc.slots[0] = f->rslots[0];
	rc.slots[1] = f->rslots[1];
	rc.mem = &f->rmem;
	rc.port = &f->rport;
	rc.bufs = NULL;
	rc.buf_size = 0;
	rc.buckets = f->rbuckets;
	rc.services = f->rsvc;
	rc.ns_bind = r_ns_bind;
	rc.ns_priv = f;
	CHECK(rpk_rpmsg_init(&f->m, &mc) == 0);
	CHECK(rpk_rpmsg_init(&f->r, &rc) == 0);

	/* Ours: a fixed address, the sample service (announced), one waiting
	 * for the master's "rpmsg-fuzz", another fixed address. */
	r_create(f, "", 1, RPK_ADDR_ANY);
	r_create(f, NAMES[1], RPK_ADDR_ANY, RPK_ADDR_ANY);
	r_create(f, NAMES[0], RPK_ADDR_ANY, RPK_ADDR_ANY);
	r_create(f, "", RPK_RESERVED_ADDRESSES, RPK_ADDR_ANY);
	/* The honest master's: its service, a fixed address, another service. */
	m_create(f, NAMES[0], RPK_ADDR_ANY);
	m_create(f, "", 1);
	m_create(f, NAMES[5], RPK_ADDR_ANY);

	CHECK(rpk_rpmsg_start(&f->m, f->features) == 0);
	CHECK(rpk_rpmsg_start(&f->r, f->features) == 0);
	if (cfg & 64u)
		rpk_rpmsg_set_polling(&f->r, 1);
	f->stats = f->r.stats;
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
	free(f->extra);
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
				s = nth_live(f->re, in_u8(&f->in));
				if (s)
					r_destroy(f, s);
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
			case OP_H_TXBUF:
				op_h_txbuf(f);
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
			case OP_M_SEND:
				op_m_send(f);
				break;
			case OP_M_POLL:
				rpk_rpmsg_poll(&f->m);
				break;
			case OP_M_EPT:
				op_m_ept(f);
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
