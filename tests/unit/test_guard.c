/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIGBUS guard: a mapped file truncated under us costs no crash. A fault in a
 * guarded mapping is absorbed and recorded; anything else goes to the handler
 * that was there before.
 *
 * Not a cmocka program: cmocka installs its own SIGBUS handler around each
 * test and puts the old one back after it, which would drop ours. Each check
 * that fails prints and exits 1; a SIGBUS that gets through kills the test.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "posix/rpk_posix.h"

#define assert_true(c)	       check((c), #c, __LINE__)
#define assert_int_equal(a, b) check((long long)(a) == (long long)(b), #a " == " #b, __LINE__)
#define assert_non_null(p)     check((p) != NULL, #p, __LINE__)

static void check(int ok, const char *what, int line)
{
	if (ok)
		return;
	fprintf(stderr, "test_guard.c:%d: FAILED: %s\n", line, what);
	exit(1);
}

static char dir[64], file[128], err[1024];
static long page;

/* The handler installed before the guard: counts what is passed on, and
 * gets a real fault out of trouble. */
static volatile sig_atomic_t prev_calls, prev_faults;
static sigjmp_buf escape;

static void prev_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	prev_calls++;
	if (si->si_code > 0) {
		prev_faults++;
		siglongjmp(escape, 1);
	}
}

static int group_setup(void **state)
{
	struct sigaction sa;

	(void)state;
	page = sysconf(_SC_PAGESIZE);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = prev_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL);
}

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/rpk-guard-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/ram", dir);
	fd = open(file, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 3 * page), 0);
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(file);
	rmdir(dir);
	return 0;
}

static void shrink(off_t size)
{
	assert_int_equal(truncate(file, size), 0);
}

static void test_truncated_to_zero(void **state)
{
	struct rpk_shm shm = {.fd = -1};
	volatile uint8_t *p;
	size_t now = 1;

	(void)state;
	assert_int_equal(rpk_file_open(&shm, file, 3 * page, RPK_NO_GROUP, err, sizeof(err)), 0);
	assert_true(shm.guard > 0);
	p = shm.va;
	p[0] = 1;
	assert_int_equal(rpk_shm_shrunk(&shm, &now), 0);
	shrink(0);
	/* Seen before any fault, from the size alone. */
	assert_int_equal(rpk_shm_shrunk(&shm, &now), 1);
	assert_int_equal(now, 0);
	assert_int_equal(rpk_guard_tripped(shm.guard), 0);
	/* Reads and writes past the end: no SIGBUS for us. */
	assert_int_equal(p[0], 0);
	p[2 * page + 5] = 7;
	assert_int_equal(p[2 * page + 5], 7);
	assert_int_equal(rpk_guard_tripped(shm.guard), 1);
	assert_int_equal(prev_calls, 0);
	rpk_shm_close(&shm);
	assert_int_equal(shm.guard, 0);
}

static void test_partly_truncated(void **state)
{
	struct rpk_shm shm = {.fd = -1};
	volatile uint8_t *p;
	uint8_t b = 0;
	size_t now;
	int fd;

	(void)state;
	assert_int_equal(rpk_file_open(&shm, file, 3 * page, RPK_NO_GROUP, err, sizeof(err)), 0);
	p = shm.va;
	shrink(page + 100);
	p[2 * page] = 9; /* beyond the file's last page: absorbed */
	assert_int_equal(rpk_guard_tripped(shm.guard), 1);
	assert_int_equal(rpk_shm_shrunk(&shm, &now), 1);
	assert_int_equal(now, page + 100);
	/* What is still in the file stays shared. */
	p[10] = 42;
	fd = open(file, O_RDONLY);
	assert_int_equal(pread(fd, &b, 1, 10), 1);
	close(fd);
	assert_int_equal(b, 42);
	rpk_shm_close(&shm);
}

static void test_read_only_mapping(void **state)
{
	char name[64];
	struct rpk_shm w = {.fd = -1}, r = {.fd = -1};
	volatile const uint8_t *p;
	size_t now;

	(void)state;
	snprintf(name, sizeof(name), "/rpk-utest-guard-%d", (int)getpid());
	shm_unlink(name);
	assert_int_equal(rpk_shm_open(&w, name, 2 * page, RPK_NO_GROUP, err, sizeof(err)), 0);
	assert_int_equal(rpk_shm_open_readonly(&r, name, 2 * page, RPK_NO_GROUP, err, sizeof(err)),
			 0);
	assert_int_equal(ftruncate(w.fd, 0), 0);
	p = r.va;
	assert_int_equal(p[page + 1], 0);
	assert_int_equal(rpk_guard_tripped(r.guard), 1);
	assert_int_equal(rpk_guard_tripped(w.guard), 0); /* untouched: only its size says */
	assert_int_equal(rpk_shm_shrunk(&w, &now), 1);
	rpk_shm_close(&r);
	rpk_shm_close(&w);
	shm_unlink(name);
}

static void test_not_ours_is_passed_on(void **state)
{
	volatile uint8_t *p;
	int fd;

	(void)state;
	/* A signal sent to us, not a fault: the previous handler has it. */
	prev_calls = prev_faults = 0;
	raise(SIGBUS);
	assert_int_equal(prev_calls, 1);
	assert_int_equal(prev_faults, 0);
	/* A real fault in a mapping nobody guards. */
	fd = open(file, O_RDWR);
	assert_true(fd >= 0);
	p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(ftruncate(fd, 0), 0);
	if (sigsetjmp(escape, 1) == 0)
		p[page] = 1;
	assert_int_equal(prev_faults, 1);
	munmap((void *)p, 2 * page);
	close(fd);
}

static void test_registry_full(void **state)
{
	int ids[RPK_GUARD_SLOTS], n = 0, id;
	static char dummy[1];

	(void)state;
	while ((id = rpk_guard_add(dummy, 1, PROT_READ)) > 0)
		ids[n++] = id;
	assert_true(n > 0 && n <= RPK_GUARD_SLOTS);
	assert_int_equal(rpk_guard_tripped(0), 0);
	while (n)
		rpk_guard_remove(ids[--n]);
	id = rpk_guard_add(dummy, 1, PROT_READ);
	assert_true(id > 0);
	rpk_guard_remove(id);
}

int main(void)
{
	static void (*const tests[])(void **) = {test_truncated_to_zero, test_partly_truncated,
						 test_read_only_mapping,
						 test_not_ours_is_passed_on};

	if (group_setup(NULL))
		return 1;
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		setup(NULL);
		tests[i](NULL);
		teardown(NULL);
	}
	test_registry_full(NULL);
	printf("test_guard: all checks passed\n");
	return 0;
}
