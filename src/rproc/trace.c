/* SPDX-License-Identifier: BSD-3-Clause */
#include <rpk/errno.h>
#include <rpk/trace.h>

#include "common/byteorder.h"
#include "common/shm.h"

static uint32_t pow2_floor(uint32_t v)
{
	uint32_t p = 1;

	while (p <= v / 2)
		p *= 2;
	return p;
}

int rpk_trace_init(struct rpk_trace *t, void *buf, uint32_t len, const struct rpk_port *port)
{
	uint32_t epoch;

	if (!buf || ((uintptr_t)buf & 3u) || len < RPK_TRACE_HDR_SIZE + 16u)
		return -RPK_EINVAL;
	t->hdr = buf;
	t->data = (char *)buf + RPK_TRACE_HDR_SIZE;
	t->size = pow2_floor(len - RPK_TRACE_HDR_SIZE);
	t->head = 0;
	t->port = port;
	shm_invalidate(port, t->hdr, RPK_TRACE_HDR_SIZE);
	if (read_once32(&t->hdr->magic) == RPK_TRACE_MAGIC &&
	    read_once32(&t->hdr->size) == t->size) {
		/* A reboot: go on after the last run's lines, which say why it
		 * ended, rather than wipe them before anyone read them. */
		t->head = read_once32(&t->hdr->head);
		return 0;
	}
	/* A new layout: a new epoch tells readers to start over. */
	epoch =
	    read_once32(&t->hdr->magic) == RPK_TRACE_MAGIC ? read_once32(&t->hdr->epoch) + 1 : 1;
	/* Readers see no magic while the header is half written. */
	store_release32(&t->hdr->magic, 0);
	write_once32(&t->hdr->size, t->size);
	write_once32(&t->hdr->epoch, epoch);
	store_release32(&t->hdr->head, 0);
	store_release32(&t->hdr->magic, RPK_TRACE_MAGIC);
	shm_clean(port, t->hdr, RPK_TRACE_HDR_SIZE);
	return 0;
}

/* Copy n bytes between a ring and a flat buffer, starting at ring offset at. */
static void ring_put(char *ring, uint32_t size, uint32_t at, const char *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		ring[(at + i) & (size - 1)] = s[i];
}

static void ring_get(const char *ring, uint32_t size, uint32_t at, char *out, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		out[i] = ((const volatile char *)ring)[(at + i) & (size - 1)];
}

void rpk_trace_write(struct rpk_trace *t, const char *s, size_t n)
{
	uint32_t len = n > t->size ? t->size : (uint32_t)n;

	if (!t->hdr || !len)
		return;
	s += n - len;
	t->head += (uint32_t)(n - len); /* what does not fit counts as written and lost */
	ring_put(t->data, t->size, t->head, s, len);
	shm_clean(t->port, t->data, t->size);
	t->head += len;
	/* The text is visible before the head that covers it. */
	store_release32(&t->hdr->head, t->head);
	shm_clean(t->port, &t->hdr->head, sizeof(uint32_t));
}

/* A header word as the writer meant it. */
static uint32_t in_order(int swapped, uint32_t v)
{
	return swapped ? swap32(v) : v;
}

int rpk_trace_read(const void *buf, uint32_t len, struct rpk_trace_cursor *cur, char *out,
		   size_t cap, uint32_t *lost, const struct rpk_port *port)
{
	uint32_t *pos = &cur->pos, epoch;
	const struct rpk_trace_hdr *h = buf;
	const char *data = (const char *)buf + RPK_TRACE_HDR_SIZE;
	uint32_t size, head, again, avail, n, skip, magic;
	int swapped;

	*lost = 0;
	if (!buf || ((uintptr_t)buf & 3u) || len < RPK_TRACE_HDR_SIZE)
		return -RPK_EBADMSG;
	shm_invalidate(port, h, RPK_TRACE_HDR_SIZE);
	/* A writer of the other byte order (an observer of a misconfigured
	 * link) wrote the same header byte-swapped; its text is bytes. */
	magic = load_acquire32(&h->magic);
	swapped = magic == swap32(RPK_TRACE_MAGIC);
	if (magic != RPK_TRACE_MAGIC && !swapped)
		return -RPK_EBADMSG;
	size = in_order(swapped, read_once32(&h->size));
	if (!size || (size & (size - 1)) || size > len - RPK_TRACE_HDR_SIZE)
		return -RPK_EBADMSG;
	epoch = in_order(swapped, read_once32(&h->epoch));
	head = in_order(swapped, load_acquire32(&h->head));
	/* A new epoch, or a head gone back: the writer started over. */
	if (epoch != cur->epoch || head - *pos > 0x80000000u) {
		cur->epoch = epoch;
		*pos = 0;
	}
	avail = head - *pos;
	if (avail > size) {
		*lost = avail - size;
		*pos = head - size;
		avail = size;
	}
	n = avail < cap ? avail : (uint32_t)cap;
	shm_invalidate(port, data, size);
	ring_get(data, size, *pos, out, n);
	/* Whatever the writer reached meanwhile may have overwritten our start. */
	shm_invalidate(port, &h->head, sizeof(uint32_t));
	again = in_order(swapped, load_acquire32(&h->head));
	if (load_acquire32(&h->magic) != magic ||
	    in_order(swapped, read_once32(&h->epoch)) != epoch) {
		cur->epoch = 0; /* laid out anew during our copy: none of it counts */
		return 0;
	}
	skip = again - *pos > size ? again - *pos - size : 0;
	if (skip > n)
		skip = n;
	for (uint32_t i = skip; i < n; i++)
		out[i - skip] = out[i];
	*lost += skip;
	*pos += n;
	return (int)(n - skip);
}
