/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "posix/rpk_posix.h"

#define JOIN_TRIES 200 /* a creator between O_EXCL and fchmod, or one that unlinks */

static void shm_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "/dev/shm%s", name);
}

/* Map fd (size bytes) and guard the mapping against SIGBUS. */
static int map_fd(struct rpk_shm *shm, int fd, off_t offset, size_t size, int writable,
		  const char *path, char *err, size_t errlen)
{
	int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
	void *va = mmap(NULL, size, prot, MAP_SHARED, fd, offset);

	if (va == MAP_FAILED) {
		int e = errno;

		snprintf(err, errlen, "%s: cannot map %zu bytes: %s", path, size, strerror(e));
		close(fd);
		return -e;
	}
	shm->va = va;
	shm->size = size;
	shm->offset = offset;
	shm->fd = fd;
	shm->guard = rpk_guard_add(va, size, prot);
	return 0;
}

/* Create the object exclusively: mode 0600, or 0660 and the group. */
static int create(const char *name, const char *path, size_t size, gid_t group, char *err,
		  size_t errlen)
{
	mode_t mode = group == RPK_NO_GROUP ? 0600 : 0660;
	/* Ours alone until it is the group's: a joiner that looks in between
	 * (root opens anything) must not see group access with our group. */
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	const char *what;
	int e;

	if (fd < 0)
		return -errno;
	/* shm_open applies the umask: set the mode we mean. */
	what = "give it to the group";
	if (group != RPK_NO_GROUP && fchown(fd, (uid_t)-1, group) < 0)
		goto fail;
	what = "set its mode";
	if (fchmod(fd, mode) < 0)
		goto fail;
	what = "size it";
	if (ftruncate(fd, (off_t)size) < 0)
		goto fail;
	return fd;
fail:
	e = errno;
	snprintf(err, errlen, "%s: created, but cannot %s: %s", path, what, strerror(e));
	close(fd);
	shm_unlink(name);
	return e == EEXIST ? -EIO : -e; /* not "exists": that means join it */
}

/* An object that exists: it must pass the access check and be size bytes
 * (0: its creator has not sized it yet, or died before it did). */
static int join(int fd, const char *path, size_t size, gid_t group, char *err, size_t errlen)
{
	struct stat st;
	int rc;

	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	rc = rpk_check_stat(&st, path, group, 1, err, errlen);
	if (rc)
		return rc;
	if (st.st_size == 0 && ftruncate(fd, (off_t)size) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot size it: %s", path, strerror(-rc));
		return rc;
	}
	if (st.st_size != 0 && (size_t)st.st_size != size) {
		snprintf(err, errlen,
			 "%s: %lld bytes, the layout's region has %zu: refusing a link object of "
			 "another size (another layout on this instance?)",
			 path, (long long)st.st_size, size);
		return -EINVAL;
	}
	return 0;
}

int rpk_shm_open(struct rpk_shm *shm, const char *name, size_t size, gid_t group, char *err,
		 size_t errlen)
{
	struct timespec ms = {0, 1000000};
	char path[300];
	int fd = -1, rc;

	shm_path(path, sizeof(path), name);
	err[0] = 0;
	for (int tries = 0; fd < 0; tries++) {
		fd = create(name, path, size, group, err, errlen);
		if (fd >= 0)
			break;
		if (fd != -EEXIST) {
			if (!err[0])
				snprintf(err, errlen, "%s: cannot create: %s", path, strerror(-fd));
			return fd;
		}
		fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
		if (fd >= 0) {
			rc = join(fd, path, size, group, err, errlen);
			if (rc) {
				close(fd);
				return rc;
			}
			break;
		}
		rc = -errno;
		/* Unlinked meanwhile: create it. A group member's creator is
		 * between O_EXCL and fchmod: wait for it. */
		if (tries < JOIN_TRIES &&
		    (rc == -ENOENT || (rc == -EACCES && group != RPK_NO_GROUP))) {
			if (rc == -EACCES)
				nanosleep(&ms, NULL);
			continue;
		}
		if (rc == -EACCES)
			rpk_access_denied(path, group, err, errlen);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	return map_fd(shm, fd, 0, size, 1, path, err, errlen);
}

/*
 * Map an existing object (fd, or the -errno of opening it) after the access
 * check: at least size bytes, else too_small (an errno) with what it holds.
 */
static int map_existing_at(struct rpk_shm *shm, int fd, const char *path, off_t offset, size_t size,
			   gid_t group, int writable, int too_small, const char *expected,
			   char *err, size_t errlen)
{
	struct stat st;
	int rc;

	if (fd < 0) {
		if (fd == -EACCES)
			rpk_access_denied(path, group, err, errlen);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(-fd));
		return fd;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto fail;
	}
	rc = rpk_check_stat(&st, path, group, writable, err, errlen);
	if (rc)
		goto fail;
	if (st.st_size < offset || (size_t)(st.st_size - offset) < size) {
		if (offset)
			snprintf(err, errlen, "%s: %lld bytes, ending before 0x%llx + 0x%zx, %s",
				 path, (long long)st.st_size, (unsigned long long)offset, size,
				 expected);
		else
			snprintf(err, errlen, "%s: %lld bytes, smaller than the %zu %s", path,
				 (long long)st.st_size, size, expected);
		rc = -too_small;
		goto fail;
	}
	return map_fd(shm, fd, offset, size, writable, path, err, errlen);
fail:
	close(fd);
	return rc;
}

static int map_existing(struct rpk_shm *shm, int fd, const char *path, size_t size, gid_t group,
			int writable, int too_small, const char *expected, char *err, size_t errlen)
{
	return map_existing_at(shm, fd, path, 0, size, group, writable, too_small, expected, err,
			       errlen);
}

int rpk_shm_open_readonly(struct rpk_shm *shm, const char *name, size_t size, gid_t group,
			  char *err, size_t errlen)
{
	char path[300];
	int fd;

	shm_path(path, sizeof(path), name);
	fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0);
	return map_existing(shm, fd < 0 ? -errno : fd, path, size, group, 0, EIO,
			    "the layout gives it (another layout, or not sized yet)", err, errlen);
}

int rpk_shm_open_existing(struct rpk_shm *shm, const char *name, size_t size, gid_t group,
			  char *err, size_t errlen)
{
	char path[300];
	int fd;

	shm_path(path, sizeof(path), name);
	fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
	return map_existing(shm, fd < 0 ? -errno : fd, path, size, group, 1, EIO,
			    "its creator gives it (another version)", err, errlen);
}

/* An existing file, mapped read-write from offset; expected says what must fit. */
static int open_file_at(struct rpk_shm *shm, const char *path, uint64_t offset, size_t size,
			gid_t group, const char *expected, char *err, size_t errlen)
{
	int fd;

	if (offset > (uint64_t)INT64_MAX - size) {
		snprintf(err, errlen, "%s: offset 0x%llx is beyond any file", path,
			 (unsigned long long)offset);
		return -EINVAL;
	}
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	return map_existing_at(shm, fd < 0 ? -errno : fd, path, (off_t)offset, size, group, 1,
			       EINVAL, expected, err, errlen);
}

int rpk_file_open(struct rpk_shm *shm, const char *path, size_t size, gid_t group, char *err,
		  size_t errlen)
{
	return open_file_at(shm, path, 0, size, group, "it must hold", err, errlen);
}

int rpk_file_open_at(struct rpk_shm *shm, const char *path, uint64_t offset, size_t size,
		     gid_t group, char *err, size_t errlen)
{
	return open_file_at(shm, path, offset, size, group, "the layout's region", err, errlen);
}

int rpk_shm_shrunk(const struct rpk_shm *shm, size_t *now)
{
	struct stat st;

	if (!shm->va)
		return 0;
	if (fstat(shm->fd, &st) == 0 &&
	    (st.st_size < shm->offset || (size_t)(st.st_size - shm->offset) < shm->size)) {
		*now = st.st_size > shm->offset ? (size_t)(st.st_size - shm->offset) : 0;
		return 1;
	}
	if (shm->guard && rpk_guard_tripped(shm->guard)) {
		*now = fstat(shm->fd, &st) == 0 ? (size_t)st.st_size : 0;
		return 1;
	}
	return 0;
}

void rpk_shm_close(struct rpk_shm *shm)
{
	if (shm->guard)
		rpk_guard_remove(shm->guard); /* first: the range may be reused at once */
	if (shm->va)
		munmap(shm->va, shm->size);
	if (shm->fd >= 0)
		close(shm->fd);
	shm->va = NULL;
	shm->fd = -1;
	shm->guard = 0;
}

int rpk_shm_unlink(const char *name)
{
	return shm_unlink(name) < 0 ? -errno : 0;
}
