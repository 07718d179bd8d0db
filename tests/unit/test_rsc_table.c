/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Resource table: builder, validation of hostile tables, the Linux wire
 * layout, and the vdev status/features handshake with its cache maintenance.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rpk/errno.h>
#include <rpk/rsc_table.h>
#include <rpk/virtio.h>

#define VIRTIO_ID_RPMSG 7u

/* Sizes of the entries as Linux's include/linux/remoteproc.h defines them. */
#define HDR_SIZE      16u
#define CARVEOUT_SIZE 56u /* type da pa len flags reserved name[32] */
#define TRACE_SIZE    48u /* type da len reserved name[32] */
#define VDEV_SIZE     28u /* type id notifyid dfeatures gfeatures config_len status num reserved[2] */
#define VRING_SIZE    20u /* da align num notifyid pa */

static uint32_t rd32(const void *base, size_t off)
{
	uint32_t v;

	memcpy(&v, (const uint8_t *)base + off, sizeof(v));
	return v;
}

static void wr32(void *base, size_t off, uint32_t v)
{
	memcpy((uint8_t *)base + off, &v, sizeof(v));
}

static size_t round4(size_t n)
{
	return (n + 3u) & ~(size_t)3u;
}

/* ---- building ---- */

static const uint8_t vdev_config[6] = {0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5};
static const uint8_t vendor128_data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t vendor511_data[3] = {0xaa, 0xbb, 0xcc};

/*
 * Every kind of entry, in a table with room for 10 offsets of which 7 are
 * used. Returns the finished size.
 */
static int build_full_table(void *buf, size_t cap)
{
	struct rpk_rsc_builder b;
	struct rpk_fw_rsc_vdev *v;
	uint8_t *p;

	rpk_rsc_build_init(&b, buf, cap, 10);
	assert_non_null(rpk_rsc_add_carveout(&b, RPK_RSC_CARVEOUT, 0x10000000, 0x90000000, 0x8000,
					     0x5, "text"));
	assert_non_null(rpk_rsc_add_carveout(&b, RPK_RSC_DEVMEM, 0x20000000, 0xa0000000, 0x1000,
					     0x11, "uart-regs"));
	assert_non_null(rpk_rsc_add_trace(&b, 0x30000000, 0x400, "trace0"));
	v = rpk_rsc_add_vdev(&b, VIRTIO_ID_RPMSG, 9, 0x3, 2, sizeof(vdev_config));
	assert_non_null(v);
	rpk_rsc_vdev_set_vring(v, 0, 0x200c8000, 16, 16, 0);
	rpk_rsc_vdev_set_vring(v, 1, 0x200c9000, 64, 32, 1);
	memcpy(&v->vring[2], vdev_config, sizeof(vdev_config));
	p = rpk_rsc_add_vendor(&b, 128, sizeof(vendor128_data));
	assert_non_null(p);
	memcpy(p, vendor128_data, sizeof(vendor128_data));
	p = rpk_rsc_add_vendor(&b, 511, sizeof(vendor511_data));
	assert_non_null(p);
	memcpy(p, vendor511_data, sizeof(vendor511_data));
	/* A name longer than the field is cut to 31 characters and stays terminated. */
	assert_non_null(rpk_rsc_add_trace(&b, 0x30001000, 0x100,
					  "a-trace-buffer-name-that-is-far-too-long-for-32"));
	return rpk_rsc_build_finish(&b);
}

static void test_build_every_entry_type(void **state)
{
	_Alignas(8) uint8_t buf[1024];
	const struct rpk_rsc_table_hdr *h = (const void *)buf;
	const struct rpk_fw_rsc_carveout *c;
	const struct rpk_fw_rsc_trace *t;
	const struct rpk_fw_rsc_vdev *v;
	const uint8_t *p;
	struct rpk_rsc_problem why = {0, NULL};
	const uint32_t n = 7;
	const size_t entry_size[7] = {CARVEOUT_SIZE,
				      CARVEOUT_SIZE,
				      TRACE_SIZE,
				      round4(VDEV_SIZE + 2 * VRING_SIZE + sizeof(vdev_config)),
				      round4(4 + sizeof(vendor128_data)),
				      round4(4 + sizeof(vendor511_data)),
				      TRACE_SIZE};
	size_t expect_size = HDR_SIZE + n * 4u;
	uint32_t type;
	int size;

	(void)state;
	memset(buf, 0x5a, sizeof(buf));
	size = build_full_table(buf, sizeof(buf));
	for (uint32_t i = 0; i < n; i++)
		expect_size += entry_size[i];
	assert_int_equal(size, (int)expect_size);

	assert_int_equal(rpk_rsc_validate(buf, (size_t)size, &why), (int)n);
	assert_int_equal(h->ver, 1);
	assert_int_equal(h->num, n);
	assert_int_equal(h->reserved[0], 0);
	assert_int_equal(h->reserved[1], 0);

	/* Unused offset slots are gone: entries follow the offset array back to back. */
	for (uint32_t i = 0, off = HDR_SIZE + n * 4u; i < n; off += (uint32_t)entry_size[i++]) {
		assert_int_equal(h->offset[i], off);
		assert_int_equal(rpk_rsc_entry_space(buf, (size_t)size, i), entry_size[i]);
	}

	c = rpk_rsc_entry(buf, 0, &type);
	assert_ptr_equal(c, buf + h->offset[0]);
	assert_int_equal(type, RPK_RSC_CARVEOUT);
	assert_int_equal(c->type, RPK_RSC_CARVEOUT);
	assert_int_equal(c->da, 0x10000000);
	assert_int_equal(c->pa, 0x90000000);
	assert_int_equal(c->len, 0x8000);
	assert_int_equal(c->flags, 0x5);
	assert_int_equal(c->reserved, 0);
	assert_string_equal(c->name, "text");

	c = rpk_rsc_entry(buf, 1, &type);
	assert_int_equal(type, RPK_RSC_DEVMEM);
	assert_int_equal(c->da, 0x20000000);
	assert_int_equal(c->pa, 0xa0000000);
	assert_int_equal(c->len, 0x1000);
	assert_int_equal(c->flags, 0x11);
	assert_string_equal(c->name, "uart-regs");

	t = rpk_rsc_entry(buf, 2, &type);
	assert_int_equal(type, RPK_RSC_TRACE);
	assert_int_equal(t->da, 0x30000000);
	assert_int_equal(t->len, 0x400);
	assert_int_equal(t->reserved, 0);
	assert_string_equal(t->name, "trace0");

	v = rpk_rsc_entry(buf, 3, &type);
	assert_int_equal(type, RPK_RSC_VDEV);
	assert_int_equal(v->id, VIRTIO_ID_RPMSG);
	assert_int_equal(v->notifyid, 9);
	assert_int_equal(v->dfeatures, 0x3);
	assert_int_equal(v->gfeatures, 0);
	assert_int_equal(v->config_len, sizeof(vdev_config));
	assert_int_equal(v->status, 0);
	assert_int_equal(v->num_of_vrings, 2);
	assert_int_equal(v->vring[0].da, 0x200c8000);
	assert_int_equal(v->vring[0].align, 16);
	assert_int_equal(v->vring[0].num, 16);
	assert_int_equal(v->vring[0].notifyid, 0);
	assert_int_equal(v->vring[0].pa, 0);
	assert_int_equal(v->vring[1].da, 0x200c9000);
	assert_int_equal(v->vring[1].align, 64);
	assert_int_equal(v->vring[1].num, 32);
	assert_int_equal(v->vring[1].notifyid, 1);
	assert_int_equal(v->vring[1].pa, 0);
	/* The config space survived the move over the unused offset slots. */
	assert_memory_equal(&v->vring[2], vdev_config, sizeof(vdev_config));

	p = rpk_rsc_entry(buf, 4, &type);
	assert_int_equal(type, 128);
	assert_memory_equal(p + 4, vendor128_data, sizeof(vendor128_data));
	p = rpk_rsc_entry(buf, 5, &type);
	assert_int_equal(type, 511);
	assert_memory_equal(p + 4, vendor511_data, sizeof(vendor511_data));

	t = rpk_rsc_entry(buf, 6, &type);
	assert_int_equal(type, RPK_RSC_TRACE);
	assert_int_equal(strlen(t->name), RPK_RSC_NAME_SIZE - 1);
	assert_memory_equal(t->name, "a-trace-buffer-name-that-is-far", RPK_RSC_NAME_SIZE - 1);

	type = 0xdead;
	assert_null(rpk_rsc_entry(buf, n, &type));
	assert_int_equal(type, 0xdead);
	assert_int_equal(rpk_rsc_entry_space(buf, (size_t)size, n), 0);
	/* The bytes freed at the end by the compaction are cleared. */
	for (size_t i = (size_t)size; i < (size_t)size + 3u * 4u; i++)
		assert_int_equal(buf[i], 0);
}

static void test_build_exact_entry_count(void **state)
{
	_Alignas(8) uint8_t a[256], b2[256];
	struct rpk_rsc_builder b;
	int sa, sb;

	(void)state;
	/* max_entries == entries used: nothing to compact, same table as with spare slots. */
	rpk_rsc_build_init(&b, a, sizeof(a), 2);
	assert_non_null(rpk_rsc_add_trace(&b, 0x1000, 0x100, "t"));
	assert_non_null(rpk_rsc_add_vdev(&b, VIRTIO_ID_RPMSG, 0, 1, 0, 0));
	sa = rpk_rsc_build_finish(&b);
	rpk_rsc_build_init(&b, b2, sizeof(b2), 40);
	assert_non_null(rpk_rsc_add_trace(&b, 0x1000, 0x100, "t"));
	assert_non_null(rpk_rsc_add_vdev(&b, VIRTIO_ID_RPMSG, 0, 1, 0, 0));
	sb = rpk_rsc_build_finish(&b);
	assert_int_equal(sa, HDR_SIZE + 2 * 4 + TRACE_SIZE + VDEV_SIZE);
	assert_int_equal(sa, sb);
	assert_memory_equal(a, b2, (size_t)sa);
	assert_int_equal(rpk_rsc_validate(a, (size_t)sa, NULL), 2);
}

static void test_build_rejects_bad_types(void **state)
{
	_Alignas(8) uint8_t buf[256];
	struct rpk_rsc_builder b;

	(void)state;
	rpk_rsc_build_init(&b, buf, sizeof(buf), 4);
	assert_null(rpk_rsc_add_carveout(&b, RPK_RSC_TRACE, 0, 0, 0, 0, "x"));
	assert_null(rpk_rsc_add_carveout(&b, RPK_RSC_VDEV, 0, 0, 0, 0, "x"));
	assert_null(rpk_rsc_add_vendor(&b, 127, 4));
	assert_null(rpk_rsc_add_vendor(&b, 512, 4));
	assert_non_null(rpk_rsc_add_vendor(&b, 200, 0));
	assert_int_equal(rpk_rsc_build_finish(&b), HDR_SIZE + 4 + 4);
	assert_int_equal(rpk_rsc_validate(buf, HDR_SIZE + 4 + 4, NULL), 1);
}

static void test_build_finish_enomem(void **state)
{
	_Alignas(8) uint8_t buf[512];
	struct rpk_rsc_builder b;

	(void)state;
	/* Not even room for the header and offsets. */
	rpk_rsc_build_init(&b, buf, HDR_SIZE + 4 * 4 - 1, 4);
	assert_null(rpk_rsc_add_trace(&b, 0, 0, "t"));
	assert_int_equal(rpk_rsc_build_finish(&b), -RPK_ENOMEM);

	/* Room for the header but not for a carveout; the add fails, later adds too. */
	rpk_rsc_build_init(&b, buf, HDR_SIZE + 4 * 2 + CARVEOUT_SIZE - 1, 2);
	assert_null(rpk_rsc_add_carveout(&b, RPK_RSC_CARVEOUT, 0, 0, 0x1000, 0, "c"));
	assert_null(rpk_rsc_add_vendor(&b, 128, 0)); /* would fit, but the table is broken */
	assert_int_equal(rpk_rsc_build_finish(&b), -RPK_ENOMEM);

	/* Exactly enough room works. */
	rpk_rsc_build_init(&b, buf, HDR_SIZE + 4 * 2 + CARVEOUT_SIZE, 2);
	assert_non_null(rpk_rsc_add_carveout(&b, RPK_RSC_CARVEOUT, 0, 0, 0x1000, 0, "c"));
	assert_int_equal(rpk_rsc_build_finish(&b), HDR_SIZE + 4 + CARVEOUT_SIZE);

	/* More entries than offset slots. */
	rpk_rsc_build_init(&b, buf, sizeof(buf), 1);
	assert_non_null(rpk_rsc_add_trace(&b, 0, 0, "t"));
	assert_null(rpk_rsc_add_trace(&b, 0, 0, "u"));
	assert_int_equal(rpk_rsc_build_finish(&b), -RPK_ENOMEM);

	/* A vdev whose vrings do not fit. */
	rpk_rsc_build_init(&b, buf, sizeof(buf), 1);
	assert_null(rpk_rsc_add_vdev(&b, VIRTIO_ID_RPMSG, 0, 0, 255, 0));
	assert_int_equal(rpk_rsc_build_finish(&b), -RPK_ENOMEM);

	/* A config space so large its size would wrap. */
	rpk_rsc_build_init(&b, buf, sizeof(buf), 1);
	assert_null(rpk_rsc_add_vdev(&b, VIRTIO_ID_RPMSG, 0, 0, 2, 0xffffffffu));
	assert_int_equal(rpk_rsc_build_finish(&b), -RPK_ENOMEM);

	/* A vendor entry larger than the buffer, the same way. */
	rpk_rsc_build_init(&b, buf, sizeof(buf), 2);
	assert_non_null(rpk_rsc_add_trace(&b, 0, 0, "t"));
	assert_null(rpk_rsc_add_vendor(&b, 128, 0xffffffffu));
	assert_int_equal(rpk_rsc_build_finish(&b), -RPK_ENOMEM);

	rpk_rsc_build_init(&b, buf, sizeof(buf), 2);
	assert_null(rpk_rsc_add_vendor(&b, 300, sizeof(buf)));
	assert_int_equal(rpk_rsc_build_finish(&b), -RPK_ENOMEM);
}

/* ---- the seeds' table and the Linux wire layout ---- */

/* The seeds' rpmsg vdev: two 16-entry vrings aligned to 16, notify ids 0 and 1. */
static int build_seed_table(void *buf, size_t cap, uint32_t config_len)
{
	struct rpk_rsc_builder b;
	struct rpk_fw_rsc_vdev *v;

	rpk_rsc_build_init(&b, buf, cap, 1);
	v = rpk_rsc_add_vdev(&b, VIRTIO_ID_RPMSG, 2, 1, 2, config_len);
	assert_non_null(v);
	rpk_rsc_vdev_set_vring(v, 0, 0x200c8000, 16, 16, 0);
	rpk_rsc_vdev_set_vring(v, 1, 0x200c9000, 16, 16, 1);
	rpk_rsc_vdev_set_vring(v, 2, 0xbad, 0xbad, 0xbad, 0xbad); /* no third vring: ignored */
	return rpk_rsc_build_finish(&b);
}

static void test_seed_table_wire_layout(void **state)
{
	_Alignas(8) uint8_t buf[256];
	const uint32_t cfg = 8;
	int size = build_seed_table(buf, sizeof(buf), cfg);
	const uint8_t *e;
	uint32_t off;

	(void)state;
	assert_int_equal(size, HDR_SIZE + 4 + VDEV_SIZE + 2 * VRING_SIZE + cfg);
	assert_int_equal(rpk_rsc_validate(buf, (size_t)size, NULL), 1);
	assert_int_equal(rpk_rsc_find_vdev(buf, VIRTIO_ID_RPMSG), 0);
	assert_int_equal(rpk_rsc_find_vdev(buf, 3), -RPK_ENOENT);

	/* struct resource_table { u32 ver; u32 num; u32 reserved[2]; u32 offset[]; } */
	assert_int_equal(rd32(buf, 0), 1);
	assert_int_equal(rd32(buf, 4), 1);
	assert_int_equal(rd32(buf, 8), 0);
	assert_int_equal(rd32(buf, 12), 0);
	off = rd32(buf, 16);
	assert_int_equal(off, 20);
	assert_ptr_equal(rpk_rsc_entry(buf, 0, NULL), buf + off);

	/* struct fw_rsc_vdev, byte by byte. */
	e = buf + off;
	assert_int_equal(rd32(e, 0), 3);	       /* type = RSC_VDEV */
	assert_int_equal(rd32(e, 4), VIRTIO_ID_RPMSG); /* id */
	assert_int_equal(rd32(e, 8), 2);	       /* notifyid */
	assert_int_equal(rd32(e, 12), 1);	       /* dfeatures: VIRTIO_RPMSG_F_NS */
	assert_int_equal(rd32(e, 16), 0);	       /* gfeatures */
	assert_int_equal(rd32(e, 20), cfg);	       /* config_len */
	assert_int_equal(e[24], 0);		       /* status */
	assert_int_equal(e[25], 2);		       /* num_of_vrings */
	assert_int_equal(e[26], 0);		       /* reserved[2] */
	assert_int_equal(e[27], 0);
	/* struct fw_rsc_vdev_vring { u32 da, align, num, notifyid, pa; } from byte 28 */
	assert_int_equal(rd32(e, 28 + 0), 0x200c8000);
	assert_int_equal(rd32(e, 28 + 4), 16);
	assert_int_equal(rd32(e, 28 + 8), 16);
	assert_int_equal(rd32(e, 28 + 12), 0);
	assert_int_equal(rd32(e, 28 + 16), 0);
	assert_int_equal(rd32(e, 48 + 0), 0x200c9000);
	assert_int_equal(rd32(e, 48 + 4), 16);
	assert_int_equal(rd32(e, 48 + 8), 16);
	assert_int_equal(rd32(e, 48 + 12), 1);
	assert_int_equal(rd32(e, 48 + 16), 0);
	/* The config space comes right after the vrings. */
	assert_int_equal(rpk_rsc_entry_space(buf, (size_t)size, 0),
			 VDEV_SIZE + 2 * VRING_SIZE + cfg);
}

/* The other direction: a table written byte by byte the way Linux lays it out. */
static void test_seed_table_from_raw_bytes(void **state)
{
	_Alignas(8) uint8_t buf[HDR_SIZE + 2 * 4 + TRACE_SIZE + VDEV_SIZE + 2 * VRING_SIZE];
	const uint32_t t_off = HDR_SIZE + 8, v_off = t_off + TRACE_SIZE;
	const struct rpk_fw_rsc_vdev *v;
	const struct rpk_fw_rsc_trace *t;
	uint8_t *e = buf + v_off;

	(void)state;
	memset(buf, 0, sizeof(buf));
	wr32(buf, 0, 1);
	wr32(buf, 4, 2);
	wr32(buf, 16, t_off);
	wr32(buf, 20, v_off);
	wr32(buf, t_off, 2);
	wr32(buf, t_off + 4, 0x200cc000);
	wr32(buf, t_off + 8, 0x800);
	memcpy(buf + t_off + 16, "zephyr-trace", 13);
	wr32(e, 0, 3);
	wr32(e, 4, VIRTIO_ID_RPMSG);
	wr32(e, 8, 0x55);
	wr32(e, 12, 1);
	wr32(e, 16, 0x77);
	wr32(e, 20, 0);
	e[24] = 0x0f;
	e[25] = 2;
	for (uint32_t i = 0; i < 2; i++) {
		wr32(e, 28 + 20 * i + 0, 0x200c8000 + 0x1000 * i);
		wr32(e, 28 + 20 * i + 4, 16);
		wr32(e, 28 + 20 * i + 8, 16);
		wr32(e, 28 + 20 * i + 12, i);
		wr32(e, 28 + 20 * i + 16, 0x400 + i);
	}

	assert_int_equal(rpk_rsc_validate(buf, sizeof(buf), NULL), 2);
	assert_int_equal(rpk_rsc_find_vdev(buf, VIRTIO_ID_RPMSG), 1);
	t = rpk_rsc_entry(buf, 0, NULL);
	assert_int_equal(t->da, 0x200cc000);
	assert_int_equal(t->len, 0x800);
	assert_string_equal(t->name, "zephyr-trace");
	v = rpk_rsc_entry(buf, 1, NULL);
	assert_int_equal(v->id, VIRTIO_ID_RPMSG);
	assert_int_equal(v->notifyid, 0x55);
	assert_int_equal(v->dfeatures, 1);
	assert_int_equal(v->gfeatures, 0x77);
	assert_int_equal(v->status, 0x0f);
	assert_int_equal(v->num_of_vrings, 2);
	for (uint32_t i = 0; i < 2; i++) {
		assert_int_equal(v->vring[i].da, 0x200c8000 + 0x1000 * i);
		assert_int_equal(v->vring[i].align, 16);
		assert_int_equal(v->vring[i].num, 16);
		assert_int_equal(v->vring[i].notifyid, i);
		assert_int_equal(v->vring[i].pa, 0x400 + i);
	}
}

static void test_find_vdev_first_match(void **state)
{
	_Alignas(8) uint8_t buf[512];
	struct rpk_rsc_builder b;

	(void)state;
	rpk_rsc_build_init(&b, buf, sizeof(buf), 4);
	/* A carveout whose word at byte 4 (da, where a vdev has its id) reads 7. */
	assert_non_null(rpk_rsc_add_carveout(&b, RPK_RSC_CARVEOUT, VIRTIO_ID_RPMSG, 0, 0, 0, "7"));
	assert_non_null(rpk_rsc_add_vdev(&b, 1, 0, 0, 0, 0));
	assert_non_null(rpk_rsc_add_vdev(&b, VIRTIO_ID_RPMSG, 0, 0, 2, 0));
	assert_non_null(rpk_rsc_add_vdev(&b, VIRTIO_ID_RPMSG, 1, 0, 2, 0));
	assert_true(rpk_rsc_build_finish(&b) > 0);
	assert_int_equal(rpk_rsc_find_vdev(buf, VIRTIO_ID_RPMSG), 2);
	assert_int_equal(rpk_rsc_find_vdev(buf, 1), 1);
	assert_int_equal(rpk_rsc_find_vdev(buf, 0), -RPK_ENOENT);
}

/* ---- malformed tables ---- */

/*
 * A base table: carveout, trace, vdev (2 vrings, 8 bytes config) at offsets
 * 28, 84, 132; 208 bytes. Entry i of each malformed case refers to this.
 */
#define BASE_N 3u
static int build_base(void *buf, size_t cap)
{
	struct rpk_rsc_builder b;
	struct rpk_fw_rsc_vdev *v;

	rpk_rsc_build_init(&b, buf, cap, BASE_N);
	assert_non_null(rpk_rsc_add_carveout(&b, RPK_RSC_CARVEOUT, 0x1000, 0, 0x1000, 0, "c"));
	assert_non_null(rpk_rsc_add_trace(&b, 0x2000, 0x100, "t"));
	v = rpk_rsc_add_vdev(&b, VIRTIO_ID_RPMSG, 0, 1, 2, 8);
	assert_non_null(v);
	rpk_rsc_vdev_set_vring(v, 0, 0x200c8000, 16, 16, 0);
	rpk_rsc_vdev_set_vring(v, 1, 0x200c9000, 16, 16, 1);
	return rpk_rsc_build_finish(&b);
}

/* Validate size bytes of t from an allocation of exactly that size (ASan sees overreads). */
static void expect_rejected(const void *t, size_t size, int entry, const char *what_case)
{
	void *copy = malloc(size ? size : 1);
	struct rpk_rsc_problem why = {-100, NULL};
	int rc;

	assert_non_null(copy);
	memcpy(copy, t, size);
	rc = rpk_rsc_validate(copy, size, &why);
	if (rc != -RPK_ENOEXEC || why.entry != entry || !why.what || !why.what[0])
		fail_msg("%s: rc %d (want %d), entry %d (want %d), what \"%s\"", what_case, rc,
			 -RPK_ENOEXEC, why.entry, entry, why.what ? why.what : "(null)");
	/* Without a place for the reason, the verdict is the same. */
	assert_int_equal(rpk_rsc_validate(copy, size, NULL), -RPK_ENOEXEC);
	free(copy);
}

static void test_malformed_header(void **state)
{
	_Alignas(8) uint8_t base[512], t[512];
	size_t size = (size_t)build_base(base, sizeof(base));

	(void)state;
	assert_int_equal(rpk_rsc_validate(base, size, NULL), (int)BASE_N);

	expect_rejected(base, 0, -1, "empty");
	expect_rejected(base, 15, -1, "size 15");
	/* A header alone with num 0 is a valid, empty table. */
	memcpy(t, base, size);
	wr32(t, 4, 0);
	assert_int_equal(rpk_rsc_validate(t, 16, NULL), 0);

	memcpy(t, base, size);
	wr32(t, 0, 0);
	expect_rejected(t, size, -1, "ver 0");
	wr32(t, 0, 2);
	expect_rejected(t, size, -1, "ver 2");

	/* num: one more offset than the table can hold, and the largest u32. */
	memcpy(t, base, size);
	wr32(t, 4, (uint32_t)(size - HDR_SIZE) / 4u + 1u);
	expect_rejected(t, size, -1, "num too large");
	wr32(t, 4, 0xffffffffu);
	expect_rejected(t, size, -1, "num 0xffffffff");
	wr32(t, 4, 0x40000000u); /* num * 4 wraps a 32-bit size to 0 */
	expect_rejected(t, size, -1, "num 0x40000000");
	wr32(t, 4, 1);
	expect_rejected(t, HDR_SIZE + 3, -1, "num 1 in 19 bytes");
}

static void test_malformed_offsets(void **state)
{
	_Alignas(8) uint8_t base[512], t[512];
	size_t size = (size_t)build_base(base, sizeof(base));
	const uint32_t first = HDR_SIZE + BASE_N * 4u;
	static const struct {
		uint32_t entry;
		int32_t delta; /* added to the valid offset, or: */
		uint32_t abs;  /* if delta is 0 */
		const char *what_case;
	} cases[] = {
	    {1, 2, 0, "offset not 4-aligned"},
	    {2, 1, 0, "offset not 4-aligned"},
	    {0, 0, 0, "offset 0 (the header)"},
	    {1, 0, 8, "offset in the header's reserved words"},
	    {2, 0, HDR_SIZE, "offset on the offset array"},
	    {1, 0, HDR_SIZE + BASE_N * 4u - 4u, "offset on the last offset slot"},
	    {2, 0, 0xfffffffcu, "offset far past the end"},
	    {0, 0, 0x80000000u, "offset past the end"},
	};

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		uint32_t off = rd32(base, HDR_SIZE + 4u * cases[k].entry);

		memcpy(t, base, size);
		off = cases[k].delta ? off + (uint32_t)cases[k].delta : cases[k].abs;
		wr32(t, HDR_SIZE + 4u * cases[k].entry, off);
		expect_rejected(t, size, (int)cases[k].entry, cases[k].what_case);
	}
	/* Just past the end, and a type word that would straddle the end. */
	memcpy(t, base, size);
	wr32(t, HDR_SIZE + 8, (uint32_t)size);
	expect_rejected(t, size, 2, "offset == size");
	wr32(t, HDR_SIZE + 8, (uint32_t)size - 4u);
	wr32(t, size - 4, 77); /* an unknown type in the last 4 bytes: fine */
	assert_int_equal(rpk_rsc_validate(t, size, NULL), (int)BASE_N);
	expect_rejected(t, size - 2, 2, "type word straddles the end");
	/* The first byte after the offset array is where the first entry legally starts. */
	assert_int_equal(rd32(base, HDR_SIZE), first);
}

/* The table cut to end inside the fixed or variable part of its last entry. */
static void test_malformed_entries_run_past_end(void **state)
{
	_Alignas(8) uint8_t buf[512];
	struct rpk_rsc_builder b;
	struct rpk_fw_rsc_vdev *v;
	struct rpk_fw_rsc_carveout *c;
	struct rpk_fw_rsc_trace *tr;
	int size;
	uint32_t last;

	(void)state;
	/* carveout / devmem last */
	for (uint32_t type = RPK_RSC_CARVEOUT; type <= RPK_RSC_DEVMEM; type++) {
		rpk_rsc_build_init(&b, buf, sizeof(buf), 2);
		assert_non_null(rpk_rsc_add_trace(&b, 0, 0, "t"));
		c = rpk_rsc_add_carveout(&b, type, 0, 0, 0, 0, "c");
		assert_non_null(c);
		size = rpk_rsc_build_finish(&b);
		assert_int_equal(rpk_rsc_validate(buf, (size_t)size, NULL), 2);
		last = rd32(buf, HDR_SIZE + 4);
		expect_rejected(buf, last + CARVEOUT_SIZE - 4, 1, "carveout cut at 52");
		expect_rejected(buf, last + 4, 1, "carveout cut after its type");
	}

	/* trace last */
	rpk_rsc_build_init(&b, buf, sizeof(buf), 2);
	assert_non_null(rpk_rsc_add_vendor(&b, 128, 4));
	tr = rpk_rsc_add_trace(&b, 0, 0, "t");
	assert_non_null(tr);
	size = rpk_rsc_build_finish(&b);
	assert_int_equal(rpk_rsc_validate(buf, (size_t)size, NULL), 2);
	last = rd32(buf, HDR_SIZE + 4);
	expect_rejected(buf, last + TRACE_SIZE - 4, 1, "trace cut at 44");
	expect_rejected(buf, last + 8, 1, "trace cut at 8");

	/* vdev last: fixed part, vrings, config space */
	rpk_rsc_build_init(&b, buf, sizeof(buf), 2);
	assert_non_null(rpk_rsc_add_trace(&b, 0, 0, "t"));
	v = rpk_rsc_add_vdev(&b, VIRTIO_ID_RPMSG, 0, 1, 2, 8);
	assert_non_null(v);
	size = rpk_rsc_build_finish(&b);
	assert_int_equal(rpk_rsc_validate(buf, (size_t)size, NULL), 2);
	last = rd32(buf, HDR_SIZE + 4);
	v = (struct rpk_fw_rsc_vdev *)(void *)(buf + last);
	expect_rejected(buf, last + VDEV_SIZE - 4, 1, "vdev fixed part cut");
	expect_rejected(buf, last + VDEV_SIZE + VRING_SIZE, 1, "vdev second vring cut");
	expect_rejected(buf, (size_t)size - 1, 1, "vdev config cut by one byte");

	v->num_of_vrings = 3;
	expect_rejected(buf, (size_t)size, 1, "num_of_vrings 3 with room for 2");
	v->num_of_vrings = 255;
	expect_rejected(buf, (size_t)size, 1, "num_of_vrings 255");
	v->num_of_vrings = 2;

	/* config_len: one too many, and values that wrap a 32-bit sum to something small. */
	{
		const uint32_t bad_cfg[] = {
		    9,
		    0xffffffffu,
		    0x80000000u,
		    0xffffffffu - (VDEV_SIZE + 2 * VRING_SIZE) + 1u, /* 32-bit sum == 0 */
		    0xffffffffu - (VDEV_SIZE + 2 * VRING_SIZE) + 9u, /* 32-bit sum == 8 */
		};

		for (size_t k = 0; k < sizeof(bad_cfg) / sizeof(bad_cfg[0]); k++) {
			v->config_len = bad_cfg[k];
			expect_rejected(buf, (size_t)size, 1, "config_len past the end");
		}
		v->config_len = 0;
		v->num_of_vrings = 0xff;
		expect_rejected(buf, (size_t)size, 1, "255 vrings, no config");
	}
	v->num_of_vrings = 2;
	v->config_len = 8;
	assert_int_equal(rpk_rsc_validate(buf, (size_t)size, NULL), 2);
}

static void test_malformed_names(void **state)
{
	_Alignas(8) uint8_t base[512], t[512];
	size_t size = (size_t)build_base(base, sizeof(base));
	struct rpk_fw_rsc_carveout *c;
	struct rpk_fw_rsc_trace *tr;

	(void)state;
	memcpy(t, base, size);
	c = (struct rpk_fw_rsc_carveout *)(void *)(t + rd32(t, HDR_SIZE));
	memset(c->name, 'A', RPK_RSC_NAME_SIZE);
	expect_rejected(t, size, 0, "carveout name without NUL");
	c->name[RPK_RSC_NAME_SIZE - 1] = 0; /* 31 characters: fine */
	assert_int_equal(rpk_rsc_validate(t, size, NULL), (int)BASE_N);
	c->type = RPK_RSC_DEVMEM;
	c->name[RPK_RSC_NAME_SIZE - 1] = 'A';
	expect_rejected(t, size, 0, "devmem name without NUL");

	memcpy(t, base, size);
	tr = (struct rpk_fw_rsc_trace *)(void *)(t + rd32(t, HDR_SIZE + 4));
	memset(tr->name, 0xff, RPK_RSC_NAME_SIZE);
	expect_rejected(t, size, 1, "trace name without NUL");
	tr->name[0] = 0;
	assert_int_equal(rpk_rsc_validate(t, size, NULL), (int)BASE_N);
}

static void test_unknown_types_accepted(void **state)
{
	_Alignas(8) uint8_t buf[HDR_SIZE + 4 * 4 + 4 + 12 + 4 + 4];
	const uint32_t types[4] = {5, 600, 4, 127};
	uint32_t off = HDR_SIZE + 4 * 4;

	(void)state;
	memset(buf, 0, sizeof(buf));
	wr32(buf, 0, 1);
	wr32(buf, 4, 4);
	for (uint32_t i = 0; i < 4; i++) {
		wr32(buf, HDR_SIZE + 4 * i, off);
		wr32(buf, off, types[i]);
		off += i == 1 ? 12 : 4;
	}
	assert_int_equal(off, sizeof(buf));
	assert_int_equal(rpk_rsc_validate(buf, sizeof(buf), NULL), 4);
	for (uint32_t i = 0; i < 4; i++) {
		uint32_t type = 0;

		assert_non_null(rpk_rsc_entry(buf, i, &type));
		assert_int_equal(type, types[i]);
		assert_string_equal(rpk_rsc_type_name(type), "unknown");
	}
	assert_int_equal(rpk_rsc_entry_space(buf, sizeof(buf), 1), 12);
	assert_int_equal(rpk_rsc_entry_space(buf, sizeof(buf), 3), 4);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(rpk_rsc_type_name(0), "carveout");
	assert_string_equal(rpk_rsc_type_name(1), "devmem");
	assert_string_equal(rpk_rsc_type_name(2), "trace");
	assert_string_equal(rpk_rsc_type_name(3), "vdev");
	assert_string_equal(rpk_rsc_type_name(128), "vendor");
	assert_string_equal(rpk_rsc_type_name(300), "vendor");
	assert_string_equal(rpk_rsc_type_name(511), "vendor");
	assert_string_equal(rpk_rsc_type_name(4), "unknown");
	assert_string_equal(rpk_rsc_type_name(5), "unknown");
	assert_string_equal(rpk_rsc_type_name(127), "unknown");
	assert_string_equal(rpk_rsc_type_name(512), "unknown");
	assert_string_equal(rpk_rsc_type_name(600), "unknown");
	assert_string_equal(rpk_rsc_type_name(0xffffffffu), "unknown");
}

/* ---- brute force ---- */

/* Every accepted entry, with everything it describes, lies inside the table. */
static void check_accepted(const uint8_t *t, size_t size, int n)
{
	const struct rpk_rsc_table_hdr *h = (const void *)t;
	const size_t first = HDR_SIZE + (size_t)h->num * 4u;
	unsigned sum = 0;
	int vdev;

	assert_int_equal((uint32_t)n, h->num);
	assert_true(first <= size);
	for (uint32_t i = 0; i < (uint32_t)n; i++) {
		uint32_t type = 0xdeadbeef;
		const uint8_t *e = rpk_rsc_entry(t, i, &type);
		size_t off, space;
		uint64_t need = 4;

		assert_non_null(e);
		off = (size_t)(e - t);
		assert_true(off >= first && off + 4 <= size);
		assert_int_equal(off % 4, 0);
		assert_int_equal(type, rd32(e, 0));
		space = rpk_rsc_entry_space(t, size, i);
		assert_true(space >= 4 && off + space <= size);

		switch (type) {
		case RPK_RSC_CARVEOUT:
		case RPK_RSC_DEVMEM:
			need = CARVEOUT_SIZE;
			assert_true(off + need <= size);
			assert_non_null(memchr(e + 24, 0, RPK_RSC_NAME_SIZE));
			break;
		case RPK_RSC_TRACE:
			need = TRACE_SIZE;
			assert_true(off + need <= size);
			assert_non_null(memchr(e + 16, 0, RPK_RSC_NAME_SIZE));
			break;
		case RPK_RSC_VDEV: {
			const struct rpk_fw_rsc_vdev *v = (const void *)e;
			const uint8_t *cfg;

			assert_true(off + VDEV_SIZE <= size);
			need = VDEV_SIZE + (uint64_t)v->num_of_vrings * VRING_SIZE + v->config_len;
			assert_true(off + need <= size);
			for (uint32_t k = 0; k < v->num_of_vrings; k++)
				sum += v->vring[k].da + v->vring[k].align + v->vring[k].num +
				       v->vring[k].notifyid + v->vring[k].pa;
			cfg = (const uint8_t *)&v->vring[v->num_of_vrings];
			for (uint32_t k = 0; k < v->config_len; k++)
				sum += cfg[k];
			break;
		}
		default:
			break;
		}
	}
	assert_null(rpk_rsc_entry(t, (uint32_t)n, NULL));
	vdev = rpk_rsc_find_vdev(t, VIRTIO_ID_RPMSG);
	if (vdev >= 0) {
		uint32_t type;

		assert_true(vdev < n);
		assert_non_null(rpk_rsc_entry(t, (uint32_t)vdev, &type));
		assert_int_equal(type, RPK_RSC_VDEV);
	}
	(void)sum; /* read only so that ASan sees every byte the entries claim */
}

static void mutate_and_check(const uint8_t *base, size_t size, size_t pos, uint8_t value,
			     unsigned *accepted)
{
	uint8_t *t = malloc(size); /* exactly size bytes: ASan catches reads past the end */
	struct rpk_rsc_problem why = {-100, NULL};
	int rc;

	assert_non_null(t);
	memcpy(t, base, size);
	t[pos] = value;
	rc = rpk_rsc_validate(t, size, &why);
	if (rc >= 0) {
		check_accepted(t, size, rc);
		(*accepted)++;
	} else {
		assert_int_equal(rc, -RPK_ENOEXEC);
		assert_non_null(why.what);
		assert_true(why.entry >= -1);
		if (why.entry >= 0)
			assert_true((uint32_t)why.entry < rd32(t, 4));
	}
	free(t);
}

static void test_bruteforce_byte_flips(void **state)
{
	_Alignas(8) uint8_t base[1024];
	int size = build_full_table(base, sizeof(base));
	unsigned accepted = 0, rejected_before;
	uint32_t seed = 0x12345678u;

	(void)state;
	assert_true(size > 0);
	check_accepted(base, (size_t)size, rpk_rsc_validate(base, (size_t)size, NULL));
	for (size_t pos = 0; pos < (size_t)size; pos++) {
		uint8_t values[7];

		values[0] = 0;
		values[1] = 0xff;
		values[2] = (uint8_t)(base[pos] + 1u);
		values[3] = (uint8_t)(base[pos] - 1u);
		for (int k = 4; k < 7; k++) {
			seed = seed * 1103515245u + 12345u; /* deterministic */
			values[k] = (uint8_t)(seed >> 16);
		}
		for (int k = 0; k < 7; k++)
			mutate_and_check(base, (size_t)size, pos, values[k], &accepted);
	}
	/* Both verdicts happened: the mutations reached the checks. */
	rejected_before = (unsigned)size * 7u - accepted;
	assert_true(accepted > 0);
	assert_true(rejected_before > 0);

	/* Also every truncation of the valid table. */
	for (size_t cut = 0; cut < (size_t)size; cut++) {
		uint8_t *t = malloc(cut ? cut : 1);
		int rc;

		assert_non_null(t);
		memcpy(t, base, cut);
		rc = rpk_rsc_validate(t, cut, NULL);
		if (rc >= 0)
			check_accepted(t, cut, rc);
		free(t);
	}
}

/* ---- the vdev handshake ---- */

static void test_vdev_status_roundtrip_plain(void **state)
{
	static const struct rpk_port_ops no_ops;
	struct rpk_port port = {&no_ops, NULL};
	_Alignas(8) uint8_t buf[256], before[256];
	int size = build_seed_table(buf, sizeof(buf), 0);
	struct rpk_fw_rsc_vdev *v;
	size_t voff;

	(void)state;
	assert_true(size > 0);
	voff = rd32(buf, HDR_SIZE);
	v = (struct rpk_fw_rsc_vdev *)(void *)(buf + voff);
	memcpy(before, buf, sizeof(buf));

	rpk_vdev_write_gfeatures(v, 0x1, &port);
	assert_int_equal(rpk_vdev_read_gfeatures(v, &port), 0x1);
	rpk_vdev_write_gfeatures(v, 0xa5a5a5a5u, &port);
	assert_int_equal(rpk_vdev_read_gfeatures(v, &port), 0xa5a5a5a5u);
	rpk_vdev_write_status(v, 0x0f, &port);
	assert_int_equal(rpk_vdev_read_status(v, &port), 0x0f);
	rpk_vdev_write_status(v, 0x80, &port);
	assert_int_equal(rpk_vdev_read_status(v, &port), 0x80);

	/* Only gfeatures (entry bytes 16..19) and status (byte 24) changed. */
	for (size_t i = 0; i < sizeof(buf); i++) {
		if ((i >= voff + 16 && i < voff + 20) || i == voff + 24)
			continue;
		assert_int_equal(buf[i], before[i]);
	}
	assert_int_equal(rd32(v, 16), 0xa5a5a5a5u);
	assert_int_equal(((uint8_t *)v)[24], 0x80);
	assert_int_equal(rpk_rsc_validate(buf, (size_t)size, NULL), 1);
}

/*
 * Non-coherent memory in miniature: the table the code sees is the "cache",
 * mem[] is what the peer sees. A clean copies cache to memory, an invalidate
 * copies memory to cache; anything not cleaned stays invisible to the peer,
 * anything not invalidated stays stale.
 */
struct cache_sim {
	uint8_t *cache;
	uint8_t mem[512];
	size_t len;
	unsigned cleans, invalidates;
	/*
	 * If set, publishing is watched: a dirty line may be written back at any
	 * time, so while a version word is live (in cache or memory) nothing
	 * else may be dirty, and memory with a live version holds one of these.
	 */
	const uint8_t *old_img, *new_img;
	unsigned torn;
};

static void sim_clean(void *ctx, const void *addr, size_t len)
{
	struct cache_sim *s = ctx;
	size_t off = (size_t)((const uint8_t *)addr - s->cache);

	assert_true(off <= s->len && len <= s->len - off);
	if (s->old_img && (rd32(s->cache, 0) || rd32(s->mem, 0)) &&
	    memcmp(s->cache + 4, s->mem + 4, s->len - 4) != 0)
		s->torn++;
	memcpy(s->mem + off, addr, len);
	s->cleans++;
	if (s->old_img && rd32(s->mem, 0) != 0 && memcmp(s->mem, s->old_img, s->len) != 0 &&
	    memcmp(s->mem, s->new_img, s->len) != 0)
		s->torn++;
}

static void sim_invalidate(void *ctx, const void *addr, size_t len)
{
	struct cache_sim *s = ctx;
	size_t off = (size_t)((const uint8_t *)addr - s->cache);

	assert_true(off <= s->len && len <= s->len - off);
	memcpy(s->cache + off, s->mem + off, len);
	s->invalidates++;
}

static void test_vdev_status_cache_maintenance(void **state)
{
	static const struct rpk_port_ops sim_ops = {.cache_clean = sim_clean,
						    .cache_invalidate = sim_invalidate};
	static struct cache_sim sim;
	struct rpk_port port = {&sim_ops, &sim};
	_Alignas(8) uint8_t buf[256];
	int size = build_seed_table(buf, sizeof(buf), 0);
	struct rpk_fw_rsc_vdev *v;
	size_t voff;
	uint8_t *mv;

	(void)state;
	assert_true(size > 0);
	sim.cache = buf;
	sim.len = sizeof(buf);
	memcpy(sim.mem, buf, sizeof(buf));
	voff = rd32(buf, HDR_SIZE);
	v = (struct rpk_fw_rsc_vdev *)(void *)(buf + voff);
	mv = sim.mem + voff;

	/* Master writes: the value reaches memory only through the clean. */
	rpk_vdev_write_gfeatures(v, 0x1, &port);
	assert_int_equal(rd32(mv, 16), 0x1);
	assert_int_equal(sim.invalidates, 0);
	rpk_vdev_write_status(v, 0x07, &port);
	assert_int_equal(mv[24], 0x07);
	assert_int_equal(sim.invalidates, 0);
	assert_true(sim.cleans >= 2);

	/* Remote reads: the peer's newer value is seen only through the invalidate. */
	wr32(mv, 16, 0x5);
	mv[24] = 0x0f;
	sim.cleans = 0;
	assert_int_equal(rpk_vdev_read_gfeatures(v, &port), 0x5);
	assert_int_equal(rpk_vdev_read_status(v, &port), 0x0f);
	assert_true(sim.invalidates >= 2);
	assert_int_equal(sim.cleans, 0);

	/* A snapshot of the shared table sees memory, not a stale cache. */
	{
		_Alignas(8) uint8_t copy[256];

		mv[24] = 0x8f;
		assert_int_equal(rpk_rsc_snapshot(copy, sizeof(copy), buf, (size_t)size, &port), 0);
		assert_int_equal(copy[voff + 24], 0x8f);
		assert_memory_equal(copy, sim.mem, (size_t)size);
	}
}

static void test_publish(void **state)
{
	static const struct rpk_port_ops sim_ops = {.cache_clean = sim_clean,
						    .cache_invalidate = sim_invalidate};
	static struct cache_sim sim;
	struct rpk_port port = {&sim_ops, &sim};
	_Alignas(8) uint8_t table[512], shared[512], old_img[512], new_img[512];
	int size = build_full_table(table, sizeof(table));

	(void)state;
	assert_true(size > 0 && (size_t)size < sizeof(shared));
	/* The region holds an older, different table from a previous boot. */
	assert_true(build_seed_table(old_img, sizeof(old_img), 0) > 0);
	memcpy(shared, old_img, sizeof(shared));
	memset(new_img, 0, sizeof(new_img));
	memcpy(new_img, table, (size_t)size);
	sim.cache = shared;
	sim.len = sizeof(shared);
	memcpy(sim.mem, shared, sizeof(shared));

	/* Too small for the region, or not even a header: nothing is touched. */
	assert_int_equal(rpk_rsc_publish(shared, (size_t)size - 1, table, (size_t)size, &port),
			 -RPK_EINVAL);
	assert_int_equal(rpk_rsc_publish(shared, sizeof(shared), table, 15, &port), -RPK_EINVAL);
	assert_memory_equal(shared, old_img, sizeof(shared));
	assert_memory_equal(sim.mem, old_img, sizeof(shared));
	assert_int_equal(sim.cleans, 0);

	/* The master reads memory: after no clean does it see a version over half a table. */
	sim.old_img = old_img;
	sim.new_img = new_img;
	assert_int_equal(rpk_rsc_publish(shared, sizeof(shared), table, (size_t)size, &port), 0);
	assert_int_equal(sim.torn, 0);
	assert_true(sim.cleans > 0);
	sim.old_img = sim.new_img = NULL;
	/* Memory (what the master sees) holds the table, the rest of the region zeroed. */
	assert_memory_equal(sim.mem, new_img, sizeof(shared));
	assert_memory_equal(shared, new_img, sizeof(shared));
	assert_int_equal(rpk_rsc_validate(sim.mem, (size_t)size, NULL), 7);
}

static void test_is_published(void **state)
{
	static const struct rpk_port_ops sim_ops = {.cache_clean = sim_clean,
						    .cache_invalidate = sim_invalidate};
	static const struct rpk_port_ops no_ops;
	static struct cache_sim sim;
	struct rpk_port port = {&sim_ops, &sim}, plain = {&no_ops, NULL};
	_Alignas(8) uint8_t shared[256], table[256];
	int size = build_seed_table(table, sizeof(table), 0);

	(void)state;
	assert_true(size > 0);
	memset(shared, 0, sizeof(shared));
	assert_false(rpk_rsc_is_published(shared, &plain));
	assert_int_equal(rpk_rsc_publish(shared, sizeof(shared), table, (size_t)size, &plain), 0);
	assert_true(rpk_rsc_is_published(shared, &plain));
	assert_memory_equal(shared, table, (size_t)size);

	/* The master's cached view is stale (zero); the table is in memory. */
	memset(shared, 0, sizeof(shared));
	sim.cache = shared;
	sim.len = sizeof(shared);
	memset(sim.mem, 0, sizeof(sim.mem));
	assert_false(rpk_rsc_is_published(shared, &port));
	memcpy(sim.mem, table, (size_t)size);
	assert_true(rpk_rsc_is_published(shared, &port));
}

static void test_snapshot(void **state)
{
	static const struct rpk_port_ops no_ops;
	struct rpk_port port = {&no_ops, NULL};
	_Alignas(8) uint8_t shared[256], copy[256], untouched[256];
	int size = build_seed_table(shared, sizeof(shared), 4);

	(void)state;
	assert_true(size > 0);
	memset(copy, 0xee, sizeof(copy));
	memcpy(untouched, copy, sizeof(copy));
	assert_int_equal(rpk_rsc_snapshot(copy, (size_t)size - 1, shared, (size_t)size, &port),
			 -RPK_EINVAL);
	assert_memory_equal(copy, untouched, sizeof(copy));
	assert_int_equal(rpk_rsc_snapshot(copy, 0, shared, (size_t)size, &port), -RPK_EINVAL);
	assert_memory_equal(copy, untouched, sizeof(copy));

	assert_int_equal(rpk_rsc_snapshot(copy, (size_t)size, shared, (size_t)size, &port), 0);
	assert_memory_equal(copy, shared, (size_t)size);
	assert_int_equal(copy[size], 0xee); /* not a byte more */
	assert_int_equal(rpk_rsc_validate(copy, (size_t)size, NULL), 1);

	/* The copy is private: changing the shared table afterwards does not reach it. */
	shared[rd32(shared, HDR_SIZE) + 25] = 200;
	assert_int_equal(rpk_rsc_validate(copy, (size_t)size, NULL), 1);
	assert_int_equal(rpk_rsc_validate(shared, (size_t)size, NULL), -RPK_ENOEXEC);
}

/* ---- auto-boot: assigning what the firmware left to the master ---- */

struct bump {
	uint32_t next, end;
	uint32_t calls;
	uint32_t last_index, last_len, last_align;
	int last_vring;
};

static uint32_t bump_alloc(void *priv, uint32_t index, int vring, uint32_t len, uint32_t align)
{
	struct bump *b = priv;
	uint32_t da = (b->next + align - 1) & ~(align - 1);

	b->calls++;
	b->last_index = index;
	b->last_vring = vring;
	b->last_len = len;
	b->last_align = align;
	if (da < b->next || da + len > b->end)
		return RPK_FW_RSC_ADDR_ANY;
	b->next = da + len;
	return da;
}

/* A carveout and one vring left to the master, one vring and one carveout fixed. */
static int build_any_table(void *buf, size_t cap)
{
	struct rpk_rsc_builder b;
	struct rpk_fw_rsc_vdev *v;

	rpk_rsc_build_init(&b, buf, cap, 4);
	rpk_rsc_add_carveout(&b, RPK_RSC_CARVEOUT, 0x10000000, 0x10000000, 0x1000, 0, "fixed");
	rpk_rsc_add_carveout(&b, RPK_RSC_CARVEOUT, RPK_FW_RSC_ADDR_ANY, 0, 0x3000, 0, "heap");
	v = rpk_rsc_add_vdev(&b, VIRTIO_ID_RPMSG, 9, 1, 2, 0);
	rpk_rsc_vdev_set_vring(v, 0, RPK_FW_RSC_ADDR_ANY, 64, 16, 77);
	rpk_rsc_vdev_set_vring(v, 1, 0x200c9000, 64, 16, 78);
	return rpk_rsc_build_finish(&b);
}

static void test_assign(void **state)
{
	uint8_t t[512];
	struct bump b = {.next = 0x30000100, .end = 0x30010000};
	struct rpk_rsc_problem why;
	const struct rpk_fw_rsc_carveout *fixed, *heap;
	const struct rpk_fw_rsc_vdev *v;

	(void)state;
	assert_true(build_any_table(t, sizeof(t)) > 0);
	assert_int_equal(rpk_rsc_validate(t, sizeof(t), NULL), 3);
	assert_int_equal(rpk_rsc_assign(t, bump_alloc, &b, &why), 0);
	assert_int_equal(b.calls, 2);
	fixed = rpk_rsc_entry(t, 0, NULL);
	heap = rpk_rsc_entry(t, 1, NULL);
	v = rpk_rsc_entry(t, 2, NULL);
	assert_int_equal(fixed->da, 0x10000000); /* not the master's to move */
	assert_int_equal(heap->da, 0x30001000);	 /* page-aligned, like Linux's carveouts */
	assert_int_equal(heap->pa, heap->da);
	assert_int_equal(v->vring[0].da, 0x30004000);
	assert_int_equal(b.last_len, rpk_vring_size(16, 64));
	assert_int_equal(b.last_align, 64);
	assert_int_equal(b.last_vring, 0);
	assert_int_equal(b.last_index, 2);
	assert_int_equal(v->vring[1].da, 0x200c9000);
	/* Linux numbers notify ids itself, in table order. */
	assert_int_equal(v->vring[0].notifyid, 0);
	assert_int_equal(v->vring[1].notifyid, 1);
}

static void test_assign_out_of_memory(void **state)
{
	uint8_t t[512];
	struct bump b = {.next = 0x30000000, .end = 0x30003000};
	struct rpk_rsc_problem why = {0};
	const struct rpk_fw_rsc_vdev *v;

	(void)state;
	assert_true(build_any_table(t, sizeof(t)) > 0);
	/* The carveout takes the whole pool: the vring finds nothing. */
	assert_int_equal(rpk_rsc_assign(t, bump_alloc, &b, &why), -RPK_ENOMEM);
	assert_int_equal(why.entry, 2);
	assert_string_equal(why.what, "no memory for a vring");
	v = rpk_rsc_entry(t, 2, NULL);
	assert_int_equal(v->vring[0].da, RPK_FW_RSC_ADDR_ANY);

	b.next = 0x30000000;
	b.end = 0x30000800; /* not even the carveout */
	assert_true(build_any_table(t, sizeof(t)) > 0);
	assert_int_equal(rpk_rsc_assign(t, bump_alloc, &b, &why), -RPK_ENOMEM);
	assert_int_equal(why.entry, 1);
}

static void test_assign_bad_vring(void **state)
{
	uint8_t t[512];
	struct bump b = {.next = 0x30000000, .end = 0x30010000};
	struct rpk_rsc_problem why = {0};
	struct rpk_fw_rsc_vdev *v;

	(void)state;
	assert_true(build_any_table(t, sizeof(t)) > 0);
	v = (struct rpk_fw_rsc_vdev *)(uintptr_t)rpk_rsc_entry(t, 2, NULL);
	v->vring[0].num = 3; /* not a power of two: no size to allocate */
	assert_int_equal(rpk_rsc_assign(t, bump_alloc, &b, &why), -RPK_ENOEXEC);
	assert_int_equal(why.entry, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_every_entry_type),
	    cmocka_unit_test(test_build_exact_entry_count),
	    cmocka_unit_test(test_build_rejects_bad_types),
	    cmocka_unit_test(test_build_finish_enomem),
	    cmocka_unit_test(test_seed_table_wire_layout),
	    cmocka_unit_test(test_seed_table_from_raw_bytes),
	    cmocka_unit_test(test_find_vdev_first_match),
	    cmocka_unit_test(test_malformed_header),
	    cmocka_unit_test(test_malformed_offsets),
	    cmocka_unit_test(test_malformed_entries_run_past_end),
	    cmocka_unit_test(test_malformed_names),
	    cmocka_unit_test(test_unknown_types_accepted),
	    cmocka_unit_test(test_type_names),
	    cmocka_unit_test(test_bruteforce_byte_flips),
	    cmocka_unit_test(test_vdev_status_roundtrip_plain),
	    cmocka_unit_test(test_vdev_status_cache_maintenance),
	    cmocka_unit_test(test_publish),
	    cmocka_unit_test(test_is_published),
	    cmocka_unit_test(test_snapshot),
	    cmocka_unit_test(test_assign),
	    cmocka_unit_test(test_assign_out_of_memory),
	    cmocka_unit_test(test_assign_bad_vring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
