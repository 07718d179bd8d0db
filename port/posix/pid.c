/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A pid read from shared memory is only a number anyone could have written.
 * It names a node of a link only if that process maps the link's object: the
 * same file (device and inode) in /proc/<pid>/maps, under the object's name.
 * The directory part of that path is not compared: a process in another
 * mount namespace (ip netns exec, a container sharing /dev/shm) shows the
 * same file under another path, or none it can reach from ours.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "posix/rpk_posix.h"

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

int rpk_pid_maps(uint32_t pid, const char *shm_name)
{
	char path[300];

	snprintf(path, sizeof(path), "/dev/shm%s", shm_name);
	return rpk_pid_maps_file(pid, path);
}

int rpk_pid_maps_file(uint32_t pid, const char *path)
{
	const char *name = strrchr(path, '/'); /* compared with its '/' */
	char maps[64], line[1024];
	int found = 0, skipping = 0, rc;
	struct stat st;
	FILE *f;

	if (pid == 0 || pid > INT_MAX)
		return 0;
	if (!name)
		return 0;
	if (stat(path, &st) < 0)
		return 0; /* no such object: nobody maps this one */
	snprintf(maps, sizeof(maps), "/proc/%u/maps", (unsigned)pid);
	f = fopen(maps, "re");
	if (!f)
		return errno == ENOENT || errno == ESRCH ? 0 : -1;
	/* "start-end perms offset major:minor inode   path" */
	while (!found && fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		unsigned maj, min;
		unsigned long long ino;
		int path_at = -1;

		if (n && line[n - 1] == '\n') {
			line[--n] = 0;
		} else if (!feof(f)) {
			skipping = 1; /* a longer path than ours: not it */
			continue;
		}
		if (skipping) {
			skipping = 0; /* the end of that long line */
			continue;
		}
		if (sscanf(line, "%*s %*s %*s %x:%x %llu %n", &maj, &min, &ino, &path_at) < 3 ||
		    path_at < 0)
			continue;
		found = ino == (unsigned long long)st.st_ino && makedev(maj, min) == st.st_dev &&
			ends_with(line + path_at, name);
	}
	rc = ferror(f) ? -1 : found; /* reading another user's maps may be refused */
	fclose(f);
	return rc;
}
