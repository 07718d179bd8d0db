/* SPDX-License-Identifier: BSD-3-Clause */
/* The endpoint table: see ept_table.h. */
#include <rpk/errno.h>
#include <rpk/rpmsg.h>

#include "rpmsg/ept_table.h"

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

void rpk_ept_insert_locked(struct rpk_rpmsg *dev, struct rpk_ept *ept)
{
	struct rpk_ept **b = bucket(dev, ept->addr);

	ept->hnext = *b;
	*b = ept;
}

void rpk_ept_remove_locked(struct rpk_rpmsg *dev, struct rpk_ept *ept)
{
	struct rpk_ept **pp = bucket(dev, ept->addr);

	while (*pp && *pp != ept)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = ept->hnext;
}

int rpk_ept_alloc_addr_locked(struct rpk_rpmsg *dev, uint32_t *addr)
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

struct rpk_ept *rpk_ept_find_locked(struct rpk_rpmsg *dev, rpk_ept_match match, const char *name,
				    uint32_t addr)
{
	for (uint32_t b = 0; b <= dev->bucket_mask; b++)
		for (struct rpk_ept *e = dev->buckets[b]; e; e = e->hnext)
			if (e != &dev->ns_ept && match(e, name, addr))
				return e;
	return 0;
}

void rpk_ept_set_dst(struct rpk_ept *ept, uint32_t dst)
{
	__atomic_store_n(&ept->dst, dst, __ATOMIC_RELAXED);
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
	while ((e = rpk_ept_find_locked(dev, match_unbind_due, 0, 0))) {
		e->unbind_due = 0;
		if (e->unbind)
			e->unbind(e);
	}
}

int rpk_name_eq(const char *a, const char *b)
{
	for (uint32_t i = 0; i < RPK_NAME_SIZE; i++) {
		if (a[i] != b[i])
			return 0;
		if (!a[i])
			return 1;
	}
	return 1;
}

int rpk_name_copy(char *dst, const char *src)
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
