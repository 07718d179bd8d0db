/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split virtqueue, driver and device halves over one layout.
 *
 * Memory ordering: ring indices are published with release stores and read
 * with acquire loads, so the entries they cover are visible before the index
 * is. Deciding whether to notify needs a full barrier between publishing our
 * index and reading the peer's suppression flag (a store then a load), else
 * both sides can miss each other: we read a stale "no notify" while the peer
 * reads our stale index and goes to sleep.
 *
 * Cache maintenance sits next to each publish (clean) and consume
 * (invalidate), for the ring and for buffer contents alike.
 */
#include <rpk/errno.h>
#include <rpk/virtio.h>

#include "common/shm.h"

#define vq_clean(vq, p, len)	  shm_clean((vq)->port, (p), (len))
#define vq_invalidate(vq, p, len) shm_invalidate((vq)->port, (p), (len))

/* Atomic: rpmsg looks at both queues' flags under one queue's lock. */
static int vq_broken(const struct rpk_vq *vq)
{
	return __atomic_load_n(&vq->broken, __ATOMIC_RELAXED);
}

size_t rpk_vring_size(uint32_t num, uint32_t align)
{
	size_t used_off;

	if (num == 0 || num > RPK_VRING_MAX_NUM || (num & (num - 1)))
		return 0;
	if (align < 4 || (align & (align - 1)))
		return 0;
	used_off = 16u * num + 6u + 2u * num;
	used_off = (used_off + align - 1) & ~((size_t)align - 1);
	return used_off + 6u + 8u * num;
}

/* Where the three parts go: one legacy ring, or parts given separately. */
static int locate_parts(const struct rpk_vq_cfg *cfg, struct rpk_vring_parts *p)
{
	size_t size = rpk_vring_size(cfg->num, cfg->ring ? cfg->align : 4);
	char *ring = cfg->ring;

	if (!size)
		return -RPK_EINVAL;
	if (ring) {
		p->desc = ring;
		p->avail = ring + 16u * cfg->num;
		p->used = ring + size - (6u + 8u * cfg->num);
	} else {
		*p = cfg->parts;
	}
	if (!p->desc || !p->avail || !p->used || ((uintptr_t)p->desc & 15u) ||
	    ((uintptr_t)p->avail & 1u) || ((uintptr_t)p->used & 3u))
		return -RPK_EINVAL;
	return 0;
}

/*
 * The used ring first: a device that still runs the old session and finds
 * the avail index gone back (an index jump) then also finds the used index
 * at 0, and takes it for the reset it is (rpk_vq_used_moved), not for a
 * corruption.
 */
static void zero_ring(struct rpk_vq *vq)
{
	__builtin_memset(vq->used, 0, 6u + 8u * vq->num);
	vq_clean(vq, vq->used, 6u + 8u * vq->num);
	full_barrier(); /* pairs with the device's acquire of the avail index */
	__builtin_memset(vq->avail, 0, 6u + 2u * vq->num);
	__builtin_memset(vq->desc, 0, 16u * vq->num);
	vq_clean(vq, vq->avail, 6u + 2u * vq->num);
	vq_clean(vq, vq->desc, 16u * vq->num);
}

void rpk_vq_forget_ring(struct rpk_vq *vq)
{
	vq_invalidate(vq, vq->desc, 16u * vq->num);
	vq_invalidate(vq, vq->avail, 6u + 2u * vq->num);
	vq_invalidate(vq, vq->used, 6u + 8u * vq->num);
}

/*
 * broken: 0 healthy; otherwise why, and so which counter the break added to
 * (VQ_BROKEN_IDX: stats.bad_idx, VQ_BROKEN_HEAD: stats.bad_head), or
 * VQ_FORGIVEN once that count was taken back.
 */
#define VQ_BROKEN_IDX  1u
#define VQ_BROKEN_HEAD 2u
#define VQ_FORGIVEN    3u

void rpk_vq_forgive_break(struct rpk_vq *vq)
{
	uint8_t why = __atomic_load_n(&vq->broken, __ATOMIC_RELAXED);

	if (why != VQ_BROKEN_IDX && why != VQ_BROKEN_HEAD)
		return;
	__atomic_store_n(&vq->broken, VQ_FORGIVEN, __ATOMIC_RELAXED);
	if (why == VQ_BROKEN_IDX)
		vq->stats.bad_idx--;
	else
		vq->stats.bad_head--;
}

int rpk_vq_init(struct rpk_vq *vq, const struct rpk_vq_cfg *cfg)
{
	struct rpk_vring_parts p;

	if (!cfg->slots || !cfg->mem || !cfg->port || locate_parts(cfg, &p))
		return -RPK_EINVAL;

	__builtin_memset(vq, 0, sizeof(*vq));
	vq->desc = p.desc;
	vq->avail = p.avail;
	vq->used = p.used;
	vq->slots = cfg->slots;
	vq->mem = cfg->mem;
	vq->port = cfg->port;
	vq->notify_id = cfg->notify_id;
	vq->num = (uint16_t)cfg->num;
	vq->role = (uint8_t)cfg->role;
	vq->num_free = vq->num;

	for (uint32_t i = 0; i < cfg->num; i++) {
		vq->slots[i].buf = 0;
		vq->slots[i].len = 0;
		vq->slots[i].next_free = (uint16_t)(i + 1);
		vq->slots[i].state = RPK_SLOT_FREE;
		vq->slots[i].user = 0;
	}

	/* The driver owns the ring's initial state (Linux's rp_find_vq clears
	 * it the same way). */
	if (cfg->role == RPK_VQ_DRIVER)
		zero_ring(vq);
	return 0;
}

void rpk_vq_reset(struct rpk_vq *vq)
{
	vq->own_flags = 0; /* the driver zeroes the whole ring, flags included */
	vq->next_avail = vq->next_used = 0;
	vq->num_added = vq->num_posted = 0;
	__atomic_store_n(&vq->broken, 0, __ATOMIC_RELAXED);
	vq->num_free = 0;
	vq->free_head = vq->num; /* empty list */
	for (uint32_t i = vq->num; i-- > 0;) {
		struct rpk_vq_slot *s = &vq->slots[i];

		if (vq->role == RPK_VQ_DEVICE || s->state == RPK_SLOT_FREE) {
			s->state = RPK_SLOT_FREE;
			s->buf = 0;
			s->next_free = vq->free_head;
			vq->free_head = (uint16_t)i;
			vq->num_free++;
		} else if (s->state == RPK_SLOT_POSTED) {
			s->state = RPK_SLOT_RESERVED;
		}
	}
	if (vq->role == RPK_VQ_DRIVER)
		zero_ring(vq);
	else
		rpk_vq_forget_ring(vq);
}

void rpk_vq_set_base(struct rpk_vq *vq, uint16_t idx)
{
	vq->next_avail = idx;
	vq->next_used = idx;
}

/* ---- driver half ---- */

int rpk_vq_alloc_desc(struct rpk_vq *vq)
{
	uint16_t head;

	if (vq_broken(vq))
		return -RPK_EPIPE;
	if (!vq->num_free)
		return -RPK_ENOSPC;
	head = vq->free_head;
	vq->free_head = vq->slots[head].next_free;
	vq->num_free--;
	vq->slots[head].buf = 0;
	vq->slots[head].state = RPK_SLOT_RESERVED;
	return head;
}

void rpk_vq_free_desc(struct rpk_vq *vq, uint16_t head)
{
	if (head >= vq->num || vq->slots[head].state != RPK_SLOT_RESERVED)
		return;
	vq->slots[head].buf = 0;
	vq->slots[head].state = RPK_SLOT_FREE;
	vq->slots[head].next_free = vq->free_head;
	vq->free_head = head;
	vq->num_free++;
}

int rpk_vq_post(struct rpk_vq *vq, uint16_t head, void *buf, uint32_t len, int device_writes)
{
	struct rpk_vring_desc *d;
	uint16_t *slot;
	uint64_t da;

	if (vq_broken(vq))
		return -RPK_EPIPE;
	if (head >= vq->num || vq->slots[head].state != RPK_SLOT_RESERVED)
		return -RPK_EINVAL;
	if (rpk_mem_to_da(vq->mem, buf, len, &da))
		return -RPK_EFAULT;

	vq->slots[head].state = RPK_SLOT_POSTED;
	vq->slots[head].buf = buf;
	vq->slots[head].len = len;
	/* Readable: the device must see our data. Writable: drop our lines now
	 * so none can be evicted over what the device writes. */
	if (device_writes)
		vq_invalidate(vq, buf, len);
	else
		vq_clean(vq, buf, len);

	d = &vq->desc[head];
	d->addr = da;
	d->len = len;
	d->flags = device_writes ? RPK_VRING_DESC_F_WRITE : 0;
	d->next = 0;
	vq_clean(vq, d, sizeof(*d));

	slot = &vq->avail->ring[vq->next_avail & (vq->num - 1)];
	*slot = head;
	vq_clean(vq, slot, sizeof(*slot));
	vq->next_avail++;
	vq->num_added++;
	vq->num_posted++;
	/* Descriptor and ring entry are visible before the index that covers them. */
	store_release16(&vq->avail->idx, vq->next_avail);
	vq_clean(vq, &vq->avail->idx, sizeof(uint16_t));
	return 0;
}

int rpk_vq_add_buf(struct rpk_vq *vq, void *buf, uint32_t len, int device_writes)
{
	int head = rpk_vq_alloc_desc(vq);
	int err;

	if (head < 0)
		return head;
	err = rpk_vq_post(vq, (uint16_t)head, buf, len, device_writes);
	if (err) {
		rpk_vq_free_desc(vq, (uint16_t)head);
		return err;
	}
	return head;
}

/* Used entries pending, or -1 if the device moved its index impossibly far. */
static int used_pending(struct rpk_vq *vq)
{
	uint16_t idx, pending;

	vq_invalidate(vq, &vq->used->idx, sizeof(uint16_t));
	idx = load_acquire16(&vq->used->idx);
	pending = (uint16_t)(idx - vq->next_used);
	/* The device cannot return more buffers than we have outstanding. */
	if (pending > vq->num_posted)
		return -1;
	return pending;
}

/* The queue makes no sense any more: an index moved impossibly far. */
static int break_on_index(struct rpk_vq *vq)
{
	__atomic_store_n(&vq->broken, VQ_BROKEN_IDX, __ATOMIC_RELAXED);
	vq->stats.bad_idx++;
	return -RPK_EPIPE;
}

/*
 * An entry names a descriptor we cannot take (out of range, or not in the
 * state the entry claims). The real buffer the peer meant is lost behind it
 * and only a reset gives it back, so the queue breaks, as Linux's BAD_RING
 * does for a used id that is not a head: a trickle of bad heads would
 * otherwise starve the other side of buffers, unseen.
 */
static int break_on_head(struct rpk_vq *vq)
{
	__atomic_store_n(&vq->broken, VQ_BROKEN_HEAD, __ATOMIC_RELAXED);
	vq->stats.bad_head++;
	return -RPK_EPIPE;
}

int rpk_vq_get_used(struct rpk_vq *vq, uint16_t *head, void **buf, uint32_t *len)
{
	struct rpk_vring_used_elem *e;
	struct rpk_vq_slot *s;
	uint32_t id, used_len;
	int pending;

	if (vq_broken(vq))
		return -RPK_EPIPE;
	pending = used_pending(vq);
	if (pending < 0)
		return break_on_index(vq);
	if (!pending)
		return 0;

	e = &vq->used->ring[vq->next_used & (vq->num - 1)];
	vq_invalidate(vq, e, sizeof(*e));
	id = read_once32(&e->id);
	used_len = read_once32(&e->len);
	if (id >= vq->num || vq->slots[id].state != RPK_SLOT_POSTED)
		return break_on_head(vq);
	vq->next_used++;
	s = &vq->slots[id];
	if (used_len > s->len) {
		/* The buffer is ours again; only its length is a lie. */
		vq->stats.bad_len++;
		used_len = 0;
	}
	if (used_len)
		vq_invalidate(vq, s->buf, used_len);
	*head = (uint16_t)id;
	*buf = s->buf;
	*len = used_len;
	s->state = RPK_SLOT_RESERVED;
	vq->num_posted--;
	return 1;
}

int rpk_vq_kick_prepare(struct rpk_vq *vq)
{
	uint16_t flags;

	if (!vq->num_added)
		return 0;
	vq->num_added = 0;
	full_barrier();
	vq_invalidate(vq, &vq->used->flags, sizeof(uint16_t));
	flags = read_once16(&vq->used->flags);
	return !(flags & RPK_VRING_USED_F_NO_NOTIFY);
}

void rpk_vq_notify(struct rpk_vq *vq)
{
	if (vq->port->ops->notify)
		vq->port->ops->notify(vq->port->ctx, vq->notify_id);
}

/* The suppression flags this half owns: the driver's avail flags, the
 * device's used flags. */
static uint16_t *own_flags(struct rpk_vq *vq)
{
	return vq->role == RPK_VQ_DRIVER ? &vq->avail->flags : &vq->used->flags;
}

static void set_flags16(struct rpk_vq *vq, uint16_t *p, uint16_t v)
{
	vq->own_flags = v;
	write_once16(p, v);
	vq_clean(vq, p, sizeof(*p));
}

int rpk_vq_restore_flags(struct rpk_vq *vq)
{
	uint16_t *p = own_flags(vq);

	vq_invalidate(vq, p, sizeof(*p));
	if (read_once16(p) == vq->own_flags)
		return 0;
	set_flags16(vq, p, vq->own_flags);
	/* Pairs with the peer's barrier before it reads the flag to decide
	 * on a kick: from now on it sees what we want. */
	full_barrier();
	return 1;
}

void rpk_vq_disable_cb(struct rpk_vq *vq)
{
	set_flags16(vq, &vq->avail->flags, RPK_VRING_AVAIL_F_NO_INTERRUPT);
}

int rpk_vq_enable_cb(struct rpk_vq *vq)
{
	set_flags16(vq, &vq->avail->flags, 0);
	/* The flag must be visible before we look for work the device
	 * published while it still saw the old flag. */
	full_barrier();
	return used_pending(vq) != 0;
}

/* ---- device half ---- */

/* Avail entries pending, or -1 if the driver moved its index impossibly far. */
static int avail_pending(struct rpk_vq *vq)
{
	uint16_t idx, pending;

	vq_invalidate(vq, &vq->avail->idx, sizeof(uint16_t));
	idx = load_acquire16(&vq->avail->idx);
	pending = (uint16_t)(idx - vq->next_avail);
	/* The driver cannot post more than the descriptors we do not hold. */
	if (pending > vq->num_free)
		return -1;
	return pending;
}

static void publish_used(struct rpk_vq *vq, uint16_t head, uint32_t len)
{
	struct rpk_vring_used_elem *e = &vq->used->ring[vq->next_used & (vq->num - 1)];

	e->id = head;
	e->len = len;
	vq_clean(vq, e, sizeof(*e));
	vq->next_used++;
	store_release16(&vq->used->idx, vq->next_used);
	vq_clean(vq, &vq->used->idx, sizeof(uint16_t));
}

/*
 * The used length of a buffer handed back unused: nothing was written into a
 * device-writable one; a device-readable one goes back with the length the
 * driver gave it, as for a buffer read in full (see rpk_vq_add_used_read).
 */
static uint32_t rejected_len(uint16_t flags, uint32_t desc_len)
{
	return (flags & RPK_VRING_DESC_F_WRITE) ? 0 : desc_len;
}

int rpk_vq_get_avail(struct rpk_vq *vq, int want_writable, struct rpk_vq_buf *out)
{
	struct rpk_vring_desc *d;
	uint64_t addr;
	uint32_t len;
	uint16_t head, flags;
	void *va;
	int pending;

	if (vq_broken(vq))
		return -RPK_EPIPE;
	pending = avail_pending(vq);
	if (pending < 0)
		return break_on_index(vq);
	if (!pending)
		return 0;

	vq_invalidate(vq, &vq->avail->ring[vq->next_avail & (vq->num - 1)], sizeof(uint16_t));
	head = read_once16(&vq->avail->ring[vq->next_avail & (vq->num - 1)]);
	/* Out of range, or a buffer we already hold: nothing to return. */
	if (head >= vq->num || vq->slots[head].state == RPK_SLOT_HELD)
		return break_on_head(vq);
	vq->next_avail++;

	d = &vq->desc[head];
	vq_invalidate(vq, d, sizeof(*d));
	addr = read_once64(&d->addr);
	len = read_once32(&d->len);
	flags = read_once16(&d->flags);

	if ((flags & (RPK_VRING_DESC_F_NEXT | RPK_VRING_DESC_F_INDIRECT)) ||
	    !(flags & RPK_VRING_DESC_F_WRITE) != !want_writable) {
		vq->stats.bad_desc++;
		publish_used(vq, head, rejected_len(flags, len));
		return -RPK_EBADMSG;
	}
	va = rpk_mem_to_va(vq->mem, addr, len);
	if (!va || !len) {
		vq->stats.bad_addr++;
		publish_used(vq, head, rejected_len(flags, len));
		return -RPK_EFAULT;
	}
	if (!want_writable)
		vq_invalidate(vq, va, len);

	vq->slots[head].buf = va;
	vq->slots[head].len = len;
	vq->slots[head].state = RPK_SLOT_HELD;
	vq->num_free--;
	out->va = va;
	out->len = len;
	out->head = head;
	return 1;
}

/* Give a held buffer back with used length len; written bytes already clean. */
static int return_held(struct rpk_vq *vq, uint16_t head, uint32_t len)
{
	struct rpk_vq_slot *s = &vq->slots[head];

	s->buf = 0;
	s->state = RPK_SLOT_FREE;
	vq->num_free++;
	publish_used(vq, head, len);
	return 0;
}

static int check_held(const struct rpk_vq *vq, uint16_t head)
{
	if (vq_broken(vq))
		return -RPK_EPIPE;
	if (head >= vq->num || vq->slots[head].state != RPK_SLOT_HELD)
		return -RPK_EINVAL;
	return 0;
}

int rpk_vq_add_used(struct rpk_vq *vq, uint16_t head, uint32_t len)
{
	int err = check_held(vq, head);

	if (err)
		return err;
	if (len > vq->slots[head].len)
		return -RPK_EINVAL;
	if (len)
		vq_clean(vq, vq->slots[head].buf, len);
	return return_held(vq, head, len);
}

int rpk_vq_add_used_read(struct rpk_vq *vq, uint16_t head)
{
	int err = check_held(vq, head);

	/* Nothing of ours is in the buffer: no clean. */
	return err ? err : return_held(vq, head, vq->slots[head].len);
}

int rpk_vq_need_interrupt(struct rpk_vq *vq)
{
	uint16_t flags;

	full_barrier();
	vq_invalidate(vq, &vq->avail->flags, sizeof(uint16_t));
	flags = read_once16(&vq->avail->flags);
	return !(flags & RPK_VRING_AVAIL_F_NO_INTERRUPT);
}

void rpk_vq_disable_notify(struct rpk_vq *vq)
{
	set_flags16(vq, &vq->used->flags, RPK_VRING_USED_F_NO_NOTIFY);
}

int rpk_vq_enable_notify(struct rpk_vq *vq)
{
	set_flags16(vq, &vq->used->flags, 0);
	full_barrier();
	return avail_pending(vq) != 0;
}

enum rpk_vq_slot_state rpk_vq_slot_state(const struct rpk_vq *vq, uint32_t head)
{
	return head < vq->num ? (enum rpk_vq_slot_state)vq->slots[head].state : RPK_SLOT_FREE;
}

void *rpk_vq_slot_buf(const struct rpk_vq *vq, uint32_t head, enum rpk_vq_slot_state state)
{
	if (head >= vq->num || vq->slots[head].state != state)
		return 0;
	return vq->slots[head].buf;
}

int rpk_vq_used_moved(struct rpk_vq *vq)
{
	vq_invalidate(vq, &vq->used->idx, sizeof(uint16_t));
	return load_acquire16(&vq->used->idx) != vq->next_used;
}

int rpk_vq_laid_out_anew(struct rpk_vq *vq)
{
	vq_invalidate(vq, &vq->used->idx, sizeof(uint16_t));
	if (load_acquire16(&vq->used->idx) != 0)
		return 0;
	/* We published entries since our last reset and the index says none:
	 * the driver zeroed it. Or we took nothing there: nothing to redo. */
	return vq->next_used != 0 || vq->next_avail == 0;
}

int rpk_vq_pending(struct rpk_vq *vq)
{
	if (vq_broken(vq))
		return -1;
	return vq->role == RPK_VQ_DRIVER ? used_pending(vq) : avail_pending(vq);
}
