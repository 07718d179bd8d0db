/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPMsg device: message path in both roles. Endpoints come from the
 * endpoint table (ept_table.h), announcements from the name service
 * (nameservice.h).
 *
 * Buffer ownership, by role:
 *  - master: buffer i of each pool half is tied to descriptor i of its queue,
 *    so a buffer pointer gives its descriptor by arithmetic. Receive buffers
 *    are posted once and re-posted after use; transmit buffers are taken from
 *    free descriptors and come back through the used ring.
 *  - remote: buffers are the master's; the descriptor index of a buffer we
 *    keep (held receive, reserved transmit) is stashed in its header's
 *    reserved field and checked against the queue's own record before use.
 *
 * Lock order: RX, then EPT, then TX. Receive callbacks run under RX and EPT.
 */
#include <rpk/errno.h>
#include <rpk/rpmsg.h>

#include "common/shm.h"
#include "rpmsg/dev.h"
#include "rpmsg/ept_table.h"
#include "rpmsg/nameservice.h"

_Static_assert(sizeof(struct rpk_rpmsg_hdr) == 16, "rpmsg header is 16 bytes on the wire");

static int is_master(const struct rpk_rpmsg *dev)
{
	return dev->role == RPK_ROLE_MASTER;
}

static struct rpk_rpmsg_hdr *hdr_of(void *payload)
{
	return (struct rpk_rpmsg_hdr *)((char *)payload - RPK_RPMSG_HDR_SIZE);
}

/* Index of a master pool buffer in its half, or -1 if hdr is not one. */
static int pool_index(const struct rpk_rpmsg *dev, const char *half, const void *hdr)
{
	uintptr_t off;

	if ((const char *)hdr < half)
		return -1;
	off = (uintptr_t)((const char *)hdr - half);
	if (off % dev->buf_size || off / dev->buf_size >= dev->nbufs)
		return -1;
	return (int)(off / dev->buf_size);
}

/* ---- setup ---- */

static int check_cfg(const struct rpk_rpmsg_cfg *cfg)
{
	uint32_t buf_size = cfg->buf_size ? cfg->buf_size : RPK_RPMSG_BUF_SIZE;

	if (!cfg->port || !cfg->port->ops || !cfg->mem)
		return -RPK_EINVAL;
	if (!cfg->buckets || !cfg->num_buckets || (cfg->num_buckets & (cfg->num_buckets - 1)))
		return -RPK_EINVAL;
	if (cfg->role != RPK_ROLE_MASTER && cfg->role != RPK_ROLE_REMOTE)
		return -RPK_EINVAL;
	/* With caches to maintain, buffers own whole lines: invalidating one
	 * must not drop a neighbour's data. */
	uintptr_t align = cfg->port->ops->cache_invalidate ? RPK_CACHE_LINE - 1 : 7u;

	if (cfg->role == RPK_ROLE_MASTER &&
	    (!cfg->bufs || ((uintptr_t)cfg->bufs & align) || (buf_size & align) ||
	     buf_size <= RPK_RPMSG_HDR_SIZE || buf_size > 0xffffu + RPK_RPMSG_HDR_SIZE))
		return -RPK_EINVAL;
	/* Likewise the used ring (the device writes it) must not share a line
	 * with the avail ring (the driver writes it), or one side's write-back
	 * carries a stale copy of the other's index: messages are lost or
	 * delivered twice (tests/unit/test_cache_sim.c). A legacy ring puts the
	 * used ring at the first multiple of align after the avail ring. */
	if ((cfg->vring[0] || cfg->vring[1]) && cfg->port->ops->cache_invalidate &&
	    cfg->align < RPK_CACHE_LINE)
		return -RPK_EINVAL;
	return 0;
}

static int init_queues(struct rpk_rpmsg *dev, const struct rpk_rpmsg_cfg *cfg)
{
	for (int q = 0; q < 2; q++) {
		struct rpk_vq_cfg vc = {
		    .role = cfg->role == RPK_ROLE_MASTER ? RPK_VQ_DRIVER : RPK_VQ_DEVICE,
		    .ring = cfg->vring[q],
		    .parts = cfg->parts[q],
		    .num = cfg->num,
		    .align = cfg->align,
		    .slots = cfg->slots[q],
		    .mem = cfg->mem,
		    .port = cfg->port,
		    .notify_id = cfg->notify_id[q],
		};
		int err = rpk_vq_init(&dev->vq[q], &vc);

		if (err)
			return err;
	}
	/* Queue 0 carries remote->master, queue 1 master->remote. */
	dev->rvq = &dev->vq[is_master(dev) ? 0 : 1];
	dev->svq = &dev->vq[is_master(dev) ? 1 : 0];
	return 0;
}

/*
 * Tie descriptor i to buffer i: reserve every descriptor, then free (send
 * side) or post (receive side) the first nbufs of them. Descriptors beyond
 * nbufs stay reserved and unused, as Linux uses at most 256 per direction.
 */
static int init_master_pool(struct rpk_rpmsg *dev)
{
	for (uint32_t i = 0; i < dev->svq->num; i++) {
		rpk_vq_alloc_desc(dev->svq);
		rpk_vq_alloc_desc(dev->rvq);
	}
	for (uint32_t i = dev->nbufs; i-- > 0;)
		rpk_vq_free_desc(dev->svq, (uint16_t)i);
	for (uint32_t i = 0; i < dev->nbufs; i++) {
		int err = rpk_vq_post(dev->rvq, (uint16_t)i, dev->rbufs + i * dev->buf_size,
				      dev->buf_size, 1);
		if (err)
			return err;
	}
	/* Like Linux, we don't want "tx complete" interrupts unless a sender waits. */
	rpk_vq_disable_cb(dev->svq);
	return 0;
}

int rpk_rpmsg_init(struct rpk_rpmsg *dev, const struct rpk_rpmsg_cfg *cfg)
{
	int err = check_cfg(cfg);

	if (err)
		return err;
	__builtin_memset(dev, 0, sizeof(*dev));
	dev->role = (uint8_t)cfg->role;
	dev->port = cfg->port;
	err = init_queues(dev, cfg);
	if (err)
		return err;

	dev->buf_size = cfg->buf_size ? cfg->buf_size : RPK_RPMSG_BUF_SIZE;
	dev->nbufs = cfg->num < RPK_RPMSG_MAX_BUFS / 2 ? cfg->num : RPK_RPMSG_MAX_BUFS / 2;
	dev->tx_cap = dev->buf_size - RPK_RPMSG_HDR_SIZE;
	dev->buckets = cfg->buckets;
	dev->bucket_mask = cfg->num_buckets - 1;
	for (uint32_t i = 0; i < cfg->num_buckets; i++)
		dev->buckets[i] = 0;
	dev->services = cfg->services;
	dev->num_services = cfg->services ? cfg->num_services : 0;
	for (uint32_t i = 0; i < dev->num_services; i++)
		dev->services[i].addr = RPK_ADDR_ANY;
	dev->ns_bind = cfg->ns_bind;
	dev->ns_priv = cfg->ns_priv;
	dev->recheck_ms = cfg->recheck_ms;
	dev->next_addr = RPK_RESERVED_ADDRESSES;

	if (is_master(dev)) {
		dev->rbufs = cfg->bufs;
		dev->sbufs = dev->rbufs + (size_t)dev->nbufs * dev->buf_size;
		return init_master_pool(dev);
	}
	return 0;
}

static int link_up(const struct rpk_rpmsg *dev)
{
	return __atomic_load_n(&dev->up, __ATOMIC_ACQUIRE);
}

void rpk_rpmsg_get_stats(struct rpk_rpmsg *dev, struct rpk_rpmsg_stats *s,
			 struct rpk_vq_stats vq[2])
{
	rpk_dev_lock(dev, RPK_LOCK_RX);
	rpk_dev_lock(dev, RPK_LOCK_EPT);
	rpk_dev_lock(dev, RPK_LOCK_TX);
	*s = dev->stats;
	if (vq) {
		vq[0] = dev->vq[0].stats;
		vq[1] = dev->vq[1].stats;
	}
	rpk_dev_unlock(dev, RPK_LOCK_TX);
	rpk_dev_unlock(dev, RPK_LOCK_EPT);
	rpk_dev_unlock(dev, RPK_LOCK_RX);
}

int rpk_rpmsg_is_up(const struct rpk_rpmsg *dev)
{
	return link_up(dev);
}

static void apply_polling(struct rpk_rpmsg *dev)
{
	if (is_master(dev)) {
		if (dev->polling)
			rpk_vq_disable_cb(dev->rvq);
		else
			rpk_vq_enable_cb(dev->rvq);
	} else {
		if (dev->polling)
			rpk_vq_disable_notify(dev->rvq);
		else
			rpk_vq_enable_notify(dev->rvq);
	}
}

int rpk_rpmsg_start(struct rpk_rpmsg *dev, uint32_t features)
{
	rpk_dev_lock(dev, RPK_LOCK_RX);
	rpk_dev_lock(dev, RPK_LOCK_EPT);
	rpk_dev_lock(dev, RPK_LOCK_TX);
	dev->features = features;
	if (features & (1u << RPK_VIRTIO_RPMSG_F_NS))
		rpk_ns_start(dev);
	if (is_master(dev)) {
		/* Our receive buffers are posted: tell the remote. */
		if (rpk_vq_kick_prepare(dev->rvq))
			rpk_dev_kick(dev, dev->rvq);
	} else {
		/* The master has just laid the rings out: nothing we cached of
		 * them before may go back to memory with our first write. */
		rpk_vq_forget_ring(dev->rvq);
		rpk_vq_forget_ring(dev->svq);
		/* We need no kick for new transmit buffers unless a sender waits. */
		rpk_vq_disable_notify(dev->svq);
	}
	if (dev->polling)
		apply_polling(dev);
	__atomic_store_n(&dev->up, 1, __ATOMIC_RELEASE);
	rpk_dev_unlock(dev, RPK_LOCK_TX);
	rpk_dev_unlock(dev, RPK_LOCK_EPT);
	rpk_dev_unlock(dev, RPK_LOCK_RX);
	rpk_ns_flush(dev);
	return 0;
}

static void reclaim_tx(struct rpk_rpmsg *dev);

/* Master: drop what the remote had, repost receive buffers nobody holds. */
/* Master: both rings zeroed, receive buffers nobody holds posted again. */
static void lay_out_master_rings(struct rpk_rpmsg *dev)
{
	struct rpk_vq *s = dev->svq, *r = dev->rvq;

	rpk_vq_reset(s);
	rpk_vq_reset(r);
	/* Held receive buffers (user set) stay out until released. */
	for (uint32_t i = 0; i < dev->nbufs; i++)
		if (rpk_vq_slot_state(r, i) == RPK_SLOT_RESERVED && !r->slots[i].user)
			rpk_vq_post(r, (uint16_t)i, dev->rbufs + (size_t)i * dev->buf_size,
				    dev->buf_size, 1);
	rpk_vq_disable_cb(s);
	if (dev->polling) /* before the remote can look: no kick for its first message */
		rpk_vq_disable_cb(r);
}

int rpk_rpmsg_lay_out(struct rpk_rpmsg *dev)
{
	int rc = 0;

	rpk_dev_lock(dev, RPK_LOCK_RX);
	rpk_dev_lock(dev, RPK_LOCK_TX);
	if (!is_master(dev) || dev->up)
		rc = -RPK_EBUSY;
	else
		lay_out_master_rings(dev);
	rpk_dev_unlock(dev, RPK_LOCK_TX);
	rpk_dev_unlock(dev, RPK_LOCK_RX);
	return rc;
}

static void reset_master_queues(struct rpk_rpmsg *dev)
{
	struct rpk_vq *s = dev->svq, *r = dev->rvq;

	reclaim_tx(dev); /* what the remote did consume is not lost */
	for (uint32_t i = 0; i < s->num; i++)
		if (s->slots[i].state == RPK_SLOT_POSTED) {
			s->slots[i].user = 1; /* sent, never consumed: lost */
			dev->stats.tx_lost++;
			dev->stats.bufs_recovered++;
		}
	for (uint32_t i = 0; i < r->num; i++)
		dev->stats.bufs_recovered += r->slots[i].state == RPK_SLOT_POSTED;
	lay_out_master_rings(dev);
	for (uint32_t i = 0; i < s->num; i++)
		if (s->slots[i].user) {
			s->slots[i].user = 0;
			rpk_vq_free_desc(s, (uint16_t)i);
		}
}

void rpk_rpmsg_reset(struct rpk_rpmsg *dev)
{
	rpk_dev_lock(dev, RPK_LOCK_RX);
	rpk_dev_lock(dev, RPK_LOCK_EPT);
	rpk_dev_lock(dev, RPK_LOCK_TX);
	__atomic_store_n(&dev->up, 0, __ATOMIC_RELEASE);
	dev->epoch++;
	dev->stats.resets++;
	__atomic_store_n(&dev->broken, 0, __ATOMIC_RELAXED);
	if (is_master(dev)) {
		reset_master_queues(dev);
	} else {
		for (uint32_t i = 0; i < dev->rvq->num; i++) /* the master's, held by us */
			dev->stats.bufs_recovered += (dev->rvq->slots[i].state == RPK_SLOT_HELD) +
						     (dev->svq->slots[i].state == RPK_SLOT_HELD);
		rpk_vq_reset(dev->rvq);
		rpk_vq_reset(dev->svq);
		/* The spare list is gone: so are its marks, or a head the master
		 * offers again would look spare to remote_tx_head(). */
		for (uint32_t i = 0; i < dev->svq->num; i++)
			dev->svq->slots[i].user = 0;
		dev->num_spare = 0;
		dev->tx_cap = dev->buf_size - RPK_RPMSG_HDR_SIZE;
	}
	rpk_ns_reset_locked(dev);
	rpk_dev_unlock(dev, RPK_LOCK_TX);
	rpk_ept_run_unbinds(dev);
	rpk_dev_unlock(dev, RPK_LOCK_EPT);
	rpk_dev_unlock(dev, RPK_LOCK_RX);
}

/* Under RX then TX: each queue's records move with its own sends and
 * returns, and an invalidate must not cross a publish not yet cleaned. */
static int both_queues(struct rpk_rpmsg *dev, int (*check)(struct rpk_vq *), int all)
{
	int a, b;

	rpk_dev_lock(dev, RPK_LOCK_RX);
	rpk_dev_lock(dev, RPK_LOCK_TX);
	a = check(&dev->vq[0]);
	b = check(&dev->vq[1]);
	rpk_dev_unlock(dev, RPK_LOCK_TX);
	rpk_dev_unlock(dev, RPK_LOCK_RX);
	return all ? a && b : a || b;
}

int rpk_rpmsg_rings_reset(struct rpk_rpmsg *dev)
{
	return both_queues(dev, rpk_vq_laid_out_anew, 1);
}

int rpk_rpmsg_rings_moved(struct rpk_rpmsg *dev)
{
	return both_queues(dev, rpk_vq_used_moved, 0);
}

static void forgive_queue(struct rpk_rpmsg *dev, struct rpk_vq *vq, enum rpk_lock lock)
{
	rpk_dev_lock(dev, lock);
	rpk_vq_forgive_break(vq);
	rpk_dev_unlock(dev, lock);
}

void rpk_rpmsg_forgive_break(struct rpk_rpmsg *dev)
{
	forgive_queue(dev, dev->rvq, RPK_LOCK_RX);
	forgive_queue(dev, dev->svq, RPK_LOCK_TX);
}

/* Atomics: each queue's flag changes under that queue's lock, and a reset
 * clears them under all. */
static int check_broken(struct rpk_rpmsg *dev)
{
	if (__atomic_load_n(&dev->vq[0].broken, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&dev->vq[1].broken, __ATOMIC_RELAXED))
		__atomic_store_n(&dev->broken, 1, __ATOMIC_RELAXED);
	return __atomic_load_n(&dev->broken, __ATOMIC_RELAXED) ? -RPK_EPIPE : 0;
}

/* ---- receive ---- */

/*
 * Hand one received buffer to its endpoint. len is what the peer says the
 * buffer holds (used length or descriptor length), already bounded by the
 * buffer's real size by the virtqueue layer.
 */
static void dispatch(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr *hdr, uint32_t len)
{
	struct rpk_ept *ept;
	uint32_t src, dst;
	uint16_t msg_len;

	dev->rx_held = 0;
	if (len < RPK_RPMSG_HDR_SIZE || ((uintptr_t)hdr & 3u)) {
		dev->stats.rx_bad_len++;
		return;
	}
	src = read_once32(&hdr->src);
	dst = read_once32(&hdr->dst);
	msg_len = read_once16(&hdr->len);
	if (msg_len > len - RPK_RPMSG_HDR_SIZE) {
		dev->stats.rx_bad_len++;
		return;
	}

	rpk_dev_lock(dev, RPK_LOCK_EPT);
	ept = rpk_ept_lookup_locked(dev, dst);
	if (!ept || !ept->cb) {
		dev->stats.rx_no_ept++;
	} else {
		dev->rx_cur = hdr;
		dev->stats.rx_msgs++;
		ept->cb(ept, hdr + 1, msg_len, src, ept->priv);
		dev->rx_cur = 0;
	}
	rpk_dev_unlock(dev, RPK_LOCK_EPT);
}

/* Give a consumed receive buffer back to the peer. */
static int recycle_rx(struct rpk_rpmsg *dev, uint16_t head)
{
	if (is_master(dev))
		return rpk_vq_post(dev->rvq, head, dev->rbufs + (size_t)head * dev->buf_size,
				   dev->buf_size, 1);
	return rpk_vq_add_used_read(dev->rvq, head);
}

/* Take the next received buffer: 1 with hdr, len and head set, 0 none, <0 error. */
static int next_rx(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr **hdr, uint32_t *len, uint16_t *head)
{
	struct rpk_vq_buf b;
	void *buf;
	int r;

	if (is_master(dev)) {
		r = rpk_vq_get_used(dev->rvq, head, &buf, len);
		*hdr = buf;
		return r;
	}
	r = rpk_vq_get_avail(dev->rvq, 0, &b);
	if (r == 1 && b.len > dev->buf_size) { /* counted as a bad buffer by the caller */
		rpk_vq_add_used_read(dev->rvq, b.head);
		return -RPK_EMSGSIZE;
	}
	if (r == 1) {
		*hdr = b.va;
		*len = b.len;
		*head = b.head;
	}
	return r;
}

/* After a batch: tell the peer its buffers are back, if it wants to know. */
static void notify_rx_done(struct rpk_rpmsg *dev)
{
	int want = is_master(dev) ? rpk_vq_kick_prepare(dev->rvq) : rpk_vq_need_interrupt(dev->rvq);
	if (want)
		rpk_dev_kick(dev, dev->rvq);
}

int rpk_rpmsg_poll(struct rpk_rpmsg *dev)
{
	struct rpk_rpmsg_hdr *hdr = 0;
	uint32_t len = 0;
	uint16_t head = 0;
	int n = 0, r = 0;

	if (!link_up(dev))
		return 0;
	rpk_dev_lock(dev, RPK_LOCK_RX);
	if (!dev->up) { /* reset meanwhile */
		rpk_dev_unlock(dev, RPK_LOCK_RX);
		return 0;
	}
	/* At most one ring's worth per call, so a peer that keeps publishing
	 * junk cannot keep us here: the rest waits for the next poll. */
	for (uint32_t budget = dev->rvq->num; budget && (r = next_rx(dev, &hdr, &len, &head)) != 0;
	     budget--) {
		if (r == -RPK_EPIPE)
			break; /* the queue counted it: an index jump */
		if (r < 0) {
			dev->stats.rx_bad_buf++;
			continue;
		}
		n++;
		dispatch(dev, hdr, len);
		if (!dev->rx_held)
			recycle_rx(dev, head);
		else if (is_master(dev))
			dev->rvq->slots[head].user = 1; /* held: kept out of the ring by a reset */
	}
	if (n || r < 0)
		notify_rx_done(dev);
	rpk_dev_unlock(dev, RPK_LOCK_RX);

	if (__atomic_load_n(&dev->ns_pending, __ATOMIC_RELAXED)) /* a hint: checked under lock */
		rpk_ns_flush(dev);
	r = check_broken(dev);
	return r ? r : n;
}

int rpk_rpmsg_refresh(struct rpk_rpmsg *dev)
{
	int fixed;

	rpk_dev_lock(dev, RPK_LOCK_RX);
	rpk_dev_lock(dev, RPK_LOCK_TX);
	/* Down, the rings are the master's to lay out again: hands off. */
	fixed = dev->up ? rpk_vq_restore_flags(dev->rvq) + rpk_vq_restore_flags(dev->svq) : 0;
	dev->stats.flags_fixed += (uint32_t)fixed;
	rpk_dev_unlock(dev, RPK_LOCK_TX);
	rpk_dev_unlock(dev, RPK_LOCK_RX);
	return fixed;
}

void rpk_rpmsg_set_polling(struct rpk_rpmsg *dev, int polling)
{
	rpk_dev_lock(dev, RPK_LOCK_RX);
	dev->polling = (uint8_t) !!polling;
	/* The master's rings are its own from init on, so the peer sees the
	 * flag from its first look; a remote's only once the link is up
	 * (rpk_rpmsg_start applies it). */
	if (is_master(dev) || dev->up)
		apply_polling(dev);
	rpk_dev_unlock(dev, RPK_LOCK_RX);
}

int rpk_rpmsg_pending(struct rpk_rpmsg *dev)
{
	return link_up(dev) && rpk_vq_pending(dev->rvq) != 0;
}

int rpk_hold_rx_buffer(struct rpk_rpmsg *dev, void *data)
{
	struct rpk_rpmsg_hdr *hdr = hdr_of(data);

	if (!dev->rx_cur || hdr != dev->rx_cur)
		return -RPK_EINVAL;
	dev->rx_held = 1;
	return 0;
}

/* Master: descriptor of a pool buffer we keep (it is RESERVED), or -1. */
static int master_kept_head(struct rpk_rpmsg *dev, struct rpk_vq *vq, const void *hdr,
			    const char *pool_half)
{
	int i = pool_index(dev, pool_half, hdr);

	if (i < 0 || rpk_vq_slot_state(vq, (uint32_t)i) != RPK_SLOT_RESERVED)
		return -1;
	return i;
}

/*
 * Remote: descriptor of a held receive buffer. Found by a scan of our own
 * records, since the buffer is the master's and read-only to us: we may not
 * stash anything in it.
 */
static int remote_rx_head(struct rpk_rpmsg *dev, const void *hdr)
{
	struct rpk_vq *vq = dev->rvq;

	for (uint32_t h = 0; h < vq->num; h++)
		if (vq->slots[h].state == RPK_SLOT_HELD && vq->slots[h].buf == hdr)
			return (int)h;
	return -1;
}

/*
 * Remote: descriptor of a transmit buffer the caller holds. Those buffers are
 * ours to write, so the head is stashed in the header's reserved field; it is
 * read once and must match the queue's own record of that descriptor.
 */
static int remote_tx_head(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr *hdr)
{
	uint32_t head = read_once32(&hdr->reserved);

	if (rpk_vq_slot_buf(dev->svq, head, RPK_SLOT_HELD) != hdr || dev->svq->slots[head].user)
		return -1;
	return (int)head;
}

int rpk_release_rx_buffer(struct rpk_rpmsg *dev, void *data)
{
	struct rpk_rpmsg_hdr *hdr = hdr_of(data);
	int head, err;

	rpk_dev_lock(dev, RPK_LOCK_RX);
	/* While its callback runs, a held buffer is not yet ours to give back. */
	if (hdr == dev->rx_cur)
		head = -1;
	else if (is_master(dev))
		head = master_kept_head(dev, dev->rvq, hdr, dev->rbufs);
	else
		head = remote_rx_head(dev, hdr);
	if (head >= 0 && is_master(dev))
		dev->rvq->slots[head].user = 0;
	err = head < 0 ? -RPK_EINVAL : recycle_rx(dev, (uint16_t)head);
	if (!err)
		notify_rx_done(dev);
	rpk_dev_unlock(dev, RPK_LOCK_RX);
	return err;
}

/* ---- transmit ---- */

/* Master: take back every transmit buffer the remote has consumed. */
static void reclaim_tx(struct rpk_rpmsg *dev)
{
	uint16_t head;
	uint32_t len;
	void *buf;
	int r;

	for (uint32_t budget = dev->svq->num;
	     budget && (r = rpk_vq_get_used(dev->svq, &head, &buf, &len)) != 0; budget--) {
		if (r == -RPK_EPIPE)
			return;
		if (r < 0) {
			dev->stats.tx_bad_buf++;
			continue;
		}
		rpk_vq_free_desc(dev->svq, head);
	}
}

/* Payload room of a remote transmit buffer; a u16 carries the length. */
static uint32_t payload_cap(uint32_t buf_len)
{
	uint32_t cap = buf_len - RPK_RPMSG_HDR_SIZE;

	return cap > 0xffffu ? 0xffffu : cap;
}

static int pop_spare(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr **hdr, uint16_t *head,
		     uint32_t *cap)
{
	uint16_t h = dev->spare_head;

	if (!dev->num_spare)
		return 0;
	dev->spare_head = dev->svq->slots[h].next_free;
	dev->svq->slots[h].user = 0;
	dev->num_spare--;
	*head = h;
	*hdr = dev->svq->slots[h].buf;
	*cap = payload_cap(dev->svq->slots[h].len);
	return 1;
}

static void push_spare(struct rpk_rpmsg *dev, uint16_t head)
{
	dev->svq->slots[head].next_free = dev->spare_head;
	dev->svq->slots[head].user = 1; /* spare: not the caller's any more */
	dev->spare_head = head;
	dev->num_spare++;
}

/* One attempt to get a transmit buffer; 0 or -RPK_EAGAIN / -RPK_EPIPE. */
static int try_get_tx(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr **hdr, uint16_t *head,
		      uint32_t *cap)
{
	struct rpk_vq_buf b;
	int r;

	if (is_master(dev)) {
		if (!dev->svq->num_free)
			reclaim_tx(dev);
		r = rpk_vq_alloc_desc(dev->svq);
		if (r < 0)
			return r == -RPK_ENOSPC ? -RPK_EAGAIN : r;
		*head = (uint16_t)r;
		*hdr = (struct rpk_rpmsg_hdr *)(dev->sbufs + (size_t)r * dev->buf_size);
		*cap = dev->buf_size - RPK_RPMSG_HDR_SIZE;
		return 0;
	}
	if (pop_spare(dev, hdr, head, cap))
		return 0;
	for (uint32_t budget = dev->svq->num;
	     budget && (r = rpk_vq_get_avail(dev->svq, 1, &b)) != 0; budget--) {
		if (r == -RPK_EPIPE)
			return r;
		if (r < 0) {
			dev->stats.tx_bad_buf++;
			continue;
		}
		if (b.len <= RPK_RPMSG_HDR_SIZE || b.len > dev->buf_size ||
		    ((uintptr_t)b.va & 3u)) {
			/* Too small for a message, longer than a buffer, or
			 * misaligned for the header. */
			dev->stats.tx_bad_buf++;
			rpk_vq_add_used(dev->svq, b.head, 0);
			continue;
		}
		*head = b.head;
		*hdr = b.va;
		*cap = payload_cap(b.len);
		dev->tx_cap = *cap;
		return 0;
	}
	return -RPK_EAGAIN;
}

/* Ask the peer to kick us when transmit buffers come back; 1 if some already did. */
static int tx_wait_begin(struct rpk_rpmsg *dev)
{
	if (dev->tx_waiters++)
		return 0;
	return is_master(dev) ? rpk_vq_enable_cb(dev->svq) : rpk_vq_enable_notify(dev->svq);
}

static void tx_wait_end(struct rpk_rpmsg *dev)
{
	if (--dev->tx_waiters)
		return;
	if (is_master(dev))
		rpk_vq_disable_cb(dev->svq);
	else
		rpk_vq_disable_notify(dev->svq);
}

static uint32_t now_ms(const struct rpk_port *port)
{
	return port->ops->now_ms ? port->ops->now_ms(port->ctx) : 0;
}

/*
 * Sleep until the peer kicks, the recheck period passes (*unkicked set: look
 * again without a kick) or the deadline passes. Called with TX held, returns
 * with TX held. 0 to try again, -RPK_ETIMEDOUT when time is up.
 */
static int tx_sleep(struct rpk_rpmsg *dev, uint32_t snapshot, uint32_t start, uint32_t timeout_ms,
		    int *unkicked)
{
	const struct rpk_port *port = dev->port;
	uint32_t left = timeout_ms, wait;
	int err;

	if (!port->ops->event_wait)
		return -RPK_ETIMEDOUT;
	if (timeout_ms != RPK_WAIT_FOREVER) {
		uint32_t spent = now_ms(port) - start;

		if (spent >= timeout_ms)
			return -RPK_ETIMEDOUT;
		left = timeout_ms - spent;
	}
	wait = dev->recheck_ms && dev->recheck_ms < left ? dev->recheck_ms : left;
	rpk_dev_unlock(dev, RPK_LOCK_TX);
	err = port->ops->event_wait(port->ctx, snapshot, wait);
	rpk_dev_lock(dev, RPK_LOCK_TX);
	*unkicked = err == -RPK_ETIMEDOUT;
	return err == -RPK_ETIMEDOUT && wait == left ? err : 0;
}

/* Get a transmit buffer, waiting up to timeout_ms. Called and returns with TX held. */
static int get_tx(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr **hdr, uint16_t *head, uint32_t *cap,
		  uint32_t timeout_ms)
{
	const struct rpk_port *port = dev->port;
	uint32_t start = 0, snapshot = 0, epoch = dev->epoch;
	int waiting = 0, unkicked = 0, err;

	if (timeout_ms != RPK_NO_WAIT)
		start = now_ms(port);
	for (;;) {
		/* A reset while we slept (the peer we waited for is gone), or a
		 * broken ring. */
		if (dev->epoch != epoch || !dev->up || check_broken(dev)) {
			err = -RPK_EPIPE;
			break;
		}
		if (port->ops->event_snapshot)
			snapshot = port->ops->event_snapshot(port->ctx);
		err = try_get_tx(dev, hdr, head, cap);
		if (!err && unkicked)
			dev->stats.tx_late++; /* back without a kick: found by looking again */
		if (err != -RPK_EAGAIN || timeout_ms == RPK_NO_WAIT)
			break;
		if (__atomic_load_n(&dev->interrupted, __ATOMIC_RELAXED)) {
			err = -RPK_EINTR;
			break;
		}
		if (!waiting) {
			waiting = 1;
			tx_wait_begin(dev);
			continue; /* buffers may have come back before the flag was seen */
		}
		err = tx_sleep(dev, snapshot, start, timeout_ms, &unkicked);
		if (err) {
			/* One last look: a kick may have raced with the deadline. */
			if (try_get_tx(dev, hdr, head, cap) == 0)
				err = 0;
			break;
		}
	}
	if (waiting)
		tx_wait_end(dev);
	return err;
}

/* Publish a filled transmit buffer. Called with TX held. */
static int publish_tx(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr *hdr, uint16_t head, uint32_t src,
		      uint32_t dst, size_t len)
{
	uint32_t total = RPK_RPMSG_HDR_SIZE + (uint32_t)len;
	int err, want;

	hdr->src = src;
	hdr->dst = dst;
	hdr->reserved = 0;
	hdr->len = (uint16_t)len;
	hdr->flags = 0;
	if (is_master(dev)) {
		err = rpk_vq_post(dev->svq, head, hdr, total, 0);
		want = !err && rpk_vq_kick_prepare(dev->svq);
	} else {
		err = rpk_vq_add_used(dev->svq, head, total);
		want = !err && rpk_vq_need_interrupt(dev->svq);
	}
	if (err)
		return err;
	dev->stats.tx_msgs++;
	if (want)
		rpk_dev_kick(dev, dev->svq);
	return 0;
}

/* Give an unsent transmit buffer back. Called with TX held. */
static void unget_tx(struct rpk_rpmsg *dev, uint16_t head)
{
	if (is_master(dev))
		rpk_vq_free_desc(dev->svq, head);
	else
		push_spare(dev, head);
}

int rpk_send_offchannel_raw(struct rpk_rpmsg *dev, uint32_t src, uint32_t dst, const void *data,
			    size_t len, uint32_t timeout_ms)
{
	struct rpk_rpmsg_hdr *hdr;
	uint32_t cap;
	uint16_t head;
	int err;

	if (src == RPK_ADDR_ANY || dst == RPK_ADDR_ANY || !link_up(dev))
		return -RPK_ENOTCONN;
	if (len > 0xffffu || (len && !data))
		return len > 0xffffu ? -RPK_EMSGSIZE : -RPK_EINVAL;

	rpk_dev_lock(dev, RPK_LOCK_TX);
	err = get_tx(dev, &hdr, &head, &cap, timeout_ms);
	if (!err && len > cap) {
		unget_tx(dev, head);
		err = -RPK_EMSGSIZE;
	}
	if (!err) {
		if (len) /* data may be NULL for an empty message */
			__builtin_memcpy(hdr + 1, data, len);
		err = publish_tx(dev, hdr, head, src, dst, len);
	}
	rpk_dev_unlock(dev, RPK_LOCK_TX);
	return err;
}

int rpk_get_tx_buffer(struct rpk_rpmsg *dev, void **buf, uint32_t *size, uint32_t timeout_ms)
{
	struct rpk_rpmsg_hdr *hdr;
	uint32_t cap;
	uint16_t head;
	int err;

	if (!link_up(dev))
		return -RPK_ENOTCONN;
	rpk_dev_lock(dev, RPK_LOCK_TX);
	err = get_tx(dev, &hdr, &head, &cap, timeout_ms);
	if (!err) {
		if (!is_master(dev))
			write_once32(&hdr->reserved, head);
		*buf = hdr + 1;
		*size = cap;
	}
	rpk_dev_unlock(dev, RPK_LOCK_TX);
	return err;
}

/* Descriptor of a transmit buffer the caller holds, or -1. Called with TX held. */
static int tx_head(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr *hdr)
{
	return is_master(dev) ? master_kept_head(dev, dev->svq, hdr, dev->sbufs)
			      : remote_tx_head(dev, hdr);
}

int rpk_send_nocopy(struct rpk_ept *ept, uint32_t dst, void *buf, size_t len)
{
	struct rpk_rpmsg *dev = ept->dev;
	struct rpk_rpmsg_hdr *hdr = hdr_of(buf);
	int head, err;

	if (dst == RPK_ADDR_ANY)
		return -RPK_ENOTCONN;
	rpk_dev_lock(dev, RPK_LOCK_TX);
	head = tx_head(dev, hdr);
	if (head < 0)
		err = -RPK_EINVAL;
	else if (!dev->up)
		err = -RPK_ENOTCONN; /* the buffer stays the caller's */
	else if (check_broken(dev))
		err = -RPK_EPIPE; /* like every other send; the buffer stays the caller's */
	else if (len > (is_master(dev) ? dev->buf_size - RPK_RPMSG_HDR_SIZE
				       : payload_cap(dev->svq->slots[head].len)))
		err = -RPK_EMSGSIZE;
	else
		err = publish_tx(dev, hdr, (uint16_t)head, ept->addr, dst, len);
	rpk_dev_unlock(dev, RPK_LOCK_TX);
	return err;
}

int rpk_release_tx_buffer(struct rpk_rpmsg *dev, void *buf)
{
	int head;

	rpk_dev_lock(dev, RPK_LOCK_TX);
	head = tx_head(dev, hdr_of(buf));
	if (head >= 0)
		unget_tx(dev, (uint16_t)head);
	rpk_dev_unlock(dev, RPK_LOCK_TX);
	return head < 0 ? -RPK_EINVAL : 0;
}

void rpk_rpmsg_interrupt(struct rpk_rpmsg *dev)
{
	__atomic_store_n(&dev->interrupted, 1, __ATOMIC_RELAXED);
}

uint32_t rpk_max_payload(const struct rpk_rpmsg *dev)
{
	return dev->tx_cap;
}
