/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A node: opening one side of a link (its regions mapped, its rpmsg device
 * set up), closing it, and what every part of it reads.
 */
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rpk/errno.h>

#include "node/node_internal.h"

void rpk_node_shm_name(char *buf, size_t len, const char *instance, const struct rpk_region *r)
{
	snprintf(buf, len, "/rpk-%s-%s", instance, r->name);
}

static int map_region(struct rpk_node *n, struct rpk_shm *shm, const struct rpk_region *r,
		      char *err, size_t errlen)
{
	char name[160], why[1024];
	int rc;

	if (n->opts.memory_file) {
		if (r->da < n->opts.memory_base) {
			snprintf(err, errlen,
				 "%s: at 0x%llx, below the memory file's base 0x%llx\n", r->path,
				 (unsigned long long)r->da,
				 (unsigned long long)n->opts.memory_base);
			return -RPK_EINVAL;
		}
		rc = rpk_file_open_at(shm, n->opts.memory_file, r->da - n->opts.memory_base,
				      r->size, n->group, why, sizeof(why));
	} else {
		rpk_node_shm_name(name, sizeof(name), n->instance, r);
		rc = rpk_shm_open(shm, name, r->size, n->group, why, sizeof(why));
	}
	if (!rc)
		return 0;
	snprintf(err, errlen, "%s: %s\n", r->path, why);
	/* RPK_E* values are Linux's errno values: keep the ones we name. */
	return rc == -EACCES || rc == -EINVAL || rc == -ENOMEM || rc == -ENOENT ? rc : -RPK_EIO;
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
	if (n->peer_pool.va) {
		n->peer_view = aligned_alloc(4096, (n->peer_pool.size + 4095) & ~(size_t)4095);
		if (!n->peer_view)
			return -RPK_ENOMEM;
		rpk_sim_cache_add(n->cache, n->peer_view, n->peer_pool.va, n->peer_pool.size);
	}
	return 0;
}

int rpk_node_open(struct rpk_node **out, const struct rpk_layout *lay, const char *name,
		  const struct rpk_node_opts *opts, char *err, size_t errlen)
{
	const struct rpk_layout_node *ln = rpk_layout_find(lay, name);
	struct rpk_node *n;
	struct rpk_bell *bells;
	int rc = 0;

	if (!ln) {
		snprintf(err, errlen, "no link node named '%s' in the devicetree\n", name);
		return -RPK_ENOENT;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return -RPK_ENOMEM;
	n->lay = lay;
	n->ln = ln;
	n->stream_bell.fd = -1;
	n->ivshmem.sock = -1;
	n->link_hash = rpk_layout_link_hash(lay, ln);
	pthread_mutexattr_t ma;

	/* Recursive: unbind callbacks run under it and may ask for counts. */
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&n->life, &ma);
	pthread_mutexattr_destroy(&ma);
	pthread_mutex_init(&n->trace_mu, NULL);
	pthread_mutex_init(&n->pid_mu, NULL);
	pthread_mutex_init(&n->fail_mu, NULL);
	pthread_mutex_init(&n->observers_mu, NULL);
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
	n->mbox.fd = n->stats.fd = n->fw_shm.fd = n->msgs.shm.fd = n->peer_pool.fd = -1;
	n->group = RPK_NO_GROUP;
	if (n->opts.single_thread && n->opts.threaded) {
		snprintf(err, errlen, "a single-threaded node runs no event thread\n");
		rc = -RPK_EINVAL;
		goto fail;
	}
	if (n->opts.group && rpk_group_lookup(n->opts.group, &n->group, err, errlen)) {
		snprintf(err, errlen, "no group named '%s' to share the link with\n",
			 n->opts.group);
		rc = -RPK_EINVAL;
		goto fail;
	}

	for (int k = 0; k < RPK_REG_COUNT && !rc; k++)
		rc = map_region(n, &n->shm[k], &lay->regions[ln->region[k]], err, errlen);
	if (!rc)
		rc = map_region(n, &n->mbox, &lay->regions[ln->mailbox], err, errlen);
	if (!rc && ln->firmware >= 0)
		rc = map_region(n, &n->fw_shm, &lay->regions[ln->firmware], err, errlen);
	if (!rc && ln->peer_buffer >= 0)
		rc = map_region(n, &n->peer_pool, &lay->regions[ln->peer_buffer], err, errlen);
	if (rc)
		goto fail;

	rpk_node_shm_name(n->mbox_name, sizeof(n->mbox_name), n->instance,
			  &lay->regions[ln->mailbox]);
	if (!n->opts.memory_file)
		snprintf(n->link_object, sizeof(n->link_object), "/dev/shm%s", n->mbox_name);
	else if (!realpath(n->opts.memory_file, n->link_object))
		n->link_object[0] = 0; /* mapped above, so it was there: no peer is verified */
	for (int k = 0; k < RPK_REG_COUNT; k++)
		n->view[k] = n->shm[k].va;
	n->peer_view = n->peer_pool.va;
	rc = n->opts.noncoherent ? simulate_caches(n, err, errlen) : 0;
	if (rc)
		goto fail;
	bells = n->mbox.va;
	rpk_posix_port_init(&n->port,
			    (struct rpk_bell *)((char *)bells + ln->tx_chan * RPK_BELL_STRIDE),
			    (struct rpk_bell *)((char *)bells + ln->rx_chan * RPK_BELL_STRIDE),
			    n->opts.polling, n->cache);
	n->port.adaptive = n->opts.adaptive;
	if (n->opts.single_thread)
		rpk_posix_port_single_thread(&n->port);
	n->port_ready = 1;
	if (n->opts.doorbell_socket) {
		rc = rpk_stream_bell_open(&n->stream_bell, n->opts.doorbell_socket, n->port.rx, err,
					  errlen);
		if (rc)
			goto fail;
		n->port.ext = &n->stream_bell.ext;
	} else if (n->opts.ivshmem_socket) {
		/* Our mailbox channels are the vectors: rx is the one the peer
		 * rings us on, tx the one we ring. */
		rc = rpk_ivshmem_peer_open(&n->ivshmem, n->opts.ivshmem_socket, ln->rx_chan,
					   ln->tx_chan, n->port.rx, err, errlen);
		if (rc)
			goto fail;
		n->port.ext = &n->ivshmem.ext;
	}
	n->own_win.da = lay->regions[ln->region[RPK_REG_BUFFER]].da;
	n->own_win.size = lay->regions[ln->region[RPK_REG_BUFFER]].size;
	n->own_win.va = n->view[RPK_REG_BUFFER];
	n->own_mem.win = &n->own_win;
	n->own_mem.count = 1;
	if (ln->peer_buffer >= 0) {
		n->buf_win.da = lay->regions[ln->peer_buffer].da;
		n->buf_win.size = lay->regions[ln->peer_buffer].size;
		n->buf_win.va = n->peer_view;
	} else {
		n->buf_win = n->own_win;
	}
	n->buf_mem.win = &n->buf_win;
	n->buf_mem.count = 1;
	node_open_stats(n);
	msgtrace_writer_open(&n->msgs, n->instance, ln->name, n->group);
	/* The remote knows its rings from the devicetree and can take endpoints
	 * at once; the master learns them from the table in rpk_node_start(). */
	if (ln->role == RPK_ROLE_REMOTE)
		rc = node_init_device(n, ln->vring_num, ln->vring_align, err, errlen);
	if (rc)
		goto fail;
	*out = n;
	return 0;
fail:
	rpk_node_close(n);
	return rc;
}

const struct rpk_region *node_region(const struct rpk_node *n, int k)
{
	return &n->lay->regions[n->ln->region[k]];
}

void *node_rsc_shared(const struct rpk_node *n)
{
	return (char *)n->view[RPK_REG_RSC] + node_region(n, RPK_REG_RSC)->rsc_offset;
}

/* Set up the rpmsg device over rings of num entries with this alignment. */
int node_init_device(struct rpk_node *n, uint32_t num, uint32_t align, char *err, size_t errlen)
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
	    .bufs_mem = &n->own_mem,
	    .buf_size = n->ln->buf_size,
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
	rc = n->ln->buffers == RPK_BUFFERS_SYMMETRIC ? rpk_rpmsg_init_symmetric(&n->dev, &cfg)
						     : rpk_rpmsg_init(&n->dev, &cfg);
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

uint8_t node_vdev_status(struct rpk_node *n)
{
	return rpk_vdev_read_status(n->vdev, &n->port.port);
}

int node_driver_ok(struct rpk_node *n)
{
	return node_vdev_status(n) & RPK_VIRTIO_STATUS_DRIVER_OK;
}

void node_set_state(struct rpk_node *n, enum rpk_node_state s)
{
	__atomic_store_n(&n->state, (int)s, __ATOMIC_RELEASE);
}

/* The link is up: attached to a remote that booted by itself, or running one we booted. */
int node_link_live(const struct rpk_node *n)
{
	enum rpk_node_state s = rpk_node_state(n);

	return s == RPK_NODE_ATTACHED || s == RPK_NODE_RUNNING;
}

/* Wake our own sleepers (blocked senders, the event thread) to see a change. */
void node_wake_self(struct rpk_node *n)
{
	rpk_bell_ring(n->port.rx);
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

uint32_t node_features(void)
{
	const char *off = getenv("RPK_NO_EVENT_IDX");

	if (off && !strcmp(off, "1"))
		return SUPPORTED_FEATURES & ~(1u << RPK_VIRTIO_RING_F_EVENT_IDX);
	return SUPPORTED_FEATURES;
}

/* The peer's pid from its bell, while we still map the mailbox; 0 if it
 * does not sign or the mailbox shrank under us (nothing is read there). */
static uint32_t peer_pid_now(struct rpk_node *n)
{
	size_t size;

	if (!n->port_ready || rpk_shm_shrunk(&n->mbox, &size))
		return 0;
	return __atomic_load_n(&n->port.rx->pid, __ATOMIC_RELAXED);
}

/*
 * Whether to remove the link's objects as we leave. The memory stays while
 * either side maps it, as physical memory does: a remote that stops while
 * its master maps the link leaves it, so the remote's next start joins the
 * same objects and the master sees its new table (removed, they would be
 * new objects the master never looks at). The last side to leave removes
 * it: a master, too, when the remote it saw on the link is gone (a pid
 * forged into the bell proves nothing). Each side looks after
 * it unmapped, so of two leaving at once the later sees the other gone.
 */
static int remove_link_memory(struct rpk_node *n, uint32_t peer, int owner)
{
	int verified; /* seen mapping the link before: not a pid forged into the bell */
	int maps = peer && rpk_pid_alive(peer) ? rpk_pid_maps(peer, n->mbox_name) : 0;

	if (maps == 1)
		return 0;
	pthread_mutex_lock(&n->pid_mu);
	verified = peer && peer == n->checked_pid && n->checked_ok;
	pthread_mutex_unlock(&n->pid_mu);
	/* Gone, or alive but no longer mapping it (leaving with us). */
	if (verified && n->ln->role == RPK_ROLE_MASTER && maps == 0)
		return 1;
	return owner;
}

void rpk_node_close(struct rpk_node *n)
{
	char name[160];
	int owner; /* the memory is the remote's, or the master's that booted it */
	int mapped[RPK_REG_COUNT], fw_mapped, mbox_mapped, peer_pool_mapped;
	uint32_t peer;

	if (!n)
		return;
	owner = n->ln->role == RPK_ROLE_REMOTE ? !n->opts.booted : n->fw_img != NULL;
	if (n->thread_running) {
		__atomic_store_n(&n->stop, 1, __ATOMIC_RELEASE);
		node_wake_self(n); /* our own event thread */
		pthread_join(n->thread, NULL);
	}
	if (n->ln->role == RPK_ROLE_MASTER && rpk_node_state(n) == RPK_NODE_ATTACHED)
		rpk_node_detach(n); /* the remote goes on, waiting for a master */
	if (n->fw_img)
		rpk_node_stop(n); /* a remote we booted goes with us */
	peer = peer_pid_now(n);
	if (__atomic_load_n(&n->have_device, __ATOMIC_SEQ_CST))
		rpk_rpmsg_set_tap(&n->dev, NULL, NULL); /* no thread moves messages now */
	msgtrace_writer_close(&n->msgs);
	/* After the last kick (the detach's), before the mailbox it rings goes. */
	rpk_stream_bell_close(&n->stream_bell);
	rpk_ivshmem_peer_close(&n->ivshmem);
	if (n->stats.va) {
		rpk_shm_close(&n->stats);
		rpk_node_stats_name(name, sizeof(name), n->instance, n->ln->name);
		rpk_shm_unlink(name);
	}
	for (int k = 0; k < RPK_REG_COUNT; k++) {
		mapped[k] = n->shm[k].va != NULL; /* never remove what we did not join */
		rpk_shm_close(&n->shm[k]);
	}
	fw_mapped = n->fw_shm.va != NULL;
	if (fw_mapped)
		rpk_shm_close(&n->fw_shm);
	peer_pool_mapped = n->peer_pool.va != NULL;
	if (n->cache) {
		for (int k = 0; k < RPK_REG_COUNT; k++)
			if (n->view[k] != n->shm[k].va)
				free(n->view[k]);
		if (n->peer_view != n->peer_pool.va)
			free(n->peer_view);
		free(n->cache);
	}
	if (peer_pool_mapped)
		rpk_shm_close(&n->peer_pool);
	if (n->port_ready)
		rpk_posix_port_fini(&n->port);
	mbox_mapped = n->mbox.va != NULL;
	if (mbox_mapped)
		rpk_shm_close(&n->mbox);
	/* An emulator's RAM file is the emulator's, not ours to remove. */
	if (!n->opts.memory_file && remove_link_memory(n, peer, owner)) {
		for (int k = 0; k < RPK_REG_COUNT; k++)
			if (mapped[k]) {
				rpk_node_shm_name(name, sizeof(name), n->instance,
						  node_region(n, k));
				rpk_shm_unlink(name);
			}
		if (fw_mapped) {
			rpk_node_shm_name(name, sizeof(name), n->instance,
					  &n->lay->regions[n->ln->firmware]);
			rpk_shm_unlink(name);
		}
		if (peer_pool_mapped) {
			rpk_node_shm_name(name, sizeof(name), n->instance,
					  &n->lay->regions[n->ln->peer_buffer]);
			rpk_shm_unlink(name);
		}
		if (mbox_mapped) {
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
	pthread_mutex_destroy(&n->observers_mu);
	free(n);
}

void rpk_node_unlink_observers(const char *instance, const char *node)
{
	char name[160];

	rpk_node_stats_name(name, sizeof(name), instance, node);
	rpk_shm_unlink(name);
	msgtrace_name(name, sizeof(name), instance, node);
	rpk_shm_unlink(name);
}

void rpk_node_unlink_all(const struct rpk_layout *lay, const char *instance)
{
	char name[160];

	for (int i = 0; i < lay->num_regions; i++) {
		rpk_node_shm_name(name, sizeof(name), instance, &lay->regions[i]);
		rpk_shm_unlink(name);
	}
	for (int i = 0; i < lay->num_nodes; i++) /* pages of nodes that were killed */
		rpk_node_unlink_observers(instance, lay->nodes[i].name);
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
