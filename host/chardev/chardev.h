/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Endpoint devices for a running node (`rpk up`, docs/chardev.md): a FUSE
 * directory whose files behave like Linux's rpmsg_char: rpmsg_ctrl0 makes
 * endpoints with RPMSG_CREATE_EPT_IOCTL, each an rpmsgN file (one write one
 * message, one read one message); the devicetree's channel devices
 * (rpmsg<channel>_<endpoint>, message or stream mode); and the counters as
 * text (interrupts, stats/). Used by the rpk tool; not part of the library.
 */
#ifndef RPK_CHARDEV_H
#define RPK_CHARDEV_H

#include <stddef.h>
#include <sys/types.h>

#include <rpk/node.h>

struct rpk_chardev;

struct rpk_chardev_opts {
	const char *dir; /* mount point; created if missing */
	int group_set;	 /* share with gid (files 0660, others allowed in) */
	gid_t gid;
};

/*
 * Make the devices of the node's devicetree channel and mount the directory.
 * The node must be started (a master's device exists from then on). Returns
 * 0 or a negative RPK_E* error with a message in err.
 */
int rpk_chardev_open(struct rpk_chardev **out, struct rpk_node *n, const struct rpk_layout_node *ln,
		     const struct rpk_chardev_opts *o, char *err, size_t errlen);
/* Show a symbolic link name -> target in the directory (target NULL:
 * remove it), as the ttys' ptys are shown. 0, or -RPK_ENOSPC when the
 * directory holds as many links as it can. */
int rpk_chardev_link(struct rpk_chardev *cd, const char *name, const char *target);

/* Serve requests until rpk_chardev_stop(); returns 0 or -RPK_EIO. */
int rpk_chardev_run(struct rpk_chardev *cd);
/* End rpk_chardev_run() (async-signal-safe). */
void rpk_chardev_stop(struct rpk_chardev *cd);
/* Unmount, answer every waiting reader, destroy the endpoints. NULL is fine. */
void rpk_chardev_close(struct rpk_chardev *cd);

#endif
