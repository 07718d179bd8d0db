/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Endpoints (a hash table keyed by local address, so dispatch is O(1)) and
 * the name service at address 53, as in Linux's drivers/rpmsg/rpmsg_ns.c:
 * a 40-byte message {name[32], addr, flags}, flags 0 create, 1 destroy.
 */
#include <rpk/errno.h>
#include <rpk/rpmsg.h>

#include "rpmsg/rpmsg_internal.h"

/* How long a destroy waits for a buffer to announce itself gone. */
#define NS_DESTROY_TIMEOUT_MS 1000u

/* Changed under the endpoint lock, read by senders without it. */
static void set_dst(struct rpk_ept *ept, uint32_t dst)
{
	__atomic_store_n(&ept->dst, dst, __ATOMIC_RELAXED);
}

uint32_t rpk_ept_get_dst(const struct rpk_ept *ept)
{
	return __atomic_load_n(&ept->dst, __ATOMIC_RELAXED);
}

static struct rpk_ept **bucket(struct rpk_rpmsg *dev, uint32_t addr)
{
	return &dev->buckets[addr & dev->bucket_mask];
}

struct rpk_ept *rpk_ept_lookup_locked(struct rpk_rpmsg *dev, uint32_t addr)
{
	for (struct rpk_ept *e = *bucket(dev, addr); e; e = e->hnext)
		if (e->addr == addr)
			return e;
	return 0;
}

struct rpk_ept *rpk_ept_lookup(struct rpk_rpmsg *dev, uint32_t addr)
{
	struct rpk_ept *e;

	rpk_dev_lock(dev, RPK_LOCK_EPT);
	e = rpk_ept_lookup_locked(dev, addr);
	rpk_dev_unlock(dev, RPK_LOCK_EPT);
	return e;
}

static void ept_insert_locked(struct rpk_rpmsg *dev, struct rpk_ept *ept)
{
	struct rpk_ept **b = bucket(dev, ept->addr);

	ept->hnext = *b;
	*b = ept;
}

static void ept_remove_locked(struct rpk_rpmsg *dev, struct rpk_ept *ept)
{
	struct rpk_ept **pp = bucket(dev, ept->addr);

	while (*pp && *pp != ept)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = ept->hnext;
}

/* Next free dynamic address; they wrap within [1024, 0xfffffffe]. */
static int alloc_addr_locked(struct rpk_rpmsg *dev, uint32_t *addr)
{
	for (uint32_t tries = 0; tries < (1u << 20); tries++) {
		uint32_t a = dev->next_addr++;

		if (dev->next_addr == RPK_ADDR_ANY)
			dev->next_addr = RPK_RESERVED_ADDRESSES;
		if (!rpk_ept_lookup_locked(dev, a)) {
			*addr = a;
			return 0;
		}
	}
	return -RPK_ENOMEM;
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

static int name_eq(const char *a, const char *b)
{
	for (uint32_t i = 0; i < RPK_NAME_SIZE; i++) {
		if (a[i] != b[i])
			return 0;
		if (!a[i])
			return 1;
	}
	return 1;
}

/* Copy a caller's name; -RPK_EINVAL if it does not fit with its NUL. */
static int name_copy(char *dst, const char *src)
{
	uint32_t i = 0;

	if (src)
		for (; i < RPK_NAME_SIZE && src[i]; i++)
			dst[i] = src[i];
	if (i == RPK_NAME_SIZE)
		return -RPK_EINVAL;
	for (; i < RPK_NAME_SIZE; i++)
		dst[i] = 0;
	return 0;
}

static struct rpk_service *service_find(struct rpk_rpmsg *dev, const char *name)
{
	for (uint32_t i = 0; i < dev->num_services; i++)
		if (dev->services[i].addr != RPK_ADDR_ANY && name_eq(dev->services[i].name, name))
			return &dev->services[i];
	return 0;
}

/* Calls fn for every endpoint until it returns non-zero; returns that endpoint. */
static struct rpk_ept *ept_find_locked(struct rpk_rpmsg *dev,
				       int (*match)(const struct rpk_ept *, const char *, uint32_t),
				       const char *name, uint32_t addr)
{
	for (uint32_t b = 0; b <= dev->bucket_mask; b++)
		for (struct rpk_ept *e = dev->buckets[b]; e; e = e->hnext)
			if (e != &dev->ns_ept && match(e, name, addr))
				return e;
	return 0;
}

static int match_unbound(const struct rpk_ept *e, const char *name, uint32_t addr)
{
	(void)addr;
	return e->dst == RPK_ADDR_ANY && name_eq(e->name, name);
}

static int match_bound(const struct rpk_ept *e, const char *name, uint32_t addr)
{
	return e->dst == addr && name_eq(e->name, name);
}

static int match_unannounced(const struct rpk_ept *e, const char *name, uint32_t addr)
{
	(void)name;
	(void)addr;
	return e->announce && !e->announced;
}

int rpk_ept_create(struct rpk_rpmsg *dev, struct rpk_ept *ept, const char *name, uint32_t src,
		   uint32_t dst, rpk_rx_cb cb, void *priv)
{
	struct rpk_service *svc;
	int err, announce = 0;

	if (name_copy(ept->name, name))
		return -RPK_EINVAL;
	ept->dst = dst;
	ept->cb = cb;
	ept->unbind = 0;
	ept->priv = priv;
	ept->dev = dev;
	ept->announce = 0;
	ept->announced = 0;
	ept->ns_bound = 0;
	ept->unbind_due = 0;

	rpk_dev_lock(dev, RPK_LOCK_EPT);
	if (src == RPK_ADDR_ANY)
		err = alloc_addr_locked(dev, &src);
	else if (src == RPK_NS_ADDR)
		err = -RPK_EADDRINUSE; /* the name service's, bound or not */
	else
		err = rpk_ept_lookup_locked(dev, src) ? -RPK_EADDRINUSE : 0;
	if (!err) {
		ept->addr = src;
		svc = ept->name[0] && dst == RPK_ADDR_ANY ? service_find(dev, ept->name) : 0;
		if (svc) {
			set_dst(ept, svc->addr);
			ept->ns_bound = 1;
		}
		/* Like Linux, an endpoint made for a service the peer announced
		 * does not announce itself back; an unbound named one does. */
		ept->announce = ept->name[0] && ept->dst == RPK_ADDR_ANY;
		announce = ept->announce; /* once inserted, a flush may clear it */
		ept_insert_locked(dev, ept);
		pending_add(dev, ept->announce);
	}
	rpk_dev_unlock(dev, RPK_LOCK_EPT);
	if (!err && announce)
		rpk_ns_flush(dev);
	return err;
}

void rpk_ept_set_unbind(struct rpk_ept *ept, rpk_unbind_cb unbind)
{
	rpk_dev_lock(ept->dev, RPK_LOCK_EPT);
	ept->unbind = unbind;
	rpk_dev_unlock(ept->dev, RPK_LOCK_EPT);
}

static int send_ns(struct rpk_rpmsg *dev, const struct rpk_ept *ept, uint32_t flags,
		   uint32_t timeout_ms)
{
	struct rpk_ns_msg m;

	__builtin_memcpy(m.name, ept->name, RPK_NAME_SIZE);
	m.addr = ept->addr;
	m.flags = flags;
	return rpk_send_offchannel_raw(dev, ept->addr, RPK_NS_ADDR, &m, sizeof(m), timeout_ms);
}

void rpk_ept_destroy(struct rpk_ept *ept)
{
	struct rpk_rpmsg *dev = ept->dev;
	int announced;

	rpk_dev_lock(dev, RPK_LOCK_EPT);
	ept_remove_locked(dev, ept);
	if (ept->announce && !ept->announced)
		pending_add(dev, -1);
	/* features change under every lock (start), so under this one too */
	announced = ept->announced && (dev->features & (1u << RPK_VIRTIO_RPMSG_F_NS));
	ept->announce = ept->announced = 0;
	rpk_dev_unlock(dev, RPK_LOCK_EPT);

	if (announced && rpk_rpmsg_is_up(dev) &&
	    send_ns(dev, ept, RPK_NS_DESTROY, NS_DESTROY_TIMEOUT_MS)) {
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
	if (!(dev->features & (1u << RPK_VIRTIO_RPMSG_F_NS))) {
		/* The peer has no name service to hear them; forget them for
		 * good, or rpk_ept_destroy() would count them off again. */
		while (pending(dev) && (e = ept_find_locked(dev, match_unannounced, 0, 0)))
			e->announce = 0;
		pending_add(dev, -(int)pending(dev));
	}
	while (pending(dev) && (e = ept_find_locked(dev, match_unannounced, 0, 0))) {
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

/* ---- incoming name-service messages ---- */

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
	name_copy(svc->name, name);
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
	e = ept_find_locked(dev, match_unbound, name, addr);
	if (e) {
		set_dst(e, addr);
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
	while ((e = ept_find_locked(dev, match_bound, name, addr))) {
		set_dst(e, RPK_ADDR_ANY);
		e->ns_bound = 0;
		if (e->unbind)
			e->unbind(e);
	}
}

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
				set_dst(e, RPK_ADDR_ANY);
				e->ns_bound = 0;
			}
			e->unbind_due = e->unbind != 0;
		}
	pending_add(dev, (int)due - (int)pending(dev));
}

static int match_unbind_due(const struct rpk_ept *e, const char *name, uint32_t addr)
{
	(void)name;
	(void)addr;
	return e->unbind_due;
}

void rpk_ept_run_unbinds(struct rpk_rpmsg *dev)
{
	struct rpk_ept *e;

	/* Looked up afresh each time: a callback may destroy its endpoint. */
	while ((e = ept_find_locked(dev, match_unbind_due, 0, 0))) {
		e->unbind_due = 0;
		if (e->unbind)
			e->unbind(e);
	}
}

void rpk_ns_start(struct rpk_rpmsg *dev)
{
	struct rpk_ept *ns = &dev->ns_ept;

	rpk_dev_lock(dev, RPK_LOCK_EPT);
	if (!rpk_ept_lookup_locked(dev, RPK_NS_ADDR)) {
		name_copy(ns->name, "name-service");
		ns->addr = RPK_NS_ADDR;
		ns->dst = RPK_ADDR_ANY;
		ns->cb = ns_rx;
		ns->unbind = 0;
		ns->priv = 0;
		ns->dev = dev;
		ns->announce = ns->announced = 0;
		ept_insert_locked(dev, ns);
	}
	rpk_dev_unlock(dev, RPK_LOCK_EPT);
}
