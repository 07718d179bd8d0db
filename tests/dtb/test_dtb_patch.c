/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk_dtb_patch_rsc() and rpk_dtb_rsc_from_elf() on blobs and images built
 * in memory (libfdt's sequential-write-free API, ELF headers by hand): what
 * a boot loader gets, without files or tools.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <libfdt.h>

#include <rpk/dtb_patch.h>
#include <rpk/errno.h>

#define BUF 8192

static uint8_t buf[BUF];

/* ---- devicetrees ---- */

static void set_reg(void *fdt, int node, int cells, uint64_t base, uint64_t size)
{
	fdt32_t reg[4];
	int n = 0;

	if (cells == 2)
		reg[n++] = cpu_to_fdt32((uint32_t)(base >> 32));
	reg[n++] = cpu_to_fdt32((uint32_t)base);
	if (cells == 2)
		reg[n++] = cpu_to_fdt32((uint32_t)(size >> 32));
	reg[n++] = cpu_to_fdt32((uint32_t)size);
	assert_int_equal(fdt_setprop(fdt, node, "reg", reg, n * 4), 0);
}

static int add_region(void *fdt, const char *name, uint32_t phandle, int cells, uint64_t base,
		      uint64_t size)
{
	int rm = fdt_path_offset(fdt, "/reserved-memory");
	int off = fdt_add_subnode(fdt, rm, name);

	assert_true(off >= 0);
	set_reg(fdt, off, cells, base, size);
	assert_int_equal(fdt_setprop_u32(fdt, off, "phandle", phandle), 0);
	return off;
}

/* A link side naming regions 1..4 (rsc-table, vring0, vring1, buffer). */
static void add_link(void *fdt, int parent, const char *name, const uint32_t *phandles, int count)
{
	fdt32_t mr[8];
	int off = fdt_add_subnode(fdt, parent, name);

	assert_true(off >= 0);
	assert_int_equal(fdt_setprop_string(fdt, off, "compatible", "rpk,rpmsg-link"), 0);
	for (int i = 0; i < count; i++)
		mr[i] = cpu_to_fdt32(phandles[i]);
	assert_int_equal(fdt_setprop(fdt, off, "memory-region", mr, count * 4), 0);
}

/* The seeds' layout (examples/dts/seed-tcc807x.dts) with cells-cell addresses,
 * without rpk,rsc-offset and rpk,rsc-size, packed: no room to spare. */
static void seed_tree(int cells)
{
	static const uint32_t link[] = {1, 2, 3, 4};
	int rm;

	memset(buf, 0, sizeof(buf));
	assert_int_equal(fdt_create_empty_tree(buf, BUF), 0);
	assert_int_equal(fdt_setprop_u32(buf, 0, "#address-cells", (uint32_t)cells), 0);
	assert_int_equal(fdt_setprop_u32(buf, 0, "#size-cells", (uint32_t)cells), 0);
	rm = fdt_add_subnode(buf, 0, "reserved-memory");
	assert_true(rm >= 0);
	assert_int_equal(fdt_setprop_u32(buf, rm, "#address-cells", (uint32_t)cells), 0);
	assert_int_equal(fdt_setprop_u32(buf, rm, "#size-cells", (uint32_t)cells), 0);
	add_region(buf, "rsc-table@200c6000", 1, cells, 0x200c6000, 0x2000);
	add_region(buf, "vdev0vring0@200c8000", 2, cells, 0x200c8000, 0x1000);
	add_region(buf, "vdev0vring1@200c9000", 3, cells, 0x200c9000, 0x1000);
	add_region(buf, "vdev0buffer@200ca000", 4, cells, 0x200ca000, 0x4000);
	add_link(buf, 0, "master", link, 4);
	add_link(buf, 0, "remote", link, 4);
	assert_int_equal(fdt_pack(buf), 0);
}

static uint32_t prop_u32(const char *path, const char *name)
{
	int len = 0, off = fdt_path_offset(buf, path);
	const fdt32_t *p = off >= 0 ? fdt_getprop(buf, off, name, &len) : NULL;

	assert_non_null(p);
	assert_int_equal(len, 4);
	return fdt32_to_cpu(*p);
}

static const struct rpk_dtb_rsc seed_table = {0x200c63b8, 0x58};

/* ---- the patch ---- */

static void test_patch_seed(void **state)
{
	struct rpk_dtb_result res;
	char path[128];

	(void)state;
	for (int cells = 1; cells <= 2; cells++) {
		seed_tree(cells);
		assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, "remote", &seed_table, &res), 0);
		assert_null(res.why);
		assert_int_equal(res.rsc_offset, 0x3b8);
		assert_int_equal(res.rsc_size, 0x58);
		assert_int_equal(fdt_check_full(buf, BUF), 0);
		assert_int_equal(fdt_get_path(buf, res.region, path, sizeof(path)), 0);
		assert_string_equal(path, "/reserved-memory/rsc-table@200c6000");
		assert_int_equal(prop_u32(path, "rpk,rsc-offset"), 0x3b8);
		assert_int_equal(prop_u32(path, "rpk,rsc-size"), 0x58);
		/* Again over its own output: the same values, written over. */
		assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, "remote", &seed_table, &res), 0);
		assert_int_equal(prop_u32(path, "rpk,rsc-size"), 0x58);
	}
}

static void test_node_names(void **state)
{
	static const char *const names[] = {NULL,
					    "remote",
					    "/master",
					    "rsc-table",
					    "rsc-table@200c6000",
					    "/reserved-memory/rsc-table@200c6000",
					    "fw"};
	struct rpk_dtb_result res;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int aliases;

		seed_tree(2);
		assert_int_equal(fdt_open_into(buf, buf, BUF), 0);
		aliases = fdt_add_subnode(buf, 0, "aliases");
		assert_int_equal(fdt_setprop_string(buf, aliases, "fw", "/remote"), 0);
		assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, names[i], &seed_table, &res), 0);
		assert_int_equal(prop_u32("/reserved-memory/rsc-table@200c6000", "rpk,rsc-offset"),
				 0x3b8);
	}
}

static void test_node_errors(void **state)
{
	static const uint32_t link[] = {1, 2, 3, 4};
	struct rpk_dtb_result res;
	int a;

	(void)state;
	seed_tree(2);
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, "nosuch", &seed_table, &res), -RPK_EINVAL);
	assert_string_equal(res.why, "the devicetree has no such node");
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, "", &seed_table, &res), -RPK_EINVAL);
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, "/", &seed_table, &res), -RPK_EINVAL);
	assert_string_equal(res.why, "the node has no memory-region (and is no region)");
	/* Two nodes called remote: a name must be unique, a path works. */
	assert_int_equal(fdt_open_into(buf, buf, BUF), 0);
	a = fdt_add_subnode(buf, 0, "other");
	add_link(buf, a, "remote", link, 4);
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, "remote", &seed_table, &res), -RPK_EINVAL);
	assert_string_equal(res.why, "several nodes have that name: give the node's path");
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, "/other/remote", &seed_table, &res), 0);
	/* memory-region that is not a list of phandles. */
	a = fdt_path_offset(buf, "/other/remote");
	assert_int_equal(fdt_setprop(buf, a, "memory-region", "abc", 3), 0);
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, "/other/remote", &seed_table, &res),
			 -RPK_EINVAL);
	assert_string_equal(res.why, "the node's memory-region is not a list of phandles");
}

static void test_no_region_holds(void **state)
{
	const struct rpk_dtb_rsc away = {0x30000000, 0x58}, across = {0x200c7fc0, 0x58};
	struct rpk_dtb_result res;

	(void)state;
	seed_tree(2);
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, "remote", &away, &res), -RPK_ENOENT);
	assert_string_equal(res.why, "no region holds the table");
	assert_int_equal(res.num_tried, 4);
	assert_int_equal(res.tried[0].base, 0x200c6000);
	assert_int_equal(res.tried[0].size, 0x2000);
	assert_int_equal(res.tried[3].base, 0x200ca000);
	/* Every link node tried, each region listed once. */
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, NULL, &away, &res), -RPK_ENOENT);
	assert_int_equal(res.num_tried, 4);
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, "remote", &across, &res), -RPK_ENOENT);
	/* A memory-region phandle that points nowhere is tried, not followed. */
	assert_int_equal(fdt_open_into(buf, buf, BUF), 0);
	assert_int_equal(fdt_setprop_u32(buf, fdt_path_offset(buf, "/remote"), "memory-region", 99),
			 0);
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, "remote", &seed_table, &res), -RPK_ENOENT);
	assert_int_equal(res.num_tried, 1);
	assert_int_equal(res.tried[0].node, -1);
}

static void test_binding_rules(void **state)
{
	const struct rpk_dtb_rsc odd = {0x200c63ba, 0x58}, vring = {0x200c8000, 0x58},
				 late = {0x200c7800, 0x58}, early = {0x200c6000, 0x58};
	static const char reordered[] = "vring0\0rsc-table\0vring1\0buffer";
	struct rpk_dtb_result res;
	int rsc;

	(void)state;
	seed_tree(2);
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, "remote", &odd, &res), -RPK_EINVAL);
	assert_string_equal(res.why, "the table's offset in its region is not a multiple of 4 (the "
				     "binding requires it)");
	/* In the link's vring0 region, the layout would not find it. */
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, "remote", &vring, &res), -RPK_EINVAL);
	assert_string_equal(res.why,
			    "the table lies in a region other than the node's rsc-table region");
	/* Named in another order: the rsc-table entry is the one by name. */
	assert_int_equal(fdt_open_into(buf, buf, BUF), 0);
	assert_int_equal(fdt_setprop(buf, fdt_path_offset(buf, "/remote"), "memory-region-names",
				     reordered, sizeof(reordered)),
			 0);
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, "remote", &seed_table, &res), -RPK_EINVAL);
	/* A trace buffer follows the table and must still fit its region. */
	seed_tree(2);
	assert_int_equal(fdt_open_into(buf, buf, BUF), 0);
	rsc = fdt_path_offset(buf, "/reserved-memory/rsc-table@200c6000");
	assert_int_equal(fdt_setprop_u32(buf, rsc, "rpk,trace-size", 0x800), 0);
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, "remote", &late, &res), -RPK_EINVAL);
	assert_string_equal(res.why, "the region's trace buffer (rpk,trace-size) follows the table "
				     "and would no longer fit in the region");
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, "remote", &early, &res), 0);
	assert_int_equal(res.rsc_offset, 0);
}

static void test_big_regions(void **state)
{
	const struct rpk_dtb_rsc far = {0x1100000000ull, 0x100}, wraps = {~0ull - 8, 0x100};
	static const uint32_t link[] = {7};
	struct rpk_dtb_result res;

	(void)state;
	seed_tree(2);
	assert_int_equal(fdt_open_into(buf, buf, BUF), 0);
	add_region(buf, "big@1000000000", 7, 2, 0x1000000000ull, 0x200000000ull);
	add_link(buf, 0, "big", link, 1);
	/* More than 4 GiB into the region: rpk,rsc-offset has one cell. */
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, "big", &far, &res), -RPK_EINVAL);
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, "big", &wraps, &res), -RPK_EINVAL);
	assert_string_equal(res.why, "the table's address and size are not a table's");
}

static void test_room(void **state)
{
	struct rpk_dtb_result res;
	size_t packed;

	(void)state;
	seed_tree(2);
	packed = fdt_totalsize(buf);
	assert_int_equal(rpk_dtb_patch_rsc(buf, packed, "remote", &seed_table, &res), -RPK_ENOSPC);
	assert_non_null(res.why);
	seed_tree(2);
	assert_int_equal(rpk_dtb_patch_rsc(buf, packed + 64, "remote", &seed_table, &res), 0);
	assert_true(fdt_totalsize(buf) <= packed + 64);
	assert_int_equal(fdt_pack(buf), 0);
	assert_int_equal(fdt_check_full(buf, fdt_totalsize(buf)), 0);
}

static void test_bad_blobs(void **state)
{
	struct rpk_dtb_result res;

	(void)state;
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, NULL, &seed_table, &res), -RPK_EINVAL);
	assert_string_equal(res.why, "not a valid flattened devicetree (version 16 or later)");
	assert_int_equal(rpk_dtb_patch_rsc(NULL, BUF, NULL, &seed_table, &res), -RPK_EINVAL);
	seed_tree(2);
	assert_int_equal(rpk_dtb_patch_rsc(buf, fdt_totalsize(buf) - 1, NULL, &seed_table, &res),
			 -RPK_EINVAL);
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, NULL, NULL, &res), -RPK_EINVAL);
	/* Truncated structure: the header says more than the structure holds. */
	fdt_set_size_dt_struct(buf, fdt_size_dt_struct(buf) - 8);
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, NULL, &seed_table, &res), -RPK_EINVAL);
	/* No node named, no link node. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(fdt_create_empty_tree(buf, BUF), 0);
	assert_int_equal(rpk_dtb_patch_rsc(buf, BUF, NULL, &seed_table, &res), -RPK_EINVAL);
	assert_string_equal(res.why, "no node given, and no node with compatible = "
				     "\"rpk,rpmsg-link\" and a memory-region");
}

/* ---- ELF images ---- */

struct elf_spec {
	int is64, big;
	uint64_t addr, size;
	const char *name;
	uint32_t type; /* 1 PROGBITS, 8 NOBITS */
};

static void put(uint8_t *p, uint64_t v, int bytes, int big)
{
	for (int i = 0; i < bytes; i++)
		p[big ? bytes - 1 - i : i] = (uint8_t)(v >> (8 * i));
}

/* Header, the table's bytes, the name table, three section headers. */
static size_t make_elf(uint8_t *img, size_t cap, const struct elf_spec *s)
{
	const int eh = s->is64 ? 64 : 52, sh = s->is64 ? 64 : 40, w = s->is64 ? 8 : 4;
	const char names[] = "\0.shstrtab\0";
	size_t name_len = strlen(s->name) + 1, data = (size_t)eh,
	       body = s->type == 8 ? 0 : (size_t)s->size, strtab = data + body,
	       shoff = (strtab + sizeof(names) + name_len + 7) & ~(size_t)7;
	uint8_t *h;

	assert_true(shoff + 3 * (size_t)sh <= cap);
	memset(img, 0, cap);
	memcpy(img, "\177ELF", 4);
	img[4] = s->is64 ? 2 : 1;
	img[5] = s->big ? 2 : 1;
	img[6] = 1;
	put(img + 16, 2, 2, s->big);  /* ET_EXEC */
	put(img + 18, 40, 2, s->big); /* EM_ARM */
	put(img + 20, 1, 4, s->big);
	put(img + (s->is64 ? 40 : 32), shoff, w, s->big);
	put(img + (s->is64 ? 52 : 40), (uint64_t)eh, 2, s->big);
	put(img + (s->is64 ? 58 : 46), (uint64_t)sh, 2, s->big);
	put(img + (s->is64 ? 60 : 48), 3, 2, s->big);
	put(img + (s->is64 ? 62 : 50), 2, 2, s->big);
	memset(img + data, 0x11, body);
	memcpy(img + strtab, names, sizeof(names));
	memcpy(img + strtab + sizeof(names), s->name, name_len);
	/* [1] the table, [2] the name table */
	h = img + shoff + sh;
	put(h, sizeof(names), 4, s->big);
	put(h + 4, s->type, 4, s->big);
	put(h + (s->is64 ? 16 : 12), s->addr, w, s->big);
	put(h + (s->is64 ? 24 : 16), data, w, s->big);
	put(h + (s->is64 ? 32 : 20), s->size, w, s->big);
	h += sh;
	put(h, 1, 4, s->big);
	put(h + 4, 3, 4, s->big); /* SHT_STRTAB */
	put(h + (s->is64 ? 24 : 16), strtab, w, s->big);
	put(h + (s->is64 ? 32 : 20), sizeof(names) + name_len, w, s->big);
	return shoff + 3 * (size_t)sh;
}

static void test_elf_both_orders_and_classes(void **state)
{
	static uint8_t img[1024];
	struct rpk_dtb_result res;
	struct rpk_dtb_rsc rsc;
	const char *why;

	(void)state;
	for (int k = 0; k < 4; k++) {
		struct elf_spec s = {k & 1, k >> 1, 0x200c63b8, 0x58, ".resource_table", 1};
		size_t size = make_elf(img, sizeof(img), &s);

		assert_int_equal(rpk_dtb_rsc_from_elf(img, size, &rsc, &why), 0);
		assert_int_equal(rsc.addr, 0x200c63b8);
		assert_int_equal(rsc.size, 0x58);
		seed_tree(2);
		assert_int_equal(rpk_dtb_patch_firmware(buf, BUF, NULL, img, size, &res), 0);
		assert_int_equal(prop_u32("/reserved-memory/rsc-table@200c6000", "rpk,rsc-size"),
				 0x58);
	}
}

static void test_elf_errors(void **state)
{
	static uint8_t img[1024];
	struct elf_spec s = {0, 0, 0x200c63b8, 0x58, ".text", 1};
	struct rpk_dtb_result res;
	struct rpk_dtb_rsc rsc;
	const char *why;
	size_t size = make_elf(img, sizeof(img), &s);

	(void)state;
	assert_int_equal(rpk_dtb_rsc_from_elf(img, size, &rsc, &why), -RPK_ENOENT);
	assert_string_equal(why, "the firmware has no .resource_table section");
	seed_tree(2);
	assert_int_equal(rpk_dtb_patch_firmware(buf, BUF, NULL, img, size, &res), -RPK_ENOENT);
	assert_string_equal(res.why, "the firmware has no .resource_table section");
	assert_int_equal(rpk_dtb_rsc_from_elf(img, size - 1, &rsc, &why), -RPK_ENOEXEC);
	assert_string_equal(why, "section header table outside the image");
	assert_int_equal(rpk_dtb_rsc_from_elf(img, 20, &rsc, NULL), -RPK_ENOEXEC);

	s.name = ".resource_table";
	s.type = 8;
	size = make_elf(img, sizeof(img), &s);
	assert_int_equal(rpk_dtb_rsc_from_elf(img, size, &rsc, &why), -RPK_ENOEXEC);
	assert_string_equal(why, "the firmware's .resource_table section has no contents (NOBITS)");
	s.type = 1;
	s.size = 8;
	size = make_elf(img, sizeof(img), &s);
	assert_int_equal(rpk_dtb_rsc_from_elf(img, size, &rsc, &why), -RPK_ENOEXEC);
	s.size = 0x58;
	s.addr = ~0ull - 0x10;
	s.is64 = 1;
	size = make_elf(img, sizeof(img), &s);
	assert_int_equal(rpk_dtb_rsc_from_elf(img, size, &rsc, &why), -RPK_ENOEXEC);
	assert_string_equal(
	    why, "the firmware's .resource_table section wraps around the address space");
	/* The table's bytes said to lie past the image's end. */
	s.addr = 0x200c63b8;
	s.is64 = 0;
	size = make_elf(img, sizeof(img), &s);
	put(img + size - 3 * 40 + 40 + 16, 0x7ffffff0, 4, 0); /* section 1's sh_offset */
	assert_int_equal(rpk_dtb_rsc_from_elf(img, size, &rsc, &why), -RPK_ENOEXEC);
	assert_string_equal(why, "section's bytes lie outside the image");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_patch_seed),
	    cmocka_unit_test(test_node_names),
	    cmocka_unit_test(test_node_errors),
	    cmocka_unit_test(test_no_region_holds),
	    cmocka_unit_test(test_binding_rules),
	    cmocka_unit_test(test_big_regions),
	    cmocka_unit_test(test_room),
	    cmocka_unit_test(test_bad_blobs),
	    cmocka_unit_test(test_elf_both_orders_and_classes),
	    cmocka_unit_test(test_elf_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
