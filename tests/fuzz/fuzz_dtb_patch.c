/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: rpk dtb patch's function (src/dtb/dtb_patch.c) on a hostile
 * firmware image and a hostile devicetree blob at once. Input:
 *
 *   byte 0     bits 0-2: the node to look up (NULL, "remote", "/master",
 *              "rsc-table", "/", "rproc", a region's full path, "nosuch");
 *              bit 3: the table's address and size are the first 16 bytes
 *              of the image part (little-endian u64s) instead of its
 *              .resource_table section, so the blob side is reached with
 *              any table; bits 4-7: 16-byte units of room after the blob
 *   bytes 1-4  length of the image part (little-endian, cut to what is left)
 *   then       the image part, then the blob
 *
 * Both parts are exactly sized heap copies (the blob's buffer is the blob
 * plus the room), so AddressSanitizer sees any access outside them. After a
 * patch the blob must still be a valid one inside its buffer, holding the
 * values the result reports.
 */
#include <libfdt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rpk/dtb_patch.h>
#include <rpk/errno.h>

#include "fuzz_common.h"

static const char *const node_names[8] = {
    NULL,    "remote", "/master", "rsc-table", "/", "rproc", "/reserved-memory/rsc-table@200c6000",
    "nosuch"};

UNTRACED static uint32_t read_prop(const void *fdt, int node, const char *name)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	CHECK(p && len == 4);
	return fdt32_to_cpu(*p);
}

UNTRACED static void check_result(int rc, const struct rpk_dtb_result *res, const uint8_t *buf,
				  size_t bufsize)
{
	CHECK(rc == 0 || rc == -RPK_EINVAL || rc == -RPK_ENOENT || rc == -RPK_ENOSPC ||
	      rc == -RPK_ENOEXEC);
	CHECK((rc == 0) == (res->why == NULL));
	CHECK(res->num_tried >= 0);
	if (rc)
		return;
	CHECK(fdt_totalsize(buf) <= bufsize);
	CHECK(fdt_check_full(buf, fdt_totalsize(buf)) == 0);
	CHECK(res->region >= 0);
	CHECK(read_prop(buf, res->region, "rpk,rsc-offset") == res->rsc_offset);
	CHECK(read_prop(buf, res->region, "rpk,rsc-size") == res->rsc_size);
	CHECK(res->rsc_offset % 4 == 0 && res->rsc_size >= 16);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpk_dtb_result res;
	struct in in = {data, size};
	uint8_t flags = in_u8(&in);
	size_t img_size = in_u32(&in), room = (size_t)(flags >> 4) * 16, dtb_size, bufsize;
	const char *node = node_names[flags & 7];
	uint8_t *img, *buf;
	int rc;

	if (img_size > in.n)
		img_size = in.n;
	dtb_size = in.n - img_size;
	bufsize = dtb_size + room;
	img = malloc(img_size ? img_size : 1);
	buf = malloc(bufsize ? bufsize : 1);
	memcpy(img, in.p, img_size);
	memcpy(buf, in.p + img_size, dtb_size);
	if (flags & 8) {
		struct in raw = {img, img_size};
		struct rpk_dtb_rsc rsc;

		rsc.addr = in_u64(&raw);
		rsc.size = in_u64(&raw);
		rc = rpk_dtb_patch_rsc(buf, bufsize, node, &rsc, &res);
		check_result(rc, &res, buf, bufsize);
		if (!rc) /* the room written holds the table (it may be more) */
			CHECK(res.rsc_size >= rsc.size);
	} else {
		rc = rpk_dtb_patch_firmware(buf, bufsize, node, img, img_size, &res);
		check_result(rc, &res, buf, bufsize);
	}
	free(img);
	free(buf);
	return 0;
}
