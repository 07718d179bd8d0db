// SPDX-License-Identifier: BSD-3-Clause
/*
 * The counters as text, one "name: value" per line: interrupts (seed 004's
 * /sys/rpmsgN/interrupts: "rx:" and "tx:"), stats/link and stats/<device>.
 * Each file is a snapshot taken when it is opened.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "chardev_internal.h"

static char *format(size_t *len, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return s;
}

char *cd_text_interrupts(struct rpk_chardev *cd, size_t *len)
{
	struct rpk_node_counts c;

	rpk_node_counts(cd->node, &c);
	return format(len, "rx: %llu\ntx: %llu\n", (unsigned long long)c.rx_wakeups,
		      (unsigned long long)c.tx_kicks);
}

char *cd_text_link_stats(struct rpk_chardev *cd, size_t *len)
{
	struct rpk_node_counts c;
	struct rpk_rpmsg_stats s;
	uint64_t drops;

	rpk_node_counts(cd->node, &c);
	rpk_rpmsg_get_stats(cd->rpmsg, &s, NULL);
	pthread_mutex_lock(&cd->mu);
	drops = cd->link_drops;
	pthread_mutex_unlock(&cd->mu);
	return format(
	    len,
	    "state: %s\n"
	    "rx_msgs: %llu\ntx_msgs: %llu\n"
	    "rx_kicks: %llu\ntx_kicks: %llu\n"
	    "drops: %llu\nerrors: %llu\n"
	    "resets: %u\n",
	    rpk_node_state_name(rpk_node_state(cd->node)), (unsigned long long)c.rx_msgs,
	    (unsigned long long)c.tx_msgs, (unsigned long long)c.rx_wakeups,
	    (unsigned long long)c.tx_kicks, (unsigned long long)(s.rx_no_ept + drops),
	    (unsigned long long)(s.rx_bad_len + s.rx_bad_buf + s.ns_bad + s.tx_bad_buf + s.tx_lost),
	    c.crashes + c.link_resets);
}

char *cd_text_dev_stats(struct cd_dev *d, size_t *len)
{
	return format(len,
		      "src: 0x%x\ndst: 0x%x\nmode: %s\n"
		      "rx_msgs: %llu\nrx_bytes: %llu\ntx_msgs: %llu\ntx_bytes: %llu\n"
		      "drops: %llu\nerrors: %llu\n",
		      d->ept_live ? d->ept.addr : d->src, d->dst,
		      d->q.mode == RPK_DEV_STREAM ? "stream" : "message",
		      (unsigned long long)d->rx_msgs, (unsigned long long)d->rx_bytes,
		      (unsigned long long)d->tx_msgs, (unsigned long long)d->tx_bytes,
		      (unsigned long long)d->q.dropped, (unsigned long long)d->errors);
}
