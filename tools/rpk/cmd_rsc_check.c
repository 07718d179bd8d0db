/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk rsc check: the check seed 000 did by hand with nm. Does a firmware's
 * .resource_table sit where the devicetree says, and do its vrings, carveouts
 * and trace buffer agree with the layout's regions? Every mismatch is named,
 * one line each: what, the firmware's value, the devicetree's.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpk/dtb_patch.h>
#include <rpk/elf.h>
#include <rpk/errno.h>
#include <rpk/rsc_table.h>
#include <rpk/virtio.h>

#include "rpk_tool.h"

struct check {
	const struct rpk_layout *lay;
	const struct rpk_layout_node *ln;
	const struct rpk_region *rr; /* the node's rsc-table region */
	const void *tbl;	     /* the firmware's table, in the CPU's byte order */
	int mismatches;
	int has_trace;
};

static void mismatch(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mismatch(struct check *c, const char *fmt, ...)
{
	va_list ap;

	printf("mismatch: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	c->mismatches++;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: rpk rsc check ELF --dt FILE --node NAME\n\n"
		   "Compare a firmware's .resource_table with the devicetree's layout for one\n"
		   "node: the table's address (the rsc-table region + rpk,rsc-offset) and size\n"
		   "(at most rpk,rsc-size), the rpmsg vdev's vrings (da: the vring0 and vring1\n"
		   "regions; num and align: rpk,vring-num and rpk,vring-align of the node or\n"
		   "of the link's remote), each carveout with a fixed address (the region of\n"
		   "its name, else the one holding it) and the trace buffer (rpk,trace-size).\n"
		   "Prints one line per mismatch. Exits 0 if all agree, 1 on a mismatch, 2 on\n"
		   "bad input.\n");
}

/* The ring geometry the devicetree gives this node: its own, else its remote's. */
static const struct rpk_layout_node *ring_source(const struct check *c)
{
	const struct rpk_layout_node *peer;

	if (c->ln->vring_num)
		return c->ln;
	peer = link_peer(c->lay, c->ln, RPK_ROLE_REMOTE);
	return peer && peer->vring_num ? peer : NULL;
}

static void check_vdev(struct check *c)
{
	const struct rpk_region *vr[2] = {&c->lay->regions[c->ln->region[RPK_REG_VRING0]],
					  &c->lay->regions[c->ln->region[RPK_REG_VRING1]]};
	const struct rpk_layout_node *geo = ring_source(c);
	const struct rpk_fw_rsc_vdev *v;
	uint32_t type;
	int idx = rpk_rsc_find_vdev(c->tbl, RPK_VIRTIO_ID_RPMSG);

	if (idx < 0) {
		mismatch(c, "rpmsg vdev: firmware none, devicetree vrings at 0x%llx and 0x%llx",
			 (unsigned long long)vr[0]->da, (unsigned long long)vr[1]->da);
		return;
	}
	v = rpk_rsc_entry(c->tbl, (uint32_t)idx, &type);
	if (v->num_of_vrings != 2)
		mismatch(c, "rpmsg vdev vrings: firmware %u, devicetree 2", v->num_of_vrings);
	for (int q = 0; q < 2 && q < v->num_of_vrings; q++) {
		const struct rpk_fw_rsc_vdev_vring *r = &v->vring[q];

		/* ANY: the master places it, in the region the layout gives. */
		if (r->da != RPK_FW_RSC_ADDR_ANY && r->da != vr[q]->da)
			mismatch(c, "vring%d da: firmware 0x%x, devicetree 0x%llx (%s)", q, r->da,
				 (unsigned long long)vr[q]->da, vr[q]->path);
		if (!geo)
			continue;
		if (r->num != geo->vring_num)
			mismatch(c, "vring%d num: firmware %u, devicetree %u (rpk,vring-num of %s)",
				 q, r->num, geo->vring_num, geo->path);
		if (r->align != geo->vring_align)
			mismatch(
			    c, "vring%d align: firmware %u, devicetree %u (rpk,vring-align of %s)",
			    q, r->align, geo->vring_align, geo->path);
	}
}

/* The layout's region a carveout stands for: the one of its name (Linux
 * names carveouts after their memory-region nodes), else the one holding
 * its address; NULL if none. *by_name says which. */
static const struct rpk_region *carveout_region(const struct check *c,
						const struct rpk_fw_rsc_carveout *co, int *by_name)
{
	const struct rpk_layout *lay = c->lay;

	*by_name = 1;
	for (int i = 0; i < lay->num_regions; i++) {
		const struct rpk_region *r = &lay->regions[i];
		size_t len = strcspn(r->name, "@");

		if (!r->is_mailbox && len && len < sizeof(co->name) &&
		    !strncmp(r->name, co->name, len) && !co->name[len])
			return r;
	}
	*by_name = 0;
	for (int i = 0; i < lay->num_regions; i++) {
		const struct rpk_region *r = &lay->regions[i];

		if (!r->is_mailbox && co->da >= r->da && co->da - r->da < r->size)
			return r;
	}
	return NULL;
}

static void check_carveout(struct check *c, const struct rpk_fw_rsc_carveout *co)
{
	char name[RPK_ESC_SIZE(RPK_RSC_NAME_SIZE)];
	const struct rpk_region *r;
	int by_name;

	if (co->da == RPK_FW_RSC_ADDR_ANY)
		return; /* the master allocates it */
	rpk_esc_name(name, sizeof(name), co->name, sizeof(co->name));
	r = carveout_region(c, co, &by_name);
	if (!r) {
		mismatch(c,
			 "carveout \"%s\": firmware da 0x%x len 0x%x, devicetree no region "
			 "of that name or holding it",
			 name, co->da, co->len);
		return;
	}
	if (by_name) {
		if (co->da != r->da)
			mismatch(c, "carveout \"%s\" da: firmware 0x%x, devicetree 0x%llx (%s)",
				 name, co->da, (unsigned long long)r->da, r->path);
		if (co->len != r->size)
			mismatch(c, "carveout \"%s\" len: firmware 0x%x, devicetree 0x%llx (%s)",
				 name, co->len, (unsigned long long)r->size, r->path);
	} else if (co->len > r->size - (co->da - r->da)) {
		mismatch(c,
			 "carveout \"%s\" len: firmware 0x%x from 0x%x, devicetree 0x%llx "
			 "to the end of %s",
			 name, co->len, co->da, (unsigned long long)(r->size - (co->da - r->da)),
			 r->path);
	}
}

static void check_trace(struct check *c, const struct rpk_fw_rsc_trace *tr)
{
	char name[RPK_ESC_SIZE(RPK_RSC_NAME_SIZE)];
	uint64_t da = c->rr->da + c->rr->trace_offset;

	c->has_trace = 1;
	rpk_esc_name(name, sizeof(name), tr->name, sizeof(tr->name));
	if (!c->rr->trace_size) {
		mismatch(c,
			 "trace \"%s\": firmware da 0x%x len 0x%x, devicetree none "
			 "(no rpk,trace-size on %s)",
			 name, tr->da, tr->len, c->rr->path);
		return;
	}
	if (tr->da != RPK_FW_RSC_ADDR_ANY && tr->da != da)
		mismatch(c,
			 "trace \"%s\" da: firmware 0x%x, devicetree 0x%llx (after the table "
			 "in %s)",
			 name, tr->da, (unsigned long long)da, c->rr->path);
	if (tr->len != c->rr->trace_size)
		mismatch(c, "trace \"%s\" len: firmware 0x%x, devicetree 0x%x (rpk,trace-size)",
			 name, tr->len, c->rr->trace_size);
}

static void check_table(struct check *c, const struct rpk_elf_section *sec, int entries)
{
	uint64_t want = c->rr->da + c->rr->rsc_offset;

	if (sec->addr != want)
		mismatch(c,
			 "table address: firmware 0x%llx, devicetree 0x%llx (%s + "
			 "rpk,rsc-offset 0x%x)",
			 (unsigned long long)sec->addr, (unsigned long long)want, c->rr->path,
			 c->rr->rsc_offset);
	if (sec->size > c->rr->rsc_size)
		mismatch(c,
			 "table size: firmware 0x%llx, devicetree 0x%x (rpk,rsc-size, the "
			 "room it must fit)",
			 (unsigned long long)sec->size, c->rr->rsc_size);
	check_vdev(c);
	for (uint32_t i = 0; i < (uint32_t)entries; i++) {
		uint32_t type;
		const void *e = rpk_rsc_entry(c->tbl, i, &type);

		if (type == RPK_RSC_CARVEOUT)
			check_carveout(c, e);
		else if (type == RPK_RSC_TRACE)
			check_trace(c, e);
	}
	if (c->rr->trace_size && !c->has_trace)
		mismatch(c,
			 "trace buffer: firmware none, devicetree 0x%x bytes at 0x%llx "
			 "(rpk,trace-size of %s)",
			 c->rr->trace_size, (unsigned long long)(c->rr->da + c->rr->trace_offset),
			 c->rr->path);
}

/* The firmware's table in the CPU's order, validated; NULL after a message. */
static uint8_t *firmware_table(const char *path, const uint8_t *img, size_t size,
			       struct rpk_elf_section *sec, int *entries)
{
	struct rpk_dtb_rsc rsc;
	struct rpk_rsc_problem why;
	struct rpk_elf e;
	const char *reason = NULL;
	uint8_t *tbl, *native;

	/* The same section rpk dtb patch writes into the devicetree. */
	if (rpk_dtb_rsc_from_elf(img, size, &rsc, &reason) || rpk_elf_open(&e, img, size) ||
	    rpk_elf_find_section(&e, ".resource_table", sec)) {
		fprintf(stderr, "rpk rsc check: %s: %s\n", path, reason ? reason : e.why);
		return NULL;
	}
	tbl = malloc(sec->size);
	native = malloc(sec->size);
	if (!tbl || !native) {
		fprintf(stderr, "rpk rsc check: %s: out of memory\n", path);
		free(tbl);
		free(native);
		return NULL;
	}
	memcpy(tbl, img + sec->offset, sec->size);
	/* A firmware of the other byte order (a big-endian image on this host):
	 * its values are compared as that CPU reads them. */
	if (rpk_rsc_swap_copy(native, tbl, sec->size) == 0)
		memcpy(tbl, native, sec->size);
	free(native);
	*entries = rpk_rsc_validate(tbl, sec->size, &why);
	if (*entries < 0) {
		fprintf(stderr, "rpk rsc check: %s: malformed resource table", path);
		if (why.entry >= 0)
			fprintf(stderr, " (entry %d)", why.entry);
		fprintf(stderr, ": %s\n", why.what);
		free(tbl);
		return NULL;
	}
	return tbl;
}

int cmd_rsc_check(int argc, char **argv)
{
	static const struct option opts[] = {{"dt", required_argument, 0, 'd'},
					     {"node", required_argument, 0, 'n'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	static struct rpk_layout lay;
	struct check c = {.lay = &lay};
	struct rpk_elf_section sec;
	const char *dt = NULL, *node = NULL;
	uint8_t *img, *tbl;
	size_t size;
	int ch, entries = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dt = optarg;
			break;
		case 'n':
			node = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!dt || !node || optind != argc - 1) {
		fprintf(stderr, "rpk rsc check: need one ELF image, --dt FILE and --node NAME\n");
		usage(stderr);
		return 2;
	}
	if (load_layout(dt, &lay))
		return 2;
	c.ln = rpk_layout_find(&lay, node);
	if (!c.ln) {
		fprintf(stderr, "rpk rsc check: %s has no node '%s'\n", dt, node);
		return 2;
	}
	c.rr = &lay.regions[c.ln->region[RPK_REG_RSC]];
	img = read_whole_file("rsc check", argv[optind], &size);
	if (!img)
		return 2;
	tbl = firmware_table(argv[optind], img, size, &sec, &entries);
	free(img);
	if (!tbl)
		return 2;
	c.tbl = tbl;
	printf("rpk rsc check: %s against %s (%s)\n", argv[optind], dt, c.ln->path);
	check_table(&c, &sec, entries);
	free(tbl);
	if (c.mismatches) {
		printf("%d mismatch%s\n", c.mismatches, c.mismatches == 1 ? "" : "es");
		return 1;
	}
	printf("firmware and devicetree agree: table at 0x%llx (0x%llx bytes), %d entr%s\n",
	       (unsigned long long)sec.addr, (unsigned long long)sec.size, entries,
	       entries == 1 ? "y" : "ies");
	return 0;
}
