/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Chaos peer: a node that writes something wrong into the link, one class of
 * corruption at a time, so tests (and users, with `rpk run --chaos`) can see
 * what the honest side does with it. Driver-side classes need a master (it
 * owns the available rings and descriptors), device-side ones a remote.
 */
#ifndef RPK_CHAOS_H
#define RPK_CHAOS_H

#include <stdio.h>

#include <rpk/rpmsg.h>

struct rpk_node;

enum rpk_chaos {
	RPK_CHAOS_NONE,
	/* master (driver) writes */
	RPK_CHAOS_AVAIL_IDX, /* available index jumps past the ring size */
	RPK_CHAOS_DESC_HEAD, /* available entry names a descriptor out of range */
	RPK_CHAOS_DESC_ADDR, /* descriptor address outside every memory window */
	RPK_CHAOS_DESC_LEN,  /* descriptor longer than a buffer */
	RPK_CHAOS_DESC_LOOP, /* descriptor chained to itself */
	/* remote (device) writes */
	RPK_CHAOS_USED_IDX,  /* used index jumps past the ring size */
	RPK_CHAOS_USED_ID,   /* used entry names a head the driver never posted */
	RPK_CHAOS_USED_LEN,  /* used length larger than the buffer */
	RPK_CHAOS_MSG_LEN,   /* rpmsg header length beyond the used length */
	RPK_CHAOS_MSG_EMPTY, /* used length 0: not even a header */
	RPK_CHAOS_NS_NAME,   /* name-service announcement without a NUL */
	RPK_CHAOS_NS_FLOOD,  /* announcements for thousands of services */
	RPK_CHAOS_COUNT
};

/* Services a flood announces (more than any node's table holds). */
#define RPK_CHAOS_FLOOD_COUNT 4096u

const char *rpk_chaos_name(enum rpk_chaos c);
/* The class of that name, or RPK_CHAOS_NONE. */
enum rpk_chaos rpk_chaos_parse(const char *name);
/* True if a node of role r writes what class c corrupts. */
int rpk_chaos_role_ok(enum rpk_chaos c, enum rpk_role r);
/* One line per class: name, writer, what it does. */
void rpk_chaos_list(FILE *f);

/*
 * Make n a chaos peer: while the link is up, it writes one corruption of
 * class c every every_ms (0: 1000) at its watchdog's pace. RPK_CHAOS_NONE
 * stops it. For tests and `rpk run --chaos`; not part of the installed API.
 */
void rpk_node_set_chaos(struct rpk_node *n, enum rpk_chaos c, uint32_t every_ms);

/*
 * Write one corruption of class c into the attached link, now. Returns 0,
 * -RPK_EINVAL if this node's role does not write what c corrupts,
 * -RPK_ENOTCONN if the link is down, -RPK_EAGAIN if no buffer was free for
 * it, or a send error (the name-service classes go through the normal
 * send path with bad contents).
 */
int rpk_node_chaos(struct rpk_node *n, enum rpk_chaos c);

#endif
