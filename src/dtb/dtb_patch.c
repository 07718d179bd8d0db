/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The resource table's place, written into a devicetree (include/rpk/dtb_patch.h).
 *
 * Not part of the core (cmake/sources.cmake's RPK_CORE_SOURCES): it needs
 * libfdt, which the core does not, so it is its own library, rpk_dtbpatch,
 * that the rpk tool links and a boot loader compiles with its own libfdt.
 * Like the core it allocates nothing and includes no OS header: libfdt.h
 * comes with the boot loader's libfdt_env.h.
 *
 * The properties go where host/layout/layout.c reads them: on the region
 * node under /reserved-memory, so a link node, a Linux rproc node and the
 * other side of the link that name the same region all see them.
 */
#include <libfdt.h>

#include <rpk/dtb_patch.h>
#include <rpk/elf.h>
#include <rpk/errno.h>

#define LINK_COMPATIBLE "rpk,rpmsg-link"
#define TABLE_HEADER	16u	    /* ver, num, reserved[2]: the least a table is */
#define TRACE_ALIGN	64u	    /* the trace buffer starts at this boundary after the table */
#define FDT_MAX_BUF	0x7fffffffu /* libfdt sizes are ints */

/* What holder_of() finds besides a region's offset. */
enum { NO_HOLDER = -1, NAMES_NO_REGION = -2 };

static int fail(struct rpk_dtb_result *res, int err, const char *why)
{
	res->why = why;
	return err;
}

int rpk_dtb_rsc_from_elf(const void *img, size_t size, struct rpk_dtb_rsc *rsc, const char **why)
{
	struct rpk_elf_section sec;
	struct rpk_elf e;
	const char *unused;
	int rc;

	if (!why)
		why = &unused;
	rc = rpk_elf_open(&e, img, size);
	if (!rc)
		rc = rpk_elf_find_section(&e, ".resource_table", &sec);
	if (rc == -RPK_ENOENT) {
		*why = "the firmware has no .resource_table section";
		return rc;
	}
	if (rc) {
		*why = e.why;
		return rc;
	}
	/* A NOBITS section claims any size and holds no table to find. */
	if (sec.type == RPK_SHT_NOBITS) {
		*why = "the firmware's .resource_table section has no contents (NOBITS)";
		return -RPK_ENOEXEC;
	}
	if (sec.size < TABLE_HEADER) {
		*why = "the firmware's .resource_table section is smaller than a resource table "
		       "header (16 bytes)";
		return -RPK_ENOEXEC;
	}
	if (sec.addr + sec.size < sec.addr) {
		*why = "the firmware's .resource_table section wraps around the address space";
		return -RPK_ENOEXEC;
	}
	rsc->addr = sec.addr;
	rsc->size = sec.size;
	return 0;
}

/* name is want, or want is name without its unit address ("remote@0"). */
static int name_matches(const char *name, int len, const char *want)
{
	int k = 0;

	while (k < len && want[k] && name[k] == want[k])
		k++;
	return !want[k] && (k == len || name[k] == '@');
}

/* The node a caller names: a path or alias, or a unique node name. */
static int find_node(const void *fdt, const char *want, struct rpk_dtb_result *res)
{
	int depth = 0, found = -FDT_ERR_NOTFOUND, off;

	if (!want[0])
		return fail(res, -RPK_EINVAL, "empty node name");
	if (want[0] != '/') {
		for (off = fdt_next_node(fdt, -1, &depth); off >= 0;
		     off = fdt_next_node(fdt, off, &depth)) {
			int len;
			const char *name = fdt_get_name(fdt, off, &len);

			if (!name || !name_matches(name, len, want))
				continue;
			if (found >= 0)
				return fail(res, -RPK_EINVAL,
					    "several nodes have that name: give the node's path");
			found = off;
		}
		if (found >= 0)
			return found;
	}
	off = fdt_path_offset(fdt, want); /* a path, or an alias */
	if (off < 0)
		return fail(res, -RPK_EINVAL, "the devicetree has no such node");
	return off;
}

/* reg = <base size>, first pair, cells as the parent says (1 or 2 each, as
 * the layout reads them); has_reg stays 0 for anything else. */
static void read_region(const void *fdt, int off, struct rpk_dtb_region *r)
{
	int parent = fdt_parent_offset(fdt, off), ac, sc, len;
	const fdt32_t *reg;

	r->node = off;
	r->has_reg = 0;
	r->base = r->size = 0;
	if (parent < 0)
		return;
	ac = fdt_address_cells(fdt, parent);
	sc = fdt_size_cells(fdt, parent);
	reg = fdt_getprop(fdt, off, "reg", &len);
	if (!reg || ac < 1 || ac > 2 || sc < 1 || sc > 2 || len < (ac + sc) * 4)
		return;
	for (int i = 0; i < ac; i++)
		r->base = (r->base << 32) | fdt32_to_cpu(reg[i]);
	for (int i = 0; i < sc; i++)
		r->size = (r->size << 32) | fdt32_to_cpu(reg[ac + i]);
	r->has_reg = 1;
}

/* [addr, addr + size) inside [base, base + size), without overflow. */
static int holds(const struct rpk_dtb_region *r, const struct rpk_dtb_rsc *t)
{
	return r->has_reg && t->addr >= r->base && t->addr - r->base <= r->size &&
	       t->size <= r->size - (t->addr - r->base);
}

static void note_tried(struct rpk_dtb_result *res, const struct rpk_dtb_region *r)
{
	for (int i = 0; i < res->num_tried && i < RPK_DTB_MAX_TRIED; i++)
		if (r->node >= 0 && res->tried[i].node == r->node)
			return; /* two link nodes naming one region: list it once */
	if (res->num_tried < RPK_DTB_MAX_TRIED)
		res->tried[res->num_tried] = *r;
	res->num_tried++;
}

/*
 * The region of node that holds the table, or NO_HOLDER; *index is its place
 * in memory-region (-1: the node is the region). NAMES_NO_REGION (res->why
 * set) for a node that names no regions.
 */
static int holder_of(const void *fdt, int node, const struct rpk_dtb_rsc *t, int *index,
		     struct rpk_dtb_result *res)
{
	struct rpk_dtb_region r;
	int len;
	const fdt32_t *mr = fdt_getprop(fdt, node, "memory-region", &len);

	if (!mr) {
		if (!fdt_getprop(fdt, node, "reg", NULL)) {
			fail(res, -RPK_EINVAL, "the node has no memory-region (and is no region)");
			return NAMES_NO_REGION;
		}
		read_region(fdt, node, &r); /* the caller named the region itself */
		note_tried(res, &r);
		*index = -1;
		return holds(&r, t) ? node : NO_HOLDER;
	}
	if (len <= 0 || len % 4) {
		fail(res, -RPK_EINVAL, "the node's memory-region is not a list of phandles");
		return NAMES_NO_REGION;
	}
	for (int i = 0; i < len / 4; i++) {
		int off = fdt_node_offset_by_phandle(fdt, fdt32_to_cpu(mr[i]));

		if (off < 0) {
			r.node = -1;
			r.has_reg = 0;
			r.base = r.size = 0;
		} else {
			read_region(fdt, off, &r);
		}
		note_tried(res, &r);
		if (holds(&r, t)) {
			*index = i;
			return off;
		}
	}
	return NO_HOLDER;
}

/* What the binding asks of the table's place, checked before writing, so a
 * patched devicetree still loads (host/layout/layout.c checks the same). */
static int check_place(const void *fdt, int node, int index, const struct rpk_dtb_region *r,
		       const struct rpk_dtb_rsc *t, struct rpk_dtb_result *res)
{
	uint64_t offset = t->addr - r->base, room = t->size;
	uint32_t trace_size;
	int len;
	const fdt32_t *trace, *given;

	/* A link node's rsc-table entry is where the layout looks for the
	 * properties: by name, or the first entry without names. */
	if (index >= 0 && !fdt_node_check_compatible(fdt, node, LINK_COMPATIBLE)) {
		int named = fdt_getprop(fdt, node, "memory-region-names", NULL) != NULL;
		int want =
		    named ? fdt_stringlist_search(fdt, node, "memory-region-names", "rsc-table")
			  : 0;

		if (want >= 0 && want != index)
			return fail(res, -RPK_EINVAL,
				    "the table lies in a region other than the node's rsc-table "
				    "region");
	}
	if (offset > 0xffffffffu || t->size > 0xffffffffu)
		return fail(res, -RPK_EINVAL,
			    "the table's offset or size does not fit the one-cell rpk,rsc-offset "
			    "and rpk,rsc-size");
	if (offset % 4)
		return fail(res, -RPK_EINVAL,
			    "the table's offset in its region is not a multiple of 4 (the "
			    "binding requires it)");
	/* Room the devicetree already gives the table (the seeds: 0x1000) stays,
	 * if the table fits it and it still fits the region: what follows (the
	 * trace buffer) keeps its place. */
	given = fdt_getprop(fdt, r->node, "rpk,rsc-size", &len);
	if (given && len == 4 && fdt32_to_cpu(*given) >= t->size &&
	    offset + fdt32_to_cpu(*given) <= r->size)
		room = fdt32_to_cpu(*given);
	trace = fdt_getprop(fdt, r->node, "rpk,trace-size", &len);
	if (trace && len == 4) {
		uint64_t at = (offset + room + TRACE_ALIGN - 1) & ~(uint64_t)(TRACE_ALIGN - 1);

		trace_size = fdt32_to_cpu(*trace);
		if (at + trace_size > r->size)
			return fail(res, -RPK_EINVAL,
				    "the region's trace buffer (rpk,trace-size) follows the table "
				    "and would no longer fit in the region");
	}
	res->rsc_offset = (uint32_t)offset;
	res->rsc_size = (uint32_t)room;
	return 0;
}

static int write_place(void *buf, size_t bufsize, int region, struct rpk_dtb_result *res)
{
	int rc = fdt_open_into(buf, buf, bufsize > FDT_MAX_BUF ? (int)FDT_MAX_BUF : (int)bufsize);

	if (!rc)
		rc = fdt_setprop_u32(buf, region, "rpk,rsc-offset", res->rsc_offset);
	if (!rc)
		rc = fdt_setprop_u32(buf, region, "rpk,rsc-size", res->rsc_size);
	if (rc == -FDT_ERR_NOSPACE)
		return fail(res, -RPK_ENOSPC,
			    "no room in the devicetree buffer for rpk,rsc-offset and rpk,rsc-size");
	if (rc)
		return fail(res, -RPK_EINVAL, "libfdt could not write the properties");
	res->region = region;
	return 0;
}

int rpk_dtb_patch_rsc(void *buf, size_t bufsize, const char *node, const struct rpk_dtb_rsc *rsc,
		      struct rpk_dtb_result *res)
{
	struct rpk_dtb_region r;
	int region = NO_HOLDER, index = -1, off;

	__builtin_memset(res, 0, sizeof(*res));
	res->node = res->region = -1;
	/* fdt_check_full: the structure too, which the lookups below trust.
	 * Version 16 at least: older blobs hold full paths as names, which
	 * fdt_get_name() and libfdt's checks do not expect (layout.c says more). */
	if (!buf || bufsize < sizeof(struct fdt_header) || fdt_check_header(buf) ||
	    fdt_totalsize(buf) > bufsize || fdt_version(buf) < 16 ||
	    fdt_check_full(buf, fdt_totalsize(buf)))
		return fail(res, -RPK_EINVAL,
			    "not a valid flattened devicetree (version 16 or later)");
	if (!rsc || rsc->size < TABLE_HEADER || rsc->addr + rsc->size < rsc->addr)
		return fail(res, -RPK_EINVAL, "the table's address and size are not a table's");

	if (node) {
		off = find_node(buf, node, res);
		if (off < 0)
			return off;
		res->node = off;
		region = holder_of(buf, off, rsc, &index, res);
		if (region == NAMES_NO_REGION)
			return -RPK_EINVAL;
	} else {
		for (off = fdt_node_offset_by_compatible(buf, -1, LINK_COMPATIBLE);
		     off >= 0 && region == NO_HOLDER;
		     off = fdt_node_offset_by_compatible(buf, off, LINK_COMPATIBLE)) {
			if (!fdt_getprop(buf, off, "memory-region", NULL))
				continue;
			res->node = off;
			region = holder_of(buf, off, rsc, &index, res);
			if (region == NAMES_NO_REGION)
				return -RPK_EINVAL;
		}
		if (res->node < 0)
			return fail(res, -RPK_EINVAL,
				    "no node given, and no node with compatible = "
				    "\"rpk,rpmsg-link\" and a memory-region");
	}
	if (region == NO_HOLDER)
		return fail(res, -RPK_ENOENT, "no region holds the table");
	read_region(buf, region, &r);
	off = check_place(buf, res->node, index, &r, rsc, res);
	if (off)
		return off;
	return write_place(buf, bufsize, region, res);
}

int rpk_dtb_patch_firmware(void *buf, size_t bufsize, const char *node, const void *img,
			   size_t img_size, struct rpk_dtb_result *res)
{
	struct rpk_dtb_rsc rsc;
	const char *why = 0;
	int rc = rpk_dtb_rsc_from_elf(img, img_size, &rsc, &why);

	if (rc) {
		__builtin_memset(res, 0, sizeof(*res));
		res->node = res->region = -1;
		return fail(res, rc, why);
	}
	return rpk_dtb_patch_rsc(buf, bufsize, node, &rsc, res);
}
