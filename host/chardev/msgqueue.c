// SPDX-License-Identifier: BSD-3-Clause
#include "msgqueue.h"

#include <string.h>

void rpk_msgq_init(struct rpk_msgq *q, enum rpk_dev_mode mode, uint8_t *bytes, uint16_t *lens)
{
	memset(q, 0, sizeof(*q));
	q->mode = mode;
	q->bytes = bytes;
	q->lens = lens;
}

static void copy_in(struct rpk_msgq *q, const uint8_t *src, uint32_t len)
{
	uint32_t tail = (q->head + q->used) % RPK_MSGQ_BYTES;
	uint32_t first = RPK_MSGQ_BYTES - tail < len ? RPK_MSGQ_BYTES - tail : len;

	memcpy(q->bytes + tail, src, first);
	memcpy(q->bytes, src + first, len - first);
	q->used += len;
}

/* Copy out len bytes from the head (buf NULL: skip them). */
static void copy_out(struct rpk_msgq *q, uint8_t *buf, uint32_t len)
{
	uint32_t first = RPK_MSGQ_BYTES - q->head < len ? RPK_MSGQ_BYTES - q->head : len;

	if (buf) {
		memcpy(buf, q->bytes + q->head, first);
		memcpy(buf + first, q->bytes, len - first);
	}
	q->head = (q->head + len) % RPK_MSGQ_BYTES;
	q->used -= len;
}

int rpk_msgq_push(struct rpk_msgq *q, const void *data, size_t len)
{
	if (len > UINT16_MAX || len > RPK_MSGQ_BYTES - q->used ||
	    (q->mode == RPK_DEV_MESSAGE && q->mcount == RPK_MSGQ_MSGS)) {
		q->dropped++;
		return -1;
	}
	copy_in(q, data, (uint32_t)len);
	if (q->mode == RPK_DEV_MESSAGE) {
		q->lens[(q->mhead + q->mcount) % RPK_MSGQ_MSGS] = (uint16_t)len;
		q->mcount++;
	}
	return 0;
}

size_t rpk_msgq_pop(struct rpk_msgq *q, void *buf, size_t cap)
{
	uint32_t len, take;

	if (q->mode == RPK_DEV_STREAM) {
		take = cap < q->used ? (uint32_t)cap : q->used;
		copy_out(q, buf, take);
		return take;
	}
	if (!q->mcount)
		return 0;
	len = q->lens[q->mhead];
	q->mhead = (q->mhead + 1) % RPK_MSGQ_MSGS;
	q->mcount--;
	take = cap < len ? (uint32_t)cap : len;
	copy_out(q, buf, take);
	copy_out(q, NULL, len - take);
	return take;
}

int rpk_msgq_empty(const struct rpk_msgq *q)
{
	return q->mode == RPK_DEV_STREAM ? q->used == 0 : q->mcount == 0;
}

void rpk_msgq_clear(struct rpk_msgq *q)
{
	q->head = q->used = q->mhead = q->mcount = 0;
}
