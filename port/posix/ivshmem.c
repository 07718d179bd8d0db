/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * QEMU's ivshmem server protocol (docs/specs/ivshmem-spec.rst in QEMU), and a
 * node as one of the server's peers. The server (rpk ivshmem-server) hands
 * each peer, in order: the protocol version (0), the peer's ID, -1 with the
 * shared memory's fd, then for each other peer its ID once per vector with
 * that vector's eventfd, then its own ID once per vector with its own
 * eventfds. Later it says when a peer comes (its ID with an fd, once per
 * vector) or goes (its ID alone). Writing 1 to a peer's vector eventfd
 * interrupts that vector of the peer: for QEMU's ivshmem-doorbell device, an
 * MSI-X interrupt in the guest; for us, a read on our own eventfd.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rpk/errno.h>

#include "posix/rpk_posix.h"

int rpk_ivshmem_send(int sock, int64_t value, int fd)
{
	uint64_t le = htole64((uint64_t)value);
	struct iovec iov = {&le, sizeof(le)};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	for (;;) {
		ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);

		if (n == (ssize_t)sizeof(le))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n >= 0)
			errno = EIO; /* a stream socket takes 8 bytes whole or not at all */
		return -1;
	}
}

/* The one fd a message may carry; extra ones (a misbehaving server) are
 * closed, never leaked. */
static int take_fd(struct msghdr *msg)
{
	int fd = -1;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < n; i++) {
			int got;

			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fd < 0)
				fd = got;
			else
				close(got);
		}
	}
	return fd;
}

int rpk_ivshmem_recv(int sock, int64_t *value, int *fd)
{
	uint64_t le;
	struct iovec iov = {&le, sizeof(le)};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} control;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf)};
	ssize_t n;

	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	while (n < 0 && errno == EINTR);
	*fd = n > 0 ? take_fd(&msg) : -1;
	if (n != (ssize_t)sizeof(le) || (msg.msg_flags & MSG_CTRUNC)) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		if (n >= 0)
			errno = n == 0 ? 0 : EPROTO;
		return -1;
	}
	*value = (int64_t)le64toh(le);
	return 0;
}

static int peer_slot(struct rpk_ivshmem_peer *p, int64_t id, int make)
{
	int free_slot = -1;

	for (unsigned i = 0; i < RPK_IVSHMEM_MAX_PEERS; i++) {
		if (p->peers[i].id == id)
			return (int)i;
		if (p->peers[i].id < 0 && free_slot < 0)
			free_slot = (int)i;
	}
	if (make && free_slot >= 0) {
		p->peers[free_slot].id = id;
		p->peers[free_slot].nfd = 0;
	}
	return make ? free_slot : -1;
}

static void forget_peer(struct rpk_ivshmem_peer *p, int slot)
{
	for (unsigned v = 0; v < p->peers[slot].nfd; v++)
		close(p->peers[slot].fd[v]);
	p->peers[slot].nfd = 0;
	p->peers[slot].id = -1;
}

/* One message after the set-up: our own vectors, or a peer that came or
 * went. Whatever the server sends, we keep at most a vector's worth of fds
 * per peer and close the rest. */
static void peer_message(struct rpk_ivshmem_peer *p, int64_t id, int fd)
{
	pthread_mutex_lock(&p->mu);
	if (id == p->id && fd >= 0) {
		unsigned v = 0;

		while (v < RPK_IVSHMEM_MAX_VECTORS && p->own[v] >= 0)
			v++;
		if (v < RPK_IVSHMEM_MAX_VECTORS) {
			p->own[v] = fd;
			fd = -1;
		}
	} else if (id >= 0 && id <= 0xffff && id != p->id) {
		int slot = peer_slot(p, id, fd >= 0);

		if (slot >= 0 && fd < 0) {
			forget_peer(p, slot);
		} else if (slot >= 0 && p->peers[slot].nfd < RPK_IVSHMEM_MAX_VECTORS) {
			p->peers[slot].fd[p->peers[slot].nfd++] = fd;
			fd = -1;
		}
	}
	pthread_mutex_unlock(&p->mu);
	if (fd >= 0)
		close(fd);
}

static int own_rx_fd(struct rpk_ivshmem_peer *p)
{
	int fd;

	pthread_mutex_lock(&p->mu);
	fd = p->own[p->rx_vector];
	pthread_mutex_unlock(&p->mu);
	return fd;
}

static void *peer_reader(void *arg)
{
	struct rpk_ivshmem_peer *p = arg;

	for (;;) {
		struct pollfd fds[2] = {{p->sock, POLLIN, 0}, {own_rx_fd(p), POLLIN, 0}};
		int64_t id;
		int fd;

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents & POLLIN) {
			uint64_t count; /* how many rang: one wakeup is enough */

			if (read(fds[1].fd, &count, sizeof(count)) == (ssize_t)sizeof(count))
				rpk_bell_ring(p->rx);
		}
		if (fds[0].revents) {
			if (rpk_ivshmem_recv(p->sock, &id, &fd))
				break; /* the server went, or we shut the socket */
			peer_message(p, id, fd);
		}
	}
	rpk_bell_ring(p->rx); /* whoever waits looks at the rings again */
	return NULL;
}

static void ivshmem_ring(struct rpk_ext_bell *ext)
{
	struct rpk_ivshmem_peer *p = (struct rpk_ivshmem_peer *)ext;
	const uint64_t one = 1;

	pthread_mutex_lock(&p->mu);
	for (unsigned i = 0; i < RPK_IVSHMEM_MAX_PEERS; i++)
		if (p->peers[i].id >= 0 && p->peers[i].nfd > p->tx_vector)
			/* An eventfd's count only overflows after 2^64 - 2
			 * kicks nobody read: it never blocks here. */
			while (write(p->peers[i].fd[p->tx_vector], &one, sizeof(one)) < 0 &&
			       errno == EINTR)
				;
	pthread_mutex_unlock(&p->mu);
}

/* The set-up: version 0, our ID, the memory (which we do not use). */
static int peer_setup(struct rpk_ivshmem_peer *p, const char *path, char *err, size_t errlen)
{
	int64_t version, minus_one;
	int fd;

	if (rpk_ivshmem_recv(p->sock, &version, &fd) || fd >= 0 || version != 0 ||
	    rpk_ivshmem_recv(p->sock, &p->id, &fd) || fd >= 0 || p->id < 0 || p->id > 0xffff) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "ivshmem server %s: not an ivshmem server of protocol 0",
			 path);
		return -RPK_EPROTO;
	}
	if (rpk_ivshmem_recv(p->sock, &minus_one, &fd) || minus_one != -1 || fd < 0) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "ivshmem server %s: no shared memory from it", path);
		return -RPK_EPROTO;
	}
	close(fd);
	return 0;
}

int rpk_ivshmem_peer_open(struct rpk_ivshmem_peer *p, const char *path, uint32_t rx_vector,
			  uint32_t tx_vector, struct rpk_bell *rx, char *err, size_t errlen)
{
	int rc;

	memset(p, 0, sizeof(*p));
	p->ext.ring = ivshmem_ring;
	p->rx = rx;
	p->rx_vector = rx_vector;
	p->tx_vector = tx_vector;
	for (unsigned v = 0; v < RPK_IVSHMEM_MAX_VECTORS; v++)
		p->own[v] = -1;
	for (unsigned i = 0; i < RPK_IVSHMEM_MAX_PEERS; i++)
		p->peers[i].id = -1;
	if (rx_vector >= RPK_IVSHMEM_MAX_VECTORS || tx_vector >= RPK_IVSHMEM_MAX_VECTORS) {
		snprintf(err, errlen,
			 "ivshmem server %s: mailbox channels %u and %u: at most %u vectors", path,
			 rx_vector, tx_vector, RPK_IVSHMEM_MAX_VECTORS);
		p->sock = -1;
		return -RPK_EINVAL;
	}
	p->sock = rpk_unix_connect(path, "ivshmem server", err, errlen);
	if (p->sock < 0) {
		rc = p->sock;
		p->sock = -1;
		return rc;
	}
	rc = peer_setup(p, path, err, errlen);
	pthread_mutex_init(&p->mu, NULL);
	if (!rc && pthread_create(&p->thread, NULL, peer_reader, p)) {
		snprintf(err, errlen, "ivshmem server %s: cannot start its reader", path);
		rc = -RPK_ENOMEM;
	}
	if (rc) {
		pthread_mutex_destroy(&p->mu);
		close(p->sock);
		p->sock = -1;
	}
	return rc;
}

void rpk_ivshmem_peer_close(struct rpk_ivshmem_peer *p)
{
	if (p->sock < 0)
		return;
	rpk_socket_reader_stop(&p->sock, p->thread);
	for (unsigned v = 0; v < RPK_IVSHMEM_MAX_VECTORS; v++)
		if (p->own[v] >= 0)
			close(p->own[v]);
	for (unsigned i = 0; i < RPK_IVSHMEM_MAX_PEERS; i++)
		if (p->peers[i].id >= 0)
			forget_peer(p, (int)i);
	pthread_mutex_destroy(&p->mu);
}
