/* SPDX-License-Identifier: BSD-3-Clause */
/* What an rpmsg vdev's feature bits mean, in words. */
#include <stdio.h>

#include <rpk/virtio.h>

#include "rpk_tool.h"

const char *rpk_features_text(char *buf, size_t len, uint32_t features)
{
	int ns = !!(features & (1u << RPK_VIRTIO_RPMSG_F_NS));
	int ev = !!(features & (1u << RPK_VIRTIO_RING_F_EVENT_IDX));

	snprintf(buf, len, "%s%s%s%s%s", ns || ev ? " (" : "", ns ? "name service" : "",
		 ns && ev ? ", " : "", ev ? "event index" : "", ns || ev ? ")" : "");
	return buf;
}
