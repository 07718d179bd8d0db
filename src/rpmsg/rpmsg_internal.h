/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared between the rpmsg message path (rpmsg.c) and endpoints (endpoint.c). */
#ifndef RPK_SRC_RPMSG_INTERNAL_H
#define RPK_SRC_RPMSG_INTERNAL_H

#include <rpk/rpmsg.h>

void rpk_dev_lock(struct rpk_rpmsg *dev, enum rpk_lock which);
void rpk_dev_unlock(struct rpk_rpmsg *dev, enum rpk_lock which);
void rpk_dev_kick(struct rpk_rpmsg *dev, struct rpk_vq *vq);

struct rpk_ept *rpk_ept_lookup_locked(struct rpk_rpmsg *dev, uint32_t addr);

/* Reset: unbind endpoints, forget the peer's services, queue announcements again. */
void rpk_ns_reset_locked(struct rpk_rpmsg *dev);
/* Run the unbind callbacks the reset left due. */
void rpk_ept_run_unbinds(struct rpk_rpmsg *dev);

/* Bind the name-service endpoint at address 53. */
void rpk_ns_start(struct rpk_rpmsg *dev);
/* Send the announcements that are waiting for the link or for a buffer. */
void rpk_ns_flush(struct rpk_rpmsg *dev);

#endif
