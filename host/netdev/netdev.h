/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A network interface per channel endpoint (`rpk up`, seed 004's
 * eth-dev-endpoints, docs/netdev.md): a TAP device rpmsg<channel>_<endpoint>
 * that carries one whole Ethernet frame per message, no header of its own,
 * as the out-of-tree Linux rpmsg Ethernet drivers do. MTU: the payload less
 * the Ethernet header (482 with 512-byte buffers); carrier only while the
 * link is up. Used by the rpk tool; not part of the library.
 */
#ifndef RPK_NETDEV_H
#define RPK_NETDEV_H

#include <stddef.h>
#include <stdint.h>

#include <rpk/node.h>

struct rpk_netdev;

/* What it counted besides the interface's own counters (ip -s link). */
struct rpk_netdev_counts {
	uint64_t tx_dropped; /* frames the interface gave us that could not be sent */
	uint64_t rx_dropped; /* messages that could not be written to the interface */
	uint64_t hellos;     /* messages shorter than a frame header: discarded */
};

/*
 * Create the interface for endpoint ept of the node's channel, and its
 * endpoint: it receives at ept and sends from send_src to the peer's ept. A
 * master says hello (a message shorter than a frame, which the remote
 * discards: the convention by which a Linux remote learns its address) each
 * time the link comes up. Needs CAP_NET_ADMIN and /dev/net/tun. Returns 0 or
 * a negative RPK_E* error with a message in err.
 */
int rpk_netdev_open(struct rpk_netdev **out, struct rpk_node *n, uint32_t channel, uint32_t ept,
		    uint32_t send_src, char *err, size_t errlen);
const char *rpk_netdev_name(const struct rpk_netdev *nd);
void rpk_netdev_counts(struct rpk_netdev *nd, struct rpk_netdev_counts *c);
/* Stop its thread, destroy the endpoint and the interface. NULL is fine. */
void rpk_netdev_close(struct rpk_netdev *nd);

#endif
