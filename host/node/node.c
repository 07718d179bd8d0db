/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rpk/elf.h>
#include <rpk/errno.h>
#include <rpk/rsc_table.h>
#include <rpk/trace.h>

#include "node/node.h"
#include "posix/rpk_posix.h"

#define NUM_BUCKETS	   1024u
#define NUM_SERVICES	   64u
#define VDEV_NOTIFYID	   2u /* vrings take notify ids 0 and 1 */
#define SUPPORTED_FEATURES (1u << RPK_VIRTIO_RPMSG_F_NS)
#define WATCH_MS	   50u	  /* how often a sleeping node looks whether its peer lives */
#define RECOVER_MS	   20000u /* a restarted remote takes its table within this */
#define PID_RECHECK_MS	   1000u  /* how often a peer's pid is seen to map the link again */

struct rpk_node {
	const struct rpk_layout *lay;
	const struct rpk_layout_node *ln;
	struct rpk_node_opts opts;
	char instance[64];
	struct rpk_shm shm[RPK_REG_COUNT];
	uint8_t *view[RPK_REG_COUNT]; /* what the node works on: shm, or its private cache */
	struct rpk_sim_cache *cache;  /* simulated non-coherent memory, or NULL */
	int port_ready;
	struct rpk_shm mbox;
	struct rpk_shm fw_shm; /* rpk,firmware-region, if the layout has one */
	uint8_t *fw_img;       /* master: the firmware it booted (kept for recovery) */
	size_t fw_size;
	struct rpk_mem_window buf_win;
	struct rpk_mem buf_mem; /* descriptors may only point into the buffer pool */
	struct rpk_posix_port port;
	struct rpk_rpmsg dev;
	struct rpk_vq_slot *slots[2];
	struct rpk_ept *buckets[NUM_BUCKETS];
	struct rpk_service services[NUM_SERVICES];
	struct rpk_fw_rsc_vdev *vdev; /* in shared memory */
	uint32_t num, align;	      /* vring entries and alignment */
	struct rpk_trace trace;	      /* remote: its log, if the layout has one */
	pthread_mutex_t trace_mu;
	int have_device;
	/* Life of the link: changed under life, read without it (atomic). */
	pthread_mutex_t life;
	int state;		     /* enum rpk_node_state */
	uint32_t peer_session;	     /* the peer's session the link runs with (0: unsigned) */
	uint32_t bell_seen;	     /* unsigned peer: what its bell held when the link came up */
	uint32_t bad_session;	     /* master: a session whose table we could not take */
	int have_bad;		     /* bad_session is set */
	int need_signed;	     /* master, booting: wait for the remote's signature */
	int need_reset;		     /* remote: we set NEEDS_RESET, the master has not reset */
	int asked_used;		     /* remote: a used index was ours when we asked (not 0) */
	int saw_reset;		     /* remote: the master reset us since the link fell */
	uint32_t last_watch_ms;	     /* last look at the peer's process */
	uint32_t crashes, attaches;  /* atomic: read by anyone */
	uint32_t broken, chaos;	     /* atomic: links the peer broke, corruptions we wrote */
	uint32_t reset_asks;	     /* atomic: NEEDS_RESET set (remote) or seen (master) */
	uint32_t link_resets;	     /* atomic: resets of a link whose peer lived on */
	uint32_t bell_fixed;	     /* atomic: our bell's signature found overwritten */
	uint64_t late_wakeups;	     /* atomic: messages found by the watchdog, not a kick */
	uint32_t my_pid, my_session; /* what we signed our bell with (0: not yet) */
	/* The peer's pid as validated (it maps our mailbox): for which pid and
	 * session, and the answer. Under pid_mu. */
	pthread_mutex_t pid_mu;
	uint32_t checked_pid, checked_session, checked_ms;
	int checked_ok;
	char mbox_name[160];
	uint32_t last_chaos_ms;
	uint32_t stats_seq;   /* of the counter page, kept here: the page is shared */
	struct rpk_shm stats; /* our counters for rpk stat */
	gid_t group;	      /* who may join besides us (docs/access.md), or RPK_NO_GROUP */
	pthread_t thread;
	int thread_running;
	int stop;
	int interrupted; /* rpk_node_interrupt: the application's waits give up */

	/* A region shrank under us: failed is set (atomic) once failure says
	 * which; the sizes are looked at once a watchdog period. */
	int failed, taken_down;	 /* atomic */
	pthread_mutex_t fail_mu; /* writing failure */
	char failure[512];
	uint32_t last_size_ms;
};

static int init_device(struct rpk_node *n, uint32_t num, uint32_t align, char *err, size_t errlen);
static void open_stats(struct rpk_node *n);
static void init_trace(struct rpk_node *n);
static void link_lost(struct rpk_node *n, enum rpk_node_state next);
static uint32_t sign_session(struct rpk_node *n);
static int start_thread(struct rpk_node *n);

void rpk_node_shm_name(char *buf, size_t len, const char *instance, const struct rpk_region *r)
{
	snprintf(buf, len, "/rpk-%s-%s", instance, r->name);
}

static int map_region(struct rpk_node *n, struct rpk_shm *shm, const struct rpk_region *r,
		      char *err, size_t errlen)
{
	char name[160], why[1024];
	int rc;

	rpk_node_shm_name(name, sizeof(name), n->instance, r);
	rc = rpk_shm_open(shm, name, r->size, n->group, why, sizeof(why));
	if (rc)
		snprintf(err, errlen, "%s: %s\n", r->path, why);
	return rc;
}

/*
 * Non-coherent mode: the node sees each region through a private copy that
 * only the port's cache operations synchronise. The doorbells stay coherent,
 * as a hardware mailbox is. The peer may be coherent or cached alike. Rings
 * whose driver- and device-written parts share a cache line cannot work on
 * such memory (tests/unit/test_cache_sim.c shows how they fail): refuse them
 * up front, as the core would.
 */
static int simulate_caches(struct rpk_node *n, char *err, size_t errlen)
{
	if (n->ln->vring_align && n->ln->vring_align < RPK_SIM_LINE) {
		snprintf(err, errlen,
			 "%s: rpk,vring-align %u is below the %u-byte cache line, and this node "
			 "simulates a write-back cache (RPK_CACHE_SIM=1): the avail ring (driver) "
			 "and used ring (device) would share lines\n",
			 n->ln->path, n->ln->vring_align, RPK_SIM_LINE);
		return -RPK_EINVAL;
	}
	n->cache = calloc(1, sizeof(*n->cache));
	if (!n->cache)
		return -RPK_ENOMEM;
	for (int k = 0; k < RPK_REG_COUNT; k++) {
		uint8_t *priv = aligned_alloc(4096, (n->shm[k].size + 4095) & ~(size_t)4095);

		if (!priv)
			return -RPK_ENOMEM;
		n->view[k] = priv;
		rpk_sim_cache_add(n->cache, priv, n->shm[k].va, n->shm[k].size);
	}
	return 0;
}

int rpk_node_open(struct rpk_node **out, const struct rpk_layout *lay, const char *name,
		  const struct rpk_node_opts *opts, char *err, size_t errlen)
{
	const struct rpk_layout_node *ln = rpk_layout_find(lay, name);
	struct rpk_node *n;
	struct rpk_bell *bells;

	if (!ln) {
		snprintf(err, errlen, "no link node named '%s' in the devicetree\n", name);
		return -RPK_ENOENT;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return -RPK_ENOMEM;
	n->lay = lay;
	n->ln = ln;
	pthread_mutexattr_t ma;

	/* Recursive: unbind callbacks run under it and may ask for counts. */
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&n->life, &ma);
	pthread_mutexattr_destroy(&ma);
	pthread_mutex_init(&n->trace_mu, NULL);
	pthread_mutex_init(&n->pid_mu, NULL);
	pthread_mutex_init(&n->fail_mu, NULL);
	if (opts)
		n->opts = *opts;
	if (getenv("RPK_CACHE_SIM") && !strcmp(getenv("RPK_CACHE_SIM"), "1"))
		n->opts.noncoherent = 1; /* lets a whole test suite run this way */
	if (ln->cached)
		n->opts.noncoherent = 1; /* the devicetree says this side caches: so it does here */
	snprintf(n->instance, sizeof(n->instance), "%s",
		 n->opts.instance ? n->opts.instance : "default");
	for (int k = 0; k < RPK_REG_COUNT; k++)
		n->shm[k].fd = -1;
	n->mbox.fd = n->stats.fd = n->fw_shm.fd = -1;
	n->group = RPK_NO_GROUP;
	if (n->opts.group && rpk_group_lookup(n->opts.group, &n->group, err, errlen)) {
		snprintf(err, errlen, "no group named '%s' to share the link with\n",
			 n->opts.group);
		goto fail;
	}

	for (int k = 0; k < RPK_REG_COUNT; k++)
		if (map_region(n, &n->shm[k], &lay->regions[ln->region[k]], err, errlen))
			goto fail;
	if (map_region(n, &n->mbox, &lay->regions[ln->mailbox], err, errlen))
		goto fail;
	if (ln->firmware >= 0 &&
	    map_region(n, &n->fw_shm, &lay->regions[ln->firmware], err, errlen))
		goto fail;

	rpk_node_shm_name(n->mbox_name, sizeof(n->mbox_name), n->instance,
			  &lay->regions[ln->mailbox]);
	for (int k = 0; k < RPK_REG_COUNT; k++)
		n->view[k] = n->shm[k].va;
	if (n->opts.noncoherent && simulate_caches(n, err, errlen))
		goto fail;
	bells = n->mbox.va;
	rpk_posix_port_init(&n->port,
			    (struct rpk_bell *)((char *)bells + ln->tx_chan * RPK_BELL_STRIDE),
			    (struct rpk_bell *)((char *)bells + ln->rx_chan * RPK_BELL_STRIDE),
			    n->opts.polling, n->cache);
	n->port_ready = 1;
	n->buf_win.da = lay->regions[ln->region[RPK_REG_BUFFER]].da;
	n->buf_win.size = lay->regions[ln->region[RPK_REG_BUFFER]].size;
	n->buf_win.va = n->view[RPK_REG_BUFFER];
	n->buf_mem.win = &n->buf_win;
	n->buf_mem.count = 1;
	open_stats(n);
	/* The remote knows its rings from the devicetree and can take endpoints
	 * at once; the master learns them from the table in rpk_node_start(). */
	if (ln->role == RPK_ROLE_REMOTE &&
	    init_device(n, ln->vring_num, ln->vring_align, err, errlen))
		goto fail;
	*out = n;
	return 0;
fail:
	rpk_node_close(n);
	return -RPK_EIO;
}

void rpk_node_stats_name(char *buf, size_t len, const char *instance, const char *node)
{
	snprintf(buf, len, "/rpk-%s-stats-%s", instance, node);
}

/* Counters are a convenience: a node runs without them if the page fails. */
static void open_stats(struct rpk_node *n)
{
	char name[160], why[1024];

	rpk_node_stats_name(name, sizeof(name), n->instance, n->ln->name);
	/* A page the access model refuses is left alone: we run without. */
	if (rpk_shm_open(&n->stats, name, sizeof(struct rpk_node_stats_page), n->group, why,
			 sizeof(why)))
		n->stats.va = NULL;
}

static void publish_stats(struct rpk_node *n)
{
	struct rpk_node_stats_page *pg = n->stats.va, tmp = {0};

	if (!pg)
		return;
	tmp.magic = RPK_STATS_MAGIC;
	tmp.pid = (uint32_t)getpid();
	tmp.state = (uint32_t)rpk_node_state(n);
	tmp.crashes = __atomic_load_n(&n->crashes, __ATOMIC_RELAXED);
	tmp.attaches = __atomic_load_n(&n->attaches, __ATOMIC_RELAXED);
	tmp.broken = __atomic_load_n(&n->broken, __ATOMIC_RELAXED);
	tmp.chaos = __atomic_load_n(&n->chaos, __ATOMIC_RELAXED);
	tmp.reset_asks = __atomic_load_n(&n->reset_asks, __ATOMIC_RELAXED);
	tmp.link_resets = __atomic_load_n(&n->link_resets, __ATOMIC_RELAXED);
	tmp.bell_fixed = __atomic_load_n(&n->bell_fixed, __ATOMIC_RELAXED);
	tmp.peer_signed = rpk_bell_session(n->port.rx) != 0;
	tmp.late_wakeups = __atomic_load_n(&n->late_wakeups, __ATOMIC_RELAXED);
	tmp.rx_wakeups = __atomic_load_n(&n->port.wakeups, __ATOMIC_RELAXED);
	if (n->have_device)
		rpk_rpmsg_get_stats(&n->dev, &tmp.rpmsg, tmp.vq);
	__atomic_store_n(&pg->seq, n->stats_seq + 1, __ATOMIC_RELEASE); /* odd: writing */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(&pg->magic, &tmp.magic, sizeof(uint32_t));
	memcpy((char *)pg + 8, (char *)&tmp + 8, sizeof(tmp) - 8);
	n->stats_seq += 2;
	__atomic_store_n(&pg->seq, n->stats_seq, __ATOMIC_RELEASE);
}

/* A consistent copy: the same even seq before and after. */
static int copy_page(const struct rpk_node_stats_page *pg, struct rpk_node_stats_page *out)
{
	for (int tries = 0; tries < 1000; tries++) {
		uint32_t a = __atomic_load_n(&pg->seq, __ATOMIC_ACQUIRE);

		memcpy(out, (const void *)pg, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!(a & 1) && __atomic_load_n(&pg->seq, __ATOMIC_RELAXED) == a)
			return out->magic == RPK_STATS_MAGIC ? 0 : -RPK_EIO;
	}
	return -RPK_EIO;
}

int rpk_node_read_stats(const char *instance, const char *node, struct rpk_node_stats_page *out)
{
	char err[1024];

	return rpk_node_read_stats_group(instance, node, NULL, out, err, sizeof(err));
}

int rpk_node_read_stats_group(const char *instance, const char *node, const char *group,
			      struct rpk_node_stats_page *out, char *err, size_t errlen)
{
	struct rpk_shm shm = {.fd = -1};
	gid_t gid = RPK_NO_GROUP;
	char name[160];
	int rc;

	if (group && rpk_group_lookup(group, &gid, err, errlen))
		return -RPK_EINVAL;
	rpk_node_stats_name(name, sizeof(name), instance, node);
	rc = rpk_shm_open_readonly(&shm, name, sizeof(*out), gid, err, errlen);
	if (rc == -ENOENT)
		return -RPK_ENOENT;
	if (rc)
		return -RPK_EIO;
	rc = copy_page(shm.va, out);
	if (rc)
		snprintf(err, errlen, "/dev/shm%s holds no counters", name);
	rpk_shm_close(&shm);
	return rc;
}

static const struct rpk_region *region(const struct rpk_node *n, int k)
{
	return &n->lay->regions[n->ln->region[k]];
}

static void *rsc_shared(const struct rpk_node *n)
{
	return (char *)n->view[RPK_REG_RSC] + region(n, RPK_REG_RSC)->rsc_offset;
}

/* Set up the rpmsg device over rings of num entries with this alignment. */
static int init_device(struct rpk_node *n, uint32_t num, uint32_t align, char *err, size_t errlen)
{
	struct rpk_rpmsg_cfg cfg = {
	    .role = n->ln->role,
	    .vring = {n->view[RPK_REG_VRING0], n->view[RPK_REG_VRING1]},
	    .num = num,
	    .align = align,
	    .notify_id = {0, 1},
	    .mem = &n->buf_mem,
	    .port = &n->port.port,
	    .bufs = n->view[RPK_REG_BUFFER],
	    .buckets = n->buckets,
	    .num_buckets = NUM_BUCKETS,
	    .services = n->services,
	    .num_services = NUM_SERVICES,
	    .ns_bind = n->opts.ns_bind,
	    .ns_priv = n->opts.ns_priv,
	    .recheck_ms = WATCH_MS, /* a buffer given back without a kick waits no longer */
	};
	int rc;

	n->num = num;
	n->align = align;
	for (int q = 0; q < 2; q++) {
		n->slots[q] = calloc(num, sizeof(*n->slots[q]));
		if (!n->slots[q])
			return -RPK_ENOMEM;
		cfg.slots[q] = n->slots[q];
	}
	rc = rpk_rpmsg_init(&n->dev, &cfg);
	__atomic_store_n(&n->have_device, 1, __ATOMIC_SEQ_CST); /* rpk_node_interrupt looks */
	if (rc)
		snprintf(err, errlen, "%s: cannot set up rpmsg: %s\n", n->ln->path,
			 rpk_strerror(rc));
	else if (n->opts.polling)
		rpk_rpmsg_set_polling(&n->dev, 1); /* the peer need not ring us */
	/* seq_cst, as in rpk_node_interrupt: one of the two sees the other. */
	if (!rc && __atomic_load_n(&n->interrupted, __ATOMIC_SEQ_CST))
		rpk_rpmsg_interrupt(&n->dev); /* it came while the device was set up */
	return rc;
}

/* ---- remote: lay out the table, wait for the master ---- */

static int publish_table(struct rpk_node *n, char *err, size_t errlen)
{
	const struct rpk_region *rr = region(n, RPK_REG_RSC);
	struct rpk_rsc_table_hdr *shared = rsc_shared(n);
	struct rpk_rsc_builder b;
	struct rpk_fw_rsc_vdev *v;
	uint8_t *tbl = calloc(1, rr->rsc_size);
	int size;

	if (!tbl)
		return -RPK_ENOMEM;
	/* Exactly the entries we add: finishing compacts unused offset slots. */
	rpk_rsc_build_init(&b, tbl, rr->rsc_size, rr->trace_size ? 2 : 1);
	if (rr->trace_size)
		rpk_rsc_add_trace(&b, (uint32_t)(rr->da + rr->trace_offset), rr->trace_size,
				  "rpk-trace");
	v = rpk_rsc_add_vdev(&b, RPK_VIRTIO_ID_RPMSG, VDEV_NOTIFYID, SUPPORTED_FEATURES, 2, 0);
	for (uint8_t q = 0; q < 2; q++)
		rpk_rsc_vdev_set_vring(v, q, (uint32_t)region(n, RPK_REG_VRING0 + q)->da,
				       n->ln->vring_align, n->ln->vring_num, q);
	size = rpk_rsc_build_finish(&b);
	if (size < 0) {
		snprintf(err, errlen, "%s: resource table does not fit rpk,rsc-size 0x%x\n",
			 rr->path, rr->rsc_size);
		free(tbl);
		return size;
	}
	rpk_rsc_publish(shared, rr->rsc_size, tbl, (size_t)size, &n->port.port);
	/* Our private copy gives the vdev's place; the shared one is the
	 * master's to scribble on by now. */
	n->vdev = (struct rpk_fw_rsc_vdev *)((char *)shared + ((uint8_t *)v - tbl));
	free(tbl);
	init_trace(n);
	/* A new session tells a master that knew an earlier one that we rebooted. */
	rpk_node_log(n, "resource table published at 0x%llx, session %u",
		     (unsigned long long)(rr->da + rr->rsc_offset), sign_session(n));
	rpk_bell_ring(n->port.tx);
	return 0;
}

static int check_vdev(struct rpk_node *n, const struct rpk_fw_rsc_vdev *v, uint32_t *num,
		      uint32_t *align, char *err, size_t errlen);

static void init_trace(struct rpk_node *n)
{
	const struct rpk_region *rr = region(n, RPK_REG_RSC);

	if (!rr->trace_size)
		return;
	pthread_mutex_lock(&n->trace_mu);
	rpk_trace_init(&n->trace, (char *)n->view[RPK_REG_RSC] + rr->trace_offset, rr->trace_size,
		       &n->port.port);
	pthread_mutex_unlock(&n->trace_mu);
}

/* A table copy's rpmsg vdev: the whole table validated, then the vdev checked
 * against the link. what names the table in errors. */
static int table_vdev(struct rpk_node *n, const uint8_t *copy, const char *what,
		      const struct rpk_fw_rsc_vdev **v, uint32_t *num, uint32_t *align, char *err,
		      size_t errlen)
{
	const struct rpk_region *rr = region(n, RPK_REG_RSC);
	struct rpk_rsc_problem why;
	int idx;

	if (rpk_rsc_validate(copy, rr->rsc_size, &why) < 0) {
		snprintf(err, errlen, "%s: bad %s (entry %d): %s\n", rr->path, what, why.entry,
			 why.what);
		return -RPK_ENOEXEC;
	}
	idx = rpk_rsc_find_vdev(copy, RPK_VIRTIO_ID_RPMSG);
	if (idx < 0) {
		snprintf(err, errlen, "%s: %s has no rpmsg vdev\n", rr->path, what);
		return -RPK_ENOEXEC;
	}
	*v = rpk_rsc_entry(copy, (uint32_t)idx, NULL);
	return check_vdev(n, *v, num, align, err, errlen);
}

/*
 * Remote, booted: the master loaded our firmware and installed its table,
 * with the addresses it chose. Check it as a master checks a self-booted
 * remote's table (it is shared memory all the same) and take its vdev.
 */
static int take_installed_table(struct rpk_node *n, char *err, size_t errlen)
{
	const struct rpk_region *rr = region(n, RPK_REG_RSC);
	const struct rpk_fw_rsc_vdev *v;
	uint32_t num, align;
	uint8_t *copy = malloc(rr->rsc_size);
	int rc = -RPK_ENOEXEC;

	if (!copy)
		return -RPK_ENOMEM;
	if (!rpk_rsc_is_published(rsc_shared(n), &n->port.port)) {
		snprintf(err, errlen, "%s: booted, but no table is installed at 0x%llx\n", rr->path,
			 (unsigned long long)(rr->da + rr->rsc_offset));
		goto out;
	}
	rpk_rsc_snapshot(copy, rr->rsc_size, rsc_shared(n), rr->rsc_size, &n->port.port);
	rc = table_vdev(n, copy, "installed table", &v, &num, &align, err, errlen);
	if (rc)
		goto out;
	n->vdev = (struct rpk_fw_rsc_vdev *)((char *)rsc_shared(n) + ((const uint8_t *)v - copy));
	init_trace(n);
	rpk_node_log(n, "booted with the table installed at 0x%llx, session %u",
		     (unsigned long long)(rr->da + rr->rsc_offset), sign_session(n));
	rpk_bell_ring(n->port.tx);
out:
	free(copy);
	return rc;
}

void rpk_node_log(struct rpk_node *n, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int len;
	uint32_t ms = rpk_posix_now_ms();

	len = snprintf(line, sizeof(line), "[%6u.%03u] ", ms / 1000u, ms % 1000u);
	va_start(ap, fmt);
	len += vsnprintf(line + len, sizeof(line) - (size_t)len - 1, fmt, ap);
	va_end(ap);
	if (len > (int)sizeof(line) - 2)
		len = (int)sizeof(line) - 2;
	line[len++] = '\n';
	pthread_mutex_lock(&n->trace_mu);
	if (n->trace.hdr)
		rpk_trace_write(&n->trace, line, (size_t)len);
	pthread_mutex_unlock(&n->trace_mu);
	/* A master has no trace buffer: RPK_LOG=1 shows either side's lines. */
	if (getenv("RPK_LOG") && !strcmp(getenv("RPK_LOG"), "1"))
		fprintf(stderr, "%s %.*s", n->ln->name, len, line);
}

/* Wait until cond(n) holds (its session in *session), sleeping on the
 * doorbell; 0, -RPK_ETIMEDOUT or -RPK_EINTR. */
static int wait_for(struct rpk_node *n, int (*cond)(struct rpk_node *, uint32_t *),
		    uint32_t timeout_ms, uint32_t *session)
{
	uint32_t start = rpk_posix_now_ms();
	struct rpk_port *p = &n->port.port;

	for (;;) {
		uint32_t snap = p->ops->event_snapshot(p->ctx), spent;

		if (cond(n, session))
			return 0;
		if (__atomic_load_n(&n->interrupted, __ATOMIC_ACQUIRE))
			return -RPK_EINTR;
		spent = rpk_posix_now_ms() - start;
		if (timeout_ms != RPK_WAIT_FOREVER && spent >= timeout_ms)
			return -RPK_ETIMEDOUT;
		/* Not every change rings (a status write, a peer that dies): look
		 * again at least every watchdog period. */
		p->ops->event_wait(p->ctx, snap,
				   timeout_ms - spent < WATCH_MS ? timeout_ms - spent : WATCH_MS);
	}
}

static uint8_t vdev_status(struct rpk_node *n)
{
	return rpk_vdev_read_status(n->vdev, &n->port.port);
}

static int driver_ok(struct rpk_node *n)
{
	return vdev_status(n) & RPK_VIRTIO_STATUS_DRIVER_OK;
}

static void set_state(struct rpk_node *n, enum rpk_node_state s)
{
	__atomic_store_n(&n->state, (int)s, __ATOMIC_RELEASE);
}

/* The link is up: attached to a remote that booted by itself, or running one we booted. */
static int link_live(const struct rpk_node *n)
{
	enum rpk_node_state s = rpk_node_state(n);

	return s == RPK_NODE_ATTACHED || s == RPK_NODE_RUNNING;
}

/* Wake our own sleepers (blocked senders, the event thread) to see a change. */
static void wake_self(struct rpk_node *n)
{
	rpk_bell_ring(n->port.rx);
}

/* ---- who the peer is (docs/host-link.md: sessions) ---- */

/* Sign our bell with our pid and a new session: a peer that knew an earlier
 * one of ours sees that we started over. Called with life held. */
static uint32_t sign_session(struct rpk_node *n)
{
	uint32_t s = rpk_bell_new_session(n->port.tx);

	__atomic_store_n(&n->my_pid, (uint32_t)getpid(), __ATOMIC_RELAXED);
	__atomic_store_n(&n->my_session, s, __ATOMIC_RELEASE);
	return s;
}

/* Our signature is ours to keep: write it again if someone overwrote it
 * (else the peer would take us for dead, or for a new session forever). */
static void keep_signature(struct rpk_node *n)
{
	struct rpk_bell *b = n->port.tx;
	uint32_t s, pid;

	/* Under life, as every signing: a new session being signed is not a
	 * signature overwritten. */
	pthread_mutex_lock(&n->life);
	s = __atomic_load_n(&n->my_session, __ATOMIC_ACQUIRE);
	pid = __atomic_load_n(&n->my_pid, __ATOMIC_RELAXED);
	if (s && (__atomic_load_n(&b->pid, __ATOMIC_RELAXED) != pid ||
		  __atomic_load_n(&b->session, __ATOMIC_RELAXED) != s)) {
		__atomic_store_n(&b->pid, pid, __ATOMIC_RELAXED);
		__atomic_store_n(&b->session, s, __ATOMIC_RELEASE);
		__atomic_add_fetch(&n->bell_fixed, 1, __ATOMIC_RELAXED);
		rpk_node_log(n, "our doorbell's pid or session was overwritten: signed again");
		rpk_bell_ring(b);
	}
	pthread_mutex_unlock(&n->life);
}

/*
 * Whether the peer of session s lives. A pid in shared memory is only a
 * number: it counts once that process is seen to map this link's mailbox
 * (looked up once per pid and session), then as long as it lives. A peer
 * that does not sign its bell (session 0) cannot be watched this way: its
 * liveness is unknown and taken as alive; its restarts show in the shared
 * state (the table and the status) instead.
 */
static int peer_alive(struct rpk_node *n, uint32_t s)
{
	uint32_t pid = __atomic_load_n(&n->port.rx->pid, __ATOMIC_RELAXED);
	int ok;

	if (!s)
		return 1;
	pthread_mutex_lock(&n->pid_mu);
	/* Looked at again now and then: a pid the peer left behind may come
	 * to name another process. */
	if (pid != n->checked_pid || s != n->checked_session ||
	    rpk_posix_now_ms() - n->checked_ms >= PID_RECHECK_MS) {
		int maps = rpk_pid_maps(pid, n->mbox_name);

		n->checked_pid = pid;
		n->checked_session = s;
		n->checked_ms = rpk_posix_now_ms();
		/* -1: its maps are not ours to read: only another user of the
		 * link's group may be that; whether it lives is all we can tell. */
		n->checked_ok = maps == 1 || (maps < 0 && n->group != RPK_NO_GROUP);
	}
	ok = n->checked_ok;
	pthread_mutex_unlock(&n->pid_mu);
	return ok && rpk_pid_alive(pid);
}

/* ---- remote: serve the master ---- */

static void ask_for_reset(struct rpk_node *n, const char *why);

/*
 * A master we may serve: it reset us since the link fell (we saw DRIVER_OK
 * gone, or the DEVICE_NEEDS_RESET we set cleared by a whole new status),
 * then set DRIVER_OK, and both rings were laid out anew. A session number
 * alone proves nothing (anyone can write one), and a master that runs a
 * session we cannot join (it did not reset us) is asked for a reset.
 */
static int master_ready(struct rpk_node *n, uint32_t *session)
{
	/* The status first: a master signs its session before DRIVER_OK. */
	uint8_t st = vdev_status(n);

	*session = rpk_bell_session(n->port.rx);
	if (!(st & RPK_VIRTIO_STATUS_DRIVER_OK)) {
		n->saw_reset = 1;
		return 0;
	}
	/* Not answered yet; unless the rings were laid out anew since we
	 * asked: a master that sets its status bit by bit (Linux's
	 * virtio_add_status) may carry our bit into the new one. */
	if ((st & RPK_VIRTIO_STATUS_NEEDS_RESET) &&
	    !(n->need_reset && n->asked_used && rpk_rpmsg_rings_reset(&n->dev)))
		return 0;
	if (n->need_reset) {
		n->need_reset = 0;
		n->saw_reset = 1;
	}
	if (n->saw_reset && rpk_rpmsg_rings_reset(&n->dev))
		return 1;
	ask_for_reset(n, n->saw_reset ? "the master did not lay the rings out anew"
				      : "the master runs a session we did not see start");
	return 0;
}

/* Remote: the master of session s finished its handshake; bring the link up. */
static int remote_link_up(struct rpk_node *n, uint32_t s)
{
	uint32_t features;

	n->peer_session = s;
	n->bell_seen = rpk_bell_session(n->port.rx);
	n->saw_reset = 0;
	n->need_reset = 0;
	features = rpk_vdev_read_gfeatures(n->vdev, &n->port.port) & SUPPORTED_FEATURES;
	rpk_rpmsg_start(&n->dev, features);
	__atomic_add_fetch(&n->attaches, 1, __ATOMIC_RELAXED);
	set_state(n, RPK_NODE_ATTACHED);
	if (s)
		rpk_node_log(n, "master attached (session %u), features 0x%x", s, features);
	else
		rpk_node_log(n,
			     "master attached (it does not sign its doorbell: liveness "
			     "unknown), features 0x%x",
			     features);
	return 0;
}

static int start_remote(struct rpk_node *n, uint32_t timeout_ms, char *err, size_t errlen)
{
	uint32_t s;
	int rc;

	pthread_mutex_lock(&n->life);
	rc = n->opts.booted ? take_installed_table(n, err, errlen) : publish_table(n, err, errlen);
	if (rc) {
		pthread_mutex_unlock(&n->life);
		return rc;
	}
	set_state(n, RPK_NODE_DETACHED);
	/* The table's status was 0 when it was laid out: a DRIVER_OK from now
	 * on is a master's that took this table and laid its rings out. */
	n->saw_reset = 1;
	rc = wait_for(n, master_ready, timeout_ms, &s);
	if (rc == -RPK_EINTR)
		snprintf(err, errlen, "%s: interrupted while waiting for a master\n", n->ln->path);
	else if (rc)
		snprintf(err, errlen, "%s: no master set DRIVER_OK within %u ms\n", n->ln->path,
			 timeout_ms);
	else
		rc = remote_link_up(n, s);
	pthread_mutex_unlock(&n->life);
	return rc;
}

/* ---- master: attach to the remote's table ---- */

/*
 * Master: the published table is one no master took yet: its rpmsg vdev,
 * found in a private copy (a rebooted remote may lay it out differently),
 * has a status without DRIVER_OK.
 */
static int table_laid_out_anew(struct rpk_node *n)
{
	const struct rpk_region *rr = region(n, RPK_REG_RSC);
	const struct rpk_fw_rsc_vdev *v;
	struct rpk_rsc_problem why;
	uint8_t *copy = malloc(rr->rsc_size);
	int idx, fresh = 0;

	if (!copy)
		return 0;
	rpk_rsc_snapshot(copy, rr->rsc_size, rsc_shared(n), rr->rsc_size, &n->port.port);
	if (rpk_rsc_validate(copy, rr->rsc_size, &why) >= 0 &&
	    (idx = rpk_rsc_find_vdev(copy, RPK_VIRTIO_ID_RPMSG)) >= 0) {
		v = rpk_rsc_entry(copy, (uint32_t)idx, NULL);
		fresh =
		    !(v->status & (RPK_VIRTIO_STATUS_DRIVER_OK | RPK_VIRTIO_STATUS_NEEDS_RESET));
	}
	free(copy);
	return fresh;
}

/*
 * A table to attach to, and the remote's session (0: it does not sign its
 * bell). Signed: published by a live remote (a rebooting one signs after it
 * published), not a session whose table we could not take. Unsigned: a
 * published table whose status is reset (a new table, or one we reset).
 */
static int table_ready(struct rpk_node *n, uint32_t *session)
{
	uint32_t s = rpk_bell_session(n->port.rx);

	*session = s;
	if (!rpk_rsc_is_published(rsc_shared(n), &n->port.port) ||
	    (n->have_bad && s == n->bad_session && (s || n->need_signed)))
		return 0;
	if (s && peer_alive(n, s))
		return 1;
	if (n->need_signed)
		return 0;
	/* Unsigned, or signed by a process that is gone (an earlier remote;
	 * ours sign just after they publish): a table laid out anew is a
	 * remote's that does not sign, or not yet. */
	*session = 0;
	return table_laid_out_anew(n);
}

/* Check the table's vdev against the devicetree; fills num/align. */
static int check_vdev(struct rpk_node *n, const struct rpk_fw_rsc_vdev *v, uint32_t *num,
		      uint32_t *align, char *err, size_t errlen)
{
	const char *path = region(n, RPK_REG_RSC)->path;

	if (v->num_of_vrings < 2) {
		snprintf(err, errlen, "%s: rpmsg vdev has %u vrings, needs 2\n", path,
			 v->num_of_vrings);
		return -RPK_ENOEXEC;
	}
	*num = v->vring[0].num;
	*align = v->vring[0].align;
	if (v->vring[1].num != *num || v->vring[1].align != *align ||
	    !rpk_vring_size(*num, *align)) {
		snprintf(err, errlen,
			 "%s: vrings must have the same power-of-two size (<= %u) and "
			 "alignment (got %u/%u and %u/%u)\n",
			 path, RPK_VRING_MAX_NUM, *num, *align, v->vring[1].num, v->vring[1].align);
		return -RPK_ENOEXEC;
	}
	if (n->ln->vring_num && (n->ln->vring_num != *num || n->ln->vring_align != *align)) {
		snprintf(err, errlen,
			 "%s: table says vrings of %u aligned to %u, the devicetree "
			 "%u aligned to %u\n",
			 path, *num, *align, n->ln->vring_num, n->ln->vring_align);
		return -RPK_ENOEXEC;
	}
	for (int q = 0; q < 2; q++) {
		const struct rpk_region *r = region(n, RPK_REG_VRING0 + q);

		if (v->vring[q].da != r->da || rpk_vring_size(*num, *align) > r->size) {
			snprintf(err, errlen,
				 "%s: vring%d at 0x%x (0x%zx bytes) is not the region "
				 "%s\n",
				 path, q, v->vring[q].da, rpk_vring_size(*num, *align), r->path);
			return -RPK_ENOEXEC;
		}
	}
	if (n->cache && *align < RPK_SIM_LINE) {
		snprintf(err, errlen,
			 "%s: vring alignment %u is below the %u-byte cache line, and this node "
			 "caches the shared memory: the avail and used rings would share lines\n",
			 path, *align, RPK_SIM_LINE);
		return -RPK_ENOEXEC;
	}
	if (rpk_layout_pool_size(*num) > region(n, RPK_REG_BUFFER)->size) {
		snprintf(err, errlen, "%s: buffer pool too small for vrings of %u\n",
			 region(n, RPK_REG_BUFFER)->path, *num);
		return -RPK_ENOEXEC;
	}
	return 0;
}

/* Attach to the table of the remote's session s. -RPK_EAGAIN: the remote
 * published again while we copied (a torn copy is never used). */
static int attach(struct rpk_node *n, uint32_t s, char *err, size_t errlen)
{
	const struct rpk_region *rr = region(n, RPK_REG_RSC);
	const struct rpk_fw_rsc_vdev *v;
	uint32_t num, align, features;
	uint8_t *copy = malloc(rr->rsc_size);
	int rc;

	if (!copy)
		return -RPK_ENOMEM;
	/* Parse a private copy: the remote cannot change it under us. */
	rpk_rsc_snapshot(copy, rr->rsc_size, rsc_shared(n), rr->rsc_size, &n->port.port);
	if (rpk_bell_session(n->port.rx) != s ||
	    !rpk_rsc_is_published(rsc_shared(n), &n->port.port)) {
		snprintf(err, errlen, "%s: the remote published its table again meanwhile\n",
			 rr->path);
		rc = -RPK_EAGAIN;
		goto out;
	}
	n->peer_session = s;
	n->bell_seen = rpk_bell_session(n->port.rx);
	rc = table_vdev(n, copy, "resource table", &v, &num, &align, err, errlen);
	if (rc)
		goto out;
	if (n->have_device && (num != n->num || align != n->align)) {
		snprintf(err, errlen, "%s: the remote came back with vrings of %u, it had %u\n",
			 rr->path, num, n->num);
		rc = -RPK_ENOEXEC;
		goto out;
	}
	features = v->dfeatures & SUPPORTED_FEATURES;
	/* Writes go to the shared table at the offset the copy validated. */
	n->vdev = (struct rpk_fw_rsc_vdev *)((char *)rsc_shared(n) + ((const uint8_t *)v - copy));
	/* A virtio reset first, then our new session: a remote never takes a
	 * DRIVER_OK of an earlier session for ours. */
	rpk_vdev_write_status(n->vdev, 0, &n->port.port);
	sign_session(n);
	rpk_vdev_write_status(n->vdev, RPK_VIRTIO_STATUS_ACKNOWLEDGE, &n->port.port);
	rpk_vdev_write_status(n->vdev, RPK_VIRTIO_STATUS_ACKNOWLEDGE | RPK_VIRTIO_STATUS_DRIVER,
			      &n->port.port);
	rpk_vdev_write_gfeatures(n->vdev, features, &n->port.port);
	if (!n->have_device)
		rc = init_device(n, num, align, err, errlen);
	else /* what a remote wrote since our reset must not survive into this session */
		rpk_rpmsg_lay_out(&n->dev);
	if (rc)
		goto out;
	n->have_bad = 0;
	n->need_signed = 0;
	/* Rings are initialised and receive buffers posted before DRIVER_OK. */
	rpk_vdev_write_status(n->vdev,
			      RPK_VIRTIO_STATUS_ACKNOWLEDGE | RPK_VIRTIO_STATUS_DRIVER |
				  RPK_VIRTIO_STATUS_DRIVER_OK,
			      &n->port.port);
	rc = rpk_rpmsg_start(&n->dev, features);
	/* The remote waits for DRIVER_OK: ring even if start had nothing to kick
	 * (buffers released since the reset already rang for theirs). */
	rpk_bell_ring(n->port.tx);
	__atomic_add_fetch(&n->attaches, 1, __ATOMIC_RELAXED);
	/* A remote we started runs; one that booted by itself is attached. */
	set_state(n, n->fw_img ? RPK_NODE_RUNNING : RPK_NODE_ATTACHED);
out:
	free(copy);
	return rc;
}

/* Wait for a live remote's table and attach to it; called with life held. */
static int wait_and_attach(struct rpk_node *n, uint32_t timeout_ms, char *err, size_t errlen)
{
	uint32_t start = rpk_posix_now_ms(), left = timeout_ms, s;
	int rc;

	for (;;) {
		rc = wait_for(n, table_ready, left, &s);
		if (rc == -RPK_EINTR) {
			snprintf(err, errlen,
				 "%s: interrupted while waiting for the remote's table\n",
				 region(n, RPK_REG_RSC)->path);
			return rc;
		}
		if (rc) {
			snprintf(err, errlen,
				 "%s: no resource table appeared within %u ms (none published by "
				 "a live remote)\n",
				 region(n, RPK_REG_RSC)->path, timeout_ms);
			return rc;
		}
		rc = attach(n, s, err, errlen);
		if (rc != -RPK_EAGAIN)
			return rc;
		/* A remote that just published again: its next table, in what time is left. */
		if (timeout_ms != RPK_WAIT_FOREVER) {
			uint32_t spent = rpk_posix_now_ms() - start;

			left = spent < timeout_ms ? timeout_ms - spent : 0;
		}
	}
}

static int start_master(struct rpk_node *n, uint32_t timeout_ms, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&n->life);
	rc = wait_and_attach(n, timeout_ms, err, errlen);
	pthread_mutex_unlock(&n->life);
	return rc;
}

/* ---- master: auto-boot ---- */

struct fw_alloc {
	struct rpk_node *n;
	int vdev;      /* entry of the rpmsg vdev */
	uint64_t next; /* carveouts: first free byte of the firmware region */
	uint64_t end;
};

/* The rpmsg vdev's rings go to the link's vring regions; carveouts to what
 * the image left free in rpk,firmware-region. */
static uint32_t fw_alloc(void *priv, uint32_t index, int vring, uint32_t len, uint32_t align)
{
	struct fw_alloc *a = priv;
	uint64_t da;

	if (vring >= 0) {
		const struct rpk_region *r = region(a->n, RPK_REG_VRING0 + (vring ? 1 : 0));

		/* A table holds 32-bit addresses: a region above 4 GiB cannot be named. */
		return (int)index == a->vdev && vring < 2 && len <= r->size &&
			       r->da + len < RPK_FW_RSC_ADDR_ANY
			   ? (uint32_t)r->da
			   : RPK_FW_RSC_ADDR_ANY;
	}
	da = (a->next + align - 1) & ~(uint64_t)(align - 1);
	if (da + len > a->end || da + len > RPK_FW_RSC_ADDR_ANY)
		return RPK_FW_RSC_ADDR_ANY;
	a->next = da + len;
	return (uint32_t)da;
}

/* Where a firmware may load: the link's regions and rpk,firmware-region. */
static unsigned fw_windows(struct rpk_node *n, struct rpk_mem_window *w)
{
	unsigned count = 0;

	/* The loader writes memory as a DMA would: the shm itself, not our
	 * cached view (the table goes in afterwards through the view). */
	for (int k = 0; k < RPK_REG_COUNT; k++)
		w[count++] =
		    (struct rpk_mem_window){region(n, k)->da, region(n, k)->size, n->shm[k].va};
	if (n->fw_shm.va)
		w[count++] =
		    (struct rpk_mem_window){n->lay->regions[n->ln->firmware].da,
					    n->lay->regions[n->ln->firmware].size, n->fw_shm.va};
	return count;
}

/* First byte past what the image loads into the firmware region. */
static uint64_t fw_loaded_end(struct rpk_node *n, struct rpk_elf *e)
{
	const struct rpk_region *fr = &n->lay->regions[n->ln->firmware];
	struct rpk_elf_segment seg;
	uint64_t end = fr->da;

	for (uint32_t i = 0; rpk_elf_segment(e, i, &seg) == 0; i++)
		if (seg.type == RPK_PT_LOAD && seg.da >= fr->da && seg.da < fr->da + fr->size &&
		    seg.da + seg.memsz > end)
			end = seg.da + seg.memsz;
	return end;
}

/* The image's table, with what it left to us assigned, in a private copy. */
static int fw_table(struct rpk_node *n, struct rpk_elf *e, uint8_t *copy, size_t *size, char *err,
		    size_t errlen)
{
	const struct rpk_region *rr = region(n, RPK_REG_RSC);
	uint64_t want = rr->da + rr->rsc_offset;
	struct rpk_elf_section sec;
	struct rpk_rsc_problem why;
	struct fw_alloc a = {.n = n};
	int rc;

	if (rpk_elf_find_section(e, ".resource_table", &sec) || sec.type == RPK_SHT_NOBITS ||
	    !sec.size) {
		snprintf(err, errlen, "firmware: no .resource_table section with contents\n");
		return -RPK_ENOEXEC;
	}
	if (sec.addr != want || sec.size > rr->rsc_size) {
		snprintf(err, errlen,
			 "firmware: .resource_table is at 0x%llx (0x%llx bytes); %s puts the table "
			 "at 0x%llx (at most 0x%x bytes)\n",
			 (unsigned long long)sec.addr, (unsigned long long)sec.size, rr->path,
			 (unsigned long long)want, rr->rsc_size);
		return -RPK_ENOEXEC;
	}
	memset(copy, 0, rr->rsc_size);
	memcpy(copy, e->img + sec.offset, sec.size);
	*size = sec.size;
	if (rpk_rsc_validate(copy, sec.size, &why) < 0) {
		snprintf(err, errlen, "firmware: bad resource table (entry %d): %s\n", why.entry,
			 why.what);
		return -RPK_ENOEXEC;
	}
	a.vdev = rpk_rsc_find_vdev(copy, RPK_VIRTIO_ID_RPMSG);
	if (a.vdev < 0) {
		snprintf(err, errlen, "firmware: the resource table has no rpmsg vdev\n");
		return -RPK_ENOEXEC;
	}
	if (n->fw_shm.va) {
		a.next = fw_loaded_end(n, e);
		a.end = n->lay->regions[n->ln->firmware].da + n->lay->regions[n->ln->firmware].size;
	}
	rc = rpk_rsc_assign(copy, fw_alloc, &a, &why);
	if (rc)
		snprintf(err, errlen, "firmware: resource table entry %d: %s\n", why.entry,
			 why.what);
	return rc;
}

/* Load the firmware we keep and install its table (Linux's rproc_fw_boot). */
static int load_firmware(struct rpk_node *n, char *err, size_t errlen)
{
	const struct rpk_region *rr = region(n, RPK_REG_RSC);
	struct rpk_mem_window w[RPK_REG_COUNT + 1];
	struct rpk_mem mem = {w, 0};
	struct rpk_elf e;
	uint8_t *copy = malloc(rr->rsc_size);
	size_t size = 0;
	int rc;

	if (!copy)
		return -RPK_ENOMEM;
	rc = rpk_elf_open(&e, n->fw_img, n->fw_size);
	if (rc)
		snprintf(err, errlen, "firmware: bad ELF image: %s\n", e.why);
	if (!rc)
		rc = fw_table(n, &e, copy, &size, err, errlen);
	if (!rc) {
		mem.count = fw_windows(n, w);
		rc = rpk_elf_load(&e, &mem);
		if (rc)
			snprintf(err, errlen, "firmware: %s\n", e.why);
	}
	/* The loaded table is the image's: ours replaces it, version word last. */
	if (!rc)
		rc = rpk_rsc_publish(rsc_shared(n), rr->rsc_size, copy, size, &n->port.port);
	free(copy);
	return rc;
}

/* Load and start the remote, then take the table it runs with; life held. */
static int boot_locked(struct rpk_node *n, uint32_t timeout_ms, char *err, size_t errlen)
{
	int rc = load_firmware(n, err, errlen);

	if (rc)
		return rc;
	/* Whatever session the mailbox holds belongs to an earlier remote. */
	n->bad_session = rpk_bell_session(n->port.rx);
	n->have_bad = 1;
	/* The table is ours until the remote takes it: only its signature
	 * says it did (an unsigned firmware cannot be booted on the host). */
	n->need_signed = 1;
	rc = n->opts.start_remote(n->opts.rproc_priv);
	if (rc) {
		snprintf(err, errlen, "cannot start the remote: %s\n", rpk_strerror(rc));
		return rc;
	}
	rc = wait_and_attach(n, timeout_ms, err, errlen);
	if (rc) {
		n->opts.stop_remote(n->opts.rproc_priv);
		set_state(n, RPK_NODE_OFFLINE);
		return rc;
	}
	rpk_node_log(n, "firmware booted");
	return 0;
}

int rpk_node_boot(struct rpk_node *n, const void *img, size_t size, uint32_t timeout_ms, char *err,
		  size_t errlen)
{
	int rc;

	if (n->ln->role != RPK_ROLE_MASTER || !n->opts.start_remote || !n->opts.stop_remote) {
		snprintf(err, errlen,
			 "%s: only a master with start/stop operations boots a remote\n",
			 n->ln->path);
		return -RPK_EINVAL;
	}
	pthread_mutex_lock(&n->life);
	if (rpk_node_state(n) != RPK_NODE_OFFLINE) {
		snprintf(err, errlen, "%s: can only boot an offline remote (it is %s)\n",
			 n->ln->path, rpk_node_state_name(rpk_node_state(n)));
		pthread_mutex_unlock(&n->life);
		return -RPK_EINVAL;
	}
	free(n->fw_img);
	n->fw_img = malloc(size ? size : 1);
	n->fw_size = size;
	if (!n->fw_img) {
		pthread_mutex_unlock(&n->life);
		return -RPK_ENOMEM;
	}
	memcpy(n->fw_img, img, size);
	rc = boot_locked(n, timeout_ms, err, errlen);
	pthread_mutex_unlock(&n->life);
	return rc ? rc : start_thread(n);
}

/* A crashed remote we booted: stop what is left of it, load, start again. */
static void recover(struct rpk_node *n)
{
	char err[512];

	n->opts.stop_remote(n->opts.rproc_priv);
	rpk_node_log(n, "recovering: loading the firmware again");
	if (boot_locked(n, RECOVER_MS, err, sizeof(err))) {
		rpk_node_log(n, "recovery failed: %s", err);
		set_state(n, RPK_NODE_OFFLINE);
	}
}

int rpk_node_stop(struct rpk_node *n)
{
	enum rpk_node_state s;
	int rc = 0;

	pthread_mutex_lock(&n->life);
	s = rpk_node_state(n);
	if (n->ln->role != RPK_ROLE_MASTER || !n->fw_img ||
	    (s != RPK_NODE_RUNNING && s != RPK_NODE_CRASHED)) {
		rc = -RPK_EINVAL;
	} else {
		/* Reset the device, stop the processor, then the rings start
		 * over: a remote still running could write them after that. */
		if (s == RPK_NODE_RUNNING)
			rpk_vdev_write_status(n->vdev, 0, &n->port.port);
		n->opts.stop_remote(n->opts.rproc_priv);
		if (s == RPK_NODE_RUNNING)
			link_lost(n, RPK_NODE_OFFLINE);
		set_state(n, RPK_NODE_OFFLINE);
	}
	pthread_mutex_unlock(&n->life);
	return rc;
}

/* ---- watching the peer ---- */

/*
 * The peer left the link's session: it restarted (a new session), its
 * process died, or (slow looks only, they read shared memory) the status
 * says so: a remote that sees DRIVER_OK gone was reset by its master
 * (Linux's rproc_virtio_reset), a master that sees it gone has a remote
 * that laid out a fresh table.
 */
static int peer_gone(struct rpk_node *n, int slow)
{
	uint32_t s = rpk_bell_session(n->port.rx);

	if (!n->peer_session) /* it does not sign: only a new signature is news */
		return s != n->bell_seen || (slow && !driver_ok(n));
	if (s != n->peer_session)
		return 1;
	if (!slow)
		return 0;
	return !peer_alive(n, s) || !driver_ok(n);
}

/* Take the link down; called with life held. */
static void link_lost(struct rpk_node *n, enum rpk_node_state next)
{
	rpk_rpmsg_reset(&n->dev);
	set_state(n, next);
	wake_self(n);
}

/*
 * Remote: the link fell without the master resetting it (its rings broke,
 * or its process looks dead). Tell it through the status, as a virtio device
 * does (DEVICE_NEEDS_RESET), stop touching the rings, and wait for a reset:
 * a master that lives answers with one (Linux's ignores the bit: it resets
 * when it restarts), a dead one is replaced by one that resets anyway.
 * Called with life held.
 */
static void ask_for_reset(struct rpk_node *n, const char *why)
{
	uint8_t st = vdev_status(n);

	n->asked_used = !rpk_rpmsg_rings_reset(&n->dev);
	if (link_live(n))
		link_lost(n, RPK_NODE_DETACHED);
	n->need_reset = 1;
	n->saw_reset = 0;
	rpk_vdev_write_status(n->vdev, (uint8_t)(st | RPK_VIRTIO_STATUS_NEEDS_RESET),
			      &n->port.port);
	rpk_bell_ring(n->port.tx);
	__atomic_add_fetch(&n->reset_asks, 1, __ATOMIC_RELAXED);
	rpk_node_log(n, "link down: %s; asked the master for a reset (status 0x%02x)", why,
		     (unsigned)(st | RPK_VIRTIO_STATUS_NEEDS_RESET));
}

/*
 * Master: reset the device of a remote that lives on and attach again, as
 * after a detach: status 0 and a new session of ours first (the remote drops
 * the old session before it can take our zeroed rings for corrupt ones),
 * then the rings start over. Messages the remote had not consumed are
 * counted lost. If the table cannot be taken, wait as for a crash.
 * Called with life held.
 */
static void reset_device(struct rpk_node *n, const char *why)
{
	uint32_t s = rpk_bell_session(n->port.rx);
	char err[512];

	rpk_node_log(n, "resetting the link: %s", why);
	rpk_vdev_write_status(n->vdev, 0, &n->port.port);
	sign_session(n);
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* session seen before zeroed rings */
	rpk_bell_ring(n->port.tx);
	link_lost(n, RPK_NODE_CRASHED);
	__atomic_add_fetch(&n->link_resets, 1, __ATOMIC_RELAXED);
	if (attach(n, s, err, sizeof(err)))
		rpk_node_log(n, "re-attach after the reset failed: %s", err);
}

/*
 * Master: the remote is gone (its process died, it restarted, or it laid
 * out a fresh table). Deliver what it sent before it went, then take the
 * link down and wait for it to come back. Called with life held.
 */
static void remote_gone(struct rpk_node *n)
{
	uint32_t s = rpk_bell_session(n->port.rx);

	/* A remote that died in its session published whole entries only:
	 * deliver them (its last reply, say). A rebooted one may reuse the rings. */
	if (s == n->peer_session)
		rpk_rpmsg_poll(&n->dev);
	rpk_rpmsg_forgive_break(&n->dev);
	/* The status stays as it is: a table with DRIVER_OK is not taken for
	 * a new one. A remote that in fact lives on (its pid was forged) signs
	 * again, and the attach that follows resets it. */
	__atomic_add_fetch(&n->crashes, 1, __ATOMIC_RELAXED);
	rpk_node_log(n, "link down: the remote of session %u is gone", n->peer_session);
	link_lost(n, RPK_NODE_CRASHED);
}

/* Remote: the master reset the link; we wait for its DRIVER_OK. Life held. */
static void reset_by_master(struct rpk_node *n, const char *how)
{
	n->need_reset = 0;
	n->saw_reset = 1;
	__atomic_add_fetch(&n->link_resets, 1, __ATOMIC_RELAXED);
	rpk_node_log(n, "link down: the master of session %u %s", n->peer_session, how);
	link_lost(n, RPK_NODE_DETACHED);
}

/*
 * Remote: the master reset the link (DRIVER_OK gone: Linux's
 * rproc_virtio_reset, or our detach), or it left in a way we cannot take
 * for a reset (a new session number alone, a dead process): then it is asked
 * for one. Called with life held.
 */
static void master_gone(struct rpk_node *n)
{
	uint32_t s = rpk_bell_session(n->port.rx);

	rpk_rpmsg_forgive_break(&n->dev);
	/* A new session alone proves nothing (anyone can write one); with
	 * both rings laid out anew since we used them, the master did reset. */
	if (driver_ok(n) && (s == n->peer_session || !rpk_rpmsg_rings_reset(&n->dev))) {
		ask_for_reset(n, s != n->peer_session ? "the master signed a new session"
						      : "the master's process is gone");
		return;
	}
	reset_by_master(n, "reset it");
}

/*
 * Remote: a used index moved under us: the master laid the rings out anew
 * (it reset us and set DRIVER_OK again between two looks), or memory was
 * overwritten. Either way the old session is over: down, and up again once
 * the rings are laid out anew (else we ask). Called with life held.
 */
static void rings_relaid(struct rpk_node *n)
{
	rpk_rpmsg_forgive_break(&n->dev);
	reset_by_master(n, "laid the rings out anew");
}

/*
 * Our rings broke (the virtqueue layer found an entry that makes no sense)
 * while the peer lives on in the same session: a buggy or hostile peer, or
 * memory overwritten under both. The link resets and comes back by itself:
 * a master resets the device at once, a remote asks its master for a reset.
 * Called with life held.
 */
static void link_broken(struct rpk_node *n)
{
	if (!link_live(n) || !__atomic_load_n(&n->dev.broken, __ATOMIC_RELAXED))
		return; /* reset meanwhile: the error was the old session's */
	if (n->ln->role == RPK_ROLE_REMOTE && rpk_rpmsg_rings_moved(&n->dev)) {
		rings_relaid(n); /* a reset we missed, not a corruption */
		return;
	}
	__atomic_add_fetch(&n->broken, 1, __ATOMIC_RELAXED);
	if (n->ln->role == RPK_ROLE_MASTER)
		reset_device(n, "the rings made no sense");
	else
		ask_for_reset(n, "the rings made no sense");
}

/* Master: the remote asked for a reset (NEEDS_RESET), or laid out a fresh
 * table (DRIVER_OK gone). Called with life held, link up. */
static void check_status(struct rpk_node *n)
{
	uint8_t st = vdev_status(n);

	if (st & RPK_VIRTIO_STATUS_NEEDS_RESET) {
		__atomic_add_fetch(&n->reset_asks, 1, __ATOMIC_RELAXED);
		reset_device(n, "the remote asked for it (DEVICE_NEEDS_RESET)");
	} else if (!(st & RPK_VIRTIO_STATUS_DRIVER_OK)) {
		remote_gone(n);
	}
}

/* Chaos mode: one corruption now and then while the link is up. */
static void chaos_tick(struct rpk_node *n, uint32_t now)
{
	uint32_t every = n->opts.chaos_every_ms ? n->opts.chaos_every_ms : 1000u;

	if (now - n->last_chaos_ms < every || !link_live(n))
		return;
	n->last_chaos_ms = now;
	if (rpk_node_chaos(n, n->opts.chaos) == 0)
		__atomic_add_fetch(&n->chaos, 1, __ATOMIC_RELAXED);
}

/*
 * A peer we linked with while its bell was unsigned signs it now. Our
 * remotes publish the table, then sign: a master can come in between. A
 * peer that restarted would have reset the status (a remote's fresh table,
 * a master's reset), so with DRIVER_OK still there and a process of this
 * link behind the signature, it is the same peer. A signature of no live
 * process of the link is ignored: such a peer's bell says nothing.
 */
static int peer_signs_now(struct rpk_node *n, uint32_t *session)
{
	uint32_t s = rpk_bell_session(n->port.rx);

	*session = s;
	return !n->peer_session && s && s != n->bell_seen &&
	       (vdev_status(n) & RPK_VIRTIO_STATUS_DRIVER_OK) && peer_alive(n, s);
}

/*
 * A signature appeared on an unsigned peer's bell, but no live process of
 * the link is behind it. A master takes it for its remote, which signed
 * (ours do, just after they publish) and died: booted by us, it may die
 * before we saw it alive. A remote ignores it: its master (Linux, say) does
 * not sign, and would not answer a request for a reset either.
 */
static int dead_signature(struct rpk_node *n)
{
	uint32_t s = rpk_bell_session(n->port.rx);

	if (n->peer_session || s == n->bell_seen)
		return 0;
	if (n->ln->role == RPK_ROLE_MASTER)
		return 1;
	n->bell_seen = s;
	return 0;
}

/* Link up: look at the peer; take the link down if it left or asked. */
static void watch_live(struct rpk_node *n, int slow)
{
	uint32_t s;

	/* Fast: one load of the session; the rest once a watchdog period. */
	if (!slow && !peer_gone(n, 0))
		return;
	pthread_mutex_lock(&n->life);
	if (!link_live(n)) {
		/* taken down meanwhile */
	} else if (peer_signs_now(n, &s)) {
		n->peer_session = s;
		rpk_node_log(n, "the %s signs its doorbell now: session %u",
			     n->ln->role == RPK_ROLE_MASTER ? "remote" : "master", s);
	} else if (dead_signature(n)) {
		remote_gone(n);
	} else if (n->ln->role == RPK_ROLE_REMOTE) {
		if (peer_gone(n, 1))
			master_gone(n);
		else if (rpk_rpmsg_rings_moved(&n->dev))
			rings_relaid(n);
	} else if (n->peer_session && (rpk_bell_session(n->port.rx) != n->peer_session ||
				       !peer_alive(n, n->peer_session))) {
		remote_gone(n);
	} else {
		check_status(n);
	}
	pthread_mutex_unlock(&n->life);
}

/* Master, link down: attach again once the remote is back. */
static void watch_crashed(struct rpk_node *n)
{
	char err[512];
	uint32_t s;

	if (n->fw_img && !n->opts.no_recovery) {
		pthread_mutex_lock(&n->life);
		if (rpk_node_state(n) == RPK_NODE_CRASHED)
			recover(n);
		pthread_mutex_unlock(&n->life);
		return;
	}
	if (n->opts.no_recovery)
		return;
	pthread_mutex_lock(&n->life);
	if (rpk_node_state(n) == RPK_NODE_CRASHED && table_ready(n, &s)) {
		int rc = attach(n, s, err, sizeof(err));

		/* A bad table: wait for the signer's next session. One that
		 * does not sign changes its table instead: tried again. */
		if (rc && rc != -RPK_EAGAIN && s && rpk_bell_session(n->port.rx) == s) {
			rpk_node_log(n, "cannot attach to session %u: %s", s, err);
			n->bad_session = s;
			n->have_bad = 1;
		}
	}
	pthread_mutex_unlock(&n->life);
}

/* Remote, link down: serve the next master. */
static void watch_detached(struct rpk_node *n)
{
	uint32_t s;

	if (n->ln->role != RPK_ROLE_REMOTE)
		return;
	pthread_mutex_lock(&n->life);
	if (rpk_node_state(n) == RPK_NODE_DETACHED && master_ready(n, &s))
		remote_link_up(n, s);
	pthread_mutex_unlock(&n->life);
}

/*
 * Look at the peer; bring the link down or up as it says. Called often: the
 * fast path is one load of the peer's session. Once a watchdog period (slow)
 * it also reads the shared state, and keeps what we own in it as we wrote
 * it: our bell's signature and the rings' flags.
 */
static void watch(struct rpk_node *n, int force)
{
	uint32_t now = rpk_posix_now_ms();
	int slow = force || now - n->last_watch_ms >= WATCH_MS;

	if (slow) {
		n->last_watch_ms = now;
		if (n->opts.chaos)
			chaos_tick(n, now);
		keep_signature(n);
		publish_stats(n);
	}
	switch (rpk_node_state(n)) {
	case RPK_NODE_ATTACHED:
	case RPK_NODE_RUNNING:
		watch_live(n, slow);
		/* Only on rings of a session that still runs: a master that just
		 * reset them zeroed our flags too. */
		if (slow && link_live(n) && rpk_rpmsg_refresh(&n->dev))
			rpk_node_log(n, "our ring flags were overwritten: written again");
		return;
	case RPK_NODE_CRASHED:
		if (slow)
			watch_crashed(n);
		return;
	case RPK_NODE_DETACHED:
		if (slow || n->ln->role == RPK_ROLE_REMOTE)
			watch_detached(n);
		return;
	default:
		return;
	}
}

int rpk_node_detach(struct rpk_node *n)
{
	int rc = 0;

	pthread_mutex_lock(&n->life);
	if (n->ln->role != RPK_ROLE_MASTER || rpk_node_state(n) != RPK_NODE_ATTACHED) {
		rc = -RPK_EINVAL;
	} else {
		/* Tell the remote first (status reset, then a new session of
		 * ours), so the rings we zero next never look corrupt to a
		 * remote that still believes in the old session. */
		rpk_vdev_write_status(n->vdev, 0, &n->port.port);
		sign_session(n);
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* session seen before zeroed rings */
		rpk_bell_ring(n->port.tx);
		rpk_node_log(n, "detached from the remote of session %u", n->peer_session);
		link_lost(n, RPK_NODE_DETACHED);
	}
	pthread_mutex_unlock(&n->life);
	return rc;
}

int rpk_node_attach(struct rpk_node *n, uint32_t timeout_ms, char *err, size_t errlen)
{
	enum rpk_node_state s = rpk_node_state(n);
	int rc;

	if (n->ln->role != RPK_ROLE_MASTER || (s != RPK_NODE_DETACHED && s != RPK_NODE_CRASHED)) {
		snprintf(err, errlen,
			 "%s: can only attach a detached or crashed remote (it is %s)\n",
			 n->ln->path, rpk_node_state_name(s));
		return -RPK_EINVAL;
	}
	pthread_mutex_lock(&n->life);
	s = rpk_node_state(n);
	rc = s == RPK_NODE_DETACHED || s == RPK_NODE_CRASHED
		 ? wait_and_attach(n, timeout_ms, err, errlen)
		 : 0; /* the event thread re-attached meanwhile */
	pthread_mutex_unlock(&n->life);
	return rc;
}

enum rpk_node_state rpk_node_state(const struct rpk_node *n)
{
	return (enum rpk_node_state)__atomic_load_n(&n->state, __ATOMIC_ACQUIRE);
}

const char *rpk_node_state_name(enum rpk_node_state s)
{
	static const char *const names[] = {"offline", "running", "attached", "detached",
					    "crashed"};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

/* ---- running ---- */

/* Polling mode: the peer does not ring, so watch the rings themselves. */
static int spin_once(struct rpk_node *n, uint32_t timeout_ms)
{
	uint32_t start = rpk_posix_now_ms();

	for (;;) {
		int r = rpk_rpmsg_poll(&n->dev);

		if (r || rpk_posix_now_ms() - start >= timeout_ms)
			return r;
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	}
}

/*
 * Handle what arrived, else sleep on the doorbell for up to timeout_ms and
 * look again. Messages found after a sleep that no doorbell ended came
 * without a kick (or with a ring that did not wake us): the watchdog found
 * them, late. A peer that does that (or memory that lost its flags or our
 * sleepers flag) shows in late_wakeups instead of only as a slow link.
 */
static int poll_or_wait(struct rpk_node *n, uint32_t timeout_ms)
{
	struct rpk_port *p = &n->port.port;
	uint32_t snap;
	int r, w;

	if (n->opts.polling)
		return spin_once(n, timeout_ms);
	snap = p->ops->event_snapshot(p->ctx);
	r = rpk_rpmsg_poll(&n->dev);
	if (r != 0 || !timeout_ms)
		return r;
	w = p->ops->event_wait(p->ctx, snap, timeout_ms);
	r = rpk_rpmsg_poll(&n->dev);
	if (w == -RPK_ETIMEDOUT && r > 0)
		__atomic_add_fetch(&n->late_wakeups, (uint64_t)r, __ATOMIC_RELAXED);
	return r;
}

/* The first region whose object shrank under us, said in msg; 0 if none. */
static int find_shrunk(struct rpk_node *n, char *msg, size_t len)
{
	const struct rpk_shm *shm[RPK_REG_COUNT + 2];
	const struct rpk_region *r[RPK_REG_COUNT + 2];
	int count = 0;
	char name[160];
	size_t size;

	for (int k = 0; k < RPK_REG_COUNT; k++) {
		shm[count] = &n->shm[k];
		r[count++] = region(n, k);
	}
	shm[count] = &n->mbox;
	r[count++] = &n->lay->regions[n->ln->mailbox];
	if (n->fw_shm.va) {
		shm[count] = &n->fw_shm;
		r[count++] = &n->lay->regions[n->ln->firmware];
	}
	for (int i = 0; i < count; i++) {
		if (!rpk_shm_shrunk(shm[i], &size))
			continue;
		rpk_node_shm_name(name, sizeof(name), n->instance, r[i]);
		snprintf(msg, len,
			 "region %s (/dev/shm%s) shrank to %zu bytes under us, the layout gives it "
			 "%llu: the link is gone",
			 r[i]->path, name, size, (unsigned long long)r[i]->size);
		return 1;
	}
	return 0;
}

/* The first failure found is the one said, by any thread. */
static void publish_failure(struct rpk_node *n, const char *msg)
{
	pthread_mutex_lock(&n->fail_mu);
	if (!__atomic_load_n(&n->failed, __ATOMIC_ACQUIRE)) {
		snprintf(n->failure, sizeof(n->failure), "%s", msg);
		__atomic_store_n(&n->failed, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&n->fail_mu);
}

/*
 * A region whose object shrank under us (someone truncated it): the SIGBUS
 * guard absorbed the faults, but the link is gone. Take it down so blocked
 * callers return, and keep saying why. Looked at once a watchdog period, or
 * now (force).
 */
static int regions_shrank(struct rpk_node *n, int force)
{
	uint32_t now = rpk_posix_now_ms();
	char msg[sizeof(n->failure)];

	if (!__atomic_load_n(&n->failed, __ATOMIC_ACQUIRE)) {
		if (!force) { /* the run loop's own clock: other threads force */
			if (now - n->last_size_ms < WATCH_MS)
				return 0;
			n->last_size_ms = now;
		}
		if (!find_shrunk(n, msg, sizeof(msg)))
			return 0;
		publish_failure(n, msg);
	}
	if (!__atomic_load_n(&n->taken_down, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&n->life);
		if (!n->taken_down) {
			if (n->have_device)
				rpk_rpmsg_reset(&n->dev); /* senders and receivers return */
			set_state(n, RPK_NODE_OFFLINE);
			wake_self(n);
			__atomic_store_n(&n->taken_down, 1, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&n->life);
	}
	return -RPK_EIO;
}

/* Never waits for life: a caller may be in a receive callback while
 * another thread holds life and waits for the receive lock. */
const char *rpk_node_error(struct rpk_node *n)
{
	char msg[sizeof(n->failure)];

	if (!__atomic_load_n(&n->failed, __ATOMIC_ACQUIRE) && find_shrunk(n, msg, sizeof(msg)))
		publish_failure(n, msg); /* the run loop takes the link down */
	return __atomic_load_n(&n->failed, __ATOMIC_ACQUIRE) ? n->failure : NULL;
}

static int run_once(struct rpk_node *n, uint32_t timeout_ms)
{
	int r;

	r = regions_shrank(n, 0);
	if (r)
		return r;
	watch(n, 0);
	/* Wake up now and then to look at the peer: a dead one rings no bell. */
	r = poll_or_wait(n, timeout_ms < WATCH_MS ? timeout_ms : WATCH_MS);
	if (r == -RPK_EPIPE && link_live(n)) {
		/* Rings that make no sense: a peer that just went away, or a bad one. */
		watch(n, 1);
		pthread_mutex_lock(&n->life);
		link_broken(n);
		pthread_mutex_unlock(&n->life);
		r = 0;
	} else if (r == 0) {
		watch(n, 0);
	}
	return r;
}

int rpk_node_run_once(struct rpk_node *n, uint32_t timeout_ms)
{
	if (__atomic_load_n(&n->interrupted, __ATOMIC_ACQUIRE))
		return -RPK_EINTR;
	return run_once(n, timeout_ms);
}

/* The event thread serves the link until close: an interrupt is for the
 * application's own waits, not for it. */
static void *event_thread(void *arg)
{
	struct rpk_node *n = arg;

	while (!__atomic_load_n(&n->stop, __ATOMIC_ACQUIRE))
		if (run_once(n, RPK_WAIT_FOREVER) < 0)
			break;
	return NULL;
}

/* The event thread, if the options ask for one and it is not running yet.
 * It keeps the creator's signal mask: what it starts (a booted remote's
 * process) inherits it. */
static int start_thread(struct rpk_node *n)
{
	if (!n->opts.threaded || n->thread_running)
		return 0;
	if (pthread_create(&n->thread, NULL, event_thread, n))
		return -RPK_ENOMEM;
	n->thread_running = 1;
	return 0;
}

void rpk_node_interrupt(struct rpk_node *n)
{
	__atomic_store_n(&n->interrupted, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&n->have_device, __ATOMIC_SEQ_CST))
		rpk_rpmsg_interrupt(&n->dev);
	wake_self(n); /* an atomic add and a futex wake: fine in a signal handler */
}

int rpk_node_interrupted(const struct rpk_node *n)
{
	return __atomic_load_n(&n->interrupted, __ATOMIC_ACQUIRE);
}

int rpk_node_start(struct rpk_node *n, uint32_t timeout_ms, char *err, size_t errlen)
{
	int rc;

	rc = n->ln->role == RPK_ROLE_REMOTE ? start_remote(n, timeout_ms, err, errlen)
					    : start_master(n, timeout_ms, err, errlen);
	return rc ? rc : start_thread(n);
}

void rpk_node_close(struct rpk_node *n)
{
	char name[160];
	int owner; /* the memory is the remote's, or the master's that booted it */

	if (!n)
		return;
	owner = n->ln->role == RPK_ROLE_REMOTE ? !n->opts.booted : n->fw_img != NULL;
	if (n->thread_running) {
		__atomic_store_n(&n->stop, 1, __ATOMIC_RELEASE);
		wake_self(n); /* our own event thread */
		pthread_join(n->thread, NULL);
	}
	if (n->ln->role == RPK_ROLE_MASTER && rpk_node_state(n) == RPK_NODE_ATTACHED)
		rpk_node_detach(n); /* the remote goes on, waiting for a master */
	if (n->fw_img)
		rpk_node_stop(n); /* a remote we booted goes with us */
	if (n->stats.va) {
		rpk_shm_close(&n->stats);
		rpk_node_stats_name(name, sizeof(name), n->instance, n->ln->name);
		rpk_shm_unlink(name);
	}
	for (int k = 0; k < RPK_REG_COUNT; k++) {
		int mapped = n->shm[k].va != NULL; /* never remove what we did not join */

		rpk_shm_close(&n->shm[k]);
		if (owner && mapped) {
			rpk_node_shm_name(name, sizeof(name), n->instance, region(n, k));
			rpk_shm_unlink(name);
		}
	}
	if (n->fw_shm.va) {
		rpk_shm_close(&n->fw_shm);
		if (owner) {
			rpk_node_shm_name(name, sizeof(name), n->instance,
					  &n->lay->regions[n->ln->firmware]);
			rpk_shm_unlink(name);
		}
	}
	if (n->cache) {
		for (int k = 0; k < RPK_REG_COUNT; k++)
			if (n->view[k] != n->shm[k].va)
				free(n->view[k]);
		free(n->cache);
	}
	if (n->port_ready)
		rpk_posix_port_fini(&n->port);
	if (n->mbox.va) {
		rpk_shm_close(&n->mbox);
		if (owner) {
			rpk_node_shm_name(name, sizeof(name), n->instance,
					  &n->lay->regions[n->ln->mailbox]);
			rpk_shm_unlink(name);
		}
	}
	free(n->slots[0]);
	free(n->slots[1]);
	free(n->fw_img);
	pthread_mutex_destroy(&n->life);
	pthread_mutex_destroy(&n->trace_mu);
	pthread_mutex_destroy(&n->pid_mu);
	pthread_mutex_destroy(&n->fail_mu);
	free(n);
}

void rpk_node_unlink_all(const struct rpk_layout *lay, const char *instance)
{
	char name[160];

	for (int i = 0; i < lay->num_regions; i++) {
		rpk_node_shm_name(name, sizeof(name), instance, &lay->regions[i]);
		rpk_shm_unlink(name);
	}
	for (int i = 0; i < lay->num_nodes; i++) { /* counters of nodes that were killed */
		rpk_node_stats_name(name, sizeof(name), instance, lay->nodes[i].name);
		rpk_shm_unlink(name);
	}
}

struct rpk_rpmsg *rpk_node_dev(struct rpk_node *n)
{
	return &n->dev;
}

enum rpk_role rpk_node_role(const struct rpk_node *n)
{
	return n->ln->role;
}

void rpk_node_counts(struct rpk_node *n, struct rpk_node_counts *c)
{
	struct rpk_rpmsg_stats s = {0};

	if (n->have_device)
		rpk_rpmsg_get_stats(&n->dev, &s, NULL);
	c->crashes = __atomic_load_n(&n->crashes, __ATOMIC_RELAXED);
	c->attaches = __atomic_load_n(&n->attaches, __ATOMIC_RELAXED);
	c->tx_lost = s.tx_lost;
	c->broken = __atomic_load_n(&n->broken, __ATOMIC_RELAXED);
	c->reset_asks = __atomic_load_n(&n->reset_asks, __ATOMIC_RELAXED);
	c->link_resets = __atomic_load_n(&n->link_resets, __ATOMIC_RELAXED);
	c->late_wakeups = __atomic_load_n(&n->late_wakeups, __ATOMIC_RELAXED);
	c->tx_msgs = s.tx_msgs;
	c->rx_msgs = s.rx_msgs;
	c->tx_kicks = s.tx_kicks + s.rx_kicks;
	c->rx_wakeups = __atomic_load_n(&n->port.wakeups, __ATOMIC_RELAXED);
}
