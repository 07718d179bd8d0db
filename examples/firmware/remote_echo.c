// SPDX-License-Identifier: BSD-3-Clause
/*
 * A bare-metal remote in the seeds' layout: lays out its resource table at
 * 0x200c6000 + 0x3b8 (self-boot), waits for the master's DRIVER_OK, announces
 * rpmsg-client-sample and echoes every message. Memory is identity-mapped,
 * so each window's device address is its local address.
 *
 * The board supplies platform_kick() (ring the master's mailbox),
 * platform_wait() (sleep until the mailbox interrupt) and platform_stop()
 * (report a failure and halt); weak defaults let it link on its own, which is
 * how the test suite measures the remote role's code size and checks that it
 * links no master code (tests/build/remote_image.sh).
 *
 * It is only ever a remote, so it sets up with rpk_rpmsg_init_remote(), not
 * rpk_rpmsg_init(): the latter chooses the role at run time and would link
 * the master's code too.
 */
#include <rpk/errno.h>
#include <rpk/rpmsg.h>
#include <rpk/rsc_table.h>

#define RSC_TABLE   0x200c63b8u
#define RSC_SIZE    0x1000u
#define VRING0	    0x200c8000u
#define VRING1	    0x200c9000u
#define VRING_NUM   16u
#define VRING_ALIGN 16u
#define BUFFERS	    0x200ca000u
#define BUFFER_SIZE 0x4000u

__attribute__((weak)) void platform_kick(void)
{
}

__attribute__((weak)) void platform_wait(void)
{
	__asm__ volatile("wfi");
}

/* Something failed (err: a negative RPK_E* code): there is nothing left to
 * do but say so and halt. */
__attribute__((weak)) void platform_stop(int err)
{
	(void)err;
	for (;;)
		platform_wait();
}

static void notify(void *ctx, uint32_t id)
{
	(void)ctx;
	(void)id;
	platform_kick();
}

static const struct rpk_port_ops ops = {.notify = notify};
static const struct rpk_port port = {&ops, 0};
static const struct rpk_mem_window window = {BUFFERS, BUFFER_SIZE, (void *)BUFFERS};
static const struct rpk_mem mem = {&window, 1};

static struct rpk_rpmsg dev;
static struct rpk_vq_slot slots[2][VRING_NUM];
static struct rpk_ept *buckets[4];
static struct rpk_ept sample;
static uint32_t table[128];
static uint32_t echoes_lost; /* no buffer free (or the link went down) for an echo */

static int echo(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	/* A callback may not wait: a message that finds no buffer is lost. */
	if (rpk_sendto(ept, src, data, len, RPK_NO_WAIT))
		echoes_lost++;
	return 0;
}

static struct rpk_fw_rsc_vdev *publish_table(void)
{
	struct rpk_rsc_builder b;
	struct rpk_fw_rsc_vdev *v;
	int size;

	rpk_rsc_build_init(&b, table, sizeof(table), 1);
	v = rpk_rsc_add_vdev(&b, RPK_VIRTIO_ID_RPMSG, 2, 1u << RPK_VIRTIO_RPMSG_F_NS, 2, 0);
	if (!v)
		return 0;
	rpk_rsc_vdev_set_vring(v, 0, VRING0, VRING_ALIGN, VRING_NUM, 0);
	rpk_rsc_vdev_set_vring(v, 1, VRING1, VRING_ALIGN, VRING_NUM, 1);
	size = rpk_rsc_build_finish(&b);
	if (size < 0 || rpk_rsc_publish((void *)RSC_TABLE, RSC_SIZE, table, (size_t)size, &port))
		return 0;
	return (struct rpk_fw_rsc_vdev *)(RSC_TABLE + ((uintptr_t)v - (uintptr_t)table));
}

static int stop(int err)
{
	platform_stop(err);
	return err;
}

int main(void)
{
	const struct rpk_rpmsg_cfg cfg = {
	    .role = RPK_ROLE_REMOTE,
	    .vring = {(void *)VRING0, (void *)VRING1},
	    .num = VRING_NUM,
	    .align = VRING_ALIGN,
	    .notify_id = {0, 1},
	    .slots = {slots[0], slots[1]},
	    .mem = &mem,
	    .port = &port,
	    .buckets = buckets,
	    .num_buckets = 4,
	};
	struct rpk_fw_rsc_vdev *vdev = publish_table();
	int rc;

	if (!vdev)
		return stop(-RPK_ENOMEM); /* the table does not fit its buffer or region */
	rc = rpk_rpmsg_init_remote(&dev, &cfg);
	if (!rc)
		rc = rpk_ept_create(&dev, &sample, "rpmsg-client-sample", RPK_ADDR_ANY,
				    RPK_ADDR_ANY, echo, 0);
	if (rc)
		return stop(rc);
	while (!(rpk_vdev_read_status(vdev, &port) & RPK_VIRTIO_STATUS_DRIVER_OK))
		platform_wait();
	rc = rpk_rpmsg_start(&dev, rpk_vdev_read_gfeatures(vdev, &port) & 1u);
	if (rc)
		return stop(rc);
	/* poll fails only once a ring is broken (-RPK_EPIPE): the master
	 * corrupted it, or reset without a word. This example does not
	 * recover (rpk_rpmsg_reset() and a new handshake would). */
	while ((rc = rpk_rpmsg_poll(&dev)) >= 0)
		platform_wait();
	return stop(rc);
}
