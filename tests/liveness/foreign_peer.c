/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A peer that speaks only the standards joins a host link. It maps the
 * link's memory and rings the doorbells (docs/host-link.md), but never signs
 * its bell with a pid or a session, as another stack's host port, an
 * emulated MCU or a Linux kernel would not. Our node links with it
 * (liveness then unknown, and said so), and sees it restart through the
 * shared state alone: a remote that lays out a fresh table, a master that
 * resets the device status.
 *
 * The foreign peer here is written on the core alone (virtqueue, rpmsg,
 * resource table) and the host port's doorbells: what such a stack does.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <rpk/errno.h>
#include <rpk/rsc_table.h>

#include "posix/rpk_posix.h"
#include "twonode.h"

#define NUM	 16u /* link16.dts */
#define ALIGN	 64u
#define WAIT_MS	 20000u
#define ECHO_SVC "foreign-echo"
#define NODE_SVC "node-echo"

struct foreign {
	const struct rpk_layout *lay;
	const struct rpk_layout_node *ln;
	char instance[64];
	struct rpk_shm shm[RPK_REG_COUNT], mbox;
	struct rpk_posix_port port;
	struct rpk_mem_window win;
	struct rpk_mem mem;
	struct rpk_vq_slot slots[2][NUM];
	struct rpk_ept *buckets[64];
	struct rpk_service services[16];
	struct rpk_rpmsg dev;
	struct rpk_fw_rsc_vdev *vdev; /* in the shared table */
	struct rpk_ept ept;
	uint32_t peer_addr; /* the service the other side announced */
	int got, reboot, quit;
	char last[64];
};

static const struct rpk_region *region(const struct foreign *f, int k)
{
	return &f->lay->regions[f->ln->region[k]];
}

static uint8_t *rsc(const struct foreign *f)
{
	return (uint8_t *)f->shm[RPK_REG_RSC].va + region(f, RPK_REG_RSC)->rsc_offset;
}

static void foreign_map(struct foreign *f, const struct rpk_layout *lay, const char *node,
			const char *instance)
{
	char name[200], err[1024];
	struct rpk_bell *bells;

	memset(f, 0, sizeof(*f));
	f->lay = lay;
	f->ln = rpk_layout_find(lay, node);
	assert_non_null(f->ln);
	snprintf(f->instance, sizeof(f->instance), "%s", instance);
	for (int k = 0; k < RPK_REG_COUNT; k++) {
		rpk_node_shm_name(name, sizeof(name), instance, region(f, k));
		if (rpk_shm_open(&f->shm[k], name, region(f, k)->size, RPK_NO_GROUP, err,
				 sizeof(err)))
			fail_msg("%s", err);
	}
	rpk_node_shm_name(name, sizeof(name), instance, &lay->regions[f->ln->mailbox]);
	if (rpk_shm_open(&f->mbox, name, lay->regions[f->ln->mailbox].size, RPK_NO_GROUP, err,
			 sizeof(err)))
		fail_msg("%s", err);
	bells = f->mbox.va;
	rpk_posix_port_init(
	    &f->port, (struct rpk_bell *)(void *)((char *)bells + f->ln->tx_chan * RPK_BELL_STRIDE),
	    (struct rpk_bell *)(void *)((char *)bells + f->ln->rx_chan * RPK_BELL_STRIDE), 0, NULL);
	f->win.da = region(f, RPK_REG_BUFFER)->da;
	f->win.size = region(f, RPK_REG_BUFFER)->size;
	f->win.va = f->shm[RPK_REG_BUFFER].va;
	f->mem.win = &f->win;
	f->mem.count = 1;
}

static void foreign_unmap(struct foreign *f)
{
	for (int k = 0; k < RPK_REG_COUNT; k++)
		rpk_shm_close(&f->shm[k]);
	rpk_shm_close(&f->mbox);
	rpk_posix_port_fini(&f->port);
}

static void on_announce(struct rpk_rpmsg *dev, const char *name, uint32_t addr, void *priv)
{
	struct foreign *f = priv;

	(void)dev;
	if (!strcmp(name, NODE_SVC))
		f->peer_addr = addr;
}

static void device_init(struct foreign *f, enum rpk_role role)
{
	struct rpk_rpmsg_cfg cfg = {
	    .role = role,
	    .vring = {f->shm[RPK_REG_VRING0].va, f->shm[RPK_REG_VRING1].va},
	    .num = NUM,
	    .align = ALIGN,
	    .notify_id = {0, 1},
	    .slots = {f->slots[0], f->slots[1]},
	    .mem = &f->mem,
	    .port = &f->port.port,
	    .bufs = f->shm[RPK_REG_BUFFER].va,
	    .buckets = f->buckets,
	    .num_buckets = 64,
	    .services = f->services,
	    .num_services = 16,
	    .ns_bind = on_announce,
	    .ns_priv = f,
	};

	assert_int_equal(rpk_rpmsg_init(&f->dev, &cfg), 0);
}

/* Handle what came, else sleep on our bell for up to ms. */
static void serve(struct foreign *f, uint32_t ms)
{
	struct rpk_port *p = &f->port.port;
	uint32_t snap = p->ops->event_snapshot(p->ctx);

	if (rpk_rpmsg_poll(&f->dev) == 0)
		p->ops->event_wait(p->ctx, snap, ms);
	rpk_rpmsg_poll(&f->dev);
}

static uint8_t status(struct foreign *f)
{
	return rpk_vdev_read_status(f->vdev, &f->port.port);
}

/* ---- the foreign remote (a child process) ---- */

static int remote_echo(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct foreign *f = priv;

	if (len == 6 && !memcmp(data, "reboot", 6))
		f->reboot = 1;
	else if (len == 4 && !memcmp(data, "quit", 4))
		f->quit = 1;
	else
		rpk_sendto(ept, src, data, len, 1000);
	return 0;
}

/* Lay out a fresh table (its status 0), as a remote does at every boot. */
static void remote_publish(struct foreign *f)
{
	const struct rpk_region *rr = region(f, RPK_REG_RSC);
	uint8_t tbl[512];
	struct rpk_rsc_builder b;
	struct rpk_fw_rsc_vdev *v;
	int size;

	rpk_rsc_build_init(&b, tbl, sizeof(tbl), 1);
	v = rpk_rsc_add_vdev(&b, RPK_VIRTIO_ID_RPMSG, 2, 1u << RPK_VIRTIO_RPMSG_F_NS, 2, 0);
	for (uint8_t q = 0; q < 2; q++)
		rpk_rsc_vdev_set_vring(v, q, (uint32_t)region(f, RPK_REG_VRING0 + q)->da, ALIGN,
				       NUM, q);
	size = rpk_rsc_build_finish(&b);
	assert_true(size > 0);
	assert_int_equal(rpk_rsc_publish(rsc(f), rr->rsc_size, tbl, (size_t)size, &f->port.port),
			 0);
	f->vdev = (struct rpk_fw_rsc_vdev *)(void *)(rsc(f) + ((uint8_t *)v - tbl));
	rpk_bell_ring(f->port.tx);
}

static void remote_wait_driver_ok(struct foreign *f)
{
	while (!(status(f) & RPK_VIRTIO_STATUS_DRIVER_OK))
		usleep(1000);
	assert_int_equal(rpk_rpmsg_start(&f->dev, rpk_vdev_read_gfeatures(f->vdev, &f->port.port) &
						      (1u << RPK_VIRTIO_RPMSG_F_NS)),
			 0);
}

static int foreign_remote_main(const struct rpk_layout *lay, const char *instance)
{
	static struct foreign f;

	foreign_map(&f, lay, "remote", instance);
	device_init(&f, RPK_ROLE_REMOTE);
	assert_int_equal(
	    rpk_ept_create(&f.dev, &f.ept, ECHO_SVC, RPK_ADDR_ANY, RPK_ADDR_ANY, remote_echo, &f),
	    0);
	remote_publish(&f);
	remote_wait_driver_ok(&f);
	while (!f.quit) {
		serve(&f, 50);
		if (f.reboot) {
			/* A reboot: the rings start over, the table is laid out anew. */
			f.reboot = 0;
			rpk_rpmsg_reset(&f.dev);
			remote_publish(&f);
			remote_wait_driver_ok(&f);
		}
	}
	foreign_unmap(&f);
	return 0;
}

static struct rpk_node_stats_page page_of(const char *instance, const char *node)
{
	struct rpk_node_stats_page p;

	assert_int_equal(rpk_node_read_stats(instance, node, &p), 0);
	return p;
}

typedef int (*page_pred)(const struct rpk_node_stats_page *p);

static void until_page(const char *instance, const char *node, page_pred pred, const char *what)
{
	struct rpk_node_stats_page p;

	for (unsigned ms = 0; ms < WAIT_MS; ms++) {
		if (rpk_node_read_stats(instance, node, &p) == 0 && pred(&p))
			return;
		usleep(1000);
	}
	fail_msg("%s never showed %s", node, what);
}

/* Round trips through a hosted endpoint bound to the peer's service. */
static void echoes(struct rpk_inbox *h, int count)
{
	char in[64], out[64];

	for (int i = 0; i < count; i++) {
		int n = snprintf(out, sizeof(out), "echo %d", i), got;

		assert_int_equal(rpk_send(rpk_inbox_ept(h), out, (size_t)n, WAIT_MS), 0);
		do
			got = rpk_inbox_recv(h, in, sizeof(in), NULL, WAIT_MS);
		while (got == -RPK_ECONNRESET);
		assert_int_equal(got, n);
		assert_memory_equal(in, out, (size_t)n);
	}
}

static void until_bound(struct rpk_inbox *h)
{
	for (unsigned ms = 0; ms < WAIT_MS && rpk_ept_get_dst(rpk_inbox_ept(h)) == RPK_ADDR_ANY;
	     ms++)
		usleep(1000);
	assert_int_not_equal(rpk_ept_get_dst(rpk_inbox_ept(h)), RPK_ADDR_ANY);
}

static void load(struct rpk_layout *lay, char *instance, size_t len, const char *tag)
{
	char path[512], err[4096];

	snprintf(path, sizeof(path), "%s/integration/link16.dts", RPK_TEST_DATA);
	if (rpk_layout_load(path, lay, err, sizeof(err)))
		fail_msg("%s", err);
	snprintf(instance, len, "foreign-%s-%d", tag, (int)getpid());
}

static pid_t fork_child(int (*fn)(const struct rpk_layout *, const char *),
			const struct rpk_layout *lay, const char *instance)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(fn(lay, instance));
	}
	return pid;
}

/* `rpk status` says that the peer's liveness is unknown. */
static void status_says_unknown(const char *instance, const char *who)
{
	char cmd[1024], line[512];
	int found = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "%s status %s/integration/link16.dts --node master --instance %s", RPK_BIN,
		 RPK_TEST_DATA, instance);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		if (strstr(line, who) && strstr(line, "liveness unknown"))
			found = 1;
	assert_int_equal(pclose(p), 0);
	assert_true(found);
}

static int master_attached_once(const struct rpk_node_stats_page *p)
{
	return p->state == RPK_NODE_ATTACHED && p->attaches == 1 && !p->peer_signed;
}

static int master_back(const struct rpk_node_stats_page *p)
{
	return p->state == RPK_NODE_ATTACHED && p->attaches == 2 && p->crashes == 1;
}

/* Our master, a foreign remote. */
static void test_foreign_remote(void **state)
{
	struct rpk_node_opts o = {.threaded = 1};
	struct rpk_layout lay;
	struct rpk_node *n;
	struct rpk_inbox *h;
	char instance[64], err[1024];
	pid_t child;
	int st;

	(void)state;
	load(&lay, instance, sizeof(instance), "remote");
	child = fork_child(foreign_remote_main, &lay, instance);
	o.instance = instance;
	if (rpk_node_open(&n, &lay, "master", &o, err, sizeof(err)) ||
	    rpk_node_start(n, WAIT_MS, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(rpk_inbox_open(n, &h, ECHO_SVC, RPK_ADDR_ANY, RPK_ADDR_ANY), 0);
	until_bound(h);
	echoes(h, 100);
	/* Several watchdog periods: no reset of a link nobody signs. */
	usleep(300000);
	until_page(instance, "master", master_attached_once, "one attach to an unsigned remote");
	status_says_unknown(instance, "remote");

	/* It reboots: a fresh table, the status back to 0. */
	assert_int_equal(rpk_send(rpk_inbox_ept(h), "reboot", 6, WAIT_MS), 0);
	until_page(instance, "master", master_back, "the remote back after its reboot");
	until_bound(h);
	echoes(h, 50);

	assert_int_equal(rpk_send(rpk_inbox_ept(h), "quit", 4, WAIT_MS), 0);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	rpk_inbox_close(h);
	rpk_node_close(n);
	rpk_node_unlink_all(&lay, instance);
}

/* ---- our remote, a foreign master ---- */

static volatile sig_atomic_t remote_stop;

static void on_term(int sig)
{
	(void)sig;
	remote_stop = 1;
}

static int node_echo(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	rpk_sendto(ept, src, data, len, 1000);
	return 0;
}

static int our_remote_main(const struct rpk_layout *lay, const char *instance)
{
	struct rpk_node_opts o = {.instance = instance};
	struct sigaction sa = {.sa_handler = on_term};
	struct rpk_node *n;
	struct rpk_ept e;
	char err[1024];

	sigaction(SIGTERM, &sa, NULL);
	if (rpk_node_open(&n, lay, "remote", &o, err, sizeof(err)) ||
	    rpk_ept_create(rpk_node_dev(n), &e, NODE_SVC, RPK_ADDR_ANY, RPK_ADDR_ANY, node_echo,
			   NULL) ||
	    rpk_node_start(n, WAIT_MS, err, sizeof(err))) {
		fprintf(stderr, "our remote: %s", err);
		return 1;
	}
	while (!remote_stop)
		if (rpk_node_run_once(n, 100) < 0 && !remote_stop)
			return 2;
	rpk_node_close(n);
	return 0;
}

/* The handshake a master does: status 0, ACKNOWLEDGE, DRIVER, features,
 * rings laid out, DRIVER_OK. It never signs its bell. */
static void master_handshake(struct foreign *f, int first)
{
	uint32_t features = f->vdev->dfeatures & (1u << RPK_VIRTIO_RPMSG_F_NS);

	rpk_vdev_write_status(f->vdev, 0, &f->port.port);
	rpk_vdev_write_status(f->vdev, RPK_VIRTIO_STATUS_ACKNOWLEDGE, &f->port.port);
	rpk_vdev_write_status(f->vdev, RPK_VIRTIO_STATUS_ACKNOWLEDGE | RPK_VIRTIO_STATUS_DRIVER,
			      &f->port.port);
	rpk_vdev_write_gfeatures(f->vdev, features, &f->port.port);
	if (first)
		device_init(f, RPK_ROLE_MASTER);
	rpk_vdev_write_status(f->vdev,
			      RPK_VIRTIO_STATUS_ACKNOWLEDGE | RPK_VIRTIO_STATUS_DRIVER |
				  RPK_VIRTIO_STATUS_DRIVER_OK,
			      &f->port.port);
	assert_int_equal(rpk_rpmsg_start(&f->dev, features), 0);
	rpk_bell_ring(f->port.tx);
}

/* The handshake again, until our remote announced its service anew. */
static void master_comes_back(struct foreign *f)
{
	f->peer_addr = 0;
	master_handshake(f, 0);
	for (unsigned ms = 0; !f->peer_addr; ms++) {
		assert_true(ms < WAIT_MS);
		serve(f, 1);
	}
}

static void master_find_vdev(struct foreign *f)
{
	const struct rpk_region *rr = region(f, RPK_REG_RSC);
	uint8_t copy[0x1000];
	struct rpk_rsc_problem why;
	int idx;

	for (unsigned ms = 0; !rpk_rsc_is_published(rsc(f), &f->port.port); ms++) {
		assert_true(ms < WAIT_MS);
		usleep(1000);
	}
	assert_true(rr->rsc_size <= sizeof(copy));
	rpk_rsc_snapshot(copy, rr->rsc_size, rsc(f), rr->rsc_size, &f->port.port);
	assert_true(rpk_rsc_validate(copy, rr->rsc_size, &why) >= 0);
	idx = rpk_rsc_find_vdev(copy, RPK_VIRTIO_ID_RPMSG);
	assert_true(idx >= 0);
	f->vdev = (struct rpk_fw_rsc_vdev *)(void *)(rsc(f) + ((const uint8_t *)rpk_rsc_entry(
								   copy, (uint32_t)idx, NULL) -
							       copy));
}

static int master_rx(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct foreign *f = priv;

	(void)ept;
	(void)src;
	if (len < sizeof(f->last)) {
		memcpy(f->last, data, len);
		f->last[len] = 0;
		f->got++;
	}
	return 0;
}

static void master_echoes(struct foreign *f, int count)
{
	for (int i = 0; i < count; i++) {
		char out[64];
		int n = snprintf(out, sizeof(out), "foreign %d", i), got = f->got;

		assert_int_equal(rpk_sendto(&f->ept, f->peer_addr, out, (size_t)n, WAIT_MS), 0);
		for (unsigned ms = 0; f->got == got; ms++) {
			assert_true(ms < WAIT_MS);
			serve(f, 1);
		}
		assert_string_equal(f->last, out);
	}
}

static int remote_attached_once(const struct rpk_node_stats_page *p)
{
	return p->state == RPK_NODE_ATTACHED && p->attaches == 1 && p->link_resets == 0 &&
	       !p->peer_signed;
}

static int remote_back(const struct rpk_node_stats_page *p)
{
	return p->state == RPK_NODE_ATTACHED && p->attaches == 2 && p->link_resets == 1;
}

static int remote_back_twice(const struct rpk_node_stats_page *p)
{
	return p->state == RPK_NODE_ATTACHED && p->attaches == 3 && p->link_resets == 2;
}

/* A pid no process has: one that just exited and was reaped. */
static uint32_t dead_pid(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	return (uint32_t)p;
}

static int remote_down(const struct rpk_node_stats_page *p)
{
	return p->state == RPK_NODE_DETACHED;
}

/* Our remote, a foreign master. */
static void test_foreign_master(void **state)
{
	static struct foreign f;
	struct rpk_layout lay;
	char instance[64];
	pid_t child;
	int st;

	(void)state;
	load(&lay, instance, sizeof(instance), "master");
	child = fork_child(our_remote_main, &lay, instance);
	foreign_map(&f, &lay, "master", instance);
	master_find_vdev(&f);
	master_handshake(&f, 1);
	assert_int_equal(
	    rpk_ept_create(&f.dev, &f.ept, NULL, RPK_ADDR_ANY, RPK_ADDR_ANY, master_rx, &f), 0);
	for (unsigned ms = 0; !f.peer_addr; ms++) {
		assert_true(ms < WAIT_MS);
		serve(&f, 1);
	}
	master_echoes(&f, 200);
	/* Several watchdog periods: an unsigned master's link is not reset. */
	for (int i = 0; i < 30; i++)
		serve(&f, 10);
	until_page(instance, "remote", remote_attached_once, "one attach, no reset");
	status_says_unknown(instance, "master");

	/* It resets the device, as Linux does when it stops or detaches, and
	 * comes back later with the rings laid out anew. */
	rpk_vdev_write_status(f.vdev, 0, &f.port.port);
	rpk_rpmsg_reset(&f.dev);
	until_page(instance, "remote", remote_down, "the reset");
	master_comes_back(&f);
	master_echoes(&f, 50);
	until_page(instance, "remote", remote_back, "the link back after the reset");
	assert_int_equal(page_of(instance, "remote").broken, 0);

	/* It resets and comes back at once, faster than our remote looks at
	 * the status: the rings it laid out anew tell our remote instead. */
	rpk_vdev_write_status(f.vdev, 0, &f.port.port);
	rpk_rpmsg_reset(&f.dev);
	master_comes_back(&f);
	master_echoes(&f, 50);
	until_page(instance, "remote", remote_back_twice, "the link back after a fast reset");
	assert_int_equal(page_of(instance, "remote").reset_asks, 0);

	/* A signature nobody is behind appears on its bell: it says nothing
	 * of a master that does not sign, and the link goes on. */
	__atomic_store_n(&f.port.tx->pid, dead_pid(), __ATOMIC_SEQ_CST);
	__atomic_store_n(&f.port.tx->session, 77, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 20; i++) /* several watchdog periods */
		serve(&f, 10);
	master_echoes(&f, 50);
	assert_int_equal(page_of(instance, "remote").attaches, 3);
	assert_int_equal(page_of(instance, "remote").reset_asks, 0);

	kill(child, SIGTERM);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	foreign_unmap(&f);
	rpk_node_unlink_all(&lay, instance);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_foreign_remote),
	    cmocka_unit_test(test_foreign_master),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
