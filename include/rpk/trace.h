/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Trace buffer (the resource table's RSC_TRACE entry): the remote writes its
 * log into a ring in shared memory, anyone may read it while it runs.
 *
 * Layout: a 16-byte header {magic "RPKT", size, head, epoch} and size
 * bytes of text, size a power of two. epoch changes each time a writer lays
 * the buffer out anew. head counts every byte written;
 * byte i lives at data[i % size]. The writer stores the text, then publishes
 * head with release semantics; a reader checks head again after copying and
 * drops what the writer may have overwritten meanwhile.
 */
#ifndef RPK_TRACE_H
#define RPK_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include <rpk/port.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The header's words are in the writer's byte order: "RPKT" in memory on a
 * little-endian CPU, "TKPR" on a big-endian one. A reader takes either. */
#define RPK_TRACE_MAGIC	   0x544b5052u
#define RPK_TRACE_HDR_SIZE 16u

struct rpk_trace_hdr {
	uint32_t magic;
	uint32_t size;
	uint32_t head;
	uint32_t epoch;
};

/* Where a reader is: the epoch it reads and the bytes it has had of it. */
struct rpk_trace_cursor {
	uint32_t epoch;
	uint32_t pos;
};

struct rpk_trace {
	struct rpk_trace_hdr *hdr;
	char *data;
	uint32_t size;
	uint32_t head;
	const struct rpk_port *port;
};

/*
 * Writer: lay out an empty trace in len bytes at buf (the ring takes the
 * largest power of two that fits after the header), or carry on after the
 * text of an earlier run if buf already holds a trace of that size (the
 * lines before a crash stay readable). Returns 0 or -RPK_EINVAL if len
 * leaves no room for text.
 */
int rpk_trace_init(struct rpk_trace *t, void *buf, uint32_t len, const struct rpk_port *port);

/* Append n bytes; a text longer than the ring keeps its end. Not thread-safe. */
void rpk_trace_write(struct rpk_trace *t, const char *s, size_t n);

/*
 * Reader: copy up to cap bytes written since the cursor into out and advance
 * it (start with a zeroed cursor). Bytes the writer overwrote before we got
 * them are skipped and counted in *lost; a writer that started over (a new
 * epoch) is read from its start. Returns the bytes copied, or -RPK_EBADMSG
 * if buf holds no trace.
 */
int rpk_trace_read(const void *buf, uint32_t len, struct rpk_trace_cursor *cur, char *out,
		   size_t cap, uint32_t *lost, const struct rpk_port *port);

#ifdef __cplusplus
}
#endif

#endif
