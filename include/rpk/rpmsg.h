/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPMsg device over a virtqueue pair, in either role.
 *
 * Wire format and conventions follow Linux's drivers/rpmsg/virtio_rpmsg_bus.c:
 * queue 0 carries remote->master messages, queue 1 master->remote; the master
 * owns a pool of buffers (first half receives, second half sends), the remote
 * uses the master's buffers. Each buffer starts with a 16-byte header.
 *
 * The device never allocates: the caller hands in the device, endpoint and
 * table storage. Callbacks run in the thread that calls rpk_rpmsg_poll().
 *
 * Bring-up: rpk_rpmsg_init() (or the role's own init, see below), create
 * endpoints (announcements are queued), then once the virtio status
 * handshake is done rpk_rpmsg_start() with the negotiated features. From
 * then on call rpk_rpmsg_poll() whenever the peer kicks (or in a loop, in
 * polling mode).
 *
 * Code size: the role is chosen once, at init. rpk_rpmsg_init() takes it
 * from cfg->role at run time, so an image that calls it links both roles.
 * A firmware that is only ever a remote calls rpk_rpmsg_init_remote()
 * instead and links none of the master's code (its buffer pool, the virtio
 * driver half); rpk_rpmsg_init_master() likewise. Every other function
 * serves both roles through the table the init chose.
 */
#ifndef RPK_RPMSG_H
#define RPK_RPMSG_H

#include <stddef.h>
#include <stdint.h>

#include <rpk/port.h>
#include <rpk/virtio.h>

#define RPK_RPMSG_HDR_SIZE     16u
#define RPK_RPMSG_BUF_SIZE     512u /* Linux's MAX_RPMSG_BUF_SIZE */
#define RPK_RPMSG_MAX_PAYLOAD  (RPK_RPMSG_BUF_SIZE - RPK_RPMSG_HDR_SIZE)
#define RPK_RPMSG_MAX_BUFS     512u /* Linux's MAX_RPMSG_NUM_BUFS */
#define RPK_NAME_SIZE	       32u
#define RPK_NS_ADDR	       53u
#define RPK_ADDR_ANY	       0xffffffffu
#define RPK_RESERVED_ADDRESSES 1024u /* dynamic addresses start here */

#define RPK_NS_CREATE  0u
#define RPK_NS_DESTROY 1u

struct rpk_rpmsg_hdr {
	uint32_t src;
	uint32_t dst;
	uint32_t reserved;
	uint16_t len;
	uint16_t flags;
};

struct rpk_ns_msg {
	char name[RPK_NAME_SIZE];
	uint32_t addr;
	uint32_t flags;
};

enum rpk_role { RPK_ROLE_MASTER, RPK_ROLE_REMOTE };

struct rpk_rpmsg;
struct rpk_ept;
struct rpk_rpmsg_role_ops;

/*
 * A message as a tap sees it (rpk_rpmsg_set_tap): the header's fields and
 * the payload, len bytes at data. A received payload is still in shared
 * memory: copy it, decide nothing on it.
 */
enum rpk_tap_dir { RPK_TAP_TX, RPK_TAP_RX };
struct rpk_tap_msg {
	uint32_t src, dst, reserved;
	uint16_t len, flags;
	const void *data;
	enum rpk_tap_dir dir;
};
typedef void (*rpk_tap_cb)(
    void *ctx, const struct rpk_tap_msg *msg); /* the role's half of the device, chosen at init */

/*
 * Receive callback. data/len is the payload, src the sender's address. The
 * buffer is valid until the callback returns, unless the callback calls
 * rpk_hold_rx_buffer(); the return value is ignored (kept for symmetry with
 * Linux's rpmsg_rx_cb_t).
 */
typedef int (*rpk_rx_cb)(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv);
/* The peer destroyed the service this endpoint was bound to, or the link was
 * reset (rpk_rpmsg_reset: the peer crashed, rebooted or detached). */
typedef void (*rpk_unbind_cb)(struct rpk_ept *ept);
/* The peer announced a service no local endpoint was waiting for. */
typedef void (*rpk_ns_bind_cb)(struct rpk_rpmsg *dev, const char *name, uint32_t addr, void *priv);

struct rpk_ept {
	char name[RPK_NAME_SIZE];
	uint32_t addr; /* local address */
	uint32_t dst;  /* default destination, RPK_ADDR_ANY if unbound */
	rpk_rx_cb cb;
	rpk_unbind_cb unbind;
	void *priv;
	struct rpk_rpmsg *dev;
	struct rpk_ept *hnext; /* hash chain */
	uint8_t announce;      /* announce when the link is up */
	uint8_t announced;
	uint8_t ns_bound;   /* dst came from the peer's announcement */
	uint8_t unbind_due; /* reset: unbind callback not yet run */
};

/* A service the peer announced, remembered so a later endpoint can bind. */
struct rpk_service {
	char name[RPK_NAME_SIZE];
	uint32_t addr; /* RPK_ADDR_ANY: free slot */
};

struct rpk_rpmsg_stats {
	uint64_t tx_msgs;
	uint64_t rx_msgs;
	uint64_t tx_kicks;  /* doorbells rung for messages we sent */
	uint64_t rx_kicks;  /* doorbells rung for buffers we gave back (and at start) */
	uint32_t rx_no_ept; /* dropped: no endpoint at the destination */
	uint32_t
	    rx_bad_len; /* dropped: shorter than a header, or header length beyond the buffer */
	uint32_t
	    rx_bad_buf;	 /* ring entry rejected (by the virtqueue layer, or longer than a buffer) */
	uint32_t ns_bad; /* malformed name-service message */
	uint32_t ns_table_full;
	uint32_t ns_lost;	 /* announcement we could not send */
	uint32_t tx_bad_buf;	 /* unusable buffer offered by the peer */
	uint32_t resets;	 /* rpk_rpmsg_reset() calls */
	uint32_t tx_lost;	 /* master: sent, but not consumed when the link reset */
	uint32_t tx_late;	 /* sends that found their buffer only by looking again
				    after recheck_ms: the peer gave it back without a kick */
	uint32_t flags_fixed;	 /* our suppression flags found overwritten (rpk_rpmsg_refresh) */
	uint32_t bufs_recovered; /* buffers a reset took back from the peer's hands */
};

struct rpk_rpmsg_cfg {
	enum rpk_role role;		 /* read by rpk_rpmsg_init() only */
	void *vring[2];			 /* local addresses of vring 0 and 1 (legacy layout) */
	struct rpk_vring_parts parts[2]; /* used instead where vring[q] is NULL */
	uint32_t num;			 /* entries per vring */
	uint32_t align;			 /* used-ring alignment (>= RPK_CACHE_LINE with caches) */
	uint32_t notify_id[2];		 /* passed to the port's notify */
	struct rpk_vq_slot *slots[2];	 /* num entries each */
	const struct rpk_mem *mem;
	const struct rpk_port *port;
	/* Master only: the buffer pool, 2 * num buffers of buf_size bytes
	 * (first half receive, second half send). A symmetric side: its send
	 * buffers, num of them. */
	void *bufs;
	/* A symmetric side: the window that holds bufs (mem holds the peer's). */
	const struct rpk_mem *bufs_mem;
	/* Size of each buffer, 0 means RPK_RPMSG_BUF_SIZE. The remote takes it
	 * as the most a master may offer: a longer descriptor could reach into
	 * the next buffer, and is rejected. */
	uint32_t buf_size;
	/* Endpoint hash table: num_buckets (a power of two) pointers. */
	struct rpk_ept **buckets;
	uint32_t num_buckets;
	/* Optional table of services the peer announced. */
	struct rpk_service *services;
	uint32_t num_services;
	rpk_ns_bind_cb ns_bind;
	void *ns_priv;
	/* A send waiting for a buffer looks again at least this often (ms), in
	 * case the peer gave one back without a kick; 0: only when kicked or at
	 * its deadline. */
	uint32_t recheck_ms;
};

struct rpk_rpmsg {
	const struct rpk_rpmsg_role_ops *ops;
	struct rpk_vq vq[2];
	struct rpk_vq *rvq; /* queue we receive on */
	struct rpk_vq *svq; /* queue we send on */
	const struct rpk_port *port;
	char *rbufs, *sbufs;	     /* master's pool halves */
	uint64_t rbufs_da, sbufs_da; /* and their device addresses */
	uint32_t buf_size;
	uint32_t nbufs;	 /* master: buffers per direction */
	uint32_t tx_cap; /* payload bytes of the last transmit buffer */
	uint32_t features;
	struct rpk_ept **buckets;
	uint32_t bucket_mask;
	struct rpk_service *services;
	uint32_t num_services;
	rpk_ns_bind_cb ns_bind;
	void *ns_priv;
	struct rpk_ept ns_ept;
	uint32_t next_addr;
	uint32_t tx_waiters;
	uint32_t recheck_ms;
	uint32_t epoch;	     /* bumped by each reset: senders waiting across one give up */
	uint32_t ns_pending; /* endpoints waiting to be announced */
	uint16_t spare_head; /* remote: unsent TX buffers, chained through slots */
	uint16_t num_spare;
	uint8_t role; /* enum rpk_role, as set up */
	uint8_t up;   /* written under every lock, read atomically */
	uint8_t polling;
	uint8_t broken;
	uint8_t rx_held;     /* set by rpk_hold_rx_buffer during a callback */
	uint8_t interrupted; /* rpk_rpmsg_interrupt: blocking sends give up */
	uint8_t locking;     /* the port has lock hooks (several threads) */
	uint8_t batch_rx;    /* buffers received in one poll go back in one index update */
	void *rx_cur;	     /* header of the buffer being dispatched */
	rpk_tap_cb tap;	     /* atomic: rpk_rpmsg_set_tap */
	void *tap_ctx;
	/* rpk_rpmsg_use_event_idx: rpk_vq_set_event_idx, else NULL */
	void (*set_event_idx)(struct rpk_vq *vq, int on);
	struct rpk_rpmsg_stats stats;
};

/*
 * Set up the device in the role cfg->role names. The master posts its
 * receive buffers (without kicking); the remote touches no shared memory
 * yet. Returns 0 or -RPK_EINVAL (also for an unknown role, and where the
 * port maintains caches and the buffers or a legacy ring's alignment are not
 * whole cache lines, RPK_CACHE_LINE).
 */
int rpk_rpmsg_init(struct rpk_rpmsg *dev, const struct rpk_rpmsg_cfg *cfg);

/*
 * The same for one role, whatever cfg->role says: an image that calls only
 * one of them links only that role's code (see the top of this file).
 * Same returns as rpk_rpmsg_init().
 */
int rpk_rpmsg_init_master(struct rpk_rpmsg *dev, const struct rpk_rpmsg_cfg *cfg);
int rpk_rpmsg_init_remote(struct rpk_rpmsg *dev, const struct rpk_rpmsg_cfg *cfg);

/*
 * A side of a symmetric link (seed 003's "each side controls its TX
 * virtqueue", docs/static-links.md): whatever cfg->role, we drive the queue
 * we send on with our own buffers (cfg->bufs: min(num, 256) buffers of
 * buf_size, found in cfg->bufs_mem) and serve the one we receive on as the
 * device, taking the peer's buffers, which must lie in cfg->mem. cfg->role
 * still says which queue is which (queue 0 carries remote to master) and
 * who announces. Same returns as rpk_rpmsg_init().
 */
int rpk_rpmsg_init_symmetric(struct rpk_rpmsg *dev, const struct rpk_rpmsg_cfg *cfg);

/*
 * Two parts of the link a device uses only if asked, so that an image that
 * never asks links none of their code. rpk_rpmsg_init(),
 * rpk_rpmsg_init_master() and rpk_rpmsg_init_symmetric() ask for both; a
 * remote set up with rpk_rpmsg_init_remote() calls them itself, after init
 * and before rpk_rpmsg_start().
 *
 * rpk_rpmsg_listen_ns(): hear the peer's name service. Its announcements
 * bind our named endpoints to its services, fill cfg->services and call
 * cfg->ns_bind; a destroy unbinds. Without it, announcements sent to us
 * find no endpoint (stats.rx_no_ept); ours are still sent.
 *
 * rpk_rpmsg_use_event_idx(): take RPK_VIRTIO_RING_F_EVENT_IDX when the
 * handshake settles on it. A remote that offers the feature in its resource
 * table must call it: rpk_rpmsg_start() refuses the feature without it.
 */
void rpk_rpmsg_listen_ns(struct rpk_rpmsg *dev);
void rpk_rpmsg_use_event_idx(struct rpk_rpmsg *dev);

/*
 * The link is up: features is what the virtio handshake settled on (bit
 * RPK_VIRTIO_RPMSG_F_NS enables the name service). The master kicks its
 * receive queue; both sides send the announcements queued so far.
 * Returns 0, or -RPK_ENOTSUP (nothing done) for RPK_VIRTIO_RING_F_EVENT_IDX
 * on a device that did not call rpk_rpmsg_use_event_idx().
 */
int rpk_rpmsg_start(struct rpk_rpmsg *dev, uint32_t features);

/*
 * The peer is gone (crashed, rebooted or detached): take the link down and
 * start the rings over, so nothing of the old session is reused. Endpoints
 * stay registered: each gets its unbind callback; those bound through the
 * peer's announcements lose their destination (they bind again when it
 * announces again), and announced ones are announced again at the next
 * rpk_rpmsg_start(). Senders waiting for a buffer return -RPK_EPIPE once the
 * port's event wakes them. The master counts the messages the peer had not
 * consumed in stats.tx_lost, and keeps held receive buffers out of the ring
 * until they are released; the remote's held buffers belong to the master
 * and are invalid after a reset (release returns -RPK_EINVAL).
 * Then redo the virtio handshake and call rpk_rpmsg_start() again.
 */
void rpk_rpmsg_reset(struct rpk_rpmsg *dev);

/*
 * Remote: whether the master has reset both rings since we last used them
 * (rpk_vq_laid_out_anew); start only on rings that were.
 */
int rpk_rpmsg_rings_reset(struct rpk_rpmsg *dev);

/*
 * Remote, link up: whether a used index is no longer what we published
 * (rpk_vq_used_moved): the master laid the rings out anew without our
 * seeing its reset (a master that resets and sets DRIVER_OK again within
 * a look), or memory was overwritten.
 */
int rpk_rpmsg_rings_moved(struct rpk_rpmsg *dev);

/*
 * Master, link down: lay both rings out anew (zeroed, receive buffers
 * posted), as rpk_rpmsg_reset() did. Call it right before DRIVER_OK: a
 * remote that had not yet seen the reset may have written the rings since,
 * and nothing of that may reach the new session. Returns 0, or -RPK_EBUSY
 * (a remote, or the link is up).
 */
int rpk_rpmsg_lay_out(struct rpk_rpmsg *dev);

/*
 * The peer had already left when a queue was found broken: the break was its
 * leaving (a master zeroes the rings before its next session), not a
 * corruption. Takes back the index jump each broken queue counted
 * (rpk_vq_forgive_break); call it before rpk_rpmsg_reset().
 */
void rpk_rpmsg_forgive_break(struct rpk_rpmsg *dev);

/* A consistent copy of the counters (and each queue's, if vq is not NULL). */
void rpk_rpmsg_get_stats(struct rpk_rpmsg *dev, struct rpk_rpmsg_stats *s,
			 struct rpk_vq_stats vq[2]);

/* True while the link is up (between start and reset). */
int rpk_rpmsg_is_up(const struct rpk_rpmsg *dev);

/*
 * Process what the peer sent: dispatch received messages to their endpoints
 * and return their buffers. Returns the number of messages handled, or
 * -RPK_EPIPE once the link is broken. One call handles at most a ring's
 * worth: call it again before sleeping while it returns more than 0. With
 * event indices the peer kicks only for what comes after we took all we
 * saw, so a caller that sleeps after a positive return may wait for the
 * next kick with messages still queued (the host node's run loop polls
 * again, and looks at least every watchdog period). Likewise, poll once
 * after rpk_rpmsg_start(): what the peer sent before is not kicked again.
 */
int rpk_rpmsg_poll(struct rpk_rpmsg *dev);

/*
 * Write again the ring flags this side owns (whether it wants kicks) if they
 * were overwritten, counted in stats.flags_fixed. Call it now and then (a
 * watchdog period): a stray write there would silence the peer's doorbells
 * for good. Does nothing while the link is down. Returns how many it fixed.
 */
int rpk_rpmsg_refresh(struct rpk_rpmsg *dev);

/*
 * Polling mode: ask the peer not to kick us for new messages (1) or to kick
 * again (0). In polling mode the caller runs rpk_rpmsg_poll() in a loop. May
 * be called before rpk_rpmsg_start(): a master's rings carry the request
 * from then on (and across resets), a remote's from the next start.
 */
void rpk_rpmsg_set_polling(struct rpk_rpmsg *dev, int polling);

/*
 * See every message this side sends or receives, name-service messages
 * included (for traces): cb runs in the thread that moves the message,
 * under that direction's lock, as a send is published (before the peer
 * can see it; a send the broken link then refuses was traced too) and
 * before a received message reaches its endpoint (also one no endpoint
 * takes, but not one whose header is invalid). It must not block. NULL stops it; a
 * call already running may finish after this returns, so ctx must stay
 * valid as long as the device. Costs one load per message when unset.
 */
void rpk_rpmsg_set_tap(struct rpk_rpmsg *dev, rpk_tap_cb cb, void *ctx);

/* True if messages are waiting (cheap: reads one ring index). */
int rpk_rpmsg_pending(struct rpk_rpmsg *dev);

/*
 * Create an endpoint in caller storage. src RPK_ADDR_ANY picks a free dynamic
 * address (from 1024 up); 53 belongs to the name service. A non-empty name
 * with dst RPK_ADDR_ANY binds to the peer's service of that name if it
 * announced one; otherwise the endpoint is announced to the peer (if it
 * supports the name service). Returns 0, -RPK_EADDRINUSE, -RPK_EINVAL,
 * -RPK_ENOMEM (no free address).
 */
int rpk_ept_create(struct rpk_rpmsg *dev, struct rpk_ept *ept, const char *name, uint32_t src,
		   uint32_t dst, rpk_rx_cb cb, void *priv);

/* Set the unbind callback of a created endpoint (the link may reset any time). */
void rpk_ept_set_unbind(struct rpk_ept *ept, rpk_unbind_cb unbind);

/* Remove an endpoint; announces its destruction if it was announced. When
 * this returns, no callback for it is running or will run. */
void rpk_ept_destroy(struct rpk_ept *ept);

/* Find the endpoint bound at a local address (NULL if none). */
struct rpk_ept *rpk_ept_lookup(struct rpk_rpmsg *dev, uint32_t addr);

/*
 * Send len bytes from src to dst, waiting up to timeout_ms for a free buffer
 * (RPK_NO_WAIT: try once). Returns 0, -RPK_EMSGSIZE, -RPK_EAGAIN (no buffer,
 * no wait), -RPK_ETIMEDOUT, -RPK_ENOTCONN (link down or no destination),
 * -RPK_EPIPE (link broken), -RPK_EINTR (rpk_rpmsg_interrupt).
 */
int rpk_send_offchannel_raw(struct rpk_rpmsg *dev, uint32_t src, uint32_t dst, const void *data,
			    size_t len, uint32_t timeout_ms);

/* rpk_send_offchannel_raw() with RPK_NO_WAIT, without the code that waits:
 * the wrappers below call it for a constant RPK_NO_WAIT, so an image that
 * never waits links none of that code. */
int rpk_trysend_offchannel(struct rpk_rpmsg *dev, uint32_t src, uint32_t dst, const void *data,
			   size_t len);

/* Either of the two above, as timeout_ms says (the choice folds away for a
 * constant). */
static inline int rpk_send_any(struct rpk_rpmsg *dev, uint32_t src, uint32_t dst, const void *data,
			       size_t len, uint32_t timeout_ms)
{
	if (timeout_ms == RPK_NO_WAIT)
		return rpk_trysend_offchannel(dev, src, dst, data, len);
	return rpk_send_offchannel_raw(dev, src, dst, data, len, timeout_ms);
}

/* The endpoint's destination (it changes as the peer announces and leaves). */
uint32_t rpk_ept_get_dst(const struct rpk_ept *ept);

static inline int rpk_send(struct rpk_ept *ept, const void *data, size_t len, uint32_t timeout_ms)
{
	return rpk_send_any(ept->dev, ept->addr, rpk_ept_get_dst(ept), data, len, timeout_ms);
}

static inline int rpk_sendto(struct rpk_ept *ept, uint32_t dst, const void *data, size_t len,
			     uint32_t timeout_ms)
{
	return rpk_send_any(ept->dev, ept->addr, dst, data, len, timeout_ms);
}

static inline int rpk_send_offchannel(struct rpk_ept *ept, uint32_t src, uint32_t dst,
				      const void *data, size_t len, uint32_t timeout_ms)
{
	return rpk_send_any(ept->dev, src, dst, data, len, timeout_ms);
}

static inline int rpk_trysend(struct rpk_ept *ept, const void *data, size_t len)
{
	return rpk_send(ept, data, len, RPK_NO_WAIT);
}

static inline int rpk_trysendto(struct rpk_ept *ept, uint32_t dst, const void *data, size_t len)
{
	return rpk_sendto(ept, dst, data, len, RPK_NO_WAIT);
}

/*
 * Zero-copy send: take a transmit buffer (payload area, *size usable bytes),
 * fill it, then send it with rpk_send_nocopy() or give it back unsent with
 * rpk_release_tx_buffer(). Returns 0 with *buf set, or the errors of
 * rpk_send_offchannel_raw().
 */
int rpk_get_tx_buffer(struct rpk_rpmsg *dev, void **buf, uint32_t *size, uint32_t timeout_ms);
int rpk_send_nocopy(struct rpk_ept *ept, uint32_t dst, void *buf, size_t len);
int rpk_release_tx_buffer(struct rpk_rpmsg *dev, void *buf);

/*
 * Keep a received buffer past the callback (call from inside it with the
 * callback's data pointer), and give it back later from any thread.
 * Returns 0 or -RPK_EINVAL for a pointer that is not a held buffer.
 */
int rpk_hold_rx_buffer(struct rpk_rpmsg *dev, void *data);
int rpk_release_rx_buffer(struct rpk_rpmsg *dev, void *data);

/*
 * The application is shutting down: a send that would wait for a buffer
 * returns -RPK_EINTR instead, now and from then on (sends that find a buffer
 * still go out). Async-signal-safe: one atomic store, no lock. The caller
 * then wakes waiting senders through its port's event.
 */
void rpk_rpmsg_interrupt(struct rpk_rpmsg *dev);

/* Largest payload a send can carry right now (depends on the master's buffers). */
uint32_t rpk_max_payload(const struct rpk_rpmsg *dev);

#endif
