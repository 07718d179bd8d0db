/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Remoteproc resource table (Linux include/linux/remoteproc.h layout):
 * {ver=1, num, reserved[2], offset[num]} then entries starting with a u32 type.
 *
 * Every field is in the CPU's byte order, as in Linux (remoteproc tables are
 * native-endian): both sides of a link share one. A table written by a CPU
 * of the other order reads version 0x01000000 and is refused by name;
 * rpk_rsc_swap_copy() turns it into the CPU's order for tools that read one.
 *
 * Parsing works on a private copy: a table in shared memory is copied once
 * (rpk_rsc_snapshot) and the copy is validated, so the peer cannot change it
 * between check and use. Writes the master owes the remote (negotiated
 * features, status) go to the shared table at offsets the copy validated.
 */
#ifndef RPK_RSC_TABLE_H
#define RPK_RSC_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include <rpk/port.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RPK_RSC_CARVEOUT     0u
#define RPK_RSC_DEVMEM	     1u
#define RPK_RSC_TRACE	     2u
#define RPK_RSC_VDEV	     3u
#define RPK_RSC_VENDOR_START 128u
#define RPK_RSC_VENDOR_END   512u /* exclusive */
#define RPK_FW_RSC_ADDR_ANY  0xffffffffu
#define RPK_RSC_NAME_SIZE    32u

struct rpk_rsc_table_hdr {
	uint32_t ver;
	uint32_t num;
	uint32_t reserved[2];
	uint32_t offset[];
};

/* carveout and devmem share this layout */
struct rpk_fw_rsc_carveout {
	uint32_t type;
	uint32_t da;
	uint32_t pa;
	uint32_t len;
	uint32_t flags;
	uint32_t reserved;
	char name[RPK_RSC_NAME_SIZE];
};

struct rpk_fw_rsc_trace {
	uint32_t type;
	uint32_t da;
	uint32_t len;
	uint32_t reserved;
	char name[RPK_RSC_NAME_SIZE];
};

struct rpk_fw_rsc_vdev_vring {
	uint32_t da;
	uint32_t align;
	uint32_t num;
	uint32_t notifyid;
	uint32_t pa;
};

struct rpk_fw_rsc_vdev {
	uint32_t type;
	uint32_t id;
	uint32_t notifyid;
	uint32_t dfeatures;
	uint32_t gfeatures;
	uint32_t config_len;
	uint8_t status;
	uint8_t num_of_vrings;
	uint8_t reserved[2];
	struct rpk_fw_rsc_vdev_vring vring[];
	/* then config_len bytes of config space */
};

/* What a validation found wrong: the entry index (-1: the header) and why. */
struct rpk_rsc_problem {
	int entry;
	const char *what;
};

/*
 * Check a whole table of size bytes: version, entry count, every offset
 * (aligned, inside the table, entries not overlapping the offset array),
 * every entry's fixed part and variable part (vrings, config space) inside
 * the table, names NUL-terminated. Vendor entries (128..511) are opaque;
 * unknown types are accepted (Linux skips them) and reported by type.
 * Returns the number of entries or -RPK_ENOEXEC with *why filled (if given).
 */
int rpk_rsc_validate(const void *table, size_t size, struct rpk_rsc_problem *why);

/* Entry i of a validated table and its type; NULL if i is out of range. */
const void *rpk_rsc_entry(const void *table, uint32_t i, uint32_t *type);

/* Bytes from entry i to the end of its space (the next entry or the end). */
size_t rpk_rsc_entry_space(const void *table, size_t size, uint32_t i);

/* Printable name of a resource type ("carveout", "vdev", "vendor", "unknown"). */
const char *rpk_rsc_type_name(uint32_t type);

/*
 * Copy a shared table into private memory, once (with a cache invalidate
 * first). Returns 0 or -RPK_EINVAL if cap < size.
 */
int rpk_rsc_snapshot(void *copy, size_t cap, const void *shared, size_t size,
		     const struct rpk_port *port);

/*
 * Remote, self-boot: put a built table into the shared region where the
 * master looks for it (zeroing the rest of its size), so that a master never
 * sees half a table: the version word is cleared first and written last.
 * Returns 0 or -RPK_EINVAL if the table does not fit.
 */
int rpk_rsc_publish(void *shared, size_t shared_size, const void *table, size_t size,
		    const struct rpk_port *port);

/* Master: true once a table has been published at shared. */
int rpk_rsc_is_published(const void *shared, const struct rpk_port *port);

/* Master: true if the table published at shared is in the other byte order
 * (its version word reads 1 byte-swapped): a remote of another CPU, which
 * no master can serve (a misconfigured simulation; a chip has one order). */
int rpk_rsc_is_byte_swapped(const void *shared, const struct rpk_port *port);

/*
 * For tools: copy a table of size bytes written by a CPU of the other byte
 * order (version word 0x01000000) into dst, every field of the header and of
 * carveout, devmem, trace and vdev entries (with its vrings) turned into the
 * CPU's order; names, config space and the words of vendor and unknown
 * entries are copied as they are (their layout is not known). The source is
 * untrusted: only words inside size are touched, and the copy must still
 * pass rpk_rsc_validate(). Returns 0, or -RPK_ENOEXEC if src is not a table
 * of the other byte order (dst is then untouched).
 */
int rpk_rsc_swap_copy(void *dst, const void *src, size_t size);

/* ---- building a table ---- */

struct rpk_rsc_builder {
	uint8_t *buf;
	size_t cap;
	size_t used;
	uint32_t max;
	uint32_t num;
	int err;
};

/* Start a table in buf with room for max_entries offsets. */
void rpk_rsc_build_init(struct rpk_rsc_builder *b, void *buf, size_t cap, uint32_t max_entries);

struct rpk_fw_rsc_carveout *rpk_rsc_add_carveout(struct rpk_rsc_builder *b, uint32_t type,
						 uint32_t da, uint32_t pa, uint32_t len,
						 uint32_t flags, const char *name);
struct rpk_fw_rsc_trace *rpk_rsc_add_trace(struct rpk_rsc_builder *b, uint32_t da, uint32_t len,
					   const char *name);
/* Vrings follow the returned entry; fill them with rpk_rsc_vdev_set_vring. */
struct rpk_fw_rsc_vdev *rpk_rsc_add_vdev(struct rpk_rsc_builder *b, uint32_t id, uint32_t notifyid,
					 uint32_t dfeatures, uint8_t num_vrings,
					 uint32_t config_len);
void rpk_rsc_vdev_set_vring(struct rpk_fw_rsc_vdev *vdev, uint8_t i, uint32_t da, uint32_t align,
			    uint32_t num, uint32_t notifyid);
/* A vendor entry: type in [128, 512), len bytes after the type word. */
void *rpk_rsc_add_vendor(struct rpk_rsc_builder *b, uint32_t type, uint32_t len);

/*
 * Close the table: drop unused offset slots. Returns its size in bytes, or
 * -RPK_ENOMEM if an add ran out of room (every add after that is ignored).
 */
int rpk_rsc_build_finish(struct rpk_rsc_builder *b);

/* ---- auto-boot: what the firmware leaves to the master ---- */

/*
 * Find room for an entry left at RPK_FW_RSC_ADDR_ANY: len bytes aligned to
 * align, for a carveout (vring -1, index its entry) or for vring `vring` of
 * the vdev at entry index. Returns the device address, or
 * RPK_FW_RSC_ADDR_ANY if there is none.
 */
typedef uint32_t (*rpk_rsc_alloc_cb)(void *priv, uint32_t index, int vring, uint32_t len,
				     uint32_t align);

/*
 * Master, before starting a firmware (Linux's rproc_handle_resources): give
 * every carveout and vring at RPK_FW_RSC_ADDR_ANY an address from alloc
 * (a carveout also gets it as its pa), and number every vring's notify id
 * in table order from 0. The table must have passed rpk_rsc_validate().
 * Returns 0, or -RPK_ENOMEM (an allocation failed) or -RPK_ENOEXEC (a
 * vring of no valid size) with *why naming the entry.
 */
int rpk_rsc_assign(void *table, rpk_rsc_alloc_cb alloc, void *priv, struct rpk_rsc_problem *why);

/* ---- the vdev status handshake ---- */

/* Index of the first vdev entry with this virtio id in a validated table, or -RPK_ENOENT. */
int rpk_rsc_find_vdev(const void *table, uint32_t id);

/* Remote: read the vdev status the master writes (invalidates first). */
uint8_t rpk_vdev_read_status(const struct rpk_fw_rsc_vdev *shared, const struct rpk_port *port);
/* Remote: read the features the master accepted. */
uint32_t rpk_vdev_read_gfeatures(const struct rpk_fw_rsc_vdev *shared, const struct rpk_port *port);
/* Master: write accepted features, then status (release order: features first). */
void rpk_vdev_write_gfeatures(struct rpk_fw_rsc_vdev *shared, uint32_t features,
			      const struct rpk_port *port);
void rpk_vdev_write_status(struct rpk_fw_rsc_vdev *shared, uint8_t status,
			   const struct rpk_port *port);

#ifdef __cplusplus
}
#endif

#endif
