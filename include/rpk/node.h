/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpmsg-kit's host API: a node is one side of a link, run by a process on a
 * Linux host. It maps the link's regions (one shared-memory object each,
 * docs/host-link.md), does the resource-table handshake of its role (a
 * remote lays out its table and waits for a master; a master attaches to
 * it, or boots it from an ELF image), runs the rpmsg device of
 * <rpk/rpmsg.h> over them, and watches its peer: the link comes back by
 * itself after a crash, a reboot or a corruption (docs/lifecycle.md).
 *
 * Typical use (examples/host/echo_client.c):
 *
 *     rpk_layout_load("link.dts", lay, err, sizeof(err));
 *     rpk_node_open(&n, lay, "master", &(struct rpk_node_opts){.threaded = 1}, err, ...);
 *     rpk_node_start(n, 10000, err, ...);          // attached
 *     rpk_inbox_open(n, &in, "rpmsg-client-sample", RPK_ADDR_ANY, RPK_ADDR_ANY);
 *     rpk_send(rpk_inbox_ept(in), "hi", 2, 1000);  // <rpk/rpmsg.h>
 *     rpk_inbox_recv(in, buf, sizeof(buf), NULL, 1000);
 *     rpk_inbox_close(in);
 *     rpk_node_close(n);
 *
 * Errors are negative RPK_E* codes (<rpk/errno.h>); functions that take
 * err/errlen also put a message there (with a trailing newline). Unless said
 * otherwise, functions may be called from any thread; a node's receive
 * callbacks run in its event thread (threaded) or in the caller of
 * rpk_node_run_once().
 */
#ifndef RPK_NODE_H
#define RPK_NODE_H

#include <stddef.h>
#include <stdint.h>

#include <rpk/layout.h>
#include <rpk/rpmsg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One side of a link (opaque). */
struct rpk_node;
/* An endpoint whose messages wait in a queue for a blocking receive (opaque). */
struct rpk_inbox;

struct rpk_node_opts {
	const char *instance; /* shm names are /rpk-<instance>-<region>; default "default" */
	int polling;	      /* spin on the doorbell instead of sleeping */
	/* Spin up to 50 us on the doorbell before sleeping, the spin adapting to
	 * how soon rings come: near polling's round trip under load, a
	 * blocking node's idle CPU when quiet. Ignored with polling. */
	int adaptive;
	int noncoherent;	/* simulate write-back caches (also: RPK_CACHE_SIM=1, rpk,cached) */
	int threaded;		/* run an event thread after start */
	rpk_ns_bind_cb ns_bind; /* services the peer announced that nobody bound */
	void *ns_priv;
	int no_recovery; /* master: stay crashed instead of re-attaching */
	/* Master, auto-boot (rpk_node_boot): start and stop the remote's
	 * processor, as Linux's rproc_ops. On the host, start runs a remote
	 * node process in booted mode. */
	int (*start_remote)(void *priv);
	void (*stop_remote)(void *priv);
	void *rproc_priv;
	/* Remote: a master loaded our firmware and installed its table; run
	 * with that table instead of laying one out. */
	int booted;
	/* Who may join the link besides our user (docs/access.md): a group
	 * name or number; NULL: nobody. Objects we create are then 0660 and
	 * that group's, and objects of that group are joined. */
	const char *group;
	/* The link's memory is an emulator's RAM file (QEMU's
	 * memory-backend-file with share=on): each region, the mailbox too, is
	 * mapped from this file at its address minus memory_base, as the other
	 * side, firmware in the emulator, sees it in its RAM. NULL: the
	 * shared-memory objects of docs/host-link.md. The file is never created,
	 * resized or removed. */
	const char *memory_file;
	uint64_t memory_base;
	/* Doorbells as bytes on a UNIX stream socket this node connects to:
	 * an emulator's UART (QEMU's -serial unix:PATH,server=on) whose
	 * receive interrupt is the firmware's doorbell, and whose transmitted
	 * bytes are the firmware's kicks. Each kick sends one byte (as well as
	 * ringing the mailbox); each byte that comes in wakes the node as the
	 * peer's ring does. The connection is made by rpk_node_open (an error
	 * if nobody listens) and closed by rpk_node_close. NULL: the mailbox's
	 * bells alone. */
	const char *doorbell_socket;
	/* Doorbells as ivshmem interrupts: this node joins the ivshmem server
	 * listening on this UNIX socket (rpk ivshmem-server) as one of its
	 * peers, as QEMU's ivshmem-doorbell device does for a guest. A kick
	 * interrupts vector T (the devicetree's tx mailbox channel) of every
	 * other peer; an interrupt of our vector R (the rx channel) wakes us as
	 * the peer's ring does. Joined by rpk_node_open (an error if no server
	 * answers), left by rpk_node_close. Ignored with doorbell_socket. */
	const char *ivshmem_socket;
	/* Calls on this node, its endpoints and inboxes (and every service
	 * built on it) never overlap: one thread makes them, or threads that
	 * hand the node on with synchronisation of their own; no event thread
	 * runs (not with threaded). The core then takes no locks, where it
	 * otherwise takes the port's mutexes three times per message. */
	int single_thread;
};

/*
 * Life of a link, as Linux's remoteproc names it (docs/lifecycle.md has the
 * diagram). A master attaches to a remote that booted by itself (attached)
 * or boots one (running), may detach and leave it running (detached), and
 * sees it crash (crashed) when the remote's process dies, starts a new
 * session or lays out a fresh table; it attaches again once the remote has
 * published its table again. A remote is detached while no master serves
 * it. A link whose rings broke resets and comes back by itself: the master
 * resets the device, the remote asks it to (DEVICE_NEEDS_RESET). Offline: a
 * master that booted nothing yet, or a node whose memory shrank under it.
 */
enum rpk_node_state {
	RPK_NODE_OFFLINE,
	RPK_NODE_RUNNING,
	RPK_NODE_ATTACHED,
	RPK_NODE_DETACHED,
	RPK_NODE_CRASHED,
};

/* What a node counted (rpk_node_counts); the page `rpk stat` prints has more. */
struct rpk_node_counts {
	uint64_t tx_msgs, rx_msgs; /* messages sent and received */
	uint64_t tx_kicks;	   /* doorbells we rang */
	uint64_t rx_wakeups;	   /* sleeps ended by the peer's doorbell */
	uint32_t crashes;	   /* master: times the remote died or rebooted under us */
	uint32_t attaches;	   /* times the link came up */
	uint32_t tx_lost;	   /* master: sent, but not consumed when the link went down */
	uint32_t broken;	   /* times the peer's rings made no sense (link reset) */
	uint32_t reset_asks;	   /* remote: resets we asked for; master: the remote asked */
	uint32_t link_resets;	   /* resets of a link whose peer lived on */
	uint64_t late_wakeups;	   /* messages found by the watchdog, not by a kick */
};

/*
 * Open the side of the link the layout names `name` (a node of lay with
 * compatible "rpk,rpmsg-link"): map its regions, creating or joining their
 * objects (docs/access.md), and set up its rpmsg device. lay must outlive
 * the node. opts may be NULL (defaults: instance "default", sleeping on the
 * doorbell, no event thread). A remote can create endpoints right after this
 * (they are announced when the link comes up); a master learns the rings
 * from the remote's table and creates endpoints after rpk_node_start().
 * Returns 0, or with a message in err: -RPK_ENOENT (no such node),
 * -RPK_EACCES (an object refused by the access model), -RPK_EINVAL (an
 * object of another size, an unknown group, a layout the core refuses),
 * -RPK_ENOMEM, -RPK_EIO (the system refused a mapping).
 */
int rpk_node_open(struct rpk_node **out, const struct rpk_layout *lay, const char *name,
		  const struct rpk_node_opts *opts, char *err, size_t errlen);

/*
 * Bring the link up. Remote: lay out the resource table, wait for the
 * master's DRIVER_OK. Master: wait for the remote's table, attach to it (it
 * never writes the table but for features and status), post buffers.
 * Returns 0, -RPK_ETIMEDOUT, -RPK_EINTR, or -RPK_ENOEXEC for a bad table
 * (message in err).
 */
int rpk_node_start(struct rpk_node *n, uint32_t timeout_ms, char *err, size_t errlen);

/*
 * One round without an event thread: handle what arrived, else wait for a
 * kick up to timeout_ms (at most a watchdog period, after which it looks at
 * the peer: a crash, a detach or a re-attach happens here). Returns messages
 * handled or a negative error: -RPK_EIO when a region's object shrank under
 * us (truncated by someone): the link is then down for good (offline, users
 * get their errors) and rpk_node_error() says which region.
 */
int rpk_node_run_once(struct rpk_node *n, uint32_t timeout_ms);

/* Why the node stopped for good (a region shrank), or NULL. It looks at the
 * regions now: a caller whose link went down learns whether this is why.
 * Never blocks (fine in a receive callback). */
const char *rpk_node_error(struct rpk_node *n);

/*
 * Master, auto-boot (offline -> running): load an ELF firmware's segments
 * into the link's memory (rpk,firmware-region and the link's regions), give
 * what its .resource_table leaves at FW_RSC_ADDR_ANY an address, install the
 * table where the devicetree says it lives, start the remote and wait up to
 * timeout_ms for it to take the table. The image is copied: after a crash
 * the master loads and starts it again by itself (unless no_recovery).
 * Returns 0, -RPK_ENOEXEC (bad image or table), -RPK_EFAULT (a segment
 * outside memory), -RPK_ETIMEDOUT, -RPK_EINVAL, with a message in err.
 */
int rpk_node_boot(struct rpk_node *n, const void *img, size_t size, uint32_t timeout_ms, char *err,
		  size_t errlen);

/* Master: stop a booted remote (running or crashed -> offline); endpoints
 * get their unbind callbacks. Returns 0 or -RPK_EINVAL (nothing booted). */
int rpk_node_stop(struct rpk_node *n);

/* Master: leave the remote running, its endpoints intact (attached ->
 * detached). Returns 0 or -RPK_EINVAL (not attached). */
int rpk_node_detach(struct rpk_node *n);

/* Master: attach again after a detach or a crash; waits up to timeout_ms for
 * the remote's table. Returns 0, -RPK_ETIMEDOUT, -RPK_EINTR, -RPK_EINVAL
 * (not detached or crashed) or -RPK_ENOEXEC (message in err). */
int rpk_node_attach(struct rpk_node *n, uint32_t timeout_ms, char *err, size_t errlen);

/*
 * The application is shutting down (Ctrl-C): every blocking call on this
 * node returns -RPK_EINTR at once, now and from then on: rpk_node_start,
 * rpk_node_attach, rpk_node_boot, rpk_node_run_once, rpk_inbox_recv, and
 * sends that would wait for a buffer. The event thread serves on until
 * rpk_node_close(). Async-signal-safe: call it from a SIGINT handler.
 */
void rpk_node_interrupt(struct rpk_node *n);
/* Whether rpk_node_interrupt() was called. */
int rpk_node_interrupted(const struct rpk_node *n);

/* Remote: a line in the trace buffer (if the layout gives one; see `rpk trace`).
 * Either side: also on stderr when the environment has RPK_LOG=1. */
void rpk_node_log(struct rpk_node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The link's state now, and its name ("attached", ...; "unknown" for a
 * value out of range). */
enum rpk_node_state rpk_node_state(const struct rpk_node *n);
const char *rpk_node_state_name(enum rpk_node_state s);

/* Stop the event thread (if any), detach or stop the remote (master), unmap,
 * and remove the objects this node owns (a remote's, or a master's that
 * booted its remote). NULL is fine. No other call on n may run meanwhile. */
void rpk_node_close(struct rpk_node *n);

/* The node's rpmsg device, for <rpk/rpmsg.h>: endpoints, sends, stats. It
 * exists from rpk_node_open() on (a master's once rpk_node_start() or
 * rpk_node_boot() attached). */
struct rpk_rpmsg *rpk_node_dev(struct rpk_node *n);
enum rpk_role rpk_node_role(const struct rpk_node *n);
/* A copy of the node's counters now. */
void rpk_node_counts(struct rpk_node *n, struct rpk_node_counts *c);

/* The shm object's name of a region: /rpk-<instance>-<region node name>. */
void rpk_node_shm_name(char *buf, size_t len, const char *instance, const struct rpk_region *r);

/*
 * Each running node shows its counters in /dev/shm/rpk-<instance>-stats-<node>
 * (for `rpk stat`), refreshed at each watchdog period and at close. seq is
 * odd while the node writes; a reader copies until it sees the same even seq
 * before and after.
 */
#define RPK_STATS_MAGIC 0x534b5052u /* "RPKS" */

struct rpk_node_stats_page {
	uint32_t magic;
	uint32_t seq;
	uint32_t pid;
	uint32_t state; /* enum rpk_node_state */
	uint32_t crashes, attaches;
	uint32_t broken, chaos; /* links broken by the peer; corruptions we wrote (a test peer) */
	uint32_t reset_asks;	/* remote: resets we asked for; master: the remote asked */
	uint32_t link_resets;	/* resets of a link whose peer lived on */
	uint32_t bell_fixed;	/* our bell's signature found overwritten, and written again */
	uint32_t peer_signed;	/* the peer signs its bell (0: its liveness is unknown) */
	uint64_t rx_wakeups;
	uint64_t late_wakeups; /* messages found by the watchdog, not by a kick */
	struct rpk_rpmsg_stats rpmsg;
	struct rpk_vq_stats vq[2];
};

void rpk_node_stats_name(char *buf, size_t len, const char *instance, const char *node);

/* A consistent copy of a running node's page: 0, -RPK_ENOENT (not running)
 * or -RPK_EIO (no counters in it, or refused by the access model). */
int rpk_node_read_stats(const char *instance, const char *node, struct rpk_node_stats_page *out);
/* The same for a link shared with a group (NULL: none; see rpk_node_opts),
 * and why it failed in err; -RPK_EINVAL for an unknown group. */
int rpk_node_read_stats_group(const char *instance, const char *node, const char *group,
			      struct rpk_node_stats_page *out, char *err, size_t errlen);

/* Remove a layout's shm objects and its nodes' counter and message-trace
 * pages for an instance (cleanup after a crash). */
void rpk_node_unlink_all(const struct rpk_layout *lay, const char *instance);
/* Remove one node's counter and message-trace pages: its process was
 * killed, and a node removes them only when it closes. */
void rpk_node_unlink_observers(const char *instance, const char *node);

/*
 * Inbox: an endpoint of the node's device whose messages wait in a queue
 * for rpk_inbox_recv(), one message per receive as with Linux's /dev/rpmsgN.
 * The queue holds the receive buffers themselves (no copy, no allocation
 * per message): a reader that falls behind slows its sender down instead of
 * losing messages. name, src and dst are those of rpk_ept_create(): with a
 * name and dst RPK_ADDR_ANY it binds to the peer's service of that name when
 * the peer announces it (again after each reset). Needs someone polling:
 * the event thread (threaded) or rpk_node_run_once() in another thread.
 * Send with <rpk/rpmsg.h> on rpk_inbox_ept(). Returns 0, -RPK_ENOMEM, or
 * the errors of rpk_ept_create().
 */
int rpk_inbox_open(struct rpk_node *n, struct rpk_inbox **out, const char *name, uint32_t src,
		   uint32_t dst);
/* Copy the next message into buf. Returns its length, -RPK_ETIMEDOUT,
 * -RPK_EMSGSIZE (cap too small: the message stays queued), -RPK_EINTR
 * (rpk_node_interrupt), or once per link reset -RPK_ECONNRESET when nothing
 * received before it is left. */
int rpk_inbox_recv(struct rpk_inbox *h, void *buf, size_t cap, uint32_t *src, uint32_t timeout_ms);
/* The inbox's endpoint: its address, its destination, and what to send on. */
struct rpk_ept *rpk_inbox_ept(struct rpk_inbox *h);
/* Destroy the endpoint (announcing it gone if it was announced) and give
 * back the buffers still queued. */
void rpk_inbox_close(struct rpk_inbox *h);

#ifdef __cplusplus
}
#endif

#endif
