/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The access model of a link's objects (docs/access.md): exclusive creation,
 * owner, mode and size checks on joining, for shm objects and for a backing
 * file given explicitly. Cases with another owner need root (chown).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "posix/rpk_posix.h"

#define OTHER 65534u /* nobody */

static char dir[64], file[128], shm_name[64], err[1024];

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/rpk-access-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/ram", dir);
	fd = open(file, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 8192), 0);
	close(fd);
	snprintf(shm_name, sizeof(shm_name), "/rpk-utest-access-%d", (int)getpid());
	shm_unlink(shm_name);
	err[0] = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(file);
	rmdir(dir);
	shm_unlink(shm_name);
	return 0;
}

static int open_file(size_t size, gid_t group)
{
	struct rpk_shm shm = {.fd = -1};
	int rc = rpk_file_open(&shm, file, size, group, err, sizeof(err));

	if (rc == 0) {
		memset(shm.va, 0x5a, size); /* really mapped, writable */
		rpk_shm_close(&shm);
	}
	return rc;
}

static void test_file_ours_private(void **state)
{
	(void)state;
	assert_int_equal(open_file(8192, RPK_NO_GROUP), 0);
	assert_int_equal(open_file(4096, RPK_NO_GROUP), 0); /* a RAM file may be larger */
	assert_int_equal(open_file(16384, RPK_NO_GROUP), -EINVAL);
	assert_non_null(strstr(err, "8192 bytes, smaller than the 16384"));
}

static void test_file_mode_refused(void **state)
{
	(void)state;
	assert_int_equal(chmod(file, 0666), 0);
	assert_int_equal(open_file(4096, RPK_NO_GROUP), -EACCES);
	assert_non_null(strstr(err, file));
	assert_non_null(strstr(err, "mode 0666: refusing to join a link object that another "
				    "user can write"));
	assert_non_null(strstr(err, "see docs/access.md"));
	assert_int_equal(chmod(file, 0644), 0);
	assert_int_equal(open_file(4096, RPK_NO_GROUP), -EACCES);
	assert_non_null(strstr(err, "other users can read"));
	assert_int_equal(chmod(file, 0620), 0); /* group-writable, no group configured */
	assert_int_equal(open_file(4096, RPK_NO_GROUP), -EACCES);
	assert_non_null(strstr(err, "another user can write"));
}

static void test_file_other_owner_refused(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip(); /* only root can give a file away */
	assert_int_equal(chown(file, OTHER, OTHER), 0);
	assert_int_equal(open_file(4096, RPK_NO_GROUP), -EACCES);
	assert_non_null(strstr(err, "owned by uid 65534"));
	assert_non_null(strstr(err, "mode 0600: refusing to join a link object that another "
				    "user owns"));
	/* The same file shared with its group: joined by a member. */
	assert_int_equal(chmod(file, 0660), 0);
	assert_int_equal(open_file(4096, OTHER), 0);
	assert_int_equal(open_file(4096, RPK_NO_GROUP), -EACCES);
	/* ...but never with access for others. */
	assert_int_equal(chmod(file, 0662), 0);
	assert_int_equal(open_file(4096, OTHER), -EACCES);
	assert_non_null(strstr(err, "group 65534"));
}

static void test_file_not_regular(void **state)
{
	char link[160];
	struct rpk_shm shm = {.fd = -1};

	(void)state;
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink(file, link), 0);
	assert_int_equal(rpk_file_open(&shm, link, 4096, RPK_NO_GROUP, err, sizeof(err)), -ELOOP);
	unlink(link);
	assert_int_equal(mkfifo(link, 0600), 0);
	assert_true(rpk_check_stat(&(struct stat){.st_mode = S_IFIFO | 0600, .st_uid = geteuid()},
				   link, RPK_NO_GROUP, 1, err, sizeof(err)) == -EACCES);
	assert_non_null(strstr(err, "is not a regular file"));
	unlink(link);
}

static mode_t shm_mode(struct stat *st)
{
	char path[128];

	snprintf(path, sizeof(path), "/dev/shm%s", shm_name);
	assert_int_equal(stat(path, st), 0);
	return st->st_mode & 07777;
}

static void test_shm_created_private(void **state)
{
	struct rpk_shm shm = {.fd = -1};
	struct stat st;
	mode_t old = umask(0); /* whatever the umask, the mode is ours to say */

	(void)state;
	assert_int_equal(rpk_shm_open(&shm, shm_name, 4096, RPK_NO_GROUP, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(shm_mode(&st), 0600);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(st.st_size, 4096);
	memset(shm.va, 1, 4096);
	rpk_shm_close(&shm);
	/* Left behind (a node killed): joined again, contents kept. */
	assert_int_equal(rpk_shm_open(&shm, shm_name, 4096, RPK_NO_GROUP, err, sizeof(err)), 0);
	assert_int_equal(((uint8_t *)shm.va)[4095], 1);
	rpk_shm_close(&shm);
	/* Another size: refused, naming both. */
	assert_int_equal(rpk_shm_open(&shm, shm_name, 8192, RPK_NO_GROUP, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "4096 bytes, the layout's region has 8192"));
	/* An observer needs no more than it reads. */
	assert_int_equal(
	    rpk_shm_open_readonly(&shm, shm_name, 8192, RPK_NO_GROUP, err, sizeof(err)), -EIO);
	assert_int_equal(
	    rpk_shm_open_readonly(&shm, shm_name, 4096, RPK_NO_GROUP, err, sizeof(err)), 0);
	assert_int_equal(((uint8_t *)shm.va)[0], 1);
	rpk_shm_close(&shm);
}

static void test_shm_unsized_is_sized(void **state)
{
	struct rpk_shm shm = {.fd = -1};
	struct stat st;
	int fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0600); /* a creator that died */

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(rpk_shm_open(&shm, shm_name, 4096, RPK_NO_GROUP, err, sizeof(err)), 0);
	shm_mode(&st);
	assert_int_equal(st.st_size, 4096);
	rpk_shm_close(&shm);
}

static void test_shm_forged_refused(void **state)
{
	struct rpk_shm shm = {.fd = -1};
	int fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0600);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	assert_int_equal(fchmod(fd, 0666), 0);
	close(fd);
	assert_int_equal(rpk_shm_open(&shm, shm_name, 4096, RPK_NO_GROUP, err, sizeof(err)),
			 -EACCES);
	assert_non_null(strstr(err, "/dev/shm/rpk-utest-access-"));
	assert_non_null(strstr(err, "mode 0666: refusing to join"));
	assert_int_equal(
	    rpk_shm_open_readonly(&shm, shm_name, 4096, RPK_NO_GROUP, err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "refusing to read"));
	assert_int_equal(
	    rpk_shm_open_readonly(&shm, "/rpk-utest-nosuch", 4096, RPK_NO_GROUP, err, sizeof(err)),
	    -ENOENT);
}

static void test_shm_group(void **state)
{
	struct rpk_shm shm = {.fd = -1};
	struct stat st;
	gid_t g = getegid();
	mode_t old = umask(077);

	(void)state;
	assert_int_equal(rpk_shm_open(&shm, shm_name, 4096, g, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(shm_mode(&st), 0660);
	assert_int_equal(st.st_gid, g);
	rpk_shm_close(&shm);
	assert_int_equal(rpk_shm_open(&shm, shm_name, 4096, g, err, sizeof(err)), 0);
	rpk_shm_close(&shm);
	/* Without the group, a group-accessible object is not a private link. */
	assert_int_equal(rpk_shm_open(&shm, shm_name, 4096, RPK_NO_GROUP, err, sizeof(err)),
			 -EACCES);
}

static void test_group_lookup(void **state)
{
	gid_t g;

	(void)state;
	assert_int_equal(rpk_group_lookup("root", &g, err, sizeof(err)), 0);
	assert_int_equal(g, 0);
	assert_int_equal(rpk_group_lookup("12345", &g, err, sizeof(err)), 0);
	assert_int_equal(g, 12345);
	assert_int_equal(rpk_group_lookup("rpk-no-such-group", &g, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "rpk-no-such-group"));
	assert_int_equal(rpk_group_lookup("", &g, err, sizeof(err)), -ENOENT);
	assert_int_equal(rpk_group_lookup("-1", &g, err, sizeof(err)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_file_ours_private, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_mode_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_other_owner_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_not_regular, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shm_created_private, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shm_unsized_is_sized, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shm_forged_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shm_group, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_group_lookup, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
