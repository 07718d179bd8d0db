/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user device backend: a Linux guest (User-Mode Linux's virtio_uml, or
 * a VM) drives its own virtio_rpmsg_bus as the master, and we are the rpmsg
 * device, i.e. the remote, with the same virtqueue and rpmsg code as every
 * other link. Only the port differs: kicks arrive on eventfds, we call the
 * guest through a pipe or eventfd, and descriptor addresses are translated
 * through the memory table the guest sent.
 */
#ifndef RPK_VHOST_USER_H
#define RPK_VHOST_USER_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <rpk/rpmsg.h>

struct rpk_vhu;

struct rpk_vhu_ops {
	/* The guest's driver is ready: create endpoints (announced at once). */
	void (*link_up)(struct rpk_rpmsg *dev, void *arg);
	/* The guest stopped the device; endpoints die with it. */
	void (*link_down)(struct rpk_rpmsg *dev, void *arg);
	void *arg;
	/*
	 * Optional: file descriptors the application also waits on in the
	 * serving loop (at most max of them in p; returns how many), and what
	 * to do once the loop woke (for them, a kick, or its period). Both run
	 * in the loop's thread, like link_up: the device is theirs to use.
	 */
	int (*poll_fds)(struct pollfd *p, int max, void *arg);
	void (*after_poll)(struct rpk_rpmsg *dev, const struct pollfd *p, int n, void *arg);
};

struct rpk_vhu_stats {
	uint64_t requests;  /* vhost-user messages handled */
	uint64_t kicks_in;  /* guest notifications received */
	uint64_t calls_out; /* guest interrupts raised */
	uint32_t links;	    /* times the rpmsg device came up */
	uint32_t features;  /* rpmsg features the guest accepted at the last link-up */
};

/* Listen on a UNIX socket (replacing a stale one). Returns 0 or -errno. */
int rpk_vhu_listen(struct rpk_vhu **out, const char *path, const struct rpk_vhu_ops *ops, char *err,
		   size_t errlen);

/*
 * Serve guests, one connection at a time, until *stop is set (or, with
 * once, until the first guest disconnects). Returns 0, or a negative error
 * on a protocol failure of the guest.
 */
int rpk_vhu_run(struct rpk_vhu *v, volatile sig_atomic_t *stop, int once);

void rpk_vhu_stats(const struct rpk_vhu *v, struct rpk_vhu_stats *s);
void rpk_vhu_close(struct rpk_vhu *v);

#endif
