/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split virtqueue, device half: takes buffers from the available ring and
 * returns them through the used ring. It never lays the ring out: that is
 * the driver's. Only what the device does lives here; a driver-only image
 * links none of it.
 */
#include <rpk/errno.h>
#include <rpk/virtio.h>

#include "common/mem_window.h"
#include "virtio/virtqueue.h"

int rpk_vq_init_device(struct rpk_vq *vq, const struct rpk_vq_cfg *cfg)
{
	/* The device only attaches and starts at index 0. */
	return vq_attach(vq, cfg, RPK_VQ_DEVICE);
}

void rpk_vq_reset_device(struct rpk_vq *vq)
{
	vq_restart(vq);
	/* Every held buffer is forgotten. */
	vq->num_free = vq->num;
	vq->free_head = 0;
	for (uint32_t i = 0; i < vq->num; i++) {
		vq->slots[i].state = RPK_SLOT_FREE;
		vq->slots[i].buf = 0;
		vq->slots[i].next_free = (uint16_t)(i + 1);
	}
	rpk_vq_forget_ring(vq);
}

void rpk_vq_set_base(struct rpk_vq *vq, uint16_t idx)
{
	vq->next_avail = idx;
	vq->next_used = idx;
	vq->shadow = idx;
	vq->signalled = idx;
}

/* Avail entries pending, or -1 if the driver moved its index impossibly far:
 * it cannot post more than the descriptors we do not hold. */
static int avail_pending(struct rpk_vq *vq)
{
	return vq_index_pending(vq, &vq->avail->idx, vq->next_avail, vq->num_free);
}

static inline void publish_used(struct rpk_vq *vq, uint16_t head, uint32_t len)
{
	struct rpk_vring_used_elem *e = &vq->used->ring[vq->next_used & (vq->num - 1)];

	e->id = head;
	e->len = len;
	vq_clean(vq, e, sizeof(*e));
	vq->next_used++;
	if (!vq->batching)
		vq_publish_index(vq, &vq->used->idx, vq->next_used);
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
	pending = vq_pending_fresh(vq, &vq->avail->idx, vq->next_avail, vq->num_free);
	if (pending < 0)
		return vq_break_on_index(vq);
	if (!pending)
		return 0;

	vq_invalidate(vq, &vq->avail->ring[vq->next_avail & (vq->num - 1)], sizeof(uint16_t));
	head = read_once16(&vq->avail->ring[vq->next_avail & (vq->num - 1)]);
	/* Out of range, or a buffer we already hold: nothing to return. */
	if (head >= vq->num || vq->slots[head].state == RPK_SLOT_HELD)
		return vq_break_on_head(vq);
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
	va = mem_da_to_va(vq->mem, addr, len);
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
	if (vq->ev) {
		uint16_t old = vq->signalled;

		vq->signalled = vq->next_used;
		return vq->ev->passed(vq, vq->next_used, old);
	}
	vq_invalidate(vq, &vq->avail->flags, sizeof(uint16_t));
	flags = read_once16(&vq->avail->flags);
	return !(flags & RPK_VRING_AVAIL_F_NO_INTERRUPT);
}

void rpk_vq_disable_notify(struct rpk_vq *vq)
{
	vq_set_flags16(vq, &vq->used->flags, RPK_VRING_USED_F_NO_NOTIFY);
	if (vq->ev)
		vq->ev->want(vq, 0);
}

int rpk_vq_enable_notify(struct rpk_vq *vq)
{
	vq_set_flags16(vq, &vq->used->flags, 0);
	if (vq->ev) /* the driver reads the event, not the flag */
		vq->ev->want(vq, 1);
	full_barrier();
	return avail_pending(vq) != 0;
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
