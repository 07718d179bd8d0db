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

/* Event indices (RPK_VIRTIO_RING_F_EVENT_IDX), in vq_event.c, reached only
 * through vq->ev (set by rpk_vq_set_event_idx): a half that never uses
 * them links none of their code. */
struct rpk_vq_event_ops {
	/* Our index moved from old_idx to new_idx: whether it passed the
	 * event the peer published, so the peer wants a notification. */
	int (*passed)(struct rpk_vq *vq, uint16_t new_idx, uint16_t old_idx);
	/* Publish our event: the peer notifies us at its next entry (on), or
	 * not for 32768 entries. */
	void (*want)(struct rpk_vq *vq, int on);
	/* rpk_vq_rearm() with event indices on. */
	int (*rearm)(struct rpk_vq *vq);
	/* Our event found overwritten in the ring: written again, 1. */
	int (*restore)(struct rpk_vq *vq);
};

/* Write a suppression flag this half owns, and remember it (rpk_vq_restore_flags). */
void vq_set_flags16(struct rpk_vq *vq, uint16_t *p, uint16_t v);

#endif
