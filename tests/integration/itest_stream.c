/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Full-speed streams in both directions at once between two processes, four
 * endpoints each way, every message sequence-numbered and pattern-filled:
 * nothing lost, nothing duplicated, nothing reordered per endpoint, nothing
 * corrupted. RPK_STREAM_COUNT sets the messages per direction (default 10^6),
 * RPK_STREAM_EPTS the endpoints each way (default 4, at most 16), RPK_STREAM_DT
 * the link (a devicetree in tests/integration, default link256.dts).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <rpk/errno.h>

#include "twonode.h"

#define MAX_STREAMS 16u
#define REMOTE_SINK 300u /* remote sinks: 300..315, remote sources: 400..415 */
#define REMOTE_SRC  400u

static uint32_t streams = 4;

/* Both processes read the same environment, so they agree. */
static void read_streams(void)
{
	const char *env = getenv("RPK_STREAM_EPTS");

	if (env)
		streams = (uint32_t)strtoul(env, NULL, 0);
	if (streams < 1 || streams > MAX_STREAMS)
		streams = 4;
}

struct msg_head {
	uint32_t seq;
	uint32_t stream;
};

/* Sizes walk over 8..496 bytes; the body is a pattern of (stream, seq). */
static size_t msg_len(uint32_t seq)
{
	return sizeof(struct msg_head) + (seq * 13u) % (RPK_RPMSG_MAX_PAYLOAD - 7);
}

static void make(uint8_t *buf, uint32_t stream, uint32_t seq)
{
	struct msg_head h = {seq, stream};
	size_t len = msg_len(seq);

	memcpy(buf, &h, sizeof(h));
	for (size_t i = sizeof(h); i < len; i++)
		buf[i] = (uint8_t)(seq + stream * 31u + i);
}

/* Per-stream receive state: the next sequence number each stream expects. */
struct sink {
	uint32_t next[MAX_STREAMS];
	uint64_t received;
	uint64_t lost, dup_or_reordered, corrupt;
};

static void sink_check(struct sink *s, const uint8_t *data, size_t len, uint32_t stream)
{
	struct msg_head h;

	if (len < sizeof(h)) {
		s->corrupt++;
		return;
	}
	memcpy(&h, data, sizeof(h));
	if (h.stream != stream || len != msg_len(h.seq)) {
		s->corrupt++;
		return;
	}
	for (size_t i = sizeof(h); i < len; i++)
		if (data[i] != (uint8_t)(h.seq + stream * 31u + i)) {
			s->corrupt++;
			return;
		}
	if (h.seq > s->next[stream])
		s->lost += h.seq - s->next[stream];
	else if (h.seq < s->next[stream])
		s->dup_or_reordered++;
	if (h.seq >= s->next[stream])
		s->next[stream] = h.seq + 1;
	s->received++;
}

static int sink_cb(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)src;
	sink_check(priv, data, len, ept->addr - REMOTE_SINK);
	return 0;
}

/* Send count messages round-robin over the streams from srcs[i] to dst_base + i. */
static int send_all(struct rpk_ept *srcs, uint32_t dst_base, uint32_t count)
{
	uint8_t buf[RPK_RPMSG_MAX_PAYLOAD];

	for (uint32_t n = 0; n < count; n++) {
		uint32_t stream = n % streams, seq = n / streams;

		make(buf, stream, seq);
		if (rpk_sendto(&srcs[stream], dst_base + stream, buf, msg_len(seq), 30000))
			return -1;
	}
	return 0;
}

/* ---- remote ---- */

static struct {
	struct rpk_ept sinks[MAX_STREAMS], srcs[MAX_STREAMS];
	struct sink sink;
	pthread_t sender;
	uint32_t count, dst_base;
	int send_rc;
} rs;

static void *remote_sender(void *arg)
{
	(void)arg;
	rs.send_rc = send_all(rs.srcs, rs.dst_base, rs.count);
	return NULL;
}

static void remote_setup(struct rpk_node *n, void *arg)
{
	(void)arg;
	read_streams();
	for (uint32_t i = 0; i < streams; i++) {
		rpk_ept_create(rpk_node_dev(n), &rs.sinks[i], NULL, REMOTE_SINK + i, RPK_ADDR_ANY,
			       sink_cb, &rs.sink);
		rpk_ept_create(rpk_node_dev(n), &rs.srcs[i], NULL, REMOTE_SRC + i, RPK_ADDR_ANY,
			       NULL, NULL);
	}
}

static int remote_cmd(struct rpk_node *n, const char *cmd, char *out, size_t outlen, void *arg)
{
	(void)n;
	(void)arg;
	if (sscanf(cmd, "send %u %u", &rs.count, &rs.dst_base) == 2) {
		/* Sending runs beside this loop, which keeps receiving. */
		pthread_create(&rs.sender, NULL, remote_sender, NULL);
	} else if (!strcmp(cmd, "report")) {
		pthread_join(rs.sender, NULL);
		snprintf(out, outlen, "send %d received %llu lost %llu dup %llu corrupt %llu",
			 rs.send_rc, (unsigned long long)rs.sink.received,
			 (unsigned long long)rs.sink.lost,
			 (unsigned long long)rs.sink.dup_or_reordered,
			 (unsigned long long)rs.sink.corrupt);
	}
	return 0;
}

static const struct remote_ops ops = {.setup = remote_setup, .command = remote_cmd};

/* ---- master ---- */

static struct rpk_ept sinks[MAX_STREAMS], srcs[MAX_STREAMS];
static struct sink msink;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static int master_sink_cb(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)src;
	pthread_mutex_lock(&mu);
	sink_check(priv, data, len, (uint32_t)(ept - sinks));
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	return 0;
}

static int teardown(void **state)
{
	twonode_kill(*state);
	return 0;
}

static void test_stream_both_directions(void **state)
{
	struct twonode *t = *state;
	const char *env = getenv("RPK_STREAM_COUNT"), *dt = getenv("RPK_STREAM_DT");
	uint32_t count = env ? (uint32_t)strtoul(env, NULL, 0) : 1000000u;
	struct rpk_rpmsg *dev;
	struct timespec dl;
	char want[160];

	twonode_up(t, dt ? dt : "link256.dts", &ops, NULL, NULL);
	dev = rpk_node_dev(t->master);
	read_streams();
	for (uint32_t i = 0; i < streams; i++)
		assert_int_equal(rpk_ept_create(dev, &sinks[i], NULL, RPK_ADDR_ANY, RPK_ADDR_ANY,
						master_sink_cb, &msink),
				 0);
	for (uint32_t i = 0; i < streams; i++)
		assert_int_equal(
		    rpk_ept_create(dev, &srcs[i], NULL, RPK_ADDR_ANY, RPK_ADDR_ANY, NULL, NULL), 0);
	/* The remote's streams go to our sinks, whose addresses are consecutive. */
	assert_int_equal(sinks[streams - 1].addr, sinks[0].addr + streams - 1);
	assert_string_equal(twonode_cmd(t, "send %u %u", count, sinks[0].addr), "ok");
	assert_int_equal(send_all(srcs, REMOTE_SINK, count), 0);

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 600;
	pthread_mutex_lock(&mu);
	while (msink.received < count && pthread_cond_timedwait(&cv, &mu, &dl) == 0)
		;
	pthread_mutex_unlock(&mu);
	assert_int_equal(msink.received, count);
	assert_int_equal(msink.lost, 0);
	assert_int_equal(msink.dup_or_reordered, 0);
	assert_int_equal(msink.corrupt, 0);
	snprintf(want, sizeof(want), "send 0 received %u lost 0 dup 0 corrupt 0", count);
	assert_string_equal(twonode_cmd(t, "report"), want);
	twonode_down(t);
}

int main(void)
{
	static struct twonode t;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_prestate_setup_teardown(test_stream_both_directions, NULL, teardown,
						     &t),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
