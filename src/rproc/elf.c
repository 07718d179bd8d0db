/* SPDX-License-Identifier: BSD-3-Clause */
#include <rpk/elf.h>
#include <rpk/errno.h>

#include "common/byteorder.h"

#define PN_XNUM	    0xffffu
#define ELFDATA2LSB 1u
#define ELFDATA2MSB 2u

/* A field of bytes bytes in the image's byte order (EI_DATA), whatever the CPU's. */
static uint64_t get(const struct rpk_elf *e, const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v = (v << 8) | p[e->big_endian ? i : bytes - 1 - i];
	return v;
}

/* Field of an ELF32 or ELF64 structure: offsets and widths for each class. */
static uint64_t field(const struct rpk_elf *e, const uint8_t *base, unsigned off32, unsigned w32,
		      unsigned off64, unsigned w64)
{
	return e->is64 ? get(e, base + off64, w64) : get(e, base + off32, w32);
}

static int bad(struct rpk_elf *e, const char *why)
{
	e->why = why;
	return -RPK_ENOEXEC;
}

/* A failed open leaves no table to walk: later calls find nothing. */
static int bad_open(struct rpk_elf *e, const char *why)
{
	e->phnum = 0;
	e->shnum = 0;
	return bad(e, why);
}

/* [off, off + len) inside the image, without overflow. */
static int inside(const struct rpk_elf *e, uint64_t off, uint64_t len)
{
	return off <= e->size && len <= e->size - off;
}

int rpk_elf_open(struct rpk_elf *e, const void *img, size_t size)
{
	const uint8_t *h = img;

	__builtin_memset(e, 0, sizeof(*e));
	e->img = img;
	e->size = size;
	if (!img || size < 52 || h[0] != 0x7f || h[1] != 'E' || h[2] != 'L' || h[3] != 'F')
		return bad_open(e, "not an ELF image");
	if (h[4] != 1 && h[4] != 2)
		return bad_open(e, "unknown ELF class");
	e->is64 = h[4] == 2;
	if (h[5] != ELFDATA2LSB && h[5] != ELFDATA2MSB)
		return bad_open(e, "unknown ELF data encoding (byte order)");
	e->big_endian = h[5] == ELFDATA2MSB;
	if (h[6] != 1)
		return bad_open(e, "unknown ELF version");
	if (e->is64 && size < 64)
		return bad_open(e, "truncated ELF64 header");
	e->machine = (uint16_t)get(e, h + 18, 2);
	e->entry = field(e, h, 24, 4, 24, 8);
	e->phoff = field(e, h, 28, 4, 32, 8);
	e->shoff = field(e, h, 32, 4, 40, 8);
	e->phentsize = (uint16_t)field(e, h, 42, 2, 54, 2);
	e->phnum = (uint16_t)field(e, h, 44, 2, 56, 2);
	e->shentsize = (uint16_t)field(e, h, 46, 2, 58, 2);
	e->shnum = (uint16_t)field(e, h, 48, 2, 60, 2);
	e->shstrndx = (uint16_t)field(e, h, 50, 2, 62, 2);

	if (e->phnum == PN_XNUM)
		return bad_open(e, "extended program header numbering is not supported");
	if (e->phnum && (e->phentsize != (e->is64 ? 56 : 32) ||
			 !inside(e, e->phoff, (uint64_t)e->phnum * e->phentsize)))
		return bad_open(e, "program header table outside the image");
	if (e->shnum && (e->shentsize != (e->is64 ? 64 : 40) ||
			 !inside(e, e->shoff, (uint64_t)e->shnum * e->shentsize)))
		return bad_open(e, "section header table outside the image");
	if (e->shnum && e->shstrndx >= e->shnum)
		return bad_open(e, "section name table index out of range");
	return 0;
}

int rpk_elf_segment(struct rpk_elf *e, uint32_t i, struct rpk_elf_segment *out)
{
	const uint8_t *p;

	if (i >= e->phnum)
		return -RPK_ENOENT;
	p = e->img + e->phoff + (uint64_t)i * e->phentsize;
	out->type = (uint32_t)get(e, p, 4);
	out->flags = (uint32_t)field(e, p, 24, 4, 4, 4);
	out->offset = field(e, p, 4, 4, 8, 8);
	out->da = field(e, p, 12, 4, 24, 8);
	out->filesz = field(e, p, 16, 4, 32, 8);
	out->memsz = field(e, p, 20, 4, 40, 8);
	if (out->filesz > out->memsz)
		return bad(e, "segment has more file bytes than memory bytes");
	if (!inside(e, out->offset, out->filesz))
		return bad(e, "segment's bytes lie outside the image");
	if (out->da + out->memsz < out->da)
		return bad(e, "segment wraps around the address space");
	return 0;
}

/* Name at offset off in the section name table, or NULL. */
static const char *section_name(struct rpk_elf *e, uint64_t off)
{
	const uint8_t *s = e->img + e->shoff + (uint64_t)e->shstrndx * e->shentsize;
	uint64_t tab = field(e, s, 16, 4, 24, 8), len = field(e, s, 20, 4, 32, 8);

	if (!inside(e, tab, len) || off >= len)
		return 0;
	for (uint64_t k = off; k < len; k++)
		if (!e->img[tab + k])
			return (const char *)e->img + tab + off;
	return 0;
}

int rpk_elf_section(struct rpk_elf *e, uint32_t i, struct rpk_elf_section *out)
{
	const uint8_t *s;

	if (i >= e->shnum)
		return -RPK_ENOENT;
	s = e->img + e->shoff + (uint64_t)i * e->shentsize;
	out->type = (uint32_t)get(e, s + 4, 4);
	out->addr = field(e, s, 12, 4, 16, 8);
	out->offset = field(e, s, 16, 4, 24, 8);
	out->size = field(e, s, 20, 4, 32, 8);
	out->name = section_name(e, get(e, s, 4));
	if (!out->name)
		return bad(e, "section name outside the name table");
	if (out->type != RPK_SHT_NOBITS && !inside(e, out->offset, out->size))
		return bad(e, "section's bytes lie outside the image");
	return 0;
}

int rpk_elf_find_section(struct rpk_elf *e, const char *name, struct rpk_elf_section *out)
{
	for (uint32_t i = 1; i < e->shnum; i++) {
		int rc = rpk_elf_section(e, i, out);
		uint32_t k = 0;

		if (rc)
			return rc;
		while (name[k] && out->name[k] == name[k])
			k++;
		if (!name[k] && !out->name[k])
			return 0;
	}
	return -RPK_ENOENT;
}

int rpk_elf_check_byte_order(struct rpk_elf *e)
{
	/* Its resource table, its rings and its rpmsg headers would be in the
	 * other byte order (all native-endian): a firmware for another CPU. */
	if (e->big_endian == cpu_big_endian())
		return 0;
	return bad(e, e->big_endian ? "the firmware is big-endian and this CPU little-endian: "
				      "both sides of a link must share a byte order"
				    : "the firmware is little-endian and this CPU big-endian: "
				      "both sides of a link must share a byte order");
}

int rpk_elf_load(struct rpk_elf *e, const struct rpk_mem *mem)
{
	struct rpk_elf_segment s;
	int rc;

	rc = rpk_elf_check_byte_order(e);
	if (rc)
		return rc;
	for (uint32_t i = 0; (rc = rpk_elf_segment(e, i, &s)) != -RPK_ENOENT; i++) {
		uint8_t *va;

		if (rc)
			return rc;
		if (s.type != RPK_PT_LOAD || !s.memsz)
			continue;
		va = rpk_mem_to_va(mem, s.da, s.memsz);
		if (!va) {
			e->why = "a loadable segment is outside every carveout and devmem";
			return -RPK_EFAULT;
		}
		__builtin_memcpy(va, e->img + s.offset, s.filesz);
		__builtin_memset(va + s.filesz, 0, s.memsz - s.filesz);
	}
	return 0;
}
