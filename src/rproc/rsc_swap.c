/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A resource table of the other byte order, turned into the CPU's, for the
 * tools that read one (rpk rsc dump of a big-endian firmware on a
 * little-endian host, rpk status and rpk trace of a misconfigured link). A
 * node never runs on such a table: rpk_rsc_validate() refuses it.
 */
#include <rpk/errno.h>
#include <rpk/rsc_table.h>

#include "common/byteorder.h"

#define HDR_WORDS      4u
#define CARVEOUT_WORDS 6u /* type, da, pa, len, flags, reserved; then the name */
#define TRACE_WORDS    4u /* type, da, len, reserved; then the name */
#define VDEV_WORDS     6u /* type, id, notifyid, dfeatures, gfeatures, config_len */
#define VRING_WORDS    5u /* da, align, num, notifyid, pa */

/* The word at off of src, byte-swapped into dst, if it lies inside size. */
static uint32_t swap_word(uint8_t *dst, const uint8_t *src, size_t size, size_t off)
{
	uint32_t v;

	if (off > size || size - off < 4)
		return 0;
	v = (uint32_t)src[off] << 24 | (uint32_t)src[off + 1] << 16 | (uint32_t)src[off + 2] << 8 |
	    src[off + 3];
	v = cpu_big_endian() ? swap32(v) : v; /* v holds the word read big-endian */
	__builtin_memcpy(dst + off, &v, sizeof(v));
	return v;
}

static void swap_words(uint8_t *dst, const uint8_t *src, size_t size, size_t off, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		swap_word(dst, src, size, off + (size_t)i * 4u);
}

static void swap_entry(uint8_t *dst, const uint8_t *src, size_t size, size_t off)
{
	uint32_t type = swap_word(dst, src, size, off);

	switch (type) {
	case RPK_RSC_CARVEOUT:
	case RPK_RSC_DEVMEM:
		swap_words(dst, src, size, off, CARVEOUT_WORDS);
		break;
	case RPK_RSC_TRACE:
		swap_words(dst, src, size, off, TRACE_WORDS);
		break;
	case RPK_RSC_VDEV: {
		/* num_of_vrings is a byte: the same in either order. */
		size_t nv = off + VDEV_WORDS * 4u + 1u;
		size_t first = off + sizeof(struct rpk_fw_rsc_vdev);

		swap_words(dst, src, size, off, VDEV_WORDS);
		if (nv < size)
			swap_words(dst, src, size, first, (uint32_t)src[nv] * VRING_WORDS);
		break;
	}
	default:
		break; /* vendor or unknown: only its type is known */
	}
}

int rpk_rsc_swap_copy(void *dst, const void *src, size_t size)
{
	const uint8_t *s = src;
	uint8_t *d = dst;
	uint32_t num;

	if (!src || size < HDR_WORDS * 4u || s[cpu_big_endian() ? 3 : 0] != 0 ||
	    s[cpu_big_endian() ? 0 : 3] != 1 || s[1] || s[2])
		return -RPK_ENOEXEC; /* not version 1 in the other order */
	__builtin_memcpy(d, s, size);
	swap_words(d, s, size, 0, HDR_WORDS);
	num = swap_word(d, s, size, 4);
	/* Offsets past the end are left to rpk_rsc_validate to report. */
	for (uint32_t i = 0; i < num && (size_t)i < (size - HDR_WORDS * 4u) / 4u; i++) {
		uint32_t off = swap_word(d, s, size, HDR_WORDS * 4u + (size_t)i * 4u);

		if (!(off & 3u))
			swap_entry(d, s, size, off);
	}
	return 0;
}
