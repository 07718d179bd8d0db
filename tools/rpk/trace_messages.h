/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RPK_TOOL_TRACE_MESSAGES_H
#define RPK_TOOL_TRACE_MESSAGES_H

struct trace_messages_opts {
	const char *node, *instance, *group;
	const char *pcap;    /* write a capture here instead of printing */
	unsigned long count; /* stop after this many messages (0: at Ctrl-C) */
};

/* Follow a node's messages until Ctrl-C, count or the node's end: 0, or 1
 * with what went wrong on stderr. */
int trace_messages(const struct trace_messages_opts *o);

#endif
