/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a message looks like to the tap (rpk_rpmsg_set_tap), built only when
 * one is set: the callers load dev->tap once (acquire: it publishes tap_ctx)
 * and come here, out of their way, when it is not NULL. Implemented in tap.c.
 */
#ifndef RPK_SRC_RPMSG_TAP_H
#define RPK_SRC_RPMSG_TAP_H

#include <rpk/rpmsg.h>

/* A received message: src, dst and len as the receive path read and checked
 * them; the rest is read once, for the trace alone. */
void rpk_tap_rx(struct rpk_rpmsg *dev, rpk_tap_cb cb, struct rpk_rpmsg_hdr *hdr, uint32_t src,
		uint32_t dst, uint16_t len);

/* A message about to be published (our own buffer, filled). */
void rpk_tap_tx(struct rpk_rpmsg *dev, rpk_tap_cb cb, struct rpk_rpmsg_hdr *hdr, uint32_t src,
		uint32_t dst, size_t len);

#endif
