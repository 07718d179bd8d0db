/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The AArch64 firmware's MMU (mmu.c): one flat (VA = PA) stage-1 table at
 * EL1, 4 KiB pages. Its regions are given the way Zephyr's
 * arm_mmu_region list gives them, so the list `rpk gen` writes for Zephyr
 * (mmu_regions.h, RPK_MMU_REGIONS) is used here unchanged.
 */
#ifndef RPK_FW_MMU_H
#define RPK_FW_MMU_H

#include <stddef.h>
#include <stdint.h>

/* Memory types: indices into MAIR_EL1 (mmu.c sets the attributes). */
#define MT_DEVICE_nGnRnE 0u
#define MT_NORMAL	 1u /* write-back cacheable, inner shareable */
#define MT_NORMAL_NC	 2u /* not cacheable */
#define MT_TYPE_MASK	 3u
/* Access at EL1 (no EL0 here): read-write or read-only. */
#define MT_P_RW_U_NA 0u
#define MT_P_RO_U_NA (1u << 2)
/* Executable: only the image's code is. */
#define MT_P_EXECUTE (1u << 3)
/* Zephyr's security state bit: this firmware runs non-secure only. */
#define MT_DEFAULT_SECURE_STATE 0u

struct mmu_region {
	const char *name;
	uintptr_t base;
	size_t size;
	uint32_t attrs;
};

#define MMU_REGION_FLAT_ENTRY(name, addr, size, attrs)                                             \
	{                                                                                          \
		(name), (addr), (size), (attrs)                                                    \
	}

/* Map every region (page-aligned), then turn on the MMU, the data and
 * instruction caches and alignment checking. Stops the firmware, naming the
 * region, when one cannot be mapped. */
void mmu_enable(const struct mmu_region *regions, size_t count);

#endif
