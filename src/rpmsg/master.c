/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The master's role: it owns the buffer pool and drives both rings as the
 * virtio driver. Buffer i of each pool half is tied to descriptor i of its
 * queue, so a buffer pointer gives its descriptor by arithmetic. Receive
 * buffers are posted once and posted again after use; transmit buffers are
 * taken from free descriptors and come back through the used ring.
 *
 * Reached only through master_ops, which only rpk_rpmsg_init_master()
 * references: an image that never initialises a master links none of this.
 */
#include <rpk/errno.h>
#include <rpk/rpmsg.h>

#include "rpmsg/dev.h"
#include "rpmsg/driver_tx.h"
#include "rpmsg/role.h"

static char *rx_buf(const struct rpk_rpmsg *dev, uint16_t head)
{
	return dev->rbufs + (size_t)head * dev->buf_size;
}

/* Our pool's buffers are posted by device address: the pool was found in a
 * window once, at init, so each buffer's address is arithmetic. */
static int post_rx(struct rpk_rpmsg *dev, uint16_t head)
{
	return rpk_vq_post_da(dev->rvq, head, rx_buf(dev, head),
			      dev->rbufs_da + (uint64_t)head * dev->buf_size, dev->buf_size, 1);
}

/* ---- receive ---- */

static int master_next_rx(struct rpk_rpmsg *dev, struct rpk_vq_buf *b)
{
	return rpk_vq_get_used(dev->rvq, &b->head, &b->va, &b->len);
}

static int master_recycle_rx(struct rpk_rpmsg *dev, uint16_t head)
{
	int err;

	dev->rvq->slots[head].user = 0; /* no longer held, if it was */
	/* Buffer i stays tied to descriptor i: its descriptor is already
	 * written, unless the rings were laid out anew while it was held. */
	err = rpk_vq_repost(dev->rvq, head, 1);
	return err == -RPK_EINVAL ? post_rx(dev, head) : err;
}

static void master_hold_rx(struct rpk_rpmsg *dev, uint16_t head)
{
	dev->rvq->slots[head].user = 1; /* held: kept out of the ring by a reset */
}

static int master_rx_head(struct rpk_rpmsg *dev, const struct rpk_rpmsg_hdr *hdr)
{
	return rpk_pool_kept_head(dev, dev->rvq, hdr, dev->rbufs);
}

/* ---- kicks ---- */

static int master_want_kicks(struct rpk_vq *vq, int on)
{
	if (on)
		return rpk_vq_enable_cb(vq);
	rpk_vq_disable_cb(vq);
	return 0;
}

/* ---- the link's life ---- */

static void master_start(struct rpk_rpmsg *dev)
{
	/* Our receive buffers are posted: tell the remote. */
	if (rpk_vq_kick_prepare(dev->rvq))
		rpk_dev_kick(dev, dev->rvq);
}

/* Both rings zeroed, receive buffers nobody holds posted again. */
static void master_lay_out(struct rpk_rpmsg *dev)
{
	struct rpk_vq *s = dev->svq, *r = dev->rvq;

	rpk_vq_reset_driver(s);
	rpk_vq_reset_driver(r);
	/* Held receive buffers (user set) stay out until released. */
	for (uint32_t i = 0; i < dev->nbufs; i++)
		if (rpk_vq_slot_state(r, i) == RPK_SLOT_RESERVED && !r->slots[i].user)
			post_rx(dev, (uint16_t)i);
	rpk_vq_disable_cb(s);
	if (dev->polling) /* before the remote can look: no kick for its first message */
		rpk_vq_disable_cb(r);
}

/* Drop what the remote had: count what it never consumed, take the rest back. */
static void master_reset(struct rpk_rpmsg *dev)
{
	struct rpk_vq *r = dev->rvq;

	rpk_drvtx_drop_posted(dev);
	for (uint32_t i = 0; i < r->num; i++)
		dev->stats.bufs_recovered += r->slots[i].state == RPK_SLOT_POSTED;
	master_lay_out(dev);
	rpk_drvtx_free_lost(dev);
}

static const struct rpk_rpmsg_role_ops master_ops = {
    .role = RPK_ROLE_MASTER,
    .owns_rings = 1,
    .init_rx_vq = rpk_vq_init_driver,
    .init_tx_vq = rpk_vq_init_driver,
    .start = master_start,
    .reset = master_reset,
    .lay_out = master_lay_out,
    .want_kicks = master_want_kicks,
    .kick_wanted = rpk_vq_kick_prepare,
    .next_rx = master_next_rx,
    .recycle_rx = master_recycle_rx,
    .hold_rx = master_hold_rx,
    .rx_head = master_rx_head,
    .send = rpk_drvtx_send,
    .try_get_tx = rpk_drvtx_try_get,
    .post_tx = rpk_drvtx_post,
    .unget_tx = rpk_drvtx_unget,
    .tx_head = rpk_drvtx_head,
    .tx_room = rpk_drvtx_room,
};

/*
 * Tie descriptor i to buffer i: reserve every descriptor, then free (send
 * side) or post (receive side) the first nbufs of them. Descriptors beyond
 * nbufs stay reserved and unused, as Linux uses at most 256 per direction.
 */
static int init_pool(struct rpk_rpmsg *dev, const struct rpk_mem *mem)
{
	/* Each half whole inside one window: then every buffer's address is
	 * the half's plus its offset. */
	if (rpk_mem_to_da(mem, dev->rbufs, (uint64_t)dev->nbufs * dev->buf_size, &dev->rbufs_da) ||
	    rpk_mem_to_da(mem, dev->sbufs, (uint64_t)dev->nbufs * dev->buf_size, &dev->sbufs_da))
		return -RPK_EFAULT;
	rpk_drvtx_init_pool(dev);
	for (uint32_t i = 0; i < dev->rvq->num; i++)
		rpk_vq_alloc_desc(dev->rvq);
	for (uint32_t i = 0; i < dev->nbufs; i++) {
		int err = post_rx(dev, (uint16_t)i);
		if (err)
			return err;
	}
	return 0;
}

int rpk_rpmsg_init_master(struct rpk_rpmsg *dev, const struct rpk_rpmsg_cfg *cfg)
{
	uint32_t buf_size = cfg->buf_size ? cfg->buf_size : RPK_RPMSG_BUF_SIZE;
	uintptr_t align;
	int err;

	if (!cfg->port || !cfg->port->ops)
		return -RPK_EINVAL;
	/* With caches to maintain, buffers own whole lines: invalidating one
	 * must not drop a neighbour's data. */
	align = cfg->port->ops->cache_invalidate ? RPK_CACHE_LINE - 1 : 7u;
	if (!cfg->bufs || ((uintptr_t)cfg->bufs & align) || (buf_size & align) ||
	    buf_size <= RPK_RPMSG_HDR_SIZE || buf_size > 0xffffu + RPK_RPMSG_HDR_SIZE)
		return -RPK_EINVAL;
	err = rpk_rpmsg_setup(dev, cfg, &master_ops);
	if (err)
		return err;
	dev->rbufs = cfg->bufs;
	dev->sbufs = dev->rbufs + (size_t)dev->nbufs * dev->buf_size;
	/* A master, like Linux's, hears its remotes' services. */
	rpk_rpmsg_listen_ns(dev);
	rpk_rpmsg_use_event_idx(dev);
	return init_pool(dev, cfg->mem);
}
