/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <rpk/errno.h>

#include "tty/pty_bridge.h"

int pty_bridge_open(struct pty_bridge *b, const char *link, char *err, size_t errlen)
{
	struct termios t;

	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->mu, NULL);
	b->wake_fd = -1;
	b->slave = -1;
	b->peer = RPK_ADDR_ANY;
	b->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (b->master < 0 || grantpt(b->master) || unlockpt(b->master) ||
	    ptsname_r(b->master, b->slave_path, sizeof(b->slave_path))) {
		snprintf(err, errlen, "cannot make a pty: %s", strerror(errno));
		goto fail;
	}
	/* The master's own peer, not whatever the path names now: where two
	 * devpts instances are stacked on /dev/pts the path can be another's. */
	b->slave = ioctl(b->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (b->slave < 0 || tcgetattr(b->slave, &t)) {
		snprintf(err, errlen, "%s: %s", b->slave_path, strerror(errno));
		goto fail;
	}
	/* A wire, not a terminal: the peer's bytes reach the reader as they
	 * are, and nothing is echoed back to the peer. */
	cfmakeraw(&t);
	if (tcsetattr(b->slave, TCSANOW, &t)) {
		snprintf(err, errlen, "%s: raw mode: %s", b->slave_path, strerror(errno));
		goto fail;
	}
	b->q = malloc(PTY_BRIDGE_QUEUE);
	if (!b->q) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* Through our own descriptor: the very pty, whichever devpts instance
	 * /dev/pts shows the opener (a container's, a chroot's). */
	snprintf(b->target, sizeof(b->target), "/proc/%d/fd/%d", (int)getpid(), b->slave);
	if (!link)
		return 0;
	snprintf(b->link, sizeof(b->link), "%s", link);
	unlink(b->link); /* one a stopped bridge left behind */
	if (symlink(b->target, b->link)) {
		snprintf(err, errlen, "%s: cannot link it to %s: %s", b->link, b->slave_path,
			 strerror(errno));
		b->link[0] = 0;
		goto fail;
	}
	return 0;
fail:
	pty_bridge_close(b);
	return -1;
}

void pty_bridge_close(struct pty_bridge *b)
{
	if (b->link[0])
		unlink(b->link);
	if (b->slave >= 0)
		close(b->slave);
	if (b->master >= 0)
		close(b->master);
	free(b->q);
	b->q = NULL;
	b->master = b->slave = -1;
	b->link[0] = 0;
	pthread_mutex_destroy(&b->mu);
}

void pty_bridge_set_wake(struct pty_bridge *b, int fd)
{
	b->wake_fd = fd;
}

void pty_bridge_bind(struct pty_bridge *b, struct rpk_ept *ept, uint32_t peer)
{
	pthread_mutex_lock(&b->mu);
	b->ept = ept;
	b->peer = peer;
	pthread_mutex_unlock(&b->mu);
}

void pty_bridge_unbind(struct pty_bridge *b)
{
	pthread_mutex_lock(&b->mu);
	b->ept = NULL;
	b->peer = RPK_ADDR_ANY;
	b->out_len = 0; /* the channel it was read for is gone */
	pthread_mutex_unlock(&b->mu);
}

/* Hand the queue to the pty's reader, as much as it takes now. */
static void flush_queue(struct pty_bridge *b)
{
	while (b->q_len) {
		size_t run = PTY_BRIDGE_QUEUE - b->q_head < b->q_len ? PTY_BRIDGE_QUEUE - b->q_head
								     : b->q_len;
		ssize_t n = write(b->master, b->q + b->q_head, run);

		if (n <= 0)
			return; /* EAGAIN: the reader is behind; POLLOUT tells us when */
		b->q_head = (b->q_head + (size_t)n) % PTY_BRIDGE_QUEUE;
		b->q_len -= (size_t)n;
		b->to_pty += (uint64_t)n;
	}
	b->q_head = 0;
}

int pty_bridge_rx(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct pty_bridge *b = priv;
	const uint8_t *p = data;

	(void)ept;
	pthread_mutex_lock(&b->mu);
	b->peer = src; /* rpmsg_tty never says its address but by speaking */
	flush_queue(b);
	if (!b->q_len) { /* straight through when the reader keeps up */
		ssize_t n = write(b->master, p, len);

		if (n > 0) {
			b->to_pty += (uint64_t)n;
			p += n;
			len -= (size_t)n;
		}
	}
	if (len > PTY_BRIDGE_QUEUE - b->q_len) {
		b->dropped += len - (PTY_BRIDGE_QUEUE - b->q_len);
		len = PTY_BRIDGE_QUEUE - b->q_len;
	}
	for (size_t i = 0; i < len; i++)
		b->q[(b->q_head + b->q_len + i) % PTY_BRIDGE_QUEUE] = p[i];
	b->q_len += len;
	if (len && b->wake_fd >= 0) {
		uint64_t one = 1;

		if (write(b->wake_fd, &one, sizeof(one)) < 0) {
			/* a full counter: the pump is awake anyway */
		}
	}
	pthread_mutex_unlock(&b->mu);
	return 0;
}

void pty_bridge_pollfd(struct pty_bridge *b, struct pollfd *p)
{
	pthread_mutex_lock(&b->mu);
	p->fd = b->master;
	p->events = 0;
	/* Read only what we can send: the rest waits in the pty, whose
	 * writer then blocks, which is the flow control a tty has. */
	if (b->ept && b->peer != RPK_ADDR_ANY && !b->out_len)
		p->events |= POLLIN;
	if (b->q_len)
		p->events |= POLLOUT;
	pthread_mutex_unlock(&b->mu);
}

int pty_bridge_pump(struct pty_bridge *b)
{
	int waiting = 0;

	pthread_mutex_lock(&b->mu);
	flush_queue(b);
	while (b->ept && b->peer != RPK_ADDR_ANY) {
		int rc;

		if (!b->out_len) {
			ssize_t n = read(b->master, b->out, sizeof(b->out));

			if (n <= 0)
				break; /* nothing there (EAGAIN) */
			b->out_len = (size_t)n;
		}
		rc = rpk_sendto(b->ept, b->peer, b->out, b->out_len, RPK_NO_WAIT);
		if (rc == -RPK_EAGAIN) {
			waiting = 1; /* no buffer free: again when the peer gives one back */
			break;
		}
		if (!rc)
			b->to_peer += b->out_len;
		else
			b->dropped += b->out_len; /* refused for good: the link is going down */
		b->out_len = 0;
	}
	pthread_mutex_unlock(&b->mu);
	return waiting;
}
