/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk_rpmsg_use_event_idx(): the one reference from the message path to the
 * virtqueue's event-index code (vq_event.c), so an image that never offers
 * RPK_VIRTIO_RING_F_EVENT_IDX links none of it.
 */
#include <rpk/rpmsg.h>

void rpk_rpmsg_use_event_idx(struct rpk_rpmsg *dev)
{
	dev->set_event_idx = rpk_vq_set_event_idx;
}
