// SPDX-License-Identifier: BSD-3-Clause
/*
 * Endpoint devices: what a read, a write, a poll and a close do, after
 * Linux 6.1's drivers/rpmsg/rpmsg_char.c. A device made through
 * rpmsg_ctrl0 has its endpoint only while it is open (a second open is
 * EBUSY, an address taken makes the open EINVAL); when the link resets, the
 * device goes away as the kernel's does when its rpmsg device is removed:
 * its file leaves the directory, reads and writes on it fail with EPIPE,
 * poll says POLLERR. A devicetree device keeps its endpoint while the
 * service runs and lives across resets.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rpk/errno.h>

#include "chardev_internal.h"

int cd_session_now(struct rpk_chardev *cd)
{
	struct rpk_node_counts c;

	if (!rpk_rpmsg_is_up(cd->rpmsg))
		return 0;
	rpk_node_counts(cd->node, &c);
	return (int)c.attaches;
}

struct cd_dev *cd_dev_by_ino(struct rpk_chardev *cd, uint64_t ino)
{
	for (int i = 0; i < cd->num_devs; i++)
		if (cd->devs[i]->ino == ino)
			return cd->devs[i];
	return NULL;
}

struct cd_dev *cd_dev_by_name(struct rpk_chardev *cd, const char *name)
{
	for (int i = 0; i < cd->num_devs; i++)
		if (cd->devs[i]->listed && !strcmp(cd->devs[i]->file, name))
			return cd->devs[i];
	return NULL;
}

/* Wake every poller of d (the kernel then asks again). Under mu. */
static void notify_pollers(struct cd_dev *d)
{
	for (struct cd_file *f = d->files; f; f = f->next)
		if (f->ph) {
			fuse_lowlevel_notify_poll(f->ph);
			fuse_pollhandle_destroy(f->ph);
			f->ph = NULL;
		}
}

/* Answer waiting readers from the queue, or with err once d is gone. Under mu. */
static void serve_readers(struct cd_dev *d)
{
	uint8_t buf[RPK_MSGQ_BYTES];

	while (d->readers && (d->gone || !rpk_msgq_empty(&d->q))) {
		struct cd_parked *p = d->readers;

		d->readers = p->next;
		if (!d->readers)
			d->readers_tail = &d->readers;
		if (d->gone) {
			fuse_reply_err(p->req, EPIPE);
		} else {
			size_t n = rpk_msgq_pop(&d->q, buf, p->size);

			fuse_reply_buf(p->req, (const char *)buf, n);
		}
		free(p);
	}
}

/* The device leaves the directory and fails from now on. Under mu. */
static void make_gone(struct cd_dev *d)
{
	if (d->gone)
		return;
	d->gone = 1;
	rpk_msgq_clear(&d->q);
	serve_readers(d);
	notify_pollers(d);
	if (d->listed) {
		d->listed = 0;
		cd_dev_put(d);
	}
}

void cd_dev_put(struct cd_dev *d)
{
	struct rpk_chardev *cd = d->cd;

	if (--d->refs > 0)
		return;
	for (int i = 0; i < cd->num_devs; i++)
		if (cd->devs[i] == d) {
			cd->devs[i] = cd->devs[--cd->num_devs];
			break;
		}
	pthread_mutex_destroy(&d->send_mu);
	free(d);
}

/* Node thread, under the device's locks: queue what arrived for a reader. */
static int on_rx(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct cd_dev *d = priv;
	struct rpk_chardev *cd = d->cd;

	(void)ept;
	(void)src;
	pthread_mutex_lock(&cd->mu);
	if (d->gone) {
		cd->link_drops++;
	} else if (rpk_msgq_push(&d->q, data, len) == 0) {
		d->rx_msgs++;
		d->rx_bytes += len;
		serve_readers(d);
		notify_pollers(d);
	}
	pthread_mutex_unlock(&cd->mu);
	return 0;
}

/* Node thread: the link reset. A ctrl-made device goes, as the kernel's. */
static void on_unbind(struct rpk_ept *ept)
{
	struct cd_dev *d = ept->priv;
	struct rpk_chardev *cd = d->cd;

	if (d->origin != CD_FROM_CTRL)
		return;
	pthread_mutex_lock(&cd->mu);
	make_gone(d); /* the open file that holds the endpoint keeps d */
	pthread_mutex_unlock(&cd->mu);
}

void cd_expire_sessions(struct rpk_chardev *cd)
{
	int now = cd_session_now(cd);

	pthread_mutex_lock(&cd->mu);
	for (int i = cd->num_devs - 1; i >= 0; i--) {
		struct cd_dev *d = cd->devs[i];

		if (d->origin == CD_FROM_CTRL && !d->gone && (int)d->session != now)
			make_gone(d);
	}
	pthread_mutex_unlock(&cd->mu);
}

static struct cd_dev *new_dev(struct rpk_chardev *cd, enum cd_origin origin, enum rpk_dev_mode mode)
{
	struct cd_dev *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cd = cd;
	d->origin = origin;
	d->number = -1;
	d->refs = 1; /* listed */
	d->listed = 1;
	d->readers_tail = &d->readers;
	rpk_msgq_init(&d->q, mode, d->qbytes, d->qlens);
	pthread_mutex_init(&d->send_mu, NULL);
	return d;
}

int cd_dev_add_dt(struct rpk_chardev *cd, uint32_t channel, uint32_t ept, uint32_t send_src,
		  enum rpk_dev_mode mode, char *err, size_t errlen)
{
	struct cd_dev *d = new_dev(cd, CD_FROM_DT, mode);
	int rc;

	if (!d)
		return -RPK_ENOMEM;
	snprintf(d->file, sizeof(d->file), "rpmsg%u_%u", channel, ept);
	d->src = d->dst = ept;
	d->send_src = send_src == RPK_ADDR_ANY ? ept : send_src;
	rc = rpk_ept_create(cd->rpmsg, &d->ept, "", ept, ept, on_rx, d);
	if (rc) {
		snprintf(err, errlen, "rpk up: %s: endpoint %u: %s\n", d->file, ept,
			 rpk_strerror(rc));
		free(d);
		return rc;
	}
	rpk_ept_set_unbind(&d->ept, on_unbind);
	d->ept_live = 1;
	pthread_mutex_lock(&cd->mu);
	d->ino = cd->next_ino;
	cd->next_ino += 2;
	cd->devs[cd->num_devs++] = d;
	pthread_mutex_unlock(&cd->mu);
	return 0;
}

/* RPMSG_CREATE_EPT_IOCTL: a new rpmsgN, its endpoint made at open. */
int cd_dev_add_ctrl(struct rpk_chardev *cd, const char *name, uint32_t src, uint32_t dst)
{
	int session = cd_session_now(cd);
	struct cd_dev *d;
	int number = 0;

	if (!session)
		return -ENETRESET;
	d = new_dev(cd, CD_FROM_CTRL, RPK_DEV_MESSAGE);
	if (!d)
		return -ENOMEM;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->src = src;
	d->dst = dst;
	d->session = (uint32_t)session;
	pthread_mutex_lock(&cd->mu);
	/* The smallest free number, as the kernel's ida. */
	for (int again = 1; again;) {
		again = 0;
		for (int i = 0; i < cd->num_devs; i++)
			if (cd->devs[i]->listed && cd->devs[i]->number == number) {
				number++;
				again = 1;
			}
	}
	if (number >= CD_MAX_DEVS || cd->num_devs == CD_MAX_DEVS) {
		pthread_mutex_unlock(&cd->mu);
		free(d);
		return -ENOSPC;
	}
	d->number = number;
	snprintf(d->file, sizeof(d->file), "rpmsg%d", number);
	d->ino = cd->next_ino;
	cd->next_ino += 2;
	cd->devs[cd->num_devs++] = d;
	pthread_mutex_unlock(&cd->mu);
	return 0;
}

/* open(): a ctrl-made device makes its endpoint now. Returns 0 or -errno. */
int cd_dev_open(struct cd_dev *d)
{
	struct rpk_chardev *cd = d->cd;
	int rc;

	if (d->origin == CD_FROM_DT) {
		pthread_mutex_lock(&cd->mu);
		d->open_count++;
		d->refs++;
		pthread_mutex_unlock(&cd->mu);
		return 0;
	}
	cd_expire_sessions(cd);
	pthread_mutex_lock(&d->send_mu); /* one opener at a time makes the endpoint */
	pthread_mutex_lock(&cd->mu);
	if (d->gone || d->open_count) {
		rc = d->gone ? -ENETRESET : -EBUSY;
		pthread_mutex_unlock(&cd->mu);
		pthread_mutex_unlock(&d->send_mu);
		return rc;
	}
	d->refs++; /* held while we create, then by the open file */
	pthread_mutex_unlock(&cd->mu);
	/* No name: Linux does not announce an rpmsg_char endpoint, nor bind it. */
	rc = rpk_ept_create(cd->rpmsg, &d->ept, "", d->src, d->dst, on_rx, d);
	pthread_mutex_lock(&cd->mu);
	if (rc) {
		cd_dev_put(d);
		rc = -EINVAL; /* the kernel's answer to an endpoint it cannot make */
	} else {
		rpk_ept_set_unbind(&d->ept, on_unbind);
		d->send_src = d->ept.addr; /* src RPMSG_ADDR_ANY: the address it got */
		d->ept_live = 1;
		d->open_count = 1;
		rpk_msgq_clear(&d->q);
	}
	pthread_mutex_unlock(&cd->mu);
	pthread_mutex_unlock(&d->send_mu);
	return rc;
}

/* The endpoint goes (ctrl-made devices, at their last close or destroy). */
static void destroy_ept(struct cd_dev *d)
{
	int live;

	pthread_mutex_lock(&d->send_mu); /* no send is using it */
	pthread_mutex_lock(&d->cd->mu);
	live = d->ept_live;
	d->ept_live = 0;
	pthread_mutex_unlock(&d->cd->mu);
	if (live)
		rpk_ept_destroy(&d->ept);
	pthread_mutex_unlock(&d->send_mu);
}

void cd_dev_release(struct cd_dev *d, struct cd_file *f)
{
	struct rpk_chardev *cd = d->cd;
	int last;

	pthread_mutex_lock(&cd->mu);
	for (struct cd_file **pp = &d->files; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	if (f->ph)
		fuse_pollhandle_destroy(f->ph);
	last = --d->open_count == 0;
	pthread_mutex_unlock(&cd->mu);
	if (last && d->origin == CD_FROM_CTRL) {
		destroy_ept(d);
		pthread_mutex_lock(&cd->mu);
		rpk_msgq_clear(&d->q); /* the kernel purges the queue at release */
		pthread_mutex_unlock(&cd->mu);
	}
	pthread_mutex_lock(&cd->mu);
	cd_dev_put(d);
	pthread_mutex_unlock(&cd->mu);
}

/* RPMSG_DESTROY_EPT_IOCTL on an endpoint file. */
int cd_dev_destroy_ioctl(struct cd_dev *d)
{
	struct rpk_chardev *cd = d->cd;

	if (d->origin != CD_FROM_CTRL)
		return -EINVAL; /* the kernel's answer for a default endpoint */
	pthread_mutex_lock(&cd->mu);
	d->refs++; /* ours while we destroy the endpoint */
	make_gone(d);
	pthread_mutex_unlock(&cd->mu);
	destroy_ept(d);
	pthread_mutex_lock(&cd->mu);
	cd_dev_put(d);
	pthread_mutex_unlock(&cd->mu);
	return 0;
}

void cd_dev_read(struct cd_dev *d, fuse_req_t req, size_t size, int nonblock)
{
	struct rpk_chardev *cd = d->cd;
	uint8_t buf[RPK_MSGQ_BYTES];
	struct cd_parked *p;

	if (size > sizeof(buf))
		size = sizeof(buf);
	pthread_mutex_lock(&cd->mu);
	if (d->gone || (d->origin == CD_FROM_CTRL && !d->ept_live)) {
		pthread_mutex_unlock(&cd->mu);
		fuse_reply_err(req, EPIPE);
		return;
	}
	if (!rpk_msgq_empty(&d->q)) {
		size_t n = rpk_msgq_pop(&d->q, buf, size);

		pthread_mutex_unlock(&cd->mu);
		fuse_reply_buf(req, (const char *)buf, n);
		return;
	}
	if (nonblock) {
		pthread_mutex_unlock(&cd->mu);
		fuse_reply_err(req, EAGAIN);
		return;
	}
	/* Checked under mu: the watcher looks at parked readers under mu too,
	 * so an interrupt that comes after this finds the reader parked. */
	if (fuse_req_interrupted(req) || !(p = malloc(sizeof(*p)))) {
		pthread_mutex_unlock(&cd->mu);
		fuse_reply_err(req, EINTR);
		return;
	}
	p->req = req;
	p->size = size;
	p->next = NULL;
	*d->readers_tail = p;
	d->readers_tail = &p->next;
	pthread_mutex_unlock(&cd->mu);
}

/* Readers whose request a signal interrupted get EINTR (watcher thread). */
void cd_answer_interrupted(struct rpk_chardev *cd)
{
	pthread_mutex_lock(&cd->mu);
	for (int i = 0; i < cd->num_devs; i++) {
		struct cd_dev *d = cd->devs[i];

		for (struct cd_parked **pp = &d->readers; *pp;) {
			struct cd_parked *p = *pp;

			if (!fuse_req_interrupted(p->req)) {
				pp = &p->next;
				continue;
			}
			*pp = p->next;
			fuse_reply_err(p->req, EINTR);
			free(p);
		}
		d->readers_tail = &d->readers;
		while (*d->readers_tail)
			d->readers_tail = &(*d->readers_tail)->next;
	}
	pthread_mutex_unlock(&cd->mu);
}

static int to_errno(int rc)
{
	switch (rc) {
	case -RPK_EMSGSIZE:
		return EMSGSIZE;
	case -RPK_EAGAIN:
		return EAGAIN;
	case -RPK_ETIMEDOUT:
		return ETIMEDOUT;
	case -RPK_ENOTCONN:
		return ENOTCONN;
	case -RPK_EPIPE:
		return EPIPE;
	case -RPK_EINTR:
		return EINTR;
	default:
		return EIO;
	}
}

/* One message, waiting for a buffer in slices so an interrupt or the
 * device's end is seen. Called with send_mu held. */
static int send_one(struct cd_dev *d, fuse_req_t req, const char *buf, size_t len, int nonblock)
{
	uint32_t waited = 0;

	for (;;) {
		int rc = rpk_send_offchannel(&d->ept, d->send_src, d->dst, buf, len,
					     nonblock ? RPK_NO_WAIT : CD_SEND_SLICE_MS);

		if (rc != -RPK_ETIMEDOUT)
			return rc;
		waited += CD_SEND_SLICE_MS;
		if (waited >= CD_SEND_WAIT_MS)
			return rc;
		if (fuse_req_interrupted(req) ||
		    __atomic_load_n(&d->cd->stopping, __ATOMIC_ACQUIRE))
			return -RPK_EINTR;
		pthread_mutex_lock(&d->cd->mu);
		rc = d->gone;
		pthread_mutex_unlock(&d->cd->mu);
		if (rc)
			return -RPK_EPIPE;
	}
}

ssize_t cd_dev_write(struct cd_dev *d, fuse_req_t req, const char *buf, size_t size, int nonblock)
{
	size_t done = 0;
	int rc = 0;

	pthread_mutex_lock(&d->send_mu);
	pthread_mutex_lock(&d->cd->mu);
	if (d->gone || !d->ept_live)
		rc = -RPK_EPIPE;
	pthread_mutex_unlock(&d->cd->mu);
	if (!rc && d->dst == RPK_ADDR_ANY)
		rc = -RPK_ENOTCONN; /* nowhere to send: no destination was given */
	/* Message mode: one write, one message. Stream mode: bytes, cut into
	 * messages as the buffers allow. */
	while (!rc && (done < size || size == 0)) {
		size_t len = size - done;

		if (d->q.mode == RPK_DEV_STREAM && len > rpk_max_payload(d->cd->rpmsg))
			len = rpk_max_payload(d->cd->rpmsg); /* the link's buffers (rpk,buf-size) */
		rc = send_one(d, req, buf + done, len, nonblock);
		if (rc)
			break;
		done += len;
		pthread_mutex_lock(&d->cd->mu);
		d->tx_msgs++;
		d->tx_bytes += len;
		pthread_mutex_unlock(&d->cd->mu);
		if (size == 0)
			break;
	}
	pthread_mutex_unlock(&d->send_mu);
	if (rc && !done) {
		if (rc != -RPK_EAGAIN && rc != -RPK_EMSGSIZE) {
			pthread_mutex_lock(&d->cd->mu);
			d->errors++;
			pthread_mutex_unlock(&d->cd->mu);
		}
		return -to_errno(rc);
	}
	return (ssize_t)done;
}

unsigned cd_dev_poll(struct cd_dev *d, struct cd_file *f, struct fuse_pollhandle *ph)
{
	unsigned mask = 0;

	pthread_mutex_lock(&d->cd->mu);
	if (ph) {
		if (f->ph)
			fuse_pollhandle_destroy(f->ph);
		f->ph = ph;
	}
	if (d->gone || (d->origin == CD_FROM_CTRL && !d->ept_live))
		mask = POLLERR;
	else if (!rpk_msgq_empty(&d->q))
		mask = POLLIN | POLLRDNORM;
	pthread_mutex_unlock(&d->cd->mu);
	return mask;
}

/* Service ending: readers get EPIPE, endpoints go. */
void cd_shutdown_devs(struct rpk_chardev *cd)
{
	pthread_mutex_lock(&cd->mu);
	for (int i = 0; i < cd->num_devs; i++)
		cd->devs[i]->refs++; /* keep them while we destroy endpoints */
	int n = cd->num_devs;
	struct cd_dev *devs[CD_MAX_DEVS + RPK_LAYOUT_MAX_DEVICES];

	memcpy(devs, cd->devs, sizeof(devs[0]) * (size_t)n);
	for (int i = 0; i < n; i++)
		make_gone(devs[i]);
	pthread_mutex_unlock(&cd->mu);
	for (int i = 0; i < n; i++) {
		destroy_ept(devs[i]);
		pthread_mutex_lock(&cd->mu);
		cd_dev_put(devs[i]);
		pthread_mutex_unlock(&cd->mu);
	}
}
