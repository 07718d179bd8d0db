/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split virtqueue: what the driver half (vq_driver.c) and the device half
 * (vq_device.c) share. The layout, the records, the check of the peer's
 * index and the suppression flags are one piece of code for both roles
 * (ARCHITECTURE.md, rule 5); what only one half does lives in its own file.
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

#include "virtio/virtqueue.h"

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

int vq_attach(struct rpk_vq *vq, const struct rpk_vq_cfg *cfg, enum rpk_vq_role role)
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
	vq->cached = cfg->port->ops->cache_clean || cfg->port->ops->cache_invalidate;
	vq->notify_id = cfg->notify_id;
	vq->num = (uint16_t)cfg->num;
	vq->role = (uint8_t)role;
	vq->num_free = vq->num;

	for (uint32_t i = 0; i < cfg->num; i++) {
		vq->slots[i].buf = 0;
		vq->slots[i].len = 0;
		vq->slots[i].next_free = (uint16_t)(i + 1);
		vq->slots[i].state = RPK_SLOT_FREE;
		vq->slots[i].user = 0;
	}
	return 0;
}

void vq_restart(struct rpk_vq *vq)
{
	vq->own_flags = 0; /* the driver zeroes the whole ring, flags included */
	vq->next_avail = vq->next_used = vq->shadow = vq->signalled = vq->own_event = 0;
	vq->num_added = vq->num_posted = 0;
	vq->batching = 0;
	__atomic_store_n(&vq->broken, 0, __ATOMIC_RELAXED);
}

int vq_break_on_index(struct rpk_vq *vq)
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
int vq_break_on_head(struct rpk_vq *vq)
{
	__atomic_store_n(&vq->broken, VQ_BROKEN_HEAD, __ATOMIC_RELAXED);
	vq->stats.bad_head++;
	return -RPK_EPIPE;
}

void rpk_vq_publish(struct rpk_vq *vq)
{
	if (vq->role == RPK_VQ_DRIVER)
		vq_publish_index(vq, &vq->avail->idx, vq->next_avail);
	else
		vq_publish_index(vq, &vq->used->idx, vq->next_used);
}

void rpk_vq_notify(struct rpk_vq *vq)
{
	if (vq->port->ops->notify)
		vq->port->ops->notify(vq->port->ctx, vq->notify_id);
}

void vq_set_flags16(struct rpk_vq *vq, uint16_t *p, uint16_t v)
{
	vq->own_flags = v;
	write_once16(p, v);
	vq_clean(vq, p, sizeof(*p));
}

int rpk_vq_rearm(struct rpk_vq *vq)
{
	return vq->ev ? vq->ev->rearm(vq) : 0;
}

int rpk_vq_restore_flags(struct rpk_vq *vq)
{
	/* The suppression flags this half owns: the driver's avail flags, the
	 * device's used flags. */
	uint16_t *p = vq->role == RPK_VQ_DRIVER ? &vq->avail->flags : &vq->used->flags;

	if (vq->ev && vq->ev->restore(vq))
		return 1;
	vq_invalidate(vq, p, sizeof(*p));
	if (read_once16(p) == vq->own_flags)
		return 0;
	vq_set_flags16(vq, p, vq->own_flags);
	/* Pairs with the peer's barrier before it reads the flag to decide
	 * on a kick: from now on it sees what we want. */
	full_barrier();
	return 1;
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

int rpk_vq_pending(struct rpk_vq *vq)
{
	if (vq_broken(vq))
		return -1;
	/* A device returns at most what the driver posted; a driver posts at
	 * most the descriptors the device does not hold. */
	if (vq->role == RPK_VQ_DRIVER)
		return vq_index_pending(vq, &vq->used->idx, vq->next_used, vq->num_posted);
	return vq_index_pending(vq, &vq->avail->idx, vq->next_avail, vq->num_free);
}
