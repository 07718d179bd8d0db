/* SPDX-License-Identifier: BSD-3-Clause */
/* 1000 endpoints on each side of a two-process link: every message reaches
 * exactly its endpoint, and the reply comes back to exactly its sender. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <rpk/errno.h>

#include "twonode.h"

#define COUNT	    1000u
#define REMOTE_BASE 5000u

/* ---- remote: endpoint i at REMOTE_BASE + i answers {its address, payload} ---- */

static struct rpk_ept remote_epts[COUNT];

static int answer(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	uint32_t reply[2] = {ept->addr, 0};

	(void)priv;
	if (len == sizeof(uint32_t))
		memcpy(&reply[1], data, sizeof(uint32_t));
	rpk_sendto(ept, src, reply, sizeof(reply), RPK_WAIT_FOREVER);
	return 0;
}

static void remote_setup(struct rpk_node *n, void *arg)
{
	(void)arg;
	for (uint32_t i = 0; i < COUNT; i++)
		if (rpk_ept_create(rpk_node_dev(n), &remote_epts[i], NULL, REMOTE_BASE + i,
				   RPK_ADDR_ANY, answer, NULL))
			_exit(30);
}

static int remote_cmd(struct rpk_node *n, const char *cmd, char *out, size_t outlen, void *arg)
{
	(void)arg;
	if (!strcmp(cmd, "stats"))
		snprintf(out, outlen, "no_ept %u", rpk_node_dev(n)->stats.rx_no_ept);
	return 0;
}

static const struct remote_ops ops = {.setup = remote_setup, .command = remote_cmd};

/* ---- master ---- */

struct mine {
	struct rpk_ept ept;
	uint32_t index;
	uint32_t replies;
	uint32_t wrong;
};
static struct mine master_epts[COUNT];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static uint32_t total;

static int on_reply(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct mine *m = priv;
	uint32_t r[2];

	(void)ept;
	memcpy(r, data, sizeof(r));
	pthread_mutex_lock(&mu);
	if (len != sizeof(r) || src != REMOTE_BASE + m->index || r[0] != src ||
	    r[1] != m->index * 7u)
		m->wrong++;
	m->replies++;
	total++;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	return 0;
}

static int teardown(void **state)
{
	twonode_kill(*state);
	return 0;
}

static void test_thousand_endpoints(void **state)
{
	struct twonode *t = *state;
	struct rpk_rpmsg *dev;
	struct timespec dl;
	uint32_t prev = 0;

	twonode_up(t, "link256.dts", &ops, NULL, NULL);
	dev = rpk_node_dev(t->master);
	for (uint32_t i = 0; i < COUNT; i++) {
		master_epts[i].index = i;
		assert_int_equal(rpk_ept_create(dev, &master_epts[i].ept, NULL, RPK_ADDR_ANY,
						REMOTE_BASE + i, on_reply, &master_epts[i]),
				 0);
		/* Dynamic addresses start at 1024 and never repeat. */
		assert_true(master_epts[i].ept.addr >= RPK_RESERVED_ADDRESSES);
		assert_true(i == 0 || master_epts[i].ept.addr > prev);
		prev = master_epts[i].ept.addr;
	}
	for (uint32_t i = 0; i < COUNT; i++) {
		uint32_t v = i * 7u;

		assert_int_equal(rpk_send(&master_epts[i].ept, &v, sizeof(v), 5000), 0);
	}
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 60;
	pthread_mutex_lock(&mu);
	while (total < COUNT && pthread_cond_timedwait(&cv, &mu, &dl) == 0)
		;
	pthread_mutex_unlock(&mu);
	assert_int_equal(total, COUNT);
	for (uint32_t i = 0; i < COUNT; i++) {
		assert_int_equal(master_epts[i].replies, 1);
		assert_int_equal(master_epts[i].wrong, 0);
	}
	/* Sent with an explicit source, the reply goes to that source's endpoint. */
	uint32_t v = 1u * 7u;
	assert_int_equal(rpk_send_offchannel(&master_epts[0].ept, master_epts[1].ept.addr,
					     REMOTE_BASE + 1, &v, sizeof(v), 5000),
			 0);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 60;
	pthread_mutex_lock(&mu);
	while (total < COUNT + 1 && pthread_cond_timedwait(&cv, &mu, &dl) == 0)
		;
	pthread_mutex_unlock(&mu);
	assert_int_equal(master_epts[1].replies, 2);
	assert_int_equal(master_epts[1].wrong, 0);
	assert_int_equal(master_epts[0].replies, 1);

	/* A message to nobody is dropped and counted, never delivered elsewhere. */
	assert_int_equal(rpk_sendto(&master_epts[0].ept, REMOTE_BASE - 1, "x", 1, 5000), 0);
	assert_string_equal(twonode_cmd(t, "stats"), "no_ept 1");
	assert_int_equal(master_epts[0].replies, 1);
	for (uint32_t i = 0; i < COUNT; i++)
		rpk_ept_destroy(&master_epts[i].ept);
	twonode_down(t);
}

int main(void)
{
	static struct twonode t;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_prestate_setup_teardown(test_thousand_endpoints, NULL, teardown, &t),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
