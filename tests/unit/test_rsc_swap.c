/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A resource table of the other byte order: written here byte by byte in
 * both orders, as a little-endian and a big-endian CPU lay it out (Linux's
 * include/linux/remoteproc.h, native-endian fields). The one of the CPU's
 * order validates; the other is refused by name, seen as byte-swapped, and
 * rpk_rsc_swap_copy() turns it into exactly the first. Hostile copies
 * (every truncation, every byte set to 0 and 0xff) are never read or written
 * past their size. The suite runs this on x86 (unit.test_rsc_swap) and on
 * s390x (bigendian.unit.test_rsc_swap), so each order is the native one once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rpk/errno.h>
#include <rpk/rsc_table.h>

#define TABLE_SIZE 256u
#define ENTRIES	   4

static const struct rpk_port_ops no_cache_ops = {0};
static const struct rpk_port port = {.ops = &no_cache_ops};

static int cpu_big(void)
{
	const uint16_t one = 1;
	uint8_t first;

	memcpy(&first, &one, 1);
	return first == 0;
}

static void put32(uint8_t *t, size_t off, uint32_t v, int big)
{
	for (unsigned i = 0; i < 4; i++)
		t[off + (big ? 3 - i : i)] = (uint8_t)(v >> (8 * i));
}

/*
 * {ver 1, num 4, offsets} then a carveout, a trace, an rpmsg vdev with two
 * vrings and 4 bytes of config space, and a vendor entry whose 4 bytes are
 * opaque (the same in either order): at 32, 88, 136 and 208.
 */
static void write_table(uint8_t *t, int big)
{
	static const uint32_t offsets[ENTRIES] = {32, 88, 136, 208};
	static const uint8_t config[4] = {0xc0, 0xc1, 0xc2, 0xc3}, vendor[4] = {1, 2, 3, 4};

	memset(t, 0, TABLE_SIZE);
	put32(t, 0, 1, big);
	put32(t, 4, ENTRIES, big);
	for (unsigned i = 0; i < ENTRIES; i++)
		put32(t, 16 + 4 * i, offsets[i], big);
	/* carveout: type da pa len flags reserved name[32] */
	put32(t, 32, RPK_RSC_CARVEOUT, big);
	put32(t, 36, 0x20000000, big);
	put32(t, 40, 0x90000000, big);
	put32(t, 44, 0x8000, big);
	put32(t, 48, 0x5, big);
	memcpy(t + 56, "text", 5);
	/* trace: type da len reserved name[32] */
	put32(t, 88, RPK_RSC_TRACE, big);
	put32(t, 92, 0x200c63c0, big);
	put32(t, 96, 0x800, big);
	memcpy(t + 104, "trace0", 7);
	/* vdev: type id notifyid dfeatures gfeatures config_len, then bytes:
	 * status num_of_vrings reserved[2] */
	put32(t, 136, RPK_RSC_VDEV, big);
	put32(t, 140, 7, big);
	put32(t, 144, 2, big);
	put32(t, 148, 1, big);
	put32(t, 152, 1, big);
	put32(t, 156, sizeof(config), big);
	t[160] = 0x07; /* ACKNOWLEDGE | DRIVER | DRIVER_OK */
	t[161] = 2;
	/* vrings from 164: da align num notifyid pa */
	put32(t, 164, 0x200c8000, big);
	put32(t, 168, 64, big);
	put32(t, 172, 16, big);
	put32(t, 176, 0, big);
	put32(t, 180, 0x12345678, big);
	put32(t, 184, 0x200c9000, big);
	put32(t, 188, 64, big);
	put32(t, 192, 16, big);
	put32(t, 196, 1, big);
	memcpy(t + 204, config, sizeof(config));
	/* vendor type 200, then its bytes */
	put32(t, 208, 200, big);
	memcpy(t + 212, vendor, sizeof(vendor));
}

static void test_native_validates(void **state)
{
	_Alignas(8) uint8_t native[TABLE_SIZE];

	(void)state;
	write_table(native, cpu_big());
	assert_int_equal(rpk_rsc_validate(native, sizeof(native), NULL), ENTRIES);
	assert_false(rpk_rsc_is_byte_swapped(native, &port));
}

static void test_other_order_refused_by_name(void **state)
{
	_Alignas(8) uint8_t foreign[TABLE_SIZE];
	struct rpk_rsc_problem why;

	(void)state;
	write_table(foreign, !cpu_big());
	assert_int_equal(rpk_rsc_validate(foreign, sizeof(foreign), &why), -RPK_ENOEXEC);
	assert_int_equal(why.entry, -1);
	assert_non_null(strstr(why.what, "both sides of a link must share a byte order"));
	assert_non_null(
	    strstr(why.what, cpu_big() ? "the table is little-endian and this CPU big-endian"
				       : "the table is big-endian and this CPU little-endian"));
	assert_true(rpk_rsc_is_byte_swapped(foreign, &port));
}

static void test_swap_copy_gives_the_native_table(void **state)
{
	_Alignas(8) uint8_t native[TABLE_SIZE], foreign[TABLE_SIZE], out[TABLE_SIZE];
	const struct rpk_fw_rsc_vdev *v;

	(void)state;
	write_table(native, cpu_big());
	write_table(foreign, !cpu_big());
	assert_int_equal(rpk_rsc_swap_copy(out, foreign, sizeof(foreign)), 0);
	assert_memory_equal(out, native, sizeof(native));
	assert_int_equal(rpk_rsc_validate(out, sizeof(out), NULL), ENTRIES);
	v = rpk_rsc_entry(out, 2, NULL);
	assert_int_equal(v->vring[0].pa, 0x12345678);
	assert_int_equal(v->vring[1].notifyid, 1);
	/* A table already in the CPU's order is not one to swap: dst untouched. */
	memset(out, 0xee, sizeof(out));
	assert_int_equal(rpk_rsc_swap_copy(out, native, sizeof(native)), -RPK_ENOEXEC);
	assert_int_equal(out[0], 0xee);
	assert_int_equal(rpk_rsc_swap_copy(out, NULL, sizeof(native)), -RPK_ENOEXEC);
}

/* Exact-size heap copies, so AddressSanitizer sees any access past size. */
static void swap_exact(const uint8_t *src, size_t size)
{
	uint8_t *in = malloc(size ? size : 1), *out = malloc(size ? size : 1);
	int rc;

	assert_non_null(in);
	assert_non_null(out);
	memcpy(in, src, size);
	rc = rpk_rsc_swap_copy(out, in, size);
	assert_true(rc == 0 || rc == -RPK_ENOEXEC);
	if (rc == 0) {
		int n = rpk_rsc_validate(out, size, NULL);

		assert_true(n == -RPK_ENOEXEC || (n >= 0 && n <= ENTRIES));
	}
	free(in);
	free(out);
}

static void test_hostile_copies(void **state)
{
	_Alignas(8) uint8_t foreign[TABLE_SIZE], bad[TABLE_SIZE];

	(void)state;
	write_table(foreign, !cpu_big());
	for (size_t len = 0; len <= sizeof(foreign); len++)
		swap_exact(foreign, len);
	for (size_t pos = 0; pos < 216; pos++) {
		memcpy(bad, foreign, sizeof(bad));
		bad[pos] = 0xff; /* offsets, counts and vring numbers far out */
		swap_exact(bad, sizeof(bad));
		bad[pos] = 0;
		swap_exact(bad, sizeof(bad));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_native_validates),
	    cmocka_unit_test(test_other_order_refused_by_name),
	    cmocka_unit_test(test_swap_copy_gives_the_native_table),
	    cmocka_unit_test(test_hostile_copies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
