// SPDX-License-Identifier: BSD-3-Clause
/* What an endpoint device keeps for its readers (host/chardev/msgqueue.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chardev/msgqueue.h"

static uint8_t bytes[RPK_MSGQ_BYTES];
static uint16_t lens[RPK_MSGQ_MSGS];

static void message_mode_keeps_boundaries_and_truncates(void **state)
{
	struct rpk_msgq q;
	char buf[16];

	(void)state;
	rpk_msgq_init(&q, RPK_DEV_MESSAGE, bytes, lens);
	assert_true(rpk_msgq_empty(&q));
	assert_int_equal(rpk_msgq_push(&q, "abc", 3), 0);
	assert_int_equal(rpk_msgq_push(&q, "", 0), 0);
	assert_int_equal(rpk_msgq_push(&q, "0123456789", 10), 0);
	assert_int_equal(rpk_msgq_pop(&q, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_false(rpk_msgq_empty(&q)); /* the empty message is a message */
	assert_int_equal(rpk_msgq_pop(&q, buf, sizeof(buf)), 0);
	/* A short buffer takes the start; the rest of that message is gone. */
	assert_int_equal(rpk_msgq_pop(&q, buf, 4), 4);
	assert_memory_equal(buf, "0123", 4);
	assert_true(rpk_msgq_empty(&q));
	assert_int_equal(q.dropped, 0);
}

static void stream_mode_runs_messages_together(void **state)
{
	struct rpk_msgq q;
	char buf[16];

	(void)state;
	rpk_msgq_init(&q, RPK_DEV_STREAM, bytes, lens);
	rpk_msgq_push(&q, "1\n", 2);
	rpk_msgq_push(&q, "hello\n", 6);
	assert_int_equal(rpk_msgq_pop(&q, buf, 1), 1);
	assert_int_equal(buf[0], '1');
	assert_int_equal(rpk_msgq_pop(&q, buf, sizeof(buf)), 7);
	assert_memory_equal(buf, "\nhello\n", 7);
	assert_true(rpk_msgq_empty(&q));
}

static void full_queue_drops_whole_messages_and_counts(void **state)
{
	static char big[496];
	struct rpk_msgq q;
	uint32_t kept = 0;
	char buf[496];

	(void)state;
	/* By count: 512 messages, the next is dropped. */
	rpk_msgq_init(&q, RPK_DEV_MESSAGE, bytes, lens);
	for (int i = 0; i < 600; i++)
		kept += rpk_msgq_push(&q, &i, sizeof(i)) == 0;
	assert_int_equal(kept, RPK_MSGQ_MSGS);
	assert_int_equal(q.dropped, 600 - RPK_MSGQ_MSGS);
	for (int i = 0; i < (int)RPK_MSGQ_MSGS; i++) {
		int v;

		assert_int_equal(rpk_msgq_pop(&q, &v, sizeof(v)), sizeof(v));
		assert_int_equal(v, i); /* the first ones are kept, in order */
	}
	/* By bytes: a stream holds 64 KiB; a message that does not fit is
	 * dropped whole, never cut. */
	rpk_msgq_init(&q, RPK_DEV_STREAM, bytes, lens);
	memset(big, 'x', sizeof(big));
	kept = 0;
	for (int i = 0; i < 200; i++)
		kept += rpk_msgq_push(&q, big, sizeof(big)) == 0;
	assert_int_equal(kept, RPK_MSGQ_BYTES / sizeof(big));
	assert_int_equal(q.used, kept * sizeof(big));
	assert_int_equal(q.dropped, 200 - kept);
	/* The ring wraps: what comes back is what went in. */
	assert_int_equal(rpk_msgq_pop(&q, buf, 300), 300);
	assert_int_equal(rpk_msgq_push(&q, "wrap", 4), 0);
	while (q.used > 4)
		rpk_msgq_pop(&q, buf, q.used - 4 < sizeof(buf) ? q.used - 4 : sizeof(buf));
	assert_int_equal(rpk_msgq_pop(&q, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "wrap", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(message_mode_keeps_boundaries_and_truncates),
	    cmocka_unit_test(stream_mode_runs_messages_together),
	    cmocka_unit_test(full_queue_drops_whole_messages_and_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
