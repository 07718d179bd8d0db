/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Event indices (RPK_VIRTIO_RING_F_EVENT_IDX), for either half: instead of
 * a flag, each half publishes the index at which it wants its next
 * notification (the driver's used_event after the avail ring, the device's
 * avail_event after the used ring), and notifies the peer only when its
 * own index passes the peer's.
 *
 * The halves reach this file only through vq->ev, which only
 * rpk_vq_set_event_idx() sets: an image that never turns event indices on
 * links none of it. The code is one for both halves: which index is whose
 * follows from vq->role.
 */
#include <rpk/virtio.h>

#include "virtio/virtqueue.h"

static int driver(const struct rpk_vq *vq)
{
	return vq->role == RPK_VQ_DRIVER;
}

/* The event index this half writes, and the one the peer writes. */
static uint16_t *own_event(struct rpk_vq *vq)
{
	return driver(vq) ? &vq->avail->ring[vq->num]
			  : (uint16_t *)(void *)&vq->used->ring[vq->num];
}

static uint16_t *peer_event(struct rpk_vq *vq)
{
	return driver(vq) ? (uint16_t *)(void *)&vq->used->ring[vq->num]
			  : &vq->avail->ring[vq->num];
}

/* The peer's index that the event we publish watches: the used index for a
 * driver (what comes back), the avail index for a device (what comes in). */
static uint16_t watched_next(const struct rpk_vq *vq)
{
	return driver(vq) ? vq->next_used : vq->next_avail;
}

/* Publish the index at which we want the next notification. The barrier
 * pairs with the peer's between its index update and its read of ours:
 * either it sees this event, or we see its new entries when we look next. */
static void publish_event(struct rpk_vq *vq, uint16_t idx)
{
	uint16_t *p = own_event(vq);

	vq->own_event = idx;
	write_once16(p, idx);
	vq_clean(vq, p, sizeof(*p));
	full_barrier();
}

/* Whether our index moving from old_idx to new_idx passed the event the
 * peer published: it asked to be told at that entry. Any event the peer
 * wrote is fine: the worst it gets is a notification too many or too few
 * (bounded by the other side's watchdog). */
static int event_passed(struct rpk_vq *vq, uint16_t new_idx, uint16_t old_idx)
{
	uint16_t *p = peer_event(vq);
	uint16_t event;

	vq_invalidate(vq, p, sizeof(*p));
	event = read_once16(p);
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* Notifications on: at the next entry. Off: an event half the index space
 * ahead, which the peer's index reaches only after 32768 entries (Linux
 * does the same); the caller writes the flag too, for a peer without
 * EVENT_IDX. */
static void want_notify(struct rpk_vq *vq, int on)
{
	publish_event(vq, (uint16_t)(watched_next(vq) + (on ? 0u : 0x8000u)));
}

static int notify_off(const struct rpk_vq *vq)
{
	return vq->own_flags &
	       (driver(vq) ? RPK_VRING_AVAIL_F_NO_INTERRUPT : RPK_VRING_USED_F_NO_NOTIFY);
}

static int rearm(struct rpk_vq *vq)
{
	if (notify_off(vq))
		return 0;
	publish_event(vq, watched_next(vq));
	if (driver(vq))
		return vq_index_pending(vq, &vq->used->idx, vq->next_used, vq->num_posted) != 0;
	return vq_index_pending(vq, &vq->avail->idx, vq->next_avail, vq->num_free) != 0;
}

/* Our event as we last wrote it, if the shared copy says otherwise: 1. */
static int restore_event(struct rpk_vq *vq)
{
	uint16_t *p = own_event(vq);

	vq_invalidate(vq, p, sizeof(*p));
	if (read_once16(p) == vq->own_event)
		return 0;
	publish_event(vq, vq->own_event);
	return 1;
}

static const struct rpk_vq_event_ops event_ops = {
    .passed = event_passed,
    .want = want_notify,
    .rearm = rearm,
    .restore = restore_event,
};

void rpk_vq_set_event_idx(struct rpk_vq *vq, int on)
{
	vq->event_idx = (uint8_t) !!on;
	vq->ev = on ? &event_ops : 0;
	vq->signalled = vq->next_used;
	/* The ring was laid out zeroed: an event of 0 is what is published,
	 * unless notifications are off here. */
	vq->own_event = 0;
	if (on && notify_off(vq))
		want_notify(vq, 0);
}
