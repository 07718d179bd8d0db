/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <libfdt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rpk/errno.h>
#include <rpk/link_header.h>
#include <rpk/virtio.h>

#include <rpk/layout.h>
#include "posix/rpk_posix.h"

#define MAX_DTB (1u << 20)
#define PAGE	0x1000u

struct ctx {
	const void *fdt;
	struct rpk_layout *lay;
	char *err;
	size_t errlen;
	size_t errused;
	int nerr;
};

static void report(struct ctx *c, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	c->nerr++;
	if (!c->err || c->errused + 1 >= c->errlen)
		return;
	n = snprintf(c->err + c->errused, c->errlen - c->errused, "%s: ", path);
	if (n > 0)
		c->errused += (size_t)n;
	if (c->errused + 1 >= c->errlen)
		return;
	va_start(ap, fmt);
	n = vsnprintf(c->err + c->errused, c->errlen - c->errused, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->errused += (size_t)n;
	if (c->errused + 1 < c->errlen) {
		c->err[c->errused++] = '\n';
		c->err[c->errused] = 0;
	} else {
		c->errused = c->errlen - 1;
	}
}

static void node_path(const struct ctx *c, int off, char *buf, size_t len)
{
	if (fdt_get_path(c->fdt, off, buf, (int)len) < 0)
		snprintf(buf, len, "<node at offset %d>", off);
}

static uint64_t read_cells(const fdt32_t *p, int cells)
{
	uint64_t v = 0;

	for (int i = 0; i < cells; i++)
		v = (v << 32) | fdt32_to_cpu(p[i]);
	return v;
}

static int get_u32(const struct ctx *c, int off, const char *name, uint32_t *v)
{
	int len;
	const fdt32_t *p = fdt_getprop(c->fdt, off, name, &len);

	if (!p || len != 4)
		return -1;
	*v = fdt32_to_cpu(*p);
	return 0;
}

/* reg = <addr size> with the parent's cell counts. */
static int read_reg(struct ctx *c, int off, const char *path, uint64_t *da, uint64_t *size)
{
	int parent = fdt_parent_offset(c->fdt, off);
	int ac = fdt_address_cells(c->fdt, parent), sc = fdt_size_cells(c->fdt, parent);
	int len;
	const fdt32_t *reg = fdt_getprop(c->fdt, off, "reg", &len);

	if (!reg) {
		report(c, path, "missing property 'reg'");
		return -1;
	}
	if (ac < 1 || ac > 2 || sc < 1 || sc > 2 || len < (ac + sc) * 4) {
		report(c, path, "'reg' must hold one <address size> pair (%d+%d cells)", ac, sc);
		return -1;
	}
	*da = read_cells(reg, ac);
	*size = read_cells(reg + ac, sc);
	return 0;
}

/* The remote's trace buffer follows its resource table, cache-line aligned. */
static void check_trace(struct ctx *c, int off, const char *path, struct rpk_region *r)
{
	if (get_u32(c, off, "rpk,trace-size", &r->trace_size)) {
		if (fdt_getprop(c->fdt, off, "rpk,trace-size", NULL))
			report(c, path, "'rpk,trace-size' must be one 32-bit cell");
		return;
	}
	r->trace_offset = (r->rsc_offset + r->rsc_size + 63u) & ~63u;
	if (r->trace_size < 64 || (uint64_t)r->trace_offset + r->trace_size > r->size)
		report(c, path,
		       "trace buffer of 0x%x bytes at offset 0x%x (after the resource table) "
		       "does not fit the 0x%llx-byte region (or is under 64 bytes)",
		       r->trace_size, r->trace_offset, (unsigned long long)r->size);
}

static void add_region(struct ctx *c, int off, int is_mailbox)
{
	struct rpk_layout *lay = c->lay;
	struct rpk_region *r;
	char path[RPK_LAYOUT_PATH];
	const char *name = fdt_get_name(c->fdt, off, NULL);

	node_path(c, off, path, sizeof(path));
	if (lay->num_regions == RPK_LAYOUT_MAX_REGIONS) {
		report(c, path, "too many regions (at most %d)", RPK_LAYOUT_MAX_REGIONS);
		return;
	}
	r = &lay->regions[lay->num_regions];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "?");
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->phandle = fdt_get_phandle(c->fdt, off);
	r->is_mailbox = is_mailbox;
	if (read_reg(c, off, path, &r->da, &r->size))
		return;
	if (!r->size)
		report(c, path, "region has size 0");
	if (r->da + r->size < r->da) {
		report(c, path, "region wraps around the end of the address space");
		r->size = 0; /* keep it out of the overlap arithmetic */
	}
	if (r->da % PAGE || r->size % PAGE)
		report(c, path,
		       "region 0x%llx+0x%llx is misaligned: base and size must be multiples "
		       "of 4 KiB",
		       (unsigned long long)r->da, (unsigned long long)r->size);
	if (!get_u32(c, off, "rpk,rsc-offset", &r->rsc_offset)) {
		r->has_rsc = 1;
		if (get_u32(c, off, "rpk,rsc-size", &r->rsc_size))
			report(c, path, "missing property 'rpk,rsc-size' (with 'rpk,rsc-offset')");
		else if (r->rsc_offset % 4 || r->rsc_size < 16 ||
			 (uint64_t)r->rsc_offset + r->rsc_size > r->size)
			report(c, path,
			       "resource table at offset 0x%x size 0x%x does not fit the "
			       "0x%llx-byte region (or is not 4-byte aligned)",
			       r->rsc_offset, r->rsc_size, (unsigned long long)r->size);
		else
			check_trace(c, off, path, r);
	}
	lay->num_regions++;
}

static void check_overlaps(struct ctx *c)
{
	const struct rpk_layout *lay = c->lay;

	for (int i = 0; i < lay->num_regions; i++)
		for (int j = i + 1; j < lay->num_regions; j++) {
			const struct rpk_region *a = &lay->regions[i], *b = &lay->regions[j];

			if (a->da < b->da + b->size && b->da < a->da + a->size)
				report(c, b->path, "overlaps %s", a->path);
		}
}

static int region_by_phandle(const struct rpk_layout *lay, uint32_t ph)
{
	for (int i = 0; i < lay->num_regions; i++)
		if (lay->regions[i].phandle == ph && ph)
			return i;
	return -1;
}

static int stringlist_index(const struct ctx *c, int off, const char *prop, const char *want)
{
	int idx = fdt_stringlist_search(c->fdt, off, prop, want);

	return idx;
}

/*
 * A static link's "link" region: its header, then the table the header
 * holds, at the places <rpk/link_header.h> fixes. The region carries no
 * rpk,rsc-offset: nobody chooses where the table goes.
 */
static void take_link_region(struct ctx *c, int reg)
{
	struct rpk_region *r;
	int off;

	if (reg < 0)
		return;
	r = &c->lay->regions[reg];
	off = fdt_path_offset(c->fdt, r->path);
	if (off >= 0 && (fdt_getprop(c->fdt, off, "rpk,rsc-offset", NULL) ||
			 fdt_getprop(c->fdt, off, "rpk,rsc-size", NULL) ||
			 fdt_getprop(c->fdt, off, "rpk,trace-size", NULL))) {
		if (!r->has_rsc || r->rsc_offset != RPK_LINK_TABLE_OFFSET ||
		    r->rsc_size != RPK_LINK_TABLE_SIZE) /* said once, for the first side */
			report(c, r->path,
			       "a \"link\" region holds a static link's header: it takes no "
			       "'rpk,rsc-offset', 'rpk,rsc-size' or 'rpk,trace-size'");
		r->has_rsc = 1;
		r->rsc_offset = RPK_LINK_TABLE_OFFSET;
		r->rsc_size = RPK_LINK_TABLE_SIZE;
		r->trace_size = 0;
		return;
	}
	if (r->size < RPK_LINK_HEADER_BYTES) {
		report(c, r->path, "a link region needs at least 0x%x bytes for its header",
		       RPK_LINK_HEADER_BYTES);
		return;
	}
	r->has_rsc = 1;
	r->rsc_offset = RPK_LINK_TABLE_OFFSET;
	r->rsc_size = RPK_LINK_TABLE_SIZE;
}

/* memory-region = <&rsc>, <&vring0>, <&vring1>, <&buffer>, optionally named. */
static void read_link_regions(struct ctx *c, int off, const char *path, struct rpk_layout_node *n)
{
	static const char *const names[RPK_REG_COUNT] = {"rsc-table", "vring0", "vring1", "buffer"};
	int len;
	const fdt32_t *mr = fdt_getprop(c->fdt, off, "memory-region", &len);
	int has_names = fdt_getprop(c->fdt, off, "memory-region-names", NULL) != NULL;

	for (int k = 0; k < RPK_REG_COUNT; k++)
		n->region[k] = -1;
	if (!mr) {
		report(c, path, "missing property 'memory-region'");
		return;
	}
	if (len != RPK_REG_COUNT * 4) {
		report(c, path,
		       "'memory-region' must list 4 regions: rsc-table, vring0, vring1, "
		       "buffer");
		return;
	}
	/* A static link names a "link" region where the table would be. */
	n->static_link = has_names && stringlist_index(c, off, "memory-region-names", "link") >= 0;
	for (int k = 0; k < RPK_REG_COUNT; k++) {
		const char *name = k == RPK_REG_RSC && n->static_link ? "link" : names[k];
		int idx = has_names ? stringlist_index(c, off, "memory-region-names", name) : k;
		uint32_t ph;

		if (idx < 0) {
			report(c, path, "'memory-region-names' lacks \"%s\"", names[k]);
			continue;
		}
		if (idx >= RPK_REG_COUNT) {
			report(c, path,
			       "'memory-region-names' puts \"%s\" at index %d, past the 4 "
			       "entries of 'memory-region'",
			       names[k], idx);
			continue;
		}
		ph = fdt32_to_cpu(mr[idx]);
		n->region[k] = region_by_phandle(c->lay, ph);
		if (n->region[k] >= 0 && c->lay->regions[n->region[k]].is_mailbox)
			n->region[k] = -1; /* a mailbox is no reserved-memory region */
		if (n->region[k] < 0)
			report(c, path,
			       "memory-region \"%s\" does not point to a reserved-memory "
			       "region",
			       name);
	}
	if (n->static_link && stringlist_index(c, off, "memory-region-names", "rsc-table") >= 0)
		report(c, path,
		       "'memory-region-names' names both a \"link\" and a \"rsc-table\": a "
		       "link is static (no resource table) or not");
	if (n->static_link)
		take_link_region(c, n->region[RPK_REG_RSC]);
	else if (n->region[RPK_REG_RSC] >= 0 && !c->lay->regions[n->region[RPK_REG_RSC]].has_rsc)
		report(c, c->lay->regions[n->region[RPK_REG_RSC]].path,
		       "missing property 'rpk,rsc-offset' (used as rsc-table by %s)", path);
	for (int a = 0; a < RPK_REG_COUNT; a++)
		for (int b = a + 1; b < RPK_REG_COUNT; b++)
			if (n->region[a] >= 0 && n->region[a] == n->region[b])
				report(c, path, "\"%s\" and \"%s\" use the same region", names[a],
				       names[b]);
}

/* rpk,firmware-region = <&region>: where an ELF firmware's segments load
 * (auto-boot); optional, and none of the link's own regions. */
static void read_firmware_region(struct ctx *c, int off, const char *path,
				 struct rpk_layout_node *n)
{
	int len;
	const fdt32_t *p = fdt_getprop(c->fdt, off, "rpk,firmware-region", &len);

	n->firmware = -1;
	if (!p)
		return;
	if (len != 4) {
		report(c, path, "'rpk,firmware-region' must be one phandle");
		return;
	}
	n->firmware = region_by_phandle(c->lay, fdt32_to_cpu(p[0]));
	if (n->firmware >= 0 && c->lay->regions[n->firmware].is_mailbox)
		n->firmware = -1;
	if (n->firmware < 0) {
		report(c, path, "'rpk,firmware-region' does not point to a reserved-memory region");
		return;
	}
	for (int k = 0; k < RPK_REG_COUNT; k++)
		if (n->region[k] == n->firmware) {
			report(c, path, "'rpk,firmware-region' is also one of its memory-region");
			n->firmware = -1;
			return;
		}
}

/* mboxes = <&mbox tx>, <&mbox rx>, named "tx" and "rx". */
static void read_link_mboxes(struct ctx *c, int off, const char *path, struct rpk_layout_node *n)
{
	int len, itx, irx;
	const fdt32_t *mb = fdt_getprop(c->fdt, off, "mboxes", &len);
	uint32_t ph_tx, ph_rx;

	n->mailbox = -1;
	if (!mb) {
		report(c, path, "missing property 'mboxes'");
		return;
	}
	if (len != 16) {
		report(c, path, "'mboxes' must be <&mailbox channel>, <&mailbox channel>");
		return;
	}
	itx = stringlist_index(c, off, "mbox-names", "tx");
	irx = stringlist_index(c, off, "mbox-names", "rx");
	if (itx < 0 || irx < 0 || itx == irx || itx > 1 || irx > 1) {
		report(c, path, "'mbox-names' must name the two doorbells \"tx\" and \"rx\"");
		return;
	}
	ph_tx = fdt32_to_cpu(mb[itx * 2]);
	ph_rx = fdt32_to_cpu(mb[irx * 2]);
	n->tx_chan = fdt32_to_cpu(mb[itx * 2 + 1]);
	n->rx_chan = fdt32_to_cpu(mb[irx * 2 + 1]);
	n->mailbox = region_by_phandle(c->lay, ph_tx);
	if (n->mailbox < 0 || ph_tx != ph_rx || !c->lay->regions[n->mailbox].is_mailbox) {
		report(c, path, "'mboxes' must point twice to one \"rpk,shm-mailbox\" node");
		n->mailbox = -1;
		return;
	}
	if (n->tx_chan == n->rx_chan)
		report(c, path, "tx and rx doorbells must be different channels");
	if (((uint64_t)n->tx_chan + 1) * RPK_BELL_STRIDE > c->lay->regions[n->mailbox].size ||
	    ((uint64_t)n->rx_chan + 1) * RPK_BELL_STRIDE > c->lay->regions[n->mailbox].size)
		report(c, path, "doorbell channel beyond the mailbox region");
}

uint64_t rpk_layout_pool_size_of(uint32_t num, uint32_t buf_size)
{
	uint32_t per_dir = num < RPK_RPMSG_MAX_BUFS / 2 ? num : RPK_RPMSG_MAX_BUFS / 2;

	return 2ull * per_dir * buf_size;
}

uint64_t rpk_layout_pool_size(uint32_t num)
{
	return rpk_layout_pool_size_of(num, RPK_RPMSG_BUF_SIZE);
}

/* rpk,buf-size: larger buffers between rpmsg-kit peers (Linux's are 512). */
static void read_buf_size(struct ctx *c, int off, const char *path, struct rpk_layout_node *n)
{
	n->buf_size = RPK_RPMSG_BUF_SIZE;
	if (!fdt_getprop(c->fdt, off, "rpk,buf-size", NULL))
		return;
	if (get_u32(c, off, "rpk,buf-size", &n->buf_size) || n->buf_size < RPK_RPMSG_BUF_SIZE ||
	    n->buf_size > RPK_LAYOUT_MAX_BUF_SIZE || n->buf_size % RPK_LAYOUT_BUF_ALIGN) {
		report(c, path, "rpk,buf-size must be one cell, a multiple of %u from %u to %u",
		       RPK_LAYOUT_BUF_ALIGN, RPK_RPMSG_BUF_SIZE, RPK_LAYOUT_MAX_BUF_SIZE);
		n->buf_size = RPK_RPMSG_BUF_SIZE;
	}
}

/* rpk,buffers = "classic" (the default) or "symmetric", on a static link. */
static void read_buffers(struct ctx *c, int off, const char *path, struct rpk_layout_node *n)
{
	int len;
	const char *v = fdt_getprop(c->fdt, off, "rpk,buffers", &len);

	n->buffers = RPK_BUFFERS_CLASSIC;
	n->peer_buffer = -1;
	if (!v)
		return;
	if (len == sizeof("symmetric") && !memcmp(v, "symmetric", len))
		n->buffers = RPK_BUFFERS_SYMMETRIC;
	else if (len != sizeof("classic") || memcmp(v, "classic", len))
		report(c, path, "rpk,buffers must be \"classic\" or \"symmetric\"");
	if (n->buffers == RPK_BUFFERS_SYMMETRIC && !n->static_link)
		report(c, path,
		       "rpk,buffers = \"symmetric\" is for static links (a \"link\" region): "
		       "toward remoteproc and Linux the master owns every buffer");
}

uint64_t rpk_layout_own_pool_size(const struct rpk_layout_node *n, uint32_t num)
{
	uint64_t both = rpk_layout_pool_size_of(num, n->buf_size);

	return n->buffers == RPK_BUFFERS_SYMMETRIC ? both / 2 : both;
}

static void check_link_rings(struct ctx *c, const char *path, const struct rpk_layout_node *n)
{
	size_t vsize = rpk_vring_size(n->vring_num, n->vring_align);

	if (!vsize) {
		report(c, path,
		       "rpk,vring-num must be a power of two up to %u and rpk,vring-align "
		       "a power of two >= 4 (got %u, %u)",
		       RPK_VRING_MAX_NUM, n->vring_num, n->vring_align);
		return;
	}
	for (int k = RPK_REG_VRING0; k <= RPK_REG_VRING1; k++) {
		const struct rpk_region *r;

		if (n->region[k] < 0)
			continue;
		r = &c->lay->regions[n->region[k]];
		if (vsize > r->size)
			report(c, r->path,
			       "a vring of %u entries aligned to %u needs 0x%zx bytes, "
			       "the region has 0x%llx",
			       n->vring_num, n->vring_align, vsize, (unsigned long long)r->size);
		if (r->da % n->vring_align)
			report(c, r->path, "vring at 0x%llx is misaligned for rpk,vring-align %u",
			       (unsigned long long)r->da, n->vring_align);
	}
	if (n->region[RPK_REG_BUFFER] >= 0) {
		const struct rpk_region *r = &c->lay->regions[n->region[RPK_REG_BUFFER]];
		uint64_t need = rpk_layout_own_pool_size(n, n->vring_num);

		if (need > r->size)
			report(c, r->path,
			       "buffer pool too small: rings of %u entries of %u-byte buffers need "
			       "0x%llx bytes%s, the region has 0x%llx",
			       n->vring_num, n->buf_size, (unsigned long long)need,
			       n->buffers == RPK_BUFFERS_SYMMETRIC ? " (one direction's: symmetric)"
								   : "",
			       (unsigned long long)r->size);
	}
}

/* The two sides of a link (one buffer pool) must cut it the same way: a
 * remote refuses a descriptor longer than its own buffer size. */
static void check_buf_sizes(struct ctx *c)
{
	const struct rpk_layout *lay = c->lay;

	for (int i = 0; i < lay->num_nodes; i++)
		for (int j = i + 1; j < lay->num_nodes; j++) {
			const struct rpk_layout_node *a = &lay->nodes[i], *b = &lay->nodes[j];

			if (a->region[RPK_REG_BUFFER] >= 0 &&
			    a->region[RPK_REG_BUFFER] == b->region[RPK_REG_BUFFER] &&
			    a->buf_size != b->buf_size)
				report(c, b->path,
				       "rpk,buf-size %u differs from %u at %s, which shares its "
				       "buffer pool",
				       b->buf_size, a->buf_size, a->path);
		}
}

/* Two sides of one static link disagree on prop: said once, on the second. */
static void differ(struct ctx *c, const struct rpk_layout_node *a, const struct rpk_layout_node *b,
		   const char *what)
{
	report(c, b->path, "%s differs from %s's: both sides of a static link say the same", what,
	       a->path);
}

/*
 * The two sides of a static link (the nodes naming one "link" region) must
 * describe it alike, as their layout hashes will be compared: say which
 * property differs here rather than "another devicetree" at run time. On a
 * symmetric link each owns a pool of its own, and learns the other's, where
 * the peer's messages lie.
 */
static void pair_static_links(struct ctx *c)
{
	struct rpk_layout *lay = c->lay;

	for (int i = 0; i < lay->num_nodes; i++) {
		struct rpk_layout_node *a = &lay->nodes[i], *b = NULL;
		int first = 1; /* a comes before b: report on b, once */

		if (!a->static_link || a->region[RPK_REG_RSC] < 0)
			continue;
		for (int j = 0; j < lay->num_nodes && !b; j++)
			if (j != i && lay->nodes[j].static_link &&
			    lay->nodes[j].region[RPK_REG_RSC] == a->region[RPK_REG_RSC]) {
				b = &lay->nodes[j];
				first = i < j;
			}
		if (!b) {
			if (a->buffers == RPK_BUFFERS_SYMMETRIC)
				report(c, a->path,
				       "a symmetric link needs its other side in the devicetree (a "
				       "node naming the same \"link\" region): its pool is where "
				       "the peer's messages lie");
			continue;
		}
		if (first && a->role == b->role)
			report(c, b->path,
			       "a link needs a master and a remote: %s has the same role", a->path);
		if (first && (a->vring_num != b->vring_num || a->vring_align != b->vring_align))
			differ(c, a, b, "rpk,vring-num or rpk,vring-align");
		if (first && (a->mailbox != b->mailbox || a->tx_chan != b->rx_chan ||
			      a->rx_chan != b->tx_chan))
			report(
			    c, b->path,
			    "its doorbells are not %s's crossed: one side's tx is the other's rx, "
			    "in one mailbox",
			    a->path);
		if (a->buffers != b->buffers) {
			if (first)
				differ(c, a, b, "rpk,buffers");
			continue;
		}
		if (a->buffers != RPK_BUFFERS_SYMMETRIC) {
			/* One pool, the master's: a differing rpk,buf-size in it is
			 * check_buf_sizes()'s to say. */
			if (first && a->region[RPK_REG_BUFFER] != b->region[RPK_REG_BUFFER])
				report(c, b->path,
				       "names another \"buffer\" region than %s: on a classic link "
				       "both sides name the master's pool",
				       a->path);
			continue;
		}
		if (a->region[RPK_REG_BUFFER] >= 0 &&
		    a->region[RPK_REG_BUFFER] == b->region[RPK_REG_BUFFER]) {
			if (first)
				report(c, b->path,
				       "on a symmetric link each side names its own \"buffer\" "
				       "region, and %s names the same",
				       a->path);
			continue;
		}
		if (first && a->buf_size != b->buf_size)
			differ(c, a, b, "rpk,buf-size");
		a->peer_buffer = b->region[RPK_REG_BUFFER];
	}
}

/*
 * With a write-back cache on either side, the used ring (the device writes
 * it) must not share a cache line with the avail ring (the driver writes it):
 * a side's write-back of its line carries its stale copy of the other's
 * index, and messages are lost or delivered twice. The legacy layout puts the
 * used ring at the first multiple of rpk,vring-align after the avail ring, so
 * the alignment must be a whole line. Sides of one link share their vrings.
 */
static void check_cached_links(struct ctx *c)
{
	const struct rpk_layout *lay = c->lay;

	for (int i = 0; i < lay->num_nodes; i++) {
		const struct rpk_layout_node *n = &lay->nodes[i], *cacher = NULL;

		if (!n->vring_align || n->vring_align >= RPK_CACHE_LINE)
			continue;
		for (int j = 0; j < lay->num_nodes && !cacher; j++) {
			const struct rpk_layout_node *m = &lay->nodes[j];

			if (m->cached &&
			    (m == n || (m->region[RPK_REG_VRING0] >= 0 &&
					m->region[RPK_REG_VRING0] == n->region[RPK_REG_VRING0])))
				cacher = m;
		}
		if (cacher)
			report(c, n->path,
			       "rpk,vring-align %u is below the %u-byte cache line, and %s caches "
			       "the shared memory (rpk,cached): the used ring would share a line "
			       "with the avail ring, and one side's write-back would overwrite "
			       "the other's index; use rpk,vring-align = <%u> or more",
			       n->vring_align, RPK_CACHE_LINE,
			       cacher == n ? "this side" : cacher->path, RPK_CACHE_LINE);
	}
}

static void read_services(struct ctx *c, int off, const char *path, struct rpk_layout_node *n)
{
	int count = fdt_stringlist_count(c->fdt, off, "rpk,services");

	for (int i = 0; i < count; i++) {
		const char *s = fdt_stringlist_get(c->fdt, off, "rpk,services", i, NULL);

		if (!s || !s[0] || strlen(s) >= RPK_NAME_SIZE) {
			report(c, path, "rpk,services: names must be 1 to %u characters",
			       RPK_NAME_SIZE - 1);
			continue;
		}
		if (n->num_services == RPK_LAYOUT_MAX_SERVICES) {
			report(c, path, "rpk,services: at most %d", RPK_LAYOUT_MAX_SERVICES);
			break;
		}
		snprintf(n->services[n->num_services++], RPK_NAME_SIZE, "%s", s);
	}
}

static void read_dev_modes(struct ctx *c, int off, const char *path, struct rpk_layout_channel *ch)
{
	int count = fdt_stringlist_count(c->fdt, off, "rpk,misc-dev-mode");

	if (count <= 0)
		return;
	if (count != 1 && count != ch->num_misc) {
		report(c, path,
		       "rpk,misc-dev-mode: one mode for all, or one per misc-dev-endpoints "
		       "entry (%d)",
		       ch->num_misc);
		return;
	}
	for (int i = 0; i < ch->num_misc; i++) {
		const char *m =
		    fdt_stringlist_get(c->fdt, off, "rpk,misc-dev-mode", count == 1 ? 0 : i, NULL);

		if (m && !strcmp(m, "stream"))
			ch->misc_mode[i] = RPK_DEV_STREAM;
		else if (m && !strcmp(m, "message"))
			ch->misc_mode[i] = RPK_DEV_MESSAGE;
		else
			report(c, path,
			       "rpk,misc-dev-mode: \"%s\", expected \"message\" or \"stream\"",
			       m ? m : "");
	}
}

/* eth-dev-endpoints: seed 004's network interfaces, one byte per endpoint. */
static void read_eth_endpoints(struct ctx *c, int off, const char *path,
			       struct rpk_layout_channel *ch)
{
	int len;
	const uint8_t *eps = fdt_getprop(c->fdt, off, "eth-dev-endpoints", &len);

	if (!eps)
		return;
	if (len > RPK_LAYOUT_MAX_DEVICES) {
		report(c, path, "eth-dev-endpoints: at most %d", RPK_LAYOUT_MAX_DEVICES);
		len = RPK_LAYOUT_MAX_DEVICES;
	}
	for (int i = 0; i < len; i++) {
		for (int j = 0; j < i; j++)
			if (eps[j] == eps[i])
				report(c, path, "eth-dev-endpoints: %u given twice", eps[i]);
		if (eps[i] == RPK_NS_ADDR)
			report(c, path, "eth-dev-endpoints: %u is the name service's address",
			       eps[i]);
		ch->eth[ch->num_eth++] = eps[i];
	}
}

/* Seed 004's channel properties: the devices `rpk up` makes (struct rpk_layout_channel). */
static void read_channel(struct ctx *c, int off, const char *path, struct rpk_layout_node *n)
{
	struct rpk_layout_channel *ch = &n->channel;
	const char *name;
	const uint8_t *eps;
	int len;

	ch->src = ch->dst = RPK_ADDR_ANY;
	eps = fdt_getprop(c->fdt, off, "misc-dev-endpoints", &len);
	if (get_u32(c, off, "channel-index", &ch->index)) {
		if (eps || fdt_getprop(c->fdt, off, "channel-src", NULL) ||
		    fdt_getprop(c->fdt, off, "eth-dev-endpoints", NULL))
			report(c, path, "channel properties need 'channel-index' (one cell)");
		return;
	}
	ch->present = 1;
	if (fdt_getprop(c->fdt, off, "channel-src", NULL) &&
	    get_u32(c, off, "channel-src", &ch->src))
		report(c, path, "channel-src takes one cell");
	if (fdt_getprop(c->fdt, off, "channel-dst", NULL) &&
	    get_u32(c, off, "channel-dst", &ch->dst))
		report(c, path, "channel-dst takes one cell");
	name = fdt_getprop(c->fdt, off, "channel-name", &len);
	if (name) {
		if (len < 2 || len > (int)RPK_NAME_SIZE || name[len - 1])
			report(c, path, "channel-name must be 1 to %u characters",
			       RPK_NAME_SIZE - 1);
		else
			memcpy(ch->name, name, (size_t)len);
	}
	read_eth_endpoints(c, off, path, ch);
	eps = fdt_getprop(c->fdt, off, "misc-dev-endpoints", &len);
	if (!eps)
		return;
	if (len > RPK_LAYOUT_MAX_DEVICES) {
		report(c, path, "misc-dev-endpoints: at most %d", RPK_LAYOUT_MAX_DEVICES);
		len = RPK_LAYOUT_MAX_DEVICES;
	}
	for (int i = 0; i < len; i++) {
		for (int j = 0; j < i; j++)
			if (eps[j] == eps[i])
				report(c, path, "misc-dev-endpoints: %u given twice", eps[i]);
		if (eps[i] == RPK_NS_ADDR)
			report(c, path, "misc-dev-endpoints: %u is the name service's address",
			       eps[i]);
		for (int j = 0; j < ch->num_eth; j++)
			if (ch->eth[j] == eps[i])
				report(c, path, "endpoint %u is both a misc and an eth device",
				       eps[i]);
		ch->misc[ch->num_misc++] = eps[i];
	}
	read_dev_modes(c, off, path, ch);
}

static int is_processor(const struct ctx *c, int off)
{
	return off >= 0 && fdt_node_check_compatible(c->fdt, off, "rpk,processor") == 0;
}

/* A side under an rpk,processor node is "PROC/LINK": link names repeat from
 * one processor to the next ("to-b"), the pair is unique. */
static void link_name(const struct ctx *c, int off, char *buf, size_t len)
{
	int parent = fdt_parent_offset(c->fdt, off);
	const char *name = fdt_get_name(c->fdt, off, NULL);

	if (is_processor(c, parent))
		snprintf(buf, len, "%s/%s", fdt_get_name(c->fdt, parent, NULL), name);
	else
		snprintf(buf, len, "%s", name);
}

static void add_link(struct ctx *c, int off)
{
	struct rpk_layout *lay = c->lay;
	struct rpk_layout_node *n;
	char path[RPK_LAYOUT_PATH];
	const char *role;
	int len;

	node_path(c, off, path, sizeof(path));
	if (lay->num_nodes == RPK_LAYOUT_MAX_NODES) {
		report(c, path, "too many link nodes (at most %d)", RPK_LAYOUT_MAX_NODES);
		return;
	}
	n = &lay->nodes[lay->num_nodes++];
	memset(n, 0, sizeof(*n));
	link_name(c, off, n->name, sizeof(n->name));
	snprintf(n->path, sizeof(n->path), "%s", path);

	role = fdt_getprop(c->fdt, off, "rpk,role", NULL);
	if (!role)
		report(c, path, "missing property 'rpk,role' (\"master\" or \"remote\")");
	else if (!strcmp(role, "master"))
		n->role = RPK_ROLE_MASTER;
	else if (!strcmp(role, "remote"))
		n->role = RPK_ROLE_REMOTE;
	else
		report(c, path, "rpk,role is \"%s\", expected \"master\" or \"remote\"", role);

	read_link_regions(c, off, path, n);
	read_firmware_region(c, off, path, n);
	read_link_mboxes(c, off, path, n);
	read_services(c, off, path, n);
	read_channel(c, off, path, n);
	if (fdt_getprop(c->fdt, off, "rpk,cached", &len)) {
		n->cached = 1;
		if (len)
			report(c, path, "'rpk,cached' takes no value");
	}

	read_buf_size(c, off, path, n);
	read_buffers(c, off, path, n);
	/* The remote lays out the rings; the master may learn them from the table. */
	if (n->static_link && n->firmware >= 0)
		report(c, path,
		       "a static link has no remoteproc to boot a firmware: drop "
		       "'rpk,firmware-region' or name a \"rsc-table\"");
	if (get_u32(c, off, "rpk,vring-num", &n->vring_num) ||
	    get_u32(c, off, "rpk,vring-align", &n->vring_align)) {
		n->vring_num = n->vring_align = 0;
		if (n->static_link)
			report(c, path,
			       "missing property 'rpk,vring-num' or 'rpk,vring-align' (both "
			       "sides of a static link give them)");
		else if (n->role == RPK_ROLE_REMOTE)
			report(c, path, "missing property 'rpk,vring-num' or 'rpk,vring-align'");
		return;
	}
	check_link_rings(c, path, n);
}

static uint32_t fnv1a(uint32_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8) {
		h ^= (uint8_t)v;
		h *= 16777619u;
	}
	return h;
}

uint32_t rpk_layout_link_hash(const struct rpk_layout *lay, const struct rpk_layout_node *n)
{
	/* The doorbells as the master names them: the same pair from either side. */
	uint32_t master_tx = n->role == RPK_ROLE_MASTER ? n->tx_chan : n->rx_chan;
	uint32_t remote_tx = n->role == RPK_ROLE_MASTER ? n->rx_chan : n->tx_chan;
	uint32_t h = 2166136261u;

	h = fnv1a(h, RPK_LINK_VERSION);
	for (int k = 0; k < RPK_REG_COUNT; k++) {
		const struct rpk_region *r = n->region[k] >= 0 ? &lay->regions[n->region[k]] : NULL;

		if (k == RPK_REG_BUFFER && n->buffers == RPK_BUFFERS_SYMMETRIC)
			continue; /* each side's own: hashed below, in one order */
		h = fnv1a(h, r ? r->da : ~0ull);
		h = fnv1a(h, r ? r->size : 0);
	}
	h = fnv1a(h, n->mailbox >= 0 ? lay->regions[n->mailbox].da : ~0ull);
	h = fnv1a(h, ((uint64_t)master_tx << 32) | remote_tx);
	h = fnv1a(h, ((uint64_t)n->vring_num << 32) | n->vring_align);
	h = fnv1a(h, n->buf_size);
	/* Symmetric: both pools, the master's first, as either side names them. */
	if (n->buffers == RPK_BUFFERS_SYMMETRIC) {
		const struct rpk_region *own = n->region[RPK_REG_BUFFER] >= 0
						   ? &lay->regions[n->region[RPK_REG_BUFFER]]
						   : NULL;
		const struct rpk_region *peer =
		    n->peer_buffer >= 0 ? &lay->regions[n->peer_buffer] : NULL;
		const struct rpk_region *m = n->role == RPK_ROLE_MASTER ? own : peer;
		const struct rpk_region *r = n->role == RPK_ROLE_MASTER ? peer : own;

		h = fnv1a(h, RPK_BUFFERS_SYMMETRIC);
		h = fnv1a(h, m ? m->da : ~0ull);
		h = fnv1a(h, r ? r->da : ~0ull);
		h = fnv1a(h, ((m ? m->size : 0) << 32) ^ (r ? r->size : 0));
	}
	return h;
}

/* The nearest rpk,processor node that holds off, or -1. */
static int enclosing_processor(const struct ctx *c, int off)
{
	for (int p = fdt_parent_offset(c->fdt, off); p >= 0; p = fdt_parent_offset(c->fdt, p))
		if (is_processor(c, p))
			return p;
	return -1;
}

static int node_by_path(const struct rpk_layout *lay, const char *path)
{
	for (int i = 0; i < lay->num_nodes; i++)
		if (!strcmp(lay->nodes[i].path, path))
			return i;
	return -1;
}

/* Sides of one link share its regions (a static link has no table of its
 * own to tell them by, so any shared region counts). */
static int same_link(const struct rpk_layout_node *a, const struct rpk_layout_node *b)
{
	for (int k = 0; k < RPK_REG_COUNT; k++)
		if (a->region[k] >= 0 && a->region[k] == b->region[k])
			return 1;
	return 0;
}

static struct rpk_layout_processor *add_processor(struct ctx *c, int off, const char *path)
{
	struct rpk_layout *lay = c->lay;
	struct rpk_layout_processor *p;

	if (lay->num_processors == RPK_LAYOUT_MAX_NODES)
		return NULL; /* read_processors says so */
	p = &lay->processors[lay->num_processors++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", fdt_get_name(c->fdt, off, NULL));
	snprintf(p->path, sizeof(p->path), "%s", path);
	return p;
}

/* An rpk,processor node: its children are its links' sides, and nothing else. */
static void read_processor(struct ctx *c, int off, const char *path)
{
	struct rpk_layout_processor *p;
	char child_path[RPK_LAYOUT_PATH];
	int child, outer = enclosing_processor(c, off);

	if (outer >= 0) {
		char outer_path[RPK_LAYOUT_PATH];

		node_path(c, outer, outer_path, sizeof(outer_path));
		report(c, path, "a processor inside processor %s: processors do not nest",
		       outer_path);
		return;
	}
	p = add_processor(c, off, path);
	if (!p)
		return;
	fdt_for_each_subnode(child, c->fdt, off)
	{
		int idx;

		node_path(c, child, child_path, sizeof(child_path));
		if (fdt_node_check_compatible(c->fdt, child, "rpk,rpmsg-link")) {
			report(c, child_path,
			       "a child of processor %s that is no link side (compatible = "
			       "\"rpk,rpmsg-link\"): a processor holds its links' sides only",
			       path);
			continue;
		}
		idx = node_by_path(c->lay, child_path);
		if (idx >= 0)
			p->links[p->num_links++] = idx;
	}
	if (!p->num_links)
		report(c, path,
		       "processor has no link sides (children with compatible = "
		       "\"rpk,rpmsg-link\")");
}

/* A link node under no processor is a processor of its own; one deeper
 * inside a processor than its children belongs to none, and is refused. */
static void read_lone_link(struct ctx *c, int off, const char *path)
{
	struct rpk_layout_processor *p;
	int idx = node_by_path(c->lay, path), outer;

	if (idx < 0 || is_processor(c, fdt_parent_offset(c->fdt, off)))
		return; /* refused already, or its processor's */
	outer = enclosing_processor(c, off);
	if (outer >= 0) {
		char outer_path[RPK_LAYOUT_PATH];

		node_path(c, outer, outer_path, sizeof(outer_path));
		report(c, path,
		       "a link side inside processor %s but not its child: a processor's "
		       "link sides are its direct children",
		       outer_path);
		return;
	}
	p = add_processor(c, off, path);
	if (p)
		p->links[p->num_links++] = idx;
}

static void check_processors(struct ctx *c)
{
	const struct rpk_layout *lay = c->lay;

	for (int i = 0; i < lay->num_processors; i++) {
		const struct rpk_layout_processor *p = &lay->processors[i];

		for (int j = 0; j < i; j++)
			if (!strcmp(lay->processors[j].name, p->name))
				report(c, p->path,
				       "processor \"%s\": %s has that name too; processor names "
				       "are unique (a link node under no rpk,processor is a "
				       "processor of its name)",
				       p->name, lay->processors[j].path);
		for (int a = 0; a < p->num_links; a++)
			for (int b = a + 1; b < p->num_links; b++) {
				const struct rpk_layout_node *x = &lay->nodes[p->links[a]];
				const struct rpk_layout_node *y = &lay->nodes[p->links[b]];

				if (same_link(x, y))
					report(c, y->path,
					       "both sides of one link in processor %s (%s shares "
					       "its regions): a link joins two processors",
					       p->path, x->path);
			}
	}
}

/* The processors, in the devicetree's order: rpk,processor nodes, and link
 * nodes under none. */
static void read_processors(struct ctx *c)
{
	char path[RPK_LAYOUT_PATH];
	int off = -1, depth = 0;

	while ((off = fdt_next_node(c->fdt, off, &depth)) >= 0) {
		int processor = is_processor(c, off);

		if (!processor && fdt_node_check_compatible(c->fdt, off, "rpk,rpmsg-link"))
			continue;
		node_path(c, off, path, sizeof(path));
		/* One more processor (not a processor's side): said once, as a
		 * hostile blob may hold thousands more. */
		if (c->lay->num_processors == RPK_LAYOUT_MAX_NODES &&
		    (processor || !is_processor(c, fdt_parent_offset(c->fdt, off)))) {
			report(c, path, "too many processors (at most %d)", RPK_LAYOUT_MAX_NODES);
			break;
		}
		if (processor)
			read_processor(c, off, path);
		else
			read_lone_link(c, off, path);
	}
	check_processors(c);
}

int rpk_layout_from_fdt(const void *fdt, size_t size, struct rpk_layout *lay, char *err,
			size_t errlen)
{
	struct ctx c = {.fdt = fdt, .lay = lay, .err = err, .errlen = errlen};
	int rm, off;

	memset(lay, 0, sizeof(*lay));
	if (err && errlen)
		err[0] = 0;
	/* fdt_check_full: the structure too, which the libfdt calls below trust.
	 * Blobs older than version 16 (dtc writes 17) are refused first: their
	 * node names are full paths, fdt_get_name() returns NULL for one without
	 * a '/', and libfdt 1.6.1's fdt_check_full() dereferences that NULL. */
	if (size < sizeof(struct fdt_header) || fdt_check_header(fdt) ||
	    fdt_totalsize(fdt) > size || fdt_version(fdt) < 16 || fdt_check_full(fdt, size)) {
		report(&c, "/", "not a valid flattened devicetree");
		return -RPK_EINVAL;
	}

	rm = fdt_path_offset(fdt, "/reserved-memory");
	if (rm < 0)
		report(&c, "/", "missing node /reserved-memory");
	else
		fdt_for_each_subnode(off, fdt, rm) add_region(&c, off, 0);

	for (off = fdt_node_offset_by_compatible(fdt, -1, "rpk,shm-mailbox"); off >= 0;
	     off = fdt_node_offset_by_compatible(fdt, off, "rpk,shm-mailbox"))
		add_region(&c, off, 1);
	check_overlaps(&c);

	for (off = fdt_node_offset_by_compatible(fdt, -1, "rpk,rpmsg-link"); off >= 0;
	     off = fdt_node_offset_by_compatible(fdt, off, "rpk,rpmsg-link"))
		add_link(&c, off);
	if (!lay->num_nodes)
		report(&c, "/", "no node with compatible = \"rpk,rpmsg-link\"");
	read_processors(&c);
	check_cached_links(&c);
	check_buf_sizes(&c);
	pair_static_links(&c);
	return c.nerr ? -RPK_EINVAL : 0;
}

/* Run dtc on a source file and collect the blob. */
static void *compile_dts(const char *path, size_t *size, char *err, size_t errlen)
{
	int pipefd[2], status;
	size_t used = 0;
	char *buf;
	pid_t pid;

	if (pipe(pipefd) < 0)
		return NULL;
	pid = fork();
	if (pid < 0)
		return NULL;
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execlp("dtc", "dtc", "-q", "-I", "dts", "-O", "dtb", "-o", "-", path, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	buf = malloc(MAX_DTB);
	while (buf) {
		ssize_t n = read(pipefd[0], buf + used, MAX_DTB - used);

		if (n <= 0)
			break;
		used += (size_t)n;
	}
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !buf) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			snprintf(err, errlen, "%s: dtc not found (Debian: device-tree-compiler)\n",
				 path);
		else
			snprintf(err, errlen, "%s: dtc could not compile it (see above)\n", path);
		free(buf);
		return NULL;
	}
	*size = used;
	return buf;
}

static void *read_file(const char *path, size_t *size, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (!f) {
		snprintf(err, errlen, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	buf = malloc(MAX_DTB);
	*size = buf ? fread(buf, 1, MAX_DTB, f) : 0;
	fclose(f);
	return buf;
}

int rpk_layout_load(const char *path, struct rpk_layout *lay, char *err, size_t errlen)
{
	size_t len = strlen(path), size = 0;
	int is_dtb = len > 4 && !strcmp(path + len - 4, ".dtb");
	void *blob;
	int rc;

	if (access(path, R_OK) < 0) {
		snprintf(err, errlen, "%s: %s\n", path, strerror(errno));
		return -RPK_ENOENT;
	}
	blob = is_dtb ? read_file(path, &size, err, errlen) : compile_dts(path, &size, err, errlen);
	if (!blob)
		return -RPK_EINVAL;
	rc = rpk_layout_from_fdt(blob, size, lay, err, errlen);
	free(blob);
	return rc;
}

const struct rpk_layout_node *rpk_layout_find(const struct rpk_layout *lay, const char *name)
{
	for (int i = 0; i < lay->num_nodes; i++)
		if (!strcmp(lay->nodes[i].name, name))
			return &lay->nodes[i];
	return NULL;
}

const struct rpk_layout_processor *rpk_layout_find_processor(const struct rpk_layout *lay,
							     const char *name)
{
	for (int i = 0; i < lay->num_processors; i++)
		if (!strcmp(lay->processors[i].name, name))
			return &lay->processors[i];
	return NULL;
}

const struct rpk_layout_node *rpk_layout_peer(const struct rpk_layout *lay,
					      const struct rpk_layout_node *n)
{
	for (int i = 0; i < lay->num_nodes; i++)
		if (&lay->nodes[i] != n && same_link(&lay->nodes[i], n))
			return &lay->nodes[i];
	return NULL;
}

const char *rpk_layout_object_name(char *buf, size_t len, const char *node)
{
	snprintf(buf, len, "%s", node);
	for (char *p = buf; *p; p++)
		if (*p == '/')
			*p = ':';
	return buf;
}
