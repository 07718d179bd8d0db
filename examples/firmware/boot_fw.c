// SPDX-License-Identifier: BSD-3-Clause
/*
 * A firmware for auto-boot: its .resource_table asks for an rpmsg vdev and a
 * heap, and leaves their addresses to the master (FW_RSC_ADDR_ANY), which
 * loads the image, assigns them, installs the table and starts the remote.
 * On the host the remote's processor is `rpk run --booted`, which runs with
 * the installed table; the code here is what a board would run. Linked with
 * boot_fw.ld by the host compiler and by arm-none-eabi-gcc alike.
 */
#include <rpk/rsc_table.h>
#include <rpk/virtio.h>

#define VRING_NUM   16u
#define VRING_ALIGN 64u
#define HEAP_SIZE   0x2000u
#define TRACE_DA    0x200c73c0u /* after the table, where boot16.dts's rpk,trace-size puts it */
#define TRACE_SIZE  0x800u

/* The wire layout of this table, spelled out (the headers end in flexible arrays). */
struct vdev_with_rings {
	uint32_t type, id, notifyid, dfeatures, gfeatures, config_len;
	uint8_t status, num_of_vrings, reserved[2];
	struct rpk_fw_rsc_vdev_vring vring[2];
};

struct boot_table {
	uint32_t ver, num, reserved[2];
	uint32_t offset[3];
	struct rpk_fw_rsc_carveout heap;
	struct rpk_fw_rsc_trace trace;
	struct vdev_with_rings vdev;
};

/* aligned(8): its own alignment, else x86-64 GCC pads large objects to 32. */
__attribute__((section(".resource_table"), used, aligned(8)))
const struct boot_table resource_table = {
    .ver = 1,
    .num = 3,
    .offset = {__builtin_offsetof(struct boot_table, heap),
	       __builtin_offsetof(struct boot_table, trace),
	       __builtin_offsetof(struct boot_table, vdev)},
    .heap = {RPK_RSC_CARVEOUT, RPK_FW_RSC_ADDR_ANY, 0, HEAP_SIZE, 0, 0, "heap"},
    .trace = {RPK_RSC_TRACE, TRACE_DA, TRACE_SIZE, 0, "rpk-trace"},
    .vdev = {RPK_RSC_VDEV,
	     RPK_VIRTIO_ID_RPMSG,
	     2,
	     1u << RPK_VIRTIO_RPMSG_F_NS,
	     0,
	     0,
	     0,
	     2,
	     {0, 0},
	     {{RPK_FW_RSC_ADDR_ANY, VRING_ALIGN, VRING_NUM, 0, 0},
	      {RPK_FW_RSC_ADDR_ANY, VRING_ALIGN, VRING_NUM, 1, 0}}},
};

const char banner[] = "rpk boot firmware";
static volatile unsigned ticks;

void fw_entry(void)
{
	for (;;)
		ticks++;
}
