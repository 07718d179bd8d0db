/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A static link's header (docs/static-links.md): what a link without
 * remoteproc keeps at the start of its "link" region, where a remoteproc link
 * has its resource table. Both sides take the link's layout from one
 * devicetree; the header says the remote is there, which devicetree each side
 * was built from, and carries the handshake in the format a resource table
 * gives it (seed 003: "keep it similar to resource table"):
 *
 *   offset  size  field          written by
 *   0x00    4     magic          remote   RPK_LINK_MAGIC, "RPKL" in memory
 *   0x04    4     version        remote   RPK_LINK_VERSION
 *   0x08    4     layout_hash    remote   rpk_layout_link_hash() of its devicetree
 *   0x0c    4     table_offset   remote   RPK_LINK_TABLE_OFFSET
 *   0x10    4     table_size     remote   RPK_LINK_TABLE_SIZE
 *   0x14    4     ring_ack       remote   symmetric links: the master's session
 *                                         the remote laid its send ring out for
 *   0x18    40    reserved       -        zero
 *   0x40    4     master_hash    master   its own devicetree's hash, at each attach
 *   0x44    60    reserved       -        zero
 *   0x80    0xc0  a resource table with one rpmsg vdev entry: its status byte
 *                 and feature words are the virtio handshake, as for a
 *                 remote that booted by itself
 *
 * Each side's words fill cache lines of their own (64 bytes): a side that
 * cleans its line never writes back a stale copy of the other's words.
 * Words are in the remote's byte order; a master of the other order sees a
 * magic it does not know and refuses the link by name. Freestanding: a boot
 * loader or an RTOS implements a static link with these calls.
 */
#ifndef RPK_LINK_HEADER_H
#define RPK_LINK_HEADER_H

#include <stdint.h>

#include <rpk/port.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RPK_LINK_MAGIC	      0x4c4b5052u /* "RPKL" little-endian */
#define RPK_LINK_VERSION      1u
#define RPK_LINK_TABLE_OFFSET 0x80u
#define RPK_LINK_TABLE_SIZE   0xc0u
/* The bytes of the region a static link's header takes. */
#define RPK_LINK_HEADER_BYTES (RPK_LINK_TABLE_OFFSET + RPK_LINK_TABLE_SIZE)

struct rpk_link_hdr {
	/* The remote's line. */
	uint32_t magic;
	uint32_t version;
	uint32_t layout_hash;
	uint32_t table_offset;
	uint32_t table_size;
	uint32_t ring_ack;
	uint32_t reserved[10];
	/* The master's line. */
	uint32_t master_hash;
	uint32_t master_reserved[15];
};

/*
 * Remote: write the header's words, the magic last (the table after it is
 * published with rpk_rsc_publish). A master's hash of before is cleared.
 */
void rpk_link_hdr_write(void *shared, uint32_t layout_hash, const struct rpk_port *port);

/*
 * Read the header once into *copy and check it: 0, -RPK_ENOENT (no magic:
 * no remote laid it out yet), -RPK_EPROTO (the magic byte-swapped: a remote
 * of the other byte order) or -RPK_ENOEXEC (another version, or a table
 * somewhere else than this version puts it).
 */
int rpk_link_hdr_read(const void *shared, struct rpk_link_hdr *copy, const struct rpk_port *port);

/* Master: say which devicetree it was built from (before DRIVER_OK). */
void rpk_link_hdr_set_master_hash(void *shared, uint32_t hash, const struct rpk_port *port);

/*
 * Remote of a symmetric link: its send ring is laid out anew for the
 * master's session (the master serves that ring as the device from index 0,
 * so it waits for this before DRIVER_OK).
 */
void rpk_link_hdr_set_ring_ack(void *shared, uint32_t session, const struct rpk_port *port);

#ifdef __cplusplus
}
#endif

#endif
