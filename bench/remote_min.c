// SPDX-License-Identifier: BSD-3-Clause
/*
 * The smallest remote, for measuring what each feature of the core costs in
 * a Cortex-M4 image (bench/footprint.sh): the feature set issue 14 compares
 * with RPMsg-Lite's remote (send, a receive callback, one static endpoint,
 * its name announced), then one feature more per variant. It is only
 * linked, never run: the rings and buffers are static arrays, the doorbell a
 * register write. A variant is chosen with -DRPK_MIN_FEATURE=N (a build
 * setting of this program, not of the library).
 *
 *   0 the base set        3 zero-copy send       6 a resource table
 *   1 event indices       4 holding a buffer     7 a tap
 *   2 blocking sends      5 the liveness checks  8 hearing the master's
 *                                                  announcements
 */
#include <stddef.h>
#include <stdint.h>

#include <rpk/rpmsg.h>
#include <rpk/rsc_table.h>

#ifndef RPK_MIN_FEATURE
#define RPK_MIN_FEATURE 0
#endif

#define NUM	 16u
#define ALIGN	 64u
#define POOL_DA	 0x20000000u
#define ECHO_EPT 0x400u

static _Alignas(4096) unsigned char rings[2][4096];
static unsigned char pool[2 * NUM * RPK_RPMSG_BUF_SIZE];
static struct rpk_vq_slot slots[2][NUM];
static struct rpk_ept *buckets[4];
static struct rpk_rpmsg dev;
static struct rpk_ept ept;
static volatile uint32_t doorbell;

static void ring(void *ctx, uint32_t id)
{
	(void)ctx;
	doorbell = id;
}

static int wait_ring(void *ctx, uint32_t snapshot, uint32_t timeout_ms)
{
	(void)ctx;
	(void)snapshot;
	(void)timeout_ms;
	return -1;
}

static const struct rpk_port_ops ops = {
    .notify = ring,
    .event_wait = RPK_MIN_FEATURE == 2 ? wait_ring : 0,
};
static const struct rpk_port port = {.ops = &ops};
static const struct rpk_mem_window win = {.da = POOL_DA, .size = sizeof(pool), .va = pool};
static const struct rpk_mem mem = {.win = &win, .count = 1};

static void tap(void *ctx, const struct rpk_tap_msg *m)
{
	(void)ctx;
	doorbell = m->len;
}

static int echo(struct rpk_ept *e, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	if (RPK_MIN_FEATURE == 2) {
		rpk_sendto(e, src, data, len, 100);
	} else if (RPK_MIN_FEATURE == 3) {
		void *buf;
		uint32_t room;

		if (!rpk_get_tx_buffer(e->dev, &buf, &room, RPK_NO_WAIT) &&
		    rpk_send_nocopy(e, src, buf, len < room ? len : room))
			rpk_release_tx_buffer(e->dev, buf);
	} else if (RPK_MIN_FEATURE == 4) {
		static void *held;

		if (held)
			rpk_release_rx_buffer(e->dev, held);
		held = rpk_hold_rx_buffer(e->dev, data) ? 0 : data;
	} else {
		rpk_trysendto(e, src, data, len);
	}
	return 0;
}

static void publish_table(void)
{
	static unsigned char table[256], shared[256];
	struct rpk_rsc_builder b;
	struct rpk_fw_rsc_vdev *v;
	int size;

	rpk_rsc_build_init(&b, table, sizeof(table), 1);
	v = rpk_rsc_add_vdev(&b, RPK_VIRTIO_ID_RPMSG, 0, 1u << RPK_VIRTIO_RPMSG_F_NS, 2, 0);
	for (uint8_t q = 0; q < 2; q++)
		rpk_rsc_vdev_set_vring(v, q, POOL_DA, ALIGN, NUM, q);
	size = rpk_rsc_build_finish(&b);
	if (size > 0)
		rpk_rsc_publish(shared, sizeof(shared), table, (size_t)size, &port);
}

int rpk_min_main(void);
int rpk_min_main(void)
{
	struct rpk_rpmsg_cfg cfg = {
	    .vring = {rings[0], rings[1]},
	    .num = NUM,
	    .align = ALIGN,
	    .notify_id = {0, 1},
	    .slots = {slots[0], slots[1]},
	    .mem = &mem,
	    .port = &port,
	    .buckets = buckets,
	    .num_buckets = 4,
	};
	uint32_t features = 1u << RPK_VIRTIO_RPMSG_F_NS;

	if (RPK_MIN_FEATURE == 6)
		publish_table();
	if (rpk_rpmsg_init_remote(&dev, &cfg) ||
	    rpk_ept_create(&dev, &ept, "rpmsg-echo", ECHO_EPT, RPK_ADDR_ANY, echo, 0))
		return 1;
	if (RPK_MIN_FEATURE == 7)
		rpk_rpmsg_set_tap(&dev, tap, 0);
	if (RPK_MIN_FEATURE == 1) {
		rpk_rpmsg_use_event_idx(&dev);
		features |= 1u << RPK_VIRTIO_RING_F_EVENT_IDX;
	}
	if (RPK_MIN_FEATURE == 8)
		rpk_rpmsg_listen_ns(&dev);
	while (!doorbell) /* the master's "driver ok", as a board would learn it */
		;
	rpk_rpmsg_start(&dev, features);
	for (;;) {
		rpk_rpmsg_poll(&dev);
		if (RPK_MIN_FEATURE == 5 && rpk_rpmsg_rings_moved(&dev) &&
		    !rpk_rpmsg_rings_reset(&dev))
			rpk_rpmsg_refresh(&dev);
	}
}

/* What the compiler may call: counted as the program's, not the core's. */
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
void *memmove(void *d, const void *s, size_t n);

void *memcpy(void *d, const void *s, size_t n)
{
	return memmove(d, s, n);
}

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *a = d;
	const unsigned char *b = s;

	if (a < b)
		while (n--)
			*a++ = *b++;
	else
		while (n--)
			a[n] = b[n];
	return d;
}
