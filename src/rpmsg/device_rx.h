/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receiving in the peer's buffers (implemented in device_rx.c): the receive
 * queue served as the virtio device, taking filled buffers from the avail
 * ring and giving them back through the used ring. The remote receives this
 * way (remote.c), and so does each side of a symmetric link (symmetric.c).
 * Called with RX held.
 */
#ifndef RPK_SRC_RPMSG_DEVICE_RX_H
#define RPK_SRC_RPMSG_DEVICE_RX_H

#include <rpk/rpmsg.h>

/* The role ops of struct rpk_rpmsg_role_ops for receiving (role.h). */
int rpk_devrx_next(struct rpk_rpmsg *dev, struct rpk_vq_buf *b);
int rpk_devrx_recycle(struct rpk_rpmsg *dev, uint16_t head);
int rpk_devrx_head(struct rpk_rpmsg *dev, const struct rpk_rpmsg_hdr *hdr);

/* Ask the driver of vq to kick us when it fills it (on), or not to. */
int rpk_devrx_want_kicks(struct rpk_vq *vq, int on);

#endif
