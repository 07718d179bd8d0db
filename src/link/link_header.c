/* SPDX-License-Identifier: BSD-3-Clause */
/* A static link's header: see include/rpk/link_header.h. */
#include <rpk/errno.h>
#include <rpk/link_header.h>

#include "common/byteorder.h"
#include "common/shm.h"

void rpk_link_hdr_write(void *shared, uint32_t layout_hash, const struct rpk_port *port)
{
	struct rpk_link_hdr *h = shared;

	/* Unpublished first: a master never pairs the words of two layouts. */
	__atomic_store_n(&h->magic, 0, __ATOMIC_RELEASE);
	shm_clean(port, &h->magic, sizeof(uint32_t));
	write_once32(&h->version, RPK_LINK_VERSION);
	write_once32(&h->layout_hash, layout_hash);
	write_once32(&h->table_offset, RPK_LINK_TABLE_OFFSET);
	write_once32(&h->table_size, RPK_LINK_TABLE_SIZE);
	write_once32(&h->ring_ack, 0);
	for (unsigned i = 0; i < sizeof(h->reserved) / sizeof(h->reserved[0]); i++)
		write_once32(&h->reserved[i], 0);
	/* A new remote: no master has said its devicetree yet. Before any
	 * master runs again, so no line of its is written back over this. */
	write_once32(&h->master_hash, 0);
	for (unsigned i = 0; i < sizeof(h->master_reserved) / sizeof(h->master_reserved[0]); i++)
		write_once32(&h->master_reserved[i], 0);
	shm_clean(port, h, sizeof(*h));
	/* The words above are visible before the magic that says they are whole. */
	__atomic_store_n(&h->magic, RPK_LINK_MAGIC, __ATOMIC_RELEASE);
	shm_clean(port, &h->magic, sizeof(uint32_t));
}

int rpk_link_hdr_read(const void *shared, struct rpk_link_hdr *copy, const struct rpk_port *port)
{
	const struct rpk_link_hdr *h = shared;

	shm_invalidate(port, h, sizeof(*h));
	copy->magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE); /* pairs with the write's */
	copy->version = read_once32(&h->version);
	copy->layout_hash = read_once32(&h->layout_hash);
	copy->table_offset = read_once32(&h->table_offset);
	copy->table_size = read_once32(&h->table_size);
	/* Pairs with the release in rpk_link_hdr_set_ring_ack(): the ring it
	 * acknowledges is read after it. */
	copy->ring_ack = __atomic_load_n(&h->ring_ack, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < sizeof(h->reserved) / sizeof(h->reserved[0]); i++)
		copy->reserved[i] = read_once32(&h->reserved[i]);
	copy->master_hash = read_once32(&h->master_hash);
	for (unsigned i = 0; i < sizeof(h->master_reserved) / sizeof(h->master_reserved[0]); i++)
		copy->master_reserved[i] = read_once32(&h->master_reserved[i]);
	if (copy->magic == swap32(RPK_LINK_MAGIC))
		return -RPK_EPROTO;
	if (copy->magic != RPK_LINK_MAGIC)
		return -RPK_ENOENT;
	if (copy->version != RPK_LINK_VERSION || copy->table_offset != RPK_LINK_TABLE_OFFSET ||
	    copy->table_size != RPK_LINK_TABLE_SIZE)
		return -RPK_ENOEXEC;
	return 0;
}

void rpk_link_hdr_set_master_hash(void *shared, uint32_t hash, const struct rpk_port *port)
{
	struct rpk_link_hdr *h = shared;

	write_once32(&h->master_hash, hash);
	shm_clean(port, &h->master_hash, sizeof(uint32_t));
}

void rpk_link_hdr_set_ring_ack(void *shared, uint32_t session, const struct rpk_port *port)
{
	struct rpk_link_hdr *h = shared;

	/* The ring's zeroed words are visible before the word that says so. */
	__atomic_store_n(&h->ring_ack, session, __ATOMIC_RELEASE);
	shm_clean(port, &h->ring_ack, sizeof(uint32_t));
}
