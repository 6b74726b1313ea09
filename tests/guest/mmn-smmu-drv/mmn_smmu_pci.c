// SPDX-License-Identifier: GPL-2.0
/*
 * mmn_smmu_drv: the PCI driver for QEMU's mmn-smmu (1af4:10f5) and the
 * module.  Probe programs the queues and the MSI, then publishes
 * /dev/mmn-smmu; remove (PCI unbind or rmmod) unbinds a bound context
 * first.  What the driver mirrors of Linux's arm-smmu-v3 SVA code, and
 * which file does what: mmn_smmu_drv.h.
 */
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "mmn_smmu_drv.h"

static void mmn_dev_free(struct kref *ref)
{
	kfree(container_of(ref, struct mmn_dev, ref));
}

void mmn_dev_put(struct mmn_dev *md)
{
	kref_put(&md->ref, mmn_dev_free);
}

static void *mmn_alloc(struct mmn_dev *md, size_t size, dma_addr_t *dma)
{
	return dmam_alloc_coherent(&md->pdev->dev, size, dma, GFP_KERNEL);
}

static int mmn_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct mmn_dev *md;
	u32 ctrl = MMN_CTRL_CMDQ_EN | MMN_CTRL_EVTQ_EN | MMN_CTRL_DMA_EN;
	int ret;

	if (mmn_cdev_taken())
		return -EBUSY;
	md = kzalloc(sizeof(*md), GFP_KERNEL);	/* outlives a PCI unbind */
	if (!md)
		return -ENOMEM;
	kref_init(&md->ref);
	md->pdev = pdev;
	spin_lock_init(&md->cmdq_lock);
	spin_lock_init(&md->evt_lock);
	init_waitqueue_head(&md->wq);
	mutex_init(&md->lock);

	ret = pcim_enable_device(pdev);
	if (ret)
		goto err_free;
	pci_set_master(pdev);
	ret = pci_request_region(pdev, 0, "mmn-smmu");
	if (ret)
		goto err_free;
	md->regs = pci_iomap(pdev, 0, 0);
	if (!md->regs) {
		ret = -ENOMEM;
		goto err_region;
	}
	if (readl(md->regs + MMN_ID) != MMN_ID_VALUE) {
		dev_err(&pdev->dev, "bad ID 0x%x\n", readl(md->regs + MMN_ID));
		ret = -ENODEV;
		goto err_unmap;
	}
	/* No IOMMU in front of us: DMA addresses are physical addresses. */
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(48));
	if (ret)
		goto err_unmap;

	md->cmdq = mmn_alloc(md, MMN_Q_ENTS * sizeof(*md->cmdq), &md->cmdq_dma);
	md->evtq = mmn_alloc(md, MMN_Q_ENTS * sizeof(*md->evtq), &md->evtq_dma);
	md->desc = mmn_alloc(md, PAGE_SIZE, &md->desc_dma);
	md->bounce = mmn_alloc(md, MMN_DMA_MAX, &md->bounce_dma);
	if (!md->cmdq || !md->evtq || !md->desc || !md->bounce) {
		ret = -ENOMEM;
		goto err_unmap;
	}

	/* Queues are programmed while disabled; PROD/CONS survive. */
	writel(0, md->regs + MMN_CTRL);
	md->cmdq_prod = readl(md->regs + MMN_CMDQ_PROD);
	md->evtq_cons = readl(md->regs + MMN_EVTQ_PROD);
	writel(lower_32_bits(md->cmdq_dma) | MMN_Q_LOG2,
	       md->regs + MMN_CMDQ_BASE_LO);
	writel(upper_32_bits(md->cmdq_dma), md->regs + MMN_CMDQ_BASE_HI);
	writel(lower_32_bits(md->evtq_dma) | MMN_Q_LOG2,
	       md->regs + MMN_EVTQ_BASE_LO);
	writel(upper_32_bits(md->evtq_dma), md->regs + MMN_EVTQ_BASE_HI);
	writel(md->evtq_cons, md->regs + MMN_EVTQ_CONS);

	/* Events by interrupt: one MSI vector (arm_smmu_setup_msis) */
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (ret < 0) {
		dev_err(&pdev->dev, "no MSI vector: %d\n", ret);
		goto err_unmap;
	}
	md->irq = pci_irq_vector(pdev, 0);
	ret = request_irq(md->irq, mmn_irq, 0, "mmn-smmu", md);
	if (ret) {
		pci_free_irq_vectors(pdev);
		goto err_unmap;
	}
	writel(~0u, md->regs + MMN_IRQ_STATUS);
	writel(MMN_IRQ_EVTQ | MMN_IRQ_DMA_DONE | MMN_IRQ_EVTQ_OVERFLOW,
	       md->regs + MMN_IRQ_ENABLE);
	writel(ctrl, md->regs + MMN_CTRL);
	if ((readl(md->regs + MMN_STATUS) & ctrl) != ctrl) {
		dev_err(&pdev->dev, "queues not enabled: status 0x%x\n",
			readl(md->regs + MMN_STATUS));
		ret = -EIO;
		goto err_disable;
	}

	pci_set_drvdata(pdev, md);
	ret = mmn_cdev_register(md);
	if (ret)
		goto err_disable;
	dev_info(&pdev->dev,
		 "mmn-smmu: cmdq %pad evtq %pad, MSI irq %d, /dev/%s\n",
		 &md->cmdq_dma, &md->evtq_dma, md->irq, MMN_MISC_NAME);
	return 0;

err_disable:
	writel(0, md->regs + MMN_IRQ_ENABLE);
	writel(0, md->regs + MMN_CTRL);
	free_irq(md->irq, md);
	pci_free_irq_vectors(pdev);
err_unmap:
	pci_iounmap(pdev, md->regs);
err_region:
	pci_release_region(pdev, 0);
err_free:
	mmn_dev_put(md);
	return ret;
}

/*
 * PCI unbind (or rmmod).  Files may still be open, a context bound and a
 * DMA parked: unbind the context first (aborts the DMA, puts the
 * notifier), as a driver calls iommu_sva_unbind_device before it goes,
 * then mark the device dead; open files get -ENODEV until closed.
 */
static void mmn_remove(struct pci_dev *pdev)
{
	struct mmn_dev *md = pci_get_drvdata(pdev);

	mmn_cdev_unregister();		/* no new open */

	mutex_lock(&md->lock);
	if (md->bound) {
		dev_info(&pdev->dev, "removed while bound: unbinding\n");
		mmn_unbind(md->bound);
	}
	writel(0, md->regs + MMN_IRQ_ENABLE);
	writel(0, md->regs + MMN_CTRL);
	spin_lock_irq(&md->cmdq_lock);
	spin_lock(&md->evt_lock);
	md->dead = true;
	spin_unlock(&md->evt_lock);
	spin_unlock_irq(&md->cmdq_lock);
	mutex_unlock(&md->lock);
	wake_up(&md->wq);

	free_irq(md->irq, md);
	pci_free_irq_vectors(pdev);
	pci_iounmap(pdev, md->regs);
	pci_release_region(pdev, 0);
	mmn_dev_put(md);
}

static const struct pci_device_id mmn_ids[] = {
	{ PCI_DEVICE(0x1af4, 0x10f5) },
	{ }
};
MODULE_DEVICE_TABLE(pci, mmn_ids);

static struct pci_driver mmn_driver = {
	.name = "mmn-smmu",
	.id_table = mmn_ids,
	.probe = mmn_probe,
	.remove = mmn_remove,
};
static int __init mmn_init(void)
{
	return pci_register_driver(&mmn_driver);
}
module_init(mmn_init);

static void __exit mmn_exit(void)
{
	pci_unregister_driver(&mmn_driver);
	/* arm_smmu_sva_notifier_synchronize: pending mmn_mn_free calls */
	mmu_notifier_synchronize();
}
module_exit(mmn_exit);

MODULE_DESCRIPTION("SVA test driver for QEMU's mmn-smmu (mmu_notifier forwarding)");
MODULE_LICENSE("GPL");
