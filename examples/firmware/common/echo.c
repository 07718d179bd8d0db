// SPDX-License-Identifier: BSD-3-Clause
/*
 * The remote firmware QEMU runs (examples/firmware/<board>/run.sh): lays
 * out its resource table where the devicetree says (resource_table.h, which
 * `rpk gen` writes from the board's examples/dts/qemu-*.dts), announces
 * the devicetree's services (rpk,services: "rpk-echo", and for a Linux
 * master "rpmsg-client-sample" too) and echoes every message. When the master goes (DRIVER_OK
 * cleared: a detach, or a master that exits), the link is reset and the
 * next master is served, as docs/host-link.md has it. The board gives the
 * port (board_port: doorbell, cache maintenance where it caches the link);
 * the loop polls.
 */
#include <rpk/errno.h>
#include <rpk/rpmsg.h>
#include <rpk/rsc_table.h>

#include "board.h"
#include "resource_table.h"

/* Linux's buffers: two halves of min(num, 256) 512-byte buffers. */
#define BUFFER_BYTES (2u * VRING_SIZE * RPK_RPMSG_BUF_SIZE)

static const struct rpk_mem_window window = {VRING_BUFF_ADDRESS, BUFFER_BYTES,
					     (void *)VRING_BUFF_ADDRESS};
static const struct rpk_mem mem = {&window, 1};

static struct rpk_rpmsg dev;
static struct rpk_vq_slot slots[2][VRING_SIZE];
static struct rpk_ept *buckets[4];
_Static_assert(RPK_NUM_SERVICES > 0, "give the remote node rpk,services to announce");
static const char *const services[] = {RPK_SERVICES};
static struct rpk_ept epts[RPK_NUM_SERVICES];
static uint32_t table[RSC_TABLE_MAX_SIZE / 4];
static uint32_t echoed, echoes_lost;

static int echo(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	/* A callback may not wait: a message that finds no buffer is lost. */
	if (rpk_sendto(ept, src, data, len, RPK_NO_WAIT))
		echoes_lost++;
	else
		echoed++;
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
	rpk_rsc_vdev_set_vring(v, 0, VRING_TX_ADDRESS, VRING_ALIGNMENT, VRING_SIZE, 0);
	rpk_rsc_vdev_set_vring(v, 1, VRING_RX_ADDRESS, VRING_ALIGNMENT, VRING_SIZE, 1);
	size = rpk_rsc_build_finish(&b);
	if (size < 0 || rpk_rsc_publish((void *)RSC_TABLE_ADDRESS, RSC_TABLE_MAX_SIZE, table,
					(size_t)size, &board_port))
		return 0;
	return (struct rpk_fw_rsc_vdev *)(RSC_TABLE_ADDRESS + ((uintptr_t)v - (uintptr_t)table));
}

static int driver_ok(const struct rpk_fw_rsc_vdev *vdev)
{
	return rpk_vdev_read_status(vdev, &board_port) & RPK_VIRTIO_STATUS_DRIVER_OK;
}

/* A reset we asked for (DEVICE_NEEDS_RESET) and not yet saw answered; and
 * whether we had published used entries when we asked. */
static int asked, asked_used;

/*
 * A master we may serve: DRIVER_OK, on rings laid out anew since we last
 * used them (their used indices, which only we write, are 0 again). The
 * status is read first: a master lays the rings out before DRIVER_OK. A
 * reset we asked for is answered by a status written anew (our bit gone);
 * a master that writes its status bit by bit (Linux's virtio_add_status)
 * may carry the bit into its new status, and rings laid out anew answer it
 * then, but only if we had published entries when we asked.
 */
static int master_ready(const struct rpk_fw_rsc_vdev *vdev)
{
	uint8_t st = rpk_vdev_read_status(vdev, &board_port);

	if (!(st & RPK_VIRTIO_STATUS_DRIVER_OK)) {
		asked = 0; /* reset: whatever comes next is a new session */
		return 0;
	}
	if (asked && (st & RPK_VIRTIO_STATUS_NEEDS_RESET) && !asked_used)
		return 0;
	if (!rpk_rpmsg_rings_reset(&dev))
		return 0;
	asked = 0;
	return 1;
}

/*
 * Serve until the master goes, breaks the rings, or lays them out anew
 * under us: a master that detached and one that attached within one look of
 * ours leave DRIVER_OK set all along, and only the used index we published,
 * back at 0, tells (rpk_rpmsg_rings_moved). Looked at when idle: a busy loop
 * finds the new rings broken anyway. Returns whether that is why it ended.
 */
static int serve(const struct rpk_fw_rsc_vdev *vdev)
{
	int rc;

	while (driver_ok(vdev) && (rc = rpk_rpmsg_poll(&dev)) >= 0) {
		if (rc > 0)
			continue;
		if (rpk_rpmsg_rings_moved(&dev))
			return 1;
		board_idle();
	}
	return 0;
}

static void say_link(const char *what)
{
	console_puts("rpk firmware: ");
	console_puts(what);
	console_puts(" (echoed ");
	console_dec(echoed);
	console_puts(", lost ");
	console_dec(echoes_lost);
	console_puts(", doorbell interrupts ");
	console_dec(board_knocks());
	console_puts(", stack used ");
	console_dec(stack_size() - stack_never_used());
	console_puts(" of ");
	console_dec(stack_size());
	console_puts(" bytes)\n");
}

int main(void)
{
	const struct rpk_rpmsg_cfg cfg = {
	    .role = RPK_ROLE_REMOTE,
	    .vring = {(void *)VRING_TX_ADDRESS, (void *)VRING_RX_ADDRESS},
	    .num = VRING_SIZE,
	    .align = VRING_ALIGNMENT,
	    .notify_id = {0, 1},
	    .slots = {slots[0], slots[1]},
	    .mem = &mem,
	    .port = &board_port,
	    .buckets = buckets,
	    .num_buckets = 4,
	};
	struct rpk_fw_rsc_vdev *vdev = publish_table();
	int rc, moved;

	if (!vdev)
		platform_stop(-RPK_ENOMEM); /* the table does not fit its buffer or region */
	rc = rpk_rpmsg_init_remote(&dev, &cfg);
	for (unsigned i = 0; !rc && i < RPK_NUM_SERVICES; i++)
		rc = rpk_ept_create(&dev, &epts[i], services[i], RPK_ADDR_ANY, RPK_ADDR_ANY, echo,
				    0);
	if (rc)
		platform_stop(rc);
	board_doorbell_init();
	console_puts("rpk firmware: resource table at ");
	console_hex(RSC_TABLE_ADDRESS);
	console_puts(", waiting for a master\n");
	for (;;) {
		while (!master_ready(vdev))
			board_idle();
		rc = rpk_rpmsg_start(&dev, rpk_vdev_read_gfeatures(vdev, &board_port) &
					       (1u << RPK_VIRTIO_RPMSG_F_NS));
		if (rc)
			platform_stop(rc);
		say_link("master attached");
		moved = serve(vdev);
		rpk_rpmsg_reset(&dev);
		say_link("link down, waiting for a master");
		/* Broken rings under a master that did not reset us: ask it to, as
		 * a virtio device does, and wait for it (a new master resets too).
		 * Rings laid out anew under us are a new master's: served at once. */
		if (!moved && driver_ok(vdev)) {
			asked = 1;
			asked_used = !rpk_rpmsg_rings_reset(&dev);
			rpk_vdev_write_status(vdev,
					      (uint8_t)(rpk_vdev_read_status(vdev, &board_port) |
							RPK_VIRTIO_STATUS_NEEDS_RESET),
					      &board_port);
		}
	}
}
