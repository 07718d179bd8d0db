/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the driver half of a split virtqueue facing a hostile device.
 *
 * Input: a 4-byte header, then a script of operations (format below). The
 * driver under test posts buffers from an exactly sized pool and takes them
 * back from the used ring; the script plays the device: it writes used
 * entries, the used index and flags, raw ring bytes, and can arm a write that
 * happens while the driver invalidates (a concurrent peer). An honest device
 * (the library's own device half, on the same ring) can take and return
 * buffers too. Every result is checked against what the driver may do, and
 * our own record of each descriptor against the queue's.
 *
 * Header: byte 0: bits 0-3 num = 1 << (v % 9) (1..256), bit 4 align 4096
 * (else 16), bits 5-6 the window's device address (DA_TABLE). Bytes 1-2: the
 * starting ring index (vhost-user SET_VRING_BASE, both halves). Byte 3: bit 0
 * the ring's three parts apart (struct rpk_vring_parts), each its own block.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpk/errno.h>
#include <rpk/mem.h>
#include <rpk/virtio.h>

#include "fuzz_common.h"

#define MAX_NUM	  256u
#define POOL_SIZE 4096u
#define HOOK_MAX  32u

/* Keep in sync with gen_corpus.c. */
static const uint64_t DA_TABLE[4] = {0x200ca000ull, 0, 0xfffffffffffff000ull, 0xfffff800ull};

enum op {
	OP_ADD_BUF,    /* u16 off, u16 len, u8 flags (bit 0 device writes, 1 outside windows) */
	OP_ALLOC,      /* rpk_vq_alloc_desc */
	OP_POST,       /* u8 sel [, u16 raw head], u16 off, u16 len, u8 flags: rpk_vq_post */
	OP_FREE,       /* u8 sel [, u16 raw head]: rpk_vq_free_desc */
	OP_GET_USED,   /* u8 flags: bit 0 post it again, bit 1 free it */
	OP_W_USED,     /* u8 pos (from used idx), u8 idsel [, u32 id], u8 lensel [, u32 len] */
	OP_USED_IDX,   /* u8 v: bit 7 raw u16 follows, else idx += (v & 127) % (num + 2) */
	OP_RAW,	       /* u16 off, u8 n, n bytes: into the ring */
	OP_FLAGS,      /* u8 v: kick_prepare, enable/disable_cb, notify, used flags */
	OP_HOOK,       /* u8 countdown, u16 off, u8 n, n bytes: write during an invalidate */
	OP_DEV_TAKE,   /* honest device: u8 flags (bit 0 writable) */
	OP_DEV_RETURN, /* honest device: u8 sel, u16 len */
	OP_DRAIN,      /* u8 flags: get_used until empty */
	OP_PENDING,    /* rpk_vq_pending against the ring */
	OP_SLOT_QUERY, /* u16 head */
	OP_COUNT
};

struct fz {
	struct in in;
	uint8_t *part[3]; /* one legacy ring, or descriptors, avail and used apart */
	size_t part_size[3], ring_size;
	uint32_t num, align;
	struct rpk_vring_desc *desc;
	struct rpk_vring_avail *avail;
	struct rpk_vring_used *used;
	uint8_t *pool, *outside;
	struct rpk_mem_window win;
	struct rpk_mem mem;
	struct rpk_port_ops drv_ops;
	struct rpk_port drv_port, dev_port;
	struct rpk_vq drv, dev;
	struct rpk_vq_slot drv_slots[MAX_NUM], dev_slots[MAX_NUM];
	/* our record of each descriptor of the driver under test */
	uint8_t state[MAX_NUM];
	void *buf[MAX_NUM];
	uint32_t len[MAX_NUM];
	unsigned nfree, nreserved, nposted;
	unsigned notifies;
	int broken;
	unsigned ops;
	/* the honest device's held buffers */
	uint16_t dev_held[MAX_NUM];
	uint32_t dev_held_len[MAX_NUM];
	unsigned ndev_held;
	/* a write the "device" does while the driver invalidates */
	int hook_armed;
	unsigned hook_countdown, hook_fired, fired_before;
	uint16_t hook_off;
	uint8_t hook_len, hook_bytes[HOOK_MAX];
};

static const struct rpk_port_ops no_ops;

/* Write at an offset of the ring: its parts as if laid end to end. */
static void ring_write(struct fz *f, uint16_t off, const uint8_t *b, size_t n)
{
	size_t o = off % f->ring_size;

	for (size_t i = 0; i < n && o < f->ring_size; i++, o++) {
		size_t k = o;
		int p = 0;

		while (k >= f->part_size[p])
			k -= f->part_size[p++];
		f->part[p][k] = b[i];
	}
}

static void on_invalidate(void *ctx, const void *p, size_t len)
{
	struct fz *f = ctx;

	(void)p;
	(void)len;
	if (!f->hook_armed || f->hook_countdown--)
		return;
	f->hook_armed = 0;
	f->hook_fired++;
	ring_write(f, f->hook_off, f->hook_bytes, f->hook_len);
}

static void on_notify(void *ctx, uint32_t id)
{
	struct fz *f = ctx;

	CHECK(id == 7);
	f->notifies++;
}

static void set_state(struct fz *f, uint16_t h, uint8_t st)
{
	unsigned *count[] = {&f->nfree, &f->nreserved, &f->nposted};

	CHECK(f->state[h] <= RPK_SLOT_POSTED && st <= RPK_SLOT_POSTED);
	(*count[f->state[h]])--;
	(*count[st])++;
	f->state[h] = st;
}

/* After every operation; the sweep over every slot (full) only now and then
 * on big rings, and always after the last operation. */
static void check_state(struct fz *f, int full)
{
	unsigned n[3] = {0, 0, 0};

	if (f->broken)
		CHECK(f->drv.broken);
	f->broken = f->drv.broken;
	CHECK(f->drv.num_free == f->nfree && f->drv.num_posted == f->nposted);
	if (!full)
		return;
	for (uint32_t h = 0; h < f->num; h++) {
		CHECK(f->drv_slots[h].state == f->state[h]);
		CHECK(rpk_vq_slot_state(&f->drv, h) == f->state[h]);
		n[f->state[h]]++;
		if (f->state[h] == RPK_SLOT_POSTED) {
			CHECK(f->drv_slots[h].buf == f->buf[h]);
			CHECK(f->drv_slots[h].len == f->len[h]);
			CHECK(rpk_vq_slot_buf(&f->drv, h, RPK_SLOT_POSTED) == f->buf[h]);
		}
	}
	CHECK(n[0] == f->nfree && n[1] == f->nreserved && n[2] == f->nposted);
	CHECK(f->nfree + f->nreserved + f->nposted == f->num);
	CHECK(f->drv.num_free == f->nfree);
	CHECK(f->drv.num_posted == f->nposted);
	CHECK(f->drv.num_free <= f->num && f->drv.num_posted <= f->num);
}

/* The k-th descriptor in state st, or num if none. */
static uint16_t nth(struct fz *f, uint8_t st, unsigned k)
{
	unsigned count = st == RPK_SLOT_RESERVED ? f->nreserved : f->nposted;

	if (!count)
		return (uint16_t)f->num;
	k %= count;
	for (uint32_t h = 0; h < f->num; h++)
		if (f->state[h] == st && !k--)
			return (uint16_t)h;
	return (uint16_t)f->num;
}

/* A buffer: in the window, or (outside) in memory no window covers. */
static void pick_buf(struct fz *f, uint16_t off, uint16_t len, int outside, void **buf,
		     uint32_t *blen)
{
	off %= POOL_SIZE;
	if (len > POOL_SIZE - off)
		len = (uint16_t)(POOL_SIZE - off);
	*buf = (outside ? f->outside : f->pool) + off;
	*blen = len;
}

/* After a successful post of head: the ring says exactly that. */
static void check_posted(struct fz *f, uint16_t head, void *buf, uint32_t len, int writes)
{
	struct rpk_vring_desc *d = &f->desc[head];
	uint64_t da = 0;

	CHECK(rpk_mem_to_da(&f->mem, buf, len, &da) == 0);
	if (f->hook_fired != f->fired_before)
		return; /* the "device" wrote the ring while we posted */
	CHECK(d->addr == da && d->len == len);
	CHECK(d->flags == (writes ? RPK_VRING_DESC_F_WRITE : 0));
	CHECK(f->avail->idx == f->drv.next_avail);
	CHECK(f->avail->ring[(uint16_t)(f->drv.next_avail - 1) & (f->num - 1)] == head);
}

static void op_add_buf(struct fz *f)
{
	uint16_t off = in_u16(&f->in), len = in_u16(&f->in);
	uint8_t flags = in_u8(&f->in);
	unsigned nfree = f->nfree;
	uint32_t blen;
	void *buf;
	int r;

	pick_buf(f, off, len, flags & 2, &buf, &blen);
	f->fired_before = f->hook_fired;
	r = rpk_vq_add_buf(&f->drv, buf, blen, flags & 1);
	if (f->broken) {
		CHECK(r == -RPK_EPIPE);
	} else if (!nfree) {
		CHECK(r == -RPK_ENOSPC);
	} else if (flags & 2) {
		CHECK(r == -RPK_EFAULT); /* and the descriptor went back */
	} else {
		CHECK(r >= 0 && (uint32_t)r < f->num && f->state[r] == RPK_SLOT_FREE);
		set_state(f, (uint16_t)r, RPK_SLOT_POSTED);
		f->buf[r] = buf;
		f->len[r] = blen;
		check_posted(f, (uint16_t)r, buf, blen, flags & 1);
	}
}

static void op_alloc(struct fz *f)
{
	int r = rpk_vq_alloc_desc(&f->drv);

	if (f->broken) {
		CHECK(r == -RPK_EPIPE);
	} else if (!f->nfree) {
		CHECK(r == -RPK_ENOSPC);
	} else {
		CHECK(r >= 0 && (uint32_t)r < f->num && f->state[r] == RPK_SLOT_FREE);
		set_state(f, (uint16_t)r, RPK_SLOT_RESERVED);
	}
}

static uint16_t pick_head(struct fz *f, uint8_t st)
{
	uint8_t sel = in_u8(&f->in);

	return (sel & 0x80) ? in_u16(&f->in) : nth(f, st, sel);
}

static void post(struct fz *f, uint16_t head, void *buf, uint32_t blen, int writes, int outside)
{
	int r;

	f->fired_before = f->hook_fired;
	r = rpk_vq_post(&f->drv, head, buf, blen, writes);

	if (f->broken) {
		CHECK(r == -RPK_EPIPE);
	} else if (head >= f->num || f->state[head] != RPK_SLOT_RESERVED) {
		CHECK(r == -RPK_EINVAL);
	} else if (outside) {
		CHECK(r == -RPK_EFAULT);
	} else {
		CHECK(r == 0);
		set_state(f, head, RPK_SLOT_POSTED);
		f->buf[head] = buf;
		f->len[head] = blen;
		check_posted(f, head, buf, blen, writes);
	}
}

static void op_post(struct fz *f)
{
	uint16_t head = pick_head(f, RPK_SLOT_RESERVED);
	uint16_t off = in_u16(&f->in), len = in_u16(&f->in);
	uint8_t flags = in_u8(&f->in);
	uint32_t blen;
	void *buf;

	pick_buf(f, off, len, flags & 2, &buf, &blen);
	post(f, head, buf, blen, flags & 1, flags & 2);
}

static void op_free(struct fz *f)
{
	uint16_t head = pick_head(f, RPK_SLOT_RESERVED);

	rpk_vq_free_desc(&f->drv, head);
	if (head < f->num && f->state[head] == RPK_SLOT_RESERVED)
		set_state(f, head, RPK_SLOT_FREE);
}

static void free_head(struct fz *f, uint16_t head)
{
	rpk_vq_free_desc(&f->drv, head);
	set_state(f, head, RPK_SLOT_FREE);
}

/* One get_used with every check; returns its result. */
static int get_used(struct fz *f, uint8_t flags)
{
	uint16_t next_used = f->drv.next_used, head = 0xffff;
	struct rpk_vring_used_elem e = f->used->ring[next_used & (f->num - 1)];
	struct rpk_vq_stats st = f->drv.stats;
	unsigned fired = f->hook_fired;
	int broken = f->drv.broken;
	uint32_t len = 0xdeadbeef;
	void *buf = NULL;
	int r = rpk_vq_get_used(&f->drv, &head, &buf, &len);
	int quiet = fired == f->hook_fired;

	if (broken) {
		CHECK(r == -RPK_EPIPE);
		return r;
	}
	switch (r) {
	case 1:
		/* One we posted and have not had back, with no more than we gave. */
		CHECK(head < f->num && f->state[head] == RPK_SLOT_POSTED);
		CHECK(buf == f->buf[head]);
		CHECK(len <= f->len[head]);
		CHECK(f->drv.next_used == (uint16_t)(next_used + 1));
		if (quiet) {
			CHECK(e.id == head);
			if (e.len <= f->len[head])
				CHECK(len == e.len && f->drv.stats.bad_len == st.bad_len);
			else
				CHECK(len == 0 && f->drv.stats.bad_len == st.bad_len + 1);
		}
		set_state(f, head, RPK_SLOT_RESERVED);
		if (flags & 1)
			post(f, head, f->buf[head], f->len[head], flags & 4, 0);
		else if (flags & 2)
			free_head(f, head);
		break;
	case 0:
		CHECK(f->drv.next_used == next_used);
		if (quiet)
			CHECK(f->used->idx == next_used);
		break;
	case -RPK_EPIPE:
		/* Broken by an index jump, or by an id that is not a posted
		 * head (its buffer would leak): one count either way, nothing
		 * consumed. */
		CHECK(f->drv.broken);
		CHECK(f->drv.stats.bad_idx + f->drv.stats.bad_head == st.bad_idx + st.bad_head + 1);
		if (quiet && f->drv.stats.bad_head != st.bad_head)
			CHECK(e.id >= f->num || f->state[e.id] != RPK_SLOT_POSTED);
		CHECK(f->drv.next_used == next_used);
		break;
	default:
		CHECK(!"unexpected rpk_vq_get_used result");
	}
	return r;
}

static void op_w_used(struct fz *f)
{
	uint8_t pos = in_u8(&f->in), idsel = in_u8(&f->in), lensel;
	struct rpk_vring_used_elem *e =
	    &f->used->ring[(uint16_t)(f->used->idx + pos) & (f->num - 1)];
	uint32_t id, posted;

	id = (idsel & 0x80) ? in_u32(&f->in) : nth(f, RPK_SLOT_POSTED, idsel);
	posted = id < f->num ? f->len[id] : 16;
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
}

/* Used entries pending as rpk_vq_pending defines it. */
static int expect_pending(struct fz *f)
{
	uint16_t pending = (uint16_t)(f->used->idx - f->drv.next_used);

	return pending > f->drv.num_posted ? -1 : pending;
}

static void op_flags(struct fz *f)
{
	uint8_t v = in_u8(&f->in);
	unsigned fired = f->hook_fired, notifies = f->notifies;
	uint16_t added = f->drv.num_added;
	int r;

	switch (v % 7) {
	case 6: {
		/* A stray write over our own flags: written back, and said so. */
		uint16_t stray = in_u16(&f->in), own = f->drv.own_flags;

		f->avail->flags = stray;
		r = rpk_vq_restore_flags(&f->drv);
		if (fired == f->hook_fired)
			CHECK(r == (stray != own) && f->avail->flags == own);
		break;
	}
	case 0:
		r = rpk_vq_kick_prepare(&f->drv);
		CHECK(f->drv.num_added == 0);
		if (!added)
			CHECK(r == 0);
		else if (fired == f->hook_fired)
			CHECK(r == !(f->used->flags & RPK_VRING_USED_F_NO_NOTIFY));
		break;
	case 1:
		rpk_vq_disable_cb(&f->drv);
		CHECK(f->avail->flags == RPK_VRING_AVAIL_F_NO_INTERRUPT);
		break;
	case 2:
		r = rpk_vq_enable_cb(&f->drv);
		if (fired == f->hook_fired)
			CHECK(f->avail->flags == 0 && r == (expect_pending(f) != 0));
		break;
	case 3:
		rpk_vq_notify(&f->drv);
		CHECK(f->notifies == notifies + 1);
		break;
	case 4:
		f->used->flags = (v >> 3) & 1;
		break;
	default:
		f->used->flags = in_u16(&f->in);
		break;
	}
}

static void op_hook(struct fz *f)
{
	f->hook_countdown = in_u8(&f->in) & 7u;
	f->hook_off = in_u16(&f->in);
	f->hook_len = in_u8(&f->in) % (HOOK_MAX + 1);
	for (unsigned i = 0; i < f->hook_len; i++)
		f->hook_bytes[i] = in_u8(&f->in);
	f->hook_armed = 1;
}

static void op_dev_take(struct fz *f)
{
	uint8_t flags = in_u8(&f->in);
	struct rpk_vq_buf b;

	if (rpk_vq_get_avail(&f->dev, flags & 1, &b) == 1) {
		CHECK(f->ndev_held < MAX_NUM);
		f->dev_held[f->ndev_held] = b.head;
		f->dev_held_len[f->ndev_held++] = b.len;
	}
}

static void op_dev_return(struct fz *f)
{
	uint8_t sel = in_u8(&f->in);
	uint16_t len = in_u16(&f->in);
	unsigned k;

	if (!f->ndev_held)
		return;
	k = sel % f->ndev_held;
	rpk_vq_add_used(&f->dev, f->dev_held[k], len % (f->dev_held_len[k] + 1));
	f->dev_held[k] = f->dev_held[--f->ndev_held];
	f->dev_held_len[k] = f->dev_held_len[f->ndev_held];
}

static void op_drain(struct fz *f)
{
	uint8_t flags = in_u8(&f->in);

	for (uint32_t i = 0;; i++) {
		int r;

		/* Each call consumes one entry or ends: a ring's worth, twice if
		 * a concurrent write moved the index once more. */
		CHECK(i <= 2 * f->num + 2);
		r = get_used(f, flags);
		if (r == 0 || r == -RPK_EPIPE)
			break;
	}
}

static void op_pending(struct fz *f)
{
	unsigned fired = f->hook_fired;
	int r = rpk_vq_pending(&f->drv);

	if (f->drv.broken)
		CHECK(r == -1);
	else if (fired == f->hook_fired)
		CHECK(r == expect_pending(f));
	CHECK(r >= -1 && r <= (int)f->num);
}

static void op_slot_query(struct fz *f)
{
	uint16_t h = in_u16(&f->in);

	if (h >= f->num) {
		CHECK(rpk_vq_slot_state(&f->drv, h) == RPK_SLOT_FREE);
		CHECK(rpk_vq_slot_buf(&f->drv, h, RPK_SLOT_POSTED) == NULL);
	} else {
		CHECK(rpk_vq_slot_state(&f->drv, h) == f->state[h]);
		CHECK(rpk_vq_slot_buf(&f->drv, h, RPK_SLOT_POSTED) ==
		      (f->state[h] == RPK_SLOT_POSTED ? f->buf[h] : NULL));
	}
}

/*
 * The ring: one legacy block of rpk_vring_size bytes, or (parts) three
 * exactly sized blocks, so an access past any part is caught.
 */
static int alloc_ring(struct fz *f, int parts)
{
	size_t legacy = rpk_vring_size(f->num, f->align);
	size_t sizes[3] = {16u * f->num, 6u + 2u * f->num, 6u + 8u * f->num};
	void *p;

	CHECK(legacy > 0);
	if (!parts) {
		if (posix_memalign(&p, 16, legacy))
			return -1;
		f->part[0] = p;
		f->part_size[0] = f->ring_size = legacy;
		f->desc = p;
		f->avail = (struct rpk_vring_avail *)(void *)(f->part[0] + sizes[0]);
		f->used = (struct rpk_vring_used *)(void *)(f->part[0] + legacy - sizes[2]);
	} else {
		f->ring_size = 0;
		for (int i = 0; i < 3; i++) {
			if (posix_memalign(&p, 16, sizes[i]))
				return -1;
			f->part[i] = p;
			f->part_size[i] = sizes[i];
			f->ring_size += sizes[i];
		}
		f->desc = (struct rpk_vring_desc *)(void *)f->part[0];
		f->avail = (struct rpk_vring_avail *)(void *)f->part[1];
		f->used = (struct rpk_vring_used *)(void *)f->part[2];
	}
	for (int i = 0; i < 3; i++)
		if (f->part[i])
			memset(f->part[i], 0xcd, f->part_size[i]); /* whatever was there before */
	return 0;
}

static int setup(struct fz *f)
{
	uint8_t cfg = in_u8(&f->in);
	uint16_t base = in_u16(&f->in);
	int parts = in_u8(&f->in) & 1;
	struct rpk_vq_cfg vc;

	f->num = 1u << ((cfg & 15u) % 9u);
	f->align = (cfg & 16u) ? 4096u : 16u;
	if (alloc_ring(f, parts))
		return -1;
	f->pool = calloc(1, POOL_SIZE);
	f->outside = calloc(1, POOL_SIZE);
	if (!f->pool || !f->outside)
		return -1;
	f->win.da = DA_TABLE[(cfg >> 5) & 3u];
	f->win.size = POOL_SIZE;
	f->win.va = f->pool;
	f->mem.win = &f->win;
	f->mem.count = 1;

	f->drv_ops = no_ops;
	f->drv_ops.cache_invalidate = on_invalidate;
	f->drv_ops.notify = on_notify;
	f->drv_port.ops = &f->drv_ops;
	f->drv_port.ctx = f;
	f->dev_port.ops = &no_ops;

	memset(&vc, 0, sizeof(vc));
	vc.role = RPK_VQ_DRIVER;
	vc.ring = parts ? NULL : f->part[0];
	vc.parts.desc = f->desc;
	vc.parts.avail = f->avail;
	vc.parts.used = f->used;
	vc.num = f->num;
	vc.align = f->align;
	vc.slots = f->drv_slots;
	vc.mem = &f->mem;
	vc.port = &f->drv_port;
	vc.notify_id = 7;
	CHECK(rpk_vq_init(&f->drv, &vc) == 0);
	vc.role = RPK_VQ_DEVICE;
	vc.slots = f->dev_slots;
	vc.port = &f->dev_port;
	CHECK(rpk_vq_init(&f->dev, &vc) == 0);

	CHECK(f->drv.desc == f->desc && f->drv.avail == f->avail && f->drv.used == f->used);
	/* The driver zeroed its ring's three parts. */
	for (uint32_t i = 0; i < 16u * f->num; i++)
		CHECK(((uint8_t *)f->desc)[i] == 0);
	for (uint32_t i = 0; i < 6u + 2u * f->num; i++)
		CHECK(((uint8_t *)f->avail)[i] == 0);
	for (uint32_t i = 0; i < 6u + 8u * f->num; i++)
		CHECK(((uint8_t *)f->used)[i] == 0);

	f->nfree = f->num;
	if (base) {
		f->drv.next_avail = f->drv.next_used = base;
		rpk_vq_set_base(&f->dev, base);
		f->avail->idx = f->used->idx = base;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz *f = calloc(1, sizeof(*f));

	if (!f)
		return 0;
	f->in.p = data;
	f->in.n = size;
	if (setup(f) == 0) {
		check_state(f, 1);
		while (f->in.n) {
			uint8_t op = in_u8(&f->in) % OP_COUNT;
			uint8_t v, n, bytes[256];
			uint16_t off;

			switch (op) {
			case OP_ADD_BUF:
				op_add_buf(f);
				break;
			case OP_ALLOC:
				op_alloc(f);
				break;
			case OP_POST:
				op_post(f);
				break;
			case OP_FREE:
				op_free(f);
				break;
			case OP_GET_USED:
				get_used(f, in_u8(&f->in));
				break;
			case OP_W_USED:
				op_w_used(f);
				break;
			case OP_USED_IDX:
				v = in_u8(&f->in);
				if (v & 0x80)
					f->used->idx = in_u16(&f->in);
				else
					f->used->idx += (uint16_t)((v & 0x7f) % (f->num + 2));
				break;
			case OP_RAW:
				off = in_u16(&f->in);
				n = in_u8(&f->in);
				for (unsigned i = 0; i < n; i++)
					bytes[i] = in_u8(&f->in);
				ring_write(f, off, bytes, n);
				break;
			case OP_FLAGS:
				op_flags(f);
				break;
			case OP_HOOK:
				op_hook(f);
				break;
			case OP_DEV_TAKE:
				op_dev_take(f);
				break;
			case OP_DEV_RETURN:
				op_dev_return(f);
				break;
			case OP_DRAIN:
				op_drain(f);
				break;
			case OP_PENDING:
				op_pending(f);
				break;
			case OP_SLOT_QUERY:
				op_slot_query(f);
				break;
			default:
				break;
			}
			check_state(f, f->num <= 16 || !(++f->ops & 7) || !f->in.n);
		}
	}
	for (int p = 0; p < 3; p++)
		free(f->part[p]);
	free(f->pool);
	free(f->outside);
	free(f);
	return 0;
}
