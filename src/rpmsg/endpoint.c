/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The endpoint API: create, destroy, look up. Endpoints live in the
 * endpoint table (ept_table.h); the name service (nameservice.h) binds them
 * to the peer's services and announces them.
 */
#include <rpk/errno.h>
#include <rpk/rpmsg.h>

#include "rpmsg/dev.h"
#include "rpmsg/ept_table.h"
#include "rpmsg/nameservice.h"

uint32_t rpk_ept_get_dst(const struct rpk_ept *ept)
{
	return __atomic_load_n(&ept->dst, __ATOMIC_RELAXED);
}

struct rpk_ept *rpk_ept_lookup(struct rpk_rpmsg *dev, uint32_t addr)
{
	struct rpk_ept *e;

	rpk_dev_lock(dev, RPK_LOCK_EPT);
	e = rpk_ept_lookup_locked(dev, addr);
	rpk_dev_unlock(dev, RPK_LOCK_EPT);
	return e;
}

int rpk_ept_create(struct rpk_rpmsg *dev, struct rpk_ept *ept, const char *name, uint32_t src,
		   uint32_t dst, rpk_rx_cb cb, void *priv)
{
	int err, announce = 0;

	if (rpk_name_copy(ept->name, name))
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
		err = rpk_ept_alloc_addr_locked(dev, &src);
	else if (src == RPK_NS_ADDR)
		err = -RPK_EADDRINUSE; /* the name service's, bound or not */
	else
		err = rpk_ept_lookup_locked(dev, src) ? -RPK_EADDRINUSE : 0;
	if (!err) {
		ept->addr = src;
		/* once inserted, a flush may clear ept->announce */
		announce = rpk_ns_ept_added_locked(dev, ept);
		rpk_ept_insert_locked(dev, ept);
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

void rpk_ept_destroy(struct rpk_ept *ept)
{
	struct rpk_rpmsg *dev = ept->dev;
	int announced;

	rpk_dev_lock(dev, RPK_LOCK_EPT);
	rpk_ept_remove_locked(dev, ept);
	announced = rpk_ns_ept_removed_locked(dev, ept);
	rpk_dev_unlock(dev, RPK_LOCK_EPT);
	if (announced)
		rpk_ns_announce_gone(dev, ept);
}
