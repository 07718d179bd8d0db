/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The chaos peer writes ring entries the way the virtqueue layer would, but
 * with one field wrong, and keeps its own queue state in step so that it
 * goes on working after the injection (what it posted comes back, what it
 * took is returned). It only ever misbehaves in the memory it writes as a
 * peer; it never touches what the honest side owns.
 */
#include <stdio.h>
#include <string.h>

#include <rpk/errno.h>

#include "node/chaos.h"
#include "node/node_internal.h"

#define SEND_WAIT_MS 1000u

static const struct {
	const char *name;
	int writer; /* enum rpk_role, or -1: either */
	const char *what;
} classes[RPK_CHAOS_COUNT] = {
    [RPK_CHAOS_NONE] = {"none", -1, "nothing"},
    [RPK_CHAOS_AVAIL_IDX] = {"avail-idx", RPK_ROLE_MASTER,
			     "available index jumps past the ring size"},
    [RPK_CHAOS_DESC_HEAD] = {"desc-head", RPK_ROLE_MASTER,
			     "available entry names a descriptor out of range"},
    [RPK_CHAOS_DESC_ADDR] = {"desc-addr", RPK_ROLE_MASTER,
			     "descriptor address outside every memory window"},
    [RPK_CHAOS_DESC_LEN] = {"desc-len", RPK_ROLE_MASTER, "descriptor longer than a buffer"},
    [RPK_CHAOS_DESC_LOOP] = {"desc-loop", RPK_ROLE_MASTER, "descriptor chained to itself"},
    [RPK_CHAOS_USED_IDX] = {"used-idx", RPK_ROLE_REMOTE, "used index jumps past the ring size"},
    [RPK_CHAOS_USED_ID] = {"used-id", RPK_ROLE_REMOTE,
			   "used entry names a head the driver never posted"},
    [RPK_CHAOS_USED_LEN] = {"used-len", RPK_ROLE_REMOTE, "used length larger than the buffer"},
    [RPK_CHAOS_MSG_LEN] = {"msg-len", RPK_ROLE_REMOTE,
			   "rpmsg header length beyond the used length"},
    [RPK_CHAOS_MSG_EMPTY] = {"msg-empty", RPK_ROLE_REMOTE, "used length 0: not even a header"},
    [RPK_CHAOS_NS_NAME] = {"ns-name", -1, "name-service announcement without a NUL"},
    [RPK_CHAOS_NS_FLOOD] = {"ns-flood", -1, "announcements for 4096 services"},
};

const char *rpk_chaos_name(enum rpk_chaos c)
{
	return (unsigned)c < RPK_CHAOS_COUNT ? classes[c].name : "unknown";
}

enum rpk_chaos rpk_chaos_parse(const char *name)
{
	for (int c = 1; c < RPK_CHAOS_COUNT; c++)
		if (!strcmp(name, classes[c].name))
			return (enum rpk_chaos)c;
	return RPK_CHAOS_NONE;
}

int rpk_chaos_role_ok(enum rpk_chaos c, enum rpk_role r)
{
	return c > RPK_CHAOS_NONE && c < RPK_CHAOS_COUNT &&
	       (classes[c].writer < 0 || classes[c].writer == (int)r);
}

void rpk_chaos_list(FILE *f)
{
	for (int c = 1; c < RPK_CHAOS_COUNT; c++)
		fprintf(f, "  %-10s %-7s %s\n", classes[c].name,
			classes[c].writer < 0		       ? "either"
			: classes[c].writer == RPK_ROLE_MASTER ? "master"
							       : "remote",
			classes[c].what);
}

/* ---- raw ring writes ---- */

static void clean(const struct rpk_vq *vq, const void *p, size_t len)
{
	if (vq->port->ops->cache_clean)
		vq->port->ops->cache_clean(vq->port->ctx, p, len);
}

static void store_idx(const struct rpk_vq *vq, uint16_t *idx, uint16_t v)
{
	__atomic_store_n(idx, v, __ATOMIC_RELEASE);
	clean(vq, idx, sizeof(*idx));
}

/* Driver: publish an available entry holding head, whatever it is. */
static void post_raw(struct rpk_vq *vq, uint16_t head)
{
	uint16_t *slot = &vq->avail->ring[vq->next_avail & (vq->num - 1)];

	*slot = head;
	clean(vq, slot, sizeof(*slot));
	store_idx(vq, &vq->avail->idx, ++vq->next_avail);
}

/* Device: publish a used entry, whatever it says. */
static void return_raw(struct rpk_vq *vq, uint32_t id, uint32_t len)
{
	struct rpk_vring_used_elem *e = &vq->used->ring[vq->next_used & (vq->num - 1)];

	e->id = id;
	e->len = len;
	clean(vq, e, sizeof(*e));
	store_idx(vq, &vq->used->idx, ++vq->next_used);
}

/* A plausible message, so that only the corrupted field is wrong. */
static void fill_msg(struct rpk_rpmsg_hdr *h, uint16_t len)
{
	h->src = RPK_RESERVED_ADDRESSES - 1;
	h->dst = RPK_RESERVED_ADDRESSES - 1;
	h->reserved = 0;
	h->len = len;
	h->flags = 0;
	memcpy(h + 1, "chaos!!!", 8);
}

/* ---- driver (master) classes ---- */

/* Just past the end of the highest window: outside all of them. */
static uint64_t outside_windows(const struct rpk_mem *mem)
{
	uint64_t end = 0;

	for (unsigned i = 0; i < mem->count; i++)
		if (mem->win[i].da + mem->win[i].size > end)
			end = mem->win[i].da + mem->win[i].size;
	return end;
}

/* A free transmit descriptor, taking back what the device returned as a
 * sender would. */
static int alloc_tx_desc(struct rpk_vq *vq)
{
	int head = rpk_vq_alloc_desc(vq);
	uint16_t used;
	uint32_t len;
	void *buf;

	while (head == -RPK_ENOSPC && rpk_vq_get_used(vq, &used, &buf, &len) == 1) {
		rpk_vq_free_desc(vq, used);
		head = rpk_vq_alloc_desc(vq);
	}
	return head;
}

/* Post one of our transmit descriptors with a corrupted descriptor. */
static int post_bad_desc(struct rpk_rpmsg *dev, enum rpk_chaos c)
{
	struct rpk_vq *vq = dev->svq;
	uint32_t len = dev->buf_size;
	struct rpk_vring_desc *d;
	uint64_t da;
	char *buf;
	int head = alloc_tx_desc(vq);

	if (head < 0)
		return head == -RPK_ENOSPC ? -RPK_EAGAIN : head;
	buf = dev->sbufs + (size_t)head * dev->buf_size;
	if (c == RPK_CHAOS_DESC_LEN) {
		/* Two buffers' worth, still inside the window: only the rpmsg
		 * layer knows it is too long. */
		len = 2 * dev->buf_size;
		if (rpk_mem_to_da(vq->mem, buf, len, &da))
			buf -= dev->buf_size;
	}
	fill_msg((struct rpk_rpmsg_hdr *)buf, 8);
	clean(vq, buf, RPK_RPMSG_HDR_SIZE + 8);
	if (rpk_mem_to_da(vq->mem, buf, len, &da)) {
		rpk_vq_free_desc(vq, (uint16_t)head);
		return -RPK_EFAULT;
	}
	d = &vq->desc[head];
	d->addr = c == RPK_CHAOS_DESC_ADDR ? outside_windows(vq->mem) : da;
	d->len = len;
	d->flags = c == RPK_CHAOS_DESC_LOOP ? RPK_VRING_DESC_F_NEXT : 0;
	d->next = c == RPK_CHAOS_DESC_LOOP ? (uint16_t)head : 0;
	clean(vq, d, sizeof(*d));
	/* Ours as a posted buffer, so it is taken back when the device returns it. */
	vq->slots[head].state = RPK_SLOT_POSTED;
	vq->slots[head].buf = buf;
	vq->slots[head].len = len;
	vq->num_posted++;
	post_raw(vq, (uint16_t)head);
	return 0;
}

static int driver_chaos(struct rpk_rpmsg *dev, enum rpk_chaos c)
{
	struct rpk_vq *vq = dev->svq;

	switch (c) {
	case RPK_CHAOS_AVAIL_IDX:
		store_idx(vq, &vq->avail->idx, (uint16_t)(vq->next_avail + vq->num + 1));
		return 0;
	case RPK_CHAOS_DESC_HEAD:
		post_raw(vq, (uint16_t)(vq->num + 3));
		return 0;
	default:
		return post_bad_desc(dev, c);
	}
}

/* ---- device (remote) classes ---- */

static int device_chaos(struct rpk_rpmsg *dev, enum rpk_chaos c)
{
	struct rpk_vq *vq = dev->svq;
	struct rpk_vq_buf b;
	int r;

	if (c == RPK_CHAOS_USED_IDX) {
		store_idx(vq, &vq->used->idx, (uint16_t)(vq->next_used + vq->num + 1));
		return 0;
	}
	if (c == RPK_CHAOS_USED_ID) {
		return_raw(vq, vq->num + 5u, 0);
		return 0;
	}
	/* The rest corrupt a real receive buffer of the master's. */
	r = rpk_vq_get_avail(vq, 1, &b);
	if (r <= 0)
		return r ? r : -RPK_EAGAIN;
	if (b.len < RPK_RPMSG_HDR_SIZE + 8) {
		rpk_vq_add_used(vq, b.head, 0);
		return -RPK_EAGAIN;
	}
	switch (c) {
	case RPK_CHAOS_USED_LEN:
		fill_msg(b.va, 8);
		clean(vq, b.va, RPK_RPMSG_HDR_SIZE + 8);
		vq->slots[b.head].state = RPK_SLOT_FREE; /* as rpk_vq_add_used() */
		vq->slots[b.head].buf = 0;
		vq->num_free++;
		return_raw(vq, b.head, b.len + 1000u);
		return 0;
	case RPK_CHAOS_MSG_LEN:
		fill_msg(b.va, 400);
		return rpk_vq_add_used(vq, b.head, RPK_RPMSG_HDR_SIZE + 8);
	default: /* RPK_CHAOS_MSG_EMPTY */
		return rpk_vq_add_used(vq, b.head, 0);
	}
}

/* ---- name service: bad contents through the normal send path ---- */

static int announce(struct rpk_rpmsg *dev, const char *name, size_t name_len, uint32_t addr)
{
	struct rpk_ns_msg m;

	memset(&m, 0, sizeof(m));
	memcpy(m.name, name, name_len);
	m.addr = addr;
	m.flags = RPK_NS_CREATE;
	return rpk_send_offchannel_raw(dev, RPK_NS_ADDR, RPK_NS_ADDR, &m, sizeof(m), SEND_WAIT_MS);
}

static int ns_chaos(struct rpk_rpmsg *dev, enum rpk_chaos c)
{
	char name[RPK_NAME_SIZE];
	int r = 0;

	if (c == RPK_CHAOS_NS_NAME) {
		memset(name, 'x', sizeof(name));
		return announce(dev, name, sizeof(name), RPK_RESERVED_ADDRESSES - 2);
	}
	for (uint32_t i = 0; !r && i < RPK_CHAOS_FLOOD_COUNT; i++) {
		int len = snprintf(name, sizeof(name), "chaos-%u", i);

		r = announce(dev, name, (size_t)len, 0x10000u + i);
	}
	return r;
}

int rpk_node_chaos(struct rpk_node *n, enum rpk_chaos c)
{
	struct rpk_rpmsg *dev = rpk_node_dev(n);
	const struct rpk_port *port = dev->port;
	int r;

	if (!rpk_chaos_role_ok(c, rpk_node_role(n)))
		return -RPK_EINVAL;
	if (c == RPK_CHAOS_NS_NAME || c == RPK_CHAOS_NS_FLOOD)
		return ns_chaos(dev, c);
	port->ops->lock(port->ctx, RPK_LOCK_TX); /* a reset takes it too */
	if (!rpk_rpmsg_is_up(dev))
		r = -RPK_ENOTCONN;
	else if (rpk_node_role(n) == RPK_ROLE_MASTER)
		r = driver_chaos(dev, c);
	else
		r = device_chaos(dev, c);
	port->ops->unlock(port->ctx, RPK_LOCK_TX);
	if (!r)
		rpk_vq_notify(dev->svq);
	return r;
}

/* The watchdog's call, once a period: one corruption now and then while
 * the link is up. */
static void chaos_tick(struct rpk_node *n, uint32_t now)
{
	uint32_t every = n->chaos_every_ms ? n->chaos_every_ms : 1000u;

	if (now - n->last_chaos_ms < every || !node_link_live(n))
		return;
	n->last_chaos_ms = now;
	if (rpk_node_chaos(n, (enum rpk_chaos)n->chaos_class) == 0)
		__atomic_add_fetch(&n->chaos, 1, __ATOMIC_RELAXED);
}

void rpk_node_set_chaos(struct rpk_node *n, enum rpk_chaos c, uint32_t every_ms)
{
	n->chaos_every_ms = every_ms;
	n->chaos_class = (int)c;
	n->chaos_tick = c == RPK_CHAOS_NONE ? NULL : chaos_tick;
}
