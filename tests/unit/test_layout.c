/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Devicetree link layouts: the shipped seed example, a second valid layout,
 * one fixture per class of mistake (tests/unit/dts/), .dtb input, and blobs
 * that are not devicetrees at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rpk/errno.h>

#include <rpk/layout.h>

#define SEED_DTS      RPK_EXAMPLES_DIR "/seed-tcc807x.dts"
#define FIXTURE(name) RPK_TEST_DATA "/unit/dts/" name

static struct rpk_layout lay, lay2;
static char err[8192];

/* ---- helpers ---- */

static const struct rpk_region *node_region(const struct rpk_layout *l,
					    const struct rpk_layout_node *n, int which)
{
	int i = n->region[which];

	assert_true(i >= 0 && i < l->num_regions);
	return &l->regions[i];
}

static const struct rpk_region *node_mailbox(const struct rpk_layout *l,
					     const struct rpk_layout_node *n)
{
	assert_true(n->mailbox >= 0 && n->mailbox < l->num_regions);
	return &l->regions[n->mailbox];
}

static int count_lines(const char *text)
{
	int n = 0;

	for (const char *p = text; *p; p++)
		if (*p == '\n')
			n++;
	return n;
}

/* Is there a line that starts with "path:" and contains every word? */
static int has_line(const char *text, const char *path, const char *word1, const char *word2)
{
	size_t plen = strlen(path);

	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[1024];

		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = 0;
			if (!strncmp(buf, path, plen) && buf[plen] == ':' &&
			    (!word1 || strcasestr(buf + plen, word1)) &&
			    (!word2 || strcasestr(buf + plen, word2)))
				return 1;
		}
		if (!end)
			break;
		line = end + 1;
	}
	return 0;
}

/* Every line of an error report names a node: it starts with '/'. */
static void check_lines_start_with_path(const char *text)
{
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');

		if (line[0] != '/')
			fail_msg("error line without a node path: %.*s",
				 (int)(end ? end - line : (long)strlen(line)), line);
		if (!end)
			break;
		line = end + 1;
	}
}

struct expect {
	const char *path;
	const char *word1;
	const char *word2;
};

/* Load a fixture that must fail; the report goes to err. */
static void load_failing(const char *file)
{
	int rc;

	memset(err, 'x', sizeof(err));
	rc = rpk_layout_load(file, &lay, err, sizeof(err));
	if (rc >= 0)
		fail_msg("%s: loaded (rc %d), expected an error; report: \"%s\"", file, rc, err);
	assert_non_null(memchr(err, 0, sizeof(err)));
	assert_true(count_lines(err) >= 1);
	check_lines_start_with_path(err);
}

/* Load a fixture that must fail, and find each expected line in the report. */
static void expect_errors(const char *file, const struct expect *want, size_t n)
{
	load_failing(file);
	for (size_t i = 0; i < n; i++)
		if (!has_line(err, want[i].path, want[i].word1, want[i].word2))
			fail_msg("%s: no line \"%s: ...%s...%s...\" in:\n%s", file, want[i].path,
				 want[i].word1 ? want[i].word1 : "",
				 want[i].word2 ? want[i].word2 : "", err);
}

#define EXPECT_ERRORS(file, ...)                                                                   \
	do {                                                                                       \
		const struct expect want_[] = {__VA_ARGS__};                                       \
		expect_errors(FIXTURE(file), want_, sizeof(want_) / sizeof(want_[0]));             \
	} while (0)

/* Compile a .dts into a temporary .dtb; returns its path (caller unlinks and frees). */
static char *compile_to_dtb(const char *dts)
{
	char *path = strdup("/tmp/rpk-test-layout-XXXXXX.dtb");
	char cmd[1024];
	int fd;

	assert_non_null(path);
	fd = mkstemps(path, 4);
	assert_true(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "dtc -q -I dts -O dtb -o '%s' '%s'", path, dts);
	if (system(cmd) != 0) {
		unlink(path);
		fail_msg("could not run: %s", cmd);
	}
	return path;
}

/* Compile a .dts and read the blob into an allocation of exactly its size. */
static void *compile_to_blob(const char *dts, size_t *size)
{
	char *path = compile_to_dtb(dts);
	FILE *f = fopen(path, "rb");
	void *blob;
	long len;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	blob = malloc((size_t)len);
	assert_non_null(blob);
	assert_int_equal(fread(blob, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	unlink(path);
	free(path);
	*size = (size_t)len;
	return blob;
}

static void check_seed(const struct rpk_layout *l)
{
	const struct rpk_layout_node *m = rpk_layout_find(l, "master");
	const struct rpk_layout_node *r = rpk_layout_find(l, "remote");
	const struct rpk_region *g;

	assert_non_null(m);
	assert_non_null(r);
	assert_int_equal(l->num_nodes, 2);
	assert_string_equal(m->path, "/master");
	assert_string_equal(r->path, "/remote");

	/* Both sides of the link see the same memory. */
	for (int k = 0; k < RPK_REG_COUNT; k++)
		assert_ptr_equal(node_region(l, m, k), node_region(l, r, k));
	assert_ptr_equal(node_mailbox(l, m), node_mailbox(l, r));

	g = node_region(l, m, RPK_REG_RSC);
	assert_string_equal(g->path, "/reserved-memory/rsc-table@200c6000");
	assert_int_equal(g->da, 0x200c6000);
	assert_int_equal(g->size, 0x2000);
	assert_true(g->has_rsc);
	assert_int_equal(g->rsc_offset, 0x3b8);
	assert_int_equal(g->rsc_size, 0x1000);
	assert_false(g->is_mailbox);

	g = node_region(l, m, RPK_REG_VRING0);
	assert_string_equal(g->path, "/reserved-memory/vdev0vring0@200c8000");
	assert_string_equal(g->name, "vdev0vring0@200c8000");
	assert_int_equal(g->da, 0x200c8000);
	assert_int_equal(g->size, 0x1000);
	assert_false(g->has_rsc);

	g = node_region(l, m, RPK_REG_VRING1);
	assert_string_equal(g->path, "/reserved-memory/vdev0vring1@200c9000");
	assert_int_equal(g->da, 0x200c9000);
	assert_int_equal(g->size, 0x1000);

	g = node_region(l, m, RPK_REG_BUFFER);
	assert_string_equal(g->path, "/reserved-memory/vdev0buffer@200ca000");
	assert_int_equal(g->da, 0x200ca000);
	assert_int_equal(g->size, 0x4000);

	g = node_mailbox(l, m);
	assert_true(g->is_mailbox);
	assert_string_equal(g->path, "/mailbox@200c5000");
	assert_int_equal(g->da, 0x200c5000);
	assert_int_equal(g->size, 0x1000);

	assert_int_equal(m->role, RPK_ROLE_MASTER);
	assert_int_equal(m->tx_chan, 0);
	assert_int_equal(m->rx_chan, 1);
	assert_int_equal(m->vring_num, 0); /* the master learns it from the resource table */
	assert_int_equal(m->num_services, 0);

	assert_int_equal(r->role, RPK_ROLE_REMOTE);
	assert_int_equal(r->tx_chan, 1);
	assert_int_equal(r->rx_chan, 0);
	assert_int_equal(r->vring_num, 16);
	/* The seeds' caches: Zephyr caches the shared memory, Linux does not;
	 * so the rings are aligned to the cache line, not the seeds' 16. */
	assert_int_equal(r->vring_align, 64);
	assert_true(r->cached);
	assert_false(m->cached);
	assert_int_equal(r->num_services, 1);
	assert_string_equal(r->services[0], "rpmsg-client-sample");
}

/* ---- valid layouts ---- */

static void test_seed_example(void **state)
{
	(void)state;
	memset(err, 'x', sizeof(err));
	assert_int_equal(rpk_layout_load(SEED_DTS, &lay, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	check_seed(&lay);
	assert_null(rpk_layout_find(&lay, "nonexistent"));
	assert_null(rpk_layout_find(&lay, ""));
	assert_null(rpk_layout_find(&lay, "/master")); /* a name, not a path */
}

/* Both sides of a static link hash the same (both give every field); any
 * change of what they must agree on (rings, buffers, a doorbell) changes it. */
static void test_link_hash(void **state)
{
	const struct rpk_layout_node *m, *r;
	uint32_t base;

	(void)state;
	assert_int_equal(
	    rpk_layout_load(RPK_TEST_DATA "/integration/static16.dts", &lay, err, sizeof(err)), 0);
	m = rpk_layout_find(&lay, "master");
	r = rpk_layout_find(&lay, "remote");
	assert_true(m->static_link && r->static_link);
	base = rpk_layout_link_hash(&lay, m);
	assert_int_equal(rpk_layout_link_hash(&lay, r), base);

	assert_int_equal(rpk_layout_load(SEED_DTS, &lay2, err, sizeof(err)), 0);
	assert_false(rpk_layout_find(&lay2, "master")->static_link);
	assert_int_not_equal(rpk_layout_link_hash(&lay2, rpk_layout_find(&lay2, "remote")), base);

	/* Edited copies of the static link's nodes: each field shifts the hash. */
	struct rpk_layout_node edit = *m;

	edit.vring_num = 8;
	assert_int_not_equal(rpk_layout_link_hash(&lay, &edit), base);
	edit = *m;
	edit.buf_size = 1024;
	assert_int_not_equal(rpk_layout_link_hash(&lay, &edit), base);
	edit = *m;
	edit.tx_chan = 2;
	assert_int_not_equal(rpk_layout_link_hash(&lay, &edit), base);
	edit = *r;
	edit.role = RPK_ROLE_MASTER; /* the doorbells read the other way round */
	assert_int_not_equal(rpk_layout_link_hash(&lay, &edit), base);
}

/* Seed 004's channel properties become the devices rpk up makes; a link
 * without them has none. */
static void test_channel_devices(void **state)
{
	const struct rpk_layout_node *m, *r;

	(void)state;
	assert_int_equal(
	    rpk_layout_load(RPK_TEST_DATA "/chardev/channel.dts", &lay, err, sizeof(err)), 0);
	m = rpk_layout_find(&lay, "master");
	r = rpk_layout_find(&lay, "remote");
	assert_non_null(m);
	assert_non_null(r);
	assert_true(m->channel.present);
	assert_int_equal(m->channel.index, 1);
	assert_int_equal(m->channel.src, 11);
	assert_int_equal(m->channel.dst, 12);
	assert_int_equal(r->channel.src, 12);
	assert_string_equal(m->channel.name, "nokia-fsproxy-channel");
	assert_int_equal(m->channel.num_misc, 2);
	assert_int_equal(m->channel.misc[0], 13);
	assert_int_equal(m->channel.misc[1], 15);
	assert_int_equal(m->channel.misc_mode[0], RPK_DEV_STREAM);
	assert_int_equal(m->channel.misc_mode[1], RPK_DEV_MESSAGE);
	assert_int_equal(rpk_layout_load(SEED_DTS, &lay, err, sizeof(err)), 0);
	assert_false(rpk_layout_find(&lay, "master")->channel.present);
	assert_int_equal(rpk_layout_find(&lay, "master")->channel.num_misc, 0);
}

static void test_valid_fixture(void **state)
{
	const struct rpk_layout_node *h, *m;
	const struct rpk_region *g;

	(void)state;
	memset(err, 'x', sizeof(err));
	if (rpk_layout_load(FIXTURE("valid.dts"), &lay, err, sizeof(err)) != 0)
		fail_msg("valid.dts rejected:\n%s", err);
	assert_string_equal(err, "");
	h = rpk_layout_find(&lay, "link-host");
	m = rpk_layout_find(&lay, "link-mcu");
	assert_non_null(h);
	assert_non_null(m);
	assert_int_equal(lay.num_nodes, 2);

	/* The remote names its regions in another order: the names decide, not the order. */
	for (int k = 0; k < RPK_REG_COUNT; k++)
		assert_ptr_equal(node_region(&lay, h, k), node_region(&lay, m, k));

	g = node_region(&lay, h, RPK_REG_RSC);
	assert_string_equal(g->path, "/reserved-memory/rsc-table@80000000");
	assert_int_equal(g->da, 0x80000000);
	assert_int_equal(g->size, 0x1000);
	assert_true(g->has_rsc);
	assert_int_equal(g->rsc_offset, 0x100);
	assert_int_equal(g->rsc_size, 0x400);
	g = node_region(&lay, h, RPK_REG_VRING0);
	assert_int_equal(g->da, 0x80010000);
	assert_int_equal(g->size, 0x2000);
	g = node_region(&lay, h, RPK_REG_VRING1);
	assert_int_equal(g->da, 0x80012000);
	assert_int_equal(g->size, 0x2000);
	g = node_region(&lay, h, RPK_REG_BUFFER);
	assert_string_equal(g->path, "/reserved-memory/buffer@80020000");
	assert_int_equal(g->da, 0x80020000);
	assert_int_equal(g->size, 0x10000);
	assert_int_equal(g->size, rpk_layout_pool_size(64)); /* exactly enough is enough */
	g = node_mailbox(&lay, h);
	assert_true(g->is_mailbox);
	assert_int_equal(g->da, 0x80001000);

	assert_int_equal(h->role, RPK_ROLE_MASTER);
	assert_int_equal(h->tx_chan, 2);
	assert_int_equal(h->rx_chan, 5);
	assert_int_equal(h->num_services, 0);
	/* mbox-names = "rx", "tx": the names decide which doorbell is which. */
	assert_int_equal(m->role, RPK_ROLE_REMOTE);
	assert_int_equal(m->tx_chan, 5);
	assert_int_equal(m->rx_chan, 2);
	assert_int_equal(m->vring_num, 64);
	assert_int_equal(m->vring_align, 4096);
	assert_int_equal(m->num_services, 3);
	assert_string_equal(m->services[0], "svc-a");
	assert_string_equal(m->services[1], "rpmsg-tty");
	assert_string_equal(m->services[2], "rpmsg-client-sample");
}

static void test_valid_64bit_cells(void **state)
{
	const struct rpk_layout_node *h;
	const struct rpk_region *g;

	(void)state;
	if (rpk_layout_load(FIXTURE("valid-64bit.dts"), &lay, err, sizeof(err)) != 0)
		fail_msg("valid-64bit.dts rejected:\n%s", err);
	h = rpk_layout_find(&lay, "link-host");
	assert_non_null(h);
	g = node_region(&lay, h, RPK_REG_BUFFER);
	assert_int_equal(g->da, 0x180020000ull);
	assert_int_equal(g->size, 0x10000);
	g = node_region(&lay, h, RPK_REG_RSC);
	assert_int_equal(g->da, 0x80000000);
	assert_int_equal(g->size, 0x1000);
	g = node_mailbox(&lay, h);
	assert_int_equal(g->da, 0x80001000);
}

/* rpk,cached says which side caches; alignment 16 stays legal where none does. */
static void test_cached_sides(void **state)
{
	const struct rpk_layout_node *h, *m;

	(void)state;
	memset(err, 'x', sizeof(err));
	if (rpk_layout_load(FIXTURE("cached-remote.dts"), &lay, err, sizeof(err)) != 0)
		fail_msg("cached-remote.dts: %s", err);
	h = rpk_layout_find(&lay, "link-host");
	m = rpk_layout_find(&lay, "link-mcu");
	assert_non_null(h);
	assert_non_null(m);
	assert_false(h->cached);
	assert_true(m->cached);
	assert_int_equal(m->vring_align, 64);

	if (rpk_layout_load(FIXTURE("coherent-align16.dts"), &lay, err, sizeof(err)) != 0)
		fail_msg("coherent-align16.dts: %s", err);
	m = rpk_layout_find(&lay, "link-mcu");
	assert_non_null(m);
	assert_false(m->cached);
	assert_int_equal(m->vring_align, 16);
}

static void test_pool_size(void **state)
{
	(void)state;
	/* Linux: 2 * min(num, MAX_RPMSG_NUM_BUFS / 2) buffers of 512 bytes. */
	assert_int_equal(rpk_layout_pool_size(1), 2 * 1 * 512);
	assert_int_equal(rpk_layout_pool_size(16), 2 * 16 * 512);
	assert_int_equal(rpk_layout_pool_size(64), 0x10000);
	assert_int_equal(rpk_layout_pool_size(256), 2 * 256 * 512);
	assert_int_equal(rpk_layout_pool_size(512), 2 * 256 * 512);
	assert_int_equal(rpk_layout_pool_size(0xffffffffu), 2 * 256 * 512);
}

static void test_dtb_input(void **state)
{
	char *dtb = compile_to_dtb(SEED_DTS);
	int rc;

	(void)state;
	memset(err, 'x', sizeof(err));
	rc = rpk_layout_load(dtb, &lay, err, sizeof(err));
	unlink(dtb);
	free(dtb);
	if (rc != 0)
		fail_msg("seed .dtb rejected (%d):\n%s", rc, err);
	assert_string_equal(err, "");
	check_seed(&lay);

	/* The same layout as from the source. */
	assert_int_equal(rpk_layout_load(SEED_DTS, &lay2, err, sizeof(err)), 0);
	assert_memory_equal(&lay, &lay2, sizeof(lay));
}

static void test_dtb_garbage_file(void **state)
{
	char path[] = "/tmp/rpk-test-layout-XXXXXX.dtb";
	int fd = mkstemps(path, 4);
	static const char junk[] = "this is not a flattened devicetree\n";
	int rc;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk) - 1), (ssize_t)(sizeof(junk) - 1));
	close(fd);
	err[0] = 0;
	rc = rpk_layout_load(path, &lay, err, sizeof(err));
	unlink(path);
	assert_true(rc < 0);
	assert_true(err[0] != 0);
}

/* ---- one fixture per class of mistake ---- */

static void test_error_overlap(void **state)
{
	(void)state;
	load_failing(FIXTURE("overlap.dts"));
	/* Reported on either region, naming the other. */
	if (!has_line(err, "/reserved-memory/vring1@80012000", "overlap",
		      "/reserved-memory/vring0@80010000") &&
	    !has_line(err, "/reserved-memory/vring0@80010000", "overlap",
		      "/reserved-memory/vring1@80012000"))
		fail_msg("no overlap line naming vring0 and vring1 in:\n%s", err);
}

static void test_error_vring_too_big(void **state)
{
	(void)state;
	EXPECT_ERRORS("vring-too-big.dts", {"/reserved-memory/vring0@80010000", "needs", "256"},
		      {"/reserved-memory/vring1@80012000", "needs", "256"});
	assert_int_equal(count_lines(err), 2);
}

static void test_error_pool_too_small(void **state)
{
	(void)state;
	EXPECT_ERRORS("pool-too-small.dts",
		      {"/reserved-memory/buffer@80020000", "too small", NULL});
	assert_int_equal(count_lines(err), 1);
}

static void test_error_misaligned(void **state)
{
	(void)state;
	EXPECT_ERRORS("misaligned.dts", {"/reserved-memory/vring1@80012000", "misaligned", NULL},
		      {"/reserved-memory/buffer@80020000", "misaligned", NULL});
}

static void test_error_missing_properties(void **state)
{
	(void)state;
	EXPECT_ERRORS("missing-reg.dts", {"/reserved-memory/vring1@80012000", "missing", "'reg'"});
	EXPECT_ERRORS("missing-role.dts", {"/link-host", "missing", "rpk,role"});
	assert_int_equal(count_lines(err), 1);
	EXPECT_ERRORS("missing-memory-region.dts", {"/link-mcu", "missing", "memory-region"});
	assert_int_equal(count_lines(err), 1);
	EXPECT_ERRORS("missing-mboxes.dts", {"/link-host", "missing", "mboxes"});
	assert_int_equal(count_lines(err), 1);
	EXPECT_ERRORS("missing-vring-num.dts", {"/link-mcu", "missing", "rpk,vring-num"});
	assert_int_equal(count_lines(err), 1);
	EXPECT_ERRORS("missing-rsc-size.dts",
		      {"/reserved-memory/rsc-table@80000000", "missing", "rpk,rsc-size"});
	EXPECT_ERRORS("missing-rsc-offset.dts",
		      {"/reserved-memory/rsc-table@80000000", "missing", "rpk,rsc-offset"});
}

static void test_error_rsc_does_not_fit(void **state)
{
	(void)state;
	EXPECT_ERRORS("rsc-too-big.dts",
		      {"/reserved-memory/rsc-table@80000000", "does not fit", NULL});
	assert_int_equal(count_lines(err), 1);
}

static void test_error_trace(void **state)
{
	(void)state;
	EXPECT_ERRORS("trace-too-big.dts", {"/reserved-memory/rsc-table@80000000",
					    "trace buffer of 0xc01 bytes at offset "
					    "0x400",
					    "does not fit"});
	assert_int_equal(count_lines(err), 1);
	EXPECT_ERRORS("trace-bad-cells.dts",
		      {"/reserved-memory/rsc-table@80000000", "rpk,trace-size", "one 32-bit cell"});
	assert_int_equal(count_lines(err), 1);
}

static void test_error_firmware_region(void **state)
{
	(void)state;
	EXPECT_ERRORS(
	    "firmware-region-bad.dts",
	    {"/link-host", "'rpk,firmware-region' does not point to a reserved-memory region"},
	    {"/link-mcu", "'rpk,firmware-region' is also one of its memory-region"});
	assert_int_equal(count_lines(err), 2);
	EXPECT_ERRORS("firmware-region-cells.dts",
		      {"/link-host", "'rpk,firmware-region' must be one phandle"});
	assert_int_equal(count_lines(err), 1);
}

/* A ring alignment below the cache line where either side caches: the avail
 * and used rings would share a line (tests/unit/test_cache_sim.c). */
static void test_error_cached_align(void **state)
{
	(void)state;
	EXPECT_ERRORS(
	    "cached-align16.dts",
	    {"/link-mcu", "rpk,vring-align 16 is below the 64-byte cache line", "this side"});
	assert_int_equal(count_lines(err), 1);
	EXPECT_ERRORS("cached-peer-align16.dts",
		      {"/link-mcu", "rpk,vring-align 16 is below the 64-byte cache line",
		       "/link-host caches"});
	assert_int_equal(count_lines(err), 1);
	EXPECT_ERRORS("cached-value.dts", {"/link-mcu", "'rpk,cached' takes no value"});
	assert_int_equal(count_lines(err), 1);
}

static void test_error_bad_role(void **state)
{
	(void)state;
	EXPECT_ERRORS("bad-role.dts", {"/link-host", "rpk,role", "\"slave\""});
	assert_int_equal(count_lines(err), 1);
}

static void test_error_memory_region_not_reserved(void **state)
{
	(void)state;
	/* The mailbox has a reg and a phandle, but it is no reserved-memory region. */
	EXPECT_ERRORS("memory-region-mailbox.dts", {"/link-host", "reserved-memory", "vring1"});
	EXPECT_ERRORS("memory-region-not-region.dts", {"/link-mcu", "reserved-memory", "vring1"});
}

static void test_error_names_beyond_list(void **state)
{
	(void)state;
	/* A name whose index is past the phandle list must not read past the property. */
	EXPECT_ERRORS("memory-region-names-extra.dts",
		      {"/link-host", "memory-region-names", "buffer"});
	EXPECT_ERRORS("mbox-names-extra.dts", {"/link-host", "mbox-names", NULL});
}

static void test_error_mbox_not_mailbox(void **state)
{
	(void)state;
	EXPECT_ERRORS("mbox-not-mailbox.dts", {"/link-host", "mailbox", NULL});
	assert_int_equal(count_lines(err), 1);
}

static void test_error_several_all_reported(void **state)
{
	(void)state;
	EXPECT_ERRORS("several-errors.dts", {"/link-host", "rpk,role", "slave"},
		      {"/link-mcu", "mboxes", NULL},
		      {"/reserved-memory/buffer@80020000", "misaligned", NULL});
	assert_int_equal(count_lines(err), 3);
}

static void test_error_report_truncated_safely(void **state)
{
	size_t size;
	void *blob = compile_to_blob(FIXTURE("several-errors.dts"), &size);
	char full[4096];
	int rc_full;

	(void)state;
	rc_full = rpk_layout_from_fdt(blob, size, &lay, full, sizeof(full));
	assert_true(rc_full < 0);
	assert_int_equal(count_lines(full), 3);
	/* Every size from nothing to enough: never a byte past errlen, always terminated. */
	for (size_t len = 0; len <= strlen(full) + 1; len++) {
		char *small = malloc(len + 1);
		int rc;

		assert_non_null(small);
		memset(small, '#', len + 1);
		rc = rpk_layout_from_fdt(blob, size, &lay, small, len);
		assert_int_equal(rc, rc_full);
		assert_int_equal(small[len], '#');
		if (len) {
			assert_non_null(memchr(small, 0, len));
			assert_int_equal(strncmp(small, full, strlen(small)), 0);
		}
		free(small);
	}
	assert_int_equal(rpk_layout_from_fdt(blob, size, &lay, NULL, 0), rc_full);
	free(blob);
}

/* ---- inputs that are not layouts ---- */

static void test_dtc_cannot_compile(void **state)
{
	int rc;

	(void)state;
	err[0] = 0;
	rc = rpk_layout_load(FIXTURE("syntax-error.dts"), &lay, err, sizeof(err));
	assert_true(rc < 0);
	if (!strstr(err, FIXTURE("syntax-error.dts")))
		fail_msg("the file name is missing from: \"%s\"", err);
}

static void test_missing_file(void **state)
{
	static const char *const missing[] = {FIXTURE("no-such-file.dts"),
					      "/nonexistent-dir/layout.dtb"};

	(void)state;
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		int rc;

		err[0] = 0;
		rc = rpk_layout_load(missing[i], &lay, err, sizeof(err));
		assert_true(rc < 0);
		if (!strstr(err, missing[i]))
			fail_msg("the file name is missing from: \"%s\"", err);
	}
}

static uint32_t prng(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Parse size bytes of data from an allocation of exactly that size (ASan sees overreads). */
static int parse_exact(const void *data, size_t size)
{
	void *copy = malloc(size ? size : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, data, size);
	err[0] = 0;
	rc = rpk_layout_from_fdt(copy, size, &lay, err, sizeof(err));
	free(copy);
	assert_non_null(memchr(err, 0, sizeof(err)));
	return rc;
}

static void test_garbage_blobs(void **state)
{
	static const size_t sizes[] = {0, 1, 4, 39, 40, 41, 100, 1000, 4096};
	uint32_t seed = 0x9e3779b9u;
	uint8_t junk[4096];

	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (int round = 0; round < 20; round++) {
			for (size_t i = 0; i < sizes[s]; i++)
				junk[i] = (uint8_t)prng(&seed);
			assert_true(parse_exact(junk, sizes[s]) < 0);
			assert_true(err[0] != 0);
			/* The right magic and random everything else. */
			if (sizes[s] >= 4) {
				memcpy(junk, "\xd0\x0d\xfe\xed", 4);
				assert_true(parse_exact(junk, sizes[s]) < 0);
				assert_true(err[0] != 0);
			}
		}
}

static void test_truncated_and_oversized_blobs(void **state)
{
	size_t size;
	uint8_t *blob = compile_to_blob(FIXTURE("valid.dts"), &size);

	(void)state;
	assert_int_equal(parse_exact(blob, size), 0);
	for (size_t cut = 0; cut < size; cut++) {
		if (parse_exact(blob, cut) >= 0)
			fail_msg("a blob cut to %zu of %zu bytes was accepted", cut, size);
		assert_true(err[0] != 0);
	}
	/* totalsize (big-endian, bytes 4..7) claims more than the buffer holds. */
	{
		uint8_t *big = malloc(size);
		const uint32_t claims[] = {(uint32_t)size + 1u, (uint32_t)size + 4096u, 0x7fffffffu,
					   0xffffffffu};

		assert_non_null(big);
		for (size_t k = 0; k < sizeof(claims) / sizeof(claims[0]); k++) {
			memcpy(big, blob, size);
			big[4] = (uint8_t)(claims[k] >> 24);
			big[5] = (uint8_t)(claims[k] >> 16);
			big[6] = (uint8_t)(claims[k] >> 8);
			big[7] = (uint8_t)claims[k];
			assert_true(parse_exact(big, size) < 0);
			assert_true(err[0] != 0);
		}
		free(big);
	}
	free(blob);
}

/* Flip every byte of a valid blob: any verdict is fine, a crash or overread is not. */
static void test_mutated_blobs(void **state)
{
	size_t size;
	uint8_t *blob = compile_to_blob(FIXTURE("valid.dts"), &size);
	uint8_t *t = malloc(size);
	unsigned accepted = 0, rejected = 0;

	(void)state;
	assert_non_null(t);
	for (size_t pos = 0; pos < size; pos++) {
		const uint8_t values[3] = {0, 0xff, (uint8_t)(blob[pos] + 1u)};

		for (int k = 0; k < 3; k++) {
			int rc;

			memcpy(t, blob, size);
			t[pos] = values[k];
			rc = parse_exact(t, size);
			if (rc < 0) {
				assert_true(err[0] != 0);
				rejected++;
				continue;
			}
			accepted++;
			assert_true(lay.num_nodes > 0 && lay.num_nodes <= RPK_LAYOUT_MAX_NODES);
			for (int i = 0; i < lay.num_nodes; i++) {
				for (int r = 0; r < RPK_REG_COUNT; r++)
					assert_true(lay.nodes[i].region[r] >= 0 &&
						    lay.nodes[i].region[r] < lay.num_regions);
				assert_true(lay.nodes[i].mailbox >= 0 &&
					    lay.nodes[i].mailbox < lay.num_regions);
			}
		}
	}
	assert_true(accepted > 0);
	assert_true(rejected > 0);
	free(t);
	free(blob);
}

/* ---- topologies: processors and their links (rpk,processor) ---- */

#define EXPECT_TOPOLOGY_ERRORS(file, ...)                                                          \
	do {                                                                                       \
		const struct expect want_[] = {__VA_ARGS__};                                       \
		expect_errors(RPK_TEST_DATA "/topology/" file, want_,                              \
			      sizeof(want_) / sizeof(want_[0]));                                   \
	} while (0)

static const struct rpk_layout_node *link_of(const struct rpk_layout *l,
					     const struct rpk_layout_processor *p, int i)
{
	assert_true(i < p->num_links && p->links[i] >= 0 && p->links[i] < l->num_nodes);
	return &l->nodes[p->links[i]];
}

/* Seed 003: A master of B and C, B remote of A and master of C, C remote of both. */
static void test_topology_three_processors(void **state)
{
	static const char *const procs[3] = {"a", "b", "c"};
	static const char *const names[3][2] = {
	    {"a/to-b", "a/to-c"}, {"b/to-a", "b/to-c"}, {"c/to-a", "c/to-b"}};
	static const enum rpk_role roles[3][2] = {{RPK_ROLE_MASTER, RPK_ROLE_MASTER},
						  {RPK_ROLE_REMOTE, RPK_ROLE_MASTER},
						  {RPK_ROLE_REMOTE, RPK_ROLE_REMOTE}};
	char obj[64];

	(void)state;
	if (rpk_layout_load(RPK_EXAMPLES_DIR "/topology-abc.dts", &lay, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(lay.num_nodes, 6);
	assert_int_equal(lay.num_processors, 3);
	for (int i = 0; i < 3; i++) {
		const struct rpk_layout_processor *p = &lay.processors[i];

		assert_string_equal(p->name, procs[i]);
		assert_ptr_equal(rpk_layout_find_processor(&lay, p->name), p);
		assert_int_equal(p->num_links, 2);
		for (int k = 0; k < 2; k++) {
			const struct rpk_layout_node *n = link_of(&lay, p, k);

			assert_string_equal(n->name, names[i][k]);
			assert_int_equal(n->role, roles[i][k]);
			assert_ptr_equal(rpk_layout_find(&lay, names[i][k]), n);
		}
	}
	/* Each side's peer is the other processor's side of the same link. */
	assert_string_equal(rpk_layout_peer(&lay, rpk_layout_find(&lay, "a/to-b"))->name, "b/to-a");
	assert_string_equal(rpk_layout_peer(&lay, rpk_layout_find(&lay, "c/to-b"))->name, "b/to-c");
	assert_string_equal(rpk_layout_peer(&lay, rpk_layout_find(&lay, "c/to-a"))->name, "a/to-c");
	assert_null(rpk_layout_find(&lay, "to-b"));
	assert_null(rpk_layout_find_processor(&lay, "a/to-b"));
	assert_string_equal(rpk_layout_object_name(obj, sizeof(obj), "a/to-b"), "a:to-b");
}

/* Four processors, every two linked: three links each, six in all. */
static void test_topology_full_mesh(void **state)
{
	(void)state;
	if (rpk_layout_load(RPK_EXAMPLES_DIR "/topology-mesh4.dts", &lay, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(lay.num_nodes, 12);
	assert_int_equal(lay.num_processors, 4);
	for (int i = 0; i < 4; i++) {
		const struct rpk_layout_processor *p = &lay.processors[i];

		assert_int_equal(p->num_links, 3);
		for (int k = 0; k < 3; k++) {
			const struct rpk_layout_node *n = link_of(&lay, p, k);
			const struct rpk_layout_node *peer = rpk_layout_peer(&lay, n);

			assert_non_null(peer);
			assert_int_not_equal(peer->role, n->role);
			assert_ptr_equal(rpk_layout_peer(&lay, peer), n);
			/* Masters come first in the boot chain: a before b before c before d. */
			assert_int_equal(n->role, strcmp(n->name, peer->name) < 0
						      ? RPK_ROLE_MASTER
						      : RPK_ROLE_REMOTE);
		}
	}
}

/* A devicetree of one link: each side a processor of its own, names kept. */
static void test_topology_lone_links(void **state)
{
	(void)state;
	assert_int_equal(rpk_layout_load(SEED_DTS, &lay, err, sizeof(err)), 0);
	assert_int_equal(lay.num_processors, 2);
	assert_string_equal(lay.processors[0].name, "master");
	assert_string_equal(lay.processors[0].path, "/master");
	assert_int_equal(lay.processors[0].num_links, 1);
	assert_string_equal(lay.nodes[lay.processors[0].links[0]].name, "master");
	assert_string_equal(lay.processors[1].name, "remote");
	assert_string_equal(lay.nodes[lay.processors[1].links[0]].name, "remote");
}

static void test_topology_errors(void **state)
{
	(void)state;
	EXPECT_TOPOLOGY_ERRORS("nested-link.dts",
			       {"/a/sides", "a child of processor /a that is no link side"},
			       {"/a", "processor has no link sides"},
			       {"/a/sides/to-b", "inside processor /a but not its child"});
	assert_int_equal(count_lines(err), 3);
	EXPECT_TOPOLOGY_ERRORS("nested-processor.dts",
			       {"/a/b", "a child of processor /a that is no link side"},
			       {"/a/b", "a processor inside processor /a"});
	assert_int_equal(count_lines(err), 2);
	EXPECT_TOPOLOGY_ERRORS("duplicate-name.dts",
			       {"/soc/a", "processor \"a\": /a has that name too"});
	assert_int_equal(count_lines(err), 1);
	EXPECT_TOPOLOGY_ERRORS("empty-processor.dts", {"/c", "processor has no link sides"});
	assert_int_equal(count_lines(err), 1);
	EXPECT_TOPOLOGY_ERRORS(
	    "same-processor.dts",
	    {"/a/remote-side", "both sides of one link in processor /a", "/a/master-side shares"});
	assert_int_equal(count_lines(err), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seed_example),
	    cmocka_unit_test(test_link_hash),
	    cmocka_unit_test(test_channel_devices),
	    cmocka_unit_test(test_valid_fixture),
	    cmocka_unit_test(test_valid_64bit_cells),
	    cmocka_unit_test(test_cached_sides),
	    cmocka_unit_test(test_pool_size),
	    cmocka_unit_test(test_dtb_input),
	    cmocka_unit_test(test_dtb_garbage_file),
	    cmocka_unit_test(test_error_overlap),
	    cmocka_unit_test(test_error_vring_too_big),
	    cmocka_unit_test(test_error_pool_too_small),
	    cmocka_unit_test(test_error_misaligned),
	    cmocka_unit_test(test_error_missing_properties),
	    cmocka_unit_test(test_error_rsc_does_not_fit),
	    cmocka_unit_test(test_error_trace),
	    cmocka_unit_test(test_error_firmware_region),
	    cmocka_unit_test(test_error_cached_align),
	    cmocka_unit_test(test_error_bad_role),
	    cmocka_unit_test(test_error_memory_region_not_reserved),
	    cmocka_unit_test(test_error_names_beyond_list),
	    cmocka_unit_test(test_error_mbox_not_mailbox),
	    cmocka_unit_test(test_error_several_all_reported),
	    cmocka_unit_test(test_error_report_truncated_safely),
	    cmocka_unit_test(test_dtc_cannot_compile),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_garbage_blobs),
	    cmocka_unit_test(test_truncated_and_oversized_blobs),
	    cmocka_unit_test(test_mutated_blobs),
	    cmocka_unit_test(test_topology_three_processors),
	    cmocka_unit_test(test_topology_full_mesh),
	    cmocka_unit_test(test_topology_lone_links),
	    cmocka_unit_test(test_topology_errors),
	};

	/* CTest runs the topology cases on their own too (tests/CMakeLists.txt). */
	if (getenv("RPK_TEST_FILTER"))
		cmocka_set_test_filter(getenv("RPK_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
