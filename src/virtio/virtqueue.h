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

#define vq_clean(vq, p, len)	  shm_clean((vq)->port, (p), (len))
#define vq_invalidate(vq, p, len) shm_invalidate((vq)->port, (p), (len))

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
int vq_index_pending(struct rpk_vq *vq, const uint16_t *idx, uint16_t seen, uint16_t most);

/* The queue makes no sense any more: an index moved impossibly far. */
int vq_break_on_index(struct rpk_vq *vq);

/* An entry names a descriptor we cannot take. */
int vq_break_on_head(struct rpk_vq *vq);

/* Write a suppression flag this half owns, and remember it (rpk_vq_restore_flags). */
void vq_set_flags16(struct rpk_vq *vq, uint16_t *p, uint16_t v);

#endif
