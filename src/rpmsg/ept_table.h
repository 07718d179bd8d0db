/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The endpoint table (implemented in ept_table.c): a hash table keyed by
 * local address, so dispatch is O(1), and the names endpoints carry. The
 * name service, the endpoint API and the message path all build on it; it
 * builds on nothing of theirs. Functions ending in _locked want the EPT lock.
 */
#ifndef RPK_SRC_RPMSG_EPT_TABLE_H
#define RPK_SRC_RPMSG_EPT_TABLE_H

#include <rpk/rpmsg.h>

struct rpk_ept *rpk_ept_lookup_locked(struct rpk_rpmsg *dev, uint32_t addr);
void rpk_ept_insert_locked(struct rpk_rpmsg *dev, struct rpk_ept *ept);
void rpk_ept_remove_locked(struct rpk_rpmsg *dev, struct rpk_ept *ept);

/* Next free dynamic address; they wrap within [1024, 0xfffffffe]. 0 or -RPK_ENOMEM. */
int rpk_ept_alloc_addr_locked(struct rpk_rpmsg *dev, uint32_t *addr);

/* The first endpoint but the name service's own for which match() is true, or NULL. */
typedef int (*rpk_ept_match)(const struct rpk_ept *e, const char *name, uint32_t addr);
struct rpk_ept *rpk_ept_find_locked(struct rpk_rpmsg *dev, rpk_ept_match match, const char *name,
				    uint32_t addr);

/* Changed under the EPT lock, read by senders without it. */
void rpk_ept_set_dst(struct rpk_ept *ept, uint32_t dst);

/* Run the unbind callbacks a reset left due (EPT held). */
void rpk_ept_run_unbinds(struct rpk_rpmsg *dev);

/* Names of RPK_NAME_SIZE bytes. */
int rpk_name_eq(const char *a, const char *b);
/* Copy a caller's name; -RPK_EINVAL if it does not fit with its NUL. */
int rpk_name_copy(char *dst, const char *src);

#endif
