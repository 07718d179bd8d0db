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

#include "rpmsg/tap.h"

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

/* A message to send, as the caller gave it (its length checked). */
struct rpk_out {
	uint32_t src, dst;
	const void *data;
	uint32_t len;
};

/* Write the header of a filled transmit buffer, and show the message to the
 * tap before the peer can see it: its answer is traced after the question. */
static inline void rpk_dev_seal(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr *hdr, uint32_t src,
				uint32_t dst, size_t len)
{
	rpk_tap_cb tap;

	hdr->src = src;
	hdr->dst = dst;
	hdr->reserved = 0;
	hdr->len = (uint16_t)len;
	hdr->flags = 0;
	tap = __atomic_load_n(&dev->tap, __ATOMIC_ACQUIRE);
	if (tap)
		rpk_tap_tx(dev, tap, hdr, src, dst, len);
}

/* Copy message m into a transmit buffer with room for it, and seal it. */
static inline void rpk_dev_fill(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr *hdr,
				const struct rpk_out *m)
{
	if (m->len) /* data may be NULL for an empty message */
		__builtin_memcpy(hdr + 1, m->data, m->len);
	rpk_dev_seal(dev, hdr, m->src, m->dst, m->len);
}

#endif
