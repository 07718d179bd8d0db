/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Seed generator for the fuzz targets: fuzz_gen_corpus CORPUS_DIR DTC DTS...
 *
 * Writes CORPUS_DIR/<target>/seed-<what> (and nothing else, so regression
 * inputs kept next to the seeds stay). Tables are built with the resource
 * table builder; ring contents by the library's own driver and device halves;
 * rpmsg traffic by a real master and remote in this process, dumped as the
 * raw writes the fuzz scripts understand; devicetrees compiled with dtc.
 * Everything is deterministic: running it again rewrites the same bytes.
 *
 * The script formats (opcodes, header bytes, DA_TABLE, POOL_DA, endpoint
 * set-up) are those of the fuzz_*.c files: keep them in sync.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rpk/errno.h>
#include <rpk/mem.h>
#include <rpk/rpmsg.h>
#include <rpk/rsc_table.h>
#include <rpk/virtio.h>

static const char *corpus_dir;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz_gen_corpus: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void mkdir_p(const char *path)
{
	if (mkdir(path, 0755) && errno != EEXIST)
		die("mkdir %s: %s", path, strerror(errno));
}

static void write_seed(const char *target, const char *what, const void *data, size_t size)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", corpus_dir, target);
	mkdir_p(path);
	snprintf(path, sizeof(path), "%s/%s/seed-%s", corpus_dir, target, what);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		die("cannot write %s", path);
}

/* ---- a growing script ---- */

struct script {
	uint8_t b[65536];
	size_t n;
};

static void u8(struct script *s, unsigned v)
{
	if (s->n == sizeof(s->b))
		die("script too long");
	s->b[s->n++] = (uint8_t)v;
}

static void u16(struct script *s, unsigned v)
{
	u8(s, v & 0xff);
	u8(s, (v >> 8) & 0xff);
}

static void u32(struct script *s, uint32_t v)
{
	u16(s, v & 0xffff);
	u16(s, v >> 16);
}

static void bytes(struct script *s, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		u8(s, b[i]);
}

static void emit(const char *target, const char *what, const struct script *s)
{
	write_seed(target, what, s->b, s->n);
}

static const struct rpk_port_ops no_ops;
static const struct rpk_port no_port = {&no_ops, 0};

/* ---- fuzz_rsc_table ---- */

static void rsc_seed(const char *what, int kind)
{
	uint8_t buf[1024];
	struct rpk_rsc_builder b;
	struct rpk_fw_rsc_vdev *v;
	uint8_t *vendor;
	int size;

	rpk_rsc_build_init(&b, buf, sizeof(buf), 6);
	switch (kind) {
	case 0: /* what a remote node publishes (host/node/node.c) */
		v = rpk_rsc_add_vdev(&b, RPK_VIRTIO_ID_RPMSG, 2, 1u << RPK_VIRTIO_RPMSG_F_NS, 2, 0);
		rpk_rsc_vdev_set_vring(v, 0, 0x200c8000u, 16, 16, 0);
		rpk_rsc_vdev_set_vring(v, 1, 0x200c9000u, 16, 16, 1);
		break;
	case 1: /* the seed board's firmware: carveout, vdev, trace, like Linux's samples */
		rpk_rsc_add_carveout(&b, RPK_RSC_CARVEOUT, 0x200ca000u, 0x200ca000u, 0x4000u, 0,
				     "vdev0buffer");
		v = rpk_rsc_add_vdev(&b, RPK_VIRTIO_ID_RPMSG, 2, 1u << RPK_VIRTIO_RPMSG_F_NS, 2, 0);
		rpk_rsc_vdev_set_vring(v, 0, RPK_FW_RSC_ADDR_ANY, 4096, 256, 0);
		rpk_rsc_vdev_set_vring(v, 1, RPK_FW_RSC_ADDR_ANY, 4096, 256, 1);
		rpk_rsc_add_trace(&b, 0x20100000u, 0x1000u, "trace0");
		break;
	case 2: /* every kind of entry, config space, a vendor entry */
		rpk_rsc_add_carveout(&b, RPK_RSC_DEVMEM, 0x40000000u, 0x40000000u, 0x1000u, 1,
				     "mmio");
		v = rpk_rsc_add_vdev(&b, 1, 5, 0x3u, 1, 12);
		rpk_rsc_vdev_set_vring(v, 0, 0x200d0000u, 64, 8, 5);
		v = rpk_rsc_add_vdev(&b, RPK_VIRTIO_ID_RPMSG, 6, 1u, 2, 8);
		rpk_rsc_vdev_set_vring(v, 0, 0x200e0000u, 16, 32, 6);
		rpk_rsc_vdev_set_vring(v, 1, 0x200e1000u, 16, 32, 7);
		vendor = rpk_rsc_add_vendor(&b, 130, 12);
		if (vendor)
			memcpy(vendor, "vendor-data", 12);
		rpk_rsc_add_trace(&b, 0x20100000u, 0x800u, "");
		break;
	case 3: /* no entries */
		break;
	default: /* an entry of a type nobody knows (a vendor entry, retyped) */
		vendor = rpk_rsc_add_vendor(&b, 200, 4);
		if (vendor)
			*(uint32_t *)(void *)(vendor - 4) = 77;
		v = rpk_rsc_add_vdev(&b, RPK_VIRTIO_ID_RPMSG, 2, 0, 0, 0);
		break;
	}
	size = rpk_rsc_build_finish(&b);
	if (size < 0 || rpk_rsc_validate(buf, (size_t)size, NULL) < 0)
		die("resource table seed %s does not validate", what);
	write_seed("rsc_table", what, buf, (size_t)size);
}

/* ---- fuzz_vring_device / fuzz_vring_driver ---- */

enum {
	D_GET_AVAIL,
	D_ADD_USED,
	D_DRV_POST,
	D_DRV_REAP,
	D_W_DESC,
	D_W_AVAIL,
	D_AVAIL_IDX,
	D_RAW,
	D_FLAGS,
	D_HOOK,
	D_DRAIN,
	D_PENDING,
	D_SLOT_QUERY
};
enum {
	V_ADD_BUF,
	V_ALLOC,
	V_POST,
	V_FREE,
	V_GET_USED,
	V_W_USED,
	V_USED_IDX,
	V_RAW,
	V_FLAGS,
	V_HOOK,
	V_DEV_TAKE,
	V_DEV_RETURN,
	V_DRAIN,
	V_PENDING,
	V_SLOT_QUERY
};

static const uint64_t DA_TABLE[4] = {0x200ca000ull, 0, 0xfffffffffffff000ull, 0xfffff800ull};
#define VQ_POOL_SIZE 4096u

/* Header byte for num = 1 << log2num, align, window. */
static unsigned vq_cfg(unsigned log2num, int align4k, unsigned da_idx, int win2)
{
	return log2num | (align4k ? 16u : 0) | (da_idx << 5) | (win2 ? 128u : 0);
}

/* Raw writes of ring[off, off + len) as script operations. */
static void raw_dump(struct script *s, unsigned op, const uint8_t *ring, size_t off, size_t len)
{
	while (len) {
		size_t n = len > 255 ? 255 : len;

		u8(s, op);
		u16(s, (unsigned)off);
		u8(s, (unsigned)n);
		bytes(s, ring + off, n);
		off += n;
		len -= n;
	}
}

struct vq_pair {
	uint8_t *ring;
	size_t size;
	uint8_t pool[VQ_POOL_SIZE];
	struct rpk_mem_window win;
	struct rpk_mem mem;
	struct rpk_vq drv, dev;
	struct rpk_vq_slot drv_slots[256], dev_slots[256];
};

static void vq_pair_init(struct vq_pair *p, uint32_t num, uint32_t align, uint64_t da)
{
	struct rpk_vq_cfg vc = {
	    .role = RPK_VQ_DRIVER,
	    .num = num,
	    .align = align,
	    .mem = &p->mem,
	    .port = &no_port,
	};
	void *ring;

	p->size = rpk_vring_size(num, align);
	if (posix_memalign(&ring, 16, p->size))
		die("out of memory");
	p->ring = ring;
	p->win.da = da;
	p->win.size = VQ_POOL_SIZE;
	p->win.va = p->pool;
	p->mem.win = &p->win;
	p->mem.count = 1;
	vc.ring = p->ring;
	vc.slots = p->drv_slots;
	if (rpk_vq_init(&p->drv, &vc))
		die("vq init");
	vc.role = RPK_VQ_DEVICE;
	vc.slots = p->dev_slots;
	if (rpk_vq_init(&p->dev, &vc))
		die("vq init");
}

static void vring_device_seeds(void)
{
	struct script s;
	struct vq_pair *p = calloc(1, sizeof(*p));

	if (!p)
		die("out of memory");

	/* Descriptors and avail ring exactly as the library's driver writes
	 * them (4 receive, 4 send buffers), then the device takes, returns,
	 * drains. */
	vq_pair_init(p, 16, 16, DA_TABLE[0]);
	for (unsigned i = 0; i < 8; i++)
		rpk_vq_add_buf(&p->drv, p->pool + i * 512u, 512u - i * 8u, i < 4);
	s.n = 0;
	u8(&s, vq_cfg(4, 0, 0, 0));
	u16(&s, 0);
	u8(&s, 1); /* parts apart */
	raw_dump(&s, D_RAW, p->ring, 0, 16u * 16u + 6u + 2u * 16u);
	for (unsigned i = 0; i < 4; i++) {
		u8(&s, D_GET_AVAIL);
		u8(&s, 3); /* writable, touch */
	}
	u8(&s, D_ADD_USED);
	u8(&s, 0);
	u8(&s, 1); /* its whole length */
	u8(&s, D_ADD_USED);
	u8(&s, 1);
	u8(&s, 2); /* one byte too many */
	u8(&s, D_DRAIN);
	u8(&s, 4 | 2); /* readable, touch, return full */
	u8(&s, D_FLAGS);
	u8(&s, 2); /* need_interrupt */
	u8(&s, D_PENDING);
	emit("vring_device", "driver-dump", &s);
	free(p->ring);

	/* The honest driver in the target posts; the device gets, returns. */
	s.n = 0;
	u8(&s, vq_cfg(3, 1, 1, 1));
	u16(&s, 0);
	u8(&s, 0); /* one legacy ring */
	for (unsigned i = 0; i < 6; i++) {
		u8(&s, D_DRV_POST);
		u16(&s, i * 256u);
		u16(&s, 256);
		u8(&s, (i & 1) | ((i == 5) ? 2u : 0u));
	}
	for (unsigned i = 0; i < 6; i++) {
		u8(&s, D_GET_AVAIL);
		u8(&s, (i & 1) | 2u);
	}
	u8(&s, D_ADD_USED);
	u8(&s, 2);
	u8(&s, 1);
	u8(&s, D_DRV_REAP);
	u8(&s, D_FLAGS);
	u8(&s, 1); /* enable_notify */
	u8(&s, D_FLAGS);
	u8(&s, 0); /* disable_notify */
	u8(&s, D_SLOT_QUERY);
	u16(&s, 3);
	emit("vring_device", "honest-driver", &s);

	/* Indices about to wrap (vhost-user SET_VRING_BASE), ring at the top of the address space.
	 */
	s.n = 0;
	u8(&s, vq_cfg(2, 0, 2, 0));
	u16(&s, 0xfffe);
	u8(&s, 1); /* parts apart */
	for (unsigned i = 0; i < 4; i++) {
		u8(&s, D_DRV_POST);
		u16(&s, i * 1024u);
		u16(&s, 1024);
		u8(&s, 1);
		u8(&s, D_GET_AVAIL);
		u8(&s, 3);
		u8(&s, D_ADD_USED);
		u8(&s, 0);
		u8(&s, 0);
		u8(&s, D_DRV_REAP);
	}
	emit("vring_device", "wrap", &s);

	/* A hostile driver: chained, indirect, wrong direction, outside the
	 * window, across windows, out-of-range and repeated heads, an index
	 * jump, a write during an invalidate. */
	s.n = 0;
	u8(&s, vq_cfg(2, 0, 3, 1));
	u16(&s, 0);
	u8(&s, 0); /* one legacy ring */
	for (unsigned i = 0; i < 4; i++) {
		static const unsigned kinds[4] = {0, 2, 1, 0};
		static const unsigned flags[4] = {2 | 1, 2 | 4, 0, 2};

		u8(&s, D_W_DESC);
		u8(&s, i);
		u8(&s, kinds[i]);
		u16(&s, i == 1 ? 8 : 64);
		u16(&s, i == 1 ? 16 : 64);
		u16(&s, flags[i]);
		u8(&s, D_W_AVAIL);
		u8(&s, i);
		u16(&s, i == 3 ? 9 : i);
	}
	u8(&s, D_AVAIL_IDX);
	u8(&s, 4);
	u8(&s, D_DRAIN);
	u8(&s, 3);
	u8(&s, D_HOOK);
	u8(&s, 0);
	u16(&s, 16u * 4u + 2u); /* the avail index */
	u8(&s, 2);
	u16(&s, 0x4000);
	u8(&s, D_GET_AVAIL);
	u8(&s, 1);
	u8(&s, D_AVAIL_IDX);
	u8(&s, 0x80);
	u16(&s, 0x1234);
	u8(&s, D_GET_AVAIL);
	u8(&s, 1);
	u8(&s, D_ADD_USED);
	u8(&s, 0);
	u8(&s, 0);
	emit("vring_device", "hostile", &s);

	/* The biggest ring the target makes, 4 KiB aligned. */
	s.n = 0;
	u8(&s, vq_cfg(8, 1, 0, 0));
	u16(&s, 0);
	u8(&s, 0); /* one legacy ring */
	for (unsigned i = 0; i < 16; i++) {
		u8(&s, D_DRV_POST);
		u16(&s, i * 200u);
		u16(&s, 200);
		u8(&s, 1);
	}
	u8(&s, D_DRAIN);
	u8(&s, 7);
	u8(&s, D_DRV_REAP);
	emit("vring_device", "num256", &s);
	free(p);
}

static void vring_driver_seeds(void)
{
	struct script s;
	struct vq_pair *p = calloc(1, sizeof(*p));
	size_t used_off;
	struct rpk_vq_buf b;

	if (!p)
		die("out of memory");

	/* The target's driver posts 6 buffers (heads 0..5 in order); the
	 * library's device half, run here on a ring of the same shape, takes
	 * and returns them; its used ring is replayed as raw writes. */
	vq_pair_init(p, 8, 16, DA_TABLE[0]);
	s.n = 0;
	u8(&s, vq_cfg(3, 0, 0, 0));
	u16(&s, 0);
	u8(&s, 0); /* one legacy ring */
	for (unsigned i = 0; i < 6; i++) {
		u8(&s, V_ADD_BUF);
		u16(&s, i * 512u);
		u16(&s, 512);
		u8(&s, 1);
		rpk_vq_add_buf(&p->drv, p->pool + i * 512u, 512, 1);
	}
	for (unsigned i = 0; i < 6; i++)
		if (rpk_vq_get_avail(&p->dev, 1, &b) == 1)
			rpk_vq_add_used(&p->dev, b.head, 16u + i * 50u);
	used_off = p->size - (6u + 8u * 8u);
	raw_dump(&s, V_RAW, p->ring, used_off, 6u + 8u * 8u);
	u8(&s, V_GET_USED);
	u8(&s, 1); /* post it again */
	u8(&s, V_GET_USED);
	u8(&s, 2); /* free it */
	u8(&s, V_DRAIN);
	u8(&s, 0);
	u8(&s, V_FLAGS);
	u8(&s, 0); /* kick_prepare */
	u8(&s, V_FLAGS);
	u8(&s, 2); /* enable_cb */
	u8(&s, V_PENDING);
	emit("vring_driver", "device-dump", &s);
	free(p->ring);

	/* The honest device in the target. */
	s.n = 0;
	u8(&s, vq_cfg(4, 1, 1, 0));
	u16(&s, 0);
	u8(&s, 1); /* parts apart */
	for (unsigned i = 0; i < 5; i++) {
		u8(&s, V_ADD_BUF);
		u16(&s, i * 128u);
		u16(&s, 128);
		u8(&s, i & 1);
	}
	u8(&s, V_ALLOC);
	u8(&s, V_POST);
	u8(&s, 0);
	u16(&s, 2048);
	u16(&s, 64);
	u8(&s, 0);
	for (unsigned i = 0; i < 6; i++) {
		u8(&s, V_DEV_TAKE);
		u8(&s, i & 1);
		u8(&s, V_DEV_RETURN);
		u8(&s, 0);
		u16(&s, 100);
	}
	u8(&s, V_DRAIN);
	u8(&s, 1);
	u8(&s, V_ALLOC);
	u8(&s, V_FREE);
	u8(&s, 0);
	emit("vring_driver", "honest-device", &s);

	/* Wrapping indices, window at the top of the address space. */
	s.n = 0;
	u8(&s, vq_cfg(1, 0, 2, 0));
	u16(&s, 0xffff);
	u8(&s, 1); /* parts apart */
	for (unsigned i = 0; i < 4; i++) {
		u8(&s, V_ADD_BUF);
		u16(&s, 4096u - 256u);
		u16(&s, 256);
		u8(&s, 0);
		u8(&s, V_DEV_TAKE);
		u8(&s, 0);
		u8(&s, V_DEV_RETURN);
		u8(&s, 0);
		u16(&s, 0);
		u8(&s, V_GET_USED);
		u8(&s, 2);
	}
	emit("vring_driver", "wrap", &s);

	/* A hostile device: ids out of range or never posted, lengths beyond
	 * the buffer, an index jump, a write during an invalidate. */
	s.n = 0;
	u8(&s, vq_cfg(2, 0, 3, 0));
	u16(&s, 0);
	u8(&s, 0); /* one legacy ring */
	for (unsigned i = 0; i < 3; i++) {
		u8(&s, V_ADD_BUF);
		u16(&s, i * 64u);
		u16(&s, 64);
		u8(&s, 1);
	}
	u8(&s, V_W_USED);
	u8(&s, 0);
	u8(&s, 0);
	u8(&s, 2); /* posted length + 1 */
	u8(&s, V_W_USED);
	u8(&s, 1);
	u8(&s, 0x80);
	u32(&s, 7); /* never posted */
	u8(&s, 1);
	u8(&s, V_W_USED);
	u8(&s, 2);
	u8(&s, 1);
	u8(&s, 3);
	u32(&s, 0xffffffffu);
	u8(&s, V_USED_IDX);
	u8(&s, 3);
	u8(&s, V_DRAIN);
	u8(&s, 2);
	u8(&s, V_HOOK);
	u8(&s, 0);
	u16(&s, (unsigned)(rpk_vring_size(4, 16) - (6u + 8u * 4u) + 2u)); /* the used index */
	u8(&s, 2);
	u16(&s, 0x100);
	u8(&s, V_GET_USED);
	u8(&s, 0);
	u8(&s, V_ADD_BUF);
	u16(&s, 0);
	u16(&s, 8);
	u8(&s, 0);
	emit("vring_driver", "hostile", &s);
	free(p);
}

/* ---- fuzz_rpmsg_master_rx / fuzz_rpmsg_remote_rx ---- */

enum {
	MX_POLL,
	MX_SEND,
	MX_GET_TX,
	MX_SEND_NOCOPY,
	MX_RELEASE_TX,
	MX_RELEASE_RX,
	MX_EPT_CREATE,
	MX_EPT_DESTROY,
	MX_MISC,
	MX_CB_MODE,
	MX_H_MSG,
	MX_H_RET_TX,
	MX_H_IDX,
	MX_H_RAW,
	MX_H_HOOK,
	MX_R_SEND,
	MX_R_POLL,
	MX_R_EPT
};
/* The remote target uses the same numbers; its peer ops are the master's. */
enum {
	RX_H_MSG = MX_H_MSG,
	RX_H_TXBUF = MX_H_RET_TX,
	RX_M_SEND = MX_R_SEND,
	RX_M_POLL = MX_R_POLL,
	RX_M_EPT = MX_R_EPT
};

#define POOL_DA 0x200ca000ull
#define NS_F	(1u << RPK_VIRTIO_RPMSG_F_NS)

/* cfg byte: num index (NUM_TABLE = 1 2 4 8 16 32 64 512), buffer size index
 * (512 512 128 1024), name service, polling, align 4096. */
static unsigned rp_cfg(unsigned num_idx, unsigned bs_idx, int ns, int polling, int align4k)
{
	return num_idx | (bs_idx << 3) | (ns ? 32u : 0) | (polling ? 64u : 0) |
	       (align4k ? 128u : 0);
}

static void send_op(struct script *s, unsigned ept, unsigned dst, unsigned len, unsigned kind)
{
	u8(s, MX_SEND);
	u8(s, ept);
	u8(s, dst);
	u16(s, len);
	u8(s, kind);
}

/* A raw (non name-service) message in the master's receive buffer id, returned. */
static void h_msg_raw(struct script *s, unsigned id, uint32_t src, unsigned dstsel, unsigned n,
		      unsigned lensel, unsigned usedsel)
{
	u8(s, MX_H_MSG);
	u8(s, 0);
	u8(s, id);
	u32(s, src);
	u8(s, dstsel);
	u8(s, lensel);
	u8(s, 0); /* raw payload */
	u8(s, n);
	for (unsigned i = 0; i < n; i++)
		u8(s, 'a' + i % 26);
	u8(s, usedsel);
}

/* A name-service message built from the wire struct, in receive buffer id. */
static void h_msg_ns(struct script *s, unsigned id, unsigned name, uint32_t addr, unsigned flags)
{
	u8(s, MX_H_MSG);
	u8(s, 0);
	u8(s, id);
	u32(s, addr);
	u8(s, 0);
	u8(s, 0);
	u8(s, 1); /* name service */
	u8(s, name);
	u32(s, addr);
	u8(s, flags);
	u8(s, 0); /* used length: header + message */
}

/* The master and remote of fuzz_rpmsg_*.c, set up the same way. */
struct rp_pair {
	uint32_t num, buf_size, nbufs, features;
	size_t ring_size, pool_size;
	uint8_t *ring[2], *pool;
	struct rpk_mem_window win;
	struct rpk_mem mem;
	struct rpk_rpmsg m, r;
	struct rpk_vq_slot mslots[2][64], rslots[2][64];
	struct rpk_ept *mb[8], *rb[8];
	struct rpk_service ms[4], rs[4];
	struct rpk_ept me[4], re[4];
};

static int nop_cb(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept;
	(void)data;
	(void)len;
	(void)src;
	(void)priv;
	return 0;
}

static void rp_pair_init(struct rp_pair *p, uint32_t num, int ns, int remote_target)
{
	struct rpk_rpmsg_cfg mc;
	struct rpk_rpmsg_cfg rc;
	void *pool;

	p->num = num;
	p->buf_size = 512;
	p->nbufs = num;
	p->features = ns ? NS_F : 0;
	p->ring_size = rpk_vring_size(num, RPK_CACHE_LINE); /* as the targets lay them out */
	p->pool_size = (size_t)2 * num * 512u;
	for (int q = 0; q < 2; q++)
		p->ring[q] = calloc(1, p->ring_size);
	if (posix_memalign(&pool, 64, p->pool_size) || !p->ring[0] || !p->ring[1])
		die("out of memory");
	p->pool = pool;
	memset(p->pool, 0xee, p->pool_size);
	p->win.da = POOL_DA;
	p->win.size = p->pool_size;
	p->win.va = p->pool;
	p->mem.win = &p->win;
	p->mem.count = 1;
	memset(&mc, 0, sizeof(mc));
	mc.role = RPK_ROLE_MASTER;
	mc.vring[0] = p->ring[0];
	mc.vring[1] = p->ring[1];
	mc.num = num;
	mc.align = RPK_CACHE_LINE;
	mc.notify_id[1] = 1;
	mc.slots[0] = p->mslots[0];
	mc.slots[1] = p->mslots[1];
	mc.mem = &p->mem;
	mc.port = &no_port;
	mc.bufs = p->pool;
	mc.buf_size = 512;
	mc.buckets = p->mb;
	mc.num_buckets = 8;
	mc.services = p->ms;
	mc.num_services = 4;
	rc = mc;
	rc.role = RPK_ROLE_REMOTE;
	rc.slots[0] = p->rslots[0];
	rc.slots[1] = p->rslots[1];
	rc.bufs = NULL;
	rc.buf_size = 0;
	rc.buckets = p->rb;
	rc.services = p->rs;
	if (rpk_rpmsg_init(&p->m, &mc) || rpk_rpmsg_init(&p->r, &rc))
		die("rpmsg init");
	if (!remote_target) {
		/* fuzz_rpmsg_master_rx: its master's endpoints, then its remote's */
		rpk_ept_create(&p->m, &p->me[0], "", 1, RPK_ADDR_ANY, nop_cb, 0);
		rpk_ept_create(&p->m, &p->me[1], "rpmsg-fuzz", RPK_ADDR_ANY, RPK_ADDR_ANY, nop_cb,
			       0);
		rpk_ept_create(&p->m, &p->me[2], "rpmsg-client-sample", RPK_ADDR_ANY, RPK_ADDR_ANY,
			       nop_cb, 0);
		rpk_ept_create(&p->m, &p->me[3], "", 1024, RPK_ADDR_ANY, nop_cb, 0);
		rpk_ept_create(&p->r, &p->re[0], "rpmsg-client-sample", RPK_ADDR_ANY, RPK_ADDR_ANY,
			       nop_cb, 0);
		rpk_ept_create(&p->r, &p->re[1], "", 1, RPK_ADDR_ANY, nop_cb, 0);
		rpk_ept_create(&p->r, &p->re[2], "rpmsg-remote-svc", RPK_ADDR_ANY, RPK_ADDR_ANY,
			       nop_cb, 0);
	} else {
		/* fuzz_rpmsg_remote_rx: its remote's endpoints, then its master's */
		rpk_ept_create(&p->r, &p->re[0], "", 1, RPK_ADDR_ANY, nop_cb, 0);
		rpk_ept_create(&p->r, &p->re[1], "rpmsg-client-sample", RPK_ADDR_ANY, RPK_ADDR_ANY,
			       nop_cb, 0);
		rpk_ept_create(&p->r, &p->re[2], "rpmsg-fuzz", RPK_ADDR_ANY, RPK_ADDR_ANY, nop_cb,
			       0);
		rpk_ept_create(&p->r, &p->re[3], "", 1024, RPK_ADDR_ANY, nop_cb, 0);
		rpk_ept_create(&p->m, &p->me[0], "rpmsg-fuzz", RPK_ADDR_ANY, RPK_ADDR_ANY, nop_cb,
			       0);
		rpk_ept_create(&p->m, &p->me[1], "", 1, RPK_ADDR_ANY, nop_cb, 0);
		rpk_ept_create(&p->m, &p->me[2], "rpmsg-tty", RPK_ADDR_ANY, RPK_ADDR_ANY, nop_cb,
			       0);
	}
	rpk_rpmsg_start(&p->m, p->features);
	rpk_rpmsg_start(&p->r, p->features);
}

static void rp_pair_free(struct rp_pair *p)
{
	free(p->ring[0]);
	free(p->ring[1]);
	free(p->pool);
}

/* Raw writes (H_RAW: region, u32 offset, n, bytes) of [off, off + len) of a region. */
static void region_dump(struct script *s, unsigned region, const uint8_t *base, size_t off,
			size_t len)
{
	while (len) {
		size_t n = len > 255 ? 255 : len;

		u8(s, MX_H_RAW);
		u8(s, region);
		u32(s, (uint32_t)off);
		u8(s, (unsigned)n);
		bytes(s, base + off, n);
		off += n;
		len -= n;
	}
}

static void master_rx_seeds(void)
{
	struct script s;
	struct rp_pair *p = calloc(1, sizeof(*p));
	uint32_t used_off;
	uint8_t msg[40];

	if (!p)
		die("out of memory");

	/* Real traffic: the library's remote announces its services and sends
	 * three messages; the master's receive ring and buffers as it left
	 * them are replayed into the target's master, which then polls. */
	rp_pair_init(p, 16, 1, 0);
	memset(msg, 'm', sizeof(msg));
	rpk_send_offchannel_raw(&p->r, p->re[1].addr, 1, msg, sizeof(msg), RPK_NO_WAIT);
	rpk_send_offchannel_raw(&p->r, p->re[0].addr, p->me[2].addr, msg, 0, RPK_NO_WAIT);
	rpk_send_offchannel_raw(&p->r, p->re[2].addr, 1024, msg, 17, RPK_NO_WAIT);
	s.n = 0;
	u8(&s, rp_cfg(4, 0, 1, 0, 0));
	used_off = (uint32_t)(p->ring_size - (6u + 8u * 16u));
	/* what the remote wrote: each used buffer's used bytes, then the used ring */
	for (uint16_t i = 0; i < ((struct rpk_vring_used *)(void *)(p->ring[0] + used_off))->idx;
	     i++) {
		const struct rpk_vring_used_elem *e =
		    &((struct rpk_vring_used *)(void *)(p->ring[0] + used_off))->ring[i % 16u];

		region_dump(&s, 2, p->pool, (size_t)e->id * 512u, e->len);
	}
	region_dump(&s, 0, p->ring[0], used_off, 6u + 8u * 16u);
	u8(&s, MX_POLL);
	u8(&s, MX_R_POLL);
	u8(&s, MX_POLL);
	emit("rpmsg_master_rx", "remote-dump", &s);
	rp_pair_free(p);

	/* Honest traffic both ways, zero-copy, holding, endpoints coming and going. */
	s.n = 0;
	u8(&s, rp_cfg(3, 0, 1, 0, 0));
	u8(&s, MX_POLL); /* the remote's announcements */
	u8(&s, MX_R_SEND);
	u8(&s, 1);
	u8(&s, 1);
	u16(&s, 100);
	u8(&s, MX_CB_MODE);
	u8(&s, 0x01 | 0x02); /* hold, reply */
	u8(&s, MX_POLL);
	send_op(&s, 1, 1, 200, 1);
	send_op(&s, 2, 0, 40, 0);
	u8(&s, MX_R_POLL);
	u8(&s, MX_GET_TX);
	u8(&s, MX_SEND_NOCOPY);
	u8(&s, 0);
	u8(&s, 0);
	u8(&s, 2);
	u16(&s, 64);
	u8(&s, MX_GET_TX);
	u8(&s, MX_RELEASE_TX);
	u8(&s, 0);
	u8(&s, MX_RELEASE_RX);
	u8(&s, 0);
	u8(&s, MX_EPT_CREATE);
	u8(&s, 5);
	u8(&s, 0);
	u8(&s, 1);
	u8(&s, MX_EPT_DESTROY);
	u8(&s, 1);
	u8(&s, MX_R_EPT);
	u8(&s, 1); /* the remote destroys an endpoint: name-service destroy */
	u8(&s, MX_R_POLL);
	u8(&s, MX_CB_MODE);
	u8(&s, 0x04 | 0x08 | 0x20 | 0x40 | 0x80);
	u8(&s, MX_POLL);
	u8(&s, MX_MISC);
	u8(&s, 0 | 4); /* polling on */
	u8(&s, MX_MISC);
	u8(&s, 1);
	emit("rpmsg_master_rx", "honest", &s);

	/* The hostile remote by hand: messages to every kind of address, lengths
	 * beyond the buffer, name-service messages built from the wire struct
	 * (create, destroy, bad flags), bad ids, transmit buffers returned
	 * wrong, a used index jump. */
	s.n = 0;
	u8(&s, rp_cfg(2, 0, 1, 0, 0));
	h_msg_raw(&s, 0, 5, 4, 10, 0, 0); /* to our endpoint 0 */
	h_msg_raw(&s, 1, 5, 7, 10, 0, 0); /* nobody there */
	h_msg_raw(&s, 2, 5, 4, 10, 3, 0); /* header length one past the room */
	h_msg_raw(&s, 3, 5, 4, 10, 0, 2); /* used length one past the buffer */
	u8(&s, MX_POLL);
	h_msg_ns(&s, 0, 2, 0x500, 0); /* create "rpmsg-remote-svc" */
	h_msg_ns(&s, 1, 1, 0x501, 0); /* create "rpmsg-client-sample" */
	h_msg_ns(&s, 2, 2, 0x500, 1); /* destroy */
	h_msg_ns(&s, 3, 0, 0x502, 2); /* bad flags */
	u8(&s, MX_POLL);
	send_op(&s, 0, 4, 8, 1);
	send_op(&s, 2, 0, 8, 0);
	u8(&s, MX_H_RET_TX);
	u8(&s, 0);
	u8(&s, 2); /* length beyond */
	u8(&s, MX_H_RET_TX);
	u8(&s, 0x80);
	u32(&s, 77);
	u8(&s, 0);
	u8(&s, MX_POLL);
	send_op(&s, 0, 4, 8, 1);
	u8(&s, MX_H_IDX);
	u8(&s, 0x80);
	u16(&s, 0x100);
	u8(&s, MX_POLL);
	u8(&s, MX_POLL);
	emit("rpmsg_master_rx", "hostile", &s);

	/* Big rings (512 descriptors, 256 buffers) with 4 KiB alignment, no name service. */
	s.n = 0;
	u8(&s, rp_cfg(7, 0, 0, 1, 1));
	h_msg_raw(&s, 200, 7, 4, 30, 0, 0);
	u8(&s, MX_POLL);
	send_op(&s, 0, 1, 496, 1);
	send_op(&s, 0, 1, 497, 1);
	u8(&s, MX_R_POLL);
	emit("rpmsg_master_rx", "num512", &s);

	/* Small (128-byte) and large (1024-byte) buffers. */
	for (unsigned bs = 2; bs <= 3; bs++) {
		s.n = 0;
		u8(&s, rp_cfg(1, bs, 1, 0, 0));
		u8(&s, MX_POLL);
		h_msg_raw(&s, 0, 5, 4, 100, 2, 1);
		u8(&s, MX_POLL);
		send_op(&s, 0, 1, bs == 2 ? 112 : 1008, 1);
		u8(&s, MX_R_POLL);
		emit("rpmsg_master_rx", bs == 2 ? "buf128" : "buf1024", &s);
	}
	free(p);
}

/* A message for the remote on vring 1, headers and all, posted by hand. */
static void h_post_msg(struct script *s, unsigned flags, unsigned head, unsigned kind, unsigned off,
		       uint32_t src, unsigned dstsel, unsigned n, unsigned dsel)
{
	u8(s, RX_H_MSG);
	u8(s, flags);
	u8(s, head);
	u8(s, kind);
	u16(s, off);
	u32(s, src);
	u8(s, dstsel);
	u8(s, 0); /* header length: the payload's */
	u8(s, 0); /* raw payload */
	u8(s, n);
	for (unsigned i = 0; i < n; i++)
		u8(s, 'A' + i % 26);
	u8(s, dsel);
}

static void h_post_ns(struct script *s, unsigned head, unsigned off, unsigned name, uint32_t addr,
		      unsigned nsflags)
{
	u8(s, RX_H_MSG);
	u8(s, 0);
	u8(s, head);
	u8(s, 2); /* aligned pool offset */
	u16(s, off);
	u32(s, addr);
	u8(s, 0);
	u8(s, 0);
	u8(s, 1); /* name service */
	u8(s, name);
	u32(s, addr);
	u8(s, nsflags);
	u8(s, 0); /* descriptor length: header + message */
}

static void h_txbuf(struct script *s, unsigned flags, unsigned head, unsigned kind, unsigned off,
		    unsigned lensel)
{
	u8(s, RX_H_TXBUF);
	u8(s, flags);
	u8(s, head);
	u8(s, kind);
	u16(s, off);
	u8(s, lensel);
}

static void remote_rx_seeds(void)
{
	struct script s;
	struct rp_pair *p = calloc(1, sizeof(*p));
	uint8_t msg[64];
	size_t avail_len = 6u + 2u * 16u;

	if (!p)
		die("out of memory");

	/* Real traffic: the library's master announces its services and sends
	 * messages; vring 1 (descriptors, avail ring) and the send half of the
	 * pool as it left them are replayed into the target, which polls. */
	rp_pair_init(p, 16, 1, 1);
	memset(msg, 'M', sizeof(msg));
	rpk_send_offchannel_raw(&p->m, p->me[1].addr, 1, msg, sizeof(msg), RPK_NO_WAIT);
	rpk_send_offchannel_raw(&p->m, p->me[0].addr, p->re[2].addr, msg, 5, RPK_NO_WAIT);
	rpk_send_offchannel_raw(&p->m, p->me[2].addr, 1024, msg, 0, RPK_NO_WAIT);
	s.n = 0;
	u8(&s, rp_cfg(4, 0, 1, 0, 0));
	/* what the master wrote: each posted buffer's bytes, then descriptors and avail ring */
	for (uint16_t i = 0; i < ((struct rpk_vring_avail *)(void *)(p->ring[1] + 256))->idx; i++) {
		uint16_t head =
		    ((struct rpk_vring_avail *)(void *)(p->ring[1] + 256))->ring[i % 16u];
		const struct rpk_vring_desc *d =
		    &((struct rpk_vring_desc *)(void *)p->ring[1])[head];

		region_dump(&s, 2, p->pool, (size_t)(d->addr - POOL_DA), d->len);
	}
	region_dump(&s, 1, p->ring[1], 0, 16u * 16u + avail_len);
	u8(&s, MX_POLL);
	u8(&s, RX_M_POLL);
	u8(&s, MX_POLL);
	emit("rpmsg_remote_rx", "master-dump", &s);
	rp_pair_free(p);

	/* Honest traffic both ways with the library's master in the target. */
	s.n = 0;
	u8(&s, rp_cfg(3, 0, 1, 0, 0));
	u8(&s, MX_POLL); /* the master's announcements */
	u8(&s, RX_M_POLL);
	u8(&s, RX_M_SEND);
	u8(&s, 1);
	u8(&s, 1); /* to our endpoint at 1 */
	u16(&s, 300);
	u8(&s, MX_CB_MODE);
	u8(&s, 0x01 | 0x02);
	u8(&s, MX_POLL);
	send_op(&s, 0, 2, 100, 1);
	send_op(&s, 1, 0, 10, 0);
	u8(&s, RX_M_POLL);
	u8(&s, MX_GET_TX);
	u8(&s, MX_SEND_NOCOPY);
	u8(&s, 0);
	u8(&s, 0);
	u8(&s, 2);
	u16(&s, 64);
	u8(&s, MX_GET_TX);
	u8(&s, MX_RELEASE_TX);
	u8(&s, 0);
	u8(&s, MX_RELEASE_RX);
	u8(&s, 0);
	u8(&s, MX_EPT_CREATE);
	u8(&s, 5);
	u8(&s, 0);
	u8(&s, 1);
	u8(&s, MX_EPT_DESTROY);
	u8(&s, 1);
	u8(&s, RX_M_EPT);
	u8(&s, 1);
	u8(&s, RX_M_POLL);
	u8(&s, MX_CB_MODE);
	u8(&s, 0x04 | 0x08 | 0x20 | 0x40 | 0x80);
	u8(&s, MX_POLL);
	u8(&s, MX_MISC);
	u8(&s, 4);
	emit("rpmsg_remote_rx", "honest", &s);

	/* The hostile master by hand: messages in its own buffers and in the
	 * other window, misaligned, too short, wrong direction, chained,
	 * out-of-range heads; name-service messages built from the wire struct;
	 * transmit buffers too small, misaligned, outside every window. */
	s.n = 0;
	u8(&s, rp_cfg(2, 0, 1, 0, 0));
	h_post_msg(&s, 0, 0, 6, 0, 9, 4, 20, 0);  /* buffer 0, to our endpoint 0 */
	h_post_msg(&s, 0, 1, 3, 64, 9, 4, 20, 1); /* other window */
	h_post_msg(&s, 0, 2, 0, 3, 9, 4, 20, 0);  /* misaligned */
	h_post_msg(&s, 0, 3, 6, 1, 9, 4, 20, 2);  /* too short */
	u8(&s, MX_POLL);
	h_post_msg(&s, 1, 0, 6, 0, 9, 4, 8, 0);	 /* device-writable */
	h_post_msg(&s, 2, 1, 6, 1, 9, 4, 8, 0);	 /* chained */
	h_post_msg(&s, 16, 2, 6, 2, 9, 4, 8, 0); /* head out of range */
	h_post_msg(&s, 0, 3, 4, 8, 9, 4, 8, 3);	 /* runs past the pool */
	u32(&s, 512);
	u8(&s, MX_POLL);
	h_post_ns(&s, 0, 0, 0, 0x600, 0);    /* "rpmsg-fuzz" create */
	h_post_ns(&s, 1, 512, 5, 0x601, 0);  /* "rpmsg-tty" create */
	h_post_ns(&s, 2, 1024, 0, 0x600, 1); /* destroy */
	u8(&s, MX_POLL);
	h_txbuf(&s, 0, 0, 6, 4, 0); /* a proper one */
	h_txbuf(&s, 0, 1, 0, 2, 0); /* misaligned */
	h_txbuf(&s, 0, 2, 6, 5, 1); /* too small */
	h_txbuf(&s, 1, 3, 6, 6, 0); /* wrong direction */
	send_op(&s, 0, 2, 16, 1);
	send_op(&s, 0, 2, 600, 1);
	u8(&s, MX_GET_TX);
	/* nowhere: a raw device address (kind 7) no window covers */
	u8(&s, RX_H_TXBUF);
	u8(&s, 0);
	u8(&s, 0);
	u8(&s, 7);
	u16(&s, 0);
	u32(&s, 0x10000000u);
	u32(&s, 0);
	u8(&s, 0);
	u8(&s, MX_GET_TX);
	u8(&s, MX_H_IDX);
	u8(&s, 1 | (1u << 1) | (5u << 3)); /* vring 1 avail index + 5 */
	u8(&s, MX_POLL);
	u8(&s, MX_POLL);
	emit("rpmsg_remote_rx", "hostile", &s);

	/* Big rings, 4 KiB aligned, no name service, polling. */
	s.n = 0;
	u8(&s, rp_cfg(7, 0, 0, 1, 1));
	u8(&s, RX_M_SEND);
	u8(&s, 1);
	u8(&s, 1);
	u16(&s, 496);
	u8(&s, MX_POLL);
	send_op(&s, 0, 2, 496, 1);
	u8(&s, RX_M_POLL);
	emit("rpmsg_remote_rx", "num512", &s);

	for (unsigned bs = 2; bs <= 3; bs++) {
		s.n = 0;
		u8(&s, rp_cfg(1, bs, 1, 0, 0));
		u8(&s, MX_POLL);
		u8(&s, RX_M_SEND);
		u8(&s, 1);
		u8(&s, 1);
		u16(&s, bs == 2 ? 112 : 1008);
		u8(&s, MX_POLL);
		send_op(&s, 0, 2, bs == 2 ? 112 : 1008, 1);
		u8(&s, RX_M_POLL);
		emit("rpmsg_remote_rx", bs == 2 ? "buf128" : "buf1024", &s);
	}
	free(p);
}

/* ---- fuzz_layout: the project's devicetrees, compiled ---- */

static void layout_seed(const char *dtc, const char *dts)
{
	char out[4096], name[256];
	const char *base = strrchr(dts, '/');
	size_t len;
	pid_t pid;
	int status;

	base = base ? base + 1 : dts;
	len = strlen(base);
	if (len < 5 || strcmp(base + len - 4, ".dts"))
		die("%s: not a .dts", dts);
	snprintf(name, sizeof(name), "%.*s.dtb", (int)(len - 4), base);
	snprintf(out, sizeof(out), "%s/layout", corpus_dir);
	mkdir_p(out);
	snprintf(out, sizeof(out), "%s/layout/seed-%s", corpus_dir, name);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		execlp(dtc, dtc, "-q", "-I", "dts", "-O", "dtb", "-o", out, dts, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		/* tests/unit/dts/syntax-error.dts is meant not to compile */
		fprintf(stderr, "fuzz_gen_corpus: %s does not compile, no seed\n", dts);
		unlink(out);
	}
}

/*
 * Devicetrees at the reader's limits, written here and compiled like the
 * others: more regions and link nodes than it keeps, more services than a
 * node may name, and a valid link whose path is longer than the reader's
 * path buffer.
 */
static void layout_limit_seeds(const char *dtc)
{
	char path[] = "/tmp/rpk-fuzz-XXXXXX.dts";
	static const char *const head =
	    "/dts-v1/;\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n"
	    "\tmbox: mailbox@20000000 {\n\t\tcompatible = \"rpk,shm-mailbox\";\n"
	    "\t\treg = <0x20000000 0x1000>;\n\t};\n";
	static const char *const link =
	    "\t\tcompatible = \"rpk,rpmsg-link\";\n\t\trpk,role = \"remote\";\n"
	    "\t\tmemory-region = <&r0>, <&r1>, <&r2>, <&r3>;\n"
	    "\t\tmboxes = <&mbox 0>, <&mbox 1>;\n\t\tmbox-names = \"tx\", \"rx\";\n"
	    "\t\trpk,vring-num = <16>;\n\t\trpk,vring-align = <16>;\n";

	for (int kind = 0; kind < 2; kind++) {
		int fd = mkstemps(path, 4);
		FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

		if (!f)
			die("cannot write a temporary devicetree");
		fputs(head, f);
		fprintf(f, "\treserved-memory {\n\t\t#address-cells = <1>;\n"
			   "\t\t#size-cells = <1>;\n\t\tranges;\n");
		for (int i = 0; i < (kind ? 4 : 34); i++)
			fprintf(f, "\t\tr%d: region@%x {\n\t\t\treg = <0x%x 0x%x>;\n%s\t\t};\n", i,
				0x10000000 + i * 0x10000, 0x10000000 + i * 0x10000,
				i == 3 ? 0x10000 : 0x1000,
				i ? ""
				  : "\t\t\trpk,rsc-offset = <0>;\n\t\t\trpk,rsc-size = <0x400>;\n");
		fprintf(f, "\t};\n");
		if (kind == 0) {
			for (int i = 0; i < 17; i++)
				fprintf(f, "\tlink%d {\n%s%s\t};\n", i, link,
					i ? ""
					  : "\t\trpk,services = \"a\", \"b\", \"c\", \"d\", \"e\", "
					    "\"f\", \"g\", \"h\", \"i\", \"\";\n");
		} else {
			for (int d = 0; d < 3; d++)
				fprintf(f,
					"\tthis-node-name-is-long-enough-to-push-the-path-past-its-"
					"buffer-%d {\n",
					d);
			fprintf(f, "\tlink {\n%s\t};\n", link);
			for (int d = 0; d < 3; d++)
				fprintf(f, "\t};\n");
		}
		fprintf(f, "};\n");
		if (fclose(f))
			die("cannot write a temporary devicetree");
		layout_seed(dtc, path);
		/* named after the temporary file: give it a stable name */
		{
			char from[4096], to[4096];
			const char *base = strrchr(path, '/') + 1;

			snprintf(from, sizeof(from), "%s/layout/seed-%.*s.dtb", corpus_dir,
				 (int)(strlen(base) - 4), base);
			snprintf(to, sizeof(to), "%s/layout/seed-%s.dtb", corpus_dir,
				 kind ? "long-path" : "too-many");
			if (rename(from, to))
				die("rename %s: %s", from, strerror(errno));
		}
		unlink(path);
		strcpy(path, "/tmp/rpk-fuzz-XXXXXX.dts");
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s CORPUS_DIR DTC [DTS...]\n", argv[0]);
		return 2;
	}
	corpus_dir = argv[1];
	mkdir_p(corpus_dir);

	rsc_seed("node", 0);
	rsc_seed("firmware", 1);
	rsc_seed("every-kind", 2);
	rsc_seed("empty", 3);
	rsc_seed("unknown-type", 4);
	vring_device_seeds();
	vring_driver_seeds();
	master_rx_seeds();
	remote_rx_seeds();
	for (int i = 3; i < argc; i++)
		layout_seed(argv[2], argv[i]);
	layout_limit_seeds(argv[2]);
	return 0;
}
