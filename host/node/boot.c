/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Master: booting a remote from an ELF image (Linux's rproc_fw_boot), stopping
 * it, and booting it again after a crash.
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

/* ---- master: auto-boot ---- */

struct fw_alloc {
	struct rpk_node *n;
	int vdev;      /* entry of the rpmsg vdev */
	uint64_t next; /* carveouts: first free byte of the firmware region */
	uint64_t end;
};

/* The rpmsg vdev's rings go to the link's vring regions; carveouts to what
 * the image left free in rpk,firmware-region. */
static uint32_t fw_alloc(void *priv, uint32_t index, int vring, uint32_t len, uint32_t align)
{
	struct fw_alloc *a = priv;
	uint64_t da;

	if (vring >= 0) {
		const struct rpk_region *r = node_region(a->n, RPK_REG_VRING0 + (vring ? 1 : 0));

		/* A table holds 32-bit addresses: a region above 4 GiB cannot be named. */
		return (int)index == a->vdev && vring < 2 && len <= r->size &&
			       r->da + len < RPK_FW_RSC_ADDR_ANY
			   ? (uint32_t)r->da
			   : RPK_FW_RSC_ADDR_ANY;
	}
	da = (a->next + align - 1) & ~(uint64_t)(align - 1);
	if (da + len > a->end || da + len > RPK_FW_RSC_ADDR_ANY)
		return RPK_FW_RSC_ADDR_ANY;
	a->next = da + len;
	return (uint32_t)da;
}

/* Where a firmware may load: the link's regions and rpk,firmware-region. */
static unsigned fw_windows(struct rpk_node *n, struct rpk_mem_window *w)
{
	unsigned count = 0;

	/* The loader writes memory as a DMA would: the shm itself, not our
	 * cached view (the table goes in afterwards through the view). */
	for (int k = 0; k < RPK_REG_COUNT; k++)
		w[count++] = (struct rpk_mem_window){node_region(n, k)->da, node_region(n, k)->size,
						     n->shm[k].va};
	if (n->fw_shm.va)
		w[count++] =
		    (struct rpk_mem_window){n->lay->regions[n->ln->firmware].da,
					    n->lay->regions[n->ln->firmware].size, n->fw_shm.va};
	return count;
}

/* First byte past what the image loads into the firmware region. */
static uint64_t fw_loaded_end(struct rpk_node *n, struct rpk_elf *e)
{
	const struct rpk_region *fr = &n->lay->regions[n->ln->firmware];
	struct rpk_elf_segment seg;
	uint64_t end = fr->da;

	for (uint32_t i = 0; rpk_elf_segment(e, i, &seg) == 0; i++)
		if (seg.type == RPK_PT_LOAD && seg.da >= fr->da && seg.da < fr->da + fr->size &&
		    seg.da + seg.memsz > end)
			end = seg.da + seg.memsz;
	return end;
}

/* The image's table, with what it left to us assigned, in a private copy. */
static int fw_table(struct rpk_node *n, struct rpk_elf *e, uint8_t *copy, size_t *size, char *err,
		    size_t errlen)
{
	const struct rpk_region *rr = node_region(n, RPK_REG_RSC);
	uint64_t want = rr->da + rr->rsc_offset;
	struct rpk_elf_section sec;
	struct rpk_rsc_problem why;
	struct fw_alloc a = {.n = n};
	int rc;

	if (rpk_elf_find_section(e, ".resource_table", &sec) || sec.type == RPK_SHT_NOBITS ||
	    !sec.size) {
		snprintf(err, errlen, "firmware: no .resource_table section with contents\n");
		return -RPK_ENOEXEC;
	}
	if (sec.addr != want || sec.size > rr->rsc_size) {
		snprintf(err, errlen,
			 "firmware: .resource_table is at 0x%llx (0x%llx bytes); %s puts the table "
			 "at 0x%llx (at most 0x%x bytes)\n",
			 (unsigned long long)sec.addr, (unsigned long long)sec.size, rr->path,
			 (unsigned long long)want, rr->rsc_size);
		return -RPK_ENOEXEC;
	}
	memset(copy, 0, rr->rsc_size);
	memcpy(copy, e->img + sec.offset, sec.size);
	*size = sec.size;
	if (rpk_rsc_validate(copy, sec.size, &why) < 0) {
		snprintf(err, errlen, "firmware: bad resource table (entry %d): %s\n", why.entry,
			 why.what);
		return -RPK_ENOEXEC;
	}
	a.vdev = rpk_rsc_find_vdev(copy, RPK_VIRTIO_ID_RPMSG);
	if (a.vdev < 0) {
		snprintf(err, errlen, "firmware: the resource table has no rpmsg vdev\n");
		return -RPK_ENOEXEC;
	}
	if (n->fw_shm.va) {
		a.next = fw_loaded_end(n, e);
		a.end = n->lay->regions[n->ln->firmware].da + n->lay->regions[n->ln->firmware].size;
	}
	rc = rpk_rsc_assign(copy, fw_alloc, &a, &why);
	if (rc)
		snprintf(err, errlen, "firmware: resource table entry %d: %s\n", why.entry,
			 why.what);
	return rc;
}

/* Load the firmware we keep and install its table (Linux's rproc_fw_boot). */
static int load_firmware(struct rpk_node *n, char *err, size_t errlen)
{
	const struct rpk_region *rr = node_region(n, RPK_REG_RSC);
	struct rpk_mem_window w[RPK_REG_COUNT + 1];
	struct rpk_mem mem = {w, 0};
	struct rpk_elf e;
	uint8_t *copy = malloc(rr->rsc_size);
	size_t size = 0;
	int rc;

	if (!copy)
		return -RPK_ENOMEM;
	rc = rpk_elf_open(&e, n->fw_img, n->fw_size);
	if (rc)
		snprintf(err, errlen, "firmware: bad ELF image: %s\n", e.why);
	else if ((rc = rpk_elf_check_byte_order(&e)))
		snprintf(err, errlen, "firmware: %s\n", e.why); /* before its table is read */
	if (!rc)
		rc = fw_table(n, &e, copy, &size, err, errlen);
	if (!rc) {
		mem.count = fw_windows(n, w);
		rc = rpk_elf_load(&e, &mem);
		if (rc)
			snprintf(err, errlen, "firmware: %s\n", e.why);
	}
	/* The loaded table is the image's: ours replaces it, version word last. */
	if (!rc)
		rc = rpk_rsc_publish(node_rsc_shared(n), rr->rsc_size, copy, size, &n->port.port);
	free(copy);
	return rc;
}

/* Load and start the remote, then take the table it runs with; life held. */
static int boot_locked(struct rpk_node *n, uint32_t timeout_ms, char *err, size_t errlen)
{
	int rc = load_firmware(n, err, errlen);

	if (rc)
		return rc;
	/* Whatever session the mailbox holds belongs to an earlier remote. */
	n->bad_session = rpk_bell_session(n->port.rx);
	n->have_bad = 1;
	/* The table is ours until the remote takes it: only its signature
	 * says it did (an unsigned firmware cannot be booted on the host). */
	n->need_signed = 1;
	rc = n->opts.start_remote(n->opts.rproc_priv);
	if (rc) {
		snprintf(err, errlen, "cannot start the remote: %s\n", rpk_strerror(rc));
		return rc;
	}
	rc = node_wait_and_attach(n, timeout_ms, err, errlen);
	if (rc) {
		n->opts.stop_remote(n->opts.rproc_priv);
		node_set_state(n, RPK_NODE_OFFLINE);
		return rc;
	}
	rpk_node_log(n, "firmware booted");
	return 0;
}

int rpk_node_boot(struct rpk_node *n, const void *img, size_t size, uint32_t timeout_ms, char *err,
		  size_t errlen)
{
	int rc;

	if (n->ln->role != RPK_ROLE_MASTER || !n->opts.start_remote || !n->opts.stop_remote) {
		snprintf(err, errlen,
			 "%s: only a master with start/stop operations boots a remote\n",
			 n->ln->path);
		return -RPK_EINVAL;
	}
	pthread_mutex_lock(&n->life);
	if (rpk_node_state(n) != RPK_NODE_OFFLINE) {
		snprintf(err, errlen, "%s: can only boot an offline remote (it is %s)\n",
			 n->ln->path, rpk_node_state_name(rpk_node_state(n)));
		pthread_mutex_unlock(&n->life);
		return -RPK_EINVAL;
	}
	free(n->fw_img);
	n->fw_img = malloc(size ? size : 1);
	n->fw_size = size;
	if (!n->fw_img) {
		pthread_mutex_unlock(&n->life);
		return -RPK_ENOMEM;
	}
	memcpy(n->fw_img, img, size);
	rc = boot_locked(n, timeout_ms, err, errlen);
	pthread_mutex_unlock(&n->life);
	return rc ? rc : node_start_thread(n);
}

/* A crashed remote we booted: stop what is left of it, load, start again. */
void node_recover(struct rpk_node *n)
{
	char err[512];

	n->opts.stop_remote(n->opts.rproc_priv);
	rpk_node_log(n, "recovering: loading the firmware again");
	if (boot_locked(n, RECOVER_MS, err, sizeof(err))) {
		rpk_node_log(n, "recovery failed: %s", err);
		node_set_state(n, RPK_NODE_OFFLINE);
	}
}

int rpk_node_stop(struct rpk_node *n)
{
	enum rpk_node_state s;
	int rc = 0;

	pthread_mutex_lock(&n->life);
	s = rpk_node_state(n);
	if (n->ln->role != RPK_ROLE_MASTER || !n->fw_img ||
	    (s != RPK_NODE_RUNNING && s != RPK_NODE_CRASHED)) {
		rc = -RPK_EINVAL;
	} else {
		/* Reset the device, stop the processor, then the rings start
		 * over: a remote still running could write them after that. */
		if (s == RPK_NODE_RUNNING)
			rpk_vdev_write_status(n->vdev, 0, &n->port.port);
		n->opts.stop_remote(n->opts.rproc_priv);
		if (s == RPK_NODE_RUNNING)
			node_link_lost(n, RPK_NODE_OFFLINE);
		node_set_state(n, RPK_NODE_OFFLINE);
	}
	pthread_mutex_unlock(&n->life);
	return rc;
}
