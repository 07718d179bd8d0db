/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The name service at address 53, as in Linux's drivers/rpmsg/rpmsg_ns.c: a
 * 40-byte message {name[32], addr, flags}, flags 0 create, 1 destroy. This
 * file announces our named endpoints and keeps the table of the peer's
 * services; hearing the peer's announcements is ns_listen.c's.
 *
 * It sends through the public API like any client (rpk_send_any)
 * and finds endpoints through the endpoint table (ept_table.h).
 */
#include <rpk/errno.h>
#include <rpk/rpmsg.h>

#include "rpmsg/dev.h"
#include "rpmsg/ept_table.h"
#include "rpmsg/nameservice.h"

_Static_assert(sizeof(struct rpk_ns_msg) == 40, "name-service message is 40 bytes on the wire");

/* How long a destroy waits for a buffer to announce itself gone. */
#define NS_DESTROY_TIMEOUT_MS 1000u

static int ns_enabled(const struct rpk_rpmsg *dev)
{
	return (dev->features & (1u << RPK_VIRTIO_RPMSG_F_NS)) != 0;
}

/*
 * Announcements waiting: changed under the endpoint lock, but also read
 * without it by rpk_rpmsg_poll() as a cheap hint, hence atomic.
 */
static uint32_t pending(struct rpk_rpmsg *dev)
{
	return __atomic_load_n(&dev->ns_pending, __ATOMIC_RELAXED);
}

static void pending_add(struct rpk_rpmsg *dev, int n)
{
	__atomic_add_fetch(&dev->ns_pending, (uint32_t)n, __ATOMIC_RELAXED);
}

struct rpk_service *rpk_ns_service_find(struct rpk_rpmsg *dev, const char *name)
{
	for (uint32_t i = 0; i < dev->num_services; i++)
		if (dev->services[i].addr != RPK_ADDR_ANY &&
		    rpk_name_eq(dev->services[i].name, name))
			return &dev->services[i];
	return 0;
}

static int match_unannounced(const struct rpk_ept *e, const char *name, uint32_t addr)
{
	(void)name;
	(void)addr;
	return e->announce && !e->announced;
}

/* ---- our endpoints ---- */

int rpk_ns_ept_added_locked(struct rpk_rpmsg *dev, struct rpk_ept *ept)
{
	struct rpk_service *svc;

	svc = ept->name[0] && ept->dst == RPK_ADDR_ANY ? rpk_ns_service_find(dev, ept->name) : 0;
	if (svc) {
		rpk_ept_set_dst(ept, svc->addr);
		ept->ns_bound = 1;
	}
	/* Like Linux, an endpoint made for a service the peer announced does
	 * not announce itself back; an unbound named one does. */
	ept->announce = ept->name[0] && ept->dst == RPK_ADDR_ANY;
	pending_add(dev, ept->announce);
	return ept->announce;
}

int rpk_ns_ept_removed_locked(struct rpk_rpmsg *dev, struct rpk_ept *ept)
{
	/* features change under every lock (start), so under this one too */
	int announced = ept->announced && ns_enabled(dev);

	if (ept->announce && !ept->announced)
		pending_add(dev, -1);
	ept->announce = ept->announced = 0;
	return announced;
}

static inline int send_ns(struct rpk_rpmsg *dev, const struct rpk_ept *ept, uint32_t flags,
			  uint32_t timeout_ms)
{
	struct rpk_ns_msg m;

	__builtin_memcpy(m.name, ept->name, RPK_NAME_SIZE);
	m.addr = ept->addr;
	m.flags = flags;
	return rpk_send_any(dev, ept->addr, RPK_NS_ADDR, &m, sizeof(m), timeout_ms);
}

void rpk_ns_announce_gone(struct rpk_rpmsg *dev, const struct rpk_ept *ept)
{
	if (rpk_rpmsg_is_up(dev) && send_ns(dev, ept, RPK_NS_DESTROY, NS_DESTROY_TIMEOUT_MS)) {
		rpk_dev_lock(dev, RPK_LOCK_EPT); /* the counter's lock */
		dev->stats.ns_lost++;
		rpk_dev_unlock(dev, RPK_LOCK_EPT);
	}
}

void rpk_ns_flush(struct rpk_rpmsg *dev)
{
	struct rpk_ept *e;

	if (!rpk_rpmsg_is_up(dev))
		return;
	rpk_dev_lock(dev, RPK_LOCK_EPT);
	if (!ns_enabled(dev)) {
		/* The peer has no name service to hear them; forget them for
		 * good, or rpk_ept_destroy() would count them off again. */
		while (pending(dev) && (e = rpk_ept_find_locked(dev, match_unannounced, 0, 0)))
			e->announce = 0;
		pending_add(dev, -(int)pending(dev));
	}
	while (pending(dev) && (e = rpk_ept_find_locked(dev, match_unannounced, 0, 0))) {
		int err = send_ns(dev, e, RPK_NS_CREATE, RPK_NO_WAIT);

		if (err == -RPK_EAGAIN)
			break; /* retried from the next poll */
		if (err)
			dev->stats.ns_lost++;
		e->announced = !err;
		e->announce = 0;
		pending_add(dev, -1);
	}
	rpk_dev_unlock(dev, RPK_LOCK_EPT);
}

/* ---- the link's life ---- */

void rpk_ns_start(struct rpk_rpmsg *dev)
{
	struct rpk_ept *ns = &dev->ns_ept;

	/* Nobody listens (rpk_rpmsg_listen_ns not called): the peer's
	 * announcements find no endpoint and are counted as such. */
	if (!ns->cb)
		return;
	rpk_dev_lock(dev, RPK_LOCK_EPT);
	if (!rpk_ept_lookup_locked(dev, RPK_NS_ADDR)) {
		rpk_name_copy(ns->name, "name-service");
		ns->addr = RPK_NS_ADDR;
		ns->dst = RPK_ADDR_ANY;
		ns->unbind = 0;
		ns->priv = 0;
		ns->dev = dev;
		ns->announce = ns->announced = 0;
		rpk_ept_insert_locked(dev, ns);
	}
	rpk_dev_unlock(dev, RPK_LOCK_EPT);
}

void rpk_ns_reset_locked(struct rpk_rpmsg *dev)
{
	uint32_t due = 0;

	for (uint32_t i = 0; i < dev->num_services; i++)
		dev->services[i].addr = RPK_ADDR_ANY;
	for (uint32_t b = 0; b <= dev->bucket_mask; b++)
		for (struct rpk_ept *e = dev->buckets[b]; e; e = e->hnext) {
			if (e == &dev->ns_ept)
				continue;
			if (e->announce || e->announced) {
				e->announce = 1;
				e->announced = 0;
				due++;
			}
			if (e->ns_bound) {
				rpk_ept_set_dst(e, RPK_ADDR_ANY);
				e->ns_bound = 0;
			}
			e->unbind_due = e->unbind != 0;
		}
	pending_add(dev, (int)due - (int)pending(dev));
}
