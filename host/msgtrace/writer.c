/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rpk/layout.h>

#include "msgtrace/format.h"
#include "msgtrace/writer.h"

void msgtrace_name(char *buf, size_t len, const char *instance, const char *node)
{
	char object[64];

	snprintf(buf, len, "/rpk-%s-msgs-%s", instance,
		 rpk_layout_object_name(object, sizeof(object), node));
}

void msgtrace_writer_open(struct msgtrace_writer *w, const char *instance, const char *node,
			  gid_t group)
{
	struct msgtrace_page *pg;
	char why[1024];

	memset(w, 0, sizeof(*w));
	w->shm.fd = -1;
	pthread_mutex_init(&w->mu, NULL);
	msgtrace_name(w->name, sizeof(w->name), instance, node);
	/* Traces are a convenience, like the counters: a page the access
	 * model refuses is left alone. */
	if (rpk_shm_open(&w->shm, w->name, sizeof(*pg), group, why, sizeof(why))) {
		w->shm.va = NULL;
		return;
	}
	pg = w->shm.va;
	/* Ours now (one node of a name per instance): what a node before us
	 * left is forgotten, so no old record passes for a new one. */
	memset(pg, 0, sizeof(*pg));
	pg->slots = MSGTRACE_SLOTS;
	pg->slot_size = MSGTRACE_SLOT_SIZE;
	pg->version = MSGTRACE_VERSION;
	pg->pid = (uint32_t)getpid();
	__atomic_store_n(&pg->magic, MSGTRACE_MAGIC, __ATOMIC_RELEASE);
}

void msgtrace_writer_close(struct msgtrace_writer *w)
{
	if (!w->shm.va)
		return;
	rpk_shm_close(&w->shm);
	rpk_shm_unlink(w->name);
	pthread_mutex_destroy(&w->mu);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void msgtrace_writer_tap(void *ctx, const struct rpk_tap_msg *msg)
{
	struct msgtrace_writer *w = ctx;
	struct msgtrace_page *pg = w->shm.va;
	struct msgtrace_slot *slot;
	uint16_t captured = msg->len < MSGTRACE_CAPTURE ? msg->len : MSGTRACE_CAPTURE;
	uint64_t n;

	if (!pg)
		return;
	pthread_mutex_lock(&w->mu);
	n = w->head;
	slot = &pg->slot[n % MSGTRACE_SLOTS];
	/* Pairs with the reader's second load of seq: a reader that copied
	 * any of what follows sees WRITING (or a later n) and drops its copy. */
	__atomic_store_n(&slot->seq, MSGTRACE_WRITING | n, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	slot->time_ns = realtime_ns();
	slot->src = msg->src;
	slot->dst = msg->dst;
	slot->reserved = msg->reserved;
	slot->len = msg->len;
	slot->flags = msg->flags;
	slot->captured = captured;
	slot->dir = (uint8_t)msg->dir;
	memcpy(slot->data, msg->data, captured);
	/* Pairs with the reader's first load (acquire): n + 1 means all above. */
	__atomic_store_n(&slot->seq, n + 1, __ATOMIC_RELEASE);
	w->head = n + 1;
	__atomic_store_n(&pg->head, n + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&w->mu);
}

int msgtrace_writer_wanted(struct msgtrace_writer *w)
{
	struct msgtrace_page *pg = w->shm.va;

	if (!pg)
		return 0;
	for (uint32_t i = 0; i < MSGTRACE_READERS; i++) {
		/* A reader's word: a pid only asked whether it lives. */
		uint32_t pid = __atomic_load_n(&pg->readers[i], __ATOMIC_RELAXED);

		if (pid && rpk_pid_alive(pid))
			return 1;
	}
	return 0;
}

void msgtrace_writer_set_tapping(struct msgtrace_writer *w, int on)
{
	struct msgtrace_page *pg = w->shm.va;

	if (pg)
		__atomic_store_n(&pg->tapping, (uint32_t)on, __ATOMIC_RELEASE);
}
