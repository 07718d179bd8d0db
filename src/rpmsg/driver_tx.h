/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sending from buffers of our own (implemented in driver_tx.c): the send
 * queue driven as the virtio driver, buffer i of the send pool tied to
 * descriptor i. The master sends this way (master.c), and so does each side
 * of a symmetric link (symmetric.c). Called with TX held.
 */
#ifndef RPK_SRC_RPMSG_DRIVER_TX_H
#define RPK_SRC_RPMSG_DRIVER_TX_H

#include <rpk/rpmsg.h>

struct rpk_out; /* dev.h */

/* Descriptor of a pool buffer of half that vq holds RESERVED (ours), or -1. */
int rpk_pool_kept_head(struct rpk_rpmsg *dev, struct rpk_vq *vq, const void *hdr, const char *half);

/* Take back every send buffer the peer has consumed. */
void rpk_drvtx_reclaim(struct rpk_rpmsg *dev);

/* The role ops of struct rpk_rpmsg_role_ops for sending (role.h). */
int rpk_drvtx_try_get(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr **hdr, uint16_t *head,
		      uint32_t *cap);
int rpk_drvtx_send(struct rpk_rpmsg *dev, const struct rpk_out *m);
int rpk_drvtx_post(struct rpk_rpmsg *dev, uint16_t head, struct rpk_rpmsg_hdr *hdr, uint32_t total);
void rpk_drvtx_unget(struct rpk_rpmsg *dev, uint16_t head);
int rpk_drvtx_head(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr *hdr);
uint32_t rpk_drvtx_room(struct rpk_rpmsg *dev, uint16_t head);

/*
 * The peer is gone: what it consumed comes back, what it never did is
 * counted lost and marked; rpk_drvtx_free_lost() frees the marked ones
 * once the ring is laid out anew.
 */
void rpk_drvtx_drop_posted(struct rpk_rpmsg *dev);
void rpk_drvtx_free_lost(struct rpk_rpmsg *dev);

/* Tie descriptor i of the send queue to buffer i: the first nbufs free. */
void rpk_drvtx_init_pool(struct rpk_rpmsg *dev);

#endif
