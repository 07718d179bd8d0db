// SPDX-License-Identifier: BSD-3-Clause
/*
 * The service's life: make the devicetree's devices, mount the directory,
 * serve FUSE requests until stopped, and take it all down again.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rpk/errno.h>

#include "chardev_internal.h"

void cd_on_interrupt(fuse_req_t req, void *data)
{
	struct rpk_chardev *cd = data;
	uint64_t one = 1;

	(void)req;
	if (write(cd->intr_fd, &one, sizeof(one)) < 0) { /* counter full: already due */
	}
}

static void *watcher(void *arg)
{
	struct rpk_chardev *cd = arg;
	uint64_t v;

	while (read(cd->intr_fd, &v, sizeof(v)) == sizeof(v) &&
	       !__atomic_load_n(&cd->stopping, __ATOMIC_ACQUIRE))
		cd_answer_interrupted(cd);
	return NULL;
}

/* mkdir -p; an abandoned mount of a service that died is taken away. */
static int make_dir(const char *dir, char *err, size_t errlen)
{
	char path[4096];
	struct stat st;

	if (stat(dir, &st) && errno == ENOTCONN && umount2(dir, MNT_DETACH)) {
		snprintf(err, errlen, "rpk up: %s: a dead service's mount is in the way (%s)\n",
			 dir, strerror(errno));
		return -RPK_EIO;
	}
	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(path, 0755);
			*p = '/';
		}
	if (mkdir(path, 0755) && errno != EEXIST) {
		snprintf(err, errlen, "rpk up: cannot create %s: %s (choose another with --dir)\n",
			 dir, strerror(errno));
		return -RPK_EACCES;
	}
	return 0;
}

static int mount_dir(struct rpk_chardev *cd, char *err, size_t errlen)
{
	char opts[128];
	char *argv[] = {"rpk-up", "-o", opts, NULL};
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);

	snprintf(opts, sizeof(opts), "fsname=rpk,subtype=rpk,default_permissions%s",
		 cd->opts.group_set ? ",allow_other" : "");
	cd->se = fuse_session_new(&args, &cd_fs_ops, sizeof(cd_fs_ops), cd);
	fuse_opt_free_args(&args); /* the session keeps what it needs */
	if (!cd->se) {
		snprintf(err, errlen, "rpk up: FUSE refused to start (is /dev/fuse there?)\n");
		return -RPK_EIO;
	}
	if (fuse_session_mount(cd->se, cd->dir)) {
		snprintf(err, errlen,
			 "rpk up: cannot mount %s (FUSE: needs /dev/fuse, and root or "
			 "fusermount3%s)\n",
			 cd->dir,
			 cd->opts.group_set ? ", and user_allow_other in /etc/fuse.conf" : "");
		fuse_session_destroy(cd->se);
		cd->se = NULL;
		return -RPK_EIO;
	}
	cd->mounted = 1;
	return 0;
}

static int add_channel_devices(struct rpk_chardev *cd, char *err, size_t errlen)
{
	const struct rpk_layout_channel *ch = &cd->ln->channel;

	if (!ch->present)
		return 0;
	for (int i = 0; i < ch->num_misc; i++) {
		int rc = cd_dev_add_dt(cd, ch->index, ch->misc[i], ch->src, ch->misc_mode[i], err,
				       errlen);

		if (rc)
			return rc;
	}
	return 0;
}

int rpk_chardev_open(struct rpk_chardev **out, struct rpk_node *n, const struct rpk_layout_node *ln,
		     const struct rpk_chardev_opts *o, char *err, size_t errlen)
{
	struct rpk_chardev *cd = calloc(1, sizeof(*cd));
	sigset_t all, old;
	int rc;

	if (!cd)
		return -RPK_ENOMEM;
	cd->node = n;
	cd->rpmsg = rpk_node_dev(n);
	cd->ln = ln;
	cd->opts = *o;
	cd->next_ino = CD_INO_FIRST_DEV;
	cd->intr_fd = -1;
	snprintf(cd->dir, sizeof(cd->dir), "%s", o->dir);
	cd->opts.dir = cd->dir;
	pthread_mutex_init(&cd->mu, NULL);
	rc = add_channel_devices(cd, err, errlen);
	if (!rc)
		rc = make_dir(cd->dir, err, errlen);
	if (!rc)
		rc = mount_dir(cd, err, errlen);
	if (!rc) {
		cd->intr_fd = eventfd(0, EFD_CLOEXEC);
		/* The watcher takes no signal: they are for the main thread. */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		if (cd->intr_fd < 0 || pthread_create(&cd->watcher, NULL, watcher, cd)) {
			snprintf(err, errlen, "rpk up: out of resources\n");
			rc = -RPK_ENOMEM;
		} else {
			cd->watcher_running = 1;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (rc) {
		rpk_chardev_close(cd);
		return rc;
	}
	*out = cd;
	return 0;
}

static void wake_loop(int sig)
{
	(void)sig;
}

int rpk_chardev_run(struct rpk_chardev *cd)
{
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	struct sigaction sa;
	int rc;

	if (!cfg)
		return -RPK_ENOMEM;
	/* rpk_chardev_stop() may run in another thread: it pokes this one with
	 * SIGUSR1 so the loop's wait ends and it sees the session exited. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wake_loop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	cd->loop_thread = pthread_self();
	__atomic_store_n(&cd->loop_running, 1, __ATOMIC_RELEASE);
	if (__atomic_load_n(&cd->stopping, __ATOMIC_ACQUIRE))
		fuse_session_exit(cd->se);
	fuse_loop_cfg_set_max_threads(cfg, 32);
	rc = fuse_session_loop_mt(cd->se, cfg);
	__atomic_store_n(&cd->loop_running, 0, __ATOMIC_RELEASE);
	fuse_loop_cfg_destroy(cfg);
	return rc < 0 ? -RPK_EIO : 0;
}

void rpk_chardev_stop(struct rpk_chardev *cd)
{
	__atomic_store_n(&cd->stopping, 1, __ATOMIC_RELEASE);
	if (cd->se)
		fuse_session_exit(cd->se);
	if (__atomic_load_n(&cd->loop_running, __ATOMIC_ACQUIRE) &&
	    !pthread_equal(pthread_self(), cd->loop_thread))
		pthread_kill(cd->loop_thread, SIGUSR1);
}

void rpk_chardev_close(struct rpk_chardev *cd)
{
	uint64_t one = 1;

	if (!cd)
		return;
	__atomic_store_n(&cd->stopping, 1, __ATOMIC_RELEASE);
	if (cd->watcher_running) {
		if (write(cd->intr_fd, &one, sizeof(one)) < 0) { /* the watcher is waking anyway */
		}
		pthread_join(cd->watcher, NULL);
	}
	/* Readers still waiting are answered (EPIPE) while the channel is open. */
	cd_shutdown_devs(cd);
	if (cd->se) {
		if (cd->mounted)
			fuse_session_unmount(cd->se);
		fuse_session_destroy(cd->se);
	}
	if (cd->intr_fd >= 0)
		close(cd->intr_fd);
	pthread_mutex_destroy(&cd->mu);
	free(cd);
}

int rpk_chardev_link(struct rpk_chardev *cd, const char *name, const char *target)
{
	int free_slot = -1, rc = 0;

	pthread_mutex_lock(&cd->mu);
	for (int i = 0; i < CD_MAX_LINKS; i++) {
		struct cd_link *l = &cd->links[i];

		if (l->name[0] && !strcmp(l->name, name)) {
			l->name[0] = 0; /* replaced or removed */
			free_slot = i;
		} else if (!l->name[0] && free_slot < 0) {
			free_slot = i;
		}
	}
	if (target && free_slot < 0)
		rc = -RPK_ENOSPC;
	else if (target) {
		snprintf(cd->links[free_slot].target, sizeof(cd->links[free_slot].target), "%s",
			 target);
		snprintf(cd->links[free_slot].name, sizeof(cd->links[free_slot].name), "%s", name);
	}
	pthread_mutex_unlock(&cd->mu);
	return rc;
}
