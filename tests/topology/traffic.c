/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sequence-checked traffic over endpoint devices in message mode (rpk up's
 * channel devices, docs/chardev.md), every direction at once:
 *
 *     traffic COUNT FROM TO [FROM TO ...]
 *
 * Each FROM TO pair is one direction of a link: a writer sends COUNT
 * messages into FROM, a reader takes them from TO and checks that each one
 * comes, once, in order, with its length and bytes. COUNT 0 runs until
 * SIGTERM or SIGINT, then checks that every message sent arrived. The
 * writer keeps at most WINDOW messages unread, so that the device's queue
 * (512 messages) never drops one: a loss is a failure.
 *
 * It prints "progress PAIR RECEIVED" every PROGRESS_EVERY messages of a
 * pair, "PASS PAIR: N messages in order" per pair at the end, and exits 0;
 * any error (a write or a read failing: the link went down; a message out
 * of order, of the wrong length or bytes; nothing within TIMEOUT_MS) prints
 * "FAIL PAIR: why" and exits 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAIRS      16
#define WINDOW	       64
#define PROGRESS_EVERY 100
#define TIMEOUT_MS     20000
#define MAX_PAYLOAD    496
#define HEADER	       8 /* the sequence number, then bytes derived from it */

struct pair {
	int index;
	const char *from, *to;
	int wfd, rfd;
	pthread_t writer, reader;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t sent, received; /* under mu */
	int writer_done;	 /* under mu: sent is final */
};

static uint64_t count;
static atomic_int stop; /* lock-free: set by the signal handler, read by the writers */

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void fail(const struct pair *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(const struct pair *p, const char *fmt, ...)
{
	va_list ap;

	flockfile(stdout);
	printf("FAIL %d (%s -> %s): ", p->index, p->from, p->to);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	funlockfile(stdout);
	_exit(1);
}

/* Message seq: 8 bytes of seq, then 16 to 496 bytes that depend on it. */
static size_t message_len(uint64_t seq)
{
	return HEADER + 8 + (size_t)(seq * 37 % (MAX_PAYLOAD - HEADER - 8 + 1));
}

static void fill(uint8_t *buf, uint64_t seq)
{
	size_t len = message_len(seq);

	memcpy(buf, &seq, HEADER);
	for (size_t i = HEADER; i < len; i++)
		buf[i] = (uint8_t)(seq * 131 + i);
}

static int more_to_send(struct pair *p)
{
	return count ? p->sent < count : !stop;
}

static void *write_all(void *arg)
{
	struct pair *p = arg;
	uint8_t buf[MAX_PAYLOAD];

	while (more_to_send(p)) {
		uint64_t seq;
		ssize_t n;

		pthread_mutex_lock(&p->mu);
		while (p->sent - p->received >= WINDOW && !stop)
			pthread_cond_wait(&p->cv, &p->mu);
		seq = p->sent;
		pthread_mutex_unlock(&p->mu);
		if (stop && !count)
			break;
		fill(buf, seq);
		n = write(p->wfd, buf, message_len(seq));
		if (n != (ssize_t)message_len(seq))
			fail(p, "write of message %llu: %s", (unsigned long long)seq,
			     n < 0 ? strerror(errno) : "short");
		pthread_mutex_lock(&p->mu);
		p->sent++;
		pthread_mutex_unlock(&p->mu);
	}
	pthread_mutex_lock(&p->mu);
	p->writer_done = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *read_all(void *arg)
{
	struct pair *p = arg;
	uint8_t buf[MAX_PAYLOAD + 1], want[MAX_PAYLOAD];
	int64_t last = now_ms();

	for (uint64_t seq = 0;;) {
		struct pollfd pfd = {.fd = p->rfd, .events = POLLIN};
		uint64_t got_seq;
		ssize_t n;

		pthread_mutex_lock(&p->mu);
		if (p->writer_done && p->received == p->sent) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		pthread_mutex_unlock(&p->mu);
		/* Short waits: the writer may finish while we wait. */
		if (poll(&pfd, 1, 100) == 0) {
			if (now_ms() - last > TIMEOUT_MS)
				fail(p, "message %llu did not come within %d ms",
				     (unsigned long long)seq, TIMEOUT_MS);
			continue;
		}
		if (pfd.revents & (POLLERR | POLLHUP))
			fail(p, "the device says POLLERR waiting for message %llu (link down)",
			     (unsigned long long)seq);
		n = read(p->rfd, buf, sizeof(buf));
		if (n < 0)
			fail(p, "read of message %llu: %s", (unsigned long long)seq,
			     strerror(errno));
		last = now_ms();
		if (n < HEADER)
			fail(p, "message %llu: %zd bytes", (unsigned long long)seq, n);
		memcpy(&got_seq, buf, HEADER);
		if (got_seq != seq)
			fail(p, "message %llu came when %llu was due", (unsigned long long)got_seq,
			     (unsigned long long)seq);
		fill(want, seq);
		if ((size_t)n != message_len(seq) || memcmp(buf, want, (size_t)n))
			fail(p, "message %llu: %zd bytes, want %zu, or other bytes",
			     (unsigned long long)seq, n, message_len(seq));
		pthread_mutex_lock(&p->mu);
		p->received++;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (++seq % PROGRESS_EVERY == 0) {
			printf("progress %d %llu\n", p->index, (unsigned long long)seq);
			fflush(stdout);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static struct pair pairs[MAX_PAIRS];
	struct sigaction sa;
	sigset_t stops;
	int num = (argc - 2) / 2;

	if (argc < 4 || argc % 2 || num > MAX_PAIRS) {
		fprintf(stderr, "usage: traffic COUNT FROM TO [FROM TO ...] (up to %d pairs)\n",
			MAX_PAIRS);
		return 2;
	}
	count = strtoull(argv[1], NULL, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* Only this thread takes a stop: a write or read through FUSE that a
	 * signal interrupts fails with EINTR, which would read as a failure. */
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stops, NULL);
	for (int i = 0; i < num; i++) {
		struct pair *p = &pairs[i];

		p->index = i;
		p->from = argv[2 + 2 * i];
		p->to = argv[3 + 2 * i];
		pthread_mutex_init(&p->mu, NULL);
		pthread_cond_init(&p->cv, NULL);
		p->wfd = open(p->from, O_WRONLY);
		p->rfd = open(p->to, O_RDONLY);
		if (p->wfd < 0 || p->rfd < 0)
			fail(p, "open: %s", strerror(errno));
	}
	for (int i = 0; i < num; i++) {
		pthread_create(&pairs[i].reader, NULL, read_all, &pairs[i]);
		pthread_create(&pairs[i].writer, NULL, write_all, &pairs[i]);
	}
	pthread_sigmask(SIG_UNBLOCK, &stops, NULL);
	printf("started %d pairs\n", num);
	fflush(stdout);
	for (int i = 0; i < num; i++) {
		pthread_join(pairs[i].writer, NULL);
		pthread_join(pairs[i].reader, NULL);
	}
	for (int i = 0; i < num; i++)
		printf("PASS %d (%s -> %s): %llu messages in order\n", i, pairs[i].from,
		       pairs[i].to, (unsigned long long)pairs[i].received);
	return 0;
}
