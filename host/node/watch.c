/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Watching the peer: sessions and pids in the doorbells, the watchdog's
 * look at the shared state, and taking the link down or up as it says.
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

/* ---- who the peer is (docs/host-link.md: sessions) ---- */

/* Sign our bell with our pid and a new session: a peer that knew an earlier
 * one of ours sees that we started over. Called with life held. */
uint32_t node_sign_session(struct rpk_node *n)
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
int node_peer_alive(struct rpk_node *n, uint32_t s)
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
		int maps = rpk_pid_maps_file(pid, n->link_object);

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
		return s != n->bell_seen || (slow && !node_driver_ok(n));
	if (s != n->peer_session)
		return 1;
	if (!slow)
		return 0;
	return !node_peer_alive(n, s) || !node_driver_ok(n);
}

/* Take the link down; called with life held. The state changes first: a
 * sender the reset wakes with an error finds the node down already. */
void node_link_lost(struct rpk_node *n, enum rpk_node_state next)
{
	node_set_state(n, next);
	rpk_rpmsg_reset(&n->dev);
	node_wake_self(n);
}

/*
 * Our rings broke (the virtqueue layer found an entry that makes no sense)
 * while the peer lives on in the same session: a buggy or hostile peer, or
 * memory overwritten under both. The link resets and comes back by itself:
 * a master resets the device at once, a remote asks its master for a reset.
 * Called with life held.
 */
void node_link_broken(struct rpk_node *n)
{
	if (!node_link_live(n) || !__atomic_load_n(&n->dev.broken, __ATOMIC_RELAXED))
		return; /* reset meanwhile: the error was the old session's */
	if (n->ln->role == RPK_ROLE_REMOTE && rpk_rpmsg_rings_moved(&n->dev)) {
		node_rings_relaid(n); /* a reset we missed, not a corruption */
		return;
	}
	__atomic_add_fetch(&n->broken, 1, __ATOMIC_RELAXED);
	if (n->ln->role == RPK_ROLE_MASTER)
		node_reset_device(n, "the rings made no sense");
	else
		node_ask_for_reset(n, "the rings made no sense");
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
	       (node_vdev_status(n) & RPK_VIRTIO_STATUS_DRIVER_OK) && node_peer_alive(n, s);
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
	if (!node_link_live(n)) {
		/* taken down meanwhile */
	} else if (peer_signs_now(n, &s)) {
		n->peer_session = s;
		rpk_node_log(n, "the %s signs its doorbell now: session %u",
			     n->ln->role == RPK_ROLE_MASTER ? "remote" : "master", s);
	} else if (dead_signature(n)) {
		node_remote_gone(n);
	} else if (n->ln->role == RPK_ROLE_REMOTE) {
		if (peer_gone(n, 1))
			node_master_gone(n);
		else if (rpk_rpmsg_rings_moved(&n->dev))
			node_rings_relaid(n);
	} else if (n->peer_session && (rpk_bell_session(n->port.rx) != n->peer_session ||
				       !node_peer_alive(n, n->peer_session))) {
		node_remote_gone(n);
	} else {
		node_check_status(n);
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
			node_recover(n);
		pthread_mutex_unlock(&n->life);
		return;
	}
	if (n->opts.no_recovery)
		return;
	pthread_mutex_lock(&n->life);
	if (rpk_node_state(n) == RPK_NODE_CRASHED && node_table_ready(n, &s)) {
		int rc = node_attach(n, s, err, sizeof(err));

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
	if (rpk_node_state(n) == RPK_NODE_DETACHED && node_master_ready(n, &s))
		node_remote_link_up(n, s);
	pthread_mutex_unlock(&n->life);
}

/* Tap the device's messages while someone reads them (host/msgtrace). The
 * device is set up once; until then there is nothing to tap. */
static void watch_msgtrace(struct rpk_node *n)
{
	int want = msgtrace_writer_wanted(&n->msgs);
	rpk_tap_cb cb = want ? msgtrace_writer_tap : NULL;

	/* Told before the device exists: it taps from its first message. */
	msgtrace_writer_set_tapping(&n->msgs, want);
	if (!__atomic_load_n(&n->have_device, __ATOMIC_SEQ_CST))
		return;
	if (__atomic_load_n(&n->dev.tap, __ATOMIC_RELAXED) != cb)
		rpk_rpmsg_set_tap(&n->dev, cb, &n->msgs);
}

void node_serve_observers(struct rpk_node *n, uint32_t now)
{
	/* The run loop and a wait of another thread may both come here. */
	if (pthread_mutex_trylock(&n->observers_mu))
		return;
	if (now - n->last_observers_ms >= WATCH_MS || !n->last_observers_ms) {
		n->last_observers_ms = now;
		node_publish_stats(n);
		watch_msgtrace(n);
	}
	pthread_mutex_unlock(&n->observers_mu);
}

/*
 * Look at the peer; bring the link down or up as it says. Called often: the
 * fast path is one load of the peer's session. Once a watchdog period (slow)
 * it also reads the shared state, and keeps what we own in it as we wrote
 * it: our bell's signature and the rings' flags.
 */
void node_watch(struct rpk_node *n, int force)
{
	uint32_t now = rpk_posix_now_ms();
	int slow = force || now - n->last_watch_ms >= WATCH_MS;

	if (slow) {
		n->last_watch_ms = now;
		if (n->chaos_tick) /* a test peer (host/node/chaos.c) */
			n->chaos_tick(n, now);
		keep_signature(n);
		node_serve_observers(n, now);
	}
	switch (rpk_node_state(n)) {
	case RPK_NODE_ATTACHED:
	case RPK_NODE_RUNNING:
		watch_live(n, slow);
		/* Only on rings of a session that still runs: a master that just
		 * reset them zeroed our flags too. */
		if (slow && node_link_live(n) && rpk_rpmsg_refresh(&n->dev))
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
