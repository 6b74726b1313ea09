// SPDX-License-Identifier: GPL-2.0
/*
 * mmn_smmu_drv: a minimal SVA driver for QEMU's mmn-smmu (1af4:10f5), an
 * SMMU without broadcast TLB maintenance that walks the CPU's page tables.
 *
 * It subscribes a process's mm with an mmu_notifier exactly like
 * drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-sva.c of the same kernel:
 * .invalidate_range (Linux < 6.6) or .arch_invalidate_secondary_tlbs
 * (>= 6.6), plus .release, and no range start/end.  Every call is
 * forwarded to the device's command queue as MN_SECONDARY_TLBS.
 *
 * DMA runs in process context (ioctl): a stalled access is handled like
 * iommu_sva's I/O page fault handler, with handle_mm_fault(), and resumed.
 *
 * The programming interface is docs/specs/mmn-smmu.rst in the QEMU tree.
 */
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/version.h>

#include "mmn_smmu_uapi.h"

#define MMN_ID			0x000
#define MMN_ID_VALUE		0x4d4d4e53
#define MMN_CTRL		0x020
#define MMN_CTRL_CMDQ_EN	BIT(0)
#define MMN_CTRL_EVTQ_EN	BIT(1)
#define MMN_CTRL_DMA_EN		BIT(2)
#define MMN_STATUS		0x024
#define MMN_IRQ_STATUS		0x028
#define MMN_IRQ_CMDQ_ERR	BIT(2)
#define MMN_CMDQ_BASE_LO	0x040
#define MMN_CMDQ_BASE_HI	0x044
#define MMN_CMDQ_PROD		0x048
#define MMN_CMDQ_CONS		0x04c
#define MMN_CMDQ_ERR		0x050
#define MMN_CMDQ_ERR_VALID	BIT(31)
#define MMN_CMDQ_ERR_ACK	0x054
#define MMN_EVTQ_BASE_LO	0x060
#define MMN_EVTQ_BASE_HI	0x064
#define MMN_EVTQ_PROD		0x068
#define MMN_EVTQ_CONS		0x06c
#define MMN_DMA_DESC_LO		0x080
#define MMN_DMA_DESC_HI		0x084
#define MMN_DMA_DOORBELL	0x088
#define MMN_DMA_STATUS		0x08c

#define MMN_CMD_CTX_BIND	0x02
#define MMN_CMD_CTX_UNBIND	0x03
#define MMN_CMD_MN_SECONDARY_TLBS 0x22
#define MMN_CMD_MN_RELEASE	0x28
#define MMN_CMD_DMA_RESUME	0x30
#define MMN_CMD_DMA_ABORT	0x31
#define MMN_CMD_CHECK		0x40

#define MMN_CFG_VA_BITS(x)	((u64)(x))
#define MMN_CFG_OA_BITS(x)	((u64)(x) << 8)
#define MMN_CFG_UNPRIV		BIT_ULL(18)
#define MMN_CFG_STALL		BIT_ULL(19)

#define MMN_EVT_FAULT		1
#define MMN_EVT_LIVELOCK	2
#define MMN_EVT_F_WRITE		BIT(0)
#define MMN_EVT_F_UNPRIV	BIT(1)
#define MMN_EVT_F_FROM_CACHE	BIT(2)
#define MMN_EVT_F_STALLED	BIT(3)

#define MMN_Q_LOG2		8	/* 256 entries each */
#define MMN_Q_ENTS		(1u << MMN_Q_LOG2)
#define MMN_Q_IDX_MASK		(2 * MMN_Q_ENTS - 1)	/* index + wrap */
#define MMN_MAX_RETRIES		64	/* the device gives up at 16 */
#define MMN_CTX			0

struct mmn_cmd {
	u8 opcode;
	u8 flags;
	__le16 ctx;
	__le32 arg;
	__le64 a[4];
	__le64 reserved[3];
};

struct mmn_evt {
	u8 type;
	u8 kind;
	u8 level;
	u8 flags;
	__le16 ctx;
	__le16 reserved0;
	__le64 va;
	__le64 desc;
	__le32 count;
	__le32 reserved1;
};

struct mmn_desc {
	u8 op;
	u8 reserved0;
	__le16 ctx;
	__le32 len;
	__le64 va;
	__le64 buf;
	__le32 pattern;
	__le32 reserved1;
	__le32 status;
	__le32 done;
	__le64 fault_va;
	__le32 faults;
	__le32 reserved2[3];
};

struct mmn_check {
	__le32 entries;
	__le32 stale;
	__le32 stale_readonly;
	__le32 stale_writable;
	__le32 stale_present;
	__le32 stale_oa;
	u8 rest[232];
};

static_assert(sizeof(struct mmn_cmd) == 64);
static_assert(sizeof(struct mmn_evt) == 32);
static_assert(sizeof(struct mmn_desc) == 64);
static_assert(sizeof(struct mmn_check) == 256);

struct mmn_dev {
	struct pci_dev *pdev;
	void __iomem *regs;
	spinlock_t cmdq_lock;		/* notifiers run under the PTL */
	struct mmn_cmd *cmdq;
	dma_addr_t cmdq_dma;
	u32 cmdq_prod;
	struct mmn_evt *evtq;
	dma_addr_t evtq_dma;
	u32 evtq_cons;
	struct mmn_desc *desc;		/* descriptor, then the check report */
	dma_addr_t desc_dma;
	void *bounce;
	dma_addr_t bounce_dma;
	struct mutex lock;		/* binding and DMA */
	struct mmn_file *bound;
	atomic_t notifications;
	atomic_t cmd_errors;
	unsigned long last_start, last_end;	/* last notification */
};

struct mmn_file {
	struct mmn_dev *md;
	struct mmu_notifier mn;
	struct mm_struct *mm;
	bool released;
};

static struct mmn_dev *mmn_the_dev;

/*
 * Send one command.  The device executes it during the PROD write, so this
 * never waits and may be called from any context.
 */
static int mmn_cmd(struct mmn_dev *md, u8 opcode, u64 a0, u64 a1, u64 a2)
{
	struct mmn_cmd *c;
	unsigned long flags;
	u32 err;
	int ret = 0;

	spin_lock_irqsave(&md->cmdq_lock, flags);
	c = &md->cmdq[md->cmdq_prod & (MMN_Q_ENTS - 1)];
	memset(c, 0, sizeof(*c));
	c->opcode = opcode;
	c->ctx = cpu_to_le16(MMN_CTX);
	c->a[0] = cpu_to_le64(a0);
	c->a[1] = cpu_to_le64(a1);
	c->a[2] = cpu_to_le64(a2);
	md->cmdq_prod = (md->cmdq_prod + 1) & MMN_Q_IDX_MASK;
	writel(md->cmdq_prod, md->regs + MMN_CMDQ_PROD);
	err = readl(md->regs + MMN_CMDQ_ERR);
	if (err & MMN_CMDQ_ERR_VALID) {
		/* skip the failing command and restart the queue */
		writel(1, md->regs + MMN_CMDQ_ERR_ACK);
		writel(MMN_IRQ_CMDQ_ERR, md->regs + MMN_IRQ_STATUS);
		atomic_inc(&md->cmd_errors);
		ret = -EIO;
	}
	spin_unlock_irqrestore(&md->cmdq_lock, flags);
	if (ret)
		dev_warn_ratelimited(&md->pdev->dev,
				     "command 0x%02x a0 %#llx a1 %#llx: error %u\n",
				     opcode, a0, a1, err & 0xff);
	return ret;
}

static bool mmn_evt_pop(struct mmn_dev *md, struct mmn_evt *e)
{
	u32 prod = readl(md->regs + MMN_EVTQ_PROD);

	if (prod == md->evtq_cons)
		return false;
	*e = md->evtq[md->evtq_cons & (MMN_Q_ENTS - 1)];
	md->evtq_cons = (md->evtq_cons + 1) & MMN_Q_IDX_MASK;
	writel(md->evtq_cons, md->regs + MMN_EVTQ_CONS);
	return true;
}

/* Called with the page-table lock held (>= 6.6) or anywhere: no sleeping. */
static void mmn_mn_invalidate(struct mmu_notifier *mn, struct mm_struct *mm,
			      unsigned long start, unsigned long end)
{
	struct mmn_file *f = container_of(mn, struct mmn_file, mn);

	if (end <= start)
		return;
	/* (0, -1UL) from flush_tlb_mm(): the device takes any alignment */
	WRITE_ONCE(f->md->last_start, start);
	WRITE_ONCE(f->md->last_end, end);
	atomic_inc(&f->md->notifications);
	mmn_cmd(f->md, MMN_CMD_MN_SECONDARY_TLBS, start, end, 0);
}

static void mmn_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct mmn_file *f = container_of(mn, struct mmn_file, mn);

	if (!f->released)
		mmn_cmd(f->md, MMN_CMD_MN_RELEASE, 0, 0, 0);
	f->released = true;
}

static const struct mmu_notifier_ops mmn_mn_ops = {
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	.arch_invalidate_secondary_tlbs = mmn_mn_invalidate,
#else
	.invalidate_range = mmn_mn_invalidate,
#endif
	.release = mmn_mn_release,
};

static int mmn_bind(struct mmn_file *f, struct mmn_bind __user *ubind)
{
	struct mmn_dev *md = f->md;
	struct mmn_bind b = {};
	u64 cfg;
	int ret;

	if (md->bound)
		return -EBUSY;
	if (!current->mm)
		return -EINVAL;
	/* TTBR0_EL1 of this mm is virt_to_phys(mm->pgd) (cpu_switch_mm) */
	b.ttb = virt_to_phys(current->mm->pgd);
	b.va_bits = vabits_actual;	/* 48 on cortex-a57, even for 52-bit kernels */
	if (b.va_bits > 48)
		return -EOPNOTSUPP;

	f->mn.ops = &mmn_mn_ops;
	f->released = false;
	ret = mmu_notifier_register(&f->mn, current->mm);
	if (ret)
		return ret;
	f->mm = current->mm;

	/* no HTTU: a writable-clean (PTE_RDONLY) entry is read-only to us */
	cfg = MMN_CFG_VA_BITS(b.va_bits) | MMN_CFG_OA_BITS(48) |
	      MMN_CFG_UNPRIV | MMN_CFG_STALL;
	ret = mmn_cmd(md, MMN_CMD_CTX_BIND, b.ttb, cfg, (unsigned long)f);
	if (ret) {
		f->released = true;	/* nothing bound to release */
		mmu_notifier_unregister(&f->mn, f->mm);
		f->mm = NULL;
		return ret;
	}
	md->bound = f;
	atomic_set(&md->notifications, 0);
	dev_info(&md->pdev->dev, "bound pid %d: ttb %#llx va_bits %u\n",
		 current->pid, b.ttb, b.va_bits);
	return copy_to_user(ubind, &b, sizeof(b)) ? -EFAULT : 0;
}

static void mmn_unbind(struct mmn_file *f)
{
	struct mmn_dev *md = f->md;
	bool by_exit = f->released;

	if (md->bound != f)
		return;
	/* calls ->release (MN_RELEASE) unless exit_mmap() already did */
	mmu_notifier_unregister(&f->mn, f->mm);
	mmn_cmd(md, MMN_CMD_CTX_UNBIND, 0, 0, 0);
	dev_info(&md->pdev->dev, "unbound: released by %s\n",
		 by_exit ? "exit_mmap" : "mmu_notifier_unregister");
	f->mm = NULL;
	md->bound = NULL;
}

/* What iommu_sva_handle_mm() does for a page request. */
static bool mmn_handle_fault(struct mm_struct *mm, const struct mmn_evt *e)
{
	unsigned long va = le64_to_cpu(e->va);
	unsigned int fault_flags = FAULT_FLAG_REMOTE;
	unsigned long access = VM_READ;
	struct vm_area_struct *vma;
	vm_fault_t ret;
	bool ok = false;

	if (e->flags & MMN_EVT_F_WRITE) {
		access = VM_WRITE;
		fault_flags |= FAULT_FLAG_WRITE;
	}
	if (e->flags & MMN_EVT_F_UNPRIV)
		fault_flags |= FAULT_FLAG_USER;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, va);
	if (vma && !(access & ~vma->vm_flags)) {
		ret = handle_mm_fault(vma, va, fault_flags, NULL);
		ok = !(ret & VM_FAULT_ERROR);
	}
	mmap_read_unlock(mm);
	return ok;
}

static int mmn_dma(struct mmn_file *f, struct mmn_dma __user *udma)
{
	struct mmn_dev *md = f->md;
	struct mmn_desc *d = md->desc;
	struct mmn_check *chk = (void *)(md->desc + 1);
	int notif0 = atomic_read(&md->notifications);
	int err0 = atomic_read(&md->cmd_errors);
	struct mmn_dma r;
	struct mmn_evt e, last = {};
	u32 status;

	if (copy_from_user(&r, udma, sizeof(r)))
		return -EFAULT;
	if (md->bound != f || f->mm != current->mm)
		return -EINVAL;
	if (r.len == 0 || r.len > MMN_DMA_MAX ||
	    r.op < MMN_OP_READ || r.op > MMN_OP_FILL)
		return -EINVAL;
	if (r.op == MMN_OP_WRITE &&
	    copy_from_user(md->bounce, u64_to_user_ptr(r.buf), r.len))
		return -EFAULT;
	if (r.op == MMN_OP_READ)
		memset(md->bounce, 0xa5, r.len);	/* poison */

	memset(d, 0, sizeof(*d));
	d->op = r.op;
	d->ctx = cpu_to_le16(MMN_CTX);
	d->len = cpu_to_le32(r.len);
	d->va = cpu_to_le64(r.va);
	d->buf = cpu_to_le64(r.op == MMN_OP_FILL ? 0 : md->bounce_dma);
	d->pattern = cpu_to_le32(r.pattern);
	r.fault_events = r.cached_faults = r.retries = r.fault_errors = 0;
	r.livelock_count = 0;

	while (mmn_evt_pop(md, &e))	/* stale events of earlier runs */
		;
	writel(lower_32_bits(md->desc_dma), md->regs + MMN_DMA_DESC_LO);
	writel(upper_32_bits(md->desc_dma), md->regs + MMN_DMA_DESC_HI);
	writel(1, md->regs + MMN_DMA_DOORBELL);	/* runs during the write */

	for (;;) {
		bool fault = false;

		status = readl(md->regs + MMN_DMA_STATUS);
		while (mmn_evt_pop(md, &e)) {
			if (e.type == MMN_EVT_LIVELOCK)
				r.livelock_count = le32_to_cpu(e.count);
			if (e.type != MMN_EVT_FAULT)
				continue;
			r.fault_events++;
			if (e.flags & MMN_EVT_F_FROM_CACHE)
				r.cached_faults++;
			if (e.flags & MMN_EVT_F_STALLED) {
				fault = true;
				last = e;
			}
		}
		if ((status & 0xff) != MMN_ST_STALLED)
			break;
		if (fault && r.retries < MMN_MAX_RETRIES &&
		    mmn_handle_fault(f->mm, &last)) {
			r.retries++;
			mmn_cmd(md, MMN_CMD_DMA_RESUME, 0, 0, 0);
		} else {
			r.fault_errors++;
			mmn_cmd(md, MMN_CMD_DMA_ABORT, 0, 0, 0);
		}
		cond_resched();
	}

	r.state = status & 0xff;
	r.status = le32_to_cpu(d->status);
	r.done = le32_to_cpu(d->done);
	r.faults = le32_to_cpu(d->faults);
	if (r.op == MMN_OP_READ && r.done &&
	    copy_to_user(u64_to_user_ptr(r.buf), md->bounce, r.done))
		return -EFAULT;

	/* Coherence check: cached entries against the current page tables */
	memset(chk, 0, sizeof(*chk));
	mmn_cmd(md, MMN_CMD_CHECK, md->desc_dma + sizeof(*d), 0, 0);
	r.check_entries = le32_to_cpu(chk->entries);
	r.check_stale = le32_to_cpu(chk->stale);
	r.check_stale_readonly = le32_to_cpu(chk->stale_readonly);
	r.check_stale_writable = le32_to_cpu(chk->stale_writable);

	r.notifications = atomic_read(&md->notifications) - notif0;
	r.last_start = r.notifications ? READ_ONCE(md->last_start) : 0;
	r.last_end = r.notifications ? READ_ONCE(md->last_end) : 0;
	r.cmd_errors = atomic_read(&md->cmd_errors) - err0;
	return copy_to_user(udma, &r, sizeof(r)) ? -EFAULT : 0;
}

static long mmn_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct mmn_file *f = file->private_data;
	long ret;

	mutex_lock(&f->md->lock);
	switch (cmd) {
	case MMN_IOC_BIND:
		ret = mmn_bind(f, (void __user *)arg);
		break;
	case MMN_IOC_UNBIND:
		ret = f->md->bound == f ? 0 : -EINVAL;
		mmn_unbind(f);
		break;
	case MMN_IOC_DMA:
		ret = mmn_dma(f, (void __user *)arg);
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&f->md->lock);
	return ret;
}

static int mmn_open(struct inode *inode, struct file *file)
{
	struct mmn_file *f;

	if (!mmn_the_dev)
		return -ENODEV;
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	f->md = mmn_the_dev;
	file->private_data = f;
	return 0;
}

static int mmn_release(struct inode *inode, struct file *file)
{
	struct mmn_file *f = file->private_data;

	mutex_lock(&f->md->lock);
	mmn_unbind(f);
	mutex_unlock(&f->md->lock);
	kfree(f);
	return 0;
}

static const struct file_operations mmn_fops = {
	.owner = THIS_MODULE,
	.open = mmn_open,
	.release = mmn_release,
	.unlocked_ioctl = mmn_ioctl,
};

static struct miscdevice mmn_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "mmn-smmu",
	.fops = &mmn_fops,
};

static void *mmn_alloc(struct mmn_dev *md, size_t size, dma_addr_t *dma)
{
	return dmam_alloc_coherent(&md->pdev->dev, size, dma, GFP_KERNEL);
}

static int mmn_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct mmn_dev *md;
	u32 ctrl = MMN_CTRL_CMDQ_EN | MMN_CTRL_EVTQ_EN | MMN_CTRL_DMA_EN;
	int ret;

	if (mmn_the_dev)
		return -EBUSY;
	md = devm_kzalloc(&pdev->dev, sizeof(*md), GFP_KERNEL);
	if (!md)
		return -ENOMEM;
	md->pdev = pdev;
	spin_lock_init(&md->cmdq_lock);
	mutex_init(&md->lock);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = pci_request_region(pdev, 0, "mmn-smmu");
	if (ret)
		return ret;
	md->regs = pci_iomap(pdev, 0, 0);
	if (!md->regs) {
		ret = -ENOMEM;
		goto err_region;
	}
	if (readl(md->regs + MMN_ID) != MMN_ID_VALUE) {
		dev_err(&pdev->dev, "bad ID %#x\n", readl(md->regs + MMN_ID));
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
	writel(ctrl, md->regs + MMN_CTRL);
	if ((readl(md->regs + MMN_STATUS) & ctrl) != ctrl) {
		dev_err(&pdev->dev, "queues not enabled: status %#x\n",
			readl(md->regs + MMN_STATUS));
		ret = -EIO;
		goto err_unmap;
	}

	pci_set_drvdata(pdev, md);
	mmn_the_dev = md;
	ret = misc_register(&mmn_misc);
	if (ret) {
		mmn_the_dev = NULL;
		goto err_disable;
	}
	dev_info(&pdev->dev, "mmn-smmu: cmdq %pad evtq %pad, /dev/%s\n",
		 &md->cmdq_dma, &md->evtq_dma, mmn_misc.name);
	return 0;

err_disable:
	writel(0, md->regs + MMN_CTRL);
err_unmap:
	pci_iounmap(pdev, md->regs);
err_region:
	pci_release_region(pdev, 0);
	return ret;
}

static void mmn_remove(struct pci_dev *pdev)
{
	struct mmn_dev *md = pci_get_drvdata(pdev);

	misc_deregister(&mmn_misc);	/* no file is open: we hold a module ref */
	mmn_the_dev = NULL;
	writel(0, md->regs + MMN_CTRL);
	pci_iounmap(pdev, md->regs);
	pci_release_region(pdev, 0);
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
module_pci_driver(mmn_driver);

MODULE_DESCRIPTION("SVA test driver for QEMU's mmn-smmu (mmu_notifier forwarding)");
MODULE_LICENSE("GPL");
