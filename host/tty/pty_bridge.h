/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A pseudo-terminal bridged to an rpmsg-tty channel, the other end of
 * Linux's rpmsg_tty driver (docs/tty.md): bytes written to the pty's slave
 * (/dev/pts/N, symlinked where the service wants it) go to the peer as
 * messages, messages from the peer come out of the slave. Driven from one
 * thread's poll loop: pty_bridge_pollfd() before the poll, pty_bridge_pump()
 * after it, pty_bridge_rx() as the endpoint's callback.
 */
#ifndef RPK_HOST_PTY_BRIDGE_H
#define RPK_HOST_PTY_BRIDGE_H

#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <rpk/rpmsg.h>

#define PTY_BRIDGE_QUEUE (1u << 20) /* from the peer, waiting for the pty's reader */
#define PTY_BRIDGE_CHUNK 496u	    /* the most one message carries over 512-byte buffers */

struct pty_bridge {
	pthread_mutex_t mu; /* the callback and the pump may run in two threads */
	int wake_fd;	    /* written when bytes wait for the pty (-1: none) */
	int master, slave;  /* the slave stays open: no hangup while nobody has it */
	char slave_path[64], link[PATH_MAX];
	char target[64];     /* /proc/PID/fd/N: the pty itself, for links to it */
	struct rpk_ept *ept; /* NULL while the channel is down */
	uint32_t peer;	     /* learned from its first message (RPK_ADDR_ANY before) */
	uint8_t out[PTY_BRIDGE_CHUNK];
	size_t out_len; /* read from the pty, not sent yet (no buffer free) */
	uint8_t *q;	/* ring of PTY_BRIDGE_QUEUE bytes from the peer */
	size_t q_head, q_len;
	uint64_t to_peer, to_pty, dropped; /* bytes */
};

/* Open a pty (raw: no echo, no line editing, every byte as it is) and,
 * unless link is NULL, symlink link to it (to target, our own descriptor
 * of it). 0, or -1 with err. */
int pty_bridge_open(struct pty_bridge *b, const char *link, char *err, size_t errlen);
void pty_bridge_close(struct pty_bridge *b);

/* The channel came up with endpoint ept (its priv is b, its callback
 * pty_bridge_rx), or went down. peer: where to send, RPK_ADDR_ANY until
 * the peer's first message says (rpmsg_tty never announces itself). */
void pty_bridge_bind(struct pty_bridge *b, struct rpk_ept *ept, uint32_t peer);
void pty_bridge_unbind(struct pty_bridge *b);

/* The endpoint's receive callback: priv is the bridge. Bytes the pty's
 * reader cannot take yet wait in the queue; only a full queue drops
 * (counted in dropped). */
int pty_bridge_rx(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv);

/* Threads other than the pump's: write to fd (an eventfd) when bytes
 * from the peer wait for the pty, so the pump's poll looks again. */
void pty_bridge_set_wake(struct pty_bridge *b, int fd);

/* What to wait for on the pty. */
void pty_bridge_pollfd(struct pty_bridge *b, struct pollfd *p);
/* Move what can move, both ways, without blocking. 1 if bytes read from
 * the pty wait for a transmit buffer (look again soon), else 0. */
int pty_bridge_pump(struct pty_bridge *b);

#endif
