/* SPDX-License-Identifier: BSD-3-Clause */
#include <rpk/errno.h>
#include <rpk/rsc_table.h>
#include <rpk/virtio.h>

#include "common/byteorder.h"
#include "common/shm.h"

_Static_assert(sizeof(struct rpk_rsc_table_hdr) == 16, "table header");
_Static_assert(sizeof(struct rpk_fw_rsc_carveout) == 56, "carveout entry");
_Static_assert(sizeof(struct rpk_fw_rsc_trace) == 48, "trace entry");
_Static_assert(sizeof(struct rpk_fw_rsc_vdev) == 28, "vdev entry");
_Static_assert(sizeof(struct rpk_fw_rsc_vdev_vring) == 20, "vdev vring");

static int problem(struct rpk_rsc_problem *why, int entry, const char *what)
{
	if (why) {
		why->entry = entry;
		why->what = what;
	}
	return -RPK_ENOEXEC;
}

static int name_terminated(const char *name)
{
	for (uint32_t i = 0; i < RPK_RSC_NAME_SIZE; i++)
		if (!name[i])
			return 1;
	return 0;
}

/* Check entry i at off, which has room bytes up to the table's end. */
static int check_entry(const uint8_t *t, uint32_t off, size_t room, int i,
		       struct rpk_rsc_problem *why)
{
	const void *e = t + off;
	uint32_t type = *(const uint32_t *)e;

	switch (type) {
	case RPK_RSC_CARVEOUT:
	case RPK_RSC_DEVMEM:
		if (room < sizeof(struct rpk_fw_rsc_carveout))
			return problem(why, i, "carveout/devmem entry runs past the table");
		if (!name_terminated(((const struct rpk_fw_rsc_carveout *)e)->name))
			return problem(why, i, "name is not NUL-terminated");
		return 0;
	case RPK_RSC_TRACE:
		if (room < sizeof(struct rpk_fw_rsc_trace))
			return problem(why, i, "trace entry runs past the table");
		if (!name_terminated(((const struct rpk_fw_rsc_trace *)e)->name))
			return problem(why, i, "name is not NUL-terminated");
		return 0;
	case RPK_RSC_VDEV: {
		const struct rpk_fw_rsc_vdev *v = e;
		uint64_t need;

		if (room < sizeof(*v))
			return problem(why, i, "vdev entry runs past the table");
		need = sizeof(*v) + (uint64_t)v->num_of_vrings * sizeof(v->vring[0]) +
		       (uint64_t)v->config_len;
		if (need > room)
			return problem(why, i, "vdev vrings or config space run past the table");
		return 0;
	}
	default:
		return 0; /* vendor or unknown: opaque */
	}
}

int rpk_rsc_validate(const void *table, size_t size, struct rpk_rsc_problem *why)
{
	const struct rpk_rsc_table_hdr *h = table;
	const uint8_t *t = table;
	size_t first;

	if (!table || size < sizeof(*h))
		return problem(why, -1, "table smaller than its header");
	if ((uintptr_t)table & 3u)
		return problem(why, -1, "table not 4-byte aligned");
	if (h->ver == swap32(1))
		return problem(
		    why, -1,
		    cpu_big_endian()
			? "the table is little-endian and this CPU big-endian (its version "
			  "word reads 0x01000000): both sides of a link must share a byte order"
			: "the table is big-endian and this CPU little-endian (its version "
			  "word reads 0x01000000): both sides of a link must share a byte order");
	if (h->ver != 1)
		return problem(why, -1, "unsupported version (expected 1)");
	if (h->num > (size - sizeof(*h)) / sizeof(uint32_t))
		return problem(why, -1, "entry count does not fit the table");
	first = sizeof(*h) + (size_t)h->num * sizeof(uint32_t);
	for (uint32_t i = 0; i < h->num; i++) {
		uint32_t off = h->offset[i];
		int err;

		if (off & 3u)
			return problem(why, (int)i, "offset not 4-byte aligned");
		if (off < first || off > size - sizeof(uint32_t))
			return problem(why, (int)i, "offset outside the table's entry area");
		err = check_entry(t, off, size - off, (int)i, why);
		if (err)
			return err;
	}
	return (int)h->num;
}

const void *rpk_rsc_entry(const void *table, uint32_t i, uint32_t *type)
{
	const struct rpk_rsc_table_hdr *h = table;
	const uint8_t *e;

	if (i >= h->num)
		return 0;
	e = (const uint8_t *)table + h->offset[i];
	if (type)
		*type = *(const uint32_t *)(const void *)e;
	return e;
}

size_t rpk_rsc_entry_space(const void *table, size_t size, uint32_t i)
{
	const struct rpk_rsc_table_hdr *h = table;
	uint32_t off, end = (uint32_t)size;

	if (i >= h->num)
		return 0;
	off = h->offset[i];
	for (uint32_t j = 0; j < h->num; j++)
		if (h->offset[j] > off && h->offset[j] < end)
			end = h->offset[j];
	return end - off;
}

const char *rpk_rsc_type_name(uint32_t type)
{
	switch (type) {
	case RPK_RSC_CARVEOUT:
		return "carveout";
	case RPK_RSC_DEVMEM:
		return "devmem";
	case RPK_RSC_TRACE:
		return "trace";
	case RPK_RSC_VDEV:
		return "vdev";
	default:
		if (type >= RPK_RSC_VENDOR_START && type < RPK_RSC_VENDOR_END)
			return "vendor";
		return "unknown";
	}
}

int rpk_rsc_snapshot(void *copy, size_t cap, const void *shared, size_t size,
		     const struct rpk_port *port)
{
	if (cap < size)
		return -RPK_EINVAL;
	shm_invalidate(port, shared, size);
	__builtin_memcpy(copy, shared, size);
	return 0;
}

int rpk_rsc_publish(void *shared, size_t shared_size, const void *table, size_t size,
		    const struct rpk_port *port)
{
	struct rpk_rsc_table_hdr *h = shared;
	uint8_t *body = (uint8_t *)shared + sizeof(uint32_t);

	if (size < sizeof(*h) || size > shared_size)
		return -RPK_EINVAL;
	__atomic_store_n(&h->ver, 0, __ATOMIC_RELEASE);
	shm_clean(port, &h->ver, sizeof(uint32_t));
	__builtin_memcpy(body, (const uint8_t *)table + sizeof(uint32_t), size - sizeof(uint32_t));
	__builtin_memset((uint8_t *)shared + size, 0, shared_size - size);
	shm_clean(port, body, shared_size - sizeof(uint32_t));
	/* The body is visible before the version that says it is complete. */
	__atomic_store_n(&h->ver, ((const struct rpk_rsc_table_hdr *)table)->ver, __ATOMIC_RELEASE);
	shm_clean(port, &h->ver, sizeof(uint32_t));
	return 0;
}

int rpk_rsc_is_published(const void *shared, const struct rpk_port *port)
{
	const struct rpk_rsc_table_hdr *h = shared;

	shm_invalidate(port, &h->ver, sizeof(uint32_t));
	return __atomic_load_n(&h->ver, __ATOMIC_ACQUIRE) != 0;
}

int rpk_rsc_is_byte_swapped(const void *shared, const struct rpk_port *port)
{
	const struct rpk_rsc_table_hdr *h = shared;

	shm_invalidate(port, &h->ver, sizeof(uint32_t));
	return __atomic_load_n(&h->ver, __ATOMIC_ACQUIRE) == swap32(1);
}

/* ---- builder ---- */

void rpk_rsc_build_init(struct rpk_rsc_builder *b, void *buf, size_t cap, uint32_t max_entries)
{
	size_t hdr = sizeof(struct rpk_rsc_table_hdr) + (size_t)max_entries * sizeof(uint32_t);

	b->buf = buf;
	b->cap = cap;
	b->max = max_entries;
	b->num = 0;
	b->used = hdr;
	b->err = 0;
	if (!buf || hdr > cap || max_entries > 0xffffu) {
		b->err = -RPK_ENOMEM;
		return;
	}
	__builtin_memset(buf, 0, cap);
	((struct rpk_rsc_table_hdr *)buf)->ver = 1;
}

/* Reserve len bytes (rounded to 4) for an entry of this type. */
static void *add_entry(struct rpk_rsc_builder *b, uint32_t type, size_t len)
{
	struct rpk_rsc_table_hdr *h = (struct rpk_rsc_table_hdr *)b->buf;
	uint8_t *e;

	len = (len + 3u) & ~(size_t)3u;
	if (b->err || b->num == b->max || len > b->cap - b->used) {
		b->err = -RPK_ENOMEM;
		return 0;
	}
	e = b->buf + b->used;
	h->offset[b->num++] = (uint32_t)b->used;
	h->num = b->num;
	b->used += len;
	*(uint32_t *)(void *)e = type;
	return e;
}

static void copy_name(char *dst, const char *src)
{
	for (uint32_t i = 0; src && i < RPK_RSC_NAME_SIZE - 1 && src[i]; i++)
		dst[i] = src[i];
}

struct rpk_fw_rsc_carveout *rpk_rsc_add_carveout(struct rpk_rsc_builder *b, uint32_t type,
						 uint32_t da, uint32_t pa, uint32_t len,
						 uint32_t flags, const char *name)
{
	struct rpk_fw_rsc_carveout *c;

	if (type != RPK_RSC_CARVEOUT && type != RPK_RSC_DEVMEM)
		return 0;
	c = add_entry(b, type, sizeof(*c));
	if (c) {
		c->da = da;
		c->pa = pa;
		c->len = len;
		c->flags = flags;
		copy_name(c->name, name);
	}
	return c;
}

struct rpk_fw_rsc_trace *rpk_rsc_add_trace(struct rpk_rsc_builder *b, uint32_t da, uint32_t len,
					   const char *name)
{
	struct rpk_fw_rsc_trace *t = add_entry(b, RPK_RSC_TRACE, sizeof(*t));

	if (t) {
		t->da = da;
		t->len = len;
		copy_name(t->name, name);
	}
	return t;
}

struct rpk_fw_rsc_vdev *rpk_rsc_add_vdev(struct rpk_rsc_builder *b, uint32_t id, uint32_t notifyid,
					 uint32_t dfeatures, uint8_t num_vrings,
					 uint32_t config_len)
{
	size_t len = sizeof(struct rpk_fw_rsc_vdev) +
		     (size_t)num_vrings * sizeof(struct rpk_fw_rsc_vdev_vring) + config_len;
	struct rpk_fw_rsc_vdev *v;

	if (config_len > b->cap)
		len = b->cap + 1; /* fails in add_entry */
	v = add_entry(b, RPK_RSC_VDEV, len);
	if (v) {
		v->id = id;
		v->notifyid = notifyid;
		v->dfeatures = dfeatures;
		v->config_len = config_len;
		v->num_of_vrings = num_vrings;
	}
	return v;
}

void rpk_rsc_vdev_set_vring(struct rpk_fw_rsc_vdev *vdev, uint8_t i, uint32_t da, uint32_t align,
			    uint32_t num, uint32_t notifyid)
{
	if (!vdev || i >= vdev->num_of_vrings)
		return;
	vdev->vring[i].da = da;
	vdev->vring[i].align = align;
	vdev->vring[i].num = num;
	vdev->vring[i].notifyid = notifyid;
	vdev->vring[i].pa = 0;
}

void *rpk_rsc_add_vendor(struct rpk_rsc_builder *b, uint32_t type, uint32_t len)
{
	uint8_t *e;

	if (type < RPK_RSC_VENDOR_START || type >= RPK_RSC_VENDOR_END)
		return 0;
	if (len > b->cap) {
		b->err = -RPK_ENOMEM; /* out of room, like any other add */
		return 0;
	}
	e = add_entry(b, type, sizeof(uint32_t) + (size_t)len);
	return e ? e + sizeof(uint32_t) : 0;
}

int rpk_rsc_build_finish(struct rpk_rsc_builder *b)
{
	struct rpk_rsc_table_hdr *h = (struct rpk_rsc_table_hdr *)b->buf;
	size_t gap = (size_t)(b->max - b->num) * sizeof(uint32_t);
	size_t start = sizeof(*h) + (size_t)b->max * sizeof(uint32_t);

	if (b->err)
		return b->err;
	if (gap) {
		/* Entries move down over the unused offset slots. */
		__builtin_memmove(b->buf + start - gap, b->buf + start, b->used - start);
		__builtin_memset(b->buf + b->used - gap, 0, gap);
		for (uint32_t i = 0; i < b->num; i++)
			h->offset[i] -= (uint32_t)gap;
		b->used -= gap;
		b->max = b->num;
	}
	return (int)b->used;
}

/* ---- vdev handshake ---- */

/* ---- auto-boot ---- */

static int assign_fail(struct rpk_rsc_problem *why, uint32_t entry, const char *what, int err)
{
	if (why) {
		why->entry = (int)entry;
		why->what = what;
	}
	return err;
}

int rpk_rsc_assign(void *table, rpk_rsc_alloc_cb alloc, void *priv, struct rpk_rsc_problem *why)
{
	const struct rpk_rsc_table_hdr *h = table;
	uint32_t notifyid = 0;

	for (uint32_t i = 0; i < h->num; i++) {
		uint32_t type;
		void *e = (void *)(uintptr_t)rpk_rsc_entry(table, i, &type);

		if (type == RPK_RSC_CARVEOUT) {
			struct rpk_fw_rsc_carveout *c = e;

			if (c->da != RPK_FW_RSC_ADDR_ANY)
				continue;
			c->da = alloc(priv, i, -1, c->len, 4096u);
			if (c->da == RPK_FW_RSC_ADDR_ANY)
				return assign_fail(why, i, "no memory for the carveout",
						   -RPK_ENOMEM);
			c->pa = c->da;
		} else if (type == RPK_RSC_VDEV) {
			struct rpk_fw_rsc_vdev *v = e;

			for (uint8_t q = 0; q < v->num_of_vrings; q++) {
				struct rpk_fw_rsc_vdev_vring *r = &v->vring[q];
				size_t size = rpk_vring_size(r->num, r->align);

				if (!size)
					return assign_fail(why, i,
							   "vring of no valid size or alignment",
							   -RPK_ENOEXEC);
				r->notifyid = notifyid++;
				if (r->da != RPK_FW_RSC_ADDR_ANY)
					continue;
				r->da = alloc(priv, i, q, (uint32_t)size, r->align);
				if (r->da == RPK_FW_RSC_ADDR_ANY)
					return assign_fail(why, i, "no memory for a vring",
							   -RPK_ENOMEM);
			}
		}
	}
	return 0;
}

int rpk_rsc_find_vdev(const void *table, uint32_t id)
{
	const struct rpk_rsc_table_hdr *h = table;

	for (uint32_t i = 0; i < h->num; i++) {
		uint32_t type;
		const struct rpk_fw_rsc_vdev *v = rpk_rsc_entry(table, i, &type);

		if (type == RPK_RSC_VDEV && v->id == id)
			return (int)i;
	}
	return -RPK_ENOENT;
}

uint8_t rpk_vdev_read_status(const struct rpk_fw_rsc_vdev *shared, const struct rpk_port *port)
{
	shm_invalidate(port, &shared->status, 1);
	return __atomic_load_n(&shared->status, __ATOMIC_ACQUIRE);
}

uint32_t rpk_vdev_read_gfeatures(const struct rpk_fw_rsc_vdev *shared, const struct rpk_port *port)
{
	shm_invalidate(port, &shared->gfeatures, sizeof(uint32_t));
	return read_once32(&shared->gfeatures);
}

void rpk_vdev_write_gfeatures(struct rpk_fw_rsc_vdev *shared, uint32_t features,
			      const struct rpk_port *port)
{
	write_once32(&shared->gfeatures, features);
	shm_clean(port, &shared->gfeatures, sizeof(uint32_t));
}

void rpk_vdev_write_status(struct rpk_fw_rsc_vdev *shared, uint8_t status,
			   const struct rpk_port *port)
{
	/* Everything written before (features, rings) is visible first. */
	__atomic_store_n(&shared->status, status, __ATOMIC_RELEASE);
	shm_clean(port, &shared->status, 1);
}
