/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The two roles behind one message path (implemented in role.c).
 *
 * Everything that differs between the master and the remote sits behind
 * struct rpk_rpmsg_role_ops: the master's (master.c) owns a buffer pool and
 * drives the rings (virtio driver half), the remote's (remote.c) uses the
 * master's buffers (device half). The message path (rpmsg.c) calls the
 * roles only through the table chosen at init, so it references neither;
 * each role's init entry point (rpk_rpmsg_init_master/_remote) references
 * only its own table, and a remote-only image links no master code.
 */
#ifndef RPK_SRC_RPMSG_ROLE_H
#define RPK_SRC_RPMSG_ROLE_H

#include <rpk/rpmsg.h>

struct rpk_out; /* dev.h */

struct rpk_rpmsg_role_ops {
	uint8_t role;	    /* enum rpk_role */
	uint8_t owns_rings; /* the rings carry our flags from init on (master) */
	/* The queue we receive on, and the one we send on. */
	int (*init_rx_vq)(struct rpk_vq *vq, const struct rpk_vq_cfg *cfg);
	int (*init_tx_vq)(struct rpk_vq *vq, const struct rpk_vq_cfg *cfg);

	/* The link's life, all locks held. start: the link comes up.
	 * reset: the peer is gone, both queues start over. */
	void (*start)(struct rpk_rpmsg *dev);
	void (*reset)(struct rpk_rpmsg *dev);
	/* Lay both rings out anew (RX and TX held, link down); NULL for a
	 * role whose rings are not its own. */
	void (*lay_out)(struct rpk_rpmsg *dev);

	/* Ask the peer to kick us when it fills vq (on), or not to; 1 if
	 * something is already waiting. */
	int (*want_kicks)(struct rpk_vq *vq, int on);
	/* Whether the peer wants a kick for what we gave it on vq. */
	int (*kick_wanted)(struct rpk_vq *vq);

	/* Receive, RX held. next_rx: 1 with *b set (va: the header; len:
	 * what the peer says the buffer holds, bounded by it); 0 none; < 0 error.
	 * recycle_rx: give a consumed buffer back. hold_rx: the callback kept
	 * it (NULL: nothing to record). rx_head: descriptor of a buffer held
	 * past its callback, or -1. */
	int (*next_rx)(struct rpk_rpmsg *dev, struct rpk_vq_buf *b);
	int (*recycle_rx)(struct rpk_rpmsg *dev, uint16_t head);
	void (*hold_rx)(struct rpk_rpmsg *dev, uint16_t head);
	int (*rx_head)(struct rpk_rpmsg *dev, const struct rpk_rpmsg_hdr *hdr);

	/* The common send in one call, TX held, the link up and not broken:
	 * take a free buffer, fill it (rpk_dev_fill), publish it, kick if the
	 * peer wants it. 0; -RPK_EAGAIN with nothing taken (the caller may
	 * wait, with the calls below); -RPK_EMSGSIZE (the buffer is kept for
	 * the next sender); -RPK_EPIPE. */
	int (*send)(struct rpk_rpmsg *dev, const struct rpk_out *m);

	/* Transmit, TX held. try_get_tx: one attempt at a buffer, 0 with
	 * *hdr, *head and *cap (payload bytes) set, or -RPK_EAGAIN /
	 * -RPK_EPIPE. post_tx: hand a filled buffer of total bytes to the
	 * peer. unget_tx: take an unsent one back. tx_head: descriptor of a
	 * buffer the caller holds, or -1. tx_room: its payload bytes. */
	int (*try_get_tx)(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr **hdr, uint16_t *head,
			  uint32_t *cap);
	int (*post_tx)(struct rpk_rpmsg *dev, uint16_t head, struct rpk_rpmsg_hdr *hdr,
		       uint32_t total);
	void (*unget_tx)(struct rpk_rpmsg *dev, uint16_t head);
	int (*tx_head)(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr *hdr);
	uint32_t (*tx_room)(struct rpk_rpmsg *dev, uint16_t head);
};

/*
 * What both roles' init does: check what both need of cfg, then set up dev
 * for ops (queues, tables, counters). The role's init checks its own part
 * of cfg first, and finishes the job (the master's pool) after.
 * Returns 0 or -RPK_EINVAL.
 */
int rpk_rpmsg_setup(struct rpk_rpmsg *dev, const struct rpk_rpmsg_cfg *cfg,
		    const struct rpk_rpmsg_role_ops *ops);

#endif
