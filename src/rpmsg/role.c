/* SPDX-License-Identifier: BSD-3-Clause */
/* What both roles' init shares: see role.h. */
#include <rpk/errno.h>
#include <rpk/rpmsg.h>

#include "rpmsg/role.h"

static int check_cfg(const struct rpk_rpmsg_cfg *cfg)
{
	if (!cfg->port || !cfg->port->ops || !cfg->mem)
		return -RPK_EINVAL;
	if (!cfg->buckets || !cfg->num_buckets || (cfg->num_buckets & (cfg->num_buckets - 1)))
		return -RPK_EINVAL;
	/* The used ring (the device writes it) must not share a cache line
	 * with the avail ring (the driver writes it), or one side's write-back
	 * carries a stale copy of the other's index: messages are lost or
	 * delivered twice (tests/unit/test_cache_sim.c). A legacy ring puts the
	 * used ring at the first multiple of align after the avail ring. */
	if ((cfg->vring[0] || cfg->vring[1]) && cfg->port->ops->cache_invalidate &&
	    cfg->align < RPK_CACHE_LINE)
		return -RPK_EINVAL;
	return 0;
}

static int init_queues(struct rpk_rpmsg *dev, const struct rpk_rpmsg_cfg *cfg)
{
	int master = dev->ops->role == RPK_ROLE_MASTER;
	int rx_q = master ? 0 : 1; /* queue 0 carries remote->master, queue 1 master->remote */

	for (int q = 0; q < 2; q++) {
		int (*init)(struct rpk_vq *, const struct rpk_vq_cfg *) =
		    q == rx_q ? dev->ops->init_rx_vq : dev->ops->init_tx_vq;
		/* No .role: each init says its own (and names only its own code). */
		struct rpk_vq_cfg vc = {
		    .ring = cfg->vring[q],
		    .parts = cfg->parts[q],
		    .num = cfg->num,
		    .align = cfg->align,
		    .slots = cfg->slots[q],
		    .mem = cfg->mem,
		    .port = cfg->port,
		    .notify_id = cfg->notify_id[q],
		};
		int err = init(&dev->vq[q], &vc);

		if (err)
			return err;
	}
	dev->rvq = &dev->vq[rx_q];
	dev->svq = &dev->vq[1 - rx_q];
	return 0;
}

int rpk_rpmsg_setup(struct rpk_rpmsg *dev, const struct rpk_rpmsg_cfg *cfg,
		    const struct rpk_rpmsg_role_ops *ops)
{
	int err = check_cfg(cfg);

	if (err)
		return err;
	__builtin_memset(dev, 0, sizeof(*dev));
	dev->ops = ops;
	dev->role = ops->role;
	dev->port = cfg->port;
	dev->locking = cfg->port->ops->lock && cfg->port->ops->unlock; /* they come as a pair */
	/* A port that cannot wait has callbacks that cannot wait either: none
	 * sends with a wait on a peer that may itself wait for the buffers the
	 * batch has not given back yet. Where one can, each goes back at once. */
	dev->batch_rx = !cfg->port->ops->event_wait;
	err = init_queues(dev, cfg);
	if (err)
		return err;

	dev->buf_size = cfg->buf_size ? cfg->buf_size : RPK_RPMSG_BUF_SIZE;
	dev->nbufs = cfg->num < RPK_RPMSG_MAX_BUFS / 2 ? cfg->num : RPK_RPMSG_MAX_BUFS / 2;
	dev->tx_cap = dev->buf_size - RPK_RPMSG_HDR_SIZE;
	dev->buckets = cfg->buckets;
	dev->bucket_mask = cfg->num_buckets - 1;
	for (uint32_t i = 0; i < cfg->num_buckets; i++)
		dev->buckets[i] = 0;
	dev->services = cfg->services;
	dev->num_services = cfg->services ? cfg->num_services : 0;
	for (uint32_t i = 0; i < dev->num_services; i++)
		dev->services[i].addr = RPK_ADDR_ANY;
	dev->ns_bind = cfg->ns_bind;
	dev->ns_priv = cfg->ns_priv;
	dev->recheck_ms = cfg->recheck_ms;
	dev->next_addr = RPK_RESERVED_ADDRESSES;
	return 0;
}
