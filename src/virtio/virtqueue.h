/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the two halves of the split virtqueue share (implemented in
 * virtqueue.c): the layout, the per-descriptor records, the check of the
 * peer's index, breaking a queue, the suppression flags. The driver half
 * (vq_driver.c) and the device half (vq_device.c) include this and nothing of
 * each other, so an image that uses one half links none of the other.
 */
#ifndef RPK_SRC_VIRTIO_VIRTQUEUE_H
#define RPK_SRC_VIRTIO_VIRTQUEUE_H

#include <rpk/virtio.h>

#include "common/shm.h"

/* The port's cache hooks, behind one flag set at attach: a coherent port
 * (most) pays a byte test per publish or consume point, not three loads. */
static inline void vq_clean(const struct rpk_vq *vq, const void *p, size_t len)
{
	if (vq->cached)
		shm_clean(vq->port, p, len);
}

static inline void vq_invalidate(const struct rpk_vq *vq, const void *p, size_t len)
{
	if (vq->cached)
		shm_invalidate(vq->port, p, len);
}

/* Atomic: rpmsg looks at both queues' flags under one queue's lock. */
static inline int vq_broken(const struct rpk_vq *vq)
{
	return __atomic_load_n(&vq->broken, __ATOMIC_RELAXED);
}

/* Attach to the ring memory and set up the records for one half; the
 * ring itself is not touched. 0 or -RPK_EINVAL. */
int vq_attach(struct rpk_vq *vq, const struct rpk_vq_cfg *cfg, enum rpk_vq_role role);

/* Indices, flags and the broken mark back to their initial state. */
void vq_restart(struct rpk_vq *vq);

/*
 * Entries the peer published past seen (the index at idx, which it
 * writes), or -1 if that is more than most: more than it can have had to
 * give.
 */
static inline int vq_index_pending(struct rpk_vq *vq, const uint16_t *idx, uint16_t seen,
				   uint16_t most)
{
	uint16_t pending;

	vq_invalidate(vq, idx, sizeof(uint16_t));
	pending = (uint16_t)(load_acquire16(idx) - seen);
	return pending > most ? -1 : pending;
}

/*
 * vq_index_pending(), remembering in vq->shadow how far the peer's index
 * reached: what rpk_vq_known_pending() tells without another read. Each
 * entry is still taken on a fresh read of the index, so a peer that starts
 * over (a reset) is seen before the next entry, as without the shadow.
 */
static inline int vq_pending_fresh(struct rpk_vq *vq, const uint16_t *idx, uint16_t seen,
				   uint16_t most)
{
	int fresh = vq_index_pending(vq, idx, seen, most);

	vq->shadow = (uint16_t)(seen + (fresh > 0 ? fresh : 0));
	return fresh;
}

/* Publish the index this half writes, covering every entry added: the
 * entries are visible before it (release; pairs with the peer's acquire in
 * vq_index_pending). */
static inline void vq_publish_index(struct rpk_vq *vq, uint16_t *idx, uint16_t next)
{
	store_release16(idx, next);
	vq_clean(vq, idx, sizeof(*idx));
}

/* The queue makes no sense any more: an index moved impossibly far. */
int vq_break_on_index(struct rpk_vq *vq);

/* An entry names a descriptor we cannot take. */
int vq_break_on_head(struct rpk_vq *vq);

/* The event indices (RPK_VIRTIO_RING_F_EVENT_IDX): the driver's after the
 * avail ring, the device's after the used ring. */
static inline uint16_t *vq_used_event(struct rpk_vq *vq)
{
	return &vq->avail->ring[vq->num];
}

static inline uint16_t *vq_avail_event(struct rpk_vq *vq)
{
	return (uint16_t *)(void *)&vq->used->ring[vq->num];
}

/* Whether moving an index from old to new passed the peer's event: the
 * peer asked to be told at entry event. Any event the peer wrote is fine:
 * the worst it gets is a notification too many or too few (bounded by the
 * other side's watchdog). */
static inline int vq_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* Publish the index at which we want the next notification. The barrier
 * pairs with the peer's between its index update and its read of ours:
 * either it sees this event, or we see its new entries when we look next. */
static inline void vq_publish_event(struct rpk_vq *vq, uint16_t *p, uint16_t idx)
{
	vq->own_event = idx;
	write_once16(p, idx);
	vq_clean(vq, p, sizeof(*p));
	full_barrier();
}

/* Notifications off with event indices: an event half the index space
 * ahead, which the peer's index reaches only after 32768 entries (Linux
 * does the same); the flag is written too, for a peer without EVENT_IDX. */
static inline void vq_event_far(struct rpk_vq *vq, uint16_t *p, uint16_t next)
{
	if (vq->event_idx)
		vq_publish_event(vq, p, (uint16_t)(next + 0x8000u));
}

/* Write a suppression flag this half owns, and remember it (rpk_vq_restore_flags). */
void vq_set_flags16(struct rpk_vq *vq, uint16_t *p, uint16_t v);

#endif
