/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A static link's header (include/rpk/link_header.h, docs/static-links.md):
 * the remote lays it out before its table, and each side tells whether the
 * other was built from its devicetree. The handshake after that is the one
 * of a remote that booted by itself, in the table the header holds.
 */
#include <stdio.h>

#include <rpk/errno.h>
#include <rpk/link_header.h>

#include "node/node_internal.h"

static void *shared_header(const struct rpk_node *n)
{
	return n->view[RPK_REG_RSC];
}

void node_publish_link_header(struct rpk_node *n)
{
	rpk_link_hdr_write(shared_header(n), n->link_hash, &n->port.port);
}

/*
 * Master: the header is one of our version, from a remote built from our
 * devicetree. Our hash goes into it either way, so a remote of another
 * devicetree refuses us too (node_master_refused) instead of waiting.
 * -RPK_EAGAIN: the remote is laying its header out again.
 */
int node_check_link_header(struct rpk_node *n, char *err, size_t errlen)
{
	const char *path = node_region(n, RPK_REG_RSC)->path;
	struct rpk_link_hdr h;
	int rc = rpk_link_hdr_read(shared_header(n), &h, &n->port.port);

	if (rc == -RPK_ENOENT) {
		/* Between two looks while a static remote lays its header out
		 * again; for good under the table of a remote that is none. */
		snprintf(err, errlen,
			 "%s: no link header under the remote's table (a remote of a devicetree "
			 "where this region is a \"rsc-table\"?)\n",
			 path);
		return -RPK_EAGAIN;
	}
	if (rc == -RPK_EPROTO) {
		snprintf(err, errlen,
			 "%s: the link header is of the other byte order (magic 0x%08x): the "
			 "remote runs big-endian where we run little-endian, or the reverse\n",
			 path, h.magic);
		return -RPK_ENOEXEC;
	}
	if (rc) {
		snprintf(err, errlen,
			 "%s: link header version %u with its table at 0x%x (0x%x bytes): we "
			 "speak version %u, table at 0x%x (0x%x bytes)\n",
			 path, h.version, h.table_offset, h.table_size, RPK_LINK_VERSION,
			 RPK_LINK_TABLE_OFFSET, RPK_LINK_TABLE_SIZE);
		return -RPK_ENOEXEC;
	}
	rpk_link_hdr_set_master_hash(shared_header(n), n->link_hash, &n->port.port);
	if (h.layout_hash != n->link_hash) {
		rpk_bell_ring(n->port.tx); /* the remote sees our hash now */
		snprintf(err, errlen,
			 "%s: the remote was built from another devicetree (layout hash 0x%08x, "
			 "ours 0x%08x): both sides of a static link take its layout from one "
			 "devicetree\n",
			 path, h.layout_hash, n->link_hash);
		return -RPK_ENOEXEC;
	}
	return 0;
}

/* Remote: a master of another devicetree wrote its hash; said once per hash. */
int node_master_refused(struct rpk_node *n)
{
	struct rpk_link_hdr h;

	/* Our own header unreadable (overwritten): nothing to say about a master. */
	if (rpk_link_hdr_read(shared_header(n), &h, &n->port.port) || !h.master_hash ||
	    h.master_hash == n->link_hash)
		return 0;
	if (h.master_hash != n->refused_hash)
		rpk_node_log(n,
			     "refusing the master: it was built from another devicetree (layout "
			     "hash 0x%08x, ours 0x%08x)",
			     h.master_hash, n->link_hash);
	n->refused_hash = h.master_hash;
	return 1;
}

int node_refusal(struct rpk_node *n, char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "%s: the master was built from another devicetree (layout hash 0x%08x, ours "
		 "0x%08x): both sides of a static link take its layout from one devicetree\n",
		 node_region(n, RPK_REG_RSC)->path, n->refused_hash, n->link_hash);
	return -RPK_EPROTO;
}

/*
 * Remote of a symmetric link: the master of session s reset the link (no
 * DRIVER_OK) and will serve our send ring from its start: lay it out anew
 * for it, then say so. Once per session; called with life held, link down.
 */
void node_ack_ring(struct rpk_node *n, uint32_t s)
{
	if (!s || s == n->ring_acked || rpk_rpmsg_lay_out(&n->dev))
		return;
	rpk_link_hdr_set_ring_ack(shared_header(n), s, &n->port.port);
	n->ring_acked = s;
	rpk_bell_ring(n->port.tx);
}

/*
 * The remote we attach to acknowledged our session, and is still that
 * remote: the header we checked (its hash, ours in it; a remote that
 * restarted meanwhile laid out a new one, without ours) and its session.
 * A remote that left stops the wait too: the attach starts over.
 */
static int ring_acked(struct rpk_node *n, uint32_t *session)
{
	struct rpk_link_hdr h;
	int same = !rpk_link_hdr_read(shared_header(n), &h, &n->port.port) &&
		   h.layout_hash == n->link_hash && h.master_hash == n->link_hash &&
		   rpk_bell_session(n->port.rx) == n->peer_session;

	*session = (uint32_t)same;
	return !same || h.ring_ack == n->my_session;
}

/*
 * Master of a symmetric link: before DRIVER_OK, the remote's send ring must
 * be laid out for our session (we serve it from index 0). A remote that
 * does not answer within RING_ACK_MS is tried again later (-RPK_EAGAIN).
 */
int node_wait_ring_ack(struct rpk_node *n, char *err, size_t errlen)
{
	uint32_t s;
	int rc;

	rpk_bell_ring(n->port.tx); /* our new session, for a remote that sleeps */
	rc = node_wait_for(n, ring_acked, RING_ACK_MS, &s);
	if (!rc && !s) {
		snprintf(err, errlen,
			 "%s: the remote laid its link header out again while we attached\n",
			 node_region(n, RPK_REG_RSC)->path);
		return -RPK_EAGAIN;
	}
	if (rc == -RPK_ETIMEDOUT) {
		snprintf(err, errlen,
			 "%s: the remote did not lay its send ring out for our session %u within "
			 "%u ms\n",
			 node_region(n, RPK_REG_RSC)->path, n->my_session, RING_ACK_MS);
		return -RPK_EAGAIN;
	}
	if (rc)
		snprintf(err, errlen, "%s: interrupted while waiting for the remote's ring\n",
			 node_region(n, RPK_REG_RSC)->path);
	return rc;
}
