/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the endpoint-device service: the objects the FUSE side (fs.c), the
 * devices (eptdev.c) and the counters (counters.c) share.
 *
 * Threads: the node's event thread runs the receive and unbind callbacks;
 * FUSE worker threads run the requests; a watcher thread answers readers a
 * signal interrupted. One mutex (cd->mu) guards everything below but a
 * device's send, which its own send_mu serialises, so that a send waiting
 * for a buffer never holds up the receive path. Order: send_mu, then mu,
 * then a FUSE request's own lock (fuse_req_interrupted). rpk_ept_destroy()
 * is never called under mu: it waits for a running callback, which takes mu.
 */
#ifndef RPK_CHARDEV_INTERNAL_H
#define RPK_CHARDEV_INTERNAL_H

#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 12)
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>

#include "chardev.h"
#include "msgqueue.h"

#define CD_MAX_DEVS	  256 /* Linux's RPMSG_DEV_MAX */
#define CD_SEND_SLICE_MS  50u
#define CD_SEND_WAIT_MS	  15000u /* Linux's rpmsg_sendto waits 15 s for a buffer */
#define CD_INO_ROOT	  1
#define CD_INO_STATS	  2
#define CD_INO_INTERRUPTS 3
#define CD_INO_CTRL	  4
#define CD_INO_LINKSTATS  5
#define CD_INO_FIRST_LINK 6 /* symbolic links (rpk_chardev_link), up to CD_MAX_LINKS */
#define CD_MAX_LINKS	  10
#define CD_INO_FIRST_DEV  16 /* a device's file, and +1 its stats */

enum cd_origin {
	CD_FROM_CTRL, /* RPMSG_CREATE_EPT_IOCTL: endpoint exists while open */
	CD_FROM_DT    /* devicetree channel: endpoint exists while we serve */
};

/* A read that found nothing and waits for a message (answered later). */
struct cd_parked {
	fuse_req_t req;
	size_t size;
	struct cd_parked *next;
};

struct cd_file;

struct cd_dev {
	struct rpk_chardev *cd;
	char file[32]; /* rpmsgN or rpmsg<channel>_<endpoint> */
	uint64_t ino;
	enum cd_origin origin;
	int number;	   /* N of rpmsgN (ctrl-made), else -1 */
	char name[32];	   /* the endpoint's name (struct rpmsg_endpoint_info) */
	uint32_t src, dst; /* addresses; dst is where writes go */
	uint32_t send_src; /* source address of what we send */
	uint32_t session;  /* ctrl-made: the link session it belongs to */
	int listed;	   /* in the directory */
	int gone;	   /* destroyed or its session ended: EPIPE */
	int ept_live;	   /* ept created and not yet destroyed */
	int open_count;
	int refs; /* listed + open files + senders */
	struct rpk_ept ept;
	struct rpk_msgq q;
	uint8_t qbytes[RPK_MSGQ_BYTES];
	uint16_t qlens[RPK_MSGQ_MSGS];
	struct cd_parked *readers, **readers_tail;
	struct cd_file *files; /* open files, for poll notifications */
	pthread_mutex_t send_mu;
	uint64_t rx_msgs, rx_bytes, tx_msgs, tx_bytes, errors;
};

enum cd_file_kind { CD_FILE_DEV, CD_FILE_CTRL, CD_FILE_TEXT };

struct cd_file {
	enum cd_file_kind kind;
	struct cd_dev *dev;	    /* CD_FILE_DEV */
	uint32_t session;	    /* CD_FILE_CTRL: the session it was opened in */
	struct fuse_pollhandle *ph; /* CD_FILE_DEV: a poller to notify */
	char *text;		    /* CD_FILE_TEXT: the snapshot it reads */
	size_t text_len;
	struct cd_file *next; /* in dev->files; CD_FILE_TEXT: in cd->texts */
	/* CD_FILE_TEXT, under cd->mu: reads being answered, and whether the
	 * release came (the last of the two frees the file). */
	unsigned readers;
	int released;
};

struct rpk_chardev {
	struct rpk_node *node;
	struct rpk_rpmsg *rpmsg;
	const struct rpk_layout_node *ln;
	struct rpk_chardev_opts opts;
	char dir[4096];
	struct fuse_session *se;
	int mounted;
	pthread_mutex_t mu;
	/* Open text files (counters, interrupts), under mu: a read finds its
	 * file here or not at all, however late it runs after the release. */
	struct cd_file *texts;
	struct cd_dev *devs[CD_MAX_DEVS + RPK_LAYOUT_MAX_DEVICES];
	int num_devs;
	uint64_t next_ino;
	uint64_t link_drops; /* messages for a device that was gone */
	/* Symbolic links the service shows (the ttys' ptys), under mu. */
	struct cd_link {
		char name[32];
		char target[128];
	} links[CD_MAX_LINKS];
	/* Readers a signal interrupted: the watcher answers them. */
	int intr_fd; /* eventfd */
	int stopping;
	pthread_t watcher;
	int watcher_running;
	pthread_t loop_thread; /* runs rpk_chardev_run() */
	int loop_running;
};

/* eptdev.c */
int cd_session_now(struct rpk_chardev *cd); /* the link's session, 0 while down */
int cd_dev_add_dt(struct rpk_chardev *cd, uint32_t channel, uint32_t ept, uint32_t send_src,
		  enum rpk_dev_mode mode, char *err, size_t errlen);
int cd_dev_add_ctrl(struct rpk_chardev *cd, const char *name, uint32_t src, uint32_t dst);
int cd_dev_open(struct cd_dev *d);
void cd_dev_release(struct cd_dev *d, struct cd_file *f);
int cd_dev_destroy_ioctl(struct cd_dev *d);
void cd_dev_read(struct cd_dev *d, fuse_req_t req, size_t size, int nonblock);
ssize_t cd_dev_write(struct cd_dev *d, fuse_req_t req, const char *buf, size_t size, int nonblock);
unsigned cd_dev_poll(struct cd_dev *d, struct cd_file *f, struct fuse_pollhandle *ph);
void cd_dev_put(struct cd_dev *d);		 /* under mu */
void cd_expire_sessions(struct rpk_chardev *cd); /* under mu */
void cd_answer_interrupted(struct rpk_chardev *cd);
void cd_shutdown_devs(struct rpk_chardev *cd);
struct cd_dev *cd_dev_by_ino(struct rpk_chardev *cd, uint64_t ino); /* under mu */
struct cd_dev *cd_dev_by_name(struct rpk_chardev *cd, const char *name);

/* counters.c */
char *cd_text_interrupts(struct rpk_chardev *cd, size_t *len);
char *cd_text_link_stats(struct rpk_chardev *cd, size_t *len);
char *cd_text_dev_stats(struct cd_dev *d, size_t *len); /* under mu */

/* chardev.c: a request was interrupted (FUSE's interrupt callback: it
 * runs under the request's lock, so it only wakes the watcher). */
void cd_on_interrupt(fuse_req_t req, void *data);

/* fs.c */
extern const struct fuse_lowlevel_ops cd_fs_ops;

#endif
