/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small helpers over struct rpk_rpmsg that every file of src/rpmsg uses:
 * the port's locks, the link state, the doorbell. Inline only, so this
 * header belongs to no .c file and ties none together.
 *
 * Lock order: RX, then EPT, then TX. Receive callbacks run under RX and EPT.
 */
#ifndef RPK_SRC_RPMSG_DEV_H
#define RPK_SRC_RPMSG_DEV_H

#include <rpk/rpmsg.h>

/* Behind one flag set at init: a single-threaded port pays a byte test. */
static inline void rpk_dev_lock(struct rpk_rpmsg *dev, enum rpk_lock which)
{
	if (dev->locking)
		dev->port->ops->lock(dev->port->ctx, which);
}

static inline void rpk_dev_unlock(struct rpk_rpmsg *dev, enum rpk_lock which)
{
	if (dev->locking)
		dev->port->ops->unlock(dev->port->ctx, which);
}

/* Written under every lock, read without one. */
static inline int rpk_dev_link_up(const struct rpk_rpmsg *dev)
{
	return __atomic_load_n(&dev->up, __ATOMIC_ACQUIRE);
}

/* Ring the peer's doorbell for vq. Each counter belongs to one lock: TX for
 * the send queue, RX otherwise. */
static inline void rpk_dev_kick(struct rpk_rpmsg *dev, struct rpk_vq *vq)
{
	rpk_vq_notify(vq);
	if (vq == dev->svq)
		dev->stats.tx_kicks++;
	else
		dev->stats.rx_kicks++;
}

#endif
