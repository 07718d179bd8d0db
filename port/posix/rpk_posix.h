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
#include <sys/stat.h>
#include <sys/types.h>

#include <rpk/port.h>

#include "posix/cache_sim.h"

struct rpk_shm {
	void *va;
	size_t size;
	off_t offset; /* where the mapping starts in its file (rpk_file_open_at) */
	int fd;
	int guard; /* SIGBUS guard of the mapping (rpk_guard_add), 0: none */
};

/*
 * Who may join a link (docs/access.md): an object is joined only if our
 * effective uid owns it and nobody else has any access to it, or, with a
 * group, if that group owns it and others have no access. RPK_NO_GROUP: the
 * link is ours alone. Functions that fail put a message naming the object
 * (/dev/shm/...), its owner, its mode and what was expected in err.
 */
#define RPK_NO_GROUP ((gid_t)-1)

/* Map the shm object /name of exactly size bytes. Absent, it is created
 * exclusively (mode 0600, or 0660 owned by the group); present, it must pass
 * the access check and hold size bytes (0: its creator has not sized it yet,
 * or died before it did: we do). Returns 0, -EACCES (refused by the access
 * model), -EINVAL (another size) or another -errno. */
int rpk_shm_open(struct rpk_shm *shm, const char *name, size_t size, gid_t group, char *err,
		 size_t errlen);
/* Map an existing object read-only, for observers: never created, the same
 * access check, at least size bytes. -ENOENT if absent, -EACCES, -EIO if
 * smaller. */
int rpk_shm_open_readonly(struct rpk_shm *shm, const char *name, size_t size, gid_t group,
			  char *err, size_t errlen);
/* The same, read-write: for an object a reader also writes to (the message
 * trace's heartbeat), never created. */
int rpk_shm_open_existing(struct rpk_shm *shm, const char *name, size_t size, gid_t group,
			  char *err, size_t errlen);
/* A backing file configured explicitly (an emulator's RAM file): an existing
 * regular file that passes the same access check and holds at least size
 * bytes, mapped read-write (its first size bytes). Never created or resized.
 * Returns 0, -EACCES, -EINVAL (too small) or another -errno. */
int rpk_file_open(struct rpk_shm *shm, const char *path, size_t size, gid_t group, char *err,
		  size_t errlen);
/* The same for size bytes at offset in the file (an emulator's RAM file,
 * where a region lies at its address minus the RAM's base). */
int rpk_file_open_at(struct rpk_shm *shm, const char *path, uint64_t offset, size_t size,
		     gid_t group, char *err, size_t errlen);
void rpk_shm_close(struct rpk_shm *shm);
/* Remove the shm object; returns 0 or -errno (-ENOENT if absent). */
int rpk_shm_unlink(const char *name);
/* Whether the object shrank under us: it is now smaller than the mapping,
 * or a SIGBUS in the mapping was absorbed (see rpk_guard_add). 1 with its
 * size in *now, or 0. */
int rpk_shm_shrunk(const struct rpk_shm *shm, size_t *now);
/* The access check on an object's status (fstat) or an open object; path
 * names it. writable: we join it (else we only read it). 0 or -EACCES. */
int rpk_check_stat(const struct stat *st, const char *path, gid_t group, int writable, char *err,
		   size_t errlen);
int rpk_check_object(int fd, const char *path, gid_t group, int writable, char *err, size_t errlen);
/* The message for an object we may not even open: its owner and mode. */
void rpk_access_denied(const char *path, gid_t group, char *err, size_t errlen);
/* A group by name or number: 0, or -ENOENT with a message. */
int rpk_group_lookup(const char *name, gid_t *gid, char *err, size_t errlen);

/*
 * SIGBUS guard: a process-wide handler (installed with the first guarded
 * mapping, chaining to the one installed before it) that absorbs a fault in
 * a guarded mapping whose file shrank: the rest of the mapping becomes
 * anonymous zero pages, and its slot records it. Every mapping of
 * rpk_shm_open* and rpk_file_open is guarded. Lock-free, fixed size.
 */
#define RPK_GUARD_SLOTS 256

/* Guard [va, va + len), mapped with prot. Returns an id > 0, or 0 when all
 * slots are taken (the mapping goes unguarded). */
int rpk_guard_add(void *va, size_t len, int prot);
/* Whether a fault in the mapping was absorbed. */
int rpk_guard_tripped(int id);
void rpk_guard_remove(int id);

/*
 * One doorbell channel in the mailbox region: a sequence number the ringer
 * increments, and a flag the listener sets while it sleeps, so a ring costs
 * no system call when nobody sleeps. Channels are a cache line apart. The
 * layout is part of the host link ABI (docs/host-link.md).
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

/*
 * A doorbell outside the mailbox, for a peer in an emulator that cannot see
 * our futex words: it carries our kicks out (ring), and a thread of its own
 * rings our receive bell in the mailbox for each of the peer's, so every
 * waiter wakes as for a peer on the host.
 */
struct rpk_ext_bell {
	void (*ring)(struct rpk_ext_bell *bell); /* one kick out; never blocks */
};

/* A connected UNIX stream socket (its fd), or a negative RPK_E* with
 * "WHAT PATH: reason" in err. */
int rpk_unix_connect(const char *path, const char *what, char *err, size_t errlen);
/* Stop a thread that reads *sock (shut down, joined) and close it: -1. */
void rpk_socket_reader_stop(int *sock, pthread_t reader);

/* Bytes on a stream socket (stream_bell.c): an emulator's UART. */
struct rpk_stream_bell {
	struct rpk_ext_bell ext;
	int fd; /* -1: none */
	pthread_t thread;
	struct rpk_bell *rx; /* rung for each byte that comes in */
};

/* Connect to the socket at path and ring rx for what comes in; 0 or a
 * negative RPK_E* with the reason in err. */
int rpk_stream_bell_open(struct rpk_stream_bell *b, const char *path, struct rpk_bell *rx,
			 char *err, size_t errlen);
void rpk_stream_bell_close(struct rpk_stream_bell *b);

/* The ivshmem server protocol (QEMU's docs/specs/ivshmem-spec.rst):
 * little-endian 64-bit numbers on a UNIX stream socket, each with at most
 * one file descriptor. send: fd -1 for none; recv: *fd -1 if none came;
 * both 0, or -1 with errno (0: the other end closed). */
int rpk_ivshmem_send(int sock, int64_t value, int fd);
int rpk_ivshmem_recv(int sock, int64_t *value, int *fd);

#define RPK_IVSHMEM_MAX_VECTORS 8u
#define RPK_IVSHMEM_MAX_PEERS	16u

/* A peer of an ivshmem server (ivshmem_peer.c), as QEMU's ivshmem-doorbell
 * device is another: our kicks go to vector tx of every other peer, and
 * vector rx of ours rings rx. */
struct rpk_ivshmem_peer {
	struct rpk_ext_bell ext;
	int sock; /* -1: none */
	int64_t id;
	uint32_t rx_vector, tx_vector;
	int own[RPK_IVSHMEM_MAX_VECTORS]; /* our vectors' eventfds, -1: not yet */
	struct {
		int64_t id; /* -1: a free slot */
		int fd[RPK_IVSHMEM_MAX_VECTORS];
		unsigned nfd;
	} peers[RPK_IVSHMEM_MAX_PEERS];
	pthread_mutex_t mu; /* own[] and peers[]: the reader changes them */
	pthread_t thread;
	struct rpk_bell *rx;
};

int rpk_ivshmem_peer_open(struct rpk_ivshmem_peer *p, const char *path, uint32_t rx_vector,
			  uint32_t tx_vector, struct rpk_bell *rx, char *err, size_t errlen);
void rpk_ivshmem_peer_close(struct rpk_ivshmem_peer *p);

struct rpk_posix_port {
	struct rpk_port port;
	struct rpk_port_ops ops;
	struct rpk_sim_cache *cache; /* NULL: coherent */
	struct rpk_bell *tx;	     /* we ring this one */
	struct rpk_bell *rx;	     /* the peer rings this one */
	/* Also ring the peer this way (an emulator's device); NULL: the peer
	 * reads the tx bell. */
	struct rpk_ext_bell *ext;
	int polling;	  /* spin instead of sleeping */
	int adaptive;	  /* spin a while, then sleep (port.c: adaptive_wait) */
	uint32_t spin_ns; /* adaptive: how long the next wait spins */
	pthread_mutex_t lock[RPK_LOCK_COUNT];
	pthread_mutex_t sleep_mu; /* nsleep, and the rx bell's sleepers flag */
	unsigned nsleep;	  /* our threads sleeping on the rx bell */
	uint64_t wakeups;	  /* sleeps ended by a ring */
};

/* Set up a port over two bells. Polling spins in event_wait. With cache
 * non-NULL the port simulates non-coherent memory over its regions. */
void rpk_posix_port_init(struct rpk_posix_port *p, struct rpk_bell *tx, struct rpk_bell *rx,
			 int polling, struct rpk_sim_cache *cache);
void rpk_posix_port_fini(struct rpk_posix_port *p);

/* The port's user calls the core from one thread only: no lock hooks, so the
 * core takes no locks (before rpk_rpmsg_init, which looks for them). */
void rpk_posix_port_single_thread(struct rpk_posix_port *p);

/* Ring a bell directly (also used before the rpmsg device exists). */
void rpk_bell_ring(struct rpk_bell *bell);

/* Sign a bell we ring with our pid and a new session number; returns it. */
uint32_t rpk_bell_new_session(struct rpk_bell *bell);
/* The ringer's session (0: none yet) and whether its process is alive. */
uint32_t rpk_bell_session(const struct rpk_bell *bell);
int rpk_bell_owner_alive(const struct rpk_bell *bell);
/* Whether a pid read from shared memory names a live, non-zombie process. */
int rpk_pid_alive(uint32_t pid);
/* Whether process pid (read from shared memory) maps the shm object /name,
 * that very file: 1, 0 (it does not, or there is no such process; also for
 * 0 and pids above INT_MAX), or -1 (cannot tell: its maps are not ours to
 * read). Only a process that maps a link's objects is a node of that link. */
int rpk_pid_maps(uint32_t pid, const char *shm_name);
/* The same for any file by its path (an emulator's RAM file): compared by
 * device, inode and last path component. */
int rpk_pid_maps_file(uint32_t pid, const char *path);

/* Milliseconds of a monotonic clock. */
uint32_t rpk_posix_now_ms(void);

#endif
