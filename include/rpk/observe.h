/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Looking at a running link from outside, as `rpk status`, `rpk trace` and
 * `rpk rsc dump --dt` do: its objects mapped read-only (never created, the
 * same access check as a node's, docs/access.md), everything in them
 * treated as untrusted. An observer never writes the link.
 */
#ifndef RPK_OBSERVE_H
#define RPK_OBSERVE_H

#include <stddef.h>
#include <stdint.h>

#include <rpk/layout.h>
#include <rpk/port.h>
#include <rpk/rsc_table.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A link looked at (opaque). */
struct rpk_observer;

/*
 * Map the link of node (either side's name in lay) for instance, shared
 * with group (NULL: ours alone). lay must outlive the observer. Returns 0,
 * -RPK_ENOENT if the link's objects do not exist (it is not running), or
 * with a message in err: -RPK_EINVAL (no such node, an unknown group),
 * -RPK_EACCES (refused by the access model), -RPK_EIO.
 */
int rpk_observer_open(struct rpk_observer **out, const struct rpk_layout *lay, const char *node,
		      const char *instance, const char *group, char *err, size_t errlen);
void rpk_observer_close(struct rpk_observer *o);

/* The node named at open, and the table's region. */
const struct rpk_layout_node *rpk_observer_node(const struct rpk_observer *o);
const struct rpk_region *rpk_observer_table_region(const struct rpk_observer *o);

/*
 * What a side's doorbell says of the process that rings it, read once and
 * checked: a pid counts as a node of this link only if that process maps
 * the link's mailbox (anyone who can write the mailbox can write a pid).
 */
struct rpk_observed_side {
	uint32_t pid, session; /* session 0: it never signed (or does not sign) */
	int maps;	       /* 1: that process maps this link; 0: it does not; -1: cannot tell */
	int alive;	       /* the process exists (and is no zombie) */
};
void rpk_observer_sides(struct rpk_observer *o, struct rpk_observed_side *remote,
			struct rpk_observed_side *master);

/*
 * A validated private copy of the resource table (free() it; its size is
 * the region's rsc-size), or NULL: *published says whether a table was there
 * at all, why what is wrong with it. A table of the other byte order (a
 * remote of another CPU, which no master serves) comes in the CPU's order.
 */
uint8_t *rpk_observer_table(struct rpk_observer *o, int *published, struct rpk_rsc_problem *why);

/* The table's bytes as they are, validated or not (rsc-size of them), for a
 * dump that shows what is wrong. 0, or -RPK_EINVAL if cap is too small. */
int rpk_observer_table_raw(struct rpk_observer *o, void *buf, size_t cap);

/*
 * The trace buffer the table announces (RSC_TRACE), mapped read-only, if it
 * lies inside the table's region: its address and length, or NULL with why.
 * Read it with rpk_trace_read() and rpk_observer_port().
 */
const void *rpk_observer_trace(struct rpk_observer *o, uint32_t *len, char *why, size_t whylen);

/* A port for reading the link's memory (coherent reads, no doorbell). */
const struct rpk_port *rpk_observer_port(const struct rpk_observer *o);

/* Whether process pid (read from shared memory) keeps the shm object
 * object_name ("/rpk-..."): 1 it maps it, 0 it does not, -1 cannot tell;
 * *alive: whether it exists at all. */
int rpk_observe_pid(uint32_t pid, const char *object_name, int *alive);

#ifdef __cplusplus
}
#endif

#endif
