/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split virtqueue (virtio 1.x section 2.7, legacy layout), both halves.
 * The driver half's functions (src/virtio/vq_driver.c) and the device
 * half's (src/virtio/vq_device.c) share only the layout and its checks
 * (src/virtio/virtqueue.c): an image that uses one half links none of the
 * other (see rpk_vq_init_device()).
 *
 * The driver half posts buffers to the available ring and takes them back
 * from the used ring; the device half takes buffers from the available ring
 * and returns them through the used ring. rpmsg uses one descriptor per
 * buffer, so buffers are single descriptors; a chained or indirect
 * descriptor from a peer is a protocol error.
 *
 * Everything read from the ring is read once into a local and validated
 * before use. A peer that corrupts an entry costs an error code and a counter
 * in struct rpk_vq_stats, and the buffer goes back. Where no buffer can go
 * back (an index that makes no sense, an entry naming a descriptor we cannot
 * take: the real buffer behind it would leak), the queue is marked broken and
 * every later call returns -RPK_EPIPE until rpk_vq_reset().
 */
#ifndef RPK_VIRTIO_H
#define RPK_VIRTIO_H

#include <stddef.h>
#include <stdint.h>

#include <rpk/mem.h>
#include <rpk/port.h>

#define RPK_VRING_DESC_F_NEXT	       1u
#define RPK_VRING_DESC_F_WRITE	       2u
#define RPK_VRING_DESC_F_INDIRECT      4u
#define RPK_VRING_AVAIL_F_NO_INTERRUPT 1u
#define RPK_VRING_USED_F_NO_NOTIFY     1u
#define RPK_VRING_MAX_NUM	       1024u

#define RPK_VIRTIO_STATUS_ACKNOWLEDGE 1u
#define RPK_VIRTIO_STATUS_DRIVER      2u
#define RPK_VIRTIO_STATUS_DRIVER_OK   4u
#define RPK_VIRTIO_STATUS_FEATURES_OK 8u
#define RPK_VIRTIO_STATUS_NEEDS_RESET 64u
#define RPK_VIRTIO_STATUS_FAILED      128u

#define RPK_VIRTIO_ID_RPMSG   7u
#define RPK_VIRTIO_RPMSG_F_NS 0u /* feature bit: name service */
/* Ring feature bit: each side publishes the index at which it wants the
 * next notification (used_event after the avail ring, avail_event after
 * the used ring) instead of an on/off flag. */
#define RPK_VIRTIO_RING_F_EVENT_IDX 29u

struct rpk_vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct rpk_vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct rpk_vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct rpk_vring_used {
	uint16_t flags;
	uint16_t idx;
	struct rpk_vring_used_elem ring[];
};

enum rpk_vq_role { RPK_VQ_DRIVER, RPK_VQ_DEVICE };

enum rpk_vq_slot_state {
	RPK_SLOT_FREE,	   /* driver: on the free list; device: not held */
	RPK_SLOT_RESERVED, /* driver: reserved by the caller, not posted */
	RPK_SLOT_POSTED,   /* driver: in the device's hands */
	RPK_SLOT_HELD,	   /* device: taken from the available ring, not returned */
};

/* Per-descriptor bookkeeping, in the caller's (private) memory. */
struct rpk_vq_slot {
	void *buf;	    /* buffer posted (driver) or held (device) */
	uint32_t len;	    /* its length as posted or as found */
	uint16_t next_free; /* driver: free list link; free for the caller otherwise */
	uint8_t state;	    /* enum rpk_vq_slot_state */
	uint8_t user;	    /* free for the caller's bookkeeping */
};

/* Misbehaviour of the peer seen on this queue, by class. */
struct rpk_vq_stats {
	uint32_t bad_idx;  /* ring index moved by more than possible */
	uint32_t bad_head; /* descriptor or used id out of range or not outstanding */
	uint32_t bad_desc; /* chained, indirect or wrong-direction descriptor */
	uint32_t bad_addr; /* descriptor outside every memory window */
	uint32_t bad_len;  /* used length larger than the buffer */
};

/* The three parts of a split ring, when they are not laid out contiguously. */
struct rpk_vring_parts {
	void *desc;  /* 16 * num bytes, 16-byte aligned */
	void *avail; /* 6 + 2 * num bytes, 2-byte aligned */
	void *used;  /* 6 + 8 * num bytes, 4-byte aligned */
};

struct rpk_vq_cfg {
	enum rpk_vq_role role;
	void *ring;		      /* local address of the vring (rpk_vring_size bytes) */
	struct rpk_vring_parts parts; /* used instead when ring is NULL */
	uint32_t num;		      /* power of two, 1..RPK_VRING_MAX_NUM */
	uint32_t align;		      /* power of two >= 4: used ring alignment */
	struct rpk_vq_slot *slots;    /* num entries */
	const struct rpk_mem *mem;    /* translates descriptor addresses */
	const struct rpk_port *port;
	uint32_t notify_id; /* passed to the port's notify */
};

struct rpk_vq_event_ops;

struct rpk_vq {
	struct rpk_vring_desc *desc;
	struct rpk_vring_avail *avail;
	struct rpk_vring_used *used;
	struct rpk_vq_slot *slots;
	const struct rpk_mem *mem;
	const struct rpk_port *port;
	uint32_t notify_id;
	uint16_t num;
	uint16_t next_avail; /* driver: next avail idx to publish; device: next to consume */
	uint16_t next_used;  /* driver: next used entry to consume; device: next to publish */
	uint16_t free_head;  /* driver: first free descriptor */
	uint16_t num_free;   /* driver: free descriptors; device: num - held */
	uint16_t num_added;  /* driver: added since the last kick_prepare */
	uint16_t num_posted; /* driver: posted and not yet returned */
	uint16_t own_flags;  /* the suppression flags this half last wrote */
	uint16_t shadow;     /* the peer's index as we last took an entry on it */
	uint8_t role;
	uint8_t broken;
	uint8_t cached;	    /* the port maintains caches (cache_clean or _invalidate) */
	uint8_t event_idx;  /* RPK_VIRTIO_RING_F_EVENT_IDX negotiated */
	uint8_t batching;   /* rpk_vq_batch: the index is published when the batch ends */
	uint16_t signalled; /* device, event_idx: used index at the last interrupt decision */
	uint16_t own_event; /* event_idx: the event index this half last published */
	const struct rpk_vq_event_ops *ev; /* event_idx: its code (internal) */
	struct rpk_vq_stats stats;
};

/*
 * Entries the peer had published, at the last read of its index by
 * rpk_vq_get_avail() / rpk_vq_get_used(), that are not taken yet: whether
 * another get will find one, without touching shared memory (0 says "read
 * again", not "nothing there"). For batch loops: stop when it is 0.
 */
static inline uint16_t rpk_vq_known_pending(const struct rpk_vq *vq)
{
	return (uint16_t)(vq->shadow -
			  (vq->role == RPK_VQ_DRIVER ? vq->next_used : vq->next_avail));
}

/* A buffer found by the device half. */
struct rpk_vq_buf {
	void *va;
	uint32_t len;
	uint16_t head;
};

/*
 * Batching, on either half: between rpk_vq_batch(vq, 1) and rpk_vq_batch(vq,
 * 0), what this half adds (the driver's posts, the device's used entries) is
 * written to the ring but its index is published once, when the batch ends:
 * one write of the line the peer polls instead of one per entry.
 * rpk_vq_publish() publishes what was added so far without ending the batch.
 * Decide on a notification (rpk_vq_kick_prepare(), rpk_vq_need_interrupt())
 * only after publishing. A reset ends a batch.
 */
void rpk_vq_publish(struct rpk_vq *vq);

static inline void rpk_vq_batch(struct rpk_vq *vq, int on)
{
	if (!on && vq->batching)
		rpk_vq_publish(vq);
	vq->batching = (uint8_t) !!on;
}

/* Bytes a legacy vring of num entries with this used-ring alignment takes;
 * 0 if num or align is invalid. */
size_t rpk_vring_size(uint32_t num, uint32_t align);

/*
 * Set up a queue over ring memory, as the half cfg->role names. The driver
 * zeroes the ring (it owns its initial state); the device only attaches and
 * starts at index 0. Returns 0 or -RPK_EINVAL.
 */
int rpk_vq_init(struct rpk_vq *vq, const struct rpk_vq_cfg *cfg);

/*
 * Start the queue over, as after a virtio reset: indices back to 0, the
 * driver zeroes the ring again. Driver: descriptors that were posted come
 * back reserved (the caller decides to repost or free them), reserved and
 * free ones keep their state. Device: every held buffer is forgotten.
 * The caller's slot.user marks survive.
 */
void rpk_vq_reset(struct rpk_vq *vq);

/*
 * The same for one half only (cfg->role is not read; reset a queue set up
 * as that half). rpk_vq_init() and rpk_vq_reset() choose the half at run
 * time, so an image that calls them links both halves; one that calls only
 * the device's (a remote on a microcontroller) links no driver code, and
 * the other way round. Same returns as rpk_vq_init().
 */
int rpk_vq_init_driver(struct rpk_vq *vq, const struct rpk_vq_cfg *cfg);
int rpk_vq_init_device(struct rpk_vq *vq, const struct rpk_vq_cfg *cfg);
void rpk_vq_reset_driver(struct rpk_vq *vq);
void rpk_vq_reset_device(struct rpk_vq *vq);

/*
 * Drop this side's cached copy of the ring. A device does it when the driver
 * has laid the ring out anew (at a reset, and again when the new session
 * starts): the used index shares a cache line with the used flags the device
 * writes, and a stale copy of that line written back would tell the driver
 * of buffers that never came. No-op on coherent memory.
 */
void rpk_vq_forget_ring(struct rpk_vq *vq);

/*
 * The queue broke because the peer was leaving (a driver zeroes its rings
 * for its next session), not through a corruption: take back the count
 * (index jump or bad head) added when it broke. The queue stays broken until rpk_vq_reset(); a
 * second call, or one on a queue that is not broken, does nothing.
 */
void rpk_vq_forgive_break(struct rpk_vq *vq);

/* Start the device half at a given available index (vhost-user SET_VRING_BASE). */
void rpk_vq_set_base(struct rpk_vq *vq, uint16_t idx);

/* ---- driver half ---- */

/*
 * Reserve a free descriptor. Returns its index, -RPK_ENOSPC if none is free,
 * -RPK_EPIPE if broken. The caller may tie its own buffers to indices.
 */
int rpk_vq_alloc_desc(struct rpk_vq *vq);

/* Give a reserved (not posted) descriptor back. */
void rpk_vq_free_desc(struct rpk_vq *vq, uint16_t head);

/*
 * Post a buffer on a reserved descriptor and publish the available index.
 * device_writes says whether the device fills it (receive buffer) or reads
 * it. Returns 0, -RPK_EFAULT if buf is not in a memory window, -RPK_EINVAL.
 */
int rpk_vq_post(struct rpk_vq *vq, uint16_t head, void *buf, uint32_t len, int device_writes);

/*
 * rpk_vq_post() of a buffer whose device address the caller already knows
 * (its own pool, translated once): no window lookup. The caller vouches for
 * da; the device checks it against its own windows as for any address.
 */
int rpk_vq_post_da(struct rpk_vq *vq, uint16_t head, void *buf, uint64_t da, uint32_t len,
		   int device_writes);

/*
 * Post again a descriptor that rpk_vq_get_used() gave back, with the buffer,
 * length and direction it was last posted with (device_writes as then): the
 * descriptor is not written again, only the available ring. For receive
 * buffers tied to their descriptors. Returns 0, -RPK_EINVAL if head is not
 * reserved or was never posted since it was freed or the queue reset, -RPK_EPIPE.
 */
int rpk_vq_repost(struct rpk_vq *vq, uint16_t head, int device_writes);

/* rpk_vq_alloc_desc() then rpk_vq_post(); returns the index or an error. */
int rpk_vq_add_buf(struct rpk_vq *vq, void *buf, uint32_t len, int device_writes);

/*
 * Take one buffer back from the used ring. Returns 1 with *head, *buf and
 * *len set, 0 if none is pending, or -RPK_EPIPE once the queue is broken (an
 * index jump, or an id that is not a posted descriptor). A used length larger
 * than the buffer is counted and passed on as 0. The descriptor stays
 * reserved: post it again or free it.
 */
int rpk_vq_get_used(struct rpk_vq *vq, uint16_t *head, void **buf, uint32_t *len);

/*
 * Take back at most most buffers the device returned and free their
 * descriptors at once, for buffers whose used length nobody needs (what a
 * sender gets back): the used index is read once for the batch. Returns how
 * many were freed, or -RPK_EPIPE once the queue is broken (as
 * rpk_vq_get_used()). A used length larger than the buffer is counted.
 */
int rpk_vq_free_used(struct rpk_vq *vq, uint32_t most);

/* True if the device wants a notification for what was added since the last call. */
int rpk_vq_kick_prepare(struct rpk_vq *vq);

/* Ring the doorbell for this queue. */
void rpk_vq_notify(struct rpk_vq *vq);

/* Ask the device not to interrupt us for used buffers, or again to. */
void rpk_vq_disable_cb(struct rpk_vq *vq);
/* Returns 1 if used buffers are already pending (no interrupt will come for them). */
int rpk_vq_enable_cb(struct rpk_vq *vq);

/*
 * With RPK_VIRTIO_RING_F_EVENT_IDX (rpk_vq_set_event_idx), on either half:
 * the peer notifies us once when its index passes the event index we
 * published, so after taking a batch we publish the next one. A half that
 * wants notifications (it did not disable them) calls this when it has
 * taken all it saw. Returns 1 if entries came meanwhile (take them: no
 * notification will come for them), 0 otherwise and always without
 * EVENT_IDX (flags stay set until changed).
 */
int rpk_vq_rearm(struct rpk_vq *vq);

/* Use event indices (RPK_VIRTIO_RING_F_EVENT_IDX negotiated) or flags. The
 * code of event indices is linked only by a call of this function. */
void rpk_vq_set_event_idx(struct rpk_vq *vq, int on);

/* ---- device half ---- */

/*
 * Take one buffer from the available ring. want_writable says which kind the
 * caller expects (1: the device fills it). Returns 1 with *out set, 0 if none
 * is pending, -RPK_EPIPE once the queue is broken (an index jump, or a head
 * out of range or already held), or a negative error for a corrupt
 * descriptor: the entry is consumed, counted and returned to the used ring
 * (length 0 for a device-writable descriptor, the descriptor's length for a
 * readable one) so the driver gets it back. Call again for the next one.
 */
int rpk_vq_get_avail(struct rpk_vq *vq, int want_writable, struct rpk_vq_buf *out);

/* Return a held buffer with the number of bytes written. Publishes the used
 * index at once. Returns 0, -RPK_EINVAL if head is not held, -RPK_EPIPE. */
int rpk_vq_add_used(struct rpk_vq *vq, uint16_t head, uint32_t len);

/*
 * Return a held buffer the device only read. Its used length is the length
 * the driver posted, as OpenAMP's remote reports it: OpenAMP's master takes a
 * returned buffer's size from the used length (Linux ignores it; the spec
 * allows 0). Same returns as rpk_vq_add_used().
 */
int rpk_vq_add_used_read(struct rpk_vq *vq, uint16_t head);

/* True if the driver wants an interrupt for what was returned. */
int rpk_vq_need_interrupt(struct rpk_vq *vq);

/* Ask the driver not to notify us about new available buffers, or again to. */
void rpk_vq_disable_notify(struct rpk_vq *vq);
/* Returns 1 if available buffers are already pending. */
int rpk_vq_enable_notify(struct rpk_vq *vq);

/*
 * Write again the suppression flags this half owns (driver: avail flags,
 * device: used flags), and with EVENT_IDX its event index, if the shared
 * copy no longer says what we last wrote.
 * A stray write there (a buggy peer, memory corruption) would otherwise
 * silence the peer's doorbells for good. Returns 1 if it had to repair them.
 */
int rpk_vq_restore_flags(struct rpk_vq *vq);

/* State of descriptor head (RPK_SLOT_FREE if out of range). */
enum rpk_vq_slot_state rpk_vq_slot_state(const struct rpk_vq *vq, uint32_t head);

/* The buffer at head if it is in the given state, else NULL. */
void *rpk_vq_slot_buf(const struct rpk_vq *vq, uint32_t head, enum rpk_vq_slot_state state);

/*
 * Device: whether the used index is no longer the one we published last.
 * Only the device writes it: it moved because the driver laid the ring out
 * anew (a reset we may have missed), or because memory was overwritten.
 */
int rpk_vq_used_moved(struct rpk_vq *vq);

/*
 * Device: whether the driver has laid the ring out anew since we last used
 * it. Only the device writes the used index, and the driver zeroes it when it
 * resets the ring: a used index of 0 after we published entries is the
 * driver's reset (as is any ring we took nothing from). A device that went
 * on over a ring that was not reset would take old entries for new ones.
 */
int rpk_vq_laid_out_anew(struct rpk_vq *vq);

/* Number of entries the peer has published that we have not consumed
 * (driver: used, device: available); -1 if its index is impossible. */
int rpk_vq_pending(struct rpk_vq *vq);

#endif
