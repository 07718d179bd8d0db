// SPDX-License-Identifier: BSD-3-Clause
/*
 * Zero allocations per message: a master and a remote node in this one
 * process (each with its event thread) exchange round trips through an
 * inbox, and every malloc, calloc, realloc and aligned allocation the
 * library makes is counted (the linker wraps them). After the link is up
 * and warm, a run of round trips must make none, in either node, in either
 * wait mode.
 *
 *   no_alloc LINK.dts [ROUND_TRIPS]
 *
 * ROUND_TRIPS (default 5000) per wait mode: tests/bench/syscalls.sh runs it
 * under strace with two counts, and what grows with the count is the
 * message path's.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rpk/errno.h>
#include <rpk/node.h>

#define ECHO_ADDR   0x400u
#define WARMUP	    500
#define ROUND_TRIPS 5000

static int counting;
static int round_trips = ROUND_TRIPS;
static unsigned long allocations;

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
int __real_posix_memalign(void **p, size_t align, size_t size);
void *__real_aligned_alloc(size_t align, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
int __wrap_posix_memalign(void **p, size_t align, size_t size);
void *__wrap_aligned_alloc(size_t align, size_t size);

static void count(void)
{
	if (__atomic_load_n(&counting, __ATOMIC_RELAXED))
		__atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED);
}

void *__wrap_malloc(size_t size)
{
	count();
	return __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	count();
	return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	count();
	return __real_realloc(p, size);
}

int __wrap_posix_memalign(void **p, size_t align, size_t size)
{
	count();
	return __real_posix_memalign(p, align, size);
}

void *__wrap_aligned_alloc(size_t align, size_t size)
{
	count();
	return __real_aligned_alloc(align, size);
}

static int echo(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	rpk_sendto(ept, src, data, len, 1000);
	return 0;
}

struct starter {
	struct rpk_node *n;
	int rc;
};

static void *start_remote(void *arg)
{
	struct starter *s = arg;
	char err[512];

	s->rc = rpk_node_start(s->n, 10000, err, sizeof(err));
	if (s->rc)
		fprintf(stderr, "remote: %s", err);
	return NULL;
}

static int run_mode(const struct rpk_layout *lay, int adaptive)
{
	struct rpk_node_opts o = {.threaded = 1, .adaptive = adaptive};
	struct rpk_node *m = NULL, *r = NULL;
	struct starter st = {0};
	struct rpk_inbox *in = NULL;
	struct rpk_ept ept;
	char instance[64], err[512], msg[16] = "no-alloc-probe", back[64];
	unsigned long made;
	pthread_t th;
	int rc = 1;

	snprintf(instance, sizeof(instance), "noalloc-%d-%d", (int)getpid(), adaptive);
	o.instance = instance;
	if (rpk_node_open(&r, lay, "remote", &o, err, sizeof(err)) ||
	    rpk_ept_create(rpk_node_dev(r), &ept, "", ECHO_ADDR, RPK_ADDR_ANY, echo, NULL) ||
	    rpk_node_open(&m, lay, "master", &o, err, sizeof(err))) {
		fprintf(stderr, "no_alloc: %s\n", err);
		goto out;
	}
	st.n = r;
	pthread_create(&th, NULL, start_remote, &st);
	if (rpk_node_start(m, 10000, err, sizeof(err))) {
		fprintf(stderr, "master: %s", err);
		pthread_join(th, NULL);
		goto out;
	}
	pthread_join(th, NULL);
	/* The count works: opening an inbox allocates it. */
	__atomic_store_n(&counting, 1, __ATOMIC_RELAXED);
	if (st.rc || rpk_inbox_open(m, &in, "", RPK_ADDR_ANY, ECHO_ADDR))
		goto out;
	__atomic_store_n(&counting, 0, __ATOMIC_RELAXED);
	if (!__atomic_exchange_n(&allocations, 0, __ATOMIC_RELAXED)) {
		fprintf(stderr, "no_alloc: the allocator is not wrapped (an inbox cost nothing)\n");
		goto out;
	}
	for (int i = 0; i < WARMUP + round_trips; i++) {
		if (i == WARMUP)
			__atomic_store_n(&counting, 1, __ATOMIC_RELAXED);
		if (rpk_send(rpk_inbox_ept(in), msg, sizeof(msg), 2000) ||
		    rpk_inbox_recv(in, back, sizeof(back), NULL, 2000) != (int)sizeof(msg)) {
			__atomic_store_n(&counting, 0, __ATOMIC_RELAXED);
			fprintf(stderr, "no_alloc: round trip %d failed\n", i);
			goto out;
		}
	}
	__atomic_store_n(&counting, 0, __ATOMIC_RELAXED);
	made = __atomic_load_n(&allocations, __ATOMIC_RELAXED);
	printf("%s: %d round trips, %lu allocations\n", adaptive ? "adaptive" : "sleeping",
	       round_trips, made);
	rc = made ? 1 : 0;
out:
	__atomic_store_n(&counting, 0, __ATOMIC_RELAXED);
	if (in)
		rpk_inbox_close(in);
	rpk_node_close(m);
	rpk_node_close(r);
	__atomic_store_n(&allocations, 0, __ATOMIC_RELAXED);
	return rc;
}

int main(int argc, char **argv)
{
	static struct rpk_layout lay;
	char err[4096];

	if (argc == 3)
		round_trips = atoi(argv[2]);
	if (argc < 2 || argc > 3 || round_trips < 1) {
		fprintf(stderr, "usage: no_alloc LINK.dts [ROUND_TRIPS]\n");
		return 2;
	}
	if (rpk_layout_load(argv[1], &lay, err, sizeof(err))) {
		fprintf(stderr, "%s", err);
		return 2;
	}
	return run_mode(&lay, 0) | run_mode(&lay, 1);
}
