/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What an endpoint device received and nobody read yet: a bounded byte ring.
 * In message mode each message keeps its boundary (a read takes one message,
 * as Linux's rpmsg_char); in stream mode the bytes run together (a read
 * takes what has arrived, as seed 004's misc devices). A message that does
 * not fit is dropped whole and counted: a reader that stops reading costs
 * its own messages, never the link.
 */
#ifndef RPK_CHARDEV_MSGQUEUE_H
#define RPK_CHARDEV_MSGQUEUE_H

#include <stddef.h>
#include <stdint.h>

#include <rpk/layout.h>

#define RPK_MSGQ_BYTES 65536u /* bytes a device keeps for its readers */
#define RPK_MSGQ_MSGS  512u   /* messages, in message mode */

struct rpk_msgq {
	enum rpk_dev_mode mode;
	uint8_t *bytes;	  /* RPK_MSGQ_BYTES */
	uint16_t *lens;	  /* RPK_MSGQ_MSGS message lengths (message mode) */
	uint32_t head;	  /* next byte to read */
	uint32_t used;	  /* bytes queued */
	uint32_t mhead;	  /* next message to read */
	uint32_t mcount;  /* messages queued */
	uint64_t dropped; /* messages that did not fit */
};

/* Storage is the caller's (bytes: RPK_MSGQ_BYTES, lens: RPK_MSGQ_MSGS). */
void rpk_msgq_init(struct rpk_msgq *q, enum rpk_dev_mode mode, uint8_t *bytes, uint16_t *lens);
/* Queue a message of len bytes (at most 65535); 0, or -1 if it was dropped. */
int rpk_msgq_push(struct rpk_msgq *q, const void *data, size_t len);
/* Take the next message (the part beyond cap is discarded, as Linux does)
 * or, in stream mode, up to cap bytes. Returns the bytes copied; 0 when
 * empty (a queued empty message also reads as 0: rpk_msgq_empty tells). */
size_t rpk_msgq_pop(struct rpk_msgq *q, void *buf, size_t cap);
int rpk_msgq_empty(const struct rpk_msgq *q);
void rpk_msgq_clear(struct rpk_msgq *q);

#endif
