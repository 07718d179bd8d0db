/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: a firmware image as a master would be handed it. The bytes are
 * the image: it is opened, every segment and section is walked, the resource
 * table is looked up and the image is loaded into two windows. Everything the
 * parser hands out must lie inside the image, and loading must write only
 * inside the windows. The image is an exactly sized heap copy so
 * AddressSanitizer sees any overread.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpk/elf.h>
#include <rpk/errno.h>

#include "fuzz_common.h"

#define WIN_SIZE 0x10000u

static uint8_t win_mem[2][WIN_SIZE + 64];

static void check_section(const struct rpk_elf *e, const struct rpk_elf_section *s)
{
	const uint8_t *n = (const uint8_t *)s->name;

	CHECK(n >= e->img && n < e->img + e->size);
	CHECK(memchr(n, 0, (size_t)(e->img + e->size - n)) != NULL);
	if (s->type != RPK_SHT_NOBITS)
		CHECK(s->offset <= e->size && s->size <= e->size - s->offset);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Windows at the addresses small test images like to use. */
	const struct rpk_mem_window win[2] = {{0x10000000u, WIN_SIZE, win_mem[0] + 32},
					      {0x20000000u, WIN_SIZE, win_mem[1] + 32}};
	const struct rpk_mem mem = {win, 2};
	struct rpk_elf_segment seg;
	struct rpk_elf_section sec;
	struct rpk_elf e;
	uint8_t *img = malloc(size ? size : 1);
	int rc;

	memcpy(img, data, size);
	memset(win_mem, 0x5a, sizeof(win_mem));
	if (rpk_elf_open(&e, img, size) == 0) {
		for (uint32_t i = 0; (rc = rpk_elf_segment(&e, i, &seg)) != -RPK_ENOENT; i++) {
			CHECK(rc == 0 || rc == -RPK_ENOEXEC);
			if (rc == 0)
				CHECK(seg.filesz <= seg.memsz && seg.offset <= size &&
				      seg.filesz <= size - seg.offset);
			CHECK(i < e.phnum);
		}
		for (uint32_t i = 0; (rc = rpk_elf_section(&e, i, &sec)) != -RPK_ENOENT; i++) {
			CHECK(rc == 0 || rc == -RPK_ENOEXEC);
			if (rc == 0)
				check_section(&e, &sec);
			CHECK(i < e.shnum);
		}
		if (rpk_elf_find_section(&e, ".resource_table", &sec) == 0) {
			check_section(&e, &sec);
			CHECK(!strcmp(sec.name, ".resource_table"));
		}
		rc = rpk_elf_load(&e, &mem);
		CHECK(rc == 0 || rc == -RPK_EFAULT || rc == -RPK_ENOEXEC);
		/* The guard bytes around each window are never written. */
		for (int w = 0; w < 2; w++)
			for (int k = 0; k < 32; k++) {
				CHECK(win_mem[w][k] == 0x5a);
				CHECK(win_mem[w][32 + WIN_SIZE + k] == 0x5a);
			}
	}
	free(img);
	return 0;
}
