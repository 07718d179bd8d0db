// SPDX-License-Identifier: BSD-3-Clause
/*
 * A program written only against Linux's rpmsg_char ABI (<linux/rpmsg.h>):
 * it runs unchanged against the kernel's /dev/rpmsg_ctrl0 (in the UML
 * guest) and against `rpk up`'s directory, both talking to our echoing
 * remote. Every check is a behaviour of Linux 6.1's rpmsg_char.
 *
 *   rpmsg_char_compat echo DIR DST    the ABI, against an echo service at DST
 *   rpmsg_char_compat reset DIR DST   a reader sees the link reset (EPIPE), the
 *                                     control file leaves and comes back
 *   rpmsg_char_compat rtt DIR DST [N] N round trips of 16 bytes (write, then a
 *                                     blocking read): median and p99 in us
 *
 * DIR holds rpmsg_ctrl0 and the rpmsgN files (/dev for the kernel). Prints
 * "PASS ..." or "FAIL ..." and exits 0 or 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/rpmsg.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 20000

static const char *dir;

static int fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (errno %d: %s)\n", errno, strerror(errno));
	return 1;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void nap(void)
{
	struct timespec ts = {0, 10 * 1000000L};

	nanosleep(&ts, NULL);
}

static int exists(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* The rpmsgN files there now, as a bit set (N < 64). */
static unsigned long long present(void)
{
	unsigned long long set = 0;
	char name[32];

	for (int i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "rpmsg%d", i);
		if (exists(name))
			set |= 1ull << i;
	}
	return set;
}

/* RPMSG_CREATE_EPT_IOCTL, then the number of the file it made (-1: none). */
static int create_ept(const char *name, size_t name_len, unsigned src, unsigned dst)
{
	struct rpmsg_endpoint_info info;
	unsigned long long before = present(), after;
	char path[512];
	int ctrl, rc;

	memset(&info, 0, sizeof(info));
	memcpy(info.name, name, name_len);
	info.src = src;
	info.dst = dst;
	snprintf(path, sizeof(path), "%s/rpmsg_ctrl0", dir);
	ctrl = open(path, O_RDWR);
	if (ctrl < 0)
		return -1;
	rc = ioctl(ctrl, RPMSG_CREATE_EPT_IOCTL, &info);
	close(ctrl);
	if (rc < 0)
		return -1;
	for (long end = now_ms() + WAIT_MS; now_ms() < end; nap()) {
		after = present() & ~before;
		if (after)
			return __builtin_ctzll(after);
	}
	errno = ETIMEDOUT;
	return -1;
}

static int open_ept(int n, int flags)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/rpmsg%d", dir, n);
	return open(path, flags);
}

static int wait_readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A read blocked on an empty endpoint ends with EINTR when a signal comes
 * (a handler without SA_RESTART). */
static int blocked_read_interrupted(int fd)
{
	struct sigaction sa;
	struct itimerval it = {.it_value = {0, 200000}};
	char buf[16];
	ssize_t n;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	n = read(fd, buf, sizeof(buf));
	return n < 0 && errno == EINTR;
}

static int check_echo(unsigned dst)
{
	unsigned char msg[512], back[512];
	char longname[32];
	int n, fd, fd2, nb, n2, n3, fd3;
	ssize_t got;

	n = create_ept("rpk-compat", 10, RPMSG_ADDR_ANY, dst);
	if (n < 0)
		return fail("RPMSG_CREATE_EPT_IOCTL on %s/rpmsg_ctrl0", dir);
	fd = open_ept(n, O_RDWR);
	if (fd < 0)
		return fail("open rpmsg%d", n);
	fd2 = open_ept(n, O_RDWR);
	if (fd2 >= 0 || errno != EBUSY)
		return fail("a second open of rpmsg%d is not EBUSY", n);
	for (int i = 0; i < 1000; i++) {
		size_t len = i == 999 ? 496 : 1 + (size_t)(i * 37) % 496;

		for (size_t k = 0; k < len; k++)
			msg[k] = (unsigned char)(i + k * 7);
		if (write(fd, msg, len) != (ssize_t)len)
			return fail("write %d (%zu bytes)", i, len);
		if (!wait_readable(fd, WAIT_MS))
			return fail("no echo %d within %d ms", i, WAIT_MS);
		got = read(fd, back, sizeof(back));
		if (got != (ssize_t)len || memcmp(msg, back, len))
			return fail("echo %d: %zd bytes of %zu, or different", i, got, len);
	}
	errno = 0;
	if (write(fd, msg, 497) >= 0 || errno != EMSGSIZE)
		return fail("497 bytes are not EMSGSIZE");
	/* A short buffer takes the start of the message; the rest is gone. */
	if (write(fd, msg, 100) != 100 || !wait_readable(fd, WAIT_MS) || read(fd, back, 10) != 10 ||
	    memcmp(msg, back, 10))
		return fail("a 10-byte read of a 100-byte message");
	nb = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, nb | O_NONBLOCK);
	errno = 0;
	if (read(fd, back, sizeof(back)) >= 0 || errno != EAGAIN)
		return fail("O_NONBLOCK read of an empty endpoint is not EAGAIN (the rest of a "
			    "truncated message must be gone)");
	fcntl(fd, F_SETFL, nb);
	{
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (poll(&p, 1, 100) != 0)
			return fail("poll says readable on an empty endpoint");
	}
	if (!blocked_read_interrupted(fd))
		return fail("a blocked read did not end with EINTR at a signal");
	/* The same source address twice: the second endpoint cannot open. */
	n2 = create_ept("rpk-compat-a", 12, 0x3001, dst);
	n3 = create_ept("rpk-compat-b", 12, 0x3001, dst);
	if (n2 < 0 || n3 < 0)
		return fail("two endpoints of source 0x3001 (both may be made)");
	fd2 = open_ept(n2, O_RDWR);
	fd3 = open_ept(n3, O_RDWR);
	if (fd2 < 0 || fd3 >= 0 || errno != EINVAL)
		return fail("opening a second endpoint at a taken address is not EINVAL");
	close(fd2);
	/* A name that fills all 32 bytes is cut, not refused. */
	memset(longname, 'n', sizeof(longname));
	if (create_ept(longname, sizeof(longname), RPMSG_ADDR_ANY, dst) < 0)
		return fail("a name without its NUL");
	/* Destroyed: the file goes, the open one fails with EPIPE, poll says POLLERR. */
	if (ioctl(fd, RPMSG_DESTROY_EPT_IOCTL) < 0)
		return fail("RPMSG_DESTROY_EPT_IOCTL");
	{
		char name[32];
		struct pollfd p = {.fd = fd, .events = POLLIN};

		snprintf(name, sizeof(name), "rpmsg%d", n);
		for (long end = now_ms() + WAIT_MS; exists(name) && now_ms() < end;)
			nap();
		if (exists(name))
			return fail("rpmsg%d is still there after its destruction", n);
		errno = 0;
		if (read(fd, back, sizeof(back)) >= 0 || errno != EPIPE)
			return fail("a read after destruction is not EPIPE");
		if (write(fd, msg, 1) >= 0 || errno != EPIPE)
			return fail("a write after destruction is not EPIPE");
		if (poll(&p, 1, 0) != 1 || !(p.revents & POLLERR))
			return fail("poll after destruction is not POLLERR");
	}
	close(fd);
	printf("PASS echoed=1000 emsgsize=1 truncate=1 ebusy=1 eagain=1 eintr=1 einval=1 "
	       "epipe=1 dst=0x%x\n",
	       dst);
	return 0;
}

/* The link resets under an open endpoint (the test kills the remote after
 * "READY"): the blocked read ends with EPIPE, rpmsg_ctrl0 goes away, then
 * comes back with the remote, and a new endpoint echoes again. */
static int check_reset(unsigned dst)
{
	char buf[512];
	int n = create_ept("rpk-reset", 9, RPMSG_ADDR_ANY, dst), fd;
	ssize_t got;

	if (n < 0 || (fd = open_ept(n, O_RDWR)) < 0)
		return fail("no endpoint");
	if (write(fd, "ping", 4) != 4 || !wait_readable(fd, WAIT_MS) || read(fd, buf, 4) != 4)
		return fail("no echo before the reset");
	printf("READY\n");
	fflush(stdout);
	got = read(fd, buf, sizeof(buf));
	if (got >= 0 || errno != EPIPE)
		return fail("the read across the reset returned %zd, not EPIPE", got);
	close(fd);
	for (long end = now_ms() + WAIT_MS; !exists("rpmsg_ctrl0") && now_ms() < end;)
		nap();
	n = create_ept("rpk-reset", 9, RPMSG_ADDR_ANY, dst);
	if (n < 0 || (fd = open_ept(n, O_RDWR)) < 0)
		return fail("no endpoint after the peer came back");
	if (write(fd, "pong", 4) != 4 || !wait_readable(fd, WAIT_MS) || read(fd, buf, 4) != 4)
		return fail("no echo after the reset");
	close(fd);
	printf("PASS reset: EPIPE, rpmsg_ctrl0 back, echo again\n");
	return 0;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static int measure_rtt(unsigned dst, int count)
{
	static long us[100000];
	char msg[16] = "rtt-probe-16byte", back[64];
	struct timespec t0, t1;
	int n = create_ept("rpk-rtt", 7, RPMSG_ADDR_ANY, dst), fd;

	if (n < 0 || (fd = open_ept(n, O_RDWR)) < 0)
		return fail("no endpoint");
	if (count < 1 || count > 100000)
		count = 10000;
	for (int i = 0; i < count + 100; i++) { /* the first 100 warm up */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (write(fd, msg, sizeof(msg)) != sizeof(msg) ||
		    read(fd, back, sizeof(back)) != sizeof(msg))
			return fail("round trip %d", i);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (i >= 100)
			us[i - 100] =
			    (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000L;
	}
	close(fd);
	qsort(us, (size_t)count, sizeof(us[0]), cmp_long);
	printf("PASS rtt 16 B over %d round trips: median %ld us, p99 %ld us, min %ld us\n", count,
	       us[count / 2], us[count * 99 / 100], us[0]);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long dst;

	if (argc != 4 && !(argc == 5 && !strcmp(argv[1], "rtt"))) {
		fprintf(stderr, "usage: rpmsg_char_compat echo|reset|rtt DIR DST [N]\n");
		return 2;
	}
	dir = argv[2];
	dst = strtoul(argv[3], NULL, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "echo"))
		return check_echo((unsigned)dst);
	if (!strcmp(argv[1], "reset"))
		return check_reset((unsigned)dst);
	if (!strcmp(argv[1], "rtt"))
		return measure_rtt((unsigned)dst, argc == 5 ? atoi(argv[4]) : 10000);
	fprintf(stderr, "rpmsg_char_compat: echo or reset, not %s\n", argv[1]);
	return 2;
}
