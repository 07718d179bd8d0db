// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * QEMU's ivshmem-doorbell PCI device (1af4:1110) as a Linux mailbox
 * controller ("pci1af4,1110", docs/bindings/rpk,ivshmem-mailbox.yaml): the
 * doorbells of rpk_shm_mbox.c with real interrupts, for a remote that runs
 * beside us on the same ivshmem server (another QEMU, a host process).
 *
 * Channel N is vector N both ways: sending rings vector N of the peer named
 * by rpk,peer-id, and our MSI-X vector N is a message on channel N. The
 * remoteproc driver (rpk_rproc.c) only uses the mailbox API: its mboxes
 * point at this device's node, a child of the PCIe host bridge's node.
 *
 * Interrupts are MSI-X only: INTx has one line and a status register that
 * does not say which vector rang.
 */
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/mailbox_client.h>
#include <linux/mailbox_controller.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#define PCI_VENDOR_ID_IVSHMEM 0x1af4
#define PCI_DEVICE_ID_IVSHMEM 0x1110

/* BAR0 registers (QEMU docs/specs/ivshmem-spec.rst) */
#define IVSHMEM_BAR_REGS    0
#define IVSHMEM_IVPOSITION  0x08
#define IVSHMEM_DOORBELL    0x0c
#define IVSHMEM_REGS_SIZE   0x10 /* what we touch: up to the doorbell */
#define IVSHMEM_MAX_PEER_ID 0xffff
/* QEMU takes only the low 8 bits of the doorbell's vector field: a higher
 * channel would ring another vector. */
#define IVSHMEM_MAX_VECTORS 256

struct rpk_ivshmem;

struct rpk_ivshmem_chan {
	struct rpk_ivshmem *mb;
	struct mbox_chan *chan;
	u32 index;
	spinlock_t lock; /* listening, against the handler's delivery */
	bool listening;	 /* a client with a callback started it */
};

struct rpk_ivshmem {
	struct mbox_controller ctrl;
	struct rpk_ivshmem_chan *chans;
	void __iomem *regs;
	u32 peer;
};

static struct rpk_ivshmem_chan *chan_priv(struct mbox_chan *chan)
{
	return chan->con_priv;
}

/* Ring vector `index` of the peer. */
static int rpk_ivshmem_send_data(struct mbox_chan *chan, void *data)
{
	struct rpk_ivshmem_chan *c = chan_priv(chan);

	/* writel's barrier puts what we published in the rings before the
	 * doorbell, as the peer reads them after its interrupt. */
	writel(c->mb->peer << 16 | c->index, c->mb->regs + IVSHMEM_DOORBELL);
	return 0;
}

/* Listened to only by a client that takes messages: the tx client's
 * channel is a vector of ours too, which nobody should ring; if the peer
 * does, nothing is delivered to a client without a callback. */
static int rpk_ivshmem_startup(struct mbox_chan *chan)
{
	struct rpk_ivshmem_chan *c = chan_priv(chan);
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	c->listening = chan->cl && chan->cl->rx_callback;
	spin_unlock_irqrestore(&c->lock, flags);
	return 0;
}

/* Once this returns, the handler delivers nothing more on the channel (the
 * framework forgets its client next). */
static void rpk_ivshmem_shutdown(struct mbox_chan *chan)
{
	struct rpk_ivshmem_chan *c = chan_priv(chan);
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	c->listening = false;
	spin_unlock_irqrestore(&c->lock, flags);
}

static const struct mbox_chan_ops rpk_ivshmem_ops = {
    .send_data = rpk_ivshmem_send_data,
    .startup = rpk_ivshmem_startup,
    .shutdown = rpk_ivshmem_shutdown,
};

/* A ring nobody listens to is dropped: the rings say what there is, and
 * the remoteproc core looks at them when it starts. */
static irqreturn_t rpk_ivshmem_irq(int irq, void *data)
{
	struct rpk_ivshmem_chan *c = data;

	spin_lock(&c->lock);
	if (c->listening)
		mbox_chan_received_data(c->chan, NULL);
	spin_unlock(&c->lock);
	return IRQ_HANDLED;
}

/* BAR0, mapped for the device's life (pcim). */
static int rpk_ivshmem_map(struct pci_dev *pdev, struct rpk_ivshmem *mb)
{
	struct device *dev = &pdev->dev;
	int ret;

	if (pci_resource_len(pdev, IVSHMEM_BAR_REGS) < IVSHMEM_REGS_SIZE) {
		dev_err(dev, "BAR0 is %llu bytes: too small for ivshmem's registers\n",
			(unsigned long long)pci_resource_len(pdev, IVSHMEM_BAR_REGS));
		return -ENODEV;
	}
	ret = pcim_iomap_regions(pdev, BIT(IVSHMEM_BAR_REGS), KBUILD_MODNAME);
	if (ret)
		return dev_err_probe(dev, ret, "cannot map BAR0\n");
	mb->regs = pcim_iomap_table(pdev)[IVSHMEM_BAR_REGS];
	return mb->regs ? 0 : -ENOMEM;
}

/* The peer we ring, from the devicetree. */
static int rpk_ivshmem_parse_peer(struct device *dev, struct rpk_ivshmem *mb)
{
	int ret;

	mb->peer = 0;
	ret = of_property_read_u32(dev->of_node, "rpk,peer-id", &mb->peer);
	if (ret && ret != -EINVAL) { /* -EINVAL: absent, the default */
		dev_err(dev, "rpk,peer-id must be one u32 cell (%d)\n", ret);
		return ret;
	}
	if (mb->peer > IVSHMEM_MAX_PEER_ID) {
		dev_err(dev, "rpk,peer-id must be 0..%u, not %u\n", IVSHMEM_MAX_PEER_ID, mb->peer);
		return -EINVAL;
	}
	return 0;
}

/* One MSI-X vector per channel, allocated and freed with the device
 * (pcim); returns how many, or an error. */
static int rpk_ivshmem_alloc_vectors(struct pci_dev *pdev)
{
	struct device *dev = &pdev->dev;
	int n = pci_msix_vec_count(pdev), ret;

	if (n <= 0) {
		/* QEMU: ivshmem-doorbell,vectors=N with msi=on, its default. */
		dev_err(dev, "no MSI-X: INTx cannot say which vector rang\n");
		return -ENODEV;
	}
	if (n > IVSHMEM_MAX_VECTORS) {
		dev_warn(dev, "%d MSI-X vectors: using the first %d, all the doorbell can ring\n",
			 n, IVSHMEM_MAX_VECTORS);
		n = IVSHMEM_MAX_VECTORS;
	}
	ret = pci_alloc_irq_vectors(pdev, n, n, PCI_IRQ_MSIX);
	if (ret < 0) {
		dev_err(dev, "cannot allocate %d MSI-X vectors: %d\n", n, ret);
		return ret;
	}
	return n;
}

/* Channels and their interrupts: nothing is delivered before a client
 * starts a channel, so the handlers may run from here on. */
static int rpk_ivshmem_setup_chans(struct pci_dev *pdev, struct rpk_ivshmem *mb, int n)
{
	struct device *dev = &pdev->dev;
	int i, ret;

	mb->chans = devm_kcalloc(dev, n, sizeof(*mb->chans), GFP_KERNEL);
	mb->ctrl.chans = devm_kcalloc(dev, n, sizeof(*mb->ctrl.chans), GFP_KERNEL);
	if (!mb->chans || !mb->ctrl.chans)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct rpk_ivshmem_chan *c = &mb->chans[i];
		const char *name;
		int irq;

		c->mb = mb;
		c->chan = &mb->ctrl.chans[i];
		c->index = i;
		spin_lock_init(&c->lock);
		mb->ctrl.chans[i].con_priv = c;
		irq = pci_irq_vector(pdev, i);
		if (irq < 0)
			return irq;
		name = devm_kasprintf(dev, GFP_KERNEL, "rpk-ivshmem %s.%d", dev_name(dev), i);
		if (!name)
			return -ENOMEM;
		/* Freed before the vectors: devres undoes in reverse. */
		ret = devm_request_irq(dev, irq, rpk_ivshmem_irq, 0, name, c);
		if (ret)
			return dev_err_probe(dev, ret, "cannot request vector %d\n", i);
	}
	return 0;
}

static int rpk_ivshmem_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct rpk_ivshmem *mb;
	u32 position;
	int n, ret;

	/* Clients find us by phandle, and only the PCI core can give us a
	 * node: the child of the host bridge's node whose reg matches. */
	if (!dev->of_node) {
		dev_err(dev,
			"no devicetree node: it must be a child of the PCIe host bridge's node "
			"with reg = <devfn-encoded 0 0 0 0> (here bus %u device %u function %u: "
			"<0x%x 0 0 0 0>)\n",
			pdev->bus->number, PCI_SLOT(pdev->devfn), PCI_FUNC(pdev->devfn),
			pdev->bus->number << 16 | pdev->devfn << 8);
		return -ENODEV;
	}
	mb = devm_kzalloc(dev, sizeof(*mb), GFP_KERNEL);
	if (!mb)
		return -ENOMEM;
	ret = rpk_ivshmem_parse_peer(dev, mb);
	if (ret)
		return ret;
	ret = pcim_enable_device(pdev);
	if (ret)
		return dev_err_probe(dev, ret, "cannot enable the device\n");
	ret = rpk_ivshmem_map(pdev, mb);
	if (ret)
		return ret;
	/* -1 (or anything above a peer ID): no server gave us an ID, so
	 * nobody can ring us. */
	position = readl(mb->regs + IVSHMEM_IVPOSITION);
	if (position > IVSHMEM_MAX_PEER_ID) {
		dev_err(dev, "IVPosition reads 0x%x: not connected to an ivshmem server\n",
			position);
		return -ENODEV;
	}
	n = rpk_ivshmem_alloc_vectors(pdev);
	if (n < 0)
		return n;
	/* An MSI-X message is a write by the device: no bus mastering, no
	 * interrupts (QEMU drops them). */
	pci_set_master(pdev);
	ret = rpk_ivshmem_setup_chans(pdev, mb, n);
	if (ret)
		return ret;
	mb->ctrl.dev = dev;
	mb->ctrl.ops = &rpk_ivshmem_ops;
	mb->ctrl.num_chans = n;
	/* Neither txdone_irq nor txdone_poll: the client acks each send
	 * (a doorbell is delivered the moment it is written). The default
	 * of_xlate reads one cell, the channel index. */
	ret = devm_mbox_controller_register(dev, &mb->ctrl);
	if (ret)
		return dev_err_probe(dev, ret, "cannot register the mailbox controller\n");
	pci_set_drvdata(pdev, mb);
	dev_info(dev, "ivshmem doorbells: we are peer %u, ringing peer %u, %d vectors\n", position,
		 mb->peer, n);
	return 0;
}

static const struct pci_device_id rpk_ivshmem_ids[] = {
    {PCI_DEVICE(PCI_VENDOR_ID_IVSHMEM, PCI_DEVICE_ID_IVSHMEM)},
    {},
};
MODULE_DEVICE_TABLE(pci, rpk_ivshmem_ids);

/* No of_match_table: a PCI driver matches by ID; the node's compatible
 * ("pci1af4,1110") only documents it. */
static struct pci_driver rpk_ivshmem_driver = {
    .name = "rpk-ivshmem-mbox",
    .id_table = rpk_ivshmem_ids,
    .probe = rpk_ivshmem_probe,
    .driver =
	{
	    /* Unbinding under a bound client would free its channels. */
	    .suppress_bind_attrs = true,
	},
};
module_pci_driver(rpk_ivshmem_driver);

MODULE_DESCRIPTION("rpmsg-kit doorbells on QEMU's ivshmem-doorbell device");
MODULE_LICENSE("Dual BSD/GPL");
