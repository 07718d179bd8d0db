/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading the messages a running node moves, as `rpk trace --messages`
 * does: every message it sends or receives (name service included), with
 * its header and payload, while the link runs at full speed. The node
 * copies them into a ring of the last 1024 only while a reader's process
 * lives (it looks every 50 ms), and never waits for one: a reader that
 * falls behind (or is stopped) is told how many it lost.
 */
#ifndef RPK_MSGTRACE_H
#define RPK_MSGTRACE_H

#include <stddef.h>
#include <stdint.h>

#include <rpk/rpmsg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A reader of one node's messages (opaque). */
struct rpk_msgtrace;

/* One message as the node saw it. */
struct rpk_traced_msg {
	uint64_t seq;	  /* the node's count of traced messages, from 0 */
	uint64_t time_ns; /* CLOCK_REALTIME when the node moved it */
	enum rpk_tap_dir dir;
	uint32_t src, dst, reserved;
	uint16_t len, flags; /* as the header says */
	uint32_t captured;   /* payload bytes kept: len, or fewer for a long one */
};

/* The largest payload a traced message keeps (longer ones are cut). */
#define RPK_MSGTRACE_CAPTURE 984u

/*
 * Start reading the messages of node (a node of a running link) in
 * instance ("default" if NULL), sharing with group (NULL: ours alone, as
 * docs/access.md). Messages moved from now on are read; the node starts
 * copying them within 50 ms (rpk_msgtrace_tapping() says when). Returns 0,
 * -RPK_ENOENT (no such node runs), -RPK_EACCES, -RPK_EINVAL (an unknown
 * group), -RPK_EBUSY (8 readers already), -RPK_EIO (not a message trace of
 * this version), with a message in err.
 */
int rpk_msgtrace_open(struct rpk_msgtrace **out, const char *instance, const char *node,
		      const char *group, char *err, size_t errlen);
void rpk_msgtrace_close(struct rpk_msgtrace *t);

/*
 * The next message: 1 with *msg and up to cap payload bytes in data
 * (msg->captured of them are valid, at most cap), 0 if none is waiting
 * (poll again),
 * -RPK_ENOTCONN once the node has stopped. *lost (if not NULL) is set to
 * how many messages went by unread before this one (the reader was too
 * slow, or a record was malformed).
 */
int rpk_msgtrace_next(struct rpk_msgtrace *t, struct rpk_traced_msg *msg, void *data, size_t cap,
		      uint64_t *lost);

/* 1 once the node copies messages for readers, 0 before. */
int rpk_msgtrace_tapping(const struct rpk_msgtrace *t);

#ifdef __cplusplus
}
#endif

#endif
