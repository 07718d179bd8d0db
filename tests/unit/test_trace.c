/* SPDX-License-Identifier: BSD-3-Clause */
/* Trace ring: what a reader gets while the remote keeps writing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rpk/errno.h>
#include <rpk/trace.h>

#define LEN (RPK_TRACE_HDR_SIZE + 64u) /* a 64-byte ring */

static _Alignas(8) uint8_t mem[LEN + 40];
static struct rpk_trace writer;

/* A port whose invalidate lets the writer run in the middle of a read. */
static int invalidates, write_on;
static const char *race_text;

static void on_invalidate(void *ctx, const void *p, size_t len)
{
	(void)ctx;
	(void)p;
	(void)len;
	if (++invalidates == write_on)
		rpk_trace_write(&writer, race_text, strlen(race_text));
}

static const struct rpk_port_ops ops = {.cache_invalidate = on_invalidate};
static const struct rpk_port port = {.ops = &ops};

static int setup(void **state)
{
	(void)state;
	memset(mem, 0xee, sizeof(mem));
	invalidates = write_on = 0;
	assert_int_equal(rpk_trace_init(&writer, mem, LEN + 8, &port), 0);
	assert_int_equal(writer.size, 64); /* a power of two, not 72 */
	return 0;
}

static int rd(struct rpk_trace_cursor *pos, char *out, size_t cap, uint32_t *lost)
{
	int n = rpk_trace_read(mem, LEN + 8, pos, out, cap, lost, &port);

	if (n >= 0)
		out[n] = 0;
	return n;
}

static void test_lines_in_order(void **state)
{
	char out[128];
	struct rpk_trace_cursor pos = {0, 0};
	uint32_t lost;

	(void)state;
	assert_int_equal(rd(&pos, out, 100, &lost), 0);
	rpk_trace_write(&writer, "boot\n", 5);
	rpk_trace_write(&writer, "link up\n", 8);
	assert_int_equal(rd(&pos, out, 100, &lost), 13);
	assert_string_equal(out, "boot\nlink up\n");
	assert_int_equal(lost, 0);
	assert_int_equal(rd(&pos, out, 100, &lost), 0); /* nothing new */
	/* A small reader buffer takes it piece by piece. */
	rpk_trace_write(&writer, "0123456789", 10);
	assert_int_equal(rd(&pos, out, 4, &lost), 4);
	assert_string_equal(out, "0123");
	assert_int_equal(rd(&pos, out, 100, &lost), 6);
	assert_string_equal(out, "456789");
}

static void test_wrap_and_lost(void **state)
{
	char out[128], want[128];
	struct rpk_trace_cursor pos = {0, 0};
	uint32_t lost;

	(void)state;
	for (int i = 0; i < 10; i++) {
		char line[11];

		memcpy(line, "line 0...\n", 11);
		line[5] = (char)('0' + i);
		rpk_trace_write(&writer, line, 10);
	}
	/* 100 bytes through a 64-byte ring: the last 64 are there. */
	assert_int_equal(rd(&pos, out, 100, &lost), 64);
	assert_int_equal(lost, 36);
	memcpy(want, "...\nline 4...\nline 5...\nline 6...\nline 7...\nline 8...\nline 9...\n", 65);
	assert_string_equal(out, want);
	/* One write longer than the ring keeps its end. */
	memset(want, 'a', 100);
	memcpy(want + 90, "0123456789", 10);
	rpk_trace_write(&writer, want, 100);
	assert_int_equal(rd(&pos, out, 128, &lost), 64);
	assert_int_equal(lost, 36);
	assert_memory_equal(out + 54, "0123456789", 10);
	assert_int_equal(mem[LEN + 8], 0xee); /* nothing past the buffer */
}

static void test_overwritten_while_reading(void **state)
{
	char out[128];
	struct rpk_trace_cursor pos = {0, 0};
	uint32_t lost;

	(void)state;
	rpk_trace_write(&writer, "0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQR",
			64);
	/* The writer adds 20 bytes between our copy and our second look. */
	race_text = "--------------------";
	invalidates = 0;
	write_on = 3;
	assert_int_equal(rd(&pos, out, 128, &lost), 44);
	assert_int_equal(lost, 20);
	assert_memory_equal(out, "klmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQR", 44);
	write_on = 0;
	assert_int_equal(rd(&pos, out, 128, &lost), 20);
	assert_string_equal(out, "--------------------");
}

static void test_writer_restart(void **state)
{
	char out[128];
	struct rpk_trace_cursor pos = {0, 0};
	uint32_t lost;

	(void)state;
	rpk_trace_write(&writer, "first life, quite a long line\n", 30);
	assert_int_equal(rd(&pos, out, 128, &lost), 30);
	/* A reboot carries on: a reader loses nothing of either run. */
	rpk_trace_write(&writer, "last words\n", 11);
	assert_int_equal(rpk_trace_init(&writer, mem, LEN + 8, &port), 0);
	rpk_trace_write(&writer, "second\n", 7);
	assert_int_equal(rd(&pos, out, 128, &lost), 18);
	assert_string_equal(out, "last words\nsecond\n");
	assert_int_equal(lost, 0);
	/* A buffer laid out anew (another size) starts a new epoch: a reader
	 * starts over, even if more was written than it had read. */
	assert_int_equal(rpk_trace_init(&writer, mem, LEN - 32, &port), 0);
	rpk_trace_write(&writer, "third life, a longer line\n", 26);
	assert_int_equal(rd(&pos, out, 128, &lost), 26);
	assert_string_equal(out, "third life, a longer line\n");
}

static void test_not_a_trace(void **state)
{
	char out[128];
	struct rpk_trace_cursor pos = {0, 0};
	uint32_t lost, v;

	(void)state;
	assert_int_equal(rd(&pos, out, 128, &lost), 0);
	v = 48; /* not a power of two */
	memcpy(mem + 4, &v, 4);
	assert_int_equal(rd(&pos, out, 128, &lost), -RPK_EBADMSG);
	v = 128; /* larger than the buffer */
	memcpy(mem + 4, &v, 4);
	assert_int_equal(rd(&pos, out, 128, &lost), -RPK_EBADMSG);
	v = 64;
	memcpy(mem + 4, &v, 4);
	assert_int_equal(rd(&pos, out, 128, &lost), 0);
	mem[0] ^= 1;
	assert_int_equal(rd(&pos, out, 128, &lost), -RPK_EBADMSG);
	assert_int_equal(rpk_trace_read(mem, 8, &pos, out, 128, &lost, &port), -RPK_EBADMSG);
	assert_int_equal(rpk_trace_init(&writer, mem, 20, &port), -RPK_EINVAL);
}

/* The header as a writer of the other byte order leaves it: each word reversed. */
static void swap_header(void)
{
	for (unsigned w = 0; w < RPK_TRACE_HDR_SIZE / 4; w++) {
		uint8_t *p = mem + 4 * w, b0 = p[0], b1 = p[1];

		p[0] = p[3];
		p[1] = p[2];
		p[2] = b1;
		p[3] = b0;
	}
}

/* A trace written by a CPU of the other byte order (rpk trace of a
 * misconfigured link) reads the same: its text is bytes, its header words
 * are taken in the writer's order, wrap and loss included. */
static void test_other_byte_order(void **state)
{
	char out[128];
	struct rpk_trace_cursor pos = {0, 0};
	uint32_t lost;

	(void)state;
	rpk_trace_write(&writer, "boot\n", 5);
	swap_header();
	assert_int_equal(rd(&pos, out, 100, &lost), 5);
	assert_string_equal(out, "boot\n");
	swap_header();
	rpk_trace_write(&writer,
			"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef!", 65);
	swap_header();
	assert_int_equal(rd(&pos, out, 100, &lost), 64);
	assert_int_equal(lost, 1);
	assert_int_equal(out[63], '!');
	assert_int_equal(rd(&pos, out, 100, &lost), 0);
	/* A magic that is neither order is still no trace. */
	mem[1] ^= 1;
	assert_int_equal(rd(&pos, out, 128, &lost), -RPK_EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_lines_in_order, setup),
	    cmocka_unit_test_setup(test_wrap_and_lost, setup),
	    cmocka_unit_test_setup(test_overwritten_while_reading, setup),
	    cmocka_unit_test_setup(test_writer_restart, setup),
	    cmocka_unit_test_setup(test_not_a_trace, setup),
	    cmocka_unit_test_setup(test_other_byte_order, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
