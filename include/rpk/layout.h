/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A link's layout, read from a devicetree (the binding: docs/bindings/):
 * reserved-memory regions, shared-memory mailboxes, and one node per side of
 * the link naming its role, its regions and its doorbells. A devicetree may
 * describe many links: the processors (rpk,processor nodes) whose children
 * are their links' sides.
 */
#ifndef RPK_LAYOUT_H
#define RPK_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include <rpk/rpmsg.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RPK_LAYOUT_MAX_REGIONS	32
#define RPK_LAYOUT_MAX_NODES	16
#define RPK_LAYOUT_MAX_SERVICES 8
#define RPK_LAYOUT_PATH		128
#define RPK_LAYOUT_MAX_DEVICES	8

struct rpk_region {
	char name[64]; /* node name, e.g. "vdev0vring0@200c8000" */
	char path[RPK_LAYOUT_PATH];
	uint32_t phandle;
	uint64_t da;
	uint64_t size;
	int is_mailbox;
	int has_rsc;
	uint32_t rsc_offset; /* resource table inside the region */
	uint32_t rsc_size;
	uint32_t trace_offset; /* the remote's trace buffer, after the table */
	uint32_t trace_size;   /* 0: none (rpk,trace-size) */
};

/* How an endpoint device a devicetree names delivers what it received
 * (docs/chardev.md): one read per message, as Linux's /dev/rpmsgN, or a byte
 * stream where a read takes what has arrived, as seed 004's misc devices. */
enum rpk_dev_mode { RPK_DEV_MESSAGE, RPK_DEV_STREAM };

/*
 * Seed 004's channel (channel-index, channel-src, channel-dst, channel-name,
 * misc-dev-endpoints, rpk,misc-dev-mode): the endpoint devices `rpk up`
 * makes at start, one per misc endpoint, named rpmsg<index>_<endpoint>.
 * Each receives at its endpoint number and sends from channel-src to the
 * peer's same endpoint number.
 */
struct rpk_layout_channel {
	int present;
	uint32_t index;
	uint32_t src, dst; /* the channel's own addresses (RPK_ADDR_ANY: not given) */
	char name[RPK_NAME_SIZE];
	uint32_t misc[RPK_LAYOUT_MAX_DEVICES];
	enum rpk_dev_mode misc_mode[RPK_LAYOUT_MAX_DEVICES];
	int num_misc;
	/* eth-dev-endpoints: network interfaces rpmsg<index>_<endpoint>, one
	 * Ethernet frame per message (docs/netdev.md). */
	uint32_t eth[RPK_LAYOUT_MAX_DEVICES];
	int num_eth;
};

/* RPK_REG_RSC is the region of the resource table, or of a static link's
 * header (the region named "link": <rpk/link_header.h>). */
enum rpk_region_role { RPK_REG_RSC, RPK_REG_VRING0, RPK_REG_VRING1, RPK_REG_BUFFER, RPK_REG_COUNT };

struct rpk_layout_node {
	/* The node's name; a side under an rpk,processor node is "PROC/LINK"
	 * ("a/to-b"), since link names repeat from one processor to the next. */
	char name[64];
	char path[RPK_LAYOUT_PATH];
	enum rpk_role role;
	int region[RPK_REG_COUNT]; /* index into rpk_layout.regions */
	int mailbox;		   /* index into rpk_layout.regions */
	int firmware;		   /* region firmware loads into (rpk,firmware-region), or -1 */
	uint32_t tx_chan;	   /* doorbell we ring */
	uint32_t rx_chan;	   /* doorbell the peer rings */
	uint32_t vring_num;	   /* 0: take it from the resource table */
	uint32_t vring_align;
	/* rpk,buf-size: bytes per buffer, header included; RPK_RPMSG_BUF_SIZE
	 * (Linux's 512) unless the devicetree gives more, up to
	 * RPK_LAYOUT_MAX_BUF_SIZE, between rpmsg-kit peers only. */
	uint32_t buf_size;
	/* rpk,cached: this side sees the shared memory through a write-back
	 * data cache (on the host: the simulated one). */
	int cached;
	/* A static link (its regions name a "link" instead of a "rsc-table"):
	 * no remoteproc, both sides take the layout from the devicetree and
	 * meet in a link header (docs/static-links.md). */
	int static_link;
	/* rpk,buffers: who owns the buffers. Classic: the master, for both
	 * directions, in the one "buffer" region both sides name. Symmetric
	 * (a static link's sides, seed 003's solution 2): each side its send
	 * buffers, in its own "buffer" region; peer_buffer is the other side's
	 * (an index into rpk_layout.regions; -1 for a classic link). */
	enum rpk_buffers { RPK_BUFFERS_CLASSIC, RPK_BUFFERS_SYMMETRIC } buffers;
	int peer_buffer;
	char services[RPK_LAYOUT_MAX_SERVICES][RPK_NAME_SIZE];
	int num_services;
	struct rpk_layout_channel channel;
};

/*
 * A processor: an rpk,processor node and the link sides that are its
 * children, or a link node under no processor, which is a processor of its
 * own (its name, its path, that one link). `rpk up --processor` runs one
 * process per processor.
 */
struct rpk_layout_processor {
	char name[64]; /* unique in the layout */
	char path[RPK_LAYOUT_PATH];
	int links[RPK_LAYOUT_MAX_NODES]; /* its link sides: indices into rpk_layout.nodes */
	int num_links;
};

struct rpk_layout {
	struct rpk_region regions[RPK_LAYOUT_MAX_REGIONS];
	int num_regions;
	struct rpk_layout_node nodes[RPK_LAYOUT_MAX_NODES];
	int num_nodes;
	/* Every node is a link side of exactly one processor, in the order of
	 * the devicetree. */
	struct rpk_layout_processor processors[RPK_LAYOUT_MAX_NODES];
	int num_processors;
};

/*
 * Load a .dts (compiled with dtc) or .dtb and check it. On failure returns a
 * negative error and writes one line per problem, each starting with the
 * offending node's path, into err.
 */
int rpk_layout_load(const char *path, struct rpk_layout *lay, char *err, size_t errlen);
int rpk_layout_from_fdt(const void *fdt, size_t size, struct rpk_layout *lay, char *err,
			size_t errlen);

const struct rpk_layout_node *rpk_layout_find(const struct rpk_layout *lay, const char *name);
const struct rpk_layout_processor *rpk_layout_find_processor(const struct rpk_layout *lay,
							     const char *name);
/* The other side of n's link (the node that shares a region with it), or NULL. */
const struct rpk_layout_node *rpk_layout_peer(const struct rpk_layout *lay,
					      const struct rpk_layout_node *n);
/* A node's name as shared-memory object names carry it: a nested side's
 * "PROC/LINK" as "PROC:LINK" (an object's name takes no '/' but its first,
 * and ':' is in no devicetree node name, so no two nodes meet). Returns buf. */
const char *rpk_layout_object_name(char *buf, size_t len, const char *node);

/* Bytes of buffer pool a ring of num entries needs (Linux: 2 * min(num, 256) * 512). */
uint64_t rpk_layout_pool_size(uint32_t num);
/* The same for buffers of buf_size bytes (rpk_layout_node.buf_size). */
uint64_t rpk_layout_pool_size_of(uint32_t num, uint32_t buf_size);
/* Bytes n's own "buffer" region needs for rings of num entries: both
 * directions' buffers (classic), or only its sends' (symmetric). */
uint64_t rpk_layout_own_pool_size(const struct rpk_layout_node *n, uint32_t num);

/*
 * What both sides of n's link must agree on, hashed (32-bit FNV-1a): its
 * regions' places and sizes, rings, buffers and doorbells, the same number
 * from either side's node of one devicetree. A static link's two sides
 * compare it, so sides built from different devicetrees refuse each other.
 */
uint32_t rpk_layout_link_hash(const struct rpk_layout *lay, const struct rpk_layout_node *n);

/* The largest rpk,buf-size: 64 KiB, a 16-bit payload length and its header. */
#define RPK_LAYOUT_MAX_BUF_SIZE 65536u
/* rpk,buf-size is a multiple of this: whole cache lines on any CPU we know. */
#define RPK_LAYOUT_BUF_ALIGN 64u

#ifdef __cplusplus
}
#endif

#endif
