/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The name service at address 53, as in Linux's drivers/rpmsg/rpmsg_ns.c: a
 * 40-byte message {name[32], addr, flags}, flags 0 create, 1 destroy. It
 * announces our named endpoints, binds ours to the services the peer
 * announces (and remembers them in the caller's service table) and unbinds
 * them when the peer destroys its own.
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

static struct rpk_service *service_find(struct rpk_rpmsg *dev, const char *name)
{
	for (uint32_t i = 0; i < dev->num_services; i++)
		if (dev->services[i].addr != RPK_ADDR_ANY &&
		    rpk_name_eq(dev->services[i].name, name))
			return &dev->services[i];
	return 0;
}

static int match_unbound(const struct rpk_ept *e, const char *name, uint32_t addr)
{
	(void)addr;
	return e->dst == RPK_ADDR_ANY && rpk_name_eq(e->name, name);
}

static int match_bound(const struct rpk_ept *e, const char *name, uint32_t addr)
{
	return e->dst == addr && rpk_name_eq(e->name, name);
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

	svc = ept->name[0] && ept->dst == RPK_ADDR_ANY ? service_find(dev, ept->name) : 0;
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

/* ---- the peer's services ---- */

static void service_record(struct rpk_rpmsg *dev, const char *name, uint32_t addr)
{
	struct rpk_service *svc = service_find(dev, name);

	for (uint32_t i = 0; !svc && i < dev->num_services; i++)
		if (dev->services[i].addr == RPK_ADDR_ANY)
			svc = &dev->services[i];
	if (!svc) {
		dev->stats.ns_table_full++;
		return;
	}
	rpk_name_copy(svc->name, name);
	svc->addr = addr;
}

static void service_forget(struct rpk_rpmsg *dev, const char *name, uint32_t addr)
{
	struct rpk_service *svc = service_find(dev, name);

	if (svc && svc->addr == addr)
		svc->addr = RPK_ADDR_ANY;
}

static void ns_create(struct rpk_rpmsg *dev, const char *name, uint32_t addr)
{
	struct rpk_ept *e;

	service_record(dev, name, addr);
	e = rpk_ept_find_locked(dev, match_unbound, name, addr);
	if (e) {
		rpk_ept_set_dst(e, addr);
		e->ns_bound = 1;
	} else if (dev->ns_bind)
		dev->ns_bind(dev, name, addr, dev->ns_priv);
}

static void ns_destroy(struct rpk_rpmsg *dev, const char *name, uint32_t addr)
{
	struct rpk_ept *e;

	service_forget(dev, name, addr);
	/* Unbinding clears dst, so each endpoint matches once even if its
	 * callback destroys it. */
	while ((e = rpk_ept_find_locked(dev, match_bound, name, addr))) {
		rpk_ept_set_dst(e, RPK_ADDR_ANY);
		e->ns_bound = 0;
		if (e->unbind)
			e->unbind(e);
	}
}

/* The name-service endpoint's receive callback (RX and EPT held). */
static int ns_rx(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct rpk_rpmsg *dev = ept->dev;
	struct rpk_ns_msg m;
	int terminated = 0;

	(void)src;
	(void)priv;
	if (len != sizeof(m)) {
		dev->stats.ns_bad++;
		return 0;
	}
	/* One copy out of shared memory; everything below uses it. */
	__builtin_memcpy(&m, data, sizeof(m));
	for (uint32_t i = 0; i < RPK_NAME_SIZE; i++)
		terminated |= m.name[i] == 0;
	if (!terminated || !m.name[0] || m.addr == RPK_ADDR_ANY) {
		dev->stats.ns_bad++;
		return 0;
	}
	if (m.flags == RPK_NS_CREATE)
		ns_create(dev, m.name, m.addr);
	else if (m.flags == RPK_NS_DESTROY)
		ns_destroy(dev, m.name, m.addr);
	else
		dev->stats.ns_bad++;
	return 0;
}

/* ---- the link's life ---- */

void rpk_ns_start(struct rpk_rpmsg *dev)
{
	struct rpk_ept *ns = &dev->ns_ept;

	rpk_dev_lock(dev, RPK_LOCK_EPT);
	if (!rpk_ept_lookup_locked(dev, RPK_NS_ADDR)) {
		rpk_name_copy(ns->name, "name-service");
		ns->addr = RPK_NS_ADDR;
		ns->dst = RPK_ADDR_ANY;
		ns->cb = ns_rx;
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
