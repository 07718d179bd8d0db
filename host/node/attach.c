/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Master: attaching to a remote's table, detaching, and resetting the link
 * when the remote asks or its rings broke.
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
 * A table to attach to, and the remote's session (0: it does not sign its
 * bell). Signed: published by a live remote (a rebooting one signs after it
 * published), not a session whose table we could not take. Unsigned: a
 * published table whose status is reset (a new table, or one we reset).
 */
int node_table_ready(struct rpk_node *n, uint32_t *session)
{
	uint32_t s = rpk_bell_session(n->port.rx);

	*session = s;
	if (!rpk_rsc_is_published(node_rsc_shared(n), &n->port.port) ||
	    (n->have_bad && s == n->bad_session && (s || n->need_signed)))
		return 0;
	/* A table of the other byte order never looks signed or fresh (its
	 * words, the bell's too, read byte-swapped): take it now, and the
	 * attach refuses it by name instead of waiting for nothing. */
	if (rpk_rsc_is_byte_swapped(node_rsc_shared(n), &n->port.port))
		return 1;
	if (s && node_peer_alive(n, s))
		return 1;
	if (n->need_signed)
		return 0;
	/* Unsigned, or signed by a process that is gone (an earlier remote;
	 * ours sign just after they publish): a table laid out anew is a
	 * remote's that does not sign, or not yet. */
	*session = 0;
	return node_table_laid_out_anew(n);
}

/* Attach to the table of the remote's session s. -RPK_EAGAIN: the remote
 * published again while we copied (a torn copy is never used). */
int node_attach(struct rpk_node *n, uint32_t s, char *err, size_t errlen)
{
	const struct rpk_region *rr = node_region(n, RPK_REG_RSC);
	const struct rpk_fw_rsc_vdev *v;
	uint32_t num, align, features;
	uint8_t *copy = malloc(rr->rsc_size);
	int rc;

	if (!copy)
		return -RPK_ENOMEM;
	/* Parse a private copy: the remote cannot change it under us. */
	rpk_rsc_snapshot(copy, rr->rsc_size, node_rsc_shared(n), rr->rsc_size, &n->port.port);
	if (rpk_bell_session(n->port.rx) != s ||
	    !rpk_rsc_is_published(node_rsc_shared(n), &n->port.port)) {
		uint32_t now = rpk_bell_session(n->port.rx);

		/* Taken as unsigned (s 0) but signed: by a remote that is gone,
		 * or one about to sign; the retry tells, and if time runs out
		 * first, this is what the caller reports. */
		if (!s && now && !node_peer_alive(n, now))
			snprintf(err, errlen,
				 "%s: the table there was laid out by a remote that is gone "
				 "(session %u), and no live remote published one\n",
				 rr->path, now);
		else
			snprintf(err, errlen,
				 "%s: the remote published its table again meanwhile\n", rr->path);
		rc = -RPK_EAGAIN;
		goto out;
	}
	n->peer_session = s;
	n->bell_seen = rpk_bell_session(n->port.rx);
	rc = n->ln->static_link ? node_check_link_header(n, err, errlen) : 0;
	if (!rc)
		rc = node_table_vdev(n, copy, n->ln->static_link ? "link header" : "resource table",
				     &v, &num, &align, err, errlen);
	if (rc)
		goto out;
	if (n->have_device && (num != n->num || align != n->align)) {
		snprintf(err, errlen, "%s: the remote came back with vrings of %u, it had %u\n",
			 rr->path, num, n->num);
		rc = -RPK_ENOEXEC;
		goto out;
	}
	features = v->dfeatures & node_features();
	/* Writes go to the shared table at the offset the copy validated. */
	n->vdev =
	    (struct rpk_fw_rsc_vdev *)((char *)node_rsc_shared(n) + ((const uint8_t *)v - copy));
	/* A virtio reset first, then our new session: a remote never takes a
	 * DRIVER_OK of an earlier session for ours. */
	rpk_vdev_write_status(n->vdev, 0, &n->port.port);
	node_sign_session(n);
	rpk_vdev_write_status(n->vdev, RPK_VIRTIO_STATUS_ACKNOWLEDGE, &n->port.port);
	rpk_vdev_write_status(n->vdev, RPK_VIRTIO_STATUS_ACKNOWLEDGE | RPK_VIRTIO_STATUS_DRIVER,
			      &n->port.port);
	rpk_vdev_write_gfeatures(n->vdev, features, &n->port.port);
	if (!n->have_device) {
		rc = node_init_device(n, num, align, err, errlen);
	} else {
		/* A remote that ran the old session may still have been writing
		 * its part of the rings when we reset them (with caches, a line
		 * it cleans late brings old entries back). Rung, it sees the new
		 * session and stops within a moment; give it one, then lay the
		 * rings out again so that nothing of before reaches this one. */
		rpk_bell_ring(n->port.tx);
		nanosleep(&(struct timespec){0, RELAYOUT_GRACE_MS * 1000000L}, NULL);
		rpk_rpmsg_lay_out(&n->dev);
	}
	if (!rc && n->ln->buffers == RPK_BUFFERS_SYMMETRIC)
		rc = node_wait_ring_ack(n, err, errlen);
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
	node_set_state(n, n->fw_img ? RPK_NODE_RUNNING : RPK_NODE_ATTACHED);
out:
	free(copy);
	return rc;
}

/* Wait for a live remote's table and attach to it; called with life held. */
int node_wait_and_attach(struct rpk_node *n, uint32_t timeout_ms, char *err, size_t errlen)
{
	uint32_t start = rpk_posix_now_ms(), left = timeout_ms, s;
	int rc;

	for (;;) {
		rc = node_wait_for(n, node_table_ready, left, &s);
		if (rc == -RPK_EINTR) {
			snprintf(err, errlen,
				 "%s: interrupted while waiting for the remote's table\n",
				 node_region(n, RPK_REG_RSC)->path);
			return rc;
		}
		if (rc) {
			snprintf(err, errlen,
				 "%s: no resource table appeared within %u ms (none published by "
				 "a live remote)\n",
				 node_region(n, RPK_REG_RSC)->path, timeout_ms);
			return rc;
		}
		rc = node_attach(n, s, err, errlen);
		if (rc != -RPK_EAGAIN)
			return rc;
		/* A remote that just published again: its next table, in what time
		 * is left. One that stays as it is (no header under its table, no
		 * ring acknowledged) is asked again a watchdog period later, not
		 * at once: its table looks ready all along. */
		if (__atomic_load_n(&n->interrupted, __ATOMIC_ACQUIRE))
			return -RPK_EINTR;
		if (timeout_ms != RPK_WAIT_FOREVER) {
			uint32_t spent = rpk_posix_now_ms() - start;

			if (spent >= timeout_ms)
				return rc; /* err says what the last attempt found */
			left = timeout_ms - spent;
		}
		node_pause(n, WATCH_MS);
	}
}

int node_start_master(struct rpk_node *n, uint32_t timeout_ms, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&n->life);
	rc = node_wait_and_attach(n, timeout_ms, err, errlen);
	pthread_mutex_unlock(&n->life);
	return rc;
}

/*
 * Master: reset the device of a remote that lives on and attach again, as
 * after a detach: status 0 and a new session of ours first (the remote drops
 * the old session before it can take our zeroed rings for corrupt ones),
 * then the rings start over. Messages the remote had not consumed are
 * counted lost. If the table cannot be taken, wait as for a crash.
 * Called with life held.
 */
void node_reset_device(struct rpk_node *n, const char *why)
{
	uint32_t s = rpk_bell_session(n->port.rx);
	char err[512];

	rpk_node_log(n, "resetting the link: %s", why);
	rpk_vdev_write_status(n->vdev, 0, &n->port.port);
	node_sign_session(n);
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* session seen before zeroed rings */
	rpk_bell_ring(n->port.tx);
	node_link_lost(n, RPK_NODE_CRASHED);
	__atomic_add_fetch(&n->link_resets, 1, __ATOMIC_RELAXED);
	if (node_attach(n, s, err, sizeof(err)))
		rpk_node_log(n, "re-attach after the reset failed: %s", err);
}

/*
 * Master: the remote is gone (its process died, it restarted, or it laid
 * out a fresh table). Deliver what it sent before it went, then take the
 * link down and wait for it to come back. Called with life held.
 */
void node_remote_gone(struct rpk_node *n)
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
	node_link_lost(n, RPK_NODE_CRASHED);
}

/* Master: the remote asked for a reset (NEEDS_RESET), or laid out a fresh
 * table (DRIVER_OK gone). Called with life held, link up. */
void node_check_status(struct rpk_node *n)
{
	uint8_t st = node_vdev_status(n);

	if (st & RPK_VIRTIO_STATUS_NEEDS_RESET) {
		__atomic_add_fetch(&n->reset_asks, 1, __ATOMIC_RELAXED);
		node_reset_device(n, "the remote asked for it (DEVICE_NEEDS_RESET)");
	} else if (!(st & RPK_VIRTIO_STATUS_DRIVER_OK)) {
		node_remote_gone(n);
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
		node_sign_session(n);
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* session seen before zeroed rings */
		rpk_bell_ring(n->port.tx);
		rpk_node_log(n, "detached from the remote of session %u", n->peer_session);
		node_link_lost(n, RPK_NODE_DETACHED);
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
		 ? node_wait_and_attach(n, timeout_ms, err, errlen)
		 : 0; /* the event thread re-attached meanwhile */
	pthread_mutex_unlock(&n->life);
	return rc;
}
