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
	if (cfg->role == RPK_ROLE_REMOTE) {
		int err = rpk_rpmsg_init_remote(dev, cfg);

		if (!err) { /* every part of the link, as the master has */
			rpk_rpmsg_listen_ns(dev);
			rpk_rpmsg_use_event_idx(dev);
		}
		return err;
	}
	return -RPK_EINVAL;
}
