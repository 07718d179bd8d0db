/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk_rpmsg_init(): the role from cfg->role, chosen at run time. In a file
 * of its own, as it references both roles: an image that calls only
 * rpk_rpmsg_init_remote() (or only _master) never loads this file, and so
 * neither the other role's code.
 */
#include <rpk/errno.h>
#include <rpk/rpmsg.h>

int rpk_rpmsg_init(struct rpk_rpmsg *dev, const struct rpk_rpmsg_cfg *cfg)
{
	if (cfg->role == RPK_ROLE_MASTER)
		return rpk_rpmsg_init_master(dev, cfg);
	if (cfg->role == RPK_ROLE_REMOTE)
		return rpk_rpmsg_init_remote(dev, cfg);
	return -RPK_EINVAL;
}
