/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Who may join a link (docs/access.md): a link's objects are joined only if
 * our effective uid owns them and nobody else has any access to them, or,
 * with a group configured, if that group owns them and others have none.
 * The same check serves shm objects and backing files given explicitly.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix/rpk_posix.h"

/* "uid 65534 (nobody)", or "uid 1234" when it has no name. */
static void user_name(char *buf, size_t len, uid_t uid)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, len, "uid %u (%s)", (unsigned)uid, res->pw_name);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
}

static void group_name(char *buf, size_t len, gid_t gid)
{
	struct group gr, *res = NULL;
	char tmp[1024];

	if (getgrgid_r(gid, &gr, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, len, "group %u (%s)", (unsigned)gid, res->gr_name);
	else
		snprintf(buf, len, "group %u", (unsigned)gid);
}

int rpk_group_lookup(const char *name, gid_t *gid, char *err, size_t errlen)
{
	struct group gr, *res = NULL;
	char tmp[1024], *end;
	unsigned long v;

	if (getgrnam_r(name, &gr, tmp, sizeof(tmp), &res) == 0 && res) {
		*gid = res->gr_gid;
		return 0;
	}
	errno = 0;
	v = strtoul(name, &end, 10);
	if (*name && !*end && !errno && name[0] != '-' && v < (unsigned long)RPK_NO_GROUP) {
		*gid = (gid_t)v;
		return 0;
	}
	snprintf(err, errlen, "no group named '%s'", name);
	return -ENOENT;
}

/* What the model expects of an object, for messages. */
static void expected(char *buf, size_t len, gid_t group)
{
	char who[300], grp[300];

	user_name(who, sizeof(who), geteuid());
	if (group == RPK_NO_GROUP) {
		snprintf(buf, len, "owned by %s, no access for group or others", who);
		return;
	}
	group_name(grp, sizeof(grp), group);
	snprintf(buf, len, "owned by %s or %s, no access for others", who, grp);
}

/* "owned by uid U (name)[, group G (name)], mode 0MMM" */
static void owner_of(char *buf, size_t len, const struct stat *st, gid_t group)
{
	char who[300], grp[300] = "";

	user_name(who, sizeof(who), st->st_uid);
	if (group != RPK_NO_GROUP) {
		grp[0] = ',';
		grp[1] = ' ';
		group_name(grp + 2, sizeof(grp) - 2, st->st_gid);
	}
	snprintf(buf, len, "owned by %s%s, mode %04o", who, grp, (unsigned)(st->st_mode & 07777));
}

int rpk_check_stat(const struct stat *st, const char *path, gid_t group, int writable, char *err,
		   size_t errlen)
{
	mode_t mode = st->st_mode & 0777;
	int group_ok = group != RPK_NO_GROUP && st->st_gid == group;
	const char *why = NULL;
	char own[700], want[700];

	if (!S_ISREG(st->st_mode))
		why = "is not a regular file";
	else if ((mode & S_IWOTH) || ((mode & S_IWGRP) && !group_ok))
		why = "another user can write";
	else if (st->st_uid != geteuid() && !group_ok)
		why = "another user owns";
	else if ((mode & S_IROTH) || ((mode & S_IRGRP) && !group_ok))
		why = "other users can read";
	if (!why)
		return 0;
	owner_of(own, sizeof(own), st, group);
	expected(want, sizeof(want), group);
	snprintf(err, errlen,
		 "%s: %s: refusing to %s a link object that %s (expected: %s; see docs/access.md)",
		 path, own, writable ? "join" : "read", why, want);
	return -EACCES;
}

int rpk_check_object(int fd, const char *path, gid_t group, int writable, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	return rpk_check_stat(&st, path, group, writable, err, errlen);
}

void rpk_access_denied(const char *path, gid_t group, char *err, size_t errlen)
{
	struct stat st;
	char own[700], want[700];

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s (see docs/access.md)", path, strerror(EACCES));
		return;
	}
	owner_of(own, sizeof(own), &st, group);
	expected(want, sizeof(want), group);
	snprintf(err, errlen, "%s: %s: permission denied: %s (expected: %s; see docs/access.md)",
		 path, own,
		 group != RPK_NO_GROUP && st.st_gid == group
		     ? "a link of that group, but this process is not in it"
		     : "a link object of another user",
		 want);
}
