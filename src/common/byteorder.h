/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The CPU's byte order. What a remoteproc link shares (the resource table,
 * legacy virtio rings, rpmsg headers, the trace header) is in the byte order
 * of the CPUs on the chip, which is one order for both sides: Linux's
 * remoteproc and virtio_rpmsg_bus use native-endian fields (rsc_table.h says
 * so, and virtio_rpmsg_bus.c converts with virtio32_to_cpu, which is native
 * for a device without VERSION_1). The core reads them as native values and
 * only tells the other order apart, to refuse it by name.
 */
#ifndef RPK_SRC_BYTEORDER_H
#define RPK_SRC_BYTEORDER_H

#include <stdint.h>

/* GCC and clang predefine both macros; a constant the compiler folds. */
static inline int cpu_big_endian(void)
{
	return __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
}

static inline const char *byte_order_name(int big)
{
	return big ? "big-endian" : "little-endian";
}

static inline uint32_t swap32(uint32_t v)
{
	return __builtin_bswap32(v);
}

#endif
