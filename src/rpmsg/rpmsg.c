/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPMsg device: the message path and the link's life, in either role.
 *
 * What differs between the roles (whose buffers, which half of the
 * virtqueue) is behind dev->ops (role.h: master.c, remote.c); this file calls
 * it only through that table, so it references neither role's code. Endpoints
 * come from the endpoint table (ept_table.h), announcements from the name
 * service (nameservice.h).
 *
 * Lock order: RX, then EPT, then TX. Receive callbacks run under RX and EPT.
 */
#include <rpk/errno.h>
#include <rpk/rpmsg.h>

#include "common/shm.h"
#include "rpmsg/dev.h"
#include "rpmsg/ept_table.h"
#include "rpmsg/nameservice.h"
#include "rpmsg/role.h"
#include "rpmsg/tap.h"

_Static_assert(sizeof(struct rpk_rpmsg_hdr) == 16, "rpmsg header is 16 bytes on the wire");

static struct rpk_rpmsg_hdr *hdr_of(void *payload)
{
	return (struct rpk_rpmsg_hdr *)((char *)payload - RPK_RPMSG_HDR_SIZE);
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
	return rpk_dev_link_up(dev);
}

/* Whether the peer kicks us for new messages: not in polling mode. */
static void apply_polling(struct rpk_rpmsg *dev)
{
	dev->ops->want_kicks(dev->rvq, !dev->polling);
}

int rpk_rpmsg_start(struct rpk_rpmsg *dev, uint32_t features)
{
	int event_idx = !!(features & (1u << RPK_VIRTIO_RING_F_EVENT_IDX));

	/* The peer would wait for kicks we never decide to give. */
	if (event_idx && !dev->set_event_idx)
		return -RPK_ENOTSUP;
	rpk_dev_lock(dev, RPK_LOCK_RX);
	rpk_dev_lock(dev, RPK_LOCK_EPT);
	rpk_dev_lock(dev, RPK_LOCK_TX);
	dev->features = features;
	if (features & (1u << RPK_VIRTIO_RPMSG_F_NS))
		rpk_ns_start(dev);
	if (dev->set_event_idx) {
		dev->set_event_idx(dev->rvq, event_idx);
		dev->set_event_idx(dev->svq, event_idx);
	}
	dev->ops->start(dev);
	if (dev->polling)
		apply_polling(dev);
	else
		rpk_vq_rearm(dev->rvq); /* what came before we looked is polled for anyway */
	__atomic_store_n(&dev->up, 1, __ATOMIC_RELEASE);
	rpk_dev_unlock(dev, RPK_LOCK_TX);
	rpk_dev_unlock(dev, RPK_LOCK_EPT);
	rpk_dev_unlock(dev, RPK_LOCK_RX);
	rpk_ns_flush(dev);
	return 0;
}

int rpk_rpmsg_lay_out(struct rpk_rpmsg *dev)
{
	int rc = 0;

	rpk_dev_lock(dev, RPK_LOCK_RX);
	rpk_dev_lock(dev, RPK_LOCK_TX);
	if (!dev->ops->lay_out || dev->up)
		rc = -RPK_EBUSY;
	else
		dev->ops->lay_out(dev);
	rpk_dev_unlock(dev, RPK_LOCK_TX);
	rpk_dev_unlock(dev, RPK_LOCK_RX);
	return rc;
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
	dev->ops->reset(dev);
	rpk_ns_reset_locked(dev);
	rpk_dev_unlock(dev, RPK_LOCK_TX);
	rpk_ept_run_unbinds(dev);
	rpk_dev_unlock(dev, RPK_LOCK_EPT);
	rpk_dev_unlock(dev, RPK_LOCK_RX);
}

/* Under RX then TX: each queue's records move with its own sends and
 * returns, and an invalidate must not cross a publish not yet cleaned.
 * These are the device's questions about the driver's rings: a queue we
 * drive ourselves (a symmetric side's send queue) answers for all, not any. */
static int both_queues(struct rpk_rpmsg *dev, int (*check)(struct rpk_vq *), int all)
{
	int a, b;

	rpk_dev_lock(dev, RPK_LOCK_RX);
	rpk_dev_lock(dev, RPK_LOCK_TX);
	a = dev->vq[0].role == RPK_VQ_DEVICE ? check(&dev->vq[0]) : all;
	b = dev->vq[1].role == RPK_VQ_DEVICE ? check(&dev->vq[1]) : all;
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
 * clears them under all. The common case, nothing broken, in one test. */
static int mark_broken(struct rpk_rpmsg *dev)
{
	__atomic_store_n(&dev->broken, 1, __ATOMIC_RELAXED);
	return -RPK_EPIPE;
}

static inline int check_broken(struct rpk_rpmsg *dev)
{
	if (__builtin_expect(!(__atomic_load_n(&dev->vq[0].broken, __ATOMIC_RELAXED) |
			       __atomic_load_n(&dev->vq[1].broken, __ATOMIC_RELAXED) |
			       __atomic_load_n(&dev->broken, __ATOMIC_RELAXED)),
			     1))
		return 0;
	return mark_broken(dev);
}

/* ---- receive ---- */

/*
 * Hand one received buffer to its endpoint (RX and EPT held). len is what the peer says the
 * buffer holds (used length or descriptor length), already bounded by the
 * buffer's real size by the virtqueue layer.
 */
static void dispatch(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr *hdr, uint32_t len)
{
	struct rpk_ept *ept;
	rpk_tap_cb tap;
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
	tap = __atomic_load_n(&dev->tap, __ATOMIC_ACQUIRE);
	if (tap)
		rpk_tap_rx(dev, tap, hdr, src, dst, msg_len);

	ept = rpk_ept_lookup_locked(dev, dst);
	if (!ept || !ept->cb) {
		dev->stats.rx_no_ept++;
	} else {
		dev->rx_cur = hdr;
		dev->stats.rx_msgs++;
		ept->cb(ept, hdr + 1, msg_len, src, ept->priv);
		dev->rx_cur = 0;
	}
}

/* After a batch, published: tell the peer its buffers are back, if it
 * wants to know. */
static void notify_rx_done(struct rpk_rpmsg *dev)
{
	if (dev->ops->kick_wanted(dev->rvq))
		rpk_dev_kick(dev, dev->rvq);
}

int rpk_rpmsg_poll(struct rpk_rpmsg *dev)
{
	struct rpk_vq_buf b;
	int n = 0, r = 0;

	if (!rpk_dev_link_up(dev))
		return 0;
	rpk_dev_lock(dev, RPK_LOCK_RX);
	if (!dev->up) { /* reset meanwhile */
		rpk_dev_unlock(dev, RPK_LOCK_RX);
		return 0;
	}
	/* One lock round for the batch. */
	rpk_dev_lock(dev, RPK_LOCK_EPT);
	/* At most one ring's worth per call, so a peer that keeps publishing
	 * junk cannot keep us here: the rest waits for the next poll. */
	/* What the peer had published when we last read its index, and no
	 * more: one that comes later comes with a kick (or the caller polls
	 * again), so the batch ends without another look at the ring. */
	for (uint32_t budget = dev->rvq->num; budget && (r = dev->ops->next_rx(dev, &b)) != 0;
	     budget--) {
		if (r == -RPK_EPIPE)
			break; /* the queue counted it: an index jump */
		if (r < 0) {
			dev->stats.rx_bad_buf++;
		} else {
			n++;
			dispatch(dev, b.va, b.len);
			if (!dev->rx_held)
				dev->ops->recycle_rx(dev, b.head);
			else if (dev->ops->hold_rx)
				dev->ops->hold_rx(dev, b.head);
		}
		/* All we saw: with event indices, ask for the next kick, and
		 * take what came before the peer could see that. */
		if (!rpk_vq_known_pending(dev->rvq) &&
		    !(dev->rvq->event_idx && rpk_vq_rearm(dev->rvq)))
			break;
		/* More to come: where callbacks cannot wait (dev->batch_rx),
		 * the rest goes back in one index update. */
		if (dev->batch_rx)
			rpk_vq_batch(dev->rvq, 1);
	}
	rpk_vq_batch(dev->rvq, 0); /* published before the kick is decided */
	rpk_dev_unlock(dev, RPK_LOCK_EPT);
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
	if (dev->ops->owns_rings || dev->up)
		apply_polling(dev);
	rpk_dev_unlock(dev, RPK_LOCK_RX);
}

int rpk_rpmsg_pending(struct rpk_rpmsg *dev)
{
	return rpk_dev_link_up(dev) && rpk_vq_pending(dev->rvq) != 0;
}

int rpk_hold_rx_buffer(struct rpk_rpmsg *dev, void *data)
{
	struct rpk_rpmsg_hdr *hdr = hdr_of(data);

	if (!dev->rx_cur || hdr != dev->rx_cur)
		return -RPK_EINVAL;
	dev->rx_held = 1;
	return 0;
}

int rpk_release_rx_buffer(struct rpk_rpmsg *dev, void *data)
{
	struct rpk_rpmsg_hdr *hdr = hdr_of(data);
	int head, err;

	rpk_dev_lock(dev, RPK_LOCK_RX);
	/* While its callback runs, a held buffer is not yet ours to give back. */
	if (hdr == dev->rx_cur)
		head = -1;
	else
		head = dev->ops->rx_head(dev, hdr);
	err = head < 0 ? -RPK_EINVAL : dev->ops->recycle_rx(dev, (uint16_t)head);
	if (!err) {
		/* From a callback inside a batch: the peer is told only of
		 * what it can see. */
		if (dev->rvq->batching)
			rpk_vq_publish(dev->rvq);
		notify_rx_done(dev);
	}
	rpk_dev_unlock(dev, RPK_LOCK_RX);
	return err;
}

/* ---- transmit ---- */

/* Ask the peer to kick us when transmit buffers come back; 1 if some already did. */
static int tx_wait_begin(struct rpk_rpmsg *dev)
{
	if (dev->tx_waiters++)
		return 0;
	return dev->ops->want_kicks(dev->svq, 1);
}

static void tx_wait_end(struct rpk_rpmsg *dev)
{
	if (--dev->tx_waiters)
		return;
	dev->ops->want_kicks(dev->svq, 0);
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
static int get_tx_waiting(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr **hdr, uint16_t *head,
			  uint32_t *cap, uint32_t timeout_ms)
{
	const struct rpk_port *port = dev->port;
	uint32_t start = now_ms(port), snapshot = 0, epoch = dev->epoch;
	int waiting = 0, unkicked = 0, rearmed = 0, err;

	for (;;) {
		/* A reset while we slept (the peer we waited for is gone), or a
		 * broken ring. */
		if (dev->epoch != epoch || !dev->up || check_broken(dev)) {
			err = -RPK_EPIPE;
			break;
		}
		if (port->ops->event_snapshot)
			snapshot = port->ops->event_snapshot(port->ctx);
		err = dev->ops->try_get_tx(dev, hdr, head, cap);
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
		/* An event index is good for one kick: ask again before each sleep,
		 * and look again if buffers came meanwhile; but once between two
		 * sleeps, so the deadline (checked in tx_sleep) holds against a
		 * peer that keeps offering buffers we cannot use. */
		if (dev->svq->event_idx && !rearmed && dev->ops->want_kicks(dev->svq, 1)) {
			rearmed = 1;
			continue;
		}
		rearmed = 0;
		err = tx_sleep(dev, snapshot, start, timeout_ms, &unkicked);
		if (err) {
			/* One last look: a kick may have raced with the deadline. */
			if (dev->ops->try_get_tx(dev, hdr, head, cap) == 0)
				err = 0;
			break;
		}
	}
	if (waiting)
		tx_wait_end(dev);
	return err;
}

/* A transmit buffer: at once if one is free (the common case, kept short),
 * else waiting up to timeout_ms. Called with TX held. */
static int get_tx(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr **hdr, uint16_t *head, uint32_t *cap,
		  uint32_t timeout_ms)
{
	int err;

	if (!dev->up || check_broken(dev))
		return -RPK_EPIPE;
	err = dev->ops->try_get_tx(dev, hdr, head, cap);
	if (err != -RPK_EAGAIN || timeout_ms == RPK_NO_WAIT)
		return err;
	/* The waiting loop tries again after taking the event snapshot, so a
	 * buffer given back between this try and the sleep is not missed. */
	return get_tx_waiting(dev, hdr, head, cap, timeout_ms);
}

/* Publish a filled and sealed transmit buffer. Called with TX held. */
static int publish_tx(struct rpk_rpmsg *dev, struct rpk_rpmsg_hdr *hdr, uint16_t head, size_t len)
{
	int err = dev->ops->post_tx(dev, head, hdr, RPK_RPMSG_HDR_SIZE + (uint32_t)len);

	if (err)
		return err;
	dev->stats.tx_msgs++;
	if (dev->ops->kick_wanted(dev->svq))
		rpk_dev_kick(dev, dev->svq);
	return 0;
}

/* A send that found no free buffer at once and may wait for one. Called
 * with TX held. */
static int send_waiting(struct rpk_rpmsg *dev, const struct rpk_out *m, uint32_t timeout_ms)
{
	struct rpk_rpmsg_hdr *hdr;
	uint32_t cap;
	uint16_t head;
	int err = get_tx_waiting(dev, &hdr, &head, &cap, timeout_ms);

	if (err)
		return err;
	if (m->len > cap) {
		dev->ops->unget_tx(dev, head);
		return -RPK_EMSGSIZE;
	}
	rpk_dev_fill(dev, hdr, m);
	return publish_tx(dev, hdr, head, m->len);
}

/* The arguments of a send, checked: 0 or its error. */
static int check_send(const struct rpk_rpmsg *dev, const struct rpk_out *m, size_t len)
{
	if (m->src == RPK_ADDR_ANY || m->dst == RPK_ADDR_ANY || !rpk_dev_link_up(dev))
		return -RPK_ENOTCONN;
	if (len > 0xffffu || (len && !m->data))
		return len > 0xffffu ? -RPK_EMSGSIZE : -RPK_EINVAL;
	return 0;
}

/* A free buffer, filled and published in one call. Called with TX held. */
static int try_send_locked(struct rpk_rpmsg *dev, const struct rpk_out *m)
{
	if (!dev->up || check_broken(dev))
		return -RPK_EPIPE;
	return dev->ops->send(dev, m);
}

/* No waiting here: an image that only tries (a constant RPK_NO_WAIT in
 * rpk_send() and its kin) links none of the waiting code. A send that may
 * wait starts with this very try. */
int rpk_trysend_offchannel(struct rpk_rpmsg *dev, uint32_t src, uint32_t dst, const void *data,
			   size_t len)
{
	struct rpk_out m = {.src = src, .dst = dst, .data = data, .len = (uint32_t)len};
	int err = check_send(dev, &m, len);

	if (err)
		return err;
	rpk_dev_lock(dev, RPK_LOCK_TX);
	err = try_send_locked(dev, &m);
	rpk_dev_unlock(dev, RPK_LOCK_TX);
	return err;
}

int rpk_send_offchannel_raw(struct rpk_rpmsg *dev, uint32_t src, uint32_t dst, const void *data,
			    size_t len, uint32_t timeout_ms)
{
	struct rpk_out m = {.src = src, .dst = dst, .data = data, .len = (uint32_t)len};
	int err = rpk_trysend_offchannel(dev, src, dst, data, len);

	if (err != -RPK_EAGAIN || timeout_ms == RPK_NO_WAIT)
		return err;
	/* No buffer free: wait for one. The waiting loop checks the link and
	 * looks again after its event snapshot, so neither a reset nor a
	 * buffer given back since the try is missed. */
	rpk_dev_lock(dev, RPK_LOCK_TX);
	err = send_waiting(dev, &m, timeout_ms);
	rpk_dev_unlock(dev, RPK_LOCK_TX);
	return err;
}

int rpk_get_tx_buffer(struct rpk_rpmsg *dev, void **buf, uint32_t *size, uint32_t timeout_ms)
{
	struct rpk_rpmsg_hdr *hdr;
	uint32_t cap;
	uint16_t head;
	int err;

	if (!rpk_dev_link_up(dev))
		return -RPK_ENOTCONN;
	rpk_dev_lock(dev, RPK_LOCK_TX);
	err = get_tx(dev, &hdr, &head, &cap, timeout_ms);
	if (!err) {
		/* Where the remote finds its descriptor again (its tx_head):
		 * the buffer is the master's. Harmless in the master's own. */
		write_once32(&hdr->reserved, head);
		*buf = hdr + 1;
		*size = cap;
	}
	rpk_dev_unlock(dev, RPK_LOCK_TX);
	return err;
}

int rpk_send_nocopy(struct rpk_ept *ept, uint32_t dst, void *buf, size_t len)
{
	struct rpk_rpmsg *dev = ept->dev;
	struct rpk_rpmsg_hdr *hdr = hdr_of(buf);
	int head, err;

	if (dst == RPK_ADDR_ANY)
		return -RPK_ENOTCONN;
	rpk_dev_lock(dev, RPK_LOCK_TX);
	head = dev->ops->tx_head(dev, hdr);
	if (head < 0)
		err = -RPK_EINVAL;
	else if (!dev->up)
		err = -RPK_ENOTCONN; /* the buffer stays the caller's */
	else if (check_broken(dev))
		err = -RPK_EPIPE; /* like every other send; the buffer stays the caller's */
	else if (len > dev->ops->tx_room(dev, (uint16_t)head))
		err = -RPK_EMSGSIZE;
	else {
		rpk_dev_seal(dev, hdr, ept->addr, dst, len);
		err = publish_tx(dev, hdr, (uint16_t)head, len);
	}
	rpk_dev_unlock(dev, RPK_LOCK_TX);
	return err;
}

int rpk_release_tx_buffer(struct rpk_rpmsg *dev, void *buf)
{
	int head;

	rpk_dev_lock(dev, RPK_LOCK_TX);
	head = dev->ops->tx_head(dev, hdr_of(buf));
	if (head >= 0)
		dev->ops->unget_tx(dev, (uint16_t)head);
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
