/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk_vq_init() and rpk_vq_reset(): either half, chosen at run time. In a
 * file of their own, as they reference both halves: an image that calls only
 * one half's entry points (rpk_vq_init_device...) never loads this file.
 */
#include <rpk/virtio.h>

int rpk_vq_init(struct rpk_vq *vq, const struct rpk_vq_cfg *cfg)
{
	if (cfg->role == RPK_VQ_DRIVER)
		return rpk_vq_init_driver(vq, cfg);
	return rpk_vq_init_device(vq, cfg);
}

void rpk_vq_reset(struct rpk_vq *vq)
{
	if (vq->role == RPK_VQ_DRIVER)
		rpk_vq_reset_driver(vq);
	else
		rpk_vq_reset_device(vq);
}
