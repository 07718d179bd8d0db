// SPDX-License-Identifier: BSD-3-Clause
/*
 * The service's directory, as FUSE low-level operations:
 *
 *   rpmsg_ctrl0          while the link is up: RPMSG_CREATE_EPT_IOCTL
 *   rpmsgN               endpoints made through it
 *   rpmsg<C>_<E>         the devicetree channel's devices
 *   interrupts           the channel's doorbells, "rx: N" / "tx: N" (seed 004)
 *   stats/link           the link's counters
 *   stats/<device>       each device's counters
 *   ttyRPMSGn            symbolic links to the ttys' ptys (rpk_chardev_link)
 *
 * Every file is direct I/O and not seekable, so each read and each write is
 * one request (one message); nothing is cached (attribute and entry timeouts
 * of 0), so files come and go at once. A read that finds nothing is parked
 * and answered when a message comes (eptdev.c): a blocked reader holds no
 * worker thread.
 */
#include <errno.h>
#include <linux/rpmsg.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chardev_internal.h"

#define CTRL_NAME "rpmsg_ctrl0"

static struct rpk_chardev *cd_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static int ctrl_visible(struct rpk_chardev *cd)
{
	return rpk_rpmsg_is_up(cd->rpmsg);
}

static void fill_attr(struct rpk_chardev *cd, struct stat *st, uint64_t ino, int dir)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = getuid();
	st->st_gid = cd->opts.group_set ? cd->opts.gid : getgid();
	st->st_nlink = dir ? 2 : 1;
	if (dir)
		st->st_mode = S_IFDIR | (cd->opts.group_set ? 0750 : 0700);
	else if (ino >= CD_INO_FIRST_LINK && ino < CD_INO_FIRST_LINK + CD_MAX_LINKS)
		st->st_mode = S_IFLNK | 0777; /* what it points at decides */
	else if (ino == CD_INO_INTERRUPTS || ino == CD_INO_LINKSTATS ||
		 (ino >= CD_INO_FIRST_DEV && ino % 2))
		st->st_mode = S_IFREG | (cd->opts.group_set ? 0440 : 0400);
	else
		st->st_mode = S_IFREG | (cd->opts.group_set ? 0660 : 0600);
}

/* Whether ino names something that exists now. Takes mu. */
static int ino_exists(struct rpk_chardev *cd, uint64_t ino)
{
	struct cd_dev *d;
	int ok;

	if (ino >= CD_INO_FIRST_LINK && ino < CD_INO_FIRST_LINK + CD_MAX_LINKS) {
		pthread_mutex_lock(&cd->mu);
		ok = cd->links[ino - CD_INO_FIRST_LINK].name[0] != 0;
		pthread_mutex_unlock(&cd->mu);
		return ok;
	}
	if (ino < CD_INO_FIRST_DEV)
		return ino != CD_INO_CTRL || ctrl_visible(cd);
	cd_expire_sessions(cd);
	pthread_mutex_lock(&cd->mu);
	d = cd_dev_by_ino(cd, ino & ~(uint64_t)1);
	ok = d && d->listed;
	pthread_mutex_unlock(&cd->mu);
	return ok;
}

static void reply_entry(fuse_req_t req, uint64_t ino, int dir)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	e.ino = ino;
	fill_attr(cd_of(req), &e.attr, ino, dir);
	fuse_reply_entry(req, &e);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct rpk_chardev *cd = cd_of(req);
	struct cd_dev *d;
	uint64_t ino = 0;

	cd_expire_sessions(cd);
	if (parent == CD_INO_ROOT) {
		if (!strcmp(name, "stats"))
			return reply_entry(req, CD_INO_STATS, 1);
		if (!strcmp(name, "interrupts"))
			return reply_entry(req, CD_INO_INTERRUPTS, 0);
		if (!strcmp(name, CTRL_NAME) && ctrl_visible(cd))
			return reply_entry(req, CD_INO_CTRL, 0);
		pthread_mutex_lock(&cd->mu);
		for (int i = 0; i < CD_MAX_LINKS && !ino; i++)
			if (cd->links[i].name[0] && !strcmp(cd->links[i].name, name))
				ino = CD_INO_FIRST_LINK + (uint64_t)i;
		pthread_mutex_unlock(&cd->mu);
		if (ino)
			return reply_entry(req, ino, 0);
	} else if (parent == CD_INO_STATS && !strcmp(name, "link")) {
		return reply_entry(req, CD_INO_LINKSTATS, 0);
	}
	if (parent == CD_INO_ROOT || parent == CD_INO_STATS) {
		pthread_mutex_lock(&cd->mu);
		d = cd_dev_by_name(cd, name);
		if (d)
			ino = d->ino + (parent == CD_INO_STATS);
		pthread_mutex_unlock(&cd->mu);
		if (ino)
			return reply_entry(req, ino, 0);
	}
	fuse_reply_err(req, ENOENT);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rpk_chardev *cd = cd_of(req);
	struct stat st;

	(void)fi;
	if (!ino_exists(cd, ino))
		return (void)fuse_reply_err(req, ENOENT);
	fill_attr(cd, &st, ino, ino == CD_INO_ROOT || ino == CD_INO_STATS);
	fuse_reply_attr(req, &st, 0);
}

/* `echo 1 > file` truncates first: there is nothing to truncate. */
static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	(void)attr;
	(void)to_set;
	op_getattr(req, ino, fi);
}

struct dirbuf {
	char *p;
	size_t len, cap;
};

static void dir_add(fuse_req_t req, struct dirbuf *b, const char *name, uint64_t ino, int dir)
{
	struct stat st = {.st_ino = ino, .st_mode = dir ? S_IFDIR : S_IFREG};

	if (ino >= CD_INO_FIRST_LINK && ino < CD_INO_FIRST_LINK + CD_MAX_LINKS)
		st.st_mode = S_IFLNK;
	size_t need = fuse_add_direntry(req, NULL, 0, name, NULL, 0);

	if (b->len + need > b->cap) {
		char *p = realloc(b->p, (b->len + need) * 2);

		if (!p)
			return;
		b->p = p;
		b->cap = (b->len + need) * 2;
	}
	fuse_add_direntry(req, b->p + b->len, need, name, &st, (off_t)(b->len + need));
	b->len += need;
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct rpk_chardev *cd = cd_of(req);
	struct dirbuf b = {0};

	(void)fi;
	if (ino != CD_INO_ROOT && ino != CD_INO_STATS)
		return (void)fuse_reply_err(req, ENOTDIR);
	cd_expire_sessions(cd);
	dir_add(req, &b, ".", ino, 1);
	dir_add(req, &b, "..", CD_INO_ROOT, 1);
	if (ino == CD_INO_ROOT) {
		if (ctrl_visible(cd))
			dir_add(req, &b, CTRL_NAME, CD_INO_CTRL, 0);
		dir_add(req, &b, "interrupts", CD_INO_INTERRUPTS, 0);
		dir_add(req, &b, "stats", CD_INO_STATS, 1);
	} else {
		dir_add(req, &b, "link", CD_INO_LINKSTATS, 0);
	}
	pthread_mutex_lock(&cd->mu);
	for (int i = 0; ino == CD_INO_ROOT && i < CD_MAX_LINKS; i++)
		if (cd->links[i].name[0])
			dir_add(req, &b, cd->links[i].name, CD_INO_FIRST_LINK + (uint64_t)i, 0);
	for (int i = 0; i < cd->num_devs; i++)
		if (cd->devs[i]->listed)
			dir_add(req, &b, cd->devs[i]->file,
				cd->devs[i]->ino + (ino == CD_INO_STATS), 0);
	pthread_mutex_unlock(&cd->mu);
	if ((size_t)off < b.len)
		fuse_reply_buf(req, b.p + off,
			       b.len - (size_t)off < size ? b.len - (size_t)off : size);
	else
		fuse_reply_buf(req, NULL, 0);
	free(b.p);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct rpk_chardev *cd = cd_of(req);
	char target[sizeof(cd->links[0].target)] = "";

	if (ino >= CD_INO_FIRST_LINK && ino < CD_INO_FIRST_LINK + CD_MAX_LINKS) {
		pthread_mutex_lock(&cd->mu);
		if (cd->links[ino - CD_INO_FIRST_LINK].name[0])
			memcpy(target, cd->links[ino - CD_INO_FIRST_LINK].target, sizeof(target));
		pthread_mutex_unlock(&cd->mu);
	}
	if (!target[0])
		return (void)fuse_reply_err(req, ENOENT);
	fuse_reply_readlink(req, target);
}

static void open_text(fuse_req_t req, struct cd_file *f, fuse_ino_t ino)
{
	struct rpk_chardev *cd = cd_of(req);
	struct cd_dev *d;

	f->kind = CD_FILE_TEXT;
	if (ino == CD_INO_INTERRUPTS) {
		f->text = cd_text_interrupts(cd, &f->text_len);
	} else if (ino == CD_INO_LINKSTATS) {
		f->text = cd_text_link_stats(cd, &f->text_len);
	} else {
		pthread_mutex_lock(&cd->mu);
		d = cd_dev_by_ino(cd, ino - 1);
		f->text = d ? cd_text_dev_stats(d, &f->text_len) : NULL;
		pthread_mutex_unlock(&cd->mu);
	}
}

/* The counters and the interrupts file: snapshots taken at open. Told by
 * the inode, so that nothing of a released file is read to know. */
static int is_text(fuse_ino_t ino)
{
	return ino == CD_INO_INTERRUPTS || ino == CD_INO_LINKSTATS ||
	       (ino >= CD_INO_FIRST_DEV && ino % 2);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rpk_chardev *cd = cd_of(req);
	struct cd_file *f = calloc(1, sizeof(*f));
	struct cd_dev *d = NULL;
	int rc = 0;

	if (!f)
		return (void)fuse_reply_err(req, ENOMEM);
	fi->direct_io = 1;
	fi->nonseekable = 1;
	if (ino == CD_INO_CTRL) {
		f->kind = CD_FILE_CTRL;
		f->session = (uint32_t)cd_session_now(cd);
		if (!f->session)
			rc = -ENOENT;
	} else if (is_text(ino)) {
		open_text(req, f, ino);
		if (!f->text) {
			rc = -ENOENT;
		} else {
			pthread_mutex_lock(&cd->mu);
			f->next = cd->texts;
			cd->texts = f;
			pthread_mutex_unlock(&cd->mu);
		}
	} else {
		cd_expire_sessions(cd);
		pthread_mutex_lock(&cd->mu);
		d = cd_dev_by_ino(cd, ino);
		if (d && d->listed)
			d->refs++; /* kept across cd_dev_open, which may sleep */
		else
			d = NULL;
		pthread_mutex_unlock(&cd->mu);
		rc = d ? cd_dev_open(d) : -ENOENT;
		pthread_mutex_lock(&cd->mu);
		if (d) {
			if (!rc) {
				f->kind = CD_FILE_DEV;
				f->dev = d;
				f->next = d->files;
				d->files = f;
			}
			cd_dev_put(d);
		}
		pthread_mutex_unlock(&cd->mu);
	}
	if (rc) {
		free(f);
		return (void)fuse_reply_err(req, -rc);
	}
	fi->fh = (uint64_t)(uintptr_t)f;
	if (fuse_reply_open(req, fi) == -ENOENT && f->dev) /* the opener is gone */
		cd_dev_release(f->dev, f);
}

/* Under cd->mu: take a text file out of cd->texts; 1 if it was there. */
static int unlist_text(struct rpk_chardev *cd, struct cd_file *f)
{
	for (struct cd_file **p = &cd->texts; *p; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			return 1;
		}
	return 0;
}

static void free_file(struct cd_file *f)
{
	free(f->text);
	free(f);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rpk_chardev *cd = cd_of(req);
	struct cd_file *f = (struct cd_file *)(uintptr_t)fi->fh;
	int keep = 0;

	(void)ino;
	if (f->kind == CD_FILE_DEV)
		cd_dev_release(f->dev, f);
	if (f->kind == CD_FILE_TEXT) {
		/* A read of it may still be answered (its reader was
		 * interrupted): that read frees it. */
		pthread_mutex_lock(&cd->mu);
		unlist_text(cd, f);
		f->released = 1;
		keep = f->readers != 0;
		pthread_mutex_unlock(&cd->mu);
	}
	if (!keep)
		free_file(f);
	fuse_reply_err(req, 0);
}

/* A text file's snapshot, if the file is still open; it stays until the
 * reply is sent. */
static void read_text(fuse_req_t req, struct cd_file *f, size_t size, off_t off)
{
	struct rpk_chardev *cd = cd_of(req);
	struct cd_file *p;
	int last;

	pthread_mutex_lock(&cd->mu);
	for (p = cd->texts; p && p != f; p = p->next)
		;
	if (p)
		f->readers++;
	pthread_mutex_unlock(&cd->mu);
	if (!p)
		return (void)fuse_reply_err(req, EBADF); /* released already */
	if ((size_t)off >= f->text_len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, f->text + off,
			       f->text_len - (size_t)off < size ? f->text_len - (size_t)off : size);
	pthread_mutex_lock(&cd->mu);
	last = --f->readers == 0 && f->released;
	pthread_mutex_unlock(&cd->mu);
	if (last)
		free_file(f);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct cd_file *f = (struct cd_file *)(uintptr_t)fi->fh;

	if (is_text(ino))
		return read_text(req, f, size, off); /* f may be released: not read */
	switch (f->kind) {
	case CD_FILE_TEXT: /* by its inode, above */
		return (void)fuse_reply_err(req, EBADF);
	case CD_FILE_CTRL:
		return (void)fuse_reply_err(req, EINVAL);
	case CD_FILE_DEV:
		fuse_req_interrupt_func(req, cd_on_interrupt, cd_of(req));
		/* O_NONBLOCK set with fcntl after open arrives with each read. */
		cd_dev_read(f->dev, req, size, !!(fi->flags & O_NONBLOCK));
		return;
	}
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct cd_file *f = (struct cd_file *)(uintptr_t)fi->fh;
	ssize_t n;

	(void)ino;
	(void)off;
	if (f->kind != CD_FILE_DEV)
		return (void)fuse_reply_err(req, EINVAL);
	n = cd_dev_write(f->dev, req, buf, size, !!(fi->flags & O_NONBLOCK));
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

static void ctrl_ioctl(fuse_req_t req, struct cd_file *f, unsigned int cmd, const void *in,
		       size_t in_size)
{
	struct rpk_chardev *cd = cd_of(req);
	struct rpmsg_endpoint_info info;
	int rc;

	if (cmd != RPMSG_CREATE_EPT_IOCTL)
		return (void)fuse_reply_err(req, EINVAL);
	if (in_size < sizeof(info))
		return (void)fuse_reply_err(req, EFAULT);
	memcpy(&info, in, sizeof(info));
	info.name[sizeof(info.name) - 1] = 0; /* as the kernel: cut, not refused */
	if ((int)f->session != cd_session_now(cd))
		return (void)fuse_reply_err(req,
					    ENETRESET); /* a control file of an ended session */
	rc = cd_dev_add_ctrl(cd, info.name, info.src, info.dst);
	if (rc)
		return (void)fuse_reply_err(req, -rc);
	fuse_reply_ioctl(req, 0, NULL, 0);
}

static void op_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg,
		     struct fuse_file_info *fi, unsigned flags, const void *in_buf, size_t in_bufsz,
		     size_t out_bufsz)
{
	struct cd_file *f = (struct cd_file *)(uintptr_t)fi->fh;
	int rc;

	(void)ino;
	(void)arg;
	(void)out_bufsz;
	if (flags & FUSE_IOCTL_COMPAT)
		return (void)fuse_reply_err(req, ENOSYS);
	if (f->kind == CD_FILE_CTRL)
		return ctrl_ioctl(req, f, cmd, in_buf, in_bufsz);
	if (f->kind != CD_FILE_DEV || cmd != RPMSG_DESTROY_EPT_IOCTL)
		return (void)fuse_reply_err(req, f->kind == CD_FILE_TEXT ? ENOTTY : EINVAL);
	rc = cd_dev_destroy_ioctl(f->dev);
	if (rc)
		return (void)fuse_reply_err(req, -rc);
	fuse_reply_ioctl(req, 0, NULL, 0);
}

static void op_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph)
{
	struct cd_file *f = (struct cd_file *)(uintptr_t)fi->fh;

	(void)ino;
	if (f->kind != CD_FILE_DEV) {
		if (ph)
			fuse_pollhandle_destroy(ph);
		return (void)fuse_reply_poll(req, POLLIN | POLLOUT);
	}
	fuse_reply_poll(req, cd_dev_poll(f->dev, f, ph));
}

const struct fuse_lowlevel_ops cd_fs_ops = {
    .lookup = op_lookup,
    .getattr = op_getattr,
    .readlink = op_readlink,
    .setattr = op_setattr,
    .readdir = op_readdir,
    .open = op_open,
    .release = op_release,
    .read = op_read,
    .write = op_write,
    .ioctl = op_ioctl,
    .poll = op_poll,
};
