/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix/rpk_posix.h"

/* Open (or create) and map; a read-only observer never creates or resizes. */
static int shm_map(struct rpk_shm *shm, const char *name, size_t size, int writable)
{
	struct stat st;
	int fd, err;
	void *va;

	fd = shm_open(name, writable ? O_RDWR | O_CREAT | O_CLOEXEC : O_RDONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		goto fail;
	if ((size_t)st.st_size < size) {
		/* Grow only: a peer may already have sized and filled it. */
		if (!writable) {
			close(fd);
			return -EIO; /* not a region of this layout */
		}
		if (ftruncate(fd, (off_t)size) < 0)
			goto fail;
	}
	va = mmap(NULL, size, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
	if (va == MAP_FAILED)
		goto fail;
	shm->va = va;
	shm->size = size;
	shm->fd = fd;
	return 0;
fail:
	err = -errno;
	close(fd);
	return err;
}

int rpk_shm_open(struct rpk_shm *shm, const char *name, size_t size)
{
	return shm_map(shm, name, size, 1);
}

int rpk_shm_open_readonly(struct rpk_shm *shm, const char *name, size_t size)
{
	return shm_map(shm, name, size, 0);
}

void rpk_shm_close(struct rpk_shm *shm)
{
	if (shm->va)
		munmap(shm->va, shm->size);
	if (shm->fd >= 0)
		close(shm->fd);
	shm->va = NULL;
	shm->fd = -1;
}

int rpk_shm_unlink(const char *name)
{
	return shm_unlink(name) < 0 ? -errno : 0;
}
