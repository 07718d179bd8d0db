/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A node's side of the message trace (format.h): the page it creates, the
 * tap that copies each message into it, and the look, once a watchdog
 * period, at whether anyone reads.
 */
#ifndef RPK_HOST_MSGTRACE_WRITER_H
#define RPK_HOST_MSGTRACE_WRITER_H

#include <pthread.h>
#include <stdint.h>

#include <rpk/rpmsg.h>

#include "posix/rpk_posix.h"

struct msgtrace_writer {
	struct rpk_shm shm; /* va NULL: no page, the node runs without traces */
	pthread_mutex_t mu; /* the TX and RX taps run in different threads */
	uint64_t head;	    /* ours: never read back from the page */
	char name[160];
};

/* Create (or take over) the page; a failure leaves the node without traces. */
void msgtrace_writer_open(struct msgtrace_writer *w, const char *instance, const char *node,
			  gid_t group);
void msgtrace_writer_close(struct msgtrace_writer *w);

/* The rpk_tap_cb: ctx is the writer. */
void msgtrace_writer_tap(void *ctx, const struct rpk_tap_msg *msg);

/* Whether a reader's process lives; msgtrace_writer_set_tapping() shows the
 * node's answer to readers. */
int msgtrace_writer_wanted(struct msgtrace_writer *w);
void msgtrace_writer_set_tapping(struct msgtrace_writer *w, int on);

/* The page's shm name. */
void msgtrace_name(char *buf, size_t len, const char *instance, const char *node);

#endif
