/* SPDX-License-Identifier: BSD-3-Clause */
/* Name service across two processes: create and destroy, in both directions. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <rpk/errno.h>

#include "twonode.h"

/* ---- remote side ---- */

struct remote_state {
	struct rpk_ept svc_a, bound;
	char bound_name[RPK_NAME_SIZE];
	int bound_state; /* 0 never, 1 bound, 2 unbound again */
};
static struct remote_state rs;

static int echo(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	rpk_sendto(ept, src, data, len, RPK_WAIT_FOREVER);
	return 0;
}

static void remote_unbound(struct rpk_ept *ept)
{
	(void)ept;
	rs.bound_state = 2;
}

static void remote_ns_bind(struct rpk_rpmsg *dev, const char *name, uint32_t addr, void *arg)
{
	(void)arg;
	if (rs.bound_state == 1)
		return;
	snprintf(rs.bound_name, sizeof(rs.bound_name), "%s", name);
	if (rpk_ept_create(dev, &rs.bound, name, RPK_ADDR_ANY, addr, echo, NULL) == 0) {
		rpk_ept_set_unbind(&rs.bound, remote_unbound);
		rs.bound_state = 1;
	}
}

static void remote_setup(struct rpk_node *n, void *arg)
{
	(void)arg;
	rpk_ept_create(rpk_node_dev(n), &rs.svc_a, "svc-a", RPK_ADDR_ANY, RPK_ADDR_ANY, echo, NULL);
}

static int remote_cmd(struct rpk_node *n, const char *cmd, char *out, size_t outlen, void *arg)
{
	(void)n;
	(void)arg;
	if (!strcmp(cmd, "destroy svc-a"))
		rpk_ept_destroy(&rs.svc_a);
	else if (!strcmp(cmd, "say"))
		rpk_send(&rs.bound, "hi", 2, RPK_WAIT_FOREVER);
	else if (!strcmp(cmd, "bound?"))
		snprintf(out, outlen, "%s %d 0x%x", rs.bound_name, rs.bound_state, rs.bound.dst);
	return 0;
}

static const struct remote_ops ops = {
    .setup = remote_setup, .command = remote_cmd, .ns_bind = remote_ns_bind};

/* ---- master side ---- */

struct announcements {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char name[RPK_NAME_SIZE];
	uint32_t addr;
	int count, unbound;
};
static struct announcements an = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static void master_ns_bind(struct rpk_rpmsg *dev, const char *name, uint32_t addr, void *priv)
{
	(void)dev;
	(void)priv;
	pthread_mutex_lock(&an.mu);
	snprintf(an.name, sizeof(an.name), "%s", name);
	an.addr = addr;
	an.count++;
	pthread_cond_broadcast(&an.cv);
	pthread_mutex_unlock(&an.mu);
}

static void master_unbound(struct rpk_ept *ept)
{
	(void)ept;
	pthread_mutex_lock(&an.mu);
	an.unbound++;
	pthread_cond_broadcast(&an.cv);
	pthread_mutex_unlock(&an.mu);
}

static void wait_until(int *counter, int value)
{
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 20;
	pthread_mutex_lock(&an.mu);
	while (*counter < value && pthread_cond_timedwait(&an.cv, &an.mu, &dl) == 0)
		;
	pthread_mutex_unlock(&an.mu);
	assert_true(*counter >= value);
}

static int teardown(void **state)
{
	twonode_kill(*state);
	return 0;
}

/* The remote announces, the master binds, talks, and hears the destroy. */
static void test_remote_announces_then_destroys(void **state)
{
	struct twonode *t = *state;
	struct rpk_inbox *h;
	char buf[64];
	int n;

	twonode_up(t, "link16.dts", &ops, master_ns_bind, NULL);
	wait_until(&an.count, 1);
	assert_string_equal(an.name, "svc-a");
	assert_true(an.addr >= RPK_RESERVED_ADDRESSES);

	assert_int_equal(rpk_inbox_open(t->master, &h, "svc-a", RPK_ADDR_ANY, an.addr), 0);
	rpk_ept_set_unbind(rpk_inbox_ept(h), master_unbound);
	assert_int_equal(rpk_send(rpk_inbox_ept(h), "hello", 5, 5000), 0);
	n = rpk_inbox_recv(h, buf, sizeof(buf), NULL, 5000);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "hello", 5);

	assert_string_equal(twonode_cmd(t, "destroy svc-a"), "ok");
	wait_until(&an.unbound, 1);
	assert_int_equal(rpk_inbox_ept(h)->dst, RPK_ADDR_ANY);
	/* The service is forgotten: a new endpoint by that name stays unbound. */
	struct rpk_ept late;
	assert_int_equal(rpk_ept_create(rpk_node_dev(t->master), &late, "svc-a", RPK_ADDR_ANY,
					RPK_ADDR_ANY, NULL, NULL),
			 0);
	assert_int_equal(late.dst, RPK_ADDR_ANY);
	rpk_ept_destroy(&late);
	rpk_inbox_close(h);
	twonode_down(t);
}

/* The master announces, the remote's callback binds, then the master destroys. */
static void test_master_announces_then_destroys(void **state)
{
	struct twonode *t = *state;
	struct rpk_inbox *h;
	char want[64], buf[64];
	int n;

	twonode_up(t, "link16.dts", &ops, master_ns_bind, NULL);
	assert_int_equal(rpk_inbox_open(t->master, &h, "svc-m", RPK_ADDR_ANY, RPK_ADDR_ANY), 0);
	/* The remote learned our address from the announcement and talks to it. */
	snprintf(want, sizeof(want), "svc-m 1 0x%x", rpk_inbox_ept(h)->addr);
	assert_string_equal(twonode_cmd(t, "bound?"), want);
	/* ...and its endpoint's default destination is ours. */
	assert_string_equal(twonode_cmd(t, "say"), "ok");
	n = rpk_inbox_recv(h, buf, sizeof(buf), NULL, 5000);
	assert_int_equal(n, 2);
	assert_memory_equal(buf, "hi", 2);
	rpk_inbox_close(h); /* announces the destroy */
	snprintf(want, sizeof(want), "svc-m 2 0x%x", RPK_ADDR_ANY);
	assert_string_equal(twonode_cmd(t, "bound?"), want);
	twonode_down(t);
}

int main(void)
{
	static struct twonode t1, t2;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_prestate_setup_teardown(test_remote_announces_then_destroys, NULL,
						     teardown, &t1),
	    cmocka_unit_test_prestate_setup_teardown(test_master_announces_then_destroys, NULL,
						     teardown, &t2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
