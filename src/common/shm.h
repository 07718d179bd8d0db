/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Accessors for memory the peer also writes. Each read is a single access the
 * compiler may not repeat or tear (a relaxed atomic load), so a value
 * validated once stays the value used. Indices use acquire/release.
 */
#ifndef RPK_SRC_SHM_H
#define RPK_SRC_SHM_H

#include <stddef.h>
#include <stdint.h>

#include <rpk/port.h>

static inline uint16_t load_acquire16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void store_release16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline uint8_t read_once8(const uint8_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline uint16_t read_once16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline uint32_t read_once32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline uint64_t read_once64(const uint64_t *p)
{
	/* A 64-bit atomic load is not single-copy on every 32-bit target; two
	 * 32-bit halves read once each are enough since the value is validated
	 * as a whole afterwards. */
	const uint32_t *h = (const uint32_t *)(const void *)p;
	uint32_t a = read_once32(&h[0]), b = read_once32(&h[1]);
	union {
		uint32_t w[2];
		uint64_t v;
	} u = {.w = {a, b}};
	return u.v;
}

static inline void write_once16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline void write_once32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline void store_release32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline uint32_t load_acquire32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void full_barrier(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static inline void shm_clean(const struct rpk_port *port, const void *p, size_t len)
{
	if (port->ops->cache_clean)
		port->ops->cache_clean(port->ctx, p, len);
}

static inline void shm_invalidate(const struct rpk_port *port, const void *p, size_t len)
{
	if (port->ops->cache_invalidate)
		port->ops->cache_invalidate(port->ctx, p, len);
}

#endif
