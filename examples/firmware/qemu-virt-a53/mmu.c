// SPDX-License-Identifier: BSD-3-Clause
/*
 * A flat stage-1 translation table for EL1 (mmu.h): 39-bit addresses, 4 KiB
 * granule, so a walk is level 1 (1 GiB per entry), level 2 (2 MiB), level 3
 * (4 KiB pages). Every region is mapped with pages, so what is not in the
 * list is not mapped and touching it faults: the firmware sees exactly the
 * memory its devicetree gives it, as Zephyr's arm_mmu does.
 */
#include "mmu.h"

#include <rpk/errno.h>

#include "board.h"

#define PAGE		4096u
#define ENTRIES		512u
#define MAX_TABLES	8u
#define DESC_VALID	1ull
#define DESC_TABLE	3ull /* a table (levels 1, 2) or a page (level 3) */
#define DESC_ADDR_MASK	0x0000fffffffff000ull
#define PTE_ATTRINDX(i) ((uint64_t)(i) << 2)
#define PTE_AP_RO	(1ull << 7)
#define PTE_SH_INNER	(3ull << 8)
#define PTE_AF		(1ull << 10)
#define PTE_PXN		(1ull << 53)
#define PTE_UXN		(1ull << 54)

/* MAIR_EL1: attribute 0 Device-nGnRnE, 1 Normal write-back read/write
 * allocate, 2 Normal non-cacheable (the MT_* indices of mmu.h). */
#define MAIR_VALUE 0x44ff00ull
/* TCR_EL1: T0SZ 25 (39-bit VA), walks cached write-back and inner
 * shareable, 4 KiB granule, no TTBR1 walks (EPD1), 36-bit PA. */
#define TCR_VALUE                                                                                  \
	(25ull | (1ull << 8) | (1ull << 10) | (3ull << 12) | (0ull << 14) | (1ull << 23) |         \
	 (1ull << 32))
#define SCTLR_M	 (1ull << 0)
#define SCTLR_A	 (1ull << 1) /* alignment faults: the core must not rely on unaligned access */
#define SCTLR_C	 (1ull << 2)
#define SCTLR_SA (1ull << 3)
#define SCTLR_I	 (1ull << 12)

static uint64_t tables[MAX_TABLES][ENTRIES] __attribute__((aligned(PAGE)));
static unsigned tables_used = 1; /* tables[0] is level 1 */

static uint64_t page_descriptor(uintptr_t pa, uint32_t attrs)
{
	uint64_t d = pa | DESC_TABLE | PTE_AF | PTE_ATTRINDX(attrs & MT_TYPE_MASK);

	if ((attrs & MT_TYPE_MASK) != MT_DEVICE_nGnRnE)
		d |= PTE_SH_INNER;
	if (attrs & MT_P_RO_U_NA)
		d |= PTE_AP_RO;
	d |= PTE_UXN; /* nothing runs at EL0 */
	if (!(attrs & MT_P_EXECUTE))
		d |= PTE_PXN;
	return d;
}

/* The level-3 entry for va, with the tables on the way made as needed. */
static uint64_t *page_entry(uintptr_t va)
{
	uint64_t *table = tables[0];

	for (unsigned level = 1; level < 3; level++) {
		uint64_t *e = &table[(va >> (39 - 9 * level)) & (ENTRIES - 1)];

		if (!(*e & DESC_VALID)) {
			if (tables_used == MAX_TABLES)
				return 0;
			*e = (uint64_t)(uintptr_t)tables[tables_used++] | DESC_TABLE;
		}
		table = (uint64_t *)(uintptr_t)(*e & DESC_ADDR_MASK);
	}
	return &table[(va >> 12) & (ENTRIES - 1)];
}

static void map_region(const struct mmu_region *r)
{
	if ((r->base | r->size) % PAGE || !r->size || r->base + r->size < r->base ||
	    r->base + r->size > (1ull << 36)) {
		console_puts("rpk firmware: MMU region ");
		console_puts(r->name);
		console_puts(" is not whole pages below 64 GiB\n");
		platform_stop(-RPK_EINVAL);
	}
	for (uintptr_t pa = r->base; pa < r->base + r->size; pa += PAGE) {
		uint64_t *e = page_entry(pa);

		if (!e) {
			console_puts("rpk firmware: no translation table left for MMU region ");
			console_puts(r->name);
			console_puts("\n");
			platform_stop(-RPK_ENOMEM);
		}
		*e = page_descriptor(pa, r->attrs);
	}
}

void mmu_enable(const struct mmu_region *regions, size_t count)
{
	uint64_t sctlr;

	for (size_t i = 0; i < count; i++)
		map_region(&regions[i]);
	/* The tables were written with the MMU and caches off, so they are in
	 * memory, where the first walks (cached, TCR) will find them: no
	 * cache line holds a stale copy yet. */
	__asm__ volatile("msr mair_el1, %0\n"
			 "msr tcr_el1, %1\n"
			 "msr ttbr0_el1, %2\n"
			 "dsb ish\n"
			 "isb\n"
			 "tlbi vmalle1\n"
			 "dsb ish\n"
			 "isb\n"
			 :
			 : "r"(MAIR_VALUE), "r"(TCR_VALUE), "r"((uint64_t)(uintptr_t)tables[0])
			 : "memory");
	__asm__ volatile("mrs %0, sctlr_el1" : "=r"(sctlr));
	sctlr |= SCTLR_M | SCTLR_A | SCTLR_C | SCTLR_SA | SCTLR_I;
	__asm__ volatile("msr sctlr_el1, %0\n"
			 "isb\n" ::"r"(sctlr)
			 : "memory");
}
