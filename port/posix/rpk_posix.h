/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host port: shared memory is a POSIX shm file (/dev/shm) per region, mapped
 * anywhere; a doorbell is a futex word in a shared mailbox region.
 */
#ifndef RPK_POSIX_H
#define RPK_POSIX_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <rpk/port.h>

#include "posix/cache_sim.h"

struct rpk_shm {
	void *va;
	size_t size;
	int fd;
};

/* Map the shm object /name of size bytes, creating (and sizing) it if needed.
 * Returns 0 or -errno. */
int rpk_shm_open(struct rpk_shm *shm, const char *name, size_t size);
/* Map an existing object read-only, for observers; -ENOENT if absent. */
int rpk_shm_open_readonly(struct rpk_shm *shm, const char *name, size_t size);
void rpk_shm_close(struct rpk_shm *shm);
/* Remove the shm object; returns 0 or -errno (-ENOENT if absent). */
int rpk_shm_unlink(const char *name);

/*
 * One doorbell channel in the mailbox region: a sequence number the ringer
 * increments, and a count of sleepers so a ring costs no system call when
 * nobody sleeps. Channels are a cache line apart.
 */
struct rpk_bell {
	uint32_t seq;
	uint32_t sleepers;
	/* Who rings this bell: the process and its session, bumped each time it
	 * (re)starts the link, so the peer can tell a crash or a reboot. */
	uint32_t pid;
	uint32_t session;
};

#define RPK_BELL_STRIDE 64u

struct rpk_posix_port {
	struct rpk_port port;
	struct rpk_port_ops ops;
	struct rpk_sim_cache *cache; /* NULL: coherent */
	struct rpk_bell *tx;	     /* we ring this one */
	struct rpk_bell *rx;	     /* the peer rings this one */
	int polling;		     /* spin instead of sleeping */
	pthread_mutex_t lock[RPK_LOCK_COUNT];
	uint64_t wakeups; /* sleeps ended by a ring */
};

/* Set up a port over two bells. Polling spins in event_wait. With cache
 * non-NULL the port simulates non-coherent memory over its regions. */
void rpk_posix_port_init(struct rpk_posix_port *p, struct rpk_bell *tx, struct rpk_bell *rx,
			 int polling, struct rpk_sim_cache *cache);
void rpk_posix_port_fini(struct rpk_posix_port *p);

/* Ring a bell directly (also used before the rpmsg device exists). */
void rpk_bell_ring(struct rpk_bell *bell);

/* Sign a bell we ring with our pid and a new session number; returns it. */
uint32_t rpk_bell_new_session(struct rpk_bell *bell);
/* The ringer's session (0: none yet) and whether its process is alive. */
uint32_t rpk_bell_session(const struct rpk_bell *bell);
int rpk_bell_owner_alive(const struct rpk_bell *bell);
/* Whether a pid read from shared memory names a live, non-zombie process. */
int rpk_pid_alive(uint32_t pid);

/* Milliseconds of a monotonic clock. */
uint32_t rpk_posix_now_ms(void);

#endif
