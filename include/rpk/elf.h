/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ELF32 and ELF64 firmware images, little- or big-endian, read from memory.
 *
 * Every header, program header, section header and name is checked against
 * the image size before use: a malformed image gives -RPK_ENOEXEC and a
 * reason, never an out-of-bounds read. Like Linux's remoteproc ELF loader,
 * a segment's device address is its physical address (p_paddr).
 *
 * Any image can be read whatever the CPU's byte order (rpk rsc dump reads a
 * big-endian firmware's table on a little-endian host), but only one of the
 * CPU's own order is loaded: a firmware shares its resource table, rings and
 * rpmsg headers with the master in native byte order.
 */
#ifndef RPK_ELF_H
#define RPK_ELF_H

#include <stddef.h>
#include <stdint.h>

#include <rpk/mem.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RPK_PT_LOAD    1u
#define RPK_SHT_NOBITS 8u /* a section with no bytes in the image (.bss) */

struct rpk_elf {
	const uint8_t *img;
	size_t size;
	uint8_t is64;
	uint8_t big_endian; /* EI_DATA is ELFDATA2MSB */
	uint16_t machine;
	uint64_t entry;
	uint64_t phoff, shoff;
	uint16_t phnum, phentsize;
	uint16_t shnum, shentsize, shstrndx;
	const char *why; /* set by the last failing call */
};

struct rpk_elf_segment {
	uint32_t type;
	uint32_t flags;
	uint64_t offset; /* in the image */
	uint64_t da;	 /* p_paddr */
	uint64_t filesz;
	uint64_t memsz;
};

struct rpk_elf_section {
	const char *name;
	uint32_t type;
	uint64_t addr;
	uint64_t offset;
	uint64_t size;
};

/* Check the ELF header and the extent of both header tables.
 * Returns 0 or -RPK_ENOEXEC (e->why says why). */
int rpk_elf_open(struct rpk_elf *e, const void *img, size_t size);

/* Program header i, checked: its file bytes lie inside the image and
 * filesz <= memsz. Returns 0, -RPK_ENOENT past the last, -RPK_ENOEXEC. */
int rpk_elf_segment(struct rpk_elf *e, uint32_t i, struct rpk_elf_segment *out);

/* Section header i, checked (its name NUL-terminated inside the string
 * table, its bytes inside the image unless SHT_NOBITS). */
int rpk_elf_section(struct rpk_elf *e, uint32_t i, struct rpk_elf_section *out);

/* The section called name; -RPK_ENOENT if there is none. */
int rpk_elf_find_section(struct rpk_elf *e, const char *name, struct rpk_elf_section *out);

/* 0 if the image is in the CPU's byte order; else -RPK_ENOEXEC, and e->why
 * names both orders (rpk_elf_load refuses such an image the same way). */
int rpk_elf_check_byte_order(struct rpk_elf *e);

/*
 * Copy every PT_LOAD segment to the memory that covers its device address
 * (translated through mem) and zero its tail up to memsz. Returns 0,
 * -RPK_EFAULT if a segment is not inside one window (e->why names it),
 * -RPK_ENOEXEC for a malformed segment or an image whose byte order is not
 * the CPU's (e->why says which it is).
 */
int rpk_elf_load(struct rpk_elf *e, const struct rpk_mem *mem);

#ifdef __cplusplus
}
#endif

#endif
