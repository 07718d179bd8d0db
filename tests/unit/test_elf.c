/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ELF firmware images: hand-built ELF32 and ELF64 images, little- and
 * big-endian, are opened and walked, and those of the CPU's byte order loaded
 * into memory windows (the other order is refused by name); hostile images (bad
 * identification, every truncation, tables and segments outside the image,
 * broken name tables, single-byte mutations) are refused without an
 * out-of-bounds read. Every image is handed to the parser as an exact-size
 * malloc'd copy so AddressSanitizer sees any read past its end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rpk/elf.h>
#include <rpk/errno.h>
#include <rpk/mem.h>

/* ELF constants, from the System V ABI. */
#define PT_NOTE	    4u
#define SHT_NULL    0u
#define SHT_PROG    1u
#define SHT_STRTAB  3u
#define SHT_NOBITS  8u
#define PF_X	    1u
#define PF_W	    2u
#define PF_R	    4u
#define EM_ARM	    40u
#define EM_AARCH64  183u
#define SHF_WRITE   1u
#define SHF_ALLOC   2u
#define SHF_EXECI   4u
#define EHDR32_SIZE 52u
#define EHDR64_SIZE 64u
#define PHDR32_SIZE 32u
#define PHDR64_SIZE 56u
#define SHDR32_SIZE 40u
#define SHDR64_SIZE 64u

/* The image every test starts from. */
#define NPHDR	   3u
#define NSHDR	   6u
#define TEXT_SIZE  32u
#define DATA_SIZE  16u
#define BSS_SIZE   48u
#define RSC_SIZE   24u
#define NOBITS_LEN 0x10000u /* .bss size: far past the image's end, which SHT_NOBITS allows */

/* Device (physical) and virtual addresses, relative to the class's base. */
#define TEXT_PA	   0x1010u
#define DATA_PA	   0x2020u
#define RSC_PA	   0x7000u /* PT_NOTE: outside every window, and never loaded */
#define VA_OFFSET  0x80000000u
#define WIN0_DA	   0x1000u
#define WIN1_DA	   0x2000u
#define WIN_SIZE   0x100u
#define ENTRY_ADDR 0x1011u

/* ELF64 addresses sit above 4 GiB so a 32-bit read of a 64-bit field shows. */
#define BASE64 0x100000000ull

static const char shstrtab[] = "\0.text\0.data\0.bss\0.resource_table\0ghost\0.shstrtab";
#define NAME_TEXT  1u
#define NAME_DATA  7u
#define NAME_BSS   13u
#define NAME_RSC   18u
#define NAME_GHOST 34u
#define NAME_SHSTR 40u
#define STRTAB_LEN (sizeof(shstrtab)) /* includes the final NUL */

/* ---- field access for both classes ---- */

enum fld {
	E_MACHINE,
	E_ENTRY,
	E_PHOFF,
	E_SHOFF,
	E_EHSIZE,
	E_PHENTSIZE,
	E_PHNUM,
	E_SHENTSIZE,
	E_SHNUM,
	E_SHSTRNDX,
	P_TYPE,
	P_FLAGS,
	P_OFFSET,
	P_VADDR,
	P_PADDR,
	P_FILESZ,
	P_MEMSZ,
	P_ALIGN,
	S_NAME,
	S_TYPE,
	S_FLAGS,
	S_ADDR,
	S_OFFSET,
	S_SIZE,
	S_ALIGN,
};

static const struct {
	uint8_t off32, w32, off64, w64;
} ftab[] = {
    [E_MACHINE] = {18, 2, 18, 2},  [E_ENTRY] = {24, 4, 24, 8},	   [E_PHOFF] = {28, 4, 32, 8},
    [E_SHOFF] = {32, 4, 40, 8},	   [E_EHSIZE] = {40, 2, 52, 2},	   [E_PHENTSIZE] = {42, 2, 54, 2},
    [E_PHNUM] = {44, 2, 56, 2},	   [E_SHENTSIZE] = {46, 2, 58, 2}, [E_SHNUM] = {48, 2, 60, 2},
    [E_SHSTRNDX] = {50, 2, 62, 2}, [P_TYPE] = {0, 4, 0, 4},	   [P_FLAGS] = {24, 4, 4, 4},
    [P_OFFSET] = {4, 4, 8, 8},	   [P_VADDR] = {8, 4, 16, 8},	   [P_PADDR] = {12, 4, 24, 8},
    [P_FILESZ] = {16, 4, 32, 8},   [P_MEMSZ] = {20, 4, 40, 8},	   [P_ALIGN] = {28, 4, 48, 8},
    [S_NAME] = {0, 4, 0, 4},	   [S_TYPE] = {4, 4, 4, 4},	   [S_FLAGS] = {8, 4, 8, 8},
    [S_ADDR] = {12, 4, 16, 8},	   [S_OFFSET] = {16, 4, 24, 8},	   [S_SIZE] = {20, 4, 32, 8},
    [S_ALIGN] = {32, 4, 48, 8},
};

/* An image's class and byte order. */
struct form {
	int is64;
	int big;
};

struct image {
	int is64;
	int big; /* EI_DATA: ELFDATA2MSB */
	uint8_t buf[1024];
	size_t size;
	size_t phoff, shoff, strtab_off, text_off, data_off, rsc_off;
	uint64_t base; /* added to every address */
};

static void put(const struct image *im, uint8_t *p, unsigned bytes, uint64_t v)
{
	for (unsigned i = 0; i < bytes; i++, v >>= 8)
		p[im->big ? bytes - 1 - i : i] = (uint8_t)v;
}

static void set_at(struct image *im, size_t base, enum fld f, uint64_t v)
{
	if (im->is64)
		put(im, im->buf + base + ftab[f].off64, ftab[f].w64, v);
	else
		put(im, im->buf + base + ftab[f].off32, ftab[f].w32, v);
}

static void set_ehdr(struct image *im, enum fld f, uint64_t v)
{
	set_at(im, 0, f, v);
}

static void set_phdr(struct image *im, unsigned i, enum fld f, uint64_t v)
{
	set_at(im, im->phoff + i * (im->is64 ? PHDR64_SIZE : PHDR32_SIZE), f, v);
}

static void set_shdr(struct image *im, unsigned i, enum fld f, uint64_t v)
{
	set_at(im, im->shoff + i * (im->is64 ? SHDR64_SIZE : SHDR32_SIZE), f, v);
}

/* The largest value a field of this class can hold. */
static uint64_t max_of(const struct image *im, enum fld f)
{
	unsigned w = im->is64 ? ftab[f].w64 : ftab[f].w32;

	return w == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * w)) - 1;
}

/*
 * Layout: ELF header | 3 program headers | 6 section headers | .shstrtab |
 * .text | .data | .resource_table. Both header tables come first, so a
 * truncated image can still pass rpk_elf_open and fail later.
 *
 * Segments: 0 PT_LOAD .text (R+X), 1 PT_LOAD .data + .bss (RW, memsz > filesz),
 * 2 PT_NOTE over .resource_table. Sections: 0 NULL, 1 .text, 2 .data,
 * 3 .bss (NOBITS), 4 .resource_table, 5 .shstrtab.
 */
static void build(struct image *im, struct form form)
{
	const int is64 = form.is64;
	size_t ehsize = is64 ? EHDR64_SIZE : EHDR32_SIZE;
	size_t phsize = is64 ? PHDR64_SIZE : PHDR32_SIZE;
	size_t shsize = is64 ? SHDR64_SIZE : SHDR32_SIZE;
	uint64_t b = is64 ? BASE64 : 0;

	memset(im, 0, sizeof(*im));
	im->is64 = is64;
	im->big = form.big;
	im->base = b;
	im->phoff = ehsize;
	im->shoff = im->phoff + NPHDR * phsize;
	im->strtab_off = im->shoff + NSHDR * shsize;
	im->text_off = (im->strtab_off + STRTAB_LEN + 3u) & ~(size_t)3u;
	im->data_off = im->text_off + TEXT_SIZE;
	im->rsc_off = im->data_off + DATA_SIZE;
	im->size = im->rsc_off + RSC_SIZE;
	assert_true(im->size <= sizeof(im->buf));

	memcpy(im->buf, "\177ELF", 4);
	im->buf[4] = is64 ? 2 : 1;     /* EI_CLASS */
	im->buf[5] = form.big ? 2 : 1; /* EI_DATA: ELFDATA2MSB or ELFDATA2LSB */
	im->buf[6] = 1;		       /* EI_VERSION */
	put(im, im->buf + 16, 2, 2);   /* e_type: ET_EXEC */
	put(im, im->buf + 20, 4, 1);   /* e_version */
	set_ehdr(im, E_MACHINE, is64 ? EM_AARCH64 : EM_ARM);
	set_ehdr(im, E_ENTRY, b + ENTRY_ADDR);
	set_ehdr(im, E_PHOFF, im->phoff);
	set_ehdr(im, E_SHOFF, im->shoff);
	set_ehdr(im, E_EHSIZE, ehsize);
	set_ehdr(im, E_PHENTSIZE, phsize);
	set_ehdr(im, E_PHNUM, NPHDR);
	set_ehdr(im, E_SHENTSIZE, shsize);
	set_ehdr(im, E_SHNUM, NSHDR);
	set_ehdr(im, E_SHSTRNDX, NSHDR - 1);

	set_phdr(im, 0, P_TYPE, RPK_PT_LOAD);
	set_phdr(im, 0, P_FLAGS, PF_R | PF_X);
	set_phdr(im, 0, P_OFFSET, im->text_off);
	set_phdr(im, 0, P_VADDR, b + VA_OFFSET + TEXT_PA);
	set_phdr(im, 0, P_PADDR, b + TEXT_PA);
	set_phdr(im, 0, P_FILESZ, TEXT_SIZE);
	set_phdr(im, 0, P_MEMSZ, TEXT_SIZE);
	set_phdr(im, 0, P_ALIGN, 4);

	set_phdr(im, 1, P_TYPE, RPK_PT_LOAD);
	set_phdr(im, 1, P_FLAGS, PF_R | PF_W);
	set_phdr(im, 1, P_OFFSET, im->data_off);
	set_phdr(im, 1, P_VADDR, b + VA_OFFSET + DATA_PA);
	set_phdr(im, 1, P_PADDR, b + DATA_PA);
	set_phdr(im, 1, P_FILESZ, DATA_SIZE);
	set_phdr(im, 1, P_MEMSZ, DATA_SIZE + BSS_SIZE);
	set_phdr(im, 1, P_ALIGN, 4);

	set_phdr(im, 2, P_TYPE, PT_NOTE);
	set_phdr(im, 2, P_FLAGS, PF_R);
	set_phdr(im, 2, P_OFFSET, im->rsc_off);
	set_phdr(im, 2, P_VADDR, b + VA_OFFSET + RSC_PA);
	set_phdr(im, 2, P_PADDR, b + RSC_PA);
	set_phdr(im, 2, P_FILESZ, RSC_SIZE);
	set_phdr(im, 2, P_MEMSZ, RSC_SIZE);
	set_phdr(im, 2, P_ALIGN, 4);

	/* Section 0 stays all zero. */
	set_shdr(im, 1, S_NAME, NAME_TEXT);
	set_shdr(im, 1, S_TYPE, SHT_PROG);
	set_shdr(im, 1, S_FLAGS, SHF_ALLOC | SHF_EXECI);
	set_shdr(im, 1, S_ADDR, b + VA_OFFSET + TEXT_PA);
	set_shdr(im, 1, S_OFFSET, im->text_off);
	set_shdr(im, 1, S_SIZE, TEXT_SIZE);

	set_shdr(im, 2, S_NAME, NAME_DATA);
	set_shdr(im, 2, S_TYPE, SHT_PROG);
	set_shdr(im, 2, S_FLAGS, SHF_ALLOC | SHF_WRITE);
	set_shdr(im, 2, S_ADDR, b + VA_OFFSET + DATA_PA);
	set_shdr(im, 2, S_OFFSET, im->data_off);
	set_shdr(im, 2, S_SIZE, DATA_SIZE);

	set_shdr(im, 3, S_NAME, NAME_BSS);
	set_shdr(im, 3, S_TYPE, SHT_NOBITS);
	set_shdr(im, 3, S_FLAGS, SHF_ALLOC | SHF_WRITE);
	set_shdr(im, 3, S_ADDR, b + VA_OFFSET + DATA_PA + DATA_SIZE);
	set_shdr(im, 3, S_OFFSET, im->rsc_off);
	set_shdr(im, 3, S_SIZE, NOBITS_LEN);

	set_shdr(im, 4, S_NAME, NAME_RSC);
	set_shdr(im, 4, S_TYPE, SHT_PROG);
	set_shdr(im, 4, S_ADDR, b + RSC_PA);
	set_shdr(im, 4, S_OFFSET, im->rsc_off);
	set_shdr(im, 4, S_SIZE, RSC_SIZE);

	set_shdr(im, 5, S_NAME, NAME_SHSTR);
	set_shdr(im, 5, S_TYPE, SHT_STRTAB);
	set_shdr(im, 5, S_OFFSET, im->strtab_off);
	set_shdr(im, 5, S_SIZE, STRTAB_LEN);

	memcpy(im->buf + im->strtab_off, shstrtab, STRTAB_LEN);
	for (unsigned i = 0; i < TEXT_SIZE; i++)
		im->buf[im->text_off + i] = (uint8_t)(0x10 + i);
	for (unsigned i = 0; i < DATA_SIZE; i++)
		im->buf[im->data_off + i] = (uint8_t)(0xd0 + i);
	for (unsigned i = 0; i < RSC_SIZE; i++)
		im->buf[im->rsc_off + i] = (uint8_t)(0x80 + i);
}

/* An exact-size heap copy of the first len bytes, so ASan sees any overread. */
static uint8_t *dup_image(const uint8_t *buf, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	if (len)
		memcpy(p, buf, len);
	return p;
}

/* Open a copy of the first len bytes; the copy must be freed by the caller. */
static int open_copy(struct rpk_elf *e, const struct image *im, size_t len, uint8_t **copy)
{
	*copy = dup_image(im->buf, len);
	return rpk_elf_open(e, *copy, len);
}

static void expect_open_fails(const struct image *im)
{
	struct rpk_elf e;
	uint8_t *copy;

	assert_int_equal(open_copy(&e, im, im->size, &copy), -RPK_ENOEXEC);
	assert_non_null(e.why);
	free(copy);
}

/* Open succeeds, section i is refused, and so is a search that reaches it. */
static void expect_section_fails(const struct image *im, uint32_t i)
{
	struct rpk_elf e;
	struct rpk_elf_section s;
	uint8_t *copy;

	assert_int_equal(open_copy(&e, im, im->size, &copy), 0);
	assert_int_equal(rpk_elf_section(&e, i, &s), -RPK_ENOEXEC);
	assert_non_null(e.why);
	e.why = NULL;
	assert_int_equal(rpk_elf_find_section(&e, "no-such-section", &s), -RPK_ENOEXEC);
	assert_non_null(e.why);
	free(copy);
}

static struct form le32 = {0, 0}, le64 = {1, 0}, be32 = {0, 1}, be64 = {1, 1};

static struct form form_of(void **state)
{
	return *(const struct form *)*state;
}

static int is64_of(void **state)
{
	return form_of(state).is64;
}

/* The CPU's byte order: only images of it load. */
static int cpu_big(void)
{
	const uint16_t one = 1;
	uint8_t first;

	memcpy(&first, &one, 1);
	return first == 0;
}

/* ---- well-formed images ---- */

static void test_open_fields(void **state)
{
	struct image im;
	struct rpk_elf e;
	uint8_t *copy;

	build(&im, form_of(state));
	assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
	assert_ptr_equal(e.img, copy);
	assert_int_equal(e.size, im.size);
	assert_int_equal(e.is64, im.is64);
	assert_int_equal(e.big_endian, im.big);
	assert_int_equal(e.machine, im.is64 ? EM_AARCH64 : EM_ARM);
	assert_int_equal(e.entry, im.base + ENTRY_ADDR);
	assert_int_equal(e.phoff, im.phoff);
	assert_int_equal(e.shoff, im.shoff);
	assert_int_equal(e.phnum, NPHDR);
	assert_int_equal(e.phentsize, im.is64 ? PHDR64_SIZE : PHDR32_SIZE);
	assert_int_equal(e.shnum, NSHDR);
	assert_int_equal(e.shentsize, im.is64 ? SHDR64_SIZE : SHDR32_SIZE);
	assert_int_equal(e.shstrndx, NSHDR - 1);
	free(copy);

	/* All 16 bits of e_machine. */
	set_ehdr(&im, E_MACHINE, 0xbeef);
	assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
	assert_int_equal(e.machine, 0xbeef);
	free(copy);
}

static void test_segments(void **state)
{
	struct image im;
	struct rpk_elf e;
	struct rpk_elf_segment s;
	uint8_t *copy;

	build(&im, form_of(state));
	assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);

	memset(&s, 0xee, sizeof(s));
	assert_int_equal(rpk_elf_segment(&e, 0, &s), 0);
	assert_int_equal(s.type, RPK_PT_LOAD);
	assert_int_equal(s.flags, PF_R | PF_X);
	assert_int_equal(s.offset, im.text_off);
	assert_int_equal(s.da, im.base + TEXT_PA); /* p_paddr, not p_vaddr */
	assert_int_equal(s.filesz, TEXT_SIZE);
	assert_int_equal(s.memsz, TEXT_SIZE);

	memset(&s, 0xee, sizeof(s));
	assert_int_equal(rpk_elf_segment(&e, 1, &s), 0);
	assert_int_equal(s.type, RPK_PT_LOAD);
	assert_int_equal(s.flags, PF_R | PF_W);
	assert_int_equal(s.offset, im.data_off);
	assert_int_equal(s.da, im.base + DATA_PA);
	assert_int_equal(s.filesz, DATA_SIZE);
	assert_int_equal(s.memsz, DATA_SIZE + BSS_SIZE);

	memset(&s, 0xee, sizeof(s));
	assert_int_equal(rpk_elf_segment(&e, 2, &s), 0);
	assert_int_equal(s.type, PT_NOTE);
	assert_int_equal(s.flags, PF_R);
	assert_int_equal(s.offset, im.rsc_off);
	assert_int_equal(s.da, im.base + RSC_PA);
	assert_int_equal(s.filesz, RSC_SIZE);
	assert_int_equal(s.memsz, RSC_SIZE);

	assert_int_equal(rpk_elf_segment(&e, NPHDR, &s), -RPK_ENOENT);
	assert_int_equal(rpk_elf_segment(&e, UINT32_MAX, &s), -RPK_ENOENT);
	free(copy);
}

static void check_section(struct rpk_elf *e, uint32_t i, const char *name, uint32_t type,
			  uint64_t addr, uint64_t offset, uint64_t size)
{
	struct rpk_elf_section s;

	memset(&s, 0xee, sizeof(s));
	assert_int_equal(rpk_elf_section(e, i, &s), 0);
	assert_non_null(s.name);
	assert_string_equal(s.name, name);
	/* The name points into the image's own string table. */
	assert_true((const uint8_t *)s.name >= e->img &&
		    (const uint8_t *)s.name < e->img + e->size);
	assert_int_equal(s.type, type);
	assert_int_equal(s.addr, addr);
	assert_int_equal(s.offset, offset);
	assert_int_equal(s.size, size);
}

static void test_sections(void **state)
{
	struct image im;
	struct rpk_elf e;
	struct rpk_elf_section s;
	uint8_t *copy;
	uint64_t b;

	build(&im, form_of(state));
	b = im.base;
	assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
	check_section(&e, 0, "", SHT_NULL, 0, 0, 0);
	check_section(&e, 1, ".text", SHT_PROG, b + VA_OFFSET + TEXT_PA, im.text_off, TEXT_SIZE);
	check_section(&e, 2, ".data", SHT_PROG, b + VA_OFFSET + DATA_PA, im.data_off, DATA_SIZE);
	/* SHT_NOBITS: its size may run far past the end of the file. */
	check_section(&e, 3, ".bss", SHT_NOBITS, b + VA_OFFSET + DATA_PA + DATA_SIZE, im.rsc_off,
		      NOBITS_LEN);
	check_section(&e, 4, ".resource_table", SHT_PROG, b + RSC_PA, im.rsc_off, RSC_SIZE);
	check_section(&e, 5, ".shstrtab", SHT_STRTAB, 0, im.strtab_off, STRTAB_LEN);
	assert_int_equal(rpk_elf_section(&e, NSHDR, &s), -RPK_ENOENT);
	assert_int_equal(rpk_elf_section(&e, UINT32_MAX, &s), -RPK_ENOENT);
	free(copy);
}

static void test_find_section(void **state)
{
	static const char *const names[NSHDR] = {
	    NULL, ".text", ".data", ".bss", ".resource_table", ".shstrtab",
	};
	struct image im;
	struct rpk_elf e;
	struct rpk_elf_section s;
	uint8_t *copy;
	size_t offsets[NSHDR];

	build(&im, form_of(state));
	offsets[1] = im.text_off;
	offsets[2] = im.data_off;
	offsets[3] = im.rsc_off;
	offsets[4] = im.rsc_off;
	offsets[5] = im.strtab_off;
	assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);

	memset(&s, 0, sizeof(s));
	assert_int_equal(rpk_elf_find_section(&e, ".resource_table", &s), 0);
	assert_string_equal(s.name, ".resource_table");
	assert_int_equal(s.type, SHT_PROG);
	assert_int_equal(s.addr, im.base + RSC_PA);
	assert_int_equal(s.offset, im.rsc_off);
	assert_int_equal(s.size, RSC_SIZE);
	assert_memory_equal(e.img + s.offset, im.buf + im.rsc_off, RSC_SIZE);

	for (uint32_t i = 1; i < NSHDR; i++) {
		assert_int_equal(rpk_elf_find_section(&e, names[i], &s), 0);
		assert_string_equal(s.name, names[i]);
		assert_int_equal(s.offset, offsets[i]);
	}

	/* Prefixes, extensions and near misses are not matches. */
	assert_int_equal(rpk_elf_find_section(&e, ".resource_tabl", &s), -RPK_ENOENT);
	assert_int_equal(rpk_elf_find_section(&e, ".resource_table2", &s), -RPK_ENOENT);
	assert_int_equal(rpk_elf_find_section(&e, ".text ", &s), -RPK_ENOENT);
	assert_int_equal(rpk_elf_find_section(&e, ".TEXT", &s), -RPK_ENOENT);
	assert_int_equal(rpk_elf_find_section(&e, "text", &s), -RPK_ENOENT);
	assert_int_equal(rpk_elf_find_section(&e, ".resource", &s), -RPK_ENOENT);
	/* Section 0's name is "", but section 0 is never a match. */
	assert_int_equal(rpk_elf_find_section(&e, "", &s), -RPK_ENOENT);
	/* "ghost" is in the string table, but no section is called that. */
	assert_int_equal(rpk_elf_find_section(&e, "ghost", &s), -RPK_ENOENT);
	free(copy);

	/* Section 0 is skipped even when it carries a real name. */
	set_shdr(&im, 0, S_NAME, NAME_GHOST);
	assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
	assert_int_equal(rpk_elf_section(&e, 0, &s), 0);
	assert_string_equal(s.name, "ghost");
	assert_int_equal(rpk_elf_find_section(&e, "ghost", &s), -RPK_ENOENT);
	assert_int_equal(rpk_elf_find_section(&e, ".text", &s), 0);
	free(copy);

	/* The first of two sections with one name is found. */
	set_shdr(&im, 2, S_NAME, NAME_TEXT);
	assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
	assert_int_equal(rpk_elf_find_section(&e, ".text", &s), 0);
	assert_int_equal(s.offset, im.text_off);
	assert_int_equal(rpk_elf_find_section(&e, ".data", &s), -RPK_ENOENT);
	free(copy);
}

/* No section header table at all (stripped): open works, nothing is found. */
static void test_no_sections(void **state)
{
	struct image im;
	struct rpk_elf e;
	struct rpk_elf_section s;
	struct rpk_elf_segment g;
	uint8_t *copy;

	build(&im, form_of(state));
	set_ehdr(&im, E_SHNUM, 0);
	set_ehdr(&im, E_SHOFF, 0);
	set_ehdr(&im, E_SHSTRNDX, 0xffff);
	assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
	assert_int_equal(rpk_elf_section(&e, 0, &s), -RPK_ENOENT);
	assert_int_equal(rpk_elf_find_section(&e, ".resource_table", &s), -RPK_ENOENT);
	assert_int_equal(rpk_elf_find_section(&e, "", &s), -RPK_ENOENT);
	assert_int_equal(rpk_elf_segment(&e, 1, &g), 0);
	free(copy);
}

/* ---- loading ---- */

#define FILL 0xa5u

struct windows {
	uint8_t *buf[2];
	struct rpk_mem_window win[2];
	struct rpk_mem mem;
};

static void windows_init(struct windows *w, uint64_t da0, uint64_t da1, uint64_t size)
{
	for (unsigned i = 0; i < 2; i++) {
		w->buf[i] = malloc(size);
		assert_non_null(w->buf[i]);
		memset(w->buf[i], FILL, size);
		w->win[i].da = i ? da1 : da0;
		w->win[i].size = size;
		w->win[i].va = w->buf[i];
	}
	w->mem.win = w->win;
	w->mem.count = 2;
}

static void windows_fini(struct windows *w)
{
	free(w->buf[0]);
	free(w->buf[1]);
}

static int all_fill(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != FILL)
			return 0;
	return 1;
}

/* Open succeeds, segment i is refused, and loading (with windows for the
 * well-formed segments) stops on it. */
static void expect_segment_fails(const struct image *im, uint32_t i)
{
	struct rpk_elf e;
	struct rpk_elf_segment s;
	struct windows w;
	uint8_t *copy;

	windows_init(&w, im->base + WIN0_DA, im->base + WIN1_DA, WIN_SIZE);
	assert_int_equal(open_copy(&e, im, im->size, &copy), 0);
	assert_int_equal(rpk_elf_segment(&e, i, &s), -RPK_ENOEXEC);
	assert_non_null(e.why);
	e.why = NULL;
	assert_int_equal(rpk_elf_load(&e, &w.mem), -RPK_ENOEXEC);
	assert_non_null(e.why);
	free(copy);
	windows_fini(&w);
}

static void test_load_two_windows(void **state)
{
	struct image im;
	struct rpk_elf e;
	struct windows w;
	uint8_t *copy;
	const size_t t = TEXT_PA - WIN0_DA, d = DATA_PA - WIN1_DA;

	build(&im, form_of(state));
	windows_init(&w, im.base + WIN0_DA, im.base + WIN1_DA, WIN_SIZE);
	assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
	assert_int_equal(rpk_elf_load(&e, &w.mem), 0);

	/* .text: the file bytes at p_paddr's place, nothing around them touched. */
	assert_true(all_fill(w.buf[0], t));
	assert_memory_equal(w.buf[0] + t, im.buf + im.text_off, TEXT_SIZE);
	assert_true(all_fill(w.buf[0] + t + TEXT_SIZE, WIN_SIZE - t - TEXT_SIZE));

	/* .data + .bss: file bytes, then zeroes up to memsz, then untouched. */
	assert_true(all_fill(w.buf[1], d));
	assert_memory_equal(w.buf[1] + d, im.buf + im.data_off, DATA_SIZE);
	for (size_t i = 0; i < BSS_SIZE; i++)
		assert_int_equal(w.buf[1][d + DATA_SIZE + i], 0);
	assert_true(
	    all_fill(w.buf[1] + d + DATA_SIZE + BSS_SIZE, WIN_SIZE - d - DATA_SIZE - BSS_SIZE));

	/* The image itself is read only. */
	assert_memory_equal(copy, im.buf, im.size);
	windows_fini(&w);
	free(copy);
}

/* Loading uses p_paddr: windows at the virtual addresses do not do. */
static void test_load_uses_paddr(void **state)
{
	struct image im;
	struct rpk_elf e;
	struct windows w;
	uint8_t *copy;

	build(&im, form_of(state));
	windows_init(&w, im.base + VA_OFFSET + WIN0_DA, im.base + VA_OFFSET + WIN1_DA, WIN_SIZE);
	assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
	assert_int_equal(rpk_elf_load(&e, &w.mem), -RPK_EFAULT);
	assert_non_null(e.why);
	windows_fini(&w);
	free(copy);
}

static void expect_load_fault(struct image *im, struct windows *w)
{
	struct rpk_elf e;
	uint8_t *copy;

	assert_int_equal(open_copy(&e, im, im->size, &copy), 0);
	assert_int_equal(rpk_elf_load(&e, &w->mem), -RPK_EFAULT);
	assert_non_null(e.why);
	free(copy);
}

static void test_load_outside_window(void **state)
{
	struct image im;
	struct windows w;

	build(&im, form_of(state));
	windows_init(&w, im.base + WIN0_DA, im.base + WIN1_DA, WIN_SIZE);

	/* .bss tail runs one byte past the end of window 1. */
	set_phdr(&im, 1, P_PADDR, im.base + WIN1_DA + WIN_SIZE - (DATA_SIZE + BSS_SIZE) + 1);
	expect_load_fault(&im, &w);
	/* Exactly at the end of the window is fine. */
	set_phdr(&im, 1, P_PADDR, im.base + WIN1_DA + WIN_SIZE - (DATA_SIZE + BSS_SIZE));
	{
		struct rpk_elf e;
		uint8_t *copy;

		assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
		assert_int_equal(rpk_elf_load(&e, &w.mem), 0);
		assert_int_equal(w.buf[1][WIN_SIZE - 1], 0);
		free(copy);
	}
	/* Starts one byte before window 0. */
	build(&im, form_of(state));
	set_phdr(&im, 0, P_PADDR, im.base + WIN0_DA - 1);
	expect_load_fault(&im, &w);
	/* Nowhere near a window. */
	build(&im, form_of(state));
	set_phdr(&im, 0, P_PADDR, im.base + 0x9000);
	expect_load_fault(&im, &w);
	/* With no windows at all. */
	build(&im, form_of(state));
	w.mem.count = 0;
	expect_load_fault(&im, &w);
	windows_fini(&w);
}

/* Two windows back to back in both device and local addresses: a segment
 * across the boundary is still not inside one window. */
static void test_load_spanning_windows(void **state)
{
	struct image im;
	struct rpk_elf e;
	struct rpk_mem_window win[2];
	struct rpk_mem mem = {win, 2};
	uint8_t *buf = malloc(2 * WIN_SIZE), *copy;

	assert_non_null(buf);
	build(&im, form_of(state));
	win[0] = (struct rpk_mem_window){im.base + WIN0_DA, WIN_SIZE, buf};
	win[1] = (struct rpk_mem_window){im.base + WIN0_DA + WIN_SIZE, WIN_SIZE, buf + WIN_SIZE};
	/* .data + .bss: 64 bytes starting 16 before the boundary. */
	set_phdr(&im, 1, P_PADDR, im.base + WIN0_DA + WIN_SIZE - 16);
	memset(buf, FILL, 2 * WIN_SIZE);
	assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
	assert_int_equal(rpk_elf_load(&e, &mem), -RPK_EFAULT);
	assert_non_null(e.why);
	/* Nothing was written for the refused segment. */
	assert_true(all_fill(buf + WIN_SIZE - 16, DATA_SIZE + BSS_SIZE));
	free(copy);

	/* Moved wholly into window 1, it loads. */
	set_phdr(&im, 1, P_PADDR, im.base + WIN0_DA + WIN_SIZE);
	assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
	assert_int_equal(rpk_elf_load(&e, &mem), 0);
	assert_memory_equal(buf + WIN_SIZE, im.buf + im.data_off, DATA_SIZE);
	free(copy);
	free(buf);
}

/* An image of the other byte order is read like any other (its segments
 * have the right values) but not loaded, and the refusal says why. */
static void test_load_refuses_other_byte_order(void **state)
{
	struct image im;
	struct rpk_elf e;
	struct rpk_elf_segment g;
	struct windows w;
	uint8_t *copy;

	build(&im, form_of(state));
	assert_int_not_equal(im.big, cpu_big());
	windows_init(&w, im.base + WIN0_DA, im.base + WIN1_DA, WIN_SIZE);
	assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
	assert_int_equal(rpk_elf_segment(&e, 1, &g), 0);
	assert_int_equal(g.da, im.base + DATA_PA);
	assert_int_equal(g.memsz, DATA_SIZE + BSS_SIZE);
	assert_int_equal(rpk_elf_load(&e, &w.mem), -RPK_ENOEXEC);
	assert_string_equal(e.why, im.big
				       ? "the firmware is big-endian and this CPU little-endian: "
					 "both sides of a link must share a byte order"
				       : "the firmware is little-endian and this CPU big-endian: "
					 "both sides of a link must share a byte order");
	/* Nothing was written. */
	assert_true(all_fill(w.buf[0], WIN_SIZE));
	assert_true(all_fill(w.buf[1], WIN_SIZE));
	windows_fini(&w);
	free(copy);
}

/* ---- hostile images ---- */

static void test_bad_ident(void **state)
{
	struct image im;
	struct rpk_elf e;

	for (unsigned i = 0; i < 4; i++) {
		build(&im, form_of(state));
		im.buf[i] ^= 0x20;
		expect_open_fails(&im);
	}
	for (unsigned cls = 0; cls < 256; cls++) {
		if (cls == 1 || cls == 2)
			continue;
		build(&im, form_of(state));
		im.buf[4] = (uint8_t)cls;
		expect_open_fails(&im);
	}
	for (unsigned data = 0; data < 256; data++) {
		if (data == 1 || data == 2)
			continue; /* ELFDATA2LSB, ELFDATA2MSB */
		build(&im, form_of(state));
		im.buf[5] = (uint8_t)data;
		expect_open_fails(&im);
	}
	build(&im, form_of(state));
	im.buf[6] = 0; /* EI_VERSION */
	expect_open_fails(&im);
	im.buf[6] = 2;
	expect_open_fails(&im);

	/* Sanity: the unmodified image opens, so the refusals above mean something. */
	build(&im, form_of(state));
	{
		uint8_t *copy;

		assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
		free(copy);
	}
	assert_int_equal(rpk_elf_open(&e, NULL, im.size), -RPK_ENOEXEC);
	assert_non_null(e.why);
}

/* An ELF32 header claiming ELF64 in a 52..63-byte file. */
static void test_short_elf64_header(void **state)
{
	struct image im;
	struct rpk_elf e;
	uint8_t *copy;

	(void)state;
	build(&im, le64);
	set_ehdr(&im, E_PHNUM, 0);
	set_ehdr(&im, E_SHNUM, 0);
	for (size_t len = 0; len < EHDR64_SIZE; len++) {
		assert_int_equal(open_copy(&e, &im, len, &copy), -RPK_ENOEXEC);
		assert_non_null(e.why);
		free(copy);
	}
	assert_int_equal(open_copy(&e, &im, EHDR64_SIZE, &copy), 0);
	free(copy);

	build(&im, le32);
	set_ehdr(&im, E_PHNUM, 0);
	set_ehdr(&im, E_SHNUM, 0);
	for (size_t len = 0; len < EHDR32_SIZE; len++) {
		assert_int_equal(open_copy(&e, &im, len, &copy), -RPK_ENOEXEC);
		assert_non_null(e.why);
		free(copy);
	}
	assert_int_equal(open_copy(&e, &im, EHDR32_SIZE, &copy), 0);
	free(copy);
}

/* Every call on an opened image: never crashes, and anything it hands back
 * lies inside the image. Returns how many calls failed. */
static unsigned walk(struct rpk_elf *e, const struct rpk_mem *mem)
{
	struct rpk_elf_segment g;
	struct rpk_elf_section s;
	unsigned failed = 0;
	int rc;

	for (uint32_t i = 0; i <= e->phnum; i++) {
		e->why = NULL;
		rc = rpk_elf_segment(e, i, &g);
		if (i == e->phnum) {
			assert_int_equal(rc, -RPK_ENOENT);
		} else if (rc) {
			assert_int_equal(rc, -RPK_ENOEXEC);
			assert_non_null(e->why);
			failed++;
		} else {
			assert_true(g.offset <= e->size && g.filesz <= e->size - g.offset);
			assert_true(g.filesz <= g.memsz);
			assert_true(g.da <= UINT64_MAX - g.memsz);
		}
	}
	for (uint32_t i = 0; i <= e->shnum; i++) {
		e->why = NULL;
		rc = rpk_elf_section(e, i, &s);
		if (i == e->shnum) {
			assert_int_equal(rc, -RPK_ENOENT);
		} else if (rc) {
			assert_int_equal(rc, -RPK_ENOEXEC);
			assert_non_null(e->why);
			failed++;
		} else {
			const uint8_t *n = (const uint8_t *)s.name;

			assert_non_null(n);
			assert_true(n >= e->img && n < e->img + e->size);
			assert_non_null(memchr(n, 0, (size_t)(e->img + e->size - n)));
			if (s.type != SHT_NOBITS)
				assert_true(s.offset <= e->size && s.size <= e->size - s.offset);
		}
	}
	e->why = NULL;
	rc = rpk_elf_find_section(e, ".resource_table", &s);
	if (rc == 0) {
		assert_string_equal(s.name, ".resource_table");
		if (s.type != SHT_NOBITS)
			assert_true(s.offset <= e->size && s.size <= e->size - s.offset);
	} else if (rc != -RPK_ENOENT) {
		assert_int_equal(rc, -RPK_ENOEXEC);
		assert_non_null(e->why);
		failed++;
	}
	e->why = NULL;
	rc = rpk_elf_load(e, mem);
	if (e->big_endian != cpu_big()) {
		/* Refused before any segment is looked at: not the walk's failure. */
		assert_int_equal(rc, -RPK_ENOEXEC);
		assert_non_null(strstr(e->why, "share a byte order"));
	} else if (rc) {
		assert_true(rc == -RPK_ENOEXEC || rc == -RPK_EFAULT);
		assert_non_null(e->why);
		failed++;
	}
	return failed;
}

static void test_truncations(void **state)
{
	struct image im;
	struct windows w;
	size_t tables_end;

	build(&im, form_of(state));
	windows_init(&w, im.base + WIN0_DA, im.base + WIN1_DA, WIN_SIZE);
	tables_end = im.strtab_off; /* both header tables end here */
	for (size_t len = 0; len <= im.size; len++) {
		struct rpk_elf e;
		struct rpk_elf_section s;
		uint8_t *copy;
		int rc = open_copy(&e, &im, len, &copy);

		if (len < tables_end) {
			assert_int_equal(rc, -RPK_ENOEXEC);
			assert_non_null(e.why);
			free(copy);
			continue;
		}
		assert_int_equal(rc, 0);
		if (len < im.size) {
			/* Some section and some segment lie (partly) past the end. */
			assert_true(walk(&e, &w.mem) > 0);
			e.why = NULL;
			assert_int_equal(rpk_elf_load(&e, &w.mem), -RPK_ENOEXEC);
			assert_non_null(e.why);
			e.why = NULL;
			assert_int_equal(rpk_elf_find_section(&e, ".resource_table", &s),
					 -RPK_ENOEXEC);
			assert_non_null(e.why);
		} else {
			assert_int_equal(walk(&e, &w.mem), 0);
		}
		free(copy);
	}
	windows_fini(&w);
}

static void test_header_tables(void **state)
{
	const int is64 = is64_of(state);
	struct image im;
	uint16_t phent = is64 ? PHDR64_SIZE : PHDR32_SIZE;
	uint16_t shent = is64 ? SHDR64_SIZE : SHDR32_SIZE;

	/* Program header table past the end, or ending one byte past it. */
	build(&im, form_of(state));
	set_ehdr(&im, E_PHOFF, im.size);
	expect_open_fails(&im);
	set_ehdr(&im, E_PHOFF, im.size - NPHDR * phent + 1);
	expect_open_fails(&im);
	set_ehdr(&im, E_PHOFF, max_of(&im, E_PHOFF));
	expect_open_fails(&im);
	set_ehdr(&im, E_PHOFF, max_of(&im, E_PHOFF) - 8); /* offset + length wraps */
	expect_open_fails(&im);

	/* Same for the section header table. */
	build(&im, form_of(state));
	set_ehdr(&im, E_SHOFF, im.size);
	expect_open_fails(&im);
	set_ehdr(&im, E_SHOFF, im.size - NSHDR * shent + 1);
	expect_open_fails(&im);
	set_ehdr(&im, E_SHOFF, max_of(&im, E_SHOFF));
	expect_open_fails(&im);
	set_ehdr(&im, E_SHOFF, max_of(&im, E_SHOFF) - 8);
	expect_open_fails(&im);

	/* phnum * phentsize far larger than the image (no 16-bit wrap to small). */
	build(&im, form_of(state));
	set_ehdr(&im, E_PHNUM, 0xfffe);
	expect_open_fails(&im);
	set_ehdr(&im, E_PHENTSIZE, 0xffff);
	expect_open_fails(&im);
	set_ehdr(&im, E_PHNUM, 0x0801); /* ELF32: 0x0801 * 32 = 0x10020, 0x20 if cut to 16 bits */
	set_ehdr(&im, E_PHENTSIZE, phent);
	expect_open_fails(&im);
	build(&im, form_of(state));
	set_ehdr(&im, E_SHNUM, 0xfffe);
	expect_open_fails(&im);
	set_ehdr(&im, E_SHENTSIZE, 0xffff);
	expect_open_fails(&im);

	/* PN_XNUM: extended numbering is refused, */
	build(&im, form_of(state));
	set_ehdr(&im, E_PHNUM, 0xffff);
	expect_open_fails(&im);
	/* even in an image large enough to hold 0xffff program headers. */
	{
		size_t ehsize = is64 ? EHDR64_SIZE : EHDR32_SIZE;
		size_t size = ehsize + 0xffffu * (size_t)phent;
		uint8_t *big = calloc(1, size);
		struct rpk_elf e;

		assert_non_null(big);
		build(&im, form_of(state));
		set_ehdr(&im, E_SHNUM, 0);
		memcpy(big, im.buf, ehsize);
		assert_int_equal(rpk_elf_open(&e, big, size), 0); /* 3 headers: fine */
		set_ehdr(&im, E_PHNUM, 0xfffe);
		memcpy(big, im.buf, ehsize);
		assert_int_equal(rpk_elf_open(&e, big, size), 0);
		set_ehdr(&im, E_PHNUM, 0xffff);
		memcpy(big, im.buf, ehsize);
		assert_int_equal(rpk_elf_open(&e, big, size), -RPK_ENOEXEC);
		assert_non_null(e.why);
		free(big);
	}

	/* Entry sizes other than the class's own. */
	{
		const uint16_t bad[] = {0, 1, 31, 33, 40, 55, 57, 64, 0xffff};

		for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			build(&im, form_of(state));
			if (bad[i] != phent) {
				set_ehdr(&im, E_PHENTSIZE, bad[i]);
				expect_open_fails(&im);
			}
			build(&im, form_of(state));
			if (bad[i] != shent) {
				set_ehdr(&im, E_SHENTSIZE, bad[i]);
				expect_open_fails(&im);
			}
		}
		build(&im, form_of(state));
		set_ehdr(&im, E_PHENTSIZE, is64 ? PHDR32_SIZE : PHDR64_SIZE);
		expect_open_fails(&im);
		build(&im, form_of(state));
		set_ehdr(&im, E_SHENTSIZE, is64 ? SHDR32_SIZE : SHDR64_SIZE);
		expect_open_fails(&im);
	}

	/* Section name table index out of range. */
	build(&im, form_of(state));
	set_ehdr(&im, E_SHSTRNDX, NSHDR);
	expect_open_fails(&im);
	set_ehdr(&im, E_SHSTRNDX, 0xffff);
	expect_open_fails(&im);
	set_ehdr(&im, E_SHSTRNDX, 0xff00);
	expect_open_fails(&im);
}

static void test_section_names(void **state)
{
	struct image im;

	/* A name offset at, or past, the end of the string table. */
	build(&im, form_of(state));
	set_shdr(&im, 1, S_NAME, STRTAB_LEN);
	expect_section_fails(&im, 1);
	set_shdr(&im, 1, S_NAME, STRTAB_LEN + 1);
	expect_section_fails(&im, 1);
	set_shdr(&im, 1, S_NAME, 0xffffffffu);
	expect_section_fails(&im, 1);
	/* ...even when the bytes past the table are inside the image. */
	build(&im, form_of(state));
	set_shdr(&im, 1, S_NAME, im.text_off - im.strtab_off);
	expect_section_fails(&im, 1);

	/* The last name is not terminated inside the string table. */
	build(&im, form_of(state));
	im.buf[im.strtab_off + STRTAB_LEN - 1] = 'x';
	expect_section_fails(&im, 5);
	{
		struct rpk_elf e;
		struct rpk_elf_section s;
		uint8_t *copy;

		/* The terminated names before it still work. */
		assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
		assert_int_equal(rpk_elf_find_section(&e, ".resource_table", &s), 0);
		free(copy);
	}
	/* The table's size ends before the last NUL, though a NUL follows in the file. */
	build(&im, form_of(state));
	set_shdr(&im, 5, S_SIZE, STRTAB_LEN - 1);
	expect_section_fails(&im, 5);
	/* Same, with the table ending in the middle of .resource_table's name. */
	build(&im, form_of(state));
	set_shdr(&im, 5, S_SIZE, NAME_RSC + 4);
	expect_section_fails(&im, 4);

	/* The string table itself lies outside the image. */
	build(&im, form_of(state));
	set_shdr(&im, 5, S_SIZE, im.size);
	expect_section_fails(&im, 1);
	build(&im, form_of(state));
	set_shdr(&im, 5, S_OFFSET, im.size);
	set_shdr(&im, 5, S_SIZE, 1);
	expect_section_fails(&im, 1);
	build(&im, form_of(state));
	set_shdr(&im, 5, S_OFFSET, max_of(&im, S_OFFSET) - 2);
	expect_section_fails(&im, 1);
	/* A string table of type NOBITS has no bytes in the file either. */
	build(&im, form_of(state));
	set_shdr(&im, 5, S_TYPE, SHT_NOBITS);
	set_shdr(&im, 5, S_OFFSET, im.size - 2);
	expect_section_fails(&im, 1);
}

static void test_section_bounds(void **state)
{
	struct image im;
	struct rpk_elf e;
	struct rpk_elf_section s;
	uint8_t *copy;

	/* Size runs one byte past the end. */
	build(&im, form_of(state));
	set_shdr(&im, 4, S_SIZE, RSC_SIZE + 1);
	expect_section_fails(&im, 4);
	/* Offset past the end. */
	build(&im, form_of(state));
	set_shdr(&im, 1, S_OFFSET, im.size + 1);
	set_shdr(&im, 1, S_SIZE, 0);
	expect_section_fails(&im, 1);
	/* offset + size wraps. */
	build(&im, form_of(state));
	set_shdr(&im, 1, S_OFFSET, max_of(&im, S_OFFSET) - 1);
	set_shdr(&im, 1, S_SIZE, 4);
	expect_section_fails(&im, 1);
	build(&im, form_of(state));
	set_shdr(&im, 1, S_OFFSET, 4);
	set_shdr(&im, 1, S_SIZE, max_of(&im, S_SIZE));
	expect_section_fails(&im, 1);

	/* An empty section right at the end is inside. */
	build(&im, form_of(state));
	set_shdr(&im, 2, S_OFFSET, im.size);
	set_shdr(&im, 2, S_SIZE, 0);
	assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
	assert_int_equal(rpk_elf_section(&e, 2, &s), 0);
	free(copy);

	/* SHT_NOBITS may lie anywhere. */
	build(&im, form_of(state));
	set_shdr(&im, 3, S_OFFSET, max_of(&im, S_OFFSET));
	set_shdr(&im, 3, S_SIZE, max_of(&im, S_SIZE));
	assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
	assert_int_equal(rpk_elf_section(&e, 3, &s), 0);
	assert_int_equal(s.type, SHT_NOBITS);
	assert_int_equal(s.offset, max_of(&im, S_OFFSET));
	assert_int_equal(s.size, max_of(&im, S_SIZE));
	assert_int_equal(rpk_elf_find_section(&e, ".resource_table", &s), 0);
	free(copy);
	/* ...but the same section as PROGBITS may not. */
	set_shdr(&im, 3, S_TYPE, SHT_PROG);
	expect_section_fails(&im, 3);
}

static void test_segment_bounds(void **state)
{
	const int is64 = is64_of(state);
	struct image im;
	struct rpk_elf e;
	struct rpk_elf_segment g;
	uint8_t *copy;

	/* filesz > memsz. */
	build(&im, form_of(state));
	set_phdr(&im, 1, P_MEMSZ, DATA_SIZE - 1);
	expect_segment_fails(&im, 1);
	/* ...also in a segment that would not be loaded. */
	build(&im, form_of(state));
	set_phdr(&im, 2, P_MEMSZ, 0);
	expect_segment_fails(&im, 2);

	/* File bytes outside the image. */
	build(&im, form_of(state));
	set_phdr(&im, 2, P_FILESZ, RSC_SIZE + 1);
	set_phdr(&im, 2, P_MEMSZ, RSC_SIZE + 1);
	expect_segment_fails(&im, 2);
	build(&im, form_of(state));
	set_phdr(&im, 0, P_OFFSET, im.size + 1);
	set_phdr(&im, 0, P_FILESZ, 0);
	expect_segment_fails(&im, 0);
	build(&im, form_of(state));
	set_phdr(&im, 0, P_OFFSET, im.size - TEXT_SIZE + 1);
	expect_segment_fails(&im, 0);
	build(&im, form_of(state));
	set_phdr(&im, 0, P_OFFSET, max_of(&im, P_OFFSET) - 1); /* offset + filesz wraps */
	expect_segment_fails(&im, 0);
	build(&im, form_of(state));
	set_phdr(&im, 0, P_FILESZ, max_of(&im, P_FILESZ));
	set_phdr(&im, 0, P_MEMSZ, max_of(&im, P_MEMSZ));
	expect_segment_fails(&im, 0);

	/* An empty segment at the very end of the file is inside. */
	build(&im, form_of(state));
	set_phdr(&im, 2, P_OFFSET, im.size);
	set_phdr(&im, 2, P_FILESZ, 0);
	assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
	assert_int_equal(rpk_elf_segment(&e, 2, &g), 0);
	free(copy);

	/* p_paddr + p_memsz wraps around 64 bits (only an ELF64 field can). */
	if (is64) {
		build(&im, form_of(state));
		set_phdr(&im, 1, P_PADDR, UINT64_MAX - 0xf);
		expect_segment_fails(&im, 1);
		build(&im, form_of(state));
		set_phdr(&im, 1, P_MEMSZ, UINT64_MAX);
		expect_segment_fails(&im, 1);
		/* Just below the top does not wrap. */
		build(&im, form_of(state));
		set_phdr(&im, 1, P_PADDR, UINT64_MAX - 0xff);
		assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
		assert_int_equal(rpk_elf_segment(&e, 1, &g), 0);
		assert_int_equal(g.da, UINT64_MAX - 0xff);
		free(copy);
	} else {
		/* In ELF32 the largest values are plain 32-bit numbers, no wrap. */
		build(&im, form_of(state));
		set_phdr(&im, 2, P_PADDR, 0xffffffffu);
		set_phdr(&im, 2, P_MEMSZ, 0xffffffffu);
		assert_int_equal(open_copy(&e, &im, im.size, &copy), 0);
		assert_int_equal(rpk_elf_segment(&e, 2, &g), 0);
		assert_int_equal(g.da, 0xffffffffu);
		assert_int_equal(g.memsz, 0xffffffffu);
		free(copy);
	}
}

/* ---- byte flips ---- */

static void test_byte_flips(void **state)
{
	struct image im;
	struct windows w;
	unsigned opened = 0, refused = 0, walked_clean = 0, walk_failed = 0;

	build(&im, form_of(state));
	windows_init(&w, im.base + WIN0_DA, im.base + WIN1_DA, 0x1000);
	for (size_t pos = 0; pos < im.size; pos++) {
		const uint8_t orig = im.buf[pos];
		const uint8_t vals[3] = {0x00, 0xff, (uint8_t)(orig + 1)};

		for (unsigned k = 0; k < 3; k++) {
			struct rpk_elf e;
			uint8_t *copy = dup_image(im.buf, im.size);
			int rc;

			copy[pos] = vals[k];
			rc = rpk_elf_open(&e, copy, im.size);
			if (rc) {
				assert_int_equal(rc, -RPK_ENOEXEC);
				assert_non_null(e.why);
				refused++;
			} else {
				opened++;
				if (walk(&e, &w.mem))
					walk_failed++;
				else
					walked_clean++;
			}
			free(copy);
		}
	}
	/* The loop saw every outcome: refusals at open, later refusals, clean loads. */
	assert_true(refused > 0);
	assert_true(opened > 0);
	assert_true(walk_failed > 0);
	assert_true(walked_clean > 0);
	windows_fini(&w);
}

#define TEST_FORM(name, fn, form)                                                                  \
	{                                                                                          \
		name, fn, NULL, NULL, form                                                         \
	}
/* Every class and byte order; loads in the CPU's order (native), and in the other (foreign). */
#define ALL(fn)                                                                                    \
	TEST_FORM("elf32le_" #fn, fn, &le32), TEST_FORM("elf64le_" #fn, fn, &le64),                \
	    TEST_FORM("elf32be_" #fn, fn, &be32), TEST_FORM("elf64be_" #fn, fn, &be64)
#define NATIVE(fn)  TEST_FORM("elf32_" #fn, fn, native32), TEST_FORM("elf64_" #fn, fn, native64)
#define FOREIGN(fn) TEST_FORM("elf32_" #fn, fn, foreign32), TEST_FORM("elf64_" #fn, fn, foreign64)

int main(void)
{
	const int big = cpu_big();
	struct form *native32 = big ? &be32 : &le32, *native64 = big ? &be64 : &le64;
	struct form *foreign32 = big ? &le32 : &be32, *foreign64 = big ? &le64 : &be64;
	const struct CMUnitTest tests[] = {
	    ALL(test_open_fields),
	    ALL(test_segments),
	    ALL(test_sections),
	    ALL(test_find_section),
	    ALL(test_no_sections),
	    NATIVE(test_load_two_windows),
	    NATIVE(test_load_uses_paddr),
	    NATIVE(test_load_outside_window),
	    NATIVE(test_load_spanning_windows),
	    FOREIGN(test_load_refuses_other_byte_order),
	    ALL(test_bad_ident),
	    cmocka_unit_test(test_short_elf64_header),
	    ALL(test_truncations),
	    ALL(test_header_tables),
	    ALL(test_section_names),
	    ALL(test_section_bounds),
	    ALL(test_segment_bounds),
	    ALL(test_byte_flips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
