/* SPDX-License-Identifier: BSD-3-Clause */
/* Receiving in the peer's buffers: see device_rx.h. */
#include <rpk/errno.h>
#include <rpk/rpmsg.h>

#include "rpmsg/device_rx.h"

int rpk_devrx_next(struct rpk_rpmsg *dev, struct rpk_vq_buf *b)
{
	int r = rpk_vq_get_avail(dev->rvq, 0, b);

	if (r == 1 && b->len > dev->buf_size) { /* counted as a bad buffer by the caller */
		rpk_vq_add_used_read(dev->rvq, b->head);
		return -RPK_EMSGSIZE;
	}
	return r;
}

int rpk_devrx_recycle(struct rpk_rpmsg *dev, uint16_t head)
{
	return rpk_vq_add_used_read(dev->rvq, head);
}

/*
 * Descriptor of a held receive buffer. Found by a scan of our own records,
 * since the buffer is the peer's and read-only to us: we may not stash
 * anything in it.
 */
int rpk_devrx_head(struct rpk_rpmsg *dev, const struct rpk_rpmsg_hdr *hdr)
{
	struct rpk_vq *vq = dev->rvq;

	for (uint32_t h = 0; h < vq->num; h++)
		if (vq->slots[h].state == RPK_SLOT_HELD && vq->slots[h].buf == hdr)
			return (int)h;
	return -1;
}

int rpk_devrx_want_kicks(struct rpk_vq *vq, int on)
{
	if (on)
		return rpk_vq_enable_notify(vq);
	rpk_vq_disable_notify(vq);
	return 0;
}
