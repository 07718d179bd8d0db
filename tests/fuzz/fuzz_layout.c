/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: a link layout read from a flattened devicetree blob (the
 * input bytes). rpk_layout_from_fdt() must accept only a layout whose every
 * index points at a region of the right kind with sane sizes, and must keep
 * its error text NUL-terminated inside the buffer it was given, whatever its
 * size. Blob, layout and error buffers are exactly sized heap blocks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpk/errno.h>
#include <rpk/virtio.h>

#include "fuzz_common.h"

#include <rpk/layout.h>
#include "posix/rpk_posix.h"

#define PAGE 0x1000u

static int terminated(const char *s, size_t cap)
{
	return memchr(s, 0, cap) != NULL;
}

static void check_layout(const struct rpk_layout *lay)
{
	CHECK(lay->num_regions >= 0 && lay->num_regions <= RPK_LAYOUT_MAX_REGIONS);
	CHECK(lay->num_nodes >= 1 && lay->num_nodes <= RPK_LAYOUT_MAX_NODES);
	for (int i = 0; i < lay->num_regions; i++) {
		const struct rpk_region *r = &lay->regions[i];

		CHECK(terminated(r->name, sizeof(r->name)) && terminated(r->path, sizeof(r->path)));
		CHECK(r->size != 0 && r->da + r->size > r->da);
		CHECK(r->da % PAGE == 0 && r->size % PAGE == 0);
		if (r->has_rsc)
			CHECK(r->rsc_offset % 4 == 0 && r->rsc_size >= 16 &&
			      (uint64_t)r->rsc_offset + r->rsc_size <= r->size);
		for (int j = 0; j < i; j++) {
			const struct rpk_region *o = &lay->regions[j];

			CHECK(!(o->da < r->da + r->size && r->da < o->da + o->size));
		}
	}
	for (int i = 0; i < lay->num_nodes; i++) {
		const struct rpk_layout_node *n = &lay->nodes[i];
		const struct rpk_region *mb;

		CHECK(terminated(n->name, sizeof(n->name)) && terminated(n->path, sizeof(n->path)));
		CHECK(n->role == RPK_ROLE_MASTER || n->role == RPK_ROLE_REMOTE);
		for (int k = 0; k < RPK_REG_COUNT; k++) {
			CHECK(n->region[k] >= 0 && n->region[k] < lay->num_regions);
			CHECK(!lay->regions[n->region[k]].is_mailbox);
			CHECK(lay->regions[n->region[k]].size != 0);
			for (int j = 0; j < k; j++)
				CHECK(n->region[j] != n->region[k]);
		}
		CHECK(lay->regions[n->region[RPK_REG_RSC]].has_rsc);
		CHECK(n->mailbox >= 0 && n->mailbox < lay->num_regions);
		mb = &lay->regions[n->mailbox];
		CHECK(mb->is_mailbox && mb->size != 0);
		CHECK(n->tx_chan != n->rx_chan);
		CHECK(((uint64_t)n->tx_chan + 1) * RPK_BELL_STRIDE <= mb->size);
		CHECK(((uint64_t)n->rx_chan + 1) * RPK_BELL_STRIDE <= mb->size);
		CHECK(n->num_services >= 0 && n->num_services <= RPK_LAYOUT_MAX_SERVICES);
		for (int s = 0; s < n->num_services; s++)
			CHECK(n->services[s][0] && terminated(n->services[s], RPK_NAME_SIZE));
		if (n->vring_num || n->vring_align) {
			size_t vsize = rpk_vring_size(n->vring_num, n->vring_align);

			CHECK(vsize != 0);
			for (int k = RPK_REG_VRING0; k <= RPK_REG_VRING1; k++) {
				CHECK(vsize <= lay->regions[n->region[k]].size);
				CHECK(lay->regions[n->region[k]].da % n->vring_align == 0);
			}
			CHECK(rpk_layout_pool_size(n->vring_num) <=
			      lay->regions[n->region[RPK_REG_BUFFER]].size);
		} else {
			CHECK(n->role == RPK_ROLE_MASTER);
		}
		/* Rings below a cache line only where no side of the link caches. */
		if (n->vring_align && n->vring_align < RPK_CACHE_LINE)
			for (int j = 0; j < lay->num_nodes; j++)
				CHECK(!lay->nodes[j].cached ||
				      lay->nodes[j].region[RPK_REG_VRING0] !=
					  n->region[RPK_REG_VRING0]);
		CHECK(rpk_layout_find(lay, n->name) != NULL);
	}
}

/* One call with an error buffer of errlen bytes (none if 0); returns its result. */
static int load(const void *blob, size_t size, size_t errlen, int *has_text)
{
	struct rpk_layout *lay = malloc(sizeof(*lay));
	char *err = errlen ? malloc(errlen) : NULL;
	int r;

	if (!lay || (errlen && !err)) {
		free(lay);
		free(err);
		return 1;
	}
	if (err)
		memset(err, 'X', errlen);
	r = rpk_layout_from_fdt(blob, size, lay, err, errlen);
	CHECK(r == 0 || r == -RPK_EINVAL);
	if (err) {
		CHECK(terminated(err, errlen));
		*has_text = err[0] != 0;
	}
	if (r == 0)
		check_layout(lay);
	free(lay);
	free(err);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *blob = malloc(size ? size : 1);
	int text = 0, small_text = 0, r;

	if (!blob)
		return 0;
	if (size)
		memcpy(blob, data, size);
	r = load(blob, size, 4096, &text);
	if (r != 1) {
		/* Failure says why; success is silent. */
		CHECK(r == 0 ? !text : text);
		/* The answer does not depend on the error buffer, however small. */
		CHECK(load(blob, size, 1, &small_text) == r && !small_text);
		CHECK(load(blob, size, 23, &small_text) == r);
		CHECK(load(blob, size, 0, &small_text) == r);
	}
	free(blob);
	return 0;
}
