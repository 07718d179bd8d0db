/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Write where a firmware's resource table lies into a devicetree, for the
 * side that must find it (seed 003: "patch the DTB from bootstrap code to
 * provide the resource table address"): rpk,rsc-offset and rpk,rsc-size on
 * the reserved-memory region that holds the table, as the binding names them
 * (docs/bindings/rpk,reserved-memory.yaml, docs/dtb-patch.md).
 *
 * Built for a boot loader: no allocation, no stdio, no OS header; it needs
 * libfdt (the boot loader's own, with its libfdt_env.h) and the core's ELF
 * reader (src/rproc/elf.c). Everything read from the image and the blob is
 * untrusted: a bad one gives an error code and a static reason, never an
 * access outside the buffers.
 */
#ifndef RPK_DTB_PATCH_H
#define RPK_DTB_PATCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Regions the result can list by name (more are tried, not listed). */
#define RPK_DTB_MAX_TRIED 16

/* Where the table is: the section's address (sh_addr, the device address
 * Linux's remoteproc looks the table up at) and its size in bytes. */
struct rpk_dtb_rsc {
	uint64_t addr;
	uint64_t size;
};

/* A region looked at: its node (-1 if a phandle pointed nowhere), and its
 * reg, if it had a usable one. */
struct rpk_dtb_region {
	int node;
	int has_reg;
	uint64_t base, size;
};

/*
 * What a patch did or why it did not. why is a static string (NULL on
 * success). node is the offset of the node looked up in the blob as it was
 * before the patch (writing into a region that comes before it moves it);
 * region, on success, the offset of the region patched, valid after it;
 * rsc_offset/rsc_size what was written.
 * On -RPK_ENOENT for "no region holds the table", tried lists the regions
 * looked at (num_tried may exceed RPK_DTB_MAX_TRIED: the rest are unlisted).
 */
struct rpk_dtb_result {
	const char *why;
	int node;
	int region;
	uint32_t rsc_offset, rsc_size;
	struct rpk_dtb_region tried[RPK_DTB_MAX_TRIED];
	int num_tried;
};

/*
 * The .resource_table section of an ELF32 or ELF64 image of either byte
 * order. Returns 0, -RPK_ENOENT (no such section), -RPK_ENOEXEC (a malformed
 * or truncated image, a section outside it, a table without contents or
 * smaller than a table header); *why (if given) says which.
 */
int rpk_dtb_rsc_from_elf(const void *img, size_t size, struct rpk_dtb_rsc *rsc, const char **why);

/*
 * Patch the devicetree in buf (bufsize bytes of room; the blob is reopened
 * in place to use all of it, the caller may fdt_pack() it after).
 *
 * node picks the side that must find the table: a path ("/remote", or an
 * alias), or a node name with or without its unit address ("remote",
 * "rsc-table@200c6000"), which must be unique. NULL tries every node with
 * compatible = "rpk,rpmsg-link". The node's memory-region entries are the
 * candidate regions; if the node itself is a region (it has reg and no
 * memory-region), it is the only candidate. The region whose reg
 * [base, base + size) holds [addr, addr + size) gets rpk,rsc-offset =
 * addr - base and rpk,rsc-size = size.
 *
 * Returns 0, or:
 *   -RPK_EINVAL  not a valid blob (or older than version 16), no such node,
 *                an ambiguous name, a node without memory-region, a table
 *                that would break the binding (offset not a multiple of 4,
 *                a trace buffer that would no longer fit, a region other
 *                than the one memory-region-names calls "rsc-table")
 *   -RPK_ENOENT  no region holds the table (res->tried lists them)
 *   -RPK_ENOSPC  bufsize leaves no room for the properties
 * res->why says which.
 */
int rpk_dtb_patch_rsc(void *buf, size_t bufsize, const char *node, const struct rpk_dtb_rsc *rsc,
		      struct rpk_dtb_result *res);

/* Both of the above: the table of the image img, patched into buf. */
int rpk_dtb_patch_firmware(void *buf, size_t bufsize, const char *node, const void *img,
			   size_t img_size, struct rpk_dtb_result *res);

#ifdef __cplusplus
}
#endif

#endif
