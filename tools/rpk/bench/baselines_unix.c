/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What two processes on Linux get without shared memory: a UNIX
 * SOCK_SEQPACKET socket pair (one write is one message, as with rpmsg), an
 * echo for round trips and a one-way stream.
 */
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rpk/rpmsg.h>

#include "bench/bench.h"
#include "rpk_tool.h"

struct socket_peer {
	int fd;
	int other;	/* our copy of the other end: closed, or the echo never sees EOF */
	uint32_t count; /* stream: messages to read before the acknowledgement */
};

/* Echo each message until the other end closes. */
static int echo_peer(void *arg)
{
	struct socket_peer *p = arg;
	uint8_t buf[RPK_RPMSG_MAX_PAYLOAD];
	ssize_t len;

	close(p->other);
	while ((len = read(p->fd, buf, sizeof(buf))) > 0)
		if (write(p->fd, buf, (size_t)len) != len)
			return 1;
	return len < 0;
}

/* Say it runs, read count messages, then say so: one byte each time. */
static int sink_peer(void *arg)
{
	struct socket_peer *p = arg;
	uint8_t buf[RPK_RPMSG_MAX_PAYLOAD] = {0};

	close(p->other);
	if (write(p->fd, buf, 1) != 1)
		return 1;
	for (uint32_t i = 0; i < p->count; i++)
		if (read(p->fd, buf, sizeof(buf)) <= 0)
			return 1;
	return write(p->fd, buf, 1) != 1;
}

/* A socket pair with fn(peer) in a child on one end; the other end in *fd. */
static pid_t start_peer(int (*fn)(void *), uint32_t count, int *fd)
{
	int sv[2];
	struct socket_peer p;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		return -1;
	p.fd = sv[1];
	p.other = sv[0];
	p.count = count;
	pid = spawn(fn, &p);
	close(sv[1]);
	if (pid < 0)
		close(sv[0]);
	*fd = sv[0];
	return pid;
}

static void stop_peer(pid_t pid, int fd, int failed)
{
	close(fd); /* the echo ends at end of file */
	if (failed)
		kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int seqpacket_echo_run(uint32_t size, uint32_t warmup, uint32_t count, struct samples *rtt)
{
	uint8_t out[RPK_RPMSG_MAX_PAYLOAD], in[RPK_RPMSG_MAX_PAYLOAD];
	int fd, rc = 0;
	pid_t pid;

	if (samples_reserve(rtt, count))
		return -1;
	pid = start_peer(echo_peer, 0, &fd);
	if (pid < 0)
		return -1;
	memset(out, 0x5a, sizeof(out));
	for (uint32_t i = 0; i < warmup + count && !rc && !rpk_stop; i++) {
		uint64_t t0 = bench_now_ns();

		rc = write(fd, out, size) != (ssize_t)size ||
		     read(fd, in, sizeof(in)) != (ssize_t)size;
		if (i >= warmup)
			samples_add(rtt, bench_now_ns() - t0);
	}
	rc = rc || rpk_stop;
	stop_peer(pid, fd, rc);
	return rc ? -1 : 0;
}

uint64_t seqpacket_stream_run(uint32_t size, uint32_t count)
{
	uint8_t out[RPK_RPMSG_MAX_PAYLOAD];
	uint64_t t0, ns = 0;
	int fd, rc = 0;
	pid_t pid = start_peer(sink_peer, count, &fd);

	if (pid < 0)
		return 0;
	memset(out, 0x5a, sizeof(out));
	rc = read(fd, out, 1) != 1; /* the process's start is not the socket's time */
	t0 = bench_now_ns();
	for (uint32_t i = 0; i < count && !rc && !rpk_stop; i++)
		rc = write(fd, out, size) != (ssize_t)size;
	if (!rc && !rpk_stop && read(fd, out, 1) == 1)
		ns = bench_now_ns() - t0;
	stop_peer(pid, fd, !ns);
	return ns;
}
