/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A doorbell carried as bytes over a stream socket: an emulator's UART on a
 * UNIX socket (QEMU's -serial unix:PATH,server=on), whose receive interrupt
 * is the firmware's doorbell and whose transmitted bytes are its kicks to
 * us. Each kick we ring is one byte out; each byte in rings our receive bell
 * in the mailbox, so every waiter (the event thread, a sender waiting for a
 * buffer) wakes as for a peer on the host. What a byte says does not matter,
 * only that it came.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rpk/errno.h>

#include "posix/rpk_posix.h"

static void *stream_bell_reader(void *arg)
{
	struct rpk_stream_bell *b = arg;
	char buf[64];

	for (;;) {
		ssize_t n = read(b->fd, buf, sizeof(buf));

		if (n > 0)
			rpk_bell_ring(b->rx);
		else if (n == 0 || errno != EINTR)
			break; /* closed: by us (rpk_stream_bell_close) or the emulator */
	}
	/* Whoever waits looks again, and finds the rings as they are. */
	rpk_bell_ring(b->rx);
	return NULL;
}

static void stream_bell_ring(struct rpk_ext_bell *ext)
{
	struct rpk_stream_bell *b = (struct rpk_stream_bell *)ext;

	/* Never blocks: a full socket means kicks are already on their way,
	 * and one is as good as many to a peer that will look at its rings. */
	while (send(b->fd, "k", 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

int rpk_unix_connect(const char *path, const char *what, char *err, size_t errlen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "%s %s: path too long", what, path);
		return -RPK_EINVAL;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -RPK_EIO;
	}
	return fd;
}

int rpk_stream_bell_open(struct rpk_stream_bell *b, const char *path, struct rpk_bell *rx,
			 char *err, size_t errlen)
{
	b->ext.ring = stream_bell_ring;
	b->rx = rx;
	b->fd = rpk_unix_connect(path, "doorbell socket", err, errlen);
	if (b->fd < 0) {
		int rc = b->fd;

		b->fd = -1;
		return rc;
	}
	if (pthread_create(&b->thread, NULL, stream_bell_reader, b)) {
		snprintf(err, errlen, "doorbell socket %s: cannot start its reader", path);
		close(b->fd);
		b->fd = -1;
		return -RPK_ENOMEM;
	}
	return 0;
}

void rpk_socket_reader_stop(int *sock, pthread_t reader)
{
	shutdown(*sock, SHUT_RDWR); /* ends the reader's read or poll */
	pthread_join(reader, NULL);
	close(*sock);
	*sock = -1;
}

void rpk_stream_bell_close(struct rpk_stream_bell *b)
{
	if (b->fd >= 0)
		rpk_socket_reader_stop(&b->fd, b->thread);
}
