/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The remote's role: it uses the master's buffers as the virtio device
 * (takes them from the available rings, gives them back through the used
 * rings). The descriptor of a buffer we keep is found again from our own
 * records (held receive buffers) or from the header's reserved field, checked
 * against them (transmit buffers the caller holds). Transmit buffers taken
 * but not sent wait on a spare list, chained through the slots.
 *
 * Reached only through remote_ops, which only rpk_rpmsg_init_remote()
 * references.
 */
#include <rpk/errno.h>
#include <rpk/rpmsg.h>

#include "common/shm.h"
#include "rpmsg/dev.h"
#include "rpmsg/device_rx.h"
#include "rpmsg/role.h"

/* Payload room of a transmit buffer; a u16 carries the length. */
static uint32_t payload_cap(uint32_t buf_len)
{
	uint32_t cap = buf_len - RPK_RPMSG_HDR_SIZE;

	return cap > 0xffffu ? 0xffffu : cap;
}

/* ---- transmit ---- */

static int pop_spare(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr **hdr, uint16_t *head,
		     uint32_t *cap)
{
	uint16_t h = dev->spare_head;

	if (!dev->num_spare)
		return 0;
	dev->spare_head = dev->svq->slots[h].next_free;
	dev->svq->slots[h].user = 0;
	dev->num_spare--;
	*head = h;
	*hdr = dev->svq->slots[h].buf;
	*cap = payload_cap(dev->svq->slots[h].len);
	return 1;
}

static int remote_try_get_tx(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr **hdr, uint16_t *head,
			     uint32_t *cap)
{
	struct rpk_vq_buf b;
	int r;

	if (pop_spare(dev, hdr, head, cap))
		return 0;
	for (uint32_t budget = dev->svq->num;
	     budget && (r = rpk_vq_get_avail(dev->svq, 1, &b)) != 0; budget--) {
		if (r == -RPK_EPIPE)
			return r;
		if (r < 0) {
			dev->stats.tx_bad_buf++;
			continue;
		}
		if (b.len <= RPK_RPMSG_HDR_SIZE || b.len > dev->buf_size ||
		    ((uintptr_t)b.va & 3u)) {
			/* Too small for a message, longer than a buffer, or
			 * misaligned for the header. */
			dev->stats.tx_bad_buf++;
			rpk_vq_add_used(dev->svq, b.head, 0);
			continue;
		}
		*head = b.head;
		*hdr = b.va;
		*cap = payload_cap(b.len);
		dev->tx_cap = *cap;
		return 0;
	}
	return -RPK_EAGAIN;
}

static int remote_post_tx(struct rpk_rpmsg *dev, uint16_t head, struct rpk_rpmsg_hdr *hdr,
			  uint32_t total)
{
	(void)hdr;
	return rpk_vq_add_used(dev->svq, head, total);
}

/* Unsent: onto the spare list, for the next sender. */
static void remote_unget_tx(struct rpk_rpmsg *dev, uint16_t head)
{
	dev->svq->slots[head].next_free = dev->spare_head;
	dev->svq->slots[head].user = 1; /* spare: not the caller's any more */
	dev->spare_head = head;
	dev->num_spare++;
}

static int remote_send(struct rpk_rpmsg *dev, const struct rpk_out *m)
{
	struct rpk_rpmsg_hdr *hdr;
	uint32_t cap;
	uint16_t head;
	int err = remote_try_get_tx(dev, &hdr, &head, &cap);

	if (err)
		return err;
	if (m->len > cap) { /* the master's buffers may be of any size */
		remote_unget_tx(dev, head);
		return -RPK_EMSGSIZE;
	}
	rpk_dev_fill(dev, hdr, m);
	err = rpk_vq_add_used(dev->svq, head, RPK_RPMSG_HDR_SIZE + m->len);
	if (err)
		return err;
	dev->stats.tx_msgs++;
	if (rpk_vq_need_interrupt(dev->svq))
		rpk_dev_kick(dev, dev->svq);
	return 0;
}

/*
 * Descriptor of a transmit buffer the caller holds. Those buffers are ours
 * to write, so the head is stashed in the header's reserved field
 * (rpk_get_tx_buffer); it is read once and must match the queue's own record
 * of that descriptor.
 */
static int remote_tx_head(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr *hdr)
{
	uint32_t head = read_once32(&hdr->reserved);

	if (rpk_vq_slot_buf(dev->svq, head, RPK_SLOT_HELD) != hdr || dev->svq->slots[head].user)
		return -1;
	return (int)head;
}

static uint32_t remote_tx_room(struct rpk_rpmsg *dev, uint16_t head)
{
	return payload_cap(dev->svq->slots[head].len);
}

/* ---- the link's life ---- */

static void remote_start(struct rpk_rpmsg *dev)
{
	/* The master has just laid the rings out: nothing we cached of them
	 * before may go back to memory with our first write. */
	rpk_vq_forget_ring(dev->rvq);
	rpk_vq_forget_ring(dev->svq);
	/* We need no kick for new transmit buffers unless a sender waits. */
	rpk_vq_disable_notify(dev->svq);
}

static void remote_reset(struct rpk_rpmsg *dev)
{
	for (uint32_t i = 0; i < dev->rvq->num; i++) /* the master's, held by us */
		dev->stats.bufs_recovered += (dev->rvq->slots[i].state == RPK_SLOT_HELD) +
					     (dev->svq->slots[i].state == RPK_SLOT_HELD);
	rpk_vq_reset_device(dev->rvq);
	rpk_vq_reset_device(dev->svq);
	/* The spare list is gone: so are its marks, or a head the master
	 * offers again would look spare to remote_tx_head(). */
	for (uint32_t i = 0; i < dev->svq->num; i++)
		dev->svq->slots[i].user = 0;
	dev->num_spare = 0;
	dev->tx_cap = dev->buf_size - RPK_RPMSG_HDR_SIZE;
}

static const struct rpk_rpmsg_role_ops remote_ops = {
    .role = RPK_ROLE_REMOTE,
    .owns_rings = 0,
    .init_rx_vq = rpk_vq_init_device,
    .init_tx_vq = rpk_vq_init_device,
    .start = remote_start,
    .reset = remote_reset,
    .lay_out = 0, /* the master's to do */
    .want_kicks = rpk_devrx_want_kicks,
    .kick_wanted = rpk_vq_need_interrupt,
    .send = remote_send,
    .next_rx = rpk_devrx_next,
    .recycle_rx = rpk_devrx_recycle,
    .hold_rx = 0, /* our records (HELD) say it all */
    .rx_head = rpk_devrx_head,
    .try_get_tx = remote_try_get_tx,
    .post_tx = remote_post_tx,
    .unget_tx = remote_unget_tx,
    .tx_head = remote_tx_head,
    .tx_room = remote_tx_room,
};

int rpk_rpmsg_init_remote(struct rpk_rpmsg *dev, const struct rpk_rpmsg_cfg *cfg)
{
	/* The remote touches no shared memory yet. */
	return rpk_rpmsg_setup(dev, cfg, &remote_ops);
}
