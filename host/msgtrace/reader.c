/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reader's side of the message trace (format.h, <rpk/msgtrace.h>).
 * The page is written by another process: every length is checked, every
 * record is kept only if its slot's sequence held still around the copy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rpk/errno.h>
#include <rpk/msgtrace.h>

#include "msgtrace/format.h"
#include "msgtrace/take.h"
#include "msgtrace/writer.h"
#include "posix/rpk_posix.h"

_Static_assert(RPK_MSGTRACE_CAPTURE == MSGTRACE_CAPTURE, "the public capture size");

#define ALIVE_CHECK_MS 500u /* how often the reader looks whether the node still runs */
#define SETUP_WAIT_MS  1000 /* a page without its magic yet: a node setting it up */

struct rpk_msgtrace {
	struct rpk_shm shm;
	struct msgtrace_page *pg;
	struct msgtrace_slot copy; /* the record being read, out of the page */
	uint64_t next;		   /* the record we want */
	uint32_t last_alive_check;
	int slot; /* ours in the header's readers, or -1 */
	int stopped;
};

/* Take a reader slot: a free one, or one whose reader died. */
static int claim_slot(struct rpk_msgtrace *t)
{
	uint32_t me = (uint32_t)getpid();

	for (int pass = 0; pass < 2; pass++)
		for (uint32_t i = 0; i < MSGTRACE_READERS; i++) {
			uint32_t was = __atomic_load_n(&t->pg->readers[i], __ATOMIC_RELAXED);

			if ((pass == 0 && was) || (pass == 1 && (!was || rpk_pid_alive(was))))
				continue;
			if (__atomic_compare_exchange_n(&t->pg->readers[i], &was, me, 0,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
				t->slot = (int)i;
				return 0;
			}
		}
	return -1;
}

int rpk_msgtrace_open(struct rpk_msgtrace **out, const char *instance, const char *node,
		      const char *group, char *err, size_t errlen)
{
	struct rpk_msgtrace *t;
	gid_t gid = RPK_NO_GROUP;
	uint32_t magic;
	char name[160];
	int rc;

	*out = NULL;
	if (group && rpk_group_lookup(group, &gid, err, errlen))
		return -RPK_EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -RPK_ENOMEM;
	}
	t->shm.fd = -1;
	t->slot = -1;
	msgtrace_name(name, sizeof(name), instance ? instance : "default", node);
	rc = rpk_shm_open_existing(&t->shm, name, sizeof(*t->pg), gid, err, errlen);
	if (rc) {
		free(t);
		if (rc == -ENOENT)
			snprintf(err, errlen, "node '%s' is not running (no /dev/shm%s)", node,
				 name);
		return rc == -ENOENT ? -RPK_ENOENT : rc == -EACCES ? -RPK_EACCES : -RPK_EIO;
	}
	t->pg = t->shm.va;
	/* A node that just created its page writes the magic last. */
	magic = __atomic_load_n(&t->pg->magic, __ATOMIC_ACQUIRE);
	for (int tries = 0; !magic && tries < SETUP_WAIT_MS; tries++) {
		nanosleep(&(struct timespec){0, 1000000L}, NULL);
		magic = __atomic_load_n(&t->pg->magic, __ATOMIC_ACQUIRE);
	}
	if (magic != MSGTRACE_MAGIC || t->pg->version != MSGTRACE_VERSION ||
	    t->pg->slots != MSGTRACE_SLOTS || t->pg->slot_size != MSGTRACE_SLOT_SIZE) {
		snprintf(err, errlen, "/dev/shm%s is not a message trace this rpk reads", name);
		rpk_msgtrace_close(t);
		return -RPK_EIO;
	}
	if (claim_slot(t)) {
		snprintf(err, errlen, "node '%s' has %u message readers already", node,
			 MSGTRACE_READERS);
		rpk_msgtrace_close(t);
		return -RPK_EBUSY;
	}
	t->next = __atomic_load_n(&t->pg->head, __ATOMIC_ACQUIRE);
	t->last_alive_check = rpk_posix_now_ms();
	*out = t;
	return 0;
}

void rpk_msgtrace_close(struct rpk_msgtrace *t)
{
	uint32_t me = (uint32_t)getpid();

	if (!t)
		return;
	if (t->slot >= 0) /* the node stops tapping at its next look, if we were the last */
		__atomic_compare_exchange_n(&t->pg->readers[t->slot], &me, 0, 0, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED);
	rpk_shm_close(&t->shm);
	free(t);
}

int rpk_msgtrace_tapping(const struct rpk_msgtrace *t)
{
	return __atomic_load_n(&t->pg->tapping, __ATOMIC_ACQUIRE) != 0;
}

/* The node removes its page when it stops; one killed leaves it behind. */
static int node_gone(struct rpk_msgtrace *t)
{
	struct stat st;

	if (fstat(t->shm.fd, &st) == 0 && st.st_nlink == 0)
		return 1;
	return !rpk_pid_alive(__atomic_load_n(&t->pg->pid, __ATOMIC_RELAXED));
}

int rpk_msgtrace_next(struct rpk_msgtrace *t, struct rpk_traced_msg *msg, void *data, size_t cap,
		      uint64_t *lost)
{
	struct msgtrace_slot *copy = &t->copy;
	uint32_t now = rpk_posix_now_ms();
	uint64_t head, skipped = 0;

	if (lost)
		*lost = 0;
	/* One look at the head per call: a writer faster than we copy cannot
	 * keep us here. */
	head = __atomic_load_n(&t->pg->head, __ATOMIC_ACQUIRE);
	if (msgtrace_take(t->pg->slot, MSGTRACE_SLOTS, head, &t->next, copy, &skipped)) {
		msg->seq = t->next - 1;
		msg->time_ns = copy->time_ns;
		msg->dir = (enum rpk_tap_dir)copy->dir; /* checked by msgtrace_take */
		msg->src = copy->src;
		msg->dst = copy->dst;
		msg->reserved = copy->reserved;
		msg->len = copy->len;
		msg->flags = copy->flags;
		msg->captured = copy->captured < cap ? copy->captured : (uint32_t)cap;
		if (msg->captured)
			memcpy(data, copy->data, msg->captured);
		if (lost)
			*lost = skipped;
		return 1;
	}
	if (lost)
		*lost = skipped;
	if (skipped)
		return 0; /* the loss is told now; nothing else is waiting */
	if (now - t->last_alive_check >= ALIVE_CHECK_MS) {
		t->last_alive_check = now;
		t->stopped = node_gone(t);
	}
	return t->stopped ? -RPK_ENOTCONN : 0;
}
