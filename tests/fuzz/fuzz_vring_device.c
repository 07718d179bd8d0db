/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the device half of a split virtqueue facing a hostile driver.
 *
 * Input: a 4-byte header, then a script of operations (format below). The
 * ring and the buffer windows are exactly sized heap blocks, so AddressSanitizer
 * sees any access outside them. The script plays the driver: it writes
 * descriptors, avail entries, the avail index and flags, raw ring bytes, and
 * can arm a write that happens while the device invalidates (as a peer
 * writing concurrently would). An honest driver (the library's own driver
 * half, on the same ring) can post and reap buffers too, so the script can
 * mix valid traffic with corruption. The device under test gets and returns
 * buffers; every result is checked against what the device may do.
 *
 * Header: byte 0: bits 0-3 num = 1 << (v % 9) (1..256), bit 4 align 4096
 * (else 16), bits 5-6 the window's device address (DA_TABLE), bit 7 a
 * second window. Bytes 1-2: the starting ring index (vhost-user SET_VRING_BASE).
 * Byte 3: bit 0 the ring's three parts apart (struct rpk_vring_parts), each
 * its own block.
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
#define WIN2_SIZE 1024u
#define HOOK_MAX  32u

/* Keep in sync with gen_corpus.c. */
static const uint64_t DA_TABLE[4] = {0x200ca000ull, 0, 0xfffffffffffff000ull, 0xfffff800ull};

enum op {
	OP_GET_AVAIL,  /* u8 flags: bit 0 want_writable, bit 1 touch the buffer */
	OP_ADD_USED,   /* u8 sel, u8 lensel [, u16 raw head if sel bit 7] [, u32 raw len] */
	OP_DRV_POST,   /* honest driver: u16 off, u16 len, u8 flags (bit 0 writable, 1 win 2) */
	OP_DRV_REAP,   /* honest driver takes back what the device returned */
	OP_W_DESC,     /* u8 idx, u8 kind, u16 off, u16 len, u16 flags [, u64 addr if kind 3] */
	OP_W_AVAIL,    /* u8 pos (from avail idx), u16 head */
	OP_AVAIL_IDX,  /* u8 v: bit 7 raw u16 follows, else idx += (v & 127) % (num + 2) */
	OP_RAW,	       /* u16 off, u8 n, n bytes: into the ring */
	OP_FLAGS,      /* u8 v: notification suppression, both directions */
	OP_HOOK,       /* u8 countdown, u16 off, u8 n, n bytes: write during an invalidate */
	OP_DRAIN,      /* u8 flags: get_avail until empty, returning each at once */
	OP_PENDING,    /* rpk_vq_pending against the ring */
	OP_SLOT_QUERY, /* u16 head: rpk_vq_slot_state / rpk_vq_slot_buf */
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
	uint8_t *pool, *pool2;
	struct rpk_mem_window win[2];
	struct rpk_mem mem;
	struct rpk_port_ops dev_ops;
	struct rpk_port dev_port, drv_port;
	struct rpk_vq dev, drv;
	struct rpk_vq_slot dev_slots[MAX_NUM], drv_slots[MAX_NUM];
	/* what the device handed us and we have not returned */
	uint8_t held[MAX_NUM];
	void *held_va[MAX_NUM];
	uint32_t held_len[MAX_NUM];
	unsigned nheld;
	int broken;
	unsigned ops;
	/* a write the "driver" does while the device invalidates */
	int hook_armed;
	unsigned hook_countdown, hook_fired;
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
	if (!f->hook_armed)
		return;
	if (f->hook_countdown--)
		return;
	f->hook_armed = 0;
	f->hook_fired++;
	ring_write(f, f->hook_off, f->hook_bytes, f->hook_len);
}

/* The window holding [va, va + len), or -1. */
static int window_of(const struct fz *f, const void *va, uint64_t len)
{
	for (unsigned i = 0; i < f->mem.count; i++) {
		uintptr_t b = (uintptr_t)f->win[i].va, p = (uintptr_t)va;

		if (p >= b && p - b <= f->win[i].size && len <= f->win[i].size - (p - b))
			return (int)i;
	}
	return -1;
}

static void touch(void *va, uint32_t len, int writable)
{
	volatile uint8_t *b = va;

	if (writable) {
		memset(va, 0xa5, len);
	} else {
		uint8_t acc = 0;

		for (uint32_t i = 0; i < len; i++)
			acc ^= b[i];
		(void)acc;
	}
}

/* After every operation; the sweep over every slot (full) only now and then
 * on big rings, and always after the last operation. */
static void check_state(struct fz *f, int full)
{
	unsigned held = 0;

	if (f->broken)
		CHECK(f->dev.broken); /* broken is for good */
	f->broken = f->dev.broken;
	CHECK(f->dev.num_free == f->num - f->nheld);
	if (!full)
		return;
	for (uint32_t h = 0; h < f->num; h++) {
		uint8_t st = f->dev_slots[h].state;

		CHECK(st == RPK_SLOT_FREE || st == RPK_SLOT_HELD);
		CHECK((st == RPK_SLOT_HELD) == f->held[h]);
		CHECK(rpk_vq_slot_state(&f->dev, h) == st);
		if (f->held[h]) {
			held++;
			CHECK(f->dev_slots[h].buf == f->held_va[h]);
			CHECK(f->dev_slots[h].len == f->held_len[h]);
			CHECK(rpk_vq_slot_buf(&f->dev, h, RPK_SLOT_HELD) == f->held_va[h]);
		}
	}
	CHECK(held == f->nheld);
	CHECK(f->dev.num_free == f->num - f->nheld);
	CHECK(f->dev.num == f->num);
}

/* Pending entries the device should see now, as rpk_vq_pending defines it. */
static int expect_pending(struct fz *f)
{
	uint16_t pending = (uint16_t)(f->avail->idx - f->dev.next_avail);

	return pending > f->dev.num_free ? -1 : pending;
}

/* One get_avail with every check; returns its result. */
static int get_avail(struct fz *f, int want, int touch_it, struct rpk_vq_buf *out)
{
	uint16_t next_avail = f->dev.next_avail, next_used = f->dev.next_used;
	unsigned fired = f->hook_fired;
	int broken = f->dev.broken;
	int r = rpk_vq_get_avail(&f->dev, want, out);
	int quiet = fired == f->hook_fired;

	if (broken) {
		CHECK(r == -RPK_EPIPE);
		return r;
	}
	switch (r) {
	case 1: {
		struct rpk_vring_desc *d = &f->desc[out->head];

		CHECK(out->head < f->num);
		CHECK(!f->held[out->head]); /* never twice while held */
		CHECK(out->len > 0);
		CHECK(window_of(f, out->va, out->len) >= 0);
		CHECK(f->dev.next_avail == (uint16_t)(next_avail + 1));
		CHECK(f->dev.next_used == next_used);
		if (quiet) {
			/* What the ring said, translated, nothing else. */
			CHECK(f->avail->ring[next_avail & (f->num - 1)] == out->head);
			CHECK(d->len == out->len);
			CHECK(rpk_mem_to_va(&f->mem, d->addr, d->len) == out->va);
			CHECK(!(d->flags & (RPK_VRING_DESC_F_NEXT | RPK_VRING_DESC_F_INDIRECT)));
			CHECK(!(d->flags & RPK_VRING_DESC_F_WRITE) == !want);
		}
		f->held[out->head] = 1;
		f->held_va[out->head] = out->va;
		f->held_len[out->head] = out->len;
		f->nheld++;
		if (touch_it)
			touch(out->va, out->len, want);
		break;
	}
	case 0:
		CHECK(f->dev.next_avail == next_avail);
		CHECK(f->dev.next_used == next_used);
		if (quiet)
			CHECK(f->avail->idx == next_avail);
		break;
	case -RPK_EPIPE:
		CHECK(f->dev.broken);
		CHECK(f->dev.next_avail == next_avail);
		break;
	case -RPK_EBADMSG:
	case -RPK_EFAULT: {
		/* Consumed and handed straight back: nothing written into a
		 * writable buffer, a readable one with the length it was given. */
		struct rpk_vring_used_elem *e = &f->used->ring[next_used & (f->num - 1)];

		CHECK(f->dev.next_avail == (uint16_t)(next_avail + 1));
		CHECK(f->dev.next_used == (uint16_t)(next_used + 1));
		CHECK(f->used->idx == f->dev.next_used);
		CHECK(e->id < f->num);
		if (quiet)
			CHECK(e->len == ((f->desc[e->id].flags & RPK_VRING_DESC_F_WRITE)
					     ? 0
					     : f->desc[e->id].len));
		CHECK(!f->held[e->id]);
		break;
	}
	default:
		CHECK(!"unexpected rpk_vq_get_avail result");
	}
	return r;
}

static int add_used(struct fz *f, uint16_t head, uint32_t len)
{
	uint16_t next_used = f->dev.next_used;
	int expect, r;

	if (f->dev.broken)
		expect = -RPK_EPIPE;
	else if (head < f->num && f->held[head] && len <= f->held_len[head])
		expect = 0;
	else
		expect = -RPK_EINVAL;
	r = rpk_vq_add_used(&f->dev, head, len);
	CHECK(r == expect);
	if (r == 0) {
		struct rpk_vring_used_elem *e = &f->used->ring[next_used & (f->num - 1)];

		CHECK(f->dev.next_used == (uint16_t)(next_used + 1));
		CHECK(f->used->idx == f->dev.next_used);
		CHECK(e->id == head && e->len == len);
		f->held[head] = 0;
		f->held_va[head] = NULL;
		f->nheld--;
	} else {
		CHECK(f->dev.next_used == next_used);
	}
	return r;
}

/* The k-th held head, or num if none. */
static uint16_t nth_held(struct fz *f, unsigned k)
{
	if (!f->nheld)
		return (uint16_t)f->num;
	k %= f->nheld;
	for (uint32_t h = 0; h < f->num; h++)
		if (f->held[h] && !k--)
			return (uint16_t)h;
	return (uint16_t)f->num;
}

static uint32_t pick_len(struct fz *f, uint16_t head, uint8_t sel)
{
	uint32_t held = head < f->num && f->held[head] ? f->held_len[head] : 16;

	switch (sel & 3) {
	case 0:
		return 0;
	case 1:
		return held;
	case 2:
		return held + 1;
	default:
		return in_u32(&f->in);
	}
}

static void op_drv_post(struct fz *f)
{
	uint16_t off = in_u16(&f->in), len = in_u16(&f->in);
	uint8_t flags = in_u8(&f->in);
	int second = (flags & 2) && f->mem.count > 1;
	uint32_t cap = second ? WIN2_SIZE : POOL_SIZE;
	uint8_t *base = second ? f->pool2 : f->pool;

	off %= cap;
	if (len > cap - off)
		len = (uint16_t)(cap - off);
	rpk_vq_add_buf(&f->drv, base + off, len, flags & 1);
}

static void op_drv_reap(struct fz *f)
{
	for (uint32_t i = 0; i <= f->num; i++) {
		uint16_t head;
		void *buf;
		uint32_t len;
		int r = rpk_vq_get_used(&f->drv, &head, &buf, &len);

		if (r != 1)
			break; /* none left, or broken */
		rpk_vq_free_desc(&f->drv, head);
	}
}

static void op_w_desc(struct fz *f)
{
	uint8_t idx = in_u8(&f->in), kind = in_u8(&f->in);
	uint16_t off = in_u16(&f->in), len = in_u16(&f->in), flags = in_u16(&f->in);
	struct rpk_vring_desc *d = &f->desc[idx & (f->num - 1)];
	uint64_t addr;

	switch (kind & 3) {
	case 0:
		addr = f->win[0].da + off;
		break;
	case 1:
		addr = f->win[f->mem.count - 1].da + off;
		break;
	case 2:
		addr = f->win[0].da + f->win[0].size - off;
		break;
	default:
		addr = in_u64(&f->in);
		break;
	}
	d->addr = addr;
	d->len = (kind & 4) ? in_u32(&f->in) : len;
	d->flags = flags;
	d->next = (uint16_t)(kind >> 3);
}

static void op_flags(struct fz *f)
{
	uint8_t v = in_u8(&f->in);
	unsigned fired = f->hook_fired;
	int r, exp;

	switch (v % 7) {
	case 5: {
		/* A stray write over our own flags: written back as we last
		 * wrote them, and said so. */
		uint16_t stray = in_u16(&f->in), own = f->dev.own_flags;

		f->used->flags = stray;
		r = rpk_vq_restore_flags(&f->dev);
		if (fired == f->hook_fired)
			CHECK(r == (stray != own) && f->used->flags == own);
		CHECK(f->dev.own_flags == own);
		break;
	}
	case 6:
		/* Our used index is what we published, unless someone moved it. */
		r = rpk_vq_used_moved(&f->dev);
		if (fired == f->hook_fired)
			CHECK(r == (f->used->idx != f->dev.next_used));
		r = rpk_vq_laid_out_anew(&f->dev);
		if (fired == f->hook_fired)
			CHECK(r == (f->used->idx == 0 &&
				    (f->dev.next_used != 0 || f->dev.next_avail == 0)));
		break;
	case 0:
		rpk_vq_disable_notify(&f->dev);
		CHECK(f->used->flags == RPK_VRING_USED_F_NO_NOTIFY);
		break;
	case 1:
		r = rpk_vq_enable_notify(&f->dev);
		exp = expect_pending(f);
		if (fired == f->hook_fired)
			CHECK(f->used->flags == 0 && r == (exp != 0));
		break;
	case 2:
		r = rpk_vq_need_interrupt(&f->dev);
		if (fired == f->hook_fired)
			CHECK(r == !(f->avail->flags & RPK_VRING_AVAIL_F_NO_INTERRUPT));
		break;
	case 3:
		f->avail->flags = (v >> 3) & 1;
		break;
	default:
		f->avail->flags = in_u16(&f->in);
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

static void op_drain(struct fz *f)
{
	uint8_t flags = in_u8(&f->in);

	for (uint32_t i = 0;; i++) {
		struct rpk_vq_buf b;
		int r;

		/* Each call consumes one entry or ends: a ring's worth, twice if
		 * a concurrent write moved the index once more. */
		CHECK(i <= 2 * f->num + 2);
		r = get_avail(f, flags & 1, flags & 2, &b);
		if (r == 0 || r == -RPK_EPIPE)
			break;
		if (r == 1)
			add_used(f, b.head, (flags & 4) ? b.len : 0);
	}
}

static void op_pending(struct fz *f)
{
	unsigned fired = f->hook_fired;
	int r = rpk_vq_pending(&f->dev);

	if (f->dev.broken)
		CHECK(r == -1);
	else if (fired == f->hook_fired)
		CHECK(r == expect_pending(f));
	CHECK(r >= -1 && r <= (int)f->num);
}

static void op_slot_query(struct fz *f)
{
	uint16_t h = in_u16(&f->in);
	enum rpk_vq_slot_state st = rpk_vq_slot_state(&f->dev, h);

	if (h >= f->num) {
		CHECK(st == RPK_SLOT_FREE);
		CHECK(rpk_vq_slot_buf(&f->dev, h, RPK_SLOT_HELD) == NULL);
		CHECK(rpk_vq_slot_buf(&f->dev, h, RPK_SLOT_FREE) == NULL);
	} else {
		CHECK(st == (f->held[h] ? RPK_SLOT_HELD : RPK_SLOT_FREE));
		CHECK(rpk_vq_slot_buf(&f->dev, h, RPK_SLOT_HELD) ==
		      (f->held[h] ? f->held_va[h] : NULL));
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
	f->pool = malloc(POOL_SIZE);
	f->pool2 = malloc(WIN2_SIZE);
	if (!f->pool || !f->pool2)
		return -1;
	memset(f->pool, 0, POOL_SIZE);
	memset(f->pool2, 0, WIN2_SIZE);
	f->win[0].da = DA_TABLE[(cfg >> 5) & 3u];
	f->win[0].size = POOL_SIZE;
	f->win[0].va = f->pool;
	/* A second window right below (or above) the first: a range across
	 * the boundary is in no single window. */
	f->win[1].da =
	    f->win[0].da >= WIN2_SIZE ? f->win[0].da - WIN2_SIZE : f->win[0].da + POOL_SIZE;
	f->win[1].size = WIN2_SIZE;
	f->win[1].va = f->pool2;
	f->mem.win = f->win;
	f->mem.count = (cfg & 128u) ? 2 : 1;

	f->dev_ops = no_ops;
	f->dev_ops.cache_invalidate = on_invalidate;
	f->dev_port.ops = &f->dev_ops;
	f->dev_port.ctx = f;
	f->drv_port.ops = &no_ops;

	/* The driver owns the ring's initial state; the device attaches. */
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
	CHECK(rpk_vq_init(&f->drv, &vc) == 0);
	vc.role = RPK_VQ_DEVICE;
	vc.slots = f->dev_slots;
	vc.port = &f->dev_port;
	CHECK(rpk_vq_init(&f->dev, &vc) == 0);

	CHECK(f->dev.desc == f->desc && f->dev.avail == f->avail && f->dev.used == f->used);

	if (base) {
		rpk_vq_set_base(&f->dev, base);
		f->drv.next_avail = f->drv.next_used = base;
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
			struct rpk_vq_buf b;
			uint8_t v, n, bytes[256];
			uint16_t off, head;

			switch (op) {
			case OP_GET_AVAIL:
				v = in_u8(&f->in);
				get_avail(f, v & 1, v & 2, &b);
				break;
			case OP_ADD_USED:
				v = in_u8(&f->in);
				head = (v & 0x80) ? in_u16(&f->in) : nth_held(f, v);
				add_used(f, head, pick_len(f, head, in_u8(&f->in)));
				break;
			case OP_DRV_POST:
				op_drv_post(f);
				break;
			case OP_DRV_REAP:
				op_drv_reap(f);
				break;
			case OP_W_DESC:
				op_w_desc(f);
				break;
			case OP_W_AVAIL:
				v = in_u8(&f->in);
				head = in_u16(&f->in);
				f->avail->ring[(uint16_t)(f->avail->idx + v) & (f->num - 1)] = head;
				break;
			case OP_AVAIL_IDX:
				v = in_u8(&f->in);
				if (v & 0x80)
					f->avail->idx = in_u16(&f->in);
				else
					f->avail->idx += (uint16_t)((v & 0x7f) % (f->num + 2));
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
	free(f->pool2);
	free(f);
	return 0;
}
