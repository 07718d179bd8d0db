/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: a resource table as the remote (or a corrupted carveout)
 * left it. The input bytes are the table. rpk_rsc_validate() decides; an
 * accepted table is then walked with the accessors the master uses, and
 * everything they hand out must lie inside the table. The input is copied
 * into an exactly sized heap buffer so AddressSanitizer sees any overread.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpk/errno.h>
#include <rpk/rsc_table.h>
#include <rpk/virtio.h>

#include "fuzz_common.h"

static const struct rpk_port_ops no_ops;
static const struct rpk_port no_port = {&no_ops, 0};

/* Sink for reads, so the compiler keeps them (and ASan checks them). */
static volatile uint32_t sink;

/* [p, p + len) lies inside [base, base + size). */
static int inside(const void *base, size_t size, const void *p, size_t len)
{
	uintptr_t b = (uintptr_t)base, q = (uintptr_t)p;

	return q >= b && q - b <= size && len <= size - (q - b);
}

static void touch(const void *p, size_t len)
{
	const volatile uint8_t *b = p;
	uint32_t acc = 0;

	for (size_t i = 0; i < len; i++)
		acc += b[i];
	sink += acc;
}

static void check_name(const char *name)
{
	CHECK(memchr(name, 0, RPK_RSC_NAME_SIZE) != NULL);
	touch(name, strlen(name));
}

static void walk(const uint8_t *t, size_t size, int n)
{
	const struct rpk_rsc_table_hdr *h = (const void *)t;
	size_t first = sizeof(*h) + (size_t)h->num * sizeof(uint32_t);

	CHECK((uint32_t)n == h->num);
	CHECK(first <= size);
	CHECK(rpk_rsc_entry(t, (uint32_t)n, NULL) == NULL);
	CHECK(rpk_rsc_entry_space(t, size, (uint32_t)n) == 0);

	for (uint32_t i = 0; i < (uint32_t)n; i++) {
		uint32_t type = 0xdeadbeefu;
		const uint8_t *e = rpk_rsc_entry(t, i, &type);
		size_t space = rpk_rsc_entry_space(t, size, i);

		CHECK(e != NULL);
		/* The entry starts past the offset array, aligned, with room for its type. */
		CHECK(e >= t + first && inside(t, size, e, sizeof(uint32_t)));
		CHECK(((uintptr_t)e & 3u) == 0);
		CHECK(type == *(const uint32_t *)(const void *)e);
		CHECK(rpk_rsc_entry(t, i, NULL) == e);
		CHECK(rpk_rsc_type_name(type) != NULL);
		/* Its space runs to the next entry or the end, never beyond. */
		CHECK(space >= sizeof(uint32_t));
		CHECK(inside(t, size, e, space));
		touch(e, space);

		switch (type) {
		case RPK_RSC_CARVEOUT:
		case RPK_RSC_DEVMEM: {
			const struct rpk_fw_rsc_carveout *c = (const void *)e;

			CHECK(inside(t, size, c, sizeof(*c)));
			sink += c->da + c->pa + c->len + c->flags + c->reserved;
			check_name(c->name);
			break;
		}
		case RPK_RSC_TRACE: {
			const struct rpk_fw_rsc_trace *tr = (const void *)e;

			CHECK(inside(t, size, tr, sizeof(*tr)));
			sink += tr->da + tr->len + tr->reserved;
			check_name(tr->name);
			break;
		}
		case RPK_RSC_VDEV: {
			const struct rpk_fw_rsc_vdev *v = (const void *)e;
			const uint8_t *config;
			int found;

			CHECK(inside(t, size, v, sizeof(*v)));
			sink += v->id + v->notifyid + v->dfeatures + v->gfeatures + v->status;
			for (uint32_t k = 0; k < v->num_of_vrings; k++) {
				const struct rpk_fw_rsc_vdev_vring *r = &v->vring[k];

				CHECK(inside(t, size, r, sizeof(*r)));
				sink += r->da + r->align + r->num + r->notifyid + r->pa;
			}
			config = (const uint8_t *)&v->vring[v->num_of_vrings];
			CHECK(inside(t, size, config, v->config_len));
			touch(config, v->config_len);

			/* The vdev lookup finds the first vdev with this id, at or before i. */
			found = rpk_rsc_find_vdev(t, v->id);
			CHECK(found >= 0 && (uint32_t)found <= i);
			{
				uint32_t ft;
				const struct rpk_fw_rsc_vdev *fv =
				    rpk_rsc_entry(t, (uint32_t)found, &ft);

				CHECK(ft == RPK_RSC_VDEV && fv->id == v->id);
			}
			sink += rpk_vdev_read_status(v, &no_port) +
				rpk_vdev_read_gfeatures(v, &no_port);
			break;
		}
		default:
			break;
		}
	}

	/* rpmsg's vdev: found iff some entry is one, and it is the first. */
	{
		int found = rpk_rsc_find_vdev(t, RPK_VIRTIO_ID_RPMSG);
		int first_vdev = -RPK_ENOENT;

		for (uint32_t i = 0; i < (uint32_t)n && first_vdev < 0; i++) {
			uint32_t type;
			const struct rpk_fw_rsc_vdev *v = rpk_rsc_entry(t, i, &type);

			if (type == RPK_RSC_VDEV && v->id == RPK_VIRTIO_ID_RPMSG)
				first_vdev = (int)i;
		}
		CHECK(found == first_vdev);
	}
}

/*
 * Rebuild an accepted table with the builder, entry by entry (unknown types
 * are skipped: the builder makes none). If it fits, the result must validate
 * and hold the same entries.
 */
static void rebuild(const uint8_t *t, size_t size, int n)
{
	size_t cap = 2 * size + 256;
	uint8_t *buf = malloc(cap);
	uint32_t *from = malloc(((size_t)n + 1) * sizeof(*from));
	struct rpk_rsc_builder b;
	uint32_t added = 0;
	int size2, n2;

	if (!buf || !from)
		goto out;
	rpk_rsc_build_init(&b, buf, cap, (uint32_t)n);
	for (uint32_t i = 0; i < (uint32_t)n; i++) {
		uint32_t type;
		const uint8_t *e = rpk_rsc_entry(t, i, &type);
		size_t space = rpk_rsc_entry_space(t, size, i);
		const void *made = NULL;

		if (type == RPK_RSC_CARVEOUT || type == RPK_RSC_DEVMEM) {
			const struct rpk_fw_rsc_carveout *c = (const void *)e;

			made =
			    rpk_rsc_add_carveout(&b, type, c->da, c->pa, c->len, c->flags, c->name);
		} else if (type == RPK_RSC_TRACE) {
			const struct rpk_fw_rsc_trace *tr = (const void *)e;

			made = rpk_rsc_add_trace(&b, tr->da, tr->len, tr->name);
		} else if (type == RPK_RSC_VDEV) {
			const struct rpk_fw_rsc_vdev *v = (const void *)e;
			struct rpk_fw_rsc_vdev *v2 = rpk_rsc_add_vdev(
			    &b, v->id, v->notifyid, v->dfeatures, v->num_of_vrings, v->config_len);

			for (uint8_t k = 0; v2 && k < v->num_of_vrings; k++)
				rpk_rsc_vdev_set_vring(v2, k, v->vring[k].da, v->vring[k].align,
						       v->vring[k].num, v->vring[k].notifyid);
			made = v2;
		} else if (type >= RPK_RSC_VENDOR_START && type < RPK_RSC_VENDOR_END) {
			uint8_t *body = rpk_rsc_add_vendor(&b, type, (uint32_t)(space - 4));

			if (body)
				memcpy(body, e + 4, space - 4);
			made = body;
		} else {
			continue;
		}
		if (!made)
			break;
		from[added++] = i;
	}
	size2 = rpk_rsc_build_finish(&b);
	if (size2 < 0) {
		CHECK(size2 == -RPK_ENOMEM && b.err == -RPK_ENOMEM);
		goto out;
	}
	CHECK((size_t)size2 <= cap);
	n2 = rpk_rsc_validate(buf, (size_t)size2, NULL);
	CHECK(n2 >= 0 && (uint32_t)n2 == added);
	for (uint32_t j = 0; j < added; j++) {
		uint32_t type, type2;
		const uint8_t *e = rpk_rsc_entry(t, from[j], &type);
		const uint8_t *e2 = rpk_rsc_entry(buf, j, &type2);

		CHECK(type == type2);
		if (type == RPK_RSC_CARVEOUT || type == RPK_RSC_DEVMEM) {
			const struct rpk_fw_rsc_carveout *c = (const void *)e,
							 *c2 = (const void *)e2;

			CHECK(c->da == c2->da && c->pa == c2->pa && c->len == c2->len &&
			      c->flags == c2->flags && strcmp(c->name, c2->name) == 0);
		} else if (type == RPK_RSC_TRACE) {
			const struct rpk_fw_rsc_trace *tr = (const void *)e,
						      *tr2 = (const void *)e2;

			CHECK(tr->da == tr2->da && tr->len == tr2->len &&
			      strcmp(tr->name, tr2->name) == 0);
		} else if (type == RPK_RSC_VDEV) {
			const struct rpk_fw_rsc_vdev *v = (const void *)e, *v2 = (const void *)e2;

			CHECK(v->id == v2->id && v->notifyid == v2->notifyid &&
			      v->dfeatures == v2->dfeatures && v->config_len == v2->config_len &&
			      v->num_of_vrings == v2->num_of_vrings && v2->gfeatures == 0 &&
			      v2->status == 0);
			for (uint8_t k = 0; k < v->num_of_vrings; k++)
				CHECK(v->vring[k].da == v2->vring[k].da &&
				      v->vring[k].align == v2->vring[k].align &&
				      v->vring[k].num == v2->vring[k].num &&
				      v->vring[k].notifyid == v2->vring[k].notifyid &&
				      v2->vring[k].pa == 0);
		} else {
			size_t space = rpk_rsc_entry_space(t, size, from[j]);

			CHECK(rpk_rsc_entry_space(buf, (size_t)size2, j) >= space);
			CHECK(memcmp(e + 4, e2 + 4, space - 4) == 0);
		}
	}
out:
	free(buf);
	free(from);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpk_rsc_problem why = {-7, NULL};
	uint8_t *t = malloc(size ? size : 1);
	int n;

	if (!t)
		return 0;
	if (size)
		memcpy(t, data, size);

	n = rpk_rsc_validate(t, size, &why);
	if (n < 0) {
		const struct rpk_rsc_table_hdr *h = (const void *)t;

		CHECK(n == -RPK_ENOEXEC);
		CHECK(why.what != NULL && why.what[0]);
		CHECK(why.entry >= -1);
		if (why.entry >= 0)
			CHECK(size >= sizeof(*h) && (uint32_t)why.entry < h->num);
		/* Validation without a problem record must agree. */
		CHECK(rpk_rsc_validate(t, size, NULL) == n);
		free(t);
		return 0;
	}
	CHECK(rpk_rsc_validate(t, size, NULL) == n);
	walk(t, size, n);
	rebuild(t, size, n);

	/* A snapshot, and a table published into a bigger shared region, validate the same. */
	{
		uint8_t *copy = malloc(size), *shared = malloc(size + 64);

		if (copy && shared) {
			CHECK(rpk_rsc_snapshot(copy, size - 1, t, size, &no_port) == -RPK_EINVAL);
			CHECK(rpk_rsc_snapshot(copy, size, t, size, &no_port) == 0);
			CHECK(memcmp(copy, t, size) == 0);
			CHECK(rpk_rsc_publish(shared, size + 64, copy, size, &no_port) == 0);
			CHECK(rpk_rsc_is_published(shared, &no_port));
			CHECK(memcmp(shared, t, size) == 0);
			for (size_t i = size; i < size + 64; i++)
				CHECK(shared[i] == 0);
			CHECK(rpk_rsc_validate(shared, size + 64, NULL) == n);
			CHECK(rpk_rsc_publish(shared, size - 1, copy, size, &no_port) ==
			      -RPK_EINVAL);
		}
		free(copy);
		free(shared);
	}
	free(t);
	return 0;
}
