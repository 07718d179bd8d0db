/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk rsc dump: a resource table the way a porting engineer wants to read
 * it, from an ELF image (its .resource_table section), a raw table file, or
 * a running node's shared memory; and what is wrong with it. rpk rsc check
 * (a firmware's table against a devicetree) is cmd_rsc_check.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rpk/elf.h>
#include <rpk/errno.h>
#include <rpk/rsc_table.h>
#include <rpk/observe.h>
#include <rpk/virtio.h>

#include "rpk_tool.h"

#define MAX_RANGES 128

struct range {
	uint64_t da, len;
	char what[RPK_ESC_SIZE(32) + 32];
};

struct dump {
	struct range r[MAX_RANGES];
	int n;
	int problems;
};

static void problem(struct dump *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct dump *d, const char *fmt, ...)
{
	va_list ap;

	printf("  problem: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	d->problems++;
}

static void add_range(struct dump *d, uint64_t da, uint64_t len, const char *what)
{
	if (da == RPK_FW_RSC_ADDR_ANY || !len || d->n == MAX_RANGES)
		return; /* left to the master to allocate */
	d->r[d->n].da = da;
	d->r[d->n].len = len;
	snprintf(d->r[d->n].what, sizeof(d->r[d->n].what), "%s", what);
	d->n++;
}

static void check_overlaps(struct dump *d)
{
	for (int i = 0; i < d->n; i++)
		for (int j = i + 1; j < d->n; j++)
			if (d->r[i].da < d->r[j].da + d->r[j].len &&
			    d->r[j].da < d->r[i].da + d->r[i].len)
				problem(d, "%s [0x%llx..0x%llx) overlaps %s [0x%llx..0x%llx)",
					d->r[i].what, (unsigned long long)d->r[i].da,
					(unsigned long long)(d->r[i].da + d->r[i].len),
					d->r[j].what, (unsigned long long)d->r[j].da,
					(unsigned long long)(d->r[j].da + d->r[j].len));
}

static const char *addr(uint32_t a, char *buf, size_t len)
{
	if (a == RPK_FW_RSC_ADDR_ANY)
		return "ANY (master allocates)";
	snprintf(buf, len, "0x%08x", a);
	return buf;
}

static void print_status(uint8_t s)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} bits[] = {{RPK_VIRTIO_STATUS_ACKNOWLEDGE, "ACKNOWLEDGE"},
		    {RPK_VIRTIO_STATUS_DRIVER, "DRIVER"},
		    {RPK_VIRTIO_STATUS_DRIVER_OK, "DRIVER_OK"},
		    {RPK_VIRTIO_STATUS_FEATURES_OK, "FEATURES_OK"},
		    {RPK_VIRTIO_STATUS_NEEDS_RESET, "NEEDS_RESET"},
		    {RPK_VIRTIO_STATUS_FAILED, "FAILED"}};
	const char *sep = "";

	printf("status 0x%02x (", s);
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (s & bits[i].bit) {
			printf("%s%s", sep, bits[i].name);
			sep = "|";
		}
	printf("%s)", *sep ? "" : "reset");
}

static void dump_vdev(struct dump *d, const struct rpk_fw_rsc_vdev *v, int idx)
{
	char a[32], what[48], df[48], gf[48];
	int rpmsg = v->id == RPK_VIRTIO_ID_RPMSG;

	printf("[%d] vdev      id %u%s  notifyid %u  config %u bytes\n", idx, v->id,
	       rpmsg ? " (rpmsg)" : "", v->notifyid, v->config_len);
	printf("              dfeatures 0x%08x%s  gfeatures 0x%08x%s  ", v->dfeatures,
	       rpmsg ? rpk_features_text(df, sizeof(df), v->dfeatures) : "", v->gfeatures,
	       rpmsg ? rpk_features_text(gf, sizeof(gf), v->gfeatures) : "");
	print_status(v->status);
	printf("\n");
	for (int q = 0; q < v->num_of_vrings; q++) {
		const struct rpk_fw_rsc_vdev_vring *r = &v->vring[q];
		size_t size = rpk_vring_size(r->num, r->align);

		printf("              vring%d    da %s  num %u  align %u  notifyid %u", q,
		       addr(r->da, a, sizeof(a)), r->num, r->align, r->notifyid);
		if (size)
			printf("  (0x%zx bytes)", size);
		printf("\n");
		if (!size)
			problem(d,
				"vring%d: num %u and align %u must be powers of two (num <= %u, "
				"align >= 4)",
				q, r->num, r->align, RPK_VRING_MAX_NUM);
		else if (r->da != RPK_FW_RSC_ADDR_ANY && r->da % r->align)
			problem(d, "vring%d at 0x%x is not aligned to %u", q, r->da, r->align);
		else if ((uint64_t)r->da + size > 0x100000000ull && r->da != RPK_FW_RSC_ADDR_ANY)
			problem(d, "vring%d at 0x%x runs past the 32-bit address space", q, r->da);
		snprintf(what, sizeof(what), "vdev[%d] vring%d", idx, q);
		add_range(d, r->da, size, what);
	}
	if (v->id == RPK_VIRTIO_ID_RPMSG && v->num_of_vrings != 2)
		problem(d, "an rpmsg vdev needs 2 vrings, this one has %u", v->num_of_vrings);
}

static void dump_entry(struct dump *d, const void *t, size_t size, uint32_t i)
{
	uint32_t type;
	const void *e = rpk_rsc_entry(t, i, &type);
	char a[32], b[32], what[RPK_ESC_SIZE(32) + 32], name[RPK_ESC_SIZE(32)];

	switch (type) {
	case RPK_RSC_CARVEOUT:
	case RPK_RSC_DEVMEM: {
		const struct rpk_fw_rsc_carveout *c = e;

		rpk_esc_name(name, sizeof(name), c->name, sizeof(c->name));
		printf("[%u] %-9s \"%s\"  da %s  pa %s  len 0x%x  flags 0x%x\n", i,
		       rpk_rsc_type_name(type), name, addr(c->da, a, sizeof(a)),
		       addr(c->pa, b, sizeof(b)), c->len, c->flags);
		snprintf(what, sizeof(what), "%s \"%s\"", rpk_rsc_type_name(type), name);
		add_range(d, c->da, c->len, what);
		break;
	}
	case RPK_RSC_TRACE: {
		const struct rpk_fw_rsc_trace *tr = e;

		rpk_esc_name(name, sizeof(name), tr->name, sizeof(tr->name));
		printf("[%u] trace     \"%s\"  da %s  len 0x%x\n", i, name,
		       addr(tr->da, a, sizeof(a)), tr->len);
		snprintf(what, sizeof(what), "trace \"%s\"", name);
		add_range(d, tr->da, tr->len, what);
		break;
	}
	case RPK_RSC_VDEV:
		dump_vdev(d, e, (int)i);
		break;
	default:
		printf("[%u] %-9s type %u, %zu bytes\n", i, rpk_rsc_type_name(type), type,
		       rpk_rsc_entry_space(t, size, i));
		if (type < RPK_RSC_VENDOR_START)
			problem(d, "entry %u has type %u, which Linux does not know and skips", i,
				type);
	}
}

static int cpu_is_big_endian(void)
{
	const uint16_t one = 1;
	uint8_t first;

	memcpy(&first, &one, 1);
	return first == 0;
}

/* Dump a table held in private memory; returns the number of problems (or -1). */
static int dump_table(const void *t, size_t size, const char *origin)
{
	static struct dump d;
	struct rpk_rsc_problem why;
	uint8_t *native = malloc(size ? size : 1);
	int swapped = native && rpk_rsc_swap_copy(native, t, size) == 0;
	int n = rpk_rsc_validate(swapped ? native : t, size, &why);

	rpk_print_escaped(stdout, origin); /* a node's path in a devicetree, a file's name */
	printf("\n");
	/* A firmware for a CPU of the other byte order (a big-endian MIPS image
	 * looked at on an x86 host), or a link run by one: read in its order,
	 * and said, since a master on this CPU would refuse it. */
	if (swapped) {
		t = native;
		printf("byte order: %s, not this CPU's: read byte-swapped\n",
		       cpu_is_big_endian() ? "little-endian" : "big-endian");
	}
	if (n < 0) {
		printf("  error: malformed resource table");
		if (why.entry >= 0)
			printf(" (entry %d)", why.entry);
		printf(": %s\n", why.what);
		free(native);
		return -1;
	}
	memset(&d, 0, sizeof(d));
	printf("resource table: version 1, %d entr%s, 0x%zx bytes\n", n, n == 1 ? "y" : "ies",
	       size);
	for (uint32_t i = 0; i < (uint32_t)n; i++)
		dump_entry(&d, t, size, i);
	check_overlaps(&d);
	if (!d.problems)
		printf("no problems found\n");
	free(native);
	return d.problems;
}

static int dump_file(const char *path)
{
	struct rpk_elf_section sec;
	struct rpk_elf elf;
	char origin[1100];
	size_t size;
	uint8_t *img = read_whole_file("rsc", path, &size), *tbl;
	int rc;

	if (!img)
		return -1;
	if (size >= 4 && !memcmp(img, "\177ELF", 4)) {
		rc = rpk_elf_open(&elf, img, size);
		if (!rc)
			rc = rpk_elf_find_section(&elf, ".resource_table", &sec);
		if (!rc && sec.type == RPK_SHT_NOBITS)
			rc = -RPK_ENOENT; /* no bytes in the file: nothing to read */
		if (rc == -RPK_ENOENT)
			fprintf(stderr, "rpk rsc: %s: no .resource_table section with contents\n",
				path);
		else if (rc)
			fprintf(stderr, "rpk rsc: %s: bad ELF image: %s\n", path, elf.why);
		if (rc) {
			free(img);
			return -1;
		}
		snprintf(origin, sizeof(origin), "%s: ELF%d, section .resource_table at 0x%llx",
			 path, elf.is64 ? 64 : 32, (unsigned long long)sec.addr);
		tbl = malloc(sec.size ? sec.size : 1);
		if (tbl)
			memcpy(tbl, img + sec.offset, sec.size);
		rc = tbl ? dump_table(tbl, sec.size, origin) : -1;
		free(tbl);
	} else {
		snprintf(origin, sizeof(origin), "%s: raw table", path);
		rc = dump_table(img, size, origin);
	}
	free(img);
	return rc;
}

/* A running node's table, read (never created) from its shm object. */
static int dump_live(const char *dt, const char *node, const char *instance, const char *group)
{
	static struct rpk_layout lay;
	const struct rpk_region *rr;
	struct rpk_observer *o;
	char origin[300], err[1024];
	uint8_t *copy;
	int rc;

	if (load_layout(dt, &lay))
		return -1;
	rc = rpk_observer_open(&o, &lay, node, instance, group, err, sizeof(err));
	if (rc == -RPK_ENOENT) {
		fprintf(stderr, "rpk rsc: no running link for instance '%s'\n", instance);
		return -1;
	}
	if (rc) {
		fprintf(stderr, "rpk rsc: ");
		rpk_print_escaped(stderr, err);
		fprintf(stderr, "\n");
		return -1;
	}
	rr = rpk_observer_table_region(o);
	/* Raw, not validated: the dump reports what is wrong with it. */
	copy = malloc(rr->rsc_size);
	if (copy)
		rpk_observer_table_raw(o, copy, rr->rsc_size);
	snprintf(origin, sizeof(origin), "%s (instance %s): table at 0x%llx",
		 rpk_observer_node(o)->path, instance,
		 (unsigned long long)(rr->da + rr->rsc_offset));
	rc = copy ? dump_table(copy, rr->rsc_size, origin) : -1;
	free(copy);
	rpk_observer_close(o);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: rpk rsc dump FILE            an ELF image or a raw table\n"
		   "       rpk rsc dump --dt FILE --node NAME [--instance ID] [--group NAME]\n"
		   "                                    a running node (--group: a link shared\n"
		   "                                    with a group, see docs/access.md)\n"
		   "       rpk rsc check ELF --dt FILE --node NAME\n"
		   "                                    the firmware's table against the\n"
		   "                                    devicetree (rpk rsc check --help)\n\n"
		   "Print every entry of a resource table (types by name, addresses in hex,\n"
		   "vrings with size, alignment and notify id, vdev status and features\n"
		   "decoded) and flag what is wrong: a malformed table, overlapping regions,\n"
		   "vrings that cannot be. Exits 0 only for a table without problems.\n");
}

int cmd_rsc(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dt", required_argument, 0, 'd'},	     {"node", required_argument, 0, 'n'},
	    {"instance", required_argument, 0, 'i'}, {"group", required_argument, 0, 'g'},
	    {"help", no_argument, 0, 'h'},	     {0, 0, 0, 0}};
	const char *dt = NULL, *node = NULL, *instance = "default", *group = NULL;
	int c, rc;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return cmd_rsc_check(argc - 1, argv + 1);
	if (argc < 2 || strcmp(argv[1], "dump")) {
		usage(stderr);
		return 2;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dt = optarg;
			break;
		case 'n':
			node = optarg;
			break;
		case 'i':
			instance = optarg;
			break;
		case 'g':
			group = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (dt || node) {
		if (!dt || !node || optind != argc) {
			fprintf(stderr, "rpk rsc dump: a running node needs --dt and --node\n");
			return 2;
		}
		rc = dump_live(dt, node, instance, group);
	} else if (optind == argc - 1) {
		rc = dump_file(argv[optind]);
	} else {
		usage(stderr);
		return 2;
	}
	return rc == 0 ? 0 : 1;
}
