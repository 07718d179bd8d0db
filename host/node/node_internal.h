/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside a node (the files of host/node): the node itself, and what one concern asks
 * of another. Not installed; applications see include/rpk/node.h.
 */
#ifndef RPK_NODE_INTERNAL_H
#define RPK_NODE_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <rpk/elf.h>
#include <rpk/errno.h>
#include <rpk/rsc_table.h>
#include <rpk/trace.h>

#include <rpk/node.h>
#include "msgtrace/writer.h"
#include "posix/rpk_posix.h"

#define NUM_BUCKETS	   1024u
#define NUM_SERVICES	   64u
#define VDEV_NOTIFYID	   2u /* vrings take notify ids 0 and 1 */
#define SUPPORTED_FEATURES ((1u << RPK_VIRTIO_RPMSG_F_NS) | (1u << RPK_VIRTIO_RING_F_EVENT_IDX))
/* The features this node offers (remote) or accepts (master): all it
 * supports, but RPK_NO_EVENT_IDX=1 in the environment leaves event
 * indices out, for a link that runs on the ring flags (as toward a peer
 * without them). */
uint32_t node_features(void);
#define WATCH_MS	  50u	 /* how often a sleeping node looks whether its peer lives */
#define RECOVER_MS	  20000u /* a restarted remote takes its table within this */
#define RELAYOUT_GRACE_MS 20u	 /* a remote of the old session stops writing within this */
#define PID_RECHECK_MS	  1000u	 /* how often a peer's pid is seen to map the link again */
#define RING_ACK_MS	  2000u	 /* a symmetric remote lays its ring out for a master within */

struct rpk_node {
	const struct rpk_layout *lay;
	const struct rpk_layout_node *ln;
	struct rpk_node_opts opts;
	char instance[64];
	struct rpk_shm shm[RPK_REG_COUNT];
	uint8_t *view[RPK_REG_COUNT]; /* what the node works on: shm, or its private cache */
	struct rpk_sim_cache *cache;  /* simulated non-coherent memory, or NULL */
	int port_ready;
	struct rpk_shm mbox;
	struct rpk_shm fw_shm; /* rpk,firmware-region, if the layout has one */
	uint8_t *fw_img;       /* master: the firmware it booted (kept for recovery) */
	size_t fw_size;
	struct rpk_mem_window buf_win;
	struct rpk_mem buf_mem; /* descriptors may only point into the buffer pool */
	/* A symmetric link: the peer's pool (where its messages lie: buf_win is
	 * that one then) and ours, that we send from. */
	struct rpk_shm peer_pool;
	uint8_t *peer_view;
	struct rpk_mem_window own_win;
	struct rpk_mem own_mem;
	uint32_t ring_acked; /* remote: the master session we laid our send ring out for */
	struct rpk_posix_port port;
	struct rpk_stream_bell stream_bell; /* opts.doorbell_socket; fd -1: none */
	struct rpk_ivshmem_peer ivshmem;    /* opts.ivshmem_socket; sock -1: none */
	struct rpk_rpmsg dev;
	struct rpk_vq_slot *slots[2];
	struct rpk_ept *buckets[NUM_BUCKETS];
	struct rpk_service services[NUM_SERVICES];
	struct rpk_fw_rsc_vdev *vdev; /* in shared memory */
	uint32_t num, align;	      /* vring entries and alignment */
	uint32_t link_hash;	      /* rpk_layout_link_hash of our side */
	uint32_t refused_hash;	      /* remote: a master's hash we refused (logged once) */
	int refused;		      /* remote: the master's devicetree is not ours */
	struct rpk_trace trace;	      /* remote: its log, if the layout has one */
	pthread_mutex_t trace_mu;
	int have_device;
	/* Life of the link: changed under life, read without it (atomic). */
	pthread_mutex_t life;
	int state;		     /* enum rpk_node_state */
	uint32_t peer_session;	     /* the peer's session the link runs with (0: unsigned) */
	uint32_t bell_seen;	     /* unsigned peer: what its bell held when the link came up */
	uint32_t bad_session;	     /* master: a session whose table we could not take */
	int have_bad;		     /* bad_session is set */
	int need_signed;	     /* master, booting: wait for the remote's signature */
	int need_reset;		     /* remote: we set NEEDS_RESET, the master has not reset */
	int asked_used;		     /* remote: a used index was ours when we asked (not 0) */
	int saw_reset;		     /* remote: the master reset us since the link fell */
	uint32_t last_watch_ms;	     /* last look at the peer's process */
	uint32_t crashes, attaches;  /* atomic: read by anyone */
	uint32_t broken, chaos;	     /* atomic: links the peer broke, corruptions we wrote */
	uint32_t reset_asks;	     /* atomic: NEEDS_RESET set (remote) or seen (master) */
	uint32_t link_resets;	     /* atomic: resets of a link whose peer lived on */
	uint32_t bell_fixed;	     /* atomic: our bell's signature found overwritten */
	uint64_t late_wakeups;	     /* atomic: messages found by the watchdog, not a kick */
	uint32_t my_pid, my_session; /* what we signed our bell with (0: not yet) */
	/* The peer's pid as validated (it maps our mailbox): for which pid and
	 * session, and the answer. Under pid_mu. */
	pthread_mutex_t pid_mu;
	uint32_t checked_pid, checked_session, checked_ms;
	int checked_ok;
	char mbox_name[160];
	/* The file a process maps if it is a node of this link: the mailbox's
	 * shm object, or the emulator's RAM file (opts.memory_file). */
	char link_object[4096];
	/* A test peer (rpk_node_set_chaos): the watchdog calls chaos_tick once a
	 * period. Through a pointer: the node does not depend on the chaos code. */
	void (*chaos_tick)(struct rpk_node *n, uint32_t now_ms);
	int chaos_class; /* enum rpk_chaos */
	uint32_t chaos_every_ms;
	uint32_t last_chaos_ms;
	uint32_t stats_seq;	      /* of the counter page, kept here: the page is shared */
	struct rpk_shm stats;	      /* our counters for rpk stat */
	struct msgtrace_writer msgs;  /* every message, while rpk trace --messages reads */
	pthread_mutex_t observers_mu; /* serving the two above */
	uint32_t last_observers_ms;
	gid_t group; /* who may join besides us (docs/access.md), or RPK_NO_GROUP */
	pthread_t thread;
	int thread_running;
	int stop;
	int interrupted; /* rpk_node_interrupt: the application's waits give up */

	/* A region shrank under us: failed is set (atomic) once failure says
	 * which; the sizes are looked at once a watchdog period. */
	int failed, taken_down;	 /* atomic */
	pthread_mutex_t fail_mu; /* writing failure */
	char failure[512];
	uint32_t last_size_ms;
};

/* node.c */
const struct rpk_region *node_region(const struct rpk_node *n, int k);
void *node_rsc_shared(const struct rpk_node *n);
int node_init_device(struct rpk_node *n, uint32_t num, uint32_t align, char *err, size_t errlen);
uint8_t node_vdev_status(struct rpk_node *n);
int node_driver_ok(struct rpk_node *n);
void node_set_state(struct rpk_node *n, enum rpk_node_state s);
int node_link_live(const struct rpk_node *n);
void node_wake_self(struct rpk_node *n);

/* stats.c */
void node_open_stats(struct rpk_node *n);
void node_publish_stats(struct rpk_node *n);

/* table.c */
int node_publish_table(struct rpk_node *n, char *err, size_t errlen);
int node_table_vdev(struct rpk_node *n, const uint8_t *copy, const char *what,
		    const struct rpk_fw_rsc_vdev **v, uint32_t *num, uint32_t *align, char *err,
		    size_t errlen);
int node_take_installed_table(struct rpk_node *n, char *err, size_t errlen);
int node_table_laid_out_anew(struct rpk_node *n);

/* link.c: a static link's header (include/rpk/link_header.h) */
void node_publish_link_header(struct rpk_node *n);
void node_ack_ring(struct rpk_node *n, uint32_t master_session);
int node_wait_ring_ack(struct rpk_node *n, char *err, size_t errlen);
int node_check_link_header(struct rpk_node *n, char *err, size_t errlen);
int node_master_refused(struct rpk_node *n);
int node_refusal(struct rpk_node *n, char *err, size_t errlen);

/* attach.c */
int node_table_ready(struct rpk_node *n, uint32_t *session);
int node_attach(struct rpk_node *n, uint32_t s, char *err, size_t errlen);
int node_wait_and_attach(struct rpk_node *n, uint32_t timeout_ms, char *err, size_t errlen);
int node_start_master(struct rpk_node *n, uint32_t timeout_ms, char *err, size_t errlen);
void node_reset_device(struct rpk_node *n, const char *why);
void node_remote_gone(struct rpk_node *n);
void node_check_status(struct rpk_node *n);

/* boot.c */
void node_recover(struct rpk_node *n);

/* serve.c */
int node_master_ready(struct rpk_node *n, uint32_t *session);
int node_remote_link_up(struct rpk_node *n, uint32_t s);
int node_start_remote(struct rpk_node *n, uint32_t timeout_ms, char *err, size_t errlen);
void node_ask_for_reset(struct rpk_node *n, const char *why);
void node_master_gone(struct rpk_node *n);
void node_rings_relaid(struct rpk_node *n);

/* watch.c */
/* Counters and message traces for observers; at most once a watchdog period,
 * from the run loop and from waits before it runs. */
void node_serve_observers(struct rpk_node *n, uint32_t now);
uint32_t node_sign_session(struct rpk_node *n);
int node_peer_alive(struct rpk_node *n, uint32_t s);
void node_link_lost(struct rpk_node *n, enum rpk_node_state next);
void node_link_broken(struct rpk_node *n);
void node_watch(struct rpk_node *n, int force);

/* run.c */
int node_wait_for(struct rpk_node *n, int (*cond)(struct rpk_node *, uint32_t *),
		  uint32_t timeout_ms, uint32_t *session);
int node_start_thread(struct rpk_node *n);
void node_pause(struct rpk_node *n, uint32_t ms);

#endif
