/* SPDX-License-Identifier: BSD-3-Clause */
/* Sending from buffers of our own: see driver_tx.h. */
#include <rpk/errno.h>
#include <rpk/rpmsg.h>

#include "rpmsg/dev.h"
#include "rpmsg/driver_tx.h"

/* Index of a pool buffer in its half, or -1 if hdr is not one. */
static int pool_index(const struct rpk_rpmsg *dev, const char *half, const void *hdr)
{
	uintptr_t off;

	if ((const char *)hdr < half)
		return -1;
	off = (uintptr_t)((const char *)hdr - half);
	if (off % dev->buf_size || off / dev->buf_size >= dev->nbufs)
		return -1;
	return (int)(off / dev->buf_size);
}

int rpk_pool_kept_head(struct rpk_rpmsg *dev, struct rpk_vq *vq, const void *hdr, const char *half)
{
	int i = pool_index(dev, half, hdr);

	if (i < 0 || rpk_vq_slot_state(vq, (uint32_t)i) != RPK_SLOT_RESERVED)
		return -1;
	return i;
}

void rpk_drvtx_reclaim(struct rpk_rpmsg *dev)
{
	/* What the peer had returned when we looked: more next time. A bad
	 * entry breaks the queue, which the caller sees. */
	rpk_vq_free_used(dev->svq, dev->svq->num);
}

int rpk_drvtx_try_get(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr **hdr, uint16_t *head,
		      uint32_t *cap)
{
	int r;

	if (!dev->svq->num_free)
		rpk_drvtx_reclaim(dev);
	r = rpk_vq_alloc_desc(dev->svq);
	if (r < 0)
		return r == -RPK_ENOSPC ? -RPK_EAGAIN : r;
	*head = (uint16_t)r;
	*hdr = (struct rpk_rpmsg_hdr *)(dev->sbufs + (size_t)r * dev->buf_size);
	*cap = dev->buf_size - RPK_RPMSG_HDR_SIZE;
	return 0;
}

int rpk_drvtx_send(struct rpk_rpmsg *dev, const struct rpk_out *m)
{
	struct rpk_vq *vq = dev->svq;
	struct rpk_rpmsg_hdr *hdr;
	int head, err;

	/* Every buffer of our pool has the same room: no need to take one first. */
	if (m->len > dev->buf_size - RPK_RPMSG_HDR_SIZE)
		return -RPK_EMSGSIZE;
	if (!vq->num_free)
		rpk_drvtx_reclaim(dev);
	head = rpk_vq_alloc_desc(vq);
	if (head < 0)
		return head == -RPK_ENOSPC ? -RPK_EAGAIN : head;
	hdr = (struct rpk_rpmsg_hdr *)(dev->sbufs + (size_t)head * dev->buf_size);
	rpk_dev_fill(dev, hdr, m);
	err = rpk_drvtx_post(dev, (uint16_t)head, hdr, RPK_RPMSG_HDR_SIZE + m->len);
	if (err)
		return err;
	dev->stats.tx_msgs++;
	if (rpk_vq_kick_prepare(vq))
		rpk_dev_kick(dev, vq);
	return 0;
}

int rpk_drvtx_post(struct rpk_rpmsg *dev, uint16_t head, struct rpk_rpmsg_hdr *hdr, uint32_t total)
{
	return rpk_vq_post_da(dev->svq, head, hdr, dev->sbufs_da + (uint64_t)head * dev->buf_size,
			      total, 0);
}

void rpk_drvtx_unget(struct rpk_rpmsg *dev, uint16_t head)
{
	rpk_vq_free_desc(dev->svq, head);
}

int rpk_drvtx_head(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr *hdr)
{
	return rpk_pool_kept_head(dev, dev->svq, hdr, dev->sbufs);
}

uint32_t rpk_drvtx_room(struct rpk_rpmsg *dev, uint16_t head)
{
	(void)head;
	return dev->buf_size - RPK_RPMSG_HDR_SIZE;
}

void rpk_drvtx_drop_posted(struct rpk_rpmsg *dev)
{
	struct rpk_vq *s = dev->svq;

	rpk_drvtx_reclaim(dev); /* what the peer did consume is not lost */
	for (uint32_t i = 0; i < s->num; i++)
		if (s->slots[i].state == RPK_SLOT_POSTED) {
			s->slots[i].user = 1; /* sent, never consumed: lost */
			dev->stats.tx_lost++;
			dev->stats.bufs_recovered++;
		}
}

void rpk_drvtx_free_lost(struct rpk_rpmsg *dev)
{
	struct rpk_vq *s = dev->svq;

	for (uint32_t i = 0; i < s->num; i++)
		if (s->slots[i].user) {
			s->slots[i].user = 0;
			rpk_vq_free_desc(s, (uint16_t)i);
		}
}

void rpk_drvtx_init_pool(struct rpk_rpmsg *dev)
{
	for (uint32_t i = 0; i < dev->svq->num; i++)
		rpk_vq_alloc_desc(dev->svq);
	for (uint32_t i = dev->nbufs; i-- > 0;)
		rpk_vq_free_desc(dev->svq, (uint16_t)i);
	/* Like Linux, we don't want "tx complete" interrupts unless a sender waits. */
	rpk_vq_disable_cb(dev->svq);
}
