/* SPDX-License-Identifier: BSD-3-Clause */
/* A static link's header (src/link/link_header.c): what a master reads of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rpk/errno.h>
#include <rpk/link_header.h>

static const struct rpk_port_ops no_ops;
static const struct rpk_port port = {.ops = &no_ops};

static void test_written_header_reads_back(void **state)
{
	uint32_t mem[RPK_LINK_HEADER_BYTES / 4];
	struct rpk_link_hdr h;

	(void)state;
	memset(mem, 0xa5, sizeof(mem)); /* a master's hash of before, garbage */
	rpk_link_hdr_write(mem, 0x1234abcd, &port);
	assert_int_equal(rpk_link_hdr_read(mem, &h, &port), 0);
	assert_int_equal(h.magic, RPK_LINK_MAGIC);
	/* The documented bytes, on a little-endian CPU; its words are the remote's order. */
	if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
		assert_memory_equal(mem, "RPKL", 4);
	else
		assert_memory_equal(mem, "LKPR", 4);
	assert_int_equal(h.layout_hash, 0x1234abcd);
	assert_int_equal(h.master_hash, 0);
	assert_int_equal(h.table_offset, RPK_LINK_TABLE_OFFSET);
	assert_int_equal(h.table_size, RPK_LINK_TABLE_SIZE);
	assert_int_equal(h.ring_ack, 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(h.reserved[i], 0);
	for (int i = 0; i < 15; i++)
		assert_int_equal(h.master_reserved[i], 0);
	rpk_link_hdr_set_master_hash(mem, 0x55aa55aa, &port);
	assert_int_equal(rpk_link_hdr_read(mem, &h, &port), 0);
	assert_int_equal(h.master_hash, 0x55aa55aa);
	assert_int_equal(h.layout_hash, 0x1234abcd);
	rpk_link_hdr_set_ring_ack(mem, 77, &port);
	assert_int_equal(rpk_link_hdr_read(mem, &h, &port), 0);
	assert_int_equal(h.ring_ack, 77);
	assert_int_equal(mem[0x14 / 4], 77);	     /* at 0x14, as documented */
	assert_int_equal(mem[0x40 / 4], 0x55aa55aa); /* the master's line */
}

static void test_foreign_headers_are_named(void **state)
{
	uint32_t mem[RPK_LINK_HEADER_BYTES / 4];
	struct rpk_link_hdr h;

	(void)state;
	memset(mem, 0, sizeof(mem));
	assert_int_equal(rpk_link_hdr_read(mem, &h, &port), -RPK_ENOENT);
	rpk_link_hdr_write(mem, 1, &port);
	mem[0] = __builtin_bswap32(RPK_LINK_MAGIC); /* a remote of the other byte order */
	assert_int_equal(rpk_link_hdr_read(mem, &h, &port), -RPK_EPROTO);
	rpk_link_hdr_write(mem, 1, &port);
	mem[1] = RPK_LINK_VERSION + 1;
	assert_int_equal(rpk_link_hdr_read(mem, &h, &port), -RPK_ENOEXEC);
	assert_int_equal(h.version, RPK_LINK_VERSION + 1); /* for the message */
	rpk_link_hdr_write(mem, 1, &port);
	mem[3] = 0x3b8; /* a table elsewhere: not this version's */
	assert_int_equal(rpk_link_hdr_read(mem, &h, &port), -RPK_ENOEXEC);
	rpk_link_hdr_write(mem, 1, &port);
	mem[4] = 0x1000;
	assert_int_equal(rpk_link_hdr_read(mem, &h, &port), -RPK_ENOEXEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_written_header_reads_back),
	    cmocka_unit_test(test_foreign_headers_are_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
