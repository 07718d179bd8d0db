/* SPDX-License-Identifier: BSD-3-Clause */
/* A pid from shared memory names a node of a link only if it maps the link's object. */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "posix/rpk_posix.h"

static char name[64], err[1024];

static int setup(void **state)
{
	(void)state;
	snprintf(name, sizeof(name), "/rpk-utest-pid-%d", (int)getpid());
	shm_unlink(name);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	shm_unlink(name);
	return 0;
}

static void test_we_map_it(void **state)
{
	struct rpk_shm shm = {.fd = -1};

	(void)state;
	assert_int_equal(rpk_pid_maps((uint32_t)getpid(), name), 0); /* no such object */
	assert_int_equal(rpk_shm_open(&shm, name, 4096, RPK_NO_GROUP, err, sizeof(err)), 0);
	assert_int_equal(rpk_pid_maps((uint32_t)getpid(), name), 1);
	assert_int_equal(rpk_pid_maps((uint32_t)getpid(), "/rpk-utest-pid-other"), 0);
	rpk_shm_close(&shm);
	assert_int_equal(rpk_pid_maps((uint32_t)getpid(), name), 0); /* unmapped */
}

static int maps_readable(int pid)
{
	char path[64];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	ok = fgetc(f) != EOF || !ferror(f);
	fclose(f);
	return ok;
}

static void test_forged_pids(void **state)
{
	struct rpk_shm shm = {.fd = -1};

	(void)state;
	assert_int_equal(rpk_shm_open(&shm, name, 4096, RPK_NO_GROUP, err, sizeof(err)), 0);
	/* init runs, but is no node of this link; where its maps are not ours
	 * to read (not root, or a sandbox's init), we cannot tell. */
	assert_int_equal(rpk_pid_maps(1, name), maps_readable(1) ? 0 : -1);
	assert_int_equal(rpk_pid_maps(0, name), 0);
	assert_int_equal(rpk_pid_maps((uint32_t)INT_MAX + 1u, name), 0);
	assert_int_equal(rpk_pid_maps(UINT32_MAX, name), 0);
	rpk_shm_close(&shm);
}

static void test_other_process(void **state)
{
	struct rpk_shm shm = {.fd = -1};
	int pipefd[2], status;
	char c;
	pid_t child;

	(void)state;
	assert_int_equal(rpk_shm_open(&shm, name, 4096, RPK_NO_GROUP, err, sizeof(err)), 0);
	assert_int_equal(pipe(pipefd), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) { /* inherits the mapping, then waits */
		close(pipefd[1]);
		if (read(pipefd[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(pipefd[0]);
	assert_int_equal(rpk_pid_maps((uint32_t)child, name), 1);
	/* The same name, another object: what the child maps is not this one. */
	rpk_shm_close(&shm);
	shm_unlink(name);
	assert_int_equal(rpk_shm_open(&shm, name, 4096, RPK_NO_GROUP, err, sizeof(err)), 0);
	assert_int_equal(rpk_pid_maps((uint32_t)child, name), 0);
	assert_int_equal(write(pipefd[1], "x", 1), 1);
	close(pipefd[1]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(rpk_pid_maps((uint32_t)child, name), 0); /* gone */
	rpk_shm_close(&shm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_we_map_it, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forged_pids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_process, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
