/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The message-trace page: how a node shows every message it moves to
 * `rpk trace --messages` without ever waiting for the reader.
 *
 *   /dev/shm/rpk-<instance>-msgs-<node>   (same owner, mode and group as
 *                                          the link's objects)
 *   +----------------------------+
 *   | header (64 bytes)          |  magic, version, geometry; the node's pid
 *   |                            |  and head (records written); the
 *   |                            |  readers' pids; whether the node taps
 *   +----------------------------+
 *   | slot 0 (SLOT_SIZE bytes)   |  record n lives in slot n % SLOTS:
 *   | slot 1                     |  a fixed size, so a reader that fell
 *   | ...                        |  behind jumps to any record and counts
 *   | slot SLOTS-1               |  what it skipped, never loses framing
 *   +----------------------------+
 *
 * Each slot is a seqlock: the writer stores seq = WRITING | n, then the
 * record, then seq = n + 1 (release). A reader wanting record n copies the
 * slot between two loads of seq and keeps it only if both read n + 1.
 * The node taps (copies messages here) only while a reader's process lives
 * (one stopped with SIGSTOP lives: it loses what the ring cannot keep and is
 * told so); otherwise a message costs nothing but a pointer test.
 *
 * Everything here is written by processes of the link's user or group and
 * read by others: the writer never reads back what it wrote (its head is
 * private), the reader checks every length.
 */
#ifndef RPK_HOST_MSGTRACE_FORMAT_H
#define RPK_HOST_MSGTRACE_FORMAT_H

#include <stdint.h>

#define MSGTRACE_MAGIC	   0x544b5052u /* "RPKT" */
#define MSGTRACE_VERSION   1u
#define MSGTRACE_SLOTS	   1024u
#define MSGTRACE_SLOT_SIZE 1024u
#define MSGTRACE_WRITING   (1ull << 63)
#define MSGTRACE_READERS   8u /* readers at once, each in a slot of the header */

struct msgtrace_slot {
	uint64_t seq;	  /* n + 1 when it holds record n; WRITING | n while written */
	uint64_t time_ns; /* CLOCK_REALTIME */
	uint32_t src, dst, reserved;
	uint16_t len, flags;
	uint16_t captured; /* payload bytes in data: len, or fewer */
	uint8_t dir;	   /* enum rpk_tap_dir */
	uint8_t pad[5];
	uint8_t data[MSGTRACE_SLOT_SIZE - 40];
};
#define MSGTRACE_CAPTURE (MSGTRACE_SLOT_SIZE - 40u)

struct msgtrace_page {
	uint32_t magic, version;
	uint32_t slots, slot_size;
	uint64_t head;			    /* records written (release after each) */
	uint32_t tapping;		    /* the node copies messages here now */
	uint32_t pid;			    /* the node's */
	uint32_t readers[MSGTRACE_READERS]; /* their pids; 0: a free slot */
	struct msgtrace_slot slot[MSGTRACE_SLOTS];
};

_Static_assert(sizeof(struct msgtrace_slot) == MSGTRACE_SLOT_SIZE, "slot size");
_Static_assert(sizeof(struct msgtrace_page) == 64 + MSGTRACE_SLOTS * MSGTRACE_SLOT_SIZE,
	       "page size");

#endif
