/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Remote: waiting for a master, serving it, and what the remote does when the
 * link falls (DEVICE_NEEDS_RESET).
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

/*
 * A master we may serve: it reset us since the link fell (we saw DRIVER_OK
 * gone, or the DEVICE_NEEDS_RESET we set cleared by a whole new status),
 * then set DRIVER_OK, and both rings were laid out anew. A session number
 * alone proves nothing (anyone can write one), and a master that runs a
 * session we cannot join (it did not reset us) is asked for a reset.
 */
int node_master_ready(struct rpk_node *n, uint32_t *session)
{
	/* The status first: a master signs its session before DRIVER_OK. */
	uint8_t st = node_vdev_status(n);

	*session = rpk_bell_session(n->port.rx);
	if (n->ln->static_link && node_master_refused(n))
		return n->refused = 1; /* said; a start gives up, a running link waits */
	n->refused = 0;
	if (!(st & RPK_VIRTIO_STATUS_DRIVER_OK)) {
		n->saw_reset = 1;
		if (n->ln->buffers == RPK_BUFFERS_SYMMETRIC)
			node_ack_ring(n, *session);
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
	node_ask_for_reset(n, n->saw_reset ? "the master did not lay the rings out anew"
					   : "the master runs a session we did not see start");
	return 0;
}

/* Remote: the master of session s finished its handshake; bring the link up. */
int node_remote_link_up(struct rpk_node *n, uint32_t s)
{
	uint32_t features;

	if (n->refused)
		return -RPK_EPROTO;

	n->peer_session = s;
	n->bell_seen = rpk_bell_session(n->port.rx);
	n->saw_reset = 0;
	n->need_reset = 0;
	features = rpk_vdev_read_gfeatures(n->vdev, &n->port.port) & node_features();
	rpk_rpmsg_start(&n->dev, features);
	__atomic_add_fetch(&n->attaches, 1, __ATOMIC_RELAXED);
	node_set_state(n, RPK_NODE_ATTACHED);
	if (s)
		rpk_node_log(n, "master attached (session %u), features 0x%x", s, features);
	else
		rpk_node_log(n,
			     "master attached (it does not sign its doorbell: liveness "
			     "unknown), features 0x%x",
			     features);
	return 0;
}

int node_start_remote(struct rpk_node *n, uint32_t timeout_ms, char *err, size_t errlen)
{
	uint32_t s;
	int rc;

	pthread_mutex_lock(&n->life);
	rc = n->opts.booted ? node_take_installed_table(n, err, errlen)
			    : node_publish_table(n, err, errlen);
	if (rc) {
		pthread_mutex_unlock(&n->life);
		return rc;
	}
	node_set_state(n, RPK_NODE_DETACHED);
	/* The table's status was 0 when it was laid out: a DRIVER_OK from now
	 * on is a master's that took this table and laid its rings out. */
	n->saw_reset = 1;
	rc = node_wait_for(n, node_master_ready, timeout_ms, &s);
	if (rc == -RPK_EINTR)
		snprintf(err, errlen, "%s: interrupted while waiting for a master\n", n->ln->path);
	else if (rc)
		snprintf(err, errlen, "%s: no master set DRIVER_OK within %u ms\n", n->ln->path,
			 timeout_ms);
	else if (n->refused)
		rc = node_refusal(n, err, errlen);
	else
		rc = node_remote_link_up(n, s);
	pthread_mutex_unlock(&n->life);
	return rc;
}

/*
 * Remote: the link fell without the master resetting it (its rings broke,
 * or its process looks dead). Tell it through the status, as a virtio device
 * does (DEVICE_NEEDS_RESET), stop touching the rings, and wait for a reset:
 * a master that lives answers with one (Linux's ignores the bit: it resets
 * when it restarts), a dead one is replaced by one that resets anyway.
 * Called with life held.
 */
void node_ask_for_reset(struct rpk_node *n, const char *why)
{
	uint8_t st = node_vdev_status(n);

	n->asked_used = !rpk_rpmsg_rings_reset(&n->dev);
	if (node_link_live(n))
		node_link_lost(n, RPK_NODE_DETACHED);
	n->need_reset = 1;
	n->saw_reset = 0;
	rpk_vdev_write_status(n->vdev, (uint8_t)(st | RPK_VIRTIO_STATUS_NEEDS_RESET),
			      &n->port.port);
	rpk_bell_ring(n->port.tx);
	__atomic_add_fetch(&n->reset_asks, 1, __ATOMIC_RELAXED);
	rpk_node_log(n, "link down: %s; asked the master for a reset (status 0x%02x)", why,
		     (unsigned)(st | RPK_VIRTIO_STATUS_NEEDS_RESET));
}

/* Remote: the master reset the link; we wait for its DRIVER_OK. Life held. */
static void reset_by_master(struct rpk_node *n, const char *how)
{
	n->need_reset = 0;
	n->saw_reset = 1;
	__atomic_add_fetch(&n->link_resets, 1, __ATOMIC_RELAXED);
	rpk_node_log(n, "link down: the master of session %u %s", n->peer_session, how);
	node_link_lost(n, RPK_NODE_DETACHED);
}

/*
 * Remote: the master reset the link (DRIVER_OK gone: Linux's
 * rproc_virtio_reset, or our detach), or it left in a way we cannot take
 * for a reset (a new session number alone, a dead process): then it is asked
 * for one. Called with life held.
 */
void node_master_gone(struct rpk_node *n)
{
	uint32_t s = rpk_bell_session(n->port.rx);

	rpk_rpmsg_forgive_break(&n->dev);
	/* A new session alone proves nothing (anyone can write one); with
	 * both rings laid out anew since we used them, the master did reset. */
	if (node_driver_ok(n) && (s == n->peer_session || !rpk_rpmsg_rings_reset(&n->dev))) {
		node_ask_for_reset(n, s != n->peer_session ? "the master signed a new session"
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
void node_rings_relaid(struct rpk_node *n)
{
	rpk_rpmsg_forgive_break(&n->dev);
	reset_by_master(n, "laid the rings out anew");
}
