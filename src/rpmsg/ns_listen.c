/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hearing the peer's name service (rpk_rpmsg_listen_ns): the endpoint at
 * address 53 takes its announcements, binds our named endpoints to the
 * services it creates, remembers them in the caller's service table, and
 * unbinds them when it destroys its own. Announcing our endpoints is
 * nameservice.c's.
 *
 * Only rpk_rpmsg_listen_ns() references this file: a remote that never hears
 * the master's announcements (RPMsg-Lite's default too) links none of it.
 */
#include <rpk/errno.h>
#include <rpk/rpmsg.h>

#include "rpmsg/dev.h"
#include "rpmsg/ept_table.h"
#include "rpmsg/nameservice.h"

static int match_bound(const struct rpk_ept *e, const char *name, uint32_t addr)
{
	return e->dst == addr && rpk_name_eq(e->name, name);
}

static int match_unbound(const struct rpk_ept *e, const char *name, uint32_t addr)
{
	(void)addr;
	return e->dst == RPK_ADDR_ANY && rpk_name_eq(e->name, name);
}

static void service_record(struct rpk_rpmsg *dev, const char *name, uint32_t addr)
{
	struct rpk_service *svc = rpk_ns_service_find(dev, name);

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
	struct rpk_service *svc = rpk_ns_service_find(dev, name);

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

void rpk_rpmsg_listen_ns(struct rpk_rpmsg *dev)
{
	/* rpk_ns_start() binds it at address 53 once the link is up. */
	dev->ns_ept.cb = ns_rx;
}
