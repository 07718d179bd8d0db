/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Looking at a running link from outside, as `rpk status`, `rpk trace` and
 * `rpk rsc dump --dt` do: its shm objects mapped read-only (never created),
 * everything in them treated as untrusted.
 */
#ifndef RPK_OBSERVE_H
#define RPK_OBSERVE_H

#include <stdint.h>

#include <rpk/rsc_table.h>

#include "posix/rpk_posix.h"
#include "rpk_tool.h"

struct observed {
	const struct rpk_layout *lay;
	const struct rpk_layout_node *ln;
	const struct rpk_region *rsc;
	struct rpk_shm rsc_shm, mbox_shm;
	const struct rpk_bell *remote_bell, *master_bell;
	struct rpk_port port; /* no ops: coherent reads */
};

/* Map node's link for instance, shared with group (NULL: ours alone; see
 * docs/access.md). Returns 0, 1 if the link's shared memory does not exist
 * (not running), or -1 after printing why (cmd prefixes messages). */
int observe_open(struct observed *o, const struct rpk_layout *lay, const char *node,
		 const char *instance, const char *group, const char *cmd);
void observe_close(struct observed *o);

/* A validated private copy of the table (free it), or NULL: *published says
 * whether one was there at all, why what is wrong with it. */
uint8_t *observe_table(struct observed *o, int *published, struct rpk_rsc_problem *why);

#endif
