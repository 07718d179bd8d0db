/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk dtb patch: write where a firmware's resource table lies into a
 * devicetree blob (rpk,rsc-offset, rpk,rsc-size on the region that holds
 * it). A thin shell around rpk_dtb_patch_rsc(), the function a boot loader
 * links (src/dtb/dtb_patch.c): files in and out, and the messages.
 */
#include <getopt.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpk/dtb_patch.h>
#include <rpk/errno.h>

#include "rpk_tool.h"

/* Room for two one-cell properties and their names, with plenty to spare. */
#define DTB_GROWTH 4096u

static void usage(FILE *f)
{
	fprintf(f, "usage: rpk dtb patch --firmware ELF IN.dtb OUT.dtb [--node PATH|NAME]\n\n"
		   "Find the firmware's .resource_table section (its address and size) and\n"
		   "write its place into the devicetree, as rpk,rsc-offset and rpk,rsc-size on\n"
		   "the reserved-memory region that holds it: a region named by the node's\n"
		   "memory-region (see docs/dtb-patch.md). OUT.dtb may be IN.dtb.\n\n"
		   "options:\n"
		   "  --firmware ELF   the image holding the table (ELF32/64, either byte order)\n"
		   "  --node PATH|NAME the side that must find the table: a path, an alias or a\n"
		   "                   unique node name (default: every rpk,rpmsg-link node)\n"
		   "  -h, --help       this text\n");
}

/* A node's path for a message; "?" if libfdt cannot give one. */
static const char *path_of(const void *fdt, int off, char *buf, int len)
{
	if (off < 0 || fdt_get_path(fdt, off, buf, len) < 0)
		snprintf(buf, (size_t)len, "?");
	return buf;
}

static void print_tried(const void *fdt, const struct rpk_dtb_result *res)
{
	char path[256];

	fprintf(stderr, "regions tried:\n");
	for (int i = 0; i < res->num_tried && i < RPK_DTB_MAX_TRIED; i++) {
		const struct rpk_dtb_region *r = &res->tried[i];

		if (r->node < 0)
			fprintf(stderr, "  (a memory-region phandle that points to no node)\n");
		else if (!r->has_reg)
			fprintf(stderr, "  %s (no usable reg)\n",
				path_of(fdt, r->node, path, sizeof(path)));
		else
			fprintf(stderr, "  %s [0x%llx, 0x%llx)\n",
				path_of(fdt, r->node, path, sizeof(path)),
				(unsigned long long)r->base,
				(unsigned long long)(r->base + r->size));
	}
	if (res->num_tried > RPK_DTB_MAX_TRIED)
		fprintf(stderr, "  and %d more\n", res->num_tried - RPK_DTB_MAX_TRIED);
	if (!res->num_tried)
		fprintf(stderr, "  none\n");
}

static int write_file(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(data, 1, size, f) == size;

	if (f && fclose(f))
		ok = 0;
	if (!ok)
		fprintf(stderr, "rpk dtb patch: %s: cannot write it\n", path);
	return ok ? 0 : -1;
}

static int patch(const char *firmware, const char *in, const char *out, const char *node)
{
	struct rpk_dtb_result res;
	struct rpk_dtb_rsc rsc;
	const char *why = NULL;
	char path[256], region[256];
	size_t img_size, dtb_size;
	uint8_t *img = read_whole_file("dtb patch", firmware, &img_size), *dtb = NULL, *buf = NULL;
	int rc = -1;

	if (!img)
		return 1;
	if (rpk_dtb_rsc_from_elf(img, img_size, &rsc, &why)) {
		fprintf(stderr, "rpk dtb patch: %s: %s\n", firmware, why);
		goto out;
	}
	dtb = read_whole_file("dtb patch", in, &dtb_size);
	if (!dtb)
		goto out;
	if (dtb_size <= 0x7fffffffu - DTB_GROWTH)
		buf = calloc(1, dtb_size + DTB_GROWTH);
	if (!buf) {
		fprintf(stderr, "rpk dtb patch: %s: too large\n", in);
		goto out;
	}
	memcpy(buf, dtb, dtb_size);
	rc = rpk_dtb_patch_rsc(buf, dtb_size + DTB_GROWTH, node, &rsc, &res);
	if (rc == -RPK_ENOENT) {
		fprintf(stderr,
			"rpk dtb patch: %s: no region holds the table [0x%llx, 0x%llx) (%s's "
			".resource_table, 0x%llx bytes) for %s\n",
			in, (unsigned long long)rsc.addr, (unsigned long long)(rsc.addr + rsc.size),
			firmware, (unsigned long long)rsc.size,
			node ? path_of(dtb, res.node, path, sizeof(path))
			     : "any rpk,rpmsg-link node");
		print_tried(dtb, &res);
	} else if (rc && res.node >= 0) {
		fprintf(stderr, "rpk dtb patch: %s: %s: %s\n", in,
			path_of(dtb, res.node, path, sizeof(path)), res.why);
	} else if (rc && node) {
		fprintf(stderr, "rpk dtb patch: %s: node '%s': %s\n", in, node, res.why);
	} else if (rc) {
		fprintf(stderr, "rpk dtb patch: %s: %s\n", in, res.why);
	}
	if (rc)
		goto out;
	path_of(dtb, res.node, path, sizeof(path)); /* its offset before the patch */
	path_of(buf, res.region, region, sizeof(region));
	fdt_pack(buf);
	rc = write_file(out, buf, fdt_totalsize(buf));
	if (!rc)
		printf("rpk dtb patch: %s: %s: rpk,rsc-offset = <0x%x>, rpk,rsc-size = <0x%x> "
		       "(%s's table at 0x%llx, for %s)\n",
		       out, region, res.rsc_offset, res.rsc_size, firmware,
		       (unsigned long long)rsc.addr, path);
out:
	free(img);
	free(dtb);
	free(buf);
	return rc ? 1 : 0;
}

int cmd_dtb(int argc, char **argv)
{
	static const struct option opts[] = {{"firmware", required_argument, 0, 'f'},
					     {"node", required_argument, 0, 'n'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	const char *firmware = NULL, *node = NULL;
	int c;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "patch")) {
		usage(stderr);
		return 2;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			firmware = optarg;
			break;
		case 'n':
			node = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!firmware || optind != argc - 2) {
		fprintf(stderr, "rpk dtb patch: need --firmware ELF, IN.dtb and OUT.dtb\n");
		usage(stderr);
		return 2;
	}
	return patch(firmware, argv[optind], argv[optind + 1], node);
}
