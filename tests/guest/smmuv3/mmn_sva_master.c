// SPDX-License-Identifier: GPL-2.0
/*
 * mmn_sva_master: platform driver for QEMU's mmn-sva-master, a DMA master
 * behind the mmn-smmuv3 SMMU (DT compatible "mmn,sva-master").
 *
 * It only uses the kernel's IOMMU API, so that Linux's own arm-smmu-v3
 * driver does all the SMMU work: it enables I/O page faults and SVA on
 * the device (iommu_dev_enable_feature), binds the calling process
 * (iommu_sva_bind_device with current->mm, as a real SVA device driver
 * does), programs the PASID it gets into the device and lets the device
 * DMA to user virtual addresses.  A fault of such a DMA stalls in the
 * SMMU; arm-smmu-v3's event queue thread reports it, the IOPF workqueue
 * runs handle_mm_fault() and answers with CMD_RESUME.  The SMMU's TLB is
 * kept coherent by arm-smmu-v3-sva.c's mmu_notifier only: this driver
 * registers none of its own.
 *
 * /dev/mmn-sva (mmn_sva_uapi.h): BIND, JOB (program VA/LEN/OP/PATTERN,
 * ring the doorbell, wait for the JOB_END interrupt, return the device's
 * counters and copy the data window), CHECK (the SMMU's coherence
 * checker), UNBIND, INFO.  One bound process at a time.
 *
 * Kernel API differences handled below (Debian 6.1.192, 6.12.117):
 *   iommu_sva_bind_device(dev, mm, drvdata) up to 6.1 (drivers/iommu/
 *   iommu.c), iommu_sva_bind_device(dev, mm) from 6.2 (iommu-sva.c);
 *   platform_driver.remove_new (void) up to 6.10, .remove (void) from
 *   6.11.
 */
#include <linux/bitfield.h>
#include <linux/completion.h>
#include <linux/fs.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mod_devicetable.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>

#include "mmn_sva_uapi.h"

/* Registers (the mmn-sva-master interface contract) */
#define REG_ID			0x000
#define REG_VERSION		0x004
#define REG_CTRL		0x008
#define  CTRL_SSV		BIT(0)
#define  CTRL_IRQ_EN		BIT(1)
#define REG_PASID		0x00c
#define REG_VA_LO		0x010
#define REG_VA_HI		0x014
#define REG_LEN			0x018
#define REG_OP			0x01c
#define REG_PATTERN		0x020
#define REG_DOORBELL		0x024
#define REG_STATUS		0x028
#define  STATUS_STATE		GENMASK(3, 0)
#define  STATUS_KIND		GENMASK(11, 8)
#define  STATUS_FROM_CACHE	BIT(12)
#define REG_DONE		0x02c
#define REG_FAULTS		0x030
#define REG_RETRIES		0x034
#define REG_FAULT_VA_LO		0x038
#define REG_FAULT_VA_HI		0x03c
#define REG_IRQ_STATUS		0x040
#define  IRQ_JOB_END		BIT(0)
#define REG_ABORT		0x044
#define REG_TLBI_COUNT		0x048
#define REG_LIVELOCK_COUNT	0x04c
#define REG_CHECK		0x050
#define REG_CHECK_ENTRIES	0x054
#define REG_CHECK_STALE		0x058
#define REG_CHECK_STALE_RO	0x05c
#define REG_CHECK_STALE_W	0x060
#define REG_CHECK_OTHER		0x064
#define REG_DATA		0x1000

#define MMN_SVA_ID		0x4d4d4e4d	/* "MMNM" */
#define MMN_SVA_PASID_MASK	GENMASK(19, 0)
#define DEFAULT_TIMEOUT_MS	10000
#define ABORT_WAIT_MS		1000

struct mmn_sva {
	struct device *dev;
	void __iomem *regs;
	int irq;
	struct miscdevice misc;
	struct completion job_end;
	struct mutex lock;		/* one ioctl at a time */
	int iopf_err, sva_err;		/* iommu_dev_enable_feature results */
	struct iommu_sva *handle;	/* the bound PASID */
	struct file *owner;		/* the file that bound it */
	struct mm_struct *mm;		/* its mm (jobs must come from it) */
	u32 pasid;
	u8 *bounce;			/* MMN_SVA_DATA_MAX bytes */
};

static u32 rd(struct mmn_sva *s, u32 off)
{
	return readl(s->regs + off);
}

static void wr(struct mmn_sva *s, u32 off, u32 val)
{
	writel(val, s->regs + off);
}

static irqreturn_t mmn_sva_irq(int irq, void *data)
{
	struct mmn_sva *s = data;
	u32 st = rd(s, REG_IRQ_STATUS);

	if (!(st & IRQ_JOB_END))
		return IRQ_NONE;
	wr(s, REG_IRQ_STATUS, st);	/* RW1C: deasserts the level SPI */
	complete(&s->job_end);
	return IRQ_HANDLED;
}

static struct iommu_sva *mmn_sva_bind_mm(struct device *dev,
					 struct mm_struct *mm)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
	/* 6.1 drivers/iommu/iommu.c: iommu_sva_bind_device(dev, mm, drvdata) */
	return iommu_sva_bind_device(dev, mm, NULL);
#else
	/* 6.2+ drivers/iommu/iommu-sva.c: iommu_sva_bind_device(dev, mm) */
	return iommu_sva_bind_device(dev, mm);
#endif
}

/* With s->lock held. */
static void mmn_sva_unbind(struct mmn_sva *s)
{
	if (!s->handle)
		return;
	/* Stop tagging DMA with the PASID before it goes away. */
	wr(s, REG_CTRL, CTRL_IRQ_EN);
	iommu_sva_unbind_device(s->handle);
	dev_info(s->dev, "unbound PASID %u\n", s->pasid);
	s->handle = NULL;
	s->owner = NULL;
	s->mm = NULL;
	s->pasid = 0;
}

static long mmn_sva_bind(struct mmn_sva *s, struct file *f,
			 struct mmn_sva_bind __user *arg)
{
	struct mmn_sva_bind b = {};
	struct iommu_sva *handle;

	if (s->handle)
		return -EBUSY;
	if (s->iopf_err)
		return s->iopf_err;
	if (s->sva_err)
		return s->sva_err;
	handle = mmn_sva_bind_mm(s->dev, current->mm);
	if (IS_ERR(handle)) {
		dev_warn(s->dev, "iommu_sva_bind_device: %ld\n",
			 PTR_ERR(handle));
		return PTR_ERR(handle);
	}
	s->handle = handle;
	s->owner = f;
	s->mm = current->mm;
	s->pasid = iommu_sva_get_pasid(handle);
	if (s->pasid & ~MMN_SVA_PASID_MASK) {
		dev_warn(s->dev, "PASID 0x%x does not fit the device\n",
			 s->pasid);
		mmn_sva_unbind(s);
		return -ERANGE;
	}
	wr(s, REG_PASID, s->pasid);
	wr(s, REG_CTRL, CTRL_SSV | CTRL_IRQ_EN);
	dev_info(s->dev, "bound pid %d to PASID %u\n", current->pid, s->pasid);
	b.pasid = s->pasid;
	return copy_to_user(arg, &b, sizeof(b)) ? -EFAULT : 0;
}

static void mmn_sva_read_result(struct mmn_sva *s, struct mmn_sva_job *j)
{
	u32 st = rd(s, REG_STATUS);

	j->status = st;
	j->state = FIELD_GET(STATUS_STATE, st);
	j->fault_kind = FIELD_GET(STATUS_KIND, st);
	j->from_cache = !!(st & STATUS_FROM_CACHE);
	j->done = rd(s, REG_DONE);
	j->faults = rd(s, REG_FAULTS);
	j->retries = rd(s, REG_RETRIES);
	j->tlbi_count = rd(s, REG_TLBI_COUNT);
	j->livelock_count = rd(s, REG_LIVELOCK_COUNT);
	j->fault_va = rd(s, REG_FAULT_VA_LO) |
		      (u64)rd(s, REG_FAULT_VA_HI) << 32;
}

static long mmn_sva_job(struct mmn_sva *s, struct file *f,
			struct mmn_sva_job __user *arg)
{
	struct mmn_sva_job j;
	bool data_op;
	ktime_t t0;
	long left;

	if (copy_from_user(&j, arg, sizeof(j)))
		return -EFAULT;
	if (!s->handle || s->owner != f || s->mm != current->mm)
		return -ENXIO;		/* not bound by this process */
	data_op = j.op == MMN_SVA_OP_READ || j.op == MMN_SVA_OP_WRITE;
	if ((!data_op && j.op != MMN_SVA_OP_FILL) || !j.len ||
	    j.len > (data_op ? MMN_SVA_DATA_MAX : MMN_SVA_LEN_MAX))
		return -EINVAL;
	if (FIELD_GET(STATUS_STATE, rd(s, REG_STATUS)) == MMN_SVA_ST_BUSY)
		return -EBUSY;

	if (j.op == MMN_SVA_OP_WRITE) {
		if (copy_from_user(s->bounce, u64_to_user_ptr(j.data), j.len))
			return -EFAULT;
		memcpy_toio(s->regs + REG_DATA, s->bounce, j.len);
	} else if (j.op == MMN_SVA_OP_READ) {
		/* Poison the window: a READ that moves nothing shows. */
		memset_io(s->regs + REG_DATA, 0xa5, j.len);
	}
	wr(s, REG_VA_LO, lower_32_bits(j.va));
	wr(s, REG_VA_HI, upper_32_bits(j.va));
	wr(s, REG_LEN, j.len);
	wr(s, REG_OP, j.op);
	wr(s, REG_PATTERN, j.pattern);
	wr(s, REG_IRQ_STATUS, IRQ_JOB_END);
	reinit_completion(&s->job_end);

	t0 = ktime_get();
	wr(s, REG_DOORBELL, 1);
	left = wait_for_completion_killable_timeout(&s->job_end,
			msecs_to_jiffies(j.timeout_ms ?: DEFAULT_TIMEOUT_MS));
	j.elapsed_ns = ktime_to_ns(ktime_sub(ktime_get(), t0));
	j.timed_out = 0;
	if (left <= 0) {
		/* No JOB_END: end the job (a stall is terminated). */
		j.timed_out = 1;
		wr(s, REG_ABORT, 1);
		wait_for_completion_timeout(&s->job_end,
					    msecs_to_jiffies(ABORT_WAIT_MS));
		dev_warn(s->dev,
			 "job at 0x%llx: no JOB_END after %u ms, aborted\n",
			 j.va, j.timeout_ms ?: DEFAULT_TIMEOUT_MS);
	}
	mmn_sva_read_result(s, &j);
	if (j.op == MMN_SVA_OP_READ && j.state == MMN_SVA_ST_DONE) {
		memcpy_fromio(s->bounce, s->regs + REG_DATA, j.len);
		if (copy_to_user(u64_to_user_ptr(j.data), s->bounce, j.len))
			return -EFAULT;
	}
	dev_dbg(s->dev,
		"job op %u va 0x%llx len %u: status 0x%x faults %u retries %u tlbi %u\n",
		j.op, j.va, j.len, j.status, j.faults, j.retries, j.tlbi_count);
	if (left < 0)
		return -EINTR;		/* killed while waiting: aborted */
	return copy_to_user(arg, &j, sizeof(j)) ? -EFAULT : 0;
}

static long mmn_sva_check(struct mmn_sva *s, struct mmn_sva_check __user *arg)
{
	struct mmn_sva_check c = {};

	wr(s, REG_CHECK, 1);
	c.entries = rd(s, REG_CHECK_ENTRIES);
	c.stale = rd(s, REG_CHECK_STALE);
	c.stale_readonly = rd(s, REG_CHECK_STALE_RO);
	c.stale_writable = rd(s, REG_CHECK_STALE_W);
	c.other = rd(s, REG_CHECK_OTHER);
	return copy_to_user(arg, &c, sizeof(c)) ? -EFAULT : 0;
}

static long mmn_sva_info(struct mmn_sva *s, struct mmn_sva_info __user *arg)
{
	struct mmn_sva_info i = {
		.id = rd(s, REG_ID),
		.version = rd(s, REG_VERSION),
		.iopf_err = s->iopf_err,
		.sva_err = s->sva_err,
		.bound = !!s->handle,
		.pasid = s->pasid,
	};

	return copy_to_user(arg, &i, sizeof(i)) ? -EFAULT : 0;
}

static struct mmn_sva *file_sva(struct file *f)
{
	return container_of(f->private_data, struct mmn_sva, misc);
}

static long mmn_sva_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct mmn_sva *s = file_sva(f);
	void __user *uarg = (void __user *)arg;
	long ret;

	mutex_lock(&s->lock);
	switch (cmd) {
	case MMN_SVA_IOC_BIND:
		ret = mmn_sva_bind(s, f, uarg);
		break;
	case MMN_SVA_IOC_UNBIND:
		ret = s->handle && s->owner == f ? 0 : -ENXIO;
		if (!ret)
			mmn_sva_unbind(s);
		break;
	case MMN_SVA_IOC_JOB:
		ret = mmn_sva_job(s, f, uarg);
		break;
	case MMN_SVA_IOC_CHECK:
		ret = mmn_sva_check(s, uarg);
		break;
	case MMN_SVA_IOC_INFO:
		ret = mmn_sva_info(s, uarg);
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&s->lock);
	return ret;
}

static int mmn_sva_release(struct inode *inode, struct file *f)
{
	struct mmn_sva *s = file_sva(f);

	mutex_lock(&s->lock);
	if (s->handle && s->owner == f)
		mmn_sva_unbind(s);
	mutex_unlock(&s->lock);
	return 0;
}

static const struct file_operations mmn_sva_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= mmn_sva_ioctl,
	.release	= mmn_sva_release,
};

static int mmn_sva_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct mmn_sva *s;
	u32 id;
	int ret;

	s = devm_kzalloc(dev, sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->dev = dev;
	mutex_init(&s->lock);
	init_completion(&s->job_end);
	s->bounce = devm_kzalloc(dev, MMN_SVA_DATA_MAX, GFP_KERNEL);
	if (!s->bounce)
		return -ENOMEM;
	s->regs = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(s->regs))
		return PTR_ERR(s->regs);
	id = rd(s, REG_ID);
	if (id != MMN_SVA_ID)
		return dev_err_probe(dev, -ENODEV,
				     "ID 0x%x is not mmn-sva-master\n", id);
	s->irq = platform_get_irq(pdev, 0);
	if (s->irq < 0)
		return s->irq;
	wr(s, REG_CTRL, 0);
	wr(s, REG_IRQ_STATUS, IRQ_JOB_END);
	ret = devm_request_irq(dev, s->irq, mmn_sva_irq, 0, "mmn-sva", s);
	if (ret)
		return ret;

	/*
	 * IOPF before SVA: arm_smmu_master_enable_sva() (arm-smmu-v3-sva.c,
	 * 6.1 and 6.12) refuses SVA on a stall-capable master whose IOPF is
	 * not enabled yet.  A failure is kept and reported by BIND, so that
	 * the module also loads on kernels without SVA.
	 */
	s->iopf_err = iommu_dev_enable_feature(dev, IOMMU_DEV_FEAT_IOPF);
	s->sva_err = iommu_dev_enable_feature(dev, IOMMU_DEV_FEAT_SVA);
	dev_info(dev, "version 0x%x, irq %d, IOPF %s (%d), SVA %s (%d)\n",
		 rd(s, REG_VERSION), s->irq,
		 s->iopf_err ? "unavailable" : "enabled", s->iopf_err,
		 s->sva_err ? "unavailable" : "enabled", s->sva_err);

	s->misc.minor = MISC_DYNAMIC_MINOR;
	s->misc.name = "mmn-sva";
	s->misc.fops = &mmn_sva_fops;
	s->misc.parent = dev;
	ret = misc_register(&s->misc);
	if (ret)
		goto err_features;
	platform_set_drvdata(pdev, s);
	return 0;

err_features:
	if (!s->sva_err)
		iommu_dev_disable_feature(dev, IOMMU_DEV_FEAT_SVA);
	if (!s->iopf_err)
		iommu_dev_disable_feature(dev, IOMMU_DEV_FEAT_IOPF);
	return ret;
}

static void mmn_sva_remove(struct platform_device *pdev)
{
	struct mmn_sva *s = platform_get_drvdata(pdev);

	misc_deregister(&s->misc);
	mutex_lock(&s->lock);
	mmn_sva_unbind(s);
	mutex_unlock(&s->lock);
	wr(s, REG_CTRL, 0);
	/* SVA before IOPF: arm_smmu_dev_disable_feature refuses the reverse */
	if (!s->sva_err)
		iommu_dev_disable_feature(s->dev, IOMMU_DEV_FEAT_SVA);
	if (!s->iopf_err)
		iommu_dev_disable_feature(s->dev, IOMMU_DEV_FEAT_IOPF);
}

static const struct of_device_id mmn_sva_of_match[] = {
	{ .compatible = "mmn,sva-master" },
	{ }
};
MODULE_DEVICE_TABLE(of, mmn_sva_of_match);

static struct platform_driver mmn_sva_driver = {
	.driver = {
		.name = "mmn-sva-master",
		.of_match_table = mmn_sva_of_match,
	},
	.probe = mmn_sva_probe,
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
	/* up to 6.10 include/linux/platform_device.h: void .remove_new */
	.remove_new = mmn_sva_remove,
#else
	/* 6.11+: .remove returns void */
	.remove = mmn_sva_remove,
#endif
};
module_platform_driver(mmn_sva_driver);

MODULE_DESCRIPTION("mmn-sva-master DMA master driver: SVA through Linux's arm-smmu-v3");
MODULE_LICENSE("GPL");
