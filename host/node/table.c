/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The resource table as a node sees it: a remote lays its table out (or
 * takes the one its master installed), and a master checks a table's copy.
 */
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rpk/errno.h>

#include "node/node_internal.h"

static void init_trace(struct rpk_node *n)
{
	const struct rpk_region *rr = node_region(n, RPK_REG_RSC);

	if (!rr->trace_size)
		return;
	pthread_mutex_lock(&n->trace_mu);
	rpk_trace_init(&n->trace, (char *)n->view[RPK_REG_RSC] + rr->trace_offset, rr->trace_size,
		       &n->port.port);
	pthread_mutex_unlock(&n->trace_mu);
}

/* Check the table's vdev against the devicetree; fills num/align. */
static int check_vdev(struct rpk_node *n, const struct rpk_fw_rsc_vdev *v, uint32_t *num,
		      uint32_t *align, char *err, size_t errlen)
{
	const char *path = node_region(n, RPK_REG_RSC)->path;

	if (v->num_of_vrings < 2) {
		snprintf(err, errlen, "%s: rpmsg vdev has %u vrings, needs 2\n", path,
			 v->num_of_vrings);
		return -RPK_ENOEXEC;
	}
	*num = v->vring[0].num;
	*align = v->vring[0].align;
	if (v->vring[1].num != *num || v->vring[1].align != *align ||
	    !rpk_vring_size(*num, *align)) {
		snprintf(err, errlen,
			 "%s: vrings must have the same power-of-two size (<= %u) and "
			 "alignment (got %u/%u and %u/%u)\n",
			 path, RPK_VRING_MAX_NUM, *num, *align, v->vring[1].num, v->vring[1].align);
		return -RPK_ENOEXEC;
	}
	if (n->ln->vring_num && (n->ln->vring_num != *num || n->ln->vring_align != *align)) {
		snprintf(err, errlen,
			 "%s: table says vrings of %u aligned to %u, the devicetree "
			 "%u aligned to %u\n",
			 path, *num, *align, n->ln->vring_num, n->ln->vring_align);
		return -RPK_ENOEXEC;
	}
	for (int q = 0; q < 2; q++) {
		const struct rpk_region *r = node_region(n, RPK_REG_VRING0 + q);

		if (v->vring[q].da != r->da || rpk_vring_size(*num, *align) > r->size) {
			snprintf(err, errlen,
				 "%s: vring%d at 0x%x (0x%zx bytes) is not the region "
				 "%s\n",
				 path, q, v->vring[q].da, rpk_vring_size(*num, *align), r->path);
			return -RPK_ENOEXEC;
		}
	}
	if (n->cache && *align < RPK_SIM_LINE) {
		snprintf(err, errlen,
			 "%s: vring alignment %u is below the %u-byte cache line, and this node "
			 "caches the shared memory: the avail and used rings would share lines\n",
			 path, *align, RPK_SIM_LINE);
		return -RPK_ENOEXEC;
	}
	if (rpk_layout_own_pool_size(n->ln, *num) > node_region(n, RPK_REG_BUFFER)->size) {
		snprintf(err, errlen,
			 "%s: buffer pool too small for vrings of %u %u-byte buffers\n",
			 node_region(n, RPK_REG_BUFFER)->path, *num, n->ln->buf_size);
		return -RPK_ENOEXEC;
	}
	return 0;
}

/* ---- remote: lay out the table, wait for the master ---- */

int node_publish_table(struct rpk_node *n, char *err, size_t errlen)
{
	const struct rpk_region *rr = node_region(n, RPK_REG_RSC);
	struct rpk_rsc_table_hdr *shared = node_rsc_shared(n);
	struct rpk_rsc_builder b;
	struct rpk_fw_rsc_vdev *v;
	uint8_t *tbl = calloc(1, rr->rsc_size);
	int size;

	if (!tbl)
		return -RPK_ENOMEM;
	/* Exactly the entries we add: finishing compacts unused offset slots. */
	rpk_rsc_build_init(&b, tbl, rr->rsc_size, rr->trace_size ? 2 : 1);
	if (rr->trace_size)
		rpk_rsc_add_trace(&b, (uint32_t)(rr->da + rr->trace_offset), rr->trace_size,
				  "rpk-trace");
	v = rpk_rsc_add_vdev(&b, RPK_VIRTIO_ID_RPMSG, VDEV_NOTIFYID, node_features(), 2, 0);
	for (uint8_t q = 0; q < 2; q++)
		rpk_rsc_vdev_set_vring(v, q, (uint32_t)node_region(n, RPK_REG_VRING0 + q)->da,
				       n->ln->vring_align, n->ln->vring_num, q);
	size = rpk_rsc_build_finish(&b);
	if (size < 0) {
		snprintf(err, errlen, "%s: resource table does not fit rpk,rsc-size 0x%x\n",
			 rr->path, rr->rsc_size);
		free(tbl);
		return size;
	}
	if (n->ln->static_link)
		node_publish_link_header(n);
	rpk_rsc_publish(shared, rr->rsc_size, tbl, (size_t)size, &n->port.port);
	/* Our private copy gives the vdev's place; the shared one is the
	 * master's to scribble on by now. */
	n->vdev = (struct rpk_fw_rsc_vdev *)((char *)shared + ((uint8_t *)v - tbl));
	free(tbl);
	init_trace(n);
	/* A new session tells a master that knew an earlier one that we rebooted. */
	rpk_node_log(n, "resource table published at 0x%llx, session %u",
		     (unsigned long long)(rr->da + rr->rsc_offset), node_sign_session(n));
	rpk_bell_ring(n->port.tx);
	return 0;
}

/* A table copy's rpmsg vdev: the whole table validated, then the vdev checked
 * against the link. what names the table in errors. */
int node_table_vdev(struct rpk_node *n, const uint8_t *copy, const char *what,
		    const struct rpk_fw_rsc_vdev **v, uint32_t *num, uint32_t *align, char *err,
		    size_t errlen)
{
	const struct rpk_region *rr = node_region(n, RPK_REG_RSC);
	struct rpk_rsc_problem why;
	int idx;

	if (rpk_rsc_validate(copy, rr->rsc_size, &why) < 0) {
		snprintf(err, errlen, "%s: bad %s (entry %d): %s\n", rr->path, what, why.entry,
			 why.what);
		return -RPK_ENOEXEC;
	}
	idx = rpk_rsc_find_vdev(copy, RPK_VIRTIO_ID_RPMSG);
	if (idx < 0) {
		snprintf(err, errlen, "%s: %s has no rpmsg vdev\n", rr->path, what);
		return -RPK_ENOEXEC;
	}
	*v = rpk_rsc_entry(copy, (uint32_t)idx, NULL);
	return check_vdev(n, *v, num, align, err, errlen);
}

/*
 * Remote, booted: the master loaded our firmware and installed its table,
 * with the addresses it chose. Check it as a master checks a self-booted
 * remote's table (it is shared memory all the same) and take its vdev.
 */
int node_take_installed_table(struct rpk_node *n, char *err, size_t errlen)
{
	const struct rpk_region *rr = node_region(n, RPK_REG_RSC);
	const struct rpk_fw_rsc_vdev *v;
	uint32_t num, align;
	uint8_t *copy = malloc(rr->rsc_size);
	int rc = -RPK_ENOEXEC;

	if (!copy)
		return -RPK_ENOMEM;
	if (n->ln->static_link) {
		snprintf(err, errlen,
			 "%s: a static link's remote starts by itself: no master boots it\n",
			 n->ln->path);
		goto out;
	}
	if (!rpk_rsc_is_published(node_rsc_shared(n), &n->port.port)) {
		snprintf(err, errlen, "%s: booted, but no table is installed at 0x%llx\n", rr->path,
			 (unsigned long long)(rr->da + rr->rsc_offset));
		goto out;
	}
	rpk_rsc_snapshot(copy, rr->rsc_size, node_rsc_shared(n), rr->rsc_size, &n->port.port);
	rc = node_table_vdev(n, copy, "installed table", &v, &num, &align, err, errlen);
	if (rc)
		goto out;
	n->vdev =
	    (struct rpk_fw_rsc_vdev *)((char *)node_rsc_shared(n) + ((const uint8_t *)v - copy));
	init_trace(n);
	rpk_node_log(n, "booted with the table installed at 0x%llx, session %u",
		     (unsigned long long)(rr->da + rr->rsc_offset), node_sign_session(n));
	rpk_bell_ring(n->port.tx);
out:
	free(copy);
	return rc;
}

/* ---- master: attach to the remote's table ---- */

/*
 * Master: the published table is one no master took yet: its rpmsg vdev,
 * found in a private copy (a rebooted remote may lay it out differently),
 * has a status without DRIVER_OK.
 */
int node_table_laid_out_anew(struct rpk_node *n)
{
	const struct rpk_region *rr = node_region(n, RPK_REG_RSC);
	const struct rpk_fw_rsc_vdev *v;
	struct rpk_rsc_problem why;
	uint8_t *copy = malloc(rr->rsc_size);
	int idx, fresh = 0;

	if (!copy)
		return 0;
	rpk_rsc_snapshot(copy, rr->rsc_size, node_rsc_shared(n), rr->rsc_size, &n->port.port);
	if (rpk_rsc_validate(copy, rr->rsc_size, &why) >= 0 &&
	    (idx = rpk_rsc_find_vdev(copy, RPK_VIRTIO_ID_RPMSG)) >= 0) {
		v = rpk_rsc_entry(copy, (uint32_t)idx, NULL);
		fresh =
		    !(v->status & (RPK_VIRTIO_STATUS_DRIVER_OK | RPK_VIRTIO_STATUS_NEEDS_RESET));
	}
	free(copy);
	return fresh;
}
