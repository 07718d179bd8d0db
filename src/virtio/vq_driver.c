/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split virtqueue, driver half: owns the ring's state, posts buffers to the
 * available ring and takes them back from the used ring. Only what the
 * driver does lives here; a device-only image links none of it.
 */
#include <rpk/errno.h>
#include <rpk/virtio.h>

#include "virtio/virtqueue.h"

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

/* Put a descriptor this half holds on the free list. */
static inline void push_free(struct rpk_vq *vq, uint16_t head)
{
	vq->slots[head].buf = 0;
	vq->slots[head].state = RPK_SLOT_FREE;
	vq->slots[head].next_free = vq->free_head;
	vq->free_head = head;
	vq->num_free++;
}

int rpk_vq_init_driver(struct rpk_vq *vq, const struct rpk_vq_cfg *cfg)
{
	int err = vq_attach(vq, cfg, RPK_VQ_DRIVER);

	/* The driver owns the ring's initial state (Linux's rp_find_vq clears
	 * it the same way). */
	if (!err)
		zero_ring(vq);
	return err;
}

void rpk_vq_reset_driver(struct rpk_vq *vq)
{
	vq_restart(vq);
	/* Posted descriptors come back reserved; the free list is rebuilt
	 * from the free ones in index order. */
	vq->num_free = 0;
	vq->free_head = vq->num; /* empty list */
	for (uint32_t i = vq->num; i-- > 0;) {
		struct rpk_vq_slot *s = &vq->slots[i];

		if (s->state == RPK_SLOT_FREE) {
			push_free(vq, (uint16_t)i);
		} else {
			/* The descriptor is zeroed below: nothing to repost. */
			s->buf = 0;
			if (s->state == RPK_SLOT_POSTED)
				s->state = RPK_SLOT_RESERVED;
		}
	}
	zero_ring(vq);
}

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
	push_free(vq, head);
}

int rpk_vq_post(struct rpk_vq *vq, uint16_t head, void *buf, uint32_t len, int device_writes)
{
	uint64_t da;

	/* The errors in the order rpk_vq_post_da() gives them: broken, then a
	 * head that is not reserved, then an address outside the windows. */
	if (vq_broken(vq))
		return -RPK_EPIPE;
	if (head >= vq->num || vq->slots[head].state != RPK_SLOT_RESERVED)
		return -RPK_EINVAL;
	if (rpk_mem_to_da(vq->mem, buf, len, &da))
		return -RPK_EFAULT;
	return rpk_vq_post_da(vq, head, buf, da, len, device_writes);
}

/* Readable: the device must see our data. Writable: drop our lines now so
 * none can be evicted over what the device writes. */
static inline void hand_over(struct rpk_vq *vq, void *buf, uint32_t len, int device_writes)
{
	if (device_writes)
		vq_invalidate(vq, buf, len);
	else
		vq_clean(vq, buf, len);
}

/* Put a posted descriptor in the available ring. The descriptor and the
 * entry are visible before the index that covers them (vq_publish_index). */
static inline void make_available(struct rpk_vq *vq, uint16_t head)
{
	uint16_t *slot = &vq->avail->ring[vq->next_avail & (vq->num - 1)];

	*slot = head;
	vq_clean(vq, slot, sizeof(*slot));
	vq->next_avail++;
	vq->num_added++;
	vq->num_posted++;
	if (!vq->batching)
		vq_publish_index(vq, &vq->avail->idx, vq->next_avail);
}

int rpk_vq_post_da(struct rpk_vq *vq, uint16_t head, void *buf, uint64_t da, uint32_t len,
		   int device_writes)
{
	struct rpk_vring_desc *d;

	if (vq_broken(vq))
		return -RPK_EPIPE;
	if (head >= vq->num || vq->slots[head].state != RPK_SLOT_RESERVED)
		return -RPK_EINVAL;

	vq->slots[head].state = RPK_SLOT_POSTED;
	vq->slots[head].buf = buf;
	vq->slots[head].len = len;
	hand_over(vq, buf, len, device_writes);
	d = &vq->desc[head];
	d->addr = da;
	d->len = len;
	d->flags = device_writes ? RPK_VRING_DESC_F_WRITE : 0;
	d->next = 0;
	vq_clean(vq, d, sizeof(*d));
	make_available(vq, head);
	return 0;
}

/*
 * The descriptor still says what rpk_vq_post_da() wrote: only the available
 * ring is written. What the device may have written over it is its own
 * loss: our records (slot) say where the buffer is and how long.
 */
int rpk_vq_repost(struct rpk_vq *vq, uint16_t head, int device_writes)
{
	struct rpk_vq_slot *s;

	if (vq_broken(vq))
		return -RPK_EPIPE;
	if (head >= vq->num || vq->slots[head].state != RPK_SLOT_RESERVED || !vq->slots[head].buf)
		return -RPK_EINVAL;
	s = &vq->slots[head];
	s->state = RPK_SLOT_POSTED;
	hand_over(vq, s->buf, s->len, device_writes);
	make_available(vq, head);
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

/* Used entries pending, or -1 if the device moved its index impossibly far:
 * it cannot return more buffers than we have outstanding. */
static int used_pending(struct rpk_vq *vq)
{
	return vq_index_pending(vq, &vq->used->idx, vq->next_used, vq->num_posted);
}

int rpk_vq_get_used(struct rpk_vq *vq, uint16_t *head, void **buf, uint32_t *len)
{
	struct rpk_vring_used_elem *e;
	struct rpk_vq_slot *s;
	uint32_t id, used_len;
	int pending;

	if (vq_broken(vq))
		return -RPK_EPIPE;
	pending = vq_pending_fresh(vq, &vq->used->idx, vq->next_used, vq->num_posted);
	if (pending < 0)
		return vq_break_on_index(vq);
	if (!pending)
		return 0;

	e = &vq->used->ring[vq->next_used & (vq->num - 1)];
	vq_invalidate(vq, e, sizeof(*e));
	id = read_once32(&e->id);
	used_len = read_once32(&e->len);
	if (id >= vq->num || vq->slots[id].state != RPK_SLOT_POSTED)
		return vq_break_on_head(vq);
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

/*
 * One index read for the whole batch: the driver owns the ring's layout, so
 * the device cannot start it over under us, and each entry is checked against
 * our own records as in rpk_vq_get_used().
 */
int rpk_vq_free_used(struct rpk_vq *vq, uint32_t most)
{
	int pending, n;

	if (vq_broken(vq))
		return -RPK_EPIPE;
	pending = vq_pending_fresh(vq, &vq->used->idx, vq->next_used, vq->num_posted);
	if (pending < 0)
		return vq_break_on_index(vq);
	if ((uint32_t)pending > most)
		pending = (int)most;
	for (n = 0; n < pending; n++) {
		struct rpk_vring_used_elem *e = &vq->used->ring[vq->next_used & (vq->num - 1)];
		struct rpk_vq_slot *s;
		uint32_t id;

		vq_invalidate(vq, e, sizeof(*e));
		id = read_once32(&e->id);
		if (id >= vq->num || vq->slots[id].state != RPK_SLOT_POSTED)
			return vq_break_on_head(vq);
		s = &vq->slots[id];
		if (read_once32(&e->len) > s->len)
			vq->stats.bad_len++; /* the buffer is ours again all the same */
		vq->next_used++;
		vq->num_posted--;
		push_free(vq, (uint16_t)id);
	}
	return n;
}

int rpk_vq_kick_prepare(struct rpk_vq *vq)
{
	uint16_t flags, added = vq->num_added;

	if (!added)
		return 0;
	vq->num_added = 0;
	/* Our index before the peer's flag or event: pairs with the device's
	 * barrier between publishing those and looking for new entries. */
	full_barrier();
	if (vq->ev)
		return vq->ev->passed(vq, vq->next_avail, (uint16_t)(vq->next_avail - added));
	vq_invalidate(vq, &vq->used->flags, sizeof(uint16_t));
	flags = read_once16(&vq->used->flags);
	return !(flags & RPK_VRING_USED_F_NO_NOTIFY);
}

void rpk_vq_disable_cb(struct rpk_vq *vq)
{
	vq_set_flags16(vq, &vq->avail->flags, RPK_VRING_AVAIL_F_NO_INTERRUPT);
	if (vq->ev)
		vq->ev->want(vq, 0);
}

int rpk_vq_enable_cb(struct rpk_vq *vq)
{
	vq_set_flags16(vq, &vq->avail->flags, 0);
	if (vq->ev) /* the device reads the event, not the flag */
		vq->ev->want(vq, 1);
	/* The flag must be visible before we look for work the device
	 * published while it still saw the old flag. */
	full_barrier();
	return used_pending(vq) != 0;
}
