/* SPDX-License-Identifier: BSD-3-Clause */
/* The tap (rpk_rpmsg_set_tap), and the messages shown to it: see tap.h. */
#include <rpk/rpmsg.h>

#include "common/shm.h"
#include "rpmsg/tap.h"

void rpk_rpmsg_set_tap(struct rpk_rpmsg *dev, rpk_tap_cb cb, void *ctx)
{
	if (cb)
		dev->tap_ctx = ctx; /* published by the release below */
	__atomic_store_n(&dev->tap, cb, __ATOMIC_RELEASE);
}

void rpk_tap_rx(struct rpk_rpmsg *dev, rpk_tap_cb cb, struct rpk_rpmsg_hdr *hdr, uint32_t src,
		uint32_t dst, uint16_t len)
{
	struct rpk_tap_msg m = {.src = src,
				.dst = dst,
				.reserved = read_once32(&hdr->reserved),
				.len = len,
				.flags = read_once16(&hdr->flags),
				.data = hdr + 1,
				.dir = RPK_TAP_RX};

	cb(dev->tap_ctx, &m);
}

void rpk_tap_tx(struct rpk_rpmsg *dev, rpk_tap_cb cb, struct rpk_rpmsg_hdr *hdr, uint32_t src,
		uint32_t dst, size_t len)
{
	struct rpk_tap_msg m = {
	    .src = src, .dst = dst, .len = (uint16_t)len, .data = hdr + 1, .dir = RPK_TAP_TX};

	cb(dev->tap_ctx, &m);
}
