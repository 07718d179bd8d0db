// SPDX-License-Identifier: BSD-3-Clause
/*
 * The core alone, for counting instructions (rpk bench --instructions runs it
 * under callgrind): a master and a remote in one thread over a null port
 * (no cache maintenance, no locks, the doorbell a flag), 16 descriptors of
 * 512 bytes, no name service, the same harness shape issue 14 measured
 * RPMsg-Lite and OpenAMP with.
 *
 *   core_instr DIRECTION SIZE BURST COUNT [event-idx]
 *
 * DIRECTION m2r or r2m; SIZE payload bytes; BURST messages sent before the
 * receiver polls (1: one at a time); COUNT messages. The caller runs it with
 * two counts and divides the difference in instructions by the difference
 * in messages, so the set-up cancels out. Exits 1 if a message is lost or
 * altered. With event-idx both sides use RPK_VIRTIO_RING_F_EVENT_IDX (as the
 * host's links negotiate it), else the flags. Prints the doorbells rung.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpk/errno.h>
#include <rpk/rpmsg.h>

#define NUM	 16u
#define ALIGN	 64u
#define NBUCKETS 16u
#define POOL_DA	 0x80000000u

struct side {
	struct rpk_rpmsg dev;
	struct rpk_port port;
	struct rpk_vq_slot slots[2][NUM];
	struct rpk_ept *buckets[NBUCKETS];
	struct rpk_ept ept;
	int kicked;
	unsigned long received, bad;
	size_t want_len;
	unsigned char want_first;
};

static void null_notify(void *ctx, uint32_t id)
{
	(void)id;
	((struct side *)ctx)->kicked = 1;
}

static const struct rpk_port_ops null_ops = {.notify = null_notify};

static int on_rx(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct side *s = priv;

	(void)ept;
	(void)src;
	s->received++;
	if (len != s->want_len || (len && ((unsigned char *)data)[0] != s->want_first))
		s->bad++;
	return 0;
}

static _Alignas(4096) unsigned char rings[2][8192];
static _Alignas(4096) unsigned char pool[2 * NUM * RPK_RPMSG_BUF_SIZE];

static void setup(struct side *s, enum rpk_role role, const struct rpk_mem *mem)
{
	struct rpk_rpmsg_cfg cfg = {
	    .role = role,
	    .vring = {rings[0], rings[1]},
	    .num = NUM,
	    .align = ALIGN,
	    .notify_id = {0, 1},
	    .slots = {s->slots[0], s->slots[1]},
	    .mem = mem,
	    .port = &s->port,
	    .bufs = role == RPK_ROLE_MASTER ? pool : NULL,
	    .buckets = s->buckets,
	    .num_buckets = NBUCKETS,
	};

	s->port.ops = &null_ops;
	s->port.ctx = s;
	if (rpk_rpmsg_init(&s->dev, &cfg)) {
		fprintf(stderr, "core_instr: init failed\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	static struct side m, r;
	static unsigned char msg[RPK_RPMSG_MAX_PAYLOAD];
	struct rpk_mem_window win = {.da = POOL_DA, .size = sizeof(pool), .va = pool};
	struct rpk_mem mem = {.win = &win, .count = 1};
	struct side *tx, *rx;
	unsigned long count, burst, size;

	uint32_t features = 0;

	if (argc < 5 || argc > 6 || (strcmp(argv[1], "m2r") && strcmp(argv[1], "r2m")) ||
	    (argc == 6 && strcmp(argv[5], "event-idx"))) {
		fprintf(stderr, "usage: core_instr m2r|r2m SIZE BURST COUNT [event-idx]\n");
		return 2;
	}
	if (argc == 6)
		features = 1u << RPK_VIRTIO_RING_F_EVENT_IDX;
	size = strtoul(argv[2], NULL, 0);
	burst = strtoul(argv[3], NULL, 0);
	count = strtoul(argv[4], NULL, 0);
	if (size > RPK_RPMSG_MAX_PAYLOAD || burst < 1 || burst > NUM / 2 || count % burst) {
		fprintf(stderr, "core_instr: SIZE 0..496, BURST 1..8, COUNT a multiple of BURST\n");
		return 2;
	}
	setup(&m, RPK_ROLE_MASTER, &mem);
	setup(&r, RPK_ROLE_REMOTE, &mem);
	if (rpk_ept_create(&m.dev, &m.ept, "", 0x400, 0x401, on_rx, &m) ||
	    rpk_ept_create(&r.dev, &r.ept, "", 0x401, 0x400, on_rx, &r) ||
	    rpk_rpmsg_start(&m.dev, features) || rpk_rpmsg_start(&r.dev, features)) {
		fprintf(stderr, "core_instr: bring-up failed\n");
		return 2;
	}
	tx = argv[1][0] == 'm' ? &m : &r;
	rx = tx == &m ? &r : &m;
	rx->want_len = size;
	for (unsigned long i = 0; i < count; i += burst) {
		msg[0] = (unsigned char)i;
		rx->want_first = msg[0];
		for (unsigned long b = 0; b < burst; b++)
			if (rpk_send(&tx->ept, msg, size, RPK_NO_WAIT)) {
				fprintf(stderr, "core_instr: send %lu failed\n", i + b);
				return 1;
			}
		/* Receive, and give the buffers back: the sender takes them
		 * again when it next needs one. */
		rpk_rpmsg_poll(&rx->dev);
	}
	if (rx->received != count || rx->bad) {
		fprintf(stderr, "core_instr: %lu of %lu received, %lu altered\n", rx->received,
			count, rx->bad);
		return 1;
	}
	printf("core_instr: %s %lu bytes, bursts of %lu: %lu messages intact, %llu kicks\n",
	       argv[1], size, burst, count,
	       (unsigned long long)(m.dev.stats.tx_kicks + m.dev.stats.rx_kicks +
				    r.dev.stats.tx_kicks + r.dev.stats.rx_kicks));
	return 0;
}
