// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A remoteproc driver for a remote that boots by itself ("rpk,self-booted-remote",
 * docs/bindings/rpk,self-booted-remote.yaml): Linux attaches to the resource
 * table the remote laid out in shared memory, as in the seeds' TCC807x port,
 * without any SoC code. What a port to a real SoC changes is the devicetree
 * and, at most, the mailbox driver behind `mboxes`.
 *
 * Memory: every `memory-region` is a reserved-memory node with no-map. The one
 * with rpk,rsc-offset holds the table (at that offset, at most rpk,rsc-size
 * bytes). The others are carveouts named after their node (vdev0vring0,
 * vdev0vring1, vdev0buffer), as the remoteproc core looks them up; device
 * addresses are physical addresses.
 *
 * Liveness: a remote that reboots lays its table out again, with a vdev
 * status of 0 where Linux wrote at least ACKNOWLEDGE (or it sets
 * DEVICE_NEEDS_RESET). A watchdog reads the status every watch_ms and
 * reports a crash; the core then re-attaches (RPROC_FEAT_ATTACH_ON_RECOVERY).
 */
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/log2.h>
#include <linux/mailbox_client.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_reserved_mem.h>
#include <linux/platform_device.h>
#include <linux/remoteproc.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>

/* Exported by the remoteproc core, declared only in its private header. */
irqreturn_t rproc_vq_interrupt(struct rproc *rproc, int vq_id);

#define RPK_MAX_REGIONS 8

static unsigned int watch_ms = 100;
module_param(watch_ms, uint, 0644);
MODULE_PARM_DESC(watch_ms, "how often the remote's table is looked at for a reboot (ms, >= 10)");

static unsigned long watch_period(void)
{
	return msecs_to_jiffies(max(READ_ONCE(watch_ms), 10u));
}

struct rpk_region {
	const char *name;
	phys_addr_t base;
	size_t size;
};

struct rpk_rproc {
	struct rproc *rproc;
	struct device *dev;
	struct rpk_region regions[RPK_MAX_REGIONS];
	int num_regions;
	int table_region;
	void *table_map; /* the whole table region */
	u32 rsc_offset, rsc_size;
	struct mbox_client tx_cl, rx_cl; /* tx has no rx_callback: never polled */
	struct mbox_chan *tx, *rx;
	struct work_struct vq_work;
	struct delayed_work watch;
	unsigned int zero_looks; /* periods in a row the status read 0 */
};

/* ---- the table, read from memory the remote writes ---- */

/* The status byte of the table's first rpmsg vdev, or -1 if the table
 * makes no sense. Each word is read once, and every offset checked
 * against the table's size before it is used. */
static int rpk_vdev_status(struct rpk_rproc *rp)
{
	const u8 *t = rp->table_map + rp->rsc_offset;
	u32 ver = READ_ONCE(*(const u32 *)t), num = READ_ONCE(*(const u32 *)(t + 4));
	u32 i;

	if (ver != 1 || num > (rp->rsc_size - 16) / 4)
		return -1;
	for (i = 0; i < num; i++) {
		u32 off = READ_ONCE(*(const u32 *)(t + 16 + 4 * i));
		const struct fw_rsc_vdev *v;

		if (off % 4 || off > rp->rsc_size - sizeof(struct fw_rsc_hdr) - sizeof(*v) ||
		    READ_ONCE(*(const u32 *)(t + off)) != RSC_VDEV)
			continue;
		v = (const void *)(t + off + sizeof(struct fw_rsc_hdr));
		if (READ_ONCE(v->id) == VIRTIO_ID_RPMSG)
			return READ_ONCE(v->status);
	}
	return -1;
}

/* Our region of that name, or NULL. */
static const struct rpk_region *rpk_region_named(struct rpk_rproc *rp, const char *name)
{
	int i;

	for (i = 0; i < rp->num_regions; i++)
		if (i != rp->table_region && !strcmp(rp->regions[i].name, name))
			return &rp->regions[i];
	return NULL;
}

/*
 * The vdev at entry i (the index-th vdev): whole inside the table, and each
 * vring where the core will put it, at the base of the carveout named
 * vdev<index>vring<k>, which it must fit (the core puts the ring there
 * whatever da says, and would attach without the device on a bad one).
 */
static int rpk_check_vdev(struct rpk_rproc *rp, const u8 *t, u32 off, u32 i, u32 index)
{
	const struct fw_rsc_vdev *v = (const void *)(t + off + sizeof(struct fw_rsc_hdr));
	u64 room = (u64)rp->rsc_size - off - sizeof(struct fw_rsc_hdr);
	u32 n, k;

	if (room < sizeof(*v))
		goto truncated;
	n = READ_ONCE(v->num_of_vrings);
	if (n > 2 || room < sizeof(*v) + (u64)n * sizeof(v->vring[0]) + READ_ONCE(v->config_len))
		goto truncated;
	for (k = 0; k < n; k++) {
		u32 da = READ_ONCE(v->vring[k].da), num = READ_ONCE(v->vring[k].num);
		u32 align = READ_ONCE(v->vring[k].align);
		const struct rpk_region *r;
		char name[32];

		snprintf(name, sizeof(name), "vdev%uvring%u", index, k);
		r = rpk_region_named(rp, name);
		if (!r || !is_power_of_2(num) || num > 0x8000 || !is_power_of_2(align) ||
		    align > PAGE_SIZE || PAGE_ALIGN(vring_size(num, align)) > r->size ||
		    (da != FW_RSC_ADDR_ANY && da != r->base)) {
			dev_err(
			    rp->dev,
			    "resource table: entry %u, vring %u (da 0x%x, %u entries, align %u) "
			    "is not the carveout %s of the devicetree\n",
			    i, k, da, num, align, name);
			return -EINVAL;
		}
	}
	return 0;
truncated:
	dev_err(rp->dev, "resource table: the vdev at entry %u does not fit in it\n", i);
	return -EINVAL;
}

/* The table as the core wants it: checked first, so a corrupt one fails
 * the attach with a line that says why, not an oops in the core. */
static struct resource_table *rpk_get_loaded_rsc_table(struct rproc *rproc, size_t *size)
{
	struct rpk_rproc *rp = rproc->priv;
	struct resource_table *t = rp->table_map + rp->rsc_offset;
	u32 ver = READ_ONCE(t->ver), num = READ_ONCE(t->num), i, vdevs = 0;

	if (ver != 1) {
		dev_err(rp->dev, "no resource table at %pa+0x%x: version %u, not 1\n",
			&rp->regions[rp->table_region].base, rp->rsc_offset, ver);
		return ERR_PTR(-EINVAL);
	}
	if (num > (rp->rsc_size - sizeof(*t)) / sizeof(u32)) {
		dev_err(rp->dev, "resource table: %u entries do not fit in 0x%x bytes\n", num,
			rp->rsc_size);
		return ERR_PTR(-EINVAL);
	}
	for (i = 0; i < num; i++) {
		u32 off = READ_ONCE(t->offset[i]), type;

		if (off % 4 || off < sizeof(*t) + num * sizeof(u32) ||
		    off > rp->rsc_size - sizeof(struct fw_rsc_hdr)) {
			dev_err(rp->dev,
				"resource table: entry %u at offset 0x%x is outside it, or not "
				"4-byte aligned\n",
				i, off);
			return ERR_PTR(-EINVAL);
		}
		type = READ_ONCE(*(const u32 *)((const u8 *)t + off));
		/* Memory comes from the devicetree: the core would look a
		 * carveout's name up as a format string, or allocate what the
		 * remote asks and write our addresses into its table. */
		if (type == RSC_CARVEOUT || type == RSC_DEVMEM) {
			dev_err(rp->dev,
				"resource table: entry %u is a %s: an attached remote's memory is "
				"the devicetree's memory-region\n",
				i, type == RSC_CARVEOUT ? "carveout" : "devmem");
			return ERR_PTR(-EINVAL);
		}
		if (type == RSC_VDEV && rpk_check_vdev(rp, (const u8 *)t, off, i, vdevs++))
			return ERR_PTR(-EINVAL);
	}
	*size = rp->rsc_size;
	return t;
}

/* ---- doorbells ---- */

static void rpk_vq_work(struct work_struct *work)
{
	struct rpk_rproc *rp = container_of(work, struct rpk_rproc, vq_work);
	struct rproc *rproc = rp->rproc;
	int id;

	/* Under the lock, attached only: a detach or a recovery tears the
	 * virtqueues down under it. One that holds it now makes us skip this
	 * ring; the watchdog runs us again within a period. */
	if (!mutex_trylock(&rproc->lock))
		return;
	/* One doorbell for every queue. Once each: a receive callback takes
	 * every used buffer there is, a send queue's only wakes senders (its
	 * used buffers stay until a sender takes one). A message that arrives
	 * meanwhile comes with a ring of its own. */
	if (rproc->state == RPROC_ATTACHED)
		for (id = 0; id <= rproc->max_notifyid; id++)
			rproc_vq_interrupt(rproc, id);
	mutex_unlock(&rproc->lock);
}

static void rpk_mbox_rx(struct mbox_client *cl, void *msg)
{
	struct rpk_rproc *rp = container_of(cl, struct rpk_rproc, rx_cl);

	/* Atomic context (the controller's): the rpmsg callbacks may sleep. */
	schedule_work(&rp->vq_work);
}

static void rpk_kick(struct rproc *rproc, int vqid)
{
	struct rpk_rproc *rp = rproc->priv;
	int ret = mbox_send_message(rp->tx, NULL);

	/* No message to complete: a doorbell is delivered once rung. */
	if (ret < 0)
		dev_err_ratelimited(rp->dev, "cannot ring the remote: %d\n", ret);
}

/* ---- liveness ---- */

static void rpk_watch(struct work_struct *work)
{
	struct rpk_rproc *rp = container_of(to_delayed_work(work), struct rpk_rproc, watch);
	struct rproc *rproc = rp->rproc;
	int status;

	/* A detach, an attach or a recovery holds the lock while it changes
	 * the status itself: look again next period. */
	if (!mutex_trylock(&rproc->lock))
		goto again;
	if (rproc->state != RPROC_ATTACHED) {
		mutex_unlock(&rproc->lock);
		return; /* detached: the next attach starts us again */
	}
	/* Attached, Linux's status is at least ACKNOWLEDGE: a published table
	 * whose status is 0 is one the remote laid out again. (A table being
	 * laid out reads as none, -1: we look again when it is whole.) */
	status = rpk_vdev_status(rp);
	/* Twice in a row: a virtio driver rebinding writes 0 for a moment. */
	rp->zero_looks = status == 0 ? rp->zero_looks + 1 : 0;
	if (rp->zero_looks >= 2 || (status > 0 && (status & VIRTIO_CONFIG_S_NEEDS_RESET))) {
		dev_err(rp->dev,
			"the remote laid out its resource table again (status 0x%x): it "
			"rebooted\n",
			status);
		rproc_report_crash(rproc, RPROC_FATAL_ERROR); /* queues the recovery */
		mutex_unlock(&rproc->lock);
		return;
	}
	mutex_unlock(&rproc->lock);
	/* A doorbell lost or never rung costs at most one period. */
	schedule_work(&rp->vq_work);
again:
	schedule_delayed_work(&rp->watch, watch_period());
}

/* ---- attach and detach ---- */

static int rpk_map_carveout(struct rproc *rproc, struct rproc_mem_entry *mem)
{
	/* no-map memory another processor writes: never cached for us. */
	mem->va = memremap(mem->dma, mem->len, MEMREMAP_WC);
	return mem->va ? 0 : -ENOMEM;
}

static int rpk_unmap_carveout(struct rproc *rproc, struct rproc_mem_entry *mem)
{
	memunmap(mem->va);
	return 0;
}

/*
 * Carveouts go with each attach: the core frees them on detach. All or
 * none: the core does not clean up after a prepare that failed.
 */
static int rpk_prepare(struct rproc *rproc)
{
	struct rpk_rproc *rp = rproc->priv;
	struct rproc_mem_entry *mem[RPK_MAX_REGIONS];
	int i, n = 0;

	/* Freed by the core's last detach without being forgotten: an attach
	 * that fails would free it again. */
	rproc->clean_table = NULL;
	for (i = 0; i < rp->num_regions; i++) {
		const struct rpk_region *r = &rp->regions[i];

		if (i == rp->table_region)
			continue;
		/* The buffer pool is handed to the DMA API unmapped: the virtio
		 * device allocates from it (dma_declare_coherent_memory). */
		if (!strcmp(r->name, "vdev0buffer"))
			mem[n] = rproc_mem_entry_init(rp->dev, NULL, r->base, r->size, r->base,
						      NULL, NULL, "%s", r->name);
		else
			mem[n] = rproc_mem_entry_init(rp->dev, NULL, r->base, r->size, r->base,
						      rpk_map_carveout, rpk_unmap_carveout, "%s",
						      r->name);
		if (!mem[n]) {
			while (n--)
				kfree(mem[n]);
			return -ENOMEM;
		}
		n++;
	}
	for (i = 0; i < n; i++)
		rproc_add_carveout(rproc, mem[i]);
	return 0;
}

static int rpk_attach(struct rproc *rproc)
{
	struct rpk_rproc *rp = rproc->priv;
	struct resource_table *loaded = rp->table_map + rp->rsc_offset;

	/* A recovery queued before a detach that ran first: nothing is set up
	 * to attach with. Fail it; `start` attaches afresh. */
	if (!rproc->table_ptr || !atomic_read(&rproc->power)) {
		dev_err(rp->dev, "detached meanwhile: not recovering; start attaches again\n");
		return -ENODEV;
	}
	/*
	 * Linux 6.1's attach-on-recovery detaches first: the core wrote its
	 * clean copy back over the remote's table (the remote accepts it: it
	 * is the table it laid out), freed that copy without forgetting the
	 * pointer, and went on with a private copy, to which the status of
	 * the new session would go. Put the core back on the remote's table,
	 * with a clean copy for the next detach.
	 */
	if (rproc->table_ptr != loaded) {
		void *clean = kmemdup(loaded, rp->rsc_size, GFP_KERNEL);

		if (!clean)
			return -ENOMEM;
		rproc->clean_table = clean; /* the old one is freed already */
		if (rproc->table_ptr == rproc->cached_table) {
			kfree(rproc->cached_table);
			rproc->cached_table = NULL;
		}
		rproc->table_ptr = loaded;
	}
	rp->zero_looks = 0;
	schedule_delayed_work(&rp->watch, watch_period());
	return 0;
}

static int rpk_detach(struct rproc *rproc)
{
	struct rpk_rproc *rp = rproc->priv;

	/* The core reset the table to its clean copy: the remote sees
	 * DRIVER_OK gone and waits for the next attach. */
	cancel_delayed_work(&rp->watch);
	return 0;
}

/* rpmsg-kit remotes put a 16-byte header ("RPKT", size, head, epoch:
 * docs/traces.md) before the text of their trace buffer. */
#define RPK_TRACE_MAGIC	   0x544b5052u
#define RPK_TRACE_HDR_SIZE 16u

static void *rpk_da_to_va(struct rproc *rproc, u64 da, size_t len, bool *is_iomem)
{
	struct rpk_rproc *rp = rproc->priv;
	const struct rpk_region *t = &rp->regions[rp->table_region];
	u8 *va;

	/* The trace buffer lives beside the table, in a region the core does
	 * not map: translate it here. Carveouts the core finds itself. */
	if (da < t->base || len > t->size || da - t->base > t->size - len)
		return NULL;
	va = rp->table_map + (da - t->base);
	/* Linux prints a trace buffer as one string (debugfs trace0): from an
	 * rpmsg-kit remote, that is the text after the header, whose length
	 * len still bounds while it stays inside the region. */
	if (IS_ALIGNED(da, 4) && len > RPK_TRACE_HDR_SIZE &&
	    READ_ONCE(*(u32 *)va) == RPK_TRACE_MAGIC &&
	    da - t->base + RPK_TRACE_HDR_SIZE <= t->size - len)
		return va + RPK_TRACE_HDR_SIZE;
	return va;
}

static const struct rproc_ops rpk_rproc_ops = {
    .prepare = rpk_prepare,
    .attach = rpk_attach,
    .detach = rpk_detach,
    .kick = rpk_kick,
    .da_to_va = rpk_da_to_va,
    .get_loaded_rsc_table = rpk_get_loaded_rsc_table,
};

/* ---- probe ---- */

static int rpk_parse_regions(struct rpk_rproc *rp)
{
	struct device_node *np = rp->dev->of_node;
	int i, n = of_count_phandle_with_args(np, "memory-region", NULL);

	if (n <= 0 || n > RPK_MAX_REGIONS) {
		dev_err(rp->dev, "'memory-region' must name 1 to %d regions\n", RPK_MAX_REGIONS);
		return -EINVAL;
	}
	rp->table_region = -1;
	for (i = 0; i < n; i++) {
		struct device_node *rn = of_parse_phandle(np, "memory-region", i);
		struct reserved_mem *rmem = rn ? of_reserved_mem_lookup(rn) : NULL;
		struct rpk_region *r = &rp->regions[i];

		if (!rmem) {
			dev_err(rp->dev, "memory-region %d is not a reserved-memory node\n", i);
			of_node_put(rn);
			return -EINVAL;
		}
		r->name = devm_kstrdup(rp->dev, rn->name, GFP_KERNEL);
		r->base = rmem->base;
		r->size = rmem->size;
		/* The resource table's addresses are 32-bit. */
		if ((u64)r->base + r->size > SZ_4G) {
			dev_err(rp->dev, "memory-region %d (%s) lies above 4 GiB\n", i, rn->name);
			of_node_put(rn);
			return -EINVAL;
		}
		if (!of_property_read_u32(rn, "rpk,rsc-offset", &rp->rsc_offset)) {
			if (rp->table_region >= 0) {
				dev_err(rp->dev, "two regions have rpk,rsc-offset\n");
				of_node_put(rn);
				return -EINVAL;
			}
			rp->table_region = i;
			if (of_property_read_u32(rn, "rpk,rsc-size", &rp->rsc_size))
				rp->rsc_size = r->size - rp->rsc_offset;
		}
		of_node_put(rn);
		if (!r->name)
			return -ENOMEM;
	}
	rp->num_regions = n;
	if (rp->table_region < 0) {
		dev_err(rp->dev, "no memory-region has rpk,rsc-offset: where is the table?\n");
		return -EINVAL;
	}
	if (rp->rsc_size < 64 || rp->rsc_offset > rp->regions[rp->table_region].size ||
	    rp->rsc_size > rp->regions[rp->table_region].size - rp->rsc_offset ||
	    rp->rsc_offset % 4) {
		dev_err(rp->dev,
			"the table (offset 0x%x, size 0x%x) does not fit its region of 0x%zx "
			"bytes\n",
			rp->rsc_offset, rp->rsc_size, rp->regions[rp->table_region].size);
		return -EINVAL;
	}
	return 0;
}

/* Undone by devm after remove(), before the rproc itself is freed. */
static void rpk_release(void *data)
{
	struct rpk_rproc *rp = data;

	mbox_free_channel(rp->rx); /* no more rings after this */
	mbox_free_channel(rp->tx);
	cancel_work_sync(&rp->vq_work);
	cancel_delayed_work_sync(&rp->watch);
}

static int rpk_request_mbox(struct rpk_rproc *rp)
{
	/* Two clients: only the one we listen to has a callback, so the
	 * mailbox does not deliver our own rings back to us. */
	rp->tx_cl.dev = rp->dev;
	rp->tx_cl.tx_block = false;
	rp->tx_cl.knows_txdone = true;
	rp->rx_cl.dev = rp->dev;
	rp->rx_cl.rx_callback = rpk_mbox_rx;
	rp->tx = mbox_request_channel_byname(&rp->tx_cl, "tx");
	if (IS_ERR(rp->tx))
		return dev_err_probe(rp->dev, PTR_ERR(rp->tx), "no 'tx' mailbox channel\n");
	rp->rx = mbox_request_channel_byname(&rp->rx_cl, "rx");
	if (IS_ERR(rp->rx)) {
		mbox_free_channel(rp->tx);
		return dev_err_probe(rp->dev, PTR_ERR(rp->rx), "no 'rx' mailbox channel\n");
	}
	return devm_add_action_or_reset(rp->dev, rpk_release, rp);
}

static int rpk_rproc_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	const struct rpk_region *t;
	struct rpk_rproc *rp;
	struct rproc *rproc;
	int ret;

	rproc = devm_rproc_alloc(dev, dev_name(dev), &rpk_rproc_ops, NULL, sizeof(*rp));
	if (!rproc)
		return -ENOMEM;
	rp = rproc->priv;
	rp->rproc = rproc;
	rp->dev = dev;
	INIT_WORK(&rp->vq_work, rpk_vq_work);
	INIT_DELAYED_WORK(&rp->watch, rpk_watch);
	ret = rpk_parse_regions(rp);
	if (ret)
		return ret;
	t = &rp->regions[rp->table_region];
	rp->table_map = devm_memremap(dev, t->base, t->size, MEMREMAP_WC);
	if (IS_ERR(rp->table_map))
		return dev_err_probe(dev, PTR_ERR(rp->table_map), "cannot map the table region\n");
	ret = rpk_request_mbox(rp);
	if (ret)
		return ret;
	/* Booted by itself: attach, never load, never stop (no .start, no
	 * .stop: `echo stop` is refused, detach is how Linux lets go). On a
	 * crash, attach again. */
	rproc->state = RPROC_DETACHED;
	/* rproc_set_feature() is private to the core; the bitmap is not. */
	__set_bit(RPROC_FEAT_ATTACH_ON_RECOVERY, rproc->features);
	platform_set_drvdata(pdev, rp);
	ret = rproc_add(rproc);
	if (ret)
		return ret;
	dev_info(dev, "remote's table at %pa+0x%x (0x%x bytes), %d regions\n", &t->base,
		 rp->rsc_offset, rp->rsc_size, rp->num_regions);
	return 0;
}

static int rpk_rproc_remove(struct platform_device *pdev)
{
	struct rpk_rproc *rp = platform_get_drvdata(pdev);

	/* Let go as a detach does: the remote gets its clean table back and
	 * waits for the next master. */
	if (rp->rproc->state == RPROC_ATTACHED)
		rproc_detach(rp->rproc);
	rproc_del(rp->rproc);
	return 0;
}

static const struct of_device_id rpk_rproc_of_match[] = {
    {.compatible = "rpk,self-booted-remote"},
    {},
};
MODULE_DEVICE_TABLE(of, rpk_rproc_of_match);

static struct platform_driver rpk_rproc_driver = {
    .probe = rpk_rproc_probe,
    .remove = rpk_rproc_remove,
    .driver =
	{
	    .name = "rpk-rproc",
	    .of_match_table = rpk_rproc_of_match,
	},
};
module_platform_driver(rpk_rproc_driver);

MODULE_DESCRIPTION("rpmsg-kit: remoteproc attach to a self-booted remote");
MODULE_LICENSE("Dual BSD/GPL");
