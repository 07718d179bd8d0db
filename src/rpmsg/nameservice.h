/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The name service (implemented in nameservice.c): what the endpoint API and
 * the message path ask of it. It reaches them back only through the endpoint
 * table (ept_table.h) and the public API (sends), never through their files.
 */
#ifndef RPK_SRC_RPMSG_NAMESERVICE_H
#define RPK_SRC_RPMSG_NAMESERVICE_H

#include <rpk/rpmsg.h>

/* Bind the name-service endpoint at address 53, if we listen
 * (rpk_rpmsg_listen_ns, ns_listen.c) (EPT not held). */
void rpk_ns_start(struct rpk_rpmsg *dev);

/* Send the announcements that are waiting for the link or for a buffer (EPT not held). */
void rpk_ns_flush(struct rpk_rpmsg *dev);

/* Reset (all locks held): unbind endpoints, forget the peer's services,
 * queue announcements again. */
void rpk_ns_reset_locked(struct rpk_rpmsg *dev);

/*
 * A new endpoint (EPT held, its name and dst set): bind it to the peer's
 * service of its name, or queue its announcement. Returns 1 if it is to be
 * announced (call rpk_ns_flush() once the lock is dropped).
 */
int rpk_ns_ept_added_locked(struct rpk_rpmsg *dev, struct rpk_ept *ept);

/*
 * An endpoint removed from the table (EPT held): drop its pending
 * announcement. Returns 1 if the peer heard of it and is to hear it is gone
 * (call rpk_ns_announce_gone() once the lock is dropped).
 */
int rpk_ns_ept_removed_locked(struct rpk_rpmsg *dev, struct rpk_ept *ept);
void rpk_ns_announce_gone(struct rpk_rpmsg *dev, const struct rpk_ept *ept);

/* The peer's service of this name, from the caller's table, or NULL (EPT held). */
struct rpk_service *rpk_ns_service_find(struct rpk_rpmsg *dev, const char *name);

#endif
