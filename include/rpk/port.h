/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The port interface: the only door from the core to the platform.
 *
 * A port fills a struct rpk_port_ops. Every member may be NULL, which means
 * "nothing to do" (coherent memory, a single thread, no way to sleep). The
 * core calls them at well-defined points:
 *
 *  - notify: ring the peer's doorbell after publishing ring entries the peer
 *    asked to hear about;
 *  - cache_clean / cache_invalidate: at the protocol's publish and consume
 *    points (docs/architecture.md, rule 3);
 *  - lock / unlock: serialise one class of state when several threads use
 *    one device (see enum rpk_lock); both or neither (the device takes one
 *    without the other for none); must be recursive for RPK_LOCK_RX and
 *    RPK_LOCK_EPT, since receive callbacks run under both and may create or
 *    destroy endpoints, release held buffers or read the counters;
 *  - event_snapshot / event_wait: sleep until the peer kicks us. A waiter
 *    takes a snapshot, re-checks its condition, then waits on the snapshot,
 *    so a kick between the check and the wait is never lost;
 *  - now_ms: a monotonic millisecond clock for timeouts.
 *
 * docs/porting.md says more of each.
 */
#ifndef RPK_PORT_H
#define RPK_PORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest data cache line the core allows for (buffer alignment with caches). */
#define RPK_CACHE_LINE 64u

/* Timeouts in milliseconds. */
#define RPK_NO_WAIT	 0u
#define RPK_WAIT_FOREVER 0xffffffffu

enum rpk_lock {
	RPK_LOCK_TX,  /* transmit ring state */
	RPK_LOCK_RX,  /* receive ring state */
	RPK_LOCK_EPT, /* endpoint table; held across receive callbacks */
	RPK_LOCK_COUNT
};

struct rpk_port_ops {
	void (*notify)(void *ctx, uint32_t notify_id);
	void (*cache_clean)(void *ctx, const void *addr, size_t len);
	void (*cache_invalidate)(void *ctx, const void *addr, size_t len);
	void (*lock)(void *ctx, enum rpk_lock which);
	void (*unlock)(void *ctx, enum rpk_lock which);
	uint32_t (*event_snapshot)(void *ctx);
	/* Returns 0 when woken (or the snapshot is stale), RPK_ETIMEDOUT
	 * (negative) when the time ran out. */
	int (*event_wait)(void *ctx, uint32_t snapshot, uint32_t timeout_ms);
	uint32_t (*now_ms)(void *ctx);
};

struct rpk_port {
	const struct rpk_port_ops *ops;
	void *ctx;
};

#ifdef __cplusplus
}
#endif

#endif
