/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user backend for the rpmsg device (virtio id 7), as spoken by
 * Linux's arch/um/drivers/virtio_uml.c: one memory region whose guest
 * address equals its user address, legacy split rings (no VERSION_1, so
 * native endian), kicks on eventfds, calls on pipes.
 *
 * Everything the guest sends is untrusted like shared memory: message sizes,
 * queue indices, ring sizes and addresses are checked before use.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rpk/errno.h>

#include "vhost-user/vhost_user.h"

enum {
	VHU_GET_FEATURES = 1,
	VHU_SET_FEATURES = 2,
	VHU_SET_OWNER = 3,
	VHU_RESET_OWNER = 4,
	VHU_SET_MEM_TABLE = 5,
	VHU_SET_VRING_NUM = 8,
	VHU_SET_VRING_ADDR = 9,
	VHU_SET_VRING_BASE = 10,
	VHU_GET_VRING_BASE = 11,
	VHU_SET_VRING_KICK = 12,
	VHU_SET_VRING_CALL = 13,
	VHU_SET_VRING_ERR = 14,
	VHU_GET_PROTOCOL_FEATURES = 15,
	VHU_SET_PROTOCOL_FEATURES = 16,
	VHU_GET_QUEUE_NUM = 17,
	VHU_SET_VRING_ENABLE = 18,
	VHU_SET_SLAVE_REQ_FD = 21,
	VHU_GET_CONFIG = 24,
};

#define VHU_VERSION		1u
#define VHU_FLAG_REPLY		(1u << 2)
#define VHU_FLAG_NEED_REPLY	(1u << 3)
#define VHU_F_PROTOCOL_FEATURES 30u
#define VHU_PROTO_REPLY_ACK	3u
#define VHU_PROTO_SLAVE_REQ	5u /* without it UML shares the timer IRQ and probing fails */
#define VHU_VRING_NOFD		(1u << 8)

/* No VIRTIO_F_VERSION_1 (bit 32), and SET_FEATURES keeps only these: the
 * rings stay legacy, so in the CPU's byte order like a remoteproc link's. A
 * VERSION_1 ring would be little-endian on every CPU (docs/porting.md). */
#define RPMSG_FEATURES	  ((1ull << RPK_VIRTIO_RPMSG_F_NS) | (1ull << RPK_VIRTIO_RING_F_EVENT_IDX))
#define DEVICE_FEATURES	  (RPMSG_FEATURES | (1ull << VHU_F_PROTOCOL_FEATURES))
#define PROTOCOL_FEATURES ((1ull << VHU_PROTO_REPLY_ACK) | (1ull << VHU_PROTO_SLAVE_REQ))
#define APP_FDS		  8 /* rpk_vhu_ops.poll_fds: the application's own descriptors */

#define MAX_REGIONS 8
#define MAX_FDS	    8
#define MAX_PAYLOAD 4096
#define NUM_BUCKETS 256

struct vhu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __attribute__((packed));

struct vhu_state {
	uint32_t index;
	uint32_t num;
} __attribute__((packed));

struct vhu_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc, used, avail, log;
} __attribute__((packed));

struct vhu_region_msg {
	uint64_t guest_addr, size, user_addr, mmap_offset;
} __attribute__((packed));

struct vhu_region {
	uint64_t gpa, size, uva;
	uint8_t *va; /* guest_addr maps here */
	void *map;
	size_t map_len;
};

struct vhu_queue {
	uint32_t num;
	uint16_t base;
	uint64_t desc, avail, used; /* user addresses */
	int addr_set;
	int kick_fd, call_fd;
	int enabled;
};

struct rpk_vhu {
	int lfd, cfd, slave_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct rpk_vhu_ops ops;
	uint64_t features, protocol;
	struct vhu_region reg[MAX_REGIONS];
	unsigned nreg;
	struct rpk_mem_window win[MAX_REGIONS];
	struct rpk_mem mem;
	struct vhu_queue q[2];
	struct rpk_port_ops port_ops;
	struct rpk_port port;
	uint32_t events; /* kicks drained, for event_snapshot */
	struct rpk_rpmsg dev;
	struct rpk_vq_slot *slots[2];
	struct rpk_ept *buckets[NUM_BUCKETS];
	struct rpk_service services[64];
	int up;
	struct rpk_vhu_stats stats;
};

/* ---- the port: how the core reaches the guest ---- */

static uint32_t now_ms(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static void call_guest(void *ctx, uint32_t queue)
{
	struct rpk_vhu *v = ctx;
	uint64_t one = 1;

	/* virtio_uml reads exactly 8 bytes per interrupt from its pipe. */
	if (queue < 2 && v->q[queue].call_fd >= 0 &&
	    write(v->q[queue].call_fd, &one, sizeof(one)) == sizeof(one))
		v->stats.calls_out++;
}

static int drain(int fd)
{
	uint64_t n;

	return fd >= 0 && read(fd, &n, sizeof(n)) == sizeof(n);
}

static uint32_t event_snapshot(void *ctx)
{
	return ((struct rpk_vhu *)ctx)->events;
}

/* Wait for a kick on either queue. The main loop looks at the rings again
 * after every callback, so draining a kick here loses nothing. */
static int event_wait(void *ctx, uint32_t snapshot, uint32_t timeout_ms)
{
	struct rpk_vhu *v = ctx;
	struct pollfd p[2] = {{.fd = v->q[0].kick_fd, .events = POLLIN},
			      {.fd = v->q[1].kick_fd, .events = POLLIN}};
	int ms = timeout_ms == RPK_WAIT_FOREVER ? -1 : (int)timeout_ms;

	if (v->events != snapshot)
		return 0;
	if (poll(p, 2, ms) <= 0)
		return -RPK_ETIMEDOUT;
	for (int i = 0; i < 2; i++)
		if (p[i].revents & POLLIN && drain(p[i].fd)) {
			v->stats.kicks_in++;
			v->events++;
		}
	return 0;
}

/* ---- guest memory ---- */

static void unmap_regions(struct rpk_vhu *v)
{
	for (unsigned i = 0; i < v->nreg; i++)
		munmap(v->reg[i].map, v->reg[i].map_len);
	v->nreg = 0;
	v->mem.count = 0;
}

/* Local address of [uva, uva + len) in the guest's user address space. */
static void *uva_to_va(struct rpk_vhu *v, uint64_t uva, uint64_t len)
{
	for (unsigned i = 0; i < v->nreg; i++) {
		const struct vhu_region *r = &v->reg[i];

		if (uva >= r->uva && uva - r->uva <= r->size && len <= r->size - (uva - r->uva))
			return r->va + (uva - r->uva);
	}
	return NULL;
}

static int set_mem_table(struct rpk_vhu *v, const uint8_t *p, uint32_t size, const int *fds,
			 int nfds)
{
	uint32_t num;

	if (size < 8)
		return -RPK_EBADMSG;
	memcpy(&num, p, sizeof(num));
	if (num == 0 || num > MAX_REGIONS || (int)num > nfds ||
	    size < 8 + num * sizeof(struct vhu_region_msg))
		return -RPK_EBADMSG;
	unmap_regions(v);
	for (uint32_t i = 0; i < num; i++) {
		struct vhu_region_msg m;
		struct vhu_region *r = &v->reg[i];
		void *map;

		memcpy(&m, p + 8 + i * sizeof(m), sizeof(m));
		if (!m.size || m.mmap_offset > SIZE_MAX - m.size ||
		    m.guest_addr + m.size < m.guest_addr || m.user_addr + m.size < m.user_addr)
			return -RPK_EBADMSG;
		map = mmap(NULL, m.mmap_offset + m.size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i],
			   0);
		if (map == MAP_FAILED)
			return -RPK_EIO;
		r->gpa = m.guest_addr;
		r->size = m.size;
		r->uva = m.user_addr;
		r->map = map;
		r->map_len = m.mmap_offset + m.size;
		r->va = (uint8_t *)map + m.mmap_offset;
		v->win[i] = (struct rpk_mem_window){m.guest_addr, m.size, r->va};
		v->nreg = i + 1;
	}
	v->mem.win = v->win;
	v->mem.count = v->nreg;
	return 0;
}

/* ---- the rpmsg device over the guest's rings ---- */

static void link_down(struct rpk_vhu *v)
{
	if (!v->up)
		return;
	/* Down first: nothing in the callback may touch rings being torn down. */
	rpk_rpmsg_reset(&v->dev);
	if (v->ops.link_down)
		v->ops.link_down(&v->dev, v->ops.arg);
	v->up = 0;
	free(v->slots[0]);
	free(v->slots[1]);
	v->slots[0] = v->slots[1] = NULL;
}

static int queue_ready(const struct vhu_queue *q)
{
	return q->num && q->addr_set && q->kick_fd >= 0 && q->call_fd >= 0 && q->enabled;
}

/* Both rings configured and the guest kicked: bring the rpmsg device up. */
static int link_up(struct rpk_vhu *v)
{
	struct rpk_rpmsg_cfg cfg = {
	    .role = RPK_ROLE_REMOTE,
	    .num = v->q[0].num,
	    .align = 4096, /* unused: the parts come separately */
	    .notify_id = {0, 1},
	    .mem = &v->mem,
	    .port = &v->port,
	    .buckets = v->buckets,
	    .num_buckets = NUM_BUCKETS,
	    .services = v->services,
	    .num_services = sizeof(v->services) / sizeof(v->services[0]),
	};
	int rc;

	if (v->q[0].num != v->q[1].num)
		return -RPK_EPROTO;
	for (int i = 0; i < 2; i++) {
		const struct vhu_queue *q = &v->q[i];

		cfg.parts[i].desc = uva_to_va(v, q->desc, 16ull * q->num);
		cfg.parts[i].avail = uva_to_va(v, q->avail, 6ull + 2ull * q->num);
		cfg.parts[i].used = uva_to_va(v, q->used, 6ull + 8ull * q->num);
		rc = -RPK_EFAULT;
		if (!cfg.parts[i].desc || !cfg.parts[i].avail || !cfg.parts[i].used)
			goto fail;
		rc = -RPK_ENOMEM;
		v->slots[i] = calloc(q->num, sizeof(*v->slots[i]));
		if (!v->slots[i])
			goto fail;
		cfg.slots[i] = v->slots[i];
	}
	rc = rpk_rpmsg_init(&v->dev, &cfg);
	if (rc)
		goto fail;
	rpk_vq_set_base(&v->dev.vq[0], v->q[0].base);
	rpk_vq_set_base(&v->dev.vq[1], v->q[1].base);
	v->up = 1;
	v->stats.links++;
	if (v->ops.link_up)
		v->ops.link_up(&v->dev, v->ops.arg);
	v->stats.features = (uint32_t)(v->features & RPMSG_FEATURES);
	return rpk_rpmsg_start(&v->dev, v->stats.features);
fail:
	for (int i = 0; i < 2; i++) {
		free(v->slots[i]);
		v->slots[i] = NULL;
	}
	return rc;
}

/* ---- vhost-user messages ---- */

static int send_reply(struct rpk_vhu *v, uint32_t request, const void *payload, uint32_t size)
{
	struct {
		struct vhu_hdr h;
		uint8_t p[64];
	} __attribute__((packed)) r = {{request, VHU_VERSION | VHU_FLAG_REPLY, size}, {0}};

	memcpy(r.p, payload, size);
	return send(v->cfd, &r, sizeof(r.h) + size, MSG_NOSIGNAL) == (ssize_t)(sizeof(r.h) + size)
		   ? 0
		   : -RPK_EIO;
}

static int reply_u64(struct rpk_vhu *v, uint32_t request, uint64_t value)
{
	return send_reply(v, request, &value, sizeof(value));
}

static void set_fd(int *slot, int fd)
{
	if (*slot >= 0)
		close(*slot);
	*slot = fd;
}

/* Payload u64 carrying a queue index (and the no-fd flag) plus an fd. */
static int vring_fd(struct rpk_vhu *v, const uint8_t *p, uint32_t size, int *fds, int *nfds,
		    int which)
{
	uint64_t val;
	uint32_t index;
	int fd = -1;

	if (size < sizeof(val))
		return -RPK_EBADMSG;
	memcpy(&val, p, sizeof(val));
	index = (uint32_t)(val & 0xffu);
	if (index > 1)
		return -RPK_EBADMSG;
	if (!(val & VHU_VRING_NOFD)) {
		if (*nfds < 1)
			return -RPK_EBADMSG;
		fd = fds[0];
		fds[0] = -1; /* taken */
		*nfds = 0;
	}
	if (which == VHU_SET_VRING_KICK) {
		fcntl(fd, F_SETFL, O_NONBLOCK);
		set_fd(&v->q[index].kick_fd, fd);
	} else if (which == VHU_SET_VRING_CALL) {
		set_fd(&v->q[index].call_fd, fd);
	} else if (fd >= 0) {
		close(fd); /* error fd: we report nothing through it */
	}
	return 0;
}

static int vring_state(const uint8_t *p, uint32_t size, struct vhu_state *s)
{
	if (size < sizeof(*s))
		return -RPK_EBADMSG;
	memcpy(s, p, sizeof(*s));
	return s->index > 1 ? -RPK_EBADMSG : 0;
}

static int handle(struct rpk_vhu *v, const struct vhu_hdr *h, const uint8_t *p, int *fds, int *nfds)
{
	struct vhu_state st;
	struct vhu_addr a;
	uint64_t u;
	int rc = 0;

	v->stats.requests++;
	switch (h->request) {
	case VHU_GET_FEATURES:
		return reply_u64(v, h->request, DEVICE_FEATURES);
	case VHU_GET_PROTOCOL_FEATURES:
		return reply_u64(v, h->request, PROTOCOL_FEATURES);
	case VHU_GET_QUEUE_NUM:
		return reply_u64(v, h->request, 2);
	case VHU_SET_FEATURES:
	case VHU_SET_PROTOCOL_FEATURES:
		if (h->size < sizeof(u))
			return -RPK_EBADMSG;
		memcpy(&u, p, sizeof(u));
		if (h->request == VHU_SET_FEATURES)
			v->features = u & DEVICE_FEATURES;
		else
			v->protocol = u & PROTOCOL_FEATURES;
		break;
	case VHU_SET_OWNER:
		break;
	case VHU_RESET_OWNER:
		link_down(v);
		break;
	case VHU_SET_MEM_TABLE:
		link_down(v); /* rings may live anywhere now */
		rc = set_mem_table(v, p, h->size, fds, *nfds);
		break;
	case VHU_SET_VRING_NUM:
		rc = vring_state(p, h->size, &st);
		if (!rc && (!st.num || st.num > RPK_VRING_MAX_NUM || (st.num & (st.num - 1))))
			rc = -RPK_EBADMSG;
		if (!rc)
			v->q[st.index].num = st.num;
		break;
	case VHU_SET_VRING_BASE:
		rc = vring_state(p, h->size, &st);
		if (!rc)
			v->q[st.index].base = (uint16_t)st.num;
		break;
	case VHU_GET_VRING_BASE:
		rc = vring_state(p, h->size, &st);
		if (rc)
			return rc;
		/* The guest stops the ring: hand back where we are, forget the link. */
		st.num = v->up ? v->dev.vq[st.index].next_avail : v->q[st.index].base;
		v->q[st.index].enabled = 0;
		link_down(v);
		return send_reply(v, h->request, &st, sizeof(st));
	case VHU_SET_VRING_ADDR:
		if (h->size < sizeof(a))
			return -RPK_EBADMSG;
		memcpy(&a, p, sizeof(a));
		if (a.index > 1)
			return -RPK_EBADMSG;
		v->q[a.index].desc = a.desc;
		v->q[a.index].avail = a.avail;
		v->q[a.index].used = a.used;
		v->q[a.index].addr_set = 1;
		break;
	case VHU_SET_VRING_KICK:
	case VHU_SET_VRING_CALL:
	case VHU_SET_VRING_ERR:
		rc = vring_fd(v, p, h->size, fds, nfds, (int)h->request);
		break;
	case VHU_SET_VRING_ENABLE:
		rc = vring_state(p, h->size, &st);
		if (!rc)
			v->q[st.index].enabled = st.num != 0;
		if (!rc && !st.num)
			link_down(v);
		break;
	case VHU_SET_SLAVE_REQ_FD:
		if (*nfds < 1)
			return -RPK_EBADMSG;
		set_fd(&v->slave_fd, fds[0]);
		fds[0] = -1;
		*nfds = 0;
		break;
	case VHU_GET_CONFIG: {
		uint8_t cfg[12 + 52] = {0};
		uint32_t len = h->size > sizeof(cfg) ? 0 : h->size;

		/* rpmsg has no config space: echo the request with zeroes. */
		memcpy(cfg, p, len < 12 ? len : 12);
		return send_reply(v, h->request, cfg, len);
	}
	default:
		rc = -RPK_ENOTSUP;
		break;
	}
	if ((h->flags & VHU_FLAG_NEED_REPLY) && (v->protocol & (1ull << VHU_PROTO_REPLY_ACK)))
		return reply_u64(v, h->request, rc ? 1 : 0) ? -RPK_EIO : 0;
	return rc == -RPK_ENOTSUP ? 0 : rc;
}

/* Read one message with its fds; 1 if handled, 0 on disconnect, <0 error. */
static int read_message(struct rpk_vhu *v)
{
	union {
		char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	static uint8_t payload[MAX_PAYLOAD];
	int fds[MAX_FDS], nfds = 0, rc;
	struct vhu_hdr h;
	struct iovec iov = {&h, sizeof(h)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf)};
	ssize_t n = recvmsg(v->cfd, &msg, MSG_CMSG_CLOEXEC);

	if (n == 0)
		return 0;
	if (n != sizeof(h))
		return n < 0 && errno == EINTR ? 1 : -RPK_EPROTO;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

			for (int i = 0; i < k && nfds < MAX_FDS; i++)
				memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
		}
	rc = -RPK_EPROTO;
	if (h.size <= MAX_PAYLOAD &&
	    (h.size == 0 || recv(v->cfd, payload, h.size, MSG_WAITALL) == (ssize_t)h.size))
		rc = handle(v, &h, payload, fds, &nfds);
	for (int i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc < 0 ? rc : 1;
}

/* ---- serving ---- */

int rpk_vhu_listen(struct rpk_vhu **out, const char *path, const struct rpk_vhu_ops *ops, char *err,
		   size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct rpk_vhu *v;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long\n", path);
		return -RPK_EINVAL;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return -RPK_ENOMEM;
	v->cfd = v->slave_fd = -1;
	for (int i = 0; i < 2; i++)
		v->q[i].kick_fd = v->q[i].call_fd = -1;
	if (ops)
		v->ops = *ops;
	v->port_ops = (struct rpk_port_ops){.notify = call_guest,
					    .event_snapshot = event_snapshot,
					    .event_wait = event_wait,
					    .now_ms = now_ms};
	v->port.ops = &v->port_ops;
	v->port.ctx = v;
	snprintf(v->path, sizeof(v->path), "%s", path);
	strcpy(sa.sun_path, path);
	unlink(path);
	v->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (v->lfd < 0 || bind(v->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(v->lfd, 1) < 0) {
		snprintf(err, errlen, "%s: cannot listen: %s\n", path, strerror(errno));
		if (v->lfd >= 0)
			close(v->lfd);
		free(v);
		return -RPK_EIO;
	}
	*out = v;
	return 0;
}

static void disconnect(struct rpk_vhu *v)
{
	link_down(v);
	unmap_regions(v);
	for (int i = 0; i < 2; i++) {
		set_fd(&v->q[i].kick_fd, -1);
		set_fd(&v->q[i].call_fd, -1);
		memset(&v->q[i], 0, sizeof(v->q[i]));
		v->q[i].kick_fd = v->q[i].call_fd = -1;
	}
	set_fd(&v->slave_fd, -1);
	set_fd(&v->cfd, -1);
	v->features = v->protocol = 0;
}

/* Run the rings until they are quiet. */
static int service_rings(struct rpk_vhu *v)
{
	int r;

	if (!v->up)
		return 0;
	while ((r = rpk_rpmsg_poll(&v->dev)) > 0)
		;
	return r;
}

static int serve_connection(struct rpk_vhu *v, volatile sig_atomic_t *stop)
{
	int rc = 0;

	while (!*stop) {
		struct pollfd p[3 + APP_FDS] = {{.fd = v->cfd, .events = POLLIN},
						{.fd = v->q[0].kick_fd, .events = POLLIN},
						{.fd = v->q[1].kick_fd, .events = POLLIN}};
		int kicked = 0,
		    app = v->ops.poll_fds ? v->ops.poll_fds(p + 3, APP_FDS, v->ops.arg) : 0;

		if (poll(p, 3 + (nfds_t)app, 500) < 0 && errno != EINTR)
			return -RPK_EIO;
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			rc = read_message(v);
			if (rc <= 0)
				return rc;
		}
		for (int i = 1; i < 3; i++)
			if (p[i].revents & POLLIN && drain(p[i].fd)) {
				v->stats.kicks_in++;
				v->events++;
				kicked = 1;
			}
		/* The guest's first kick after setting up both rings means its
		 * driver is ready (there is no status message). */
		if (!v->up && kicked && queue_ready(&v->q[0]) && queue_ready(&v->q[1])) {
			rc = link_up(v);
			if (rc)
				return rc;
		}
		if (service_rings(v) == -RPK_EPIPE)
			return -RPK_EPIPE;
		if (v->up && v->ops.after_poll)
			v->ops.after_poll(&v->dev, p + 3, app, v->ops.arg);
	}
	return 0;
}

int rpk_vhu_run(struct rpk_vhu *v, volatile sig_atomic_t *stop, int once)
{
	while (!*stop) {
		int rc;

		v->cfd = accept4(v->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (v->cfd < 0) {
			if (errno == EINTR)
				continue;
			return -RPK_EIO;
		}
		rc = serve_connection(v, stop);
		disconnect(v);
		if (rc < 0 || once)
			return rc;
	}
	return 0;
}

void rpk_vhu_stats(const struct rpk_vhu *v, struct rpk_vhu_stats *s)
{
	*s = v->stats;
}

void rpk_vhu_close(struct rpk_vhu *v)
{
	if (!v)
		return;
	disconnect(v);
	close(v->lfd);
	unlink(v->path);
	free(v);
}
