/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A side of a symmetric link (seed 003's "solution 2": each side controls
 * its TX virtqueue completely): we drive the queue we send on with buffers
 * of our own pool (driver_tx.c) and serve the queue we receive on as the
 * device, in the peer's buffers (device_rx.c). Each side lays out its own
 * ring only; the master/remote roles remain for which queue is which and
 * for the name service.
 *
 * Reached only through the two tables here, which only
 * rpk_rpmsg_init_symmetric() references.
 */
#include <rpk/errno.h>
#include <rpk/rpmsg.h>

#include "rpmsg/dev.h"
#include "rpmsg/device_rx.h"
#include "rpmsg/driver_tx.h"
#include "rpmsg/role.h"

/* Kicks differ by queue: we drive the send queue and serve the other. */
static int sym_want_kicks(struct rpk_vq *vq, int on)
{
	if (vq->role == RPK_VQ_DEVICE)
		return rpk_devrx_want_kicks(vq, on);
	if (on)
		return rpk_vq_enable_cb(vq);
	rpk_vq_disable_cb(vq);
	return 0;
}

static int sym_kick_wanted(struct rpk_vq *vq)
{
	return vq->role == RPK_VQ_DEVICE ? rpk_vq_need_interrupt(vq) : rpk_vq_kick_prepare(vq);
}

static void sym_start(struct rpk_rpmsg *dev)
{
	/* The peer has just laid its ring out: nothing we cached of it before
	 * may go back to memory with our first write. */
	rpk_vq_forget_ring(dev->rvq);
	/* No "tx complete" kicks unless a sender waits. */
	rpk_vq_disable_cb(dev->svq);
}

/* Our send ring anew (link down): what was posted on it is lost, and free. */
static void sym_lay_out(struct rpk_rpmsg *dev)
{
	rpk_drvtx_drop_posted(dev);
	rpk_vq_reset_driver(dev->svq);
	rpk_drvtx_free_lost(dev);
	rpk_vq_disable_cb(dev->svq);
}

static void sym_reset(struct rpk_rpmsg *dev)
{
	for (uint32_t i = 0; i < dev->rvq->num; i++) /* the peer's, held by us */
		dev->stats.bufs_recovered += dev->rvq->slots[i].state == RPK_SLOT_HELD;
	rpk_vq_reset_device(dev->rvq);
	sym_lay_out(dev);
}

#define SYMMETRIC_OPS(r)                                                                           \
	{                                                                                          \
		.role = (r),                                                                       \
		.owns_rings = 0, /* only the send ring, and the peer's flags are in the other */   \
		    .init_rx_vq = rpk_vq_init_device, .init_tx_vq = rpk_vq_init_driver,            \
		.start = sym_start, .reset = sym_reset, .lay_out = sym_lay_out,                    \
		.want_kicks = sym_want_kicks, .kick_wanted = sym_kick_wanted,                      \
		.next_rx = rpk_devrx_next, .recycle_rx = rpk_devrx_recycle,                        \
		.hold_rx = 0, /* our records (HELD) say it all */                                  \
		    .rx_head = rpk_devrx_head, .try_get_tx = rpk_drvtx_try_get,                    \
		.post_tx = rpk_drvtx_post, .unget_tx = rpk_drvtx_unget, .tx_head = rpk_drvtx_head, \
		.tx_room = rpk_drvtx_room, .send = rpk_drvtx_send,                                 \
	}

static const struct rpk_rpmsg_role_ops symmetric_master_ops = SYMMETRIC_OPS(RPK_ROLE_MASTER);
static const struct rpk_rpmsg_role_ops symmetric_remote_ops = SYMMETRIC_OPS(RPK_ROLE_REMOTE);

int rpk_rpmsg_init_symmetric(struct rpk_rpmsg *dev, const struct rpk_rpmsg_cfg *cfg)
{
	uint32_t buf_size = cfg->buf_size ? cfg->buf_size : RPK_RPMSG_BUF_SIZE;
	const struct rpk_mem *own = cfg->bufs_mem ? cfg->bufs_mem : cfg->mem;
	uintptr_t align;
	int err;

	if (!cfg->port || !cfg->port->ops || !own ||
	    (cfg->role != RPK_ROLE_MASTER && cfg->role != RPK_ROLE_REMOTE))
		return -RPK_EINVAL;
	/* With caches to maintain, buffers own whole lines. */
	align = cfg->port->ops->cache_invalidate ? RPK_CACHE_LINE - 1 : 7u;
	if (!cfg->bufs || ((uintptr_t)cfg->bufs & align) || (buf_size & align) ||
	    buf_size <= RPK_RPMSG_HDR_SIZE || buf_size > 0xffffu + RPK_RPMSG_HDR_SIZE)
		return -RPK_EINVAL;
	err = rpk_rpmsg_setup(
	    dev, cfg, cfg->role == RPK_ROLE_MASTER ? &symmetric_master_ops : &symmetric_remote_ops);
	if (err)
		return err;
	dev->sbufs = cfg->bufs;
	/* Our pool whole inside one window: each buffer's address is arithmetic. */
	if (rpk_mem_to_da(own, dev->sbufs, (uint64_t)dev->nbufs * dev->buf_size, &dev->sbufs_da))
		return -RPK_EFAULT;
	rpk_drvtx_init_pool(dev);
	rpk_rpmsg_listen_ns(dev);
	rpk_rpmsg_use_event_idx(dev);
	return 0;
}
