// SPDX-License-Identifier: BSD-3-Clause
/*
 * rpk ivshmem-server: the server of QEMU's ivshmem-doorbell devices
 * (Debian ships none), so that a guest and our nodes interrupt each other:
 * QEMU connects as a peer (-chardev socket,path=S -device
 * ivshmem-doorbell,chardev=...,vectors=N), and so does a node (rpk run
 * --ivshmem S). The protocol (port/posix/ivshmem.c) gives each peer an ID
 * and N eventfds, one per vector, and hands every peer the others'.
 *
 * An ID here is a slot that outlives its peers: a peer takes the lowest
 * free slot, with the eventfds of its last holder, and nobody is told that
 * a peer left. So a remote that restarts is the same peer to the guest,
 * which keeps ringing the ID its devicetree names (rpk,peer-id), and QEMU
 * never sees an ID go and come back: its device frees a departed peer's
 * eventfd array but keeps using it when the ID returns (hw/misc/ivshmem.c,
 * close_peer_eventfds and resize_peers), which corrupted its heap. Rings
 * to an empty slot wait in its eventfds for the next holder: one spurious
 * wakeup, no lost one. The shared memory the protocol requires is a small
 * memfd nobody uses: the link's memory is the guest's RAM file.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "posix/rpk_posix.h"
#include "rpk_tool.h"

#define MAX_CLIENTS RPK_IVSHMEM_MAX_PEERS
#define SHM_SIZE    4096u /* a power of two: it is the device's BAR2 */

struct client {
	int sock;   /* -1: nobody holds the slot now */
	int made;   /* its eventfds exist: somebody held it once */
	int64_t id; /* its index */
	int fd[RPK_IVSHMEM_MAX_VECTORS];
};

struct server {
	int listener, shm;
	unsigned vectors;
	struct client clients[MAX_CLIENTS];
};

static void usage(FILE *f)
{
	fprintf(f, "usage: rpk ivshmem-server SOCKET [--vectors N]\n\n"
		   "Serve QEMU's ivshmem-doorbell devices (-chardev socket,path=SOCKET,id=ID\n"
		   "-device ivshmem-doorbell,chardev=ID,vectors=N) and rpk nodes (rpk run\n"
		   "--ivshmem SOCKET) on the UNIX socket SOCKET, until SIGINT or SIGTERM.\n"
		   "A peer takes the lowest free ID with the eventfds of its last holder:\n"
		   "a node that restarts is the same peer to the guest.\n\n"
		   "  --vectors N   interrupt vectors per peer (default 2, at most 8)\n"
		   "  -h, --help    this text\n");
}

/* Tell c of peer o: o's ID once per vector with its eventfd. */
static int introduce(const struct server *s, const struct client *c, const struct client *o)
{
	for (unsigned v = 0; v < s->vectors; v++)
		if (rpk_ivshmem_send(c->sock, o->id, o->fd[v]))
			return -1;
	return 0;
}

/* The peer in slot c left: the slot and its eventfds stay for the next. */
static void drop(struct client *c)
{
	printf("rpk ivshmem-server: peer %lld left\n", (long long)c->id);
	close(c->sock);
	c->sock = -1;
}

/* The slot's eventfds, made the first time it is taken. */
static int make_vectors(const struct server *s, struct client *c)
{
	unsigned made = 0;

	for (; made < s->vectors; made++) {
		c->fd[made] = eventfd(0, EFD_CLOEXEC);
		if (c->fd[made] < 0)
			break;
	}
	if (made == s->vectors)
		return 0;
	while (made)
		close(c->fd[--made]);
	return -1;
}

static void accept_peer(struct server *s)
{
	int sock = accept4(s->listener, NULL, NULL, SOCK_CLOEXEC);
	struct client *c = NULL;
	int fresh;

	if (sock < 0)
		return;
	for (unsigned i = 0; i < MAX_CLIENTS && !c; i++)
		if (s->clients[i].sock < 0)
			c = &s->clients[i];
	if (!c) {
		fprintf(stderr, "rpk ivshmem-server: %u peers already; one more refused\n",
			MAX_CLIENTS);
		close(sock);
		return;
	}
	fresh = !c->made;
	if ((fresh && make_vectors(s, c)) || rpk_ivshmem_send(sock, 0, -1) ||
	    rpk_ivshmem_send(sock, c->id, -1) || rpk_ivshmem_send(sock, -1, s->shm)) {
		fprintf(stderr, "rpk ivshmem-server: a peer's set-up failed: %s\n",
			strerror(errno));
		close(sock);
		return;
	}
	c->made = 1;
	c->sock = sock;
	for (unsigned i = 0; i < MAX_CLIENTS; i++) {
		struct client *o = &s->clients[i];

		if (o == c || !o->made)
			continue;
		introduce(s, c, o); /* every slot ever held, to the newcomer */
		if (fresh && o->sock >= 0)
			introduce(s, o, c); /* a new slot, to those present */
	}
	if (introduce(s, c, c)) { /* its own vectors, last */
		drop(c);
		return;
	}
	printf("rpk ivshmem-server: peer %lld joined\n", (long long)c->id);
}

/* SOCKET.lock, held for the server's life: a second server sees it taken.
 * (Connecting to find a live server would make the probe a peer.) */
static int lock_for(const char *path)
{
	char lock[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	int fd;

	snprintf(lock, sizeof(lock), "%s.lock", path);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "rpk ivshmem-server: %s: %s\n", lock, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		fprintf(stderr, "rpk ivshmem-server: %s: another server listens there\n", path);
		close(fd);
		return -1;
	}
	return fd;
}

static int listen_on(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "rpk ivshmem-server: %s: path too long\n", path);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	/* A socket left by a server that died is ours to replace (its lock
	 * is free: we hold it now); any other file is not. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "rpk ivshmem-server: %s: exists and is not a socket\n",
				path);
			return -1;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, 8)) {
		fprintf(stderr, "rpk ivshmem-server: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void serve(struct server *s)
{
	while (!stop_requested()) {
		struct pollfd fds[1 + MAX_CLIENTS];
		unsigned n = 1;

		fds[0] = (struct pollfd){s->listener, POLLIN, 0};
		for (unsigned i = 0; i < MAX_CLIENTS; i++)
			fds[n++] = (struct pollfd){s->clients[i].sock, POLLIN, 0};
		/* A bounded wait: a stop signal between the look and the poll
		 * is seen within it. */
		if (poll(fds, n, 200) <= 0)
			continue;
		if (fds[0].revents & POLLIN)
			accept_peer(s);
		for (unsigned i = 0; i < MAX_CLIENTS; i++)
			/* Peers send nothing: anything readable is their end. */
			if (s->clients[i].sock >= 0 && fds[1 + i].revents)
				drop(&s->clients[i]);
	}
}

int cmd_ivshmem_server(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"vectors", required_argument, 0, 'v'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	struct server s = {.vectors = 2};
	unsigned long vectors = 2;
	int c, lock;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			if (parse_number("ivshmem-server", "vectors", optarg, 1,
					 RPK_IVSHMEM_MAX_VECTORS, &vectors))
				return 2;
			s.vectors = (unsigned)vectors;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	for (unsigned i = 0; i < MAX_CLIENTS; i++) {
		s.clients[i].sock = -1;
		s.clients[i].id = i;
	}
	s.shm = memfd_create("rpk-ivshmem", MFD_CLOEXEC);
	if (s.shm < 0 || ftruncate(s.shm, SHM_SIZE)) {
		fprintf(stderr, "rpk ivshmem-server: its shared memory: %s\n", strerror(errno));
		return 1;
	}
	lock = lock_for(argv[optind]);
	s.listener = lock < 0 ? -1 : listen_on(argv[optind]);
	if (s.listener < 0)
		return 1;
	install_stop_signals();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("rpk ivshmem-server: listening on %s, %u vectors per peer\n", argv[optind],
	       s.vectors);
	serve(&s);
	for (unsigned i = 0; i < MAX_CLIENTS; i++) {
		if (s.clients[i].sock >= 0)
			drop(&s.clients[i]);
		for (unsigned v = 0; s.clients[i].made && v < s.vectors; v++)
			close(s.clients[i].fd[v]);
	}
	close(s.listener);
	unlink(argv[optind]);
	close(s.shm);
	close(lock); /* the lock file stays: removing it could let two servers in */
	return 0;
}
