/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Buffers across two processes: zero-copy send, holding received buffers past
 * the callback, and blocking send/receive running out of time. The link is
 * the seeds' layout: 16 buffers each way.
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

#define ECHO_ADDR   200u
#define HOLDER_ADDR 201u
#define NBUFS	    16u

/* ---- remote side ---- */

struct remote_state {
	struct rpk_node *n;
	struct rpk_ept echo, holder;
	void *held[NBUFS];
	uint32_t held_len[NBUFS];
	unsigned nheld;
	unsigned corrupt;
};
static struct remote_state rs;

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 17u + i * 3u);
}

static int check(const uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != (uint8_t)(seed * 17u + i * 3u))
			return 0;
	return 1;
}

static int echo(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	rpk_sendto(ept, src, data, len, RPK_WAIT_FOREVER);
	return 0;
}

/* Keeps every message; the first byte says which seed filled it. */
static int hold(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept;
	(void)src;
	(void)priv;
	if (rs.nheld < NBUFS && rpk_hold_rx_buffer(ept->dev, data) == 0) {
		rs.held[rs.nheld] = data;
		rs.held_len[rs.nheld++] = (uint32_t)len;
	}
	return 0;
}

/* Release everything held, checking nothing was overwritten meanwhile. */
static void release_all(struct rpk_node *n, void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < rs.nheld; i++) {
		uint8_t *p = rs.held[i];

		if (!check(p + 1, rs.held_len[i] - 1, p[0]))
			rs.corrupt++;
		if (rpk_release_rx_buffer(rpk_node_dev(n), p))
			rs.corrupt++;
	}
	/* Releasing twice, or something never held, is refused. */
	if (rs.nheld && rpk_release_rx_buffer(rpk_node_dev(n), rs.held[0]) != -RPK_EINVAL)
		rs.corrupt++;
	rs.nheld = 0;
}

static void remote_setup(struct rpk_node *n, void *arg)
{
	(void)arg;
	rs.n = n;
	rpk_ept_create(rpk_node_dev(n), &rs.echo, NULL, ECHO_ADDR, RPK_ADDR_ANY, echo, NULL);
	rpk_ept_create(rpk_node_dev(n), &rs.holder, NULL, HOLDER_ADDR, RPK_ADDR_ANY, hold, NULL);
}

/* "zc DST COUNT": send COUNT zero-copy messages to DST. */
static int zc_send(struct rpk_rpmsg *dev, uint32_t dst, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		uint32_t size;
		uint8_t *buf;

		if (rpk_get_tx_buffer(dev, (void **)&buf, &size, 5000) || size < 64)
			return -1;
		buf[0] = (uint8_t)i;
		fill(buf + 1, 63, i);
		if (rpk_send_nocopy(&rs.echo, dst, buf, 64))
			return -1;
	}
	/* A buffer taken and given back unsent does not leak. */
	for (unsigned i = 0; i < 3 * NBUFS; i++) {
		uint32_t size;
		void *buf;

		if (rpk_get_tx_buffer(dev, &buf, &size, 5000) || rpk_release_tx_buffer(dev, buf))
			return -1;
	}
	return 0;
}

/* "fill DST": fill all master receive buffers at DST (which holds them), then
 * check try-send and a timed send fail as they should. */
static void fill_master(uint32_t dst, char *out, size_t outlen)
{
	uint8_t msg[32];
	int n = 0, try_rc, timed_rc;

	for (;; n++) {
		msg[0] = (uint8_t)n;
		fill(msg + 1, sizeof(msg) - 1, (unsigned)n);
		if (rpk_sendto(&rs.echo, dst, msg, sizeof(msg), 2000))
			break;
	}
	try_rc = rpk_trysendto(&rs.echo, dst, msg, sizeof(msg));
	timed_rc = rpk_sendto(&rs.echo, dst, msg, sizeof(msg), 200);
	/* The link is full: report out of band, reply once the master reads. */
	twonode_note("sent %d try %d timed %d", n, try_rc, timed_rc);
	snprintf(out, outlen, "done");
}

static int remote_cmd(struct rpk_node *n, const char *cmd, char *out, size_t outlen, void *arg)
{
	unsigned a, b;

	(void)arg;
	if (sscanf(cmd, "zc %u %u", &a, &b) == 2)
		snprintf(out, outlen, "%d", zc_send(rpk_node_dev(n), a, b));
	else if (sscanf(cmd, "fill %u", &a) == 1)
		fill_master(a, out, outlen);
	else if (!strcmp(cmd, "held"))
		snprintf(out, outlen, "held %u corrupt %u", rs.nheld, rs.corrupt);
	return 0;
}

static const struct remote_ops ops = {
    .setup = remote_setup, .command = remote_cmd, .on_signal = release_all};

/* ---- master side ---- */

static int teardown(void **state)
{
	twonode_kill(*state);
	return 0;
}

/* Zero-copy in both directions: the data arrives intact, nothing leaks. */
static void test_zero_copy(void **state)
{
	struct twonode *t = *state;
	struct rpk_rpmsg *dev;
	struct rpk_inbox *h;
	uint8_t in[RPK_RPMSG_MAX_PAYLOAD];
	char want[64];

	twonode_up(t, "link16.dts", &ops, NULL, NULL);
	dev = rpk_node_dev(t->master);
	assert_int_equal(rpk_inbox_open(t->master, &h, NULL, RPK_ADDR_ANY, ECHO_ADDR), 0);
	for (unsigned i = 0; i < 5 * NBUFS; i++) {
		uint32_t size;
		uint8_t *buf;

		assert_int_equal(rpk_get_tx_buffer(dev, (void **)&buf, &size, 5000), 0);
		assert_int_equal(size, RPK_RPMSG_MAX_PAYLOAD);
		fill(buf, size, i);
		assert_int_equal(rpk_send_nocopy(rpk_inbox_ept(h), ECHO_ADDR, buf, size), 0);
		/* The buffer is the peer's now: sending it again is refused. */
		assert_int_equal(rpk_send_nocopy(rpk_inbox_ept(h), ECHO_ADDR, buf, size),
				 -RPK_EINVAL);
		assert_int_equal(rpk_inbox_recv(h, in, sizeof(in), NULL, 5000), size);
		assert_true(check(in, size, i));
	}
	for (unsigned i = 0; i < 3 * NBUFS; i++) {
		uint32_t size;
		void *buf;

		assert_int_equal(rpk_get_tx_buffer(dev, &buf, &size, 5000), 0);
		assert_int_equal(rpk_release_tx_buffer(dev, buf), 0);
		assert_int_equal(rpk_release_tx_buffer(dev, buf), -RPK_EINVAL);
	}
	assert_int_equal(rpk_release_tx_buffer(dev, in), -RPK_EINVAL);

	/* The remote sends zero-copy to us. */
	/* One buffer short of all, so the reply still fits while we hold them. */
	snprintf(want, sizeof(want), "zc %u %u", rpk_inbox_ept(h)->addr, NBUFS - 1);
	assert_string_equal(twonode_cmd(t, "%s", want), "0");
	for (unsigned i = 0; i < NBUFS - 1; i++) {
		assert_int_equal(rpk_inbox_recv(h, in, sizeof(in), NULL, 5000), 64);
		assert_int_equal(in[0], (uint8_t)i);
		assert_true(check(in + 1, 63, i));
	}
	rpk_inbox_close(h);
	twonode_down(t);
}

/*
 * The remote holds every buffer we send: we run out, try-send says so at
 * once and a timed send times out; once the remote lets go, sending works
 * again and what it held was never overwritten.
 */
static void test_remote_holds_our_buffers(void **state)
{
	struct twonode *t = *state;
	struct rpk_inbox *h;
	uint8_t msg[100];
	char buf[64];

	twonode_up(t, "link16.dts", &ops, NULL, NULL);
	assert_int_equal(rpk_inbox_open(t->master, &h, NULL, RPK_ADDR_ANY, HOLDER_ADDR), 0);
	for (unsigned i = 0; i < NBUFS; i++) {
		msg[0] = (uint8_t)i;
		fill(msg + 1, sizeof(msg) - 1, i);
		assert_int_equal(rpk_send(rpk_inbox_ept(h), msg, sizeof(msg), 5000), 0);
	}
	assert_int_equal(rpk_trysend(rpk_inbox_ept(h), msg, sizeof(msg)), -RPK_EAGAIN);
	assert_int_equal(rpk_send(rpk_inbox_ept(h), msg, sizeof(msg), 100), -RPK_ETIMEDOUT);

	twonode_signal(t); /* the remote releases what it holds */
	assert_int_equal(rpk_send(rpk_inbox_ept(h), msg, 1, 10000), 0);
	snprintf(buf, sizeof(buf), "%s", twonode_cmd(t, "held"));
	assert_string_equal(buf, "held 1 corrupt 0");
	rpk_inbox_close(h);
	twonode_down(t);
}

/*
 * We hold every buffer the remote sends (our hosted endpoint keeps messages
 * until read): the remote's try-send and timed send fail, it tells us so once
 * we read and thereby release.
 */
static void test_master_holds_remote_buffers(void **state)
{
	struct twonode *t = *state;
	struct rpk_inbox *h;
	uint8_t in[64];
	char want[64];
	int n;

	twonode_up(t, "link16.dts", &ops, NULL, NULL);
	assert_int_equal(rpk_inbox_open(t->master, &h, NULL, RPK_ADDR_ANY, RPK_ADDR_ANY), 0);
	/* The reply waits for a free buffer: send the command, read later. */
	snprintf(want, sizeof(want), "fill %u", rpk_inbox_ept(h)->addr);
	assert_int_equal(rpk_send(rpk_inbox_ept(t->ctl), want, strlen(want), 5000), 0);
	snprintf(want, sizeof(want), "sent %u try %d timed %d", NBUFS, -RPK_EAGAIN, -RPK_ETIMEDOUT);
	assert_string_equal(twonode_read_note(t, 20000), want);
	/* Reading releases; what we held was never overwritten. */
	for (n = 0; n < (int)NBUFS; n++) {
		assert_int_equal(rpk_inbox_recv(h, in, sizeof(in), NULL, 10000), 32);
		assert_int_equal(in[0], (uint8_t)n);
		assert_true(check(in + 1, 31, (unsigned)n));
	}
	n = rpk_inbox_recv(t->ctl, want, sizeof(want) - 1, NULL, 10000);
	assert_int_equal(n, 4);
	rpk_inbox_close(h);
	twonode_down(t);
}

/* A blocking receive with nothing coming returns the timeout. */
static void test_receive_timeout(void **state)
{
	struct twonode *t = *state;
	struct rpk_inbox *h;
	uint8_t in[16];

	twonode_up(t, "link16.dts", &ops, NULL, NULL);
	assert_int_equal(rpk_inbox_open(t->master, &h, NULL, RPK_ADDR_ANY, ECHO_ADDR), 0);
	assert_int_equal(rpk_inbox_recv(h, in, sizeof(in), NULL, 50), -RPK_ETIMEDOUT);
	/* ...and the endpoint still works afterwards; a short buffer is refused
	 * without losing the message. */
	assert_int_equal(rpk_send(rpk_inbox_ept(h), "0123456789", 10, 5000), 0);
	assert_int_equal(rpk_inbox_recv(h, in, 4, NULL, 5000), -RPK_EMSGSIZE);
	assert_int_equal(rpk_inbox_recv(h, in, sizeof(in), NULL, 5000), 10);
	assert_memory_equal(in, "0123456789", 10);
	rpk_inbox_close(h);
	twonode_down(t);
}

int main(void)
{
	static struct twonode t[4];
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_prestate_setup_teardown(test_zero_copy, NULL, teardown, &t[0]),
	    cmocka_unit_test_prestate_setup_teardown(test_remote_holds_our_buffers, NULL, teardown,
						     &t[1]),
	    cmocka_unit_test_prestate_setup_teardown(test_master_holds_remote_buffers, NULL,
						     teardown, &t[2]),
	    cmocka_unit_test_prestate_setup_teardown(test_receive_timeout, NULL, teardown, &t[3]),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
