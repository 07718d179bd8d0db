// SPDX-License-Identifier: BSD-3-Clause
/*
 * A firmware's resource table for the rpk rsc check tests (tests/dtb/dtb.sh):
 * the seeds' link (examples/dts/seed-tcc807x.dts) as a table with a fixed
 * carveout, the buffer pool, named after its region as Linux names
 * carveouts after their memory-region nodes. Each -D below puts one value
 * where the devicetree does not.
 */
#include <rpk/rsc_table.h>
#include <rpk/virtio.h>

#ifndef VRING0_DA
#define VRING0_DA 0x200c8000u
#endif
#ifndef VRING_NUM
#define VRING_NUM 16u
#endif
#ifndef BUF_LEN
#define BUF_LEN 0x4000u
#endif
#define VRING1_DA   0x200c9000u
#define VRING_ALIGN 64u
#define BUF_DA	    0x200ca000u

struct vdev_with_rings {
	uint32_t type, id, notifyid, dfeatures, gfeatures, config_len;
	uint8_t status, num_of_vrings, reserved[2];
	struct rpk_fw_rsc_vdev_vring vring[2];
};

struct check_table {
	uint32_t ver, num, reserved[2];
	uint32_t offset[2];
	struct rpk_fw_rsc_carveout buffer;
	struct vdev_with_rings vdev;
};

__attribute__((section(".resource_table"), used, aligned(8)))
const struct check_table resource_table = {
    .ver = 1,
    .num = 2,
    .offset = {__builtin_offsetof(struct check_table, buffer),
	       __builtin_offsetof(struct check_table, vdev)},
    .buffer = {RPK_RSC_CARVEOUT, BUF_DA, BUF_DA, BUF_LEN, 0, 0, "vdev0buffer"},
    .vdev = {RPK_RSC_VDEV,
	     RPK_VIRTIO_ID_RPMSG,
	     2,
	     1u << RPK_VIRTIO_RPMSG_F_NS,
	     0,
	     0,
	     0,
	     2,
	     {0, 0},
	     {{VRING0_DA, VRING_ALIGN, VRING_NUM, 0, 0},
	      {VRING1_DA, VRING_ALIGN, VRING_NUM, 1, 0}}},
};
