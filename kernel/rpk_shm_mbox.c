// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Doorbells in shared memory ("rpk,shm-mailbox", docs/host-link.md), as a
 * Linux mailbox controller: for a remote that cannot interrupt us (a host
 * process beside an emulator, a core without a mailbox IP), or to bring a
 * link up before its SoC's mailbox driver exists.
 *
 * A channel is 64 bytes; its first word, seq, is incremented by the side
 * that rings it. Sending increments our tx channel's seq. Nothing rings us,
 * so a kthread looks at the seq of every channel a client listens to and
 * reports a change as a message. The remoteproc driver (rpk_rproc.c) only
 * uses the mailbox API: a SoC with a real mailbox replaces this driver and
 * the devicetree's mboxes, nothing else.
 */
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/kthread.h>
#include <linux/mailbox_client.h>
#include <linux/mailbox_controller.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#define RPK_MBOX_STRIDE 64
#define RPK_MBOX_SEQ	0
#define DEFAULT_POLL_US 200

struct rpk_mbox_chan {
	void __iomem *seq;
	spinlock_t lock; /* seen and listening, against the poller's delivery */
	u32 seen;	 /* the peer's seq when we last looked */
	bool listening;	 /* a client with a callback started it */
};

struct rpk_mbox {
	struct mbox_controller ctrl;
	struct rpk_mbox_chan *chans;
	struct task_struct *poller;
	u32 poll_us;
};

static struct rpk_mbox_chan *chan_priv(struct mbox_chan *chan)
{
	return chan->con_priv;
}

/* Ring: the peer polls or sleeps on seq; we are its only writer. */
static int rpk_mbox_send_data(struct mbox_chan *chan, void *data)
{
	struct rpk_mbox_chan *c = chan_priv(chan);

	/* Pairs with the peer's read of seq before it looks at the rings:
	 * what we published there is seen before the new seq. */
	wmb();
	__raw_writel(__raw_readl(c->seq) + 1, c->seq);
	return 0;
}

/* Listened to only by a client that takes messages: a channel a client
 * only rings is not polled (it would hear its own rings). */
static int rpk_mbox_startup(struct mbox_chan *chan)
{
	struct rpk_mbox_chan *c = chan_priv(chan);
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	c->seen = __raw_readl(c->seq);
	c->listening = chan->cl && chan->cl->rx_callback;
	spin_unlock_irqrestore(&c->lock, flags);
	return 0;
}

/* Once this returns, the poller delivers nothing more on the channel (the
 * framework forgets its client next). */
static void rpk_mbox_shutdown(struct mbox_chan *chan)
{
	struct rpk_mbox_chan *c = chan_priv(chan);
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	c->listening = false;
	spin_unlock_irqrestore(&c->lock, flags);
}

static const struct mbox_chan_ops rpk_mbox_ops = {
    .send_data = rpk_mbox_send_data,
    .startup = rpk_mbox_startup,
    .shutdown = rpk_mbox_shutdown,
};

/* One look at every listened channel: a seq that moved is a doorbell. */
static void rpk_mbox_poll_once(struct rpk_mbox *mb)
{
	int i;

	for (i = 0; i < mb->ctrl.num_chans; i++) {
		struct rpk_mbox_chan *c = &mb->chans[i];
		unsigned long flags;
		u32 seq;

		if (!READ_ONCE(c->listening))
			continue; /* looked at again under the lock below */
		spin_lock_irqsave(&c->lock, flags);
		seq = __raw_readl(c->seq);
		if (c->listening && seq != c->seen) {
			c->seen = seq;
			/* Pairs with the peer's barrier before its ring: the rings
			 * are read after the seq that announced them. */
			rmb();
			mbox_chan_received_data(&mb->ctrl.chans[i], NULL);
		}
		spin_unlock_irqrestore(&c->lock, flags);
	}
}

static int rpk_mbox_poller(void *arg)
{
	struct rpk_mbox *mb = arg;

	while (!kthread_should_stop()) {
		rpk_mbox_poll_once(mb);
		usleep_range(mb->poll_us, mb->poll_us + mb->poll_us / 2);
	}
	return 0;
}

static int rpk_mbox_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct rpk_mbox *mb;
	struct resource *res;
	void __iomem *base;
	int i, n, ret;

	mb = devm_kzalloc(dev, sizeof(*mb), GFP_KERNEL);
	if (!mb)
		return -ENOMEM;
	res = platform_get_resource(pdev, IORESOURCE_MEM, 0);
	if (!res || resource_size(res) < RPK_MBOX_STRIDE) {
		dev_err(dev, "rpk,shm-mailbox: 'reg' must give at least one 64-byte channel\n");
		return -EINVAL;
	}
	/* Normal memory the peer shares, not device registers: write-combined
	 * mappings keep our accesses in order with the barriers above. */
	base = devm_ioremap_wc(dev, res->start, resource_size(res));
	if (!base)
		return -ENOMEM;
	n = resource_size(res) / RPK_MBOX_STRIDE;
	mb->chans = devm_kcalloc(dev, n, sizeof(*mb->chans), GFP_KERNEL);
	mb->ctrl.chans = devm_kcalloc(dev, n, sizeof(*mb->ctrl.chans), GFP_KERNEL);
	if (!mb->chans || !mb->ctrl.chans)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		mb->chans[i].seq = base + (size_t)i * RPK_MBOX_STRIDE + RPK_MBOX_SEQ;
		spin_lock_init(&mb->chans[i].lock);
		mb->ctrl.chans[i].con_priv = &mb->chans[i];
	}
	mb->poll_us = DEFAULT_POLL_US;
	of_property_read_u32(dev->of_node, "rpk,poll-us", &mb->poll_us);
	if (!mb->poll_us || mb->poll_us > 1000000) {
		dev_err(dev, "rpk,poll-us must be 1..1000000, not %u\n", mb->poll_us);
		return -EINVAL;
	}
	mb->ctrl.dev = dev;
	mb->ctrl.ops = &rpk_mbox_ops;
	mb->ctrl.num_chans = n;
	/* Neither txdone_irq nor txdone_poll: the client acks each send
	 * (a doorbell is delivered the moment seq is written). */
	ret = devm_mbox_controller_register(dev, &mb->ctrl);
	if (ret)
		return ret;
	mb->poller = kthread_run(rpk_mbox_poller, mb, "rpk-mbox/%s", dev_name(dev));
	if (IS_ERR(mb->poller))
		return PTR_ERR(mb->poller);
	platform_set_drvdata(pdev, mb);
	dev_info(dev, "%d doorbells in shared memory, polled every %u us\n", n, mb->poll_us);
	return 0;
}

static int rpk_mbox_remove(struct platform_device *pdev)
{
	struct rpk_mbox *mb = platform_get_drvdata(pdev);

	kthread_stop(mb->poller);
	return 0;
}

static const struct of_device_id rpk_mbox_of_match[] = {
    {.compatible = "rpk,shm-mailbox"},
    {},
};
MODULE_DEVICE_TABLE(of, rpk_mbox_of_match);

static struct platform_driver rpk_mbox_driver = {
    .probe = rpk_mbox_probe,
    .remove = rpk_mbox_remove,
    .driver =
	{
	    .name = "rpk-shm-mailbox",
	    /* Unbinding under a bound client would free its channels. */
	    .suppress_bind_attrs = true,
	    .of_match_table = rpk_mbox_of_match,
	},
};
module_platform_driver(rpk_mbox_driver);

MODULE_DESCRIPTION("rpmsg-kit doorbells in shared memory");
MODULE_LICENSE("Dual BSD/GPL");
