// SPDX-License-Identifier: BSD-3-Clause
/*
 * The TAP side of a channel's network interface. Frames the kernel hands
 * the interface are read by a thread of ours and sent, one message each;
 * messages that arrive are written to the interface from the node's event
 * thread. A frame that does not fit a message, or finds no buffer or no
 * link within a moment, is dropped and counted, as a network device drops:
 * the link is never held up by the interface, nor the interface by the link.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rpk/errno.h>

#include "netdev/netdev.h"

#define ETH_HEADER   14u
#define SEND_WAIT_MS 20u  /* a frame waits this long for a buffer, then is dropped */
#define LINK_LOOK_MS 100u /* how often the thread looks whether the link came or went */
#define FRAME_MAX    65536u
#define ENET_SERVICE "rpmsg-enet" /* the out-of-tree Linux rpmsg Ethernet drivers' name */
static const char hello[] = "hi"; /* shorter than a frame header: discarded */

struct rpk_netdev {
	struct rpk_node *node;
	struct rpk_rpmsg *rpmsg;
	struct rpk_ept ept;
	uint32_t addr, send_src;
	uint32_t payload; /* bytes of a message: the largest frame */
	char name[IFNAMSIZ];
	int tap, stop_fd;
	int carrier; /* what we last told the interface */
	pthread_t thread;
	int thread_running;
	struct rpk_netdev_counts counts;
};

static void count(uint64_t *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

/* Node thread: a message is a frame for the interface. */
static int on_rx(struct rpk_ept *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct rpk_netdev *nd = priv;

	(void)ept;
	/* A remote sends to where the master's hello came from: a Linux
	 * rpmsg-enet driver's address is dynamic, and its hello is how we learn
	 * it. Frames may come from another address (seed 004's channel-src). */
	if (len < ETH_HEADER && rpk_node_role(nd->node) == RPK_ROLE_REMOTE && src != RPK_ADDR_ANY)
		__atomic_store_n(&nd->addr, src, __ATOMIC_RELAXED);
	if (len < ETH_HEADER)
		count(&nd->counts.hellos);
	else if (write(nd->tap, data, len) != (ssize_t)len)
		count(&nd->counts.rx_dropped);
	return 0;
}

static void set_carrier(struct rpk_netdev *nd, int up)
{
	if (nd->carrier == up)
		return;
	nd->carrier = up;
	ioctl(nd->tap, TUNSETCARRIER, &up);
	if (up && rpk_node_role(nd->node) == RPK_ROLE_MASTER)
		/* From where we receive: the remote answers there. */
		rpk_send_offchannel(&nd->ept, nd->ept.addr, nd->addr, hello, sizeof(hello) - 1,
				    SEND_WAIT_MS);
}

static void *reader(void *arg)
{
	struct rpk_netdev *nd = arg;
	uint8_t *frame = malloc(FRAME_MAX);
	struct pollfd p[2] = {{.fd = nd->tap, .events = POLLIN},
			      {.fd = nd->stop_fd, .events = POLLIN}};

	if (!frame)
		return NULL;
	for (;;) {
		int r;

		set_carrier(nd, rpk_rpmsg_is_up(nd->rpmsg));
		r = poll(p, 2, LINK_LOOK_MS);
		if (r < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (r <= 0 || !(p[0].revents & POLLIN))
			continue;
		ssize_t len = read(nd->tap, frame, FRAME_MAX);

		if (len <= 0)
			continue;
		if ((size_t)len > nd->payload ||
		    rpk_send_offchannel(&nd->ept, nd->send_src,
					__atomic_load_n(&nd->addr, __ATOMIC_RELAXED), frame,
					(size_t)len, SEND_WAIT_MS))
			count(&nd->counts.tx_dropped);
	}
	free(frame);
	return NULL;
}

/* The interface's MTU: set through a socket, as ip(8) does. */
static int set_mtu(const char *name, uint32_t mtu)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (s < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_mtu = (int)mtu;
	rc = ioctl(s, SIOCSIFMTU, &ifr);
	close(s);
	return rc;
}

static int open_tap(struct rpk_netdev *nd, char *err, size_t errlen)
{
	struct ifreq ifr;

	nd->tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (nd->tap < 0) {
		snprintf(err, errlen, "rpk up: %s: cannot open /dev/net/tun: %s\n", nd->name,
			 strerror(errno));
		return -RPK_EACCES;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", nd->name);
	if (ioctl(nd->tap, TUNSETIFF, &ifr) < 0) {
		snprintf(err, errlen, "rpk up: cannot create the interface %s: %s%s\n", nd->name,
			 strerror(errno), errno == EPERM ? " (needs CAP_NET_ADMIN)" : "");
		return -RPK_EACCES;
	}
	if (set_mtu(nd->name, nd->payload - ETH_HEADER) < 0) {
		snprintf(err, errlen, "rpk up: %s: cannot set the MTU to %u: %s\n", nd->name,
			 nd->payload - ETH_HEADER, strerror(errno));
		return -RPK_EIO;
	}
	nd->carrier = -1; /* unknown: the first look settles it (and says hello) */
	return 0;
}

int rpk_netdev_open(struct rpk_netdev **out, struct rpk_node *n, uint32_t channel, uint32_t ept,
		    uint32_t send_src, char *err, size_t errlen)
{
	struct rpk_netdev *nd = calloc(1, sizeof(*nd));
	sigset_t all, old;
	int rc;

	if (!nd)
		return -RPK_ENOMEM;
	nd->node = n;
	nd->rpmsg = rpk_node_dev(n);
	nd->addr = ept;
	nd->send_src = send_src == RPK_ADDR_ANY ? ept : send_src;
	nd->payload = nd->rpmsg->buf_size - RPK_RPMSG_HDR_SIZE;
	nd->tap = nd->stop_fd = -1;
	snprintf(nd->name, sizeof(nd->name), "rpmsg%u_%u", channel, ept);
	rc = open_tap(nd, err, errlen);
	if (!rc) {
		/* The remote announces the convention's name, so that a Linux
		 * master's rpmsg-enet driver finds it; our master needs none. */
		if (rpk_node_role(n) == RPK_ROLE_REMOTE) /* dst any: announced */
			rc = rpk_ept_create(nd->rpmsg, &nd->ept, ENET_SERVICE, ept, RPK_ADDR_ANY,
					    on_rx, nd);
		else
			rc = rpk_ept_create(nd->rpmsg, &nd->ept, "", ept, ept, on_rx, nd);
		if (rc)
			snprintf(err, errlen, "rpk up: %s: endpoint %u: %s\n", nd->name, ept,
				 rpk_strerror(rc));
	}
	if (!rc) {
		nd->stop_fd = eventfd(0, EFD_CLOEXEC);
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old); /* signals are the main thread's */
		if (nd->stop_fd < 0 || pthread_create(&nd->thread, NULL, reader, nd)) {
			snprintf(err, errlen, "rpk up: %s: out of resources\n", nd->name);
			rc = -RPK_ENOMEM;
		} else {
			nd->thread_running = 1;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc)
			rpk_ept_destroy(&nd->ept);
	}
	if (rc) {
		if (nd->tap >= 0)
			close(nd->tap);
		if (nd->stop_fd >= 0)
			close(nd->stop_fd);
		free(nd);
		return rc;
	}
	*out = nd;
	return 0;
}

const char *rpk_netdev_name(const struct rpk_netdev *nd)
{
	return nd->name;
}

void rpk_netdev_counts(struct rpk_netdev *nd, struct rpk_netdev_counts *c)
{
	c->tx_dropped = __atomic_load_n(&nd->counts.tx_dropped, __ATOMIC_RELAXED);
	c->rx_dropped = __atomic_load_n(&nd->counts.rx_dropped, __ATOMIC_RELAXED);
	c->hellos = __atomic_load_n(&nd->counts.hellos, __ATOMIC_RELAXED);
}

void rpk_netdev_close(struct rpk_netdev *nd)
{
	uint64_t one = 1;

	if (!nd)
		return;
	if (nd->thread_running) {
		if (write(nd->stop_fd, &one, sizeof(one)) < 0) { /* the thread looks again soon */
		}
		pthread_join(nd->thread, NULL);
	}
	rpk_ept_destroy(&nd->ept); /* no callback runs after this: the fd can go */
	close(nd->tap);		   /* the interface goes with its last fd */
	close(nd->stop_fd);
	free(nd);
}
