/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk up's ttys (docs/tty.md): each rpmsg-tty channel of a node a pty,
 * shown as ttyRPMSG0, 1, ... in the service's directory. A remote announces each "rpmsg-tty" of its
 * rpk,services; a master makes one for each the peer announces, as Linux's
 * rpmsg_tty driver does. One thread moves the bytes of all of them.
 */
#ifndef RPK_HOST_TTY_SERVICE_H
#define RPK_HOST_TTY_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include <rpk/layout.h>
#include <rpk/node.h>

#define RPK_TTY_SERVICE "rpmsg-tty" /* the name Linux's rpmsg_tty binds to */

struct rpk_tty_service;

/* Shows (target) or removes (NULL) the link name to a pty, as rpk up's
 * directory does (rpk_chardev_link). */
typedef int (*rpk_tty_publish_cb)(void *ctx, const char *name, const char *target);

/* Before the node opens: its ns_bind callback and priv for rpk_node_opts
 * (a master learns of the peer's ttys through them). */
int rpk_tty_service_new(struct rpk_tty_service **out);
void rpk_tty_ns_bind(struct rpk_rpmsg *dev, const char *name, uint32_t addr, void *priv);

/* Once the node runs: a remote makes its announced ttys; both start the
 * thread. 0, or -1 with err. */
int rpk_tty_service_start(struct rpk_tty_service *t, struct rpk_node *n,
			  const struct rpk_layout_node *ln, rpk_tty_publish_cb publish, void *ctx,
			  char *err, size_t errlen);
/* How many ptys there are now. */
int rpk_tty_service_count(struct rpk_tty_service *t);
/* Stop the thread, remove the links, close the ptys; NULL is fine. */
void rpk_tty_service_close(struct rpk_tty_service *t);

#endif
