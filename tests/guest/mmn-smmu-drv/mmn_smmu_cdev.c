// SPDX-License-Identifier: GPL-2.0
/*
 * mmn_smmu_drv: /dev/mmn-smmu, the character device the guest programs
 * use (mmn_smmu_uapi.h): open/release, the ioctl dispatch under md->lock,
 * and the read-only ioctls (events, coherence check, counters).
 */
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "mmn_smmu_drv.h"

static struct mmn_dev *mmn_the_dev;
static DEFINE_MUTEX(mmn_the_dev_lock);	/* mmn_the_dev against open */

static int mmn_events_read(struct mmn_file *f, struct mmn_events __user *u)
{
	struct mmn_dev *md = f->md;
	struct mmn_events *ev;
	u64 seq = md->evt_read;
	int ret;

	ev = kzalloc(sizeof(*ev), GFP_KERNEL);
	if (!ev)
		return -ENOMEM;
	if (READ_ONCE(md->evt_seq) - seq > MMN_EVENTS_MAX) {
		ev->lost = READ_ONCE(md->evt_seq) - seq - MMN_EVENTS_MAX;
		seq += ev->lost;
	}
	while (ev->nr < MMN_EVENTS_MAX &&
	       mmn_log_next(md, &seq, &ev->ev[ev->nr]))
		ev->nr++;
	md->evt_read = seq;
	ev->evtq_lost = readl(md->regs + MMN_EVTQ_LOST);
	ret = copy_to_user(u, ev, sizeof(*ev)) ? -EFAULT : 0;
	kfree(ev);
	return ret;
}

static int mmn_check_read(struct mmn_file *f, struct mmn_check_report __user *u)
{
	struct mmn_dev *md = f->md;
	struct mmn_check *chk = (void *)(md->desc + 1);
	struct mmn_check_report rep = {};
	unsigned int i;
	int ret;

	if (md->bound != f)
		return -EINVAL;
	memset(chk, 0, sizeof(*chk));
	ret = mmn_cmd(md, MMN_CMD_CHECK, md->desc_dma + sizeof(*md->desc),
		      0, 0);
	if (ret)
		return ret;
	rep.entries = le32_to_cpu(chk->entries);
	rep.stale = le32_to_cpu(chk->stale);
	rep.stale_readonly = le32_to_cpu(chk->stale_readonly);
	rep.stale_writable = le32_to_cpu(chk->stale_writable);
	rep.stale_present = le32_to_cpu(chk->stale_present);
	rep.stale_oa = le32_to_cpu(chk->stale_oa);
	rep.nr_samples = min_t(u32, le32_to_cpu(chk->nr_samples), 8);
	for (i = 0; i < rep.nr_samples; i++) {
		rep.sample[i].va = le64_to_cpu(chk->sample[i].va);
		rep.sample[i].kind = chk->sample[i].kind;
	}
	return copy_to_user(u, &rep, sizeof(rep)) ? -EFAULT : 0;
}

static int mmn_counters_read(struct mmn_file *f, struct mmn_counters __user *u)
{
	struct mmn_dev *md = f->md;
	struct mmn_counters c;

	spin_lock_irq(&md->cmdq_lock);
	c = md->cnt;
	spin_unlock_irq(&md->cmdq_lock);
	spin_lock_irq(&md->evt_lock);
	c.irqs = md->cnt.irqs;
	c.events = md->cnt.events;
	spin_unlock_irq(&md->evt_lock);
	return copy_to_user(u, &c, sizeof(c)) ? -EFAULT : 0;
}

static long mmn_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct mmn_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	mutex_lock(&f->md->lock);
	if (f->md->dead) {	/* PCI unbind: the file outlives the device */
		mutex_unlock(&f->md->lock);
		return -ENODEV;
	}
	switch (cmd) {
	case MMN_IOC_BIND:
		ret = mmn_bind(f, uarg);
		break;
	case MMN_IOC_UNBIND:
		ret = f->md->bound == f ? 0 : -EINVAL;
		mmn_unbind(f);
		break;
	case MMN_IOC_DMA:
		ret = mmn_dma(f, uarg);
		break;
	case MMN_IOC_EVENTS:
		ret = mmn_events_read(f, uarg);
		break;
	case MMN_IOC_CHECK:
		ret = mmn_check_read(f, uarg);
		break;
	case MMN_IOC_COUNTERS:
		ret = mmn_counters_read(f, uarg);
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

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	mutex_lock(&mmn_the_dev_lock);
	if (!mmn_the_dev) {
		mutex_unlock(&mmn_the_dev_lock);
		kfree(f);
		return -ENODEV;
	}
	f->md = mmn_the_dev;
	kref_get(&f->md->ref);
	mutex_unlock(&mmn_the_dev_lock);
	file->private_data = f;
	return 0;
}

static int mmn_release(struct inode *inode, struct file *file)
{
	struct mmn_file *f = file->private_data;
	struct mmn_dev *md = f->md;

	mutex_lock(&md->lock);
	mmn_unbind(f);
	mutex_unlock(&md->lock);
	kfree(f);
	mmn_dev_put(md);
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
	.name = MMN_MISC_NAME,
	.fops = &mmn_fops,
};

bool mmn_cdev_taken(void)
{
	return mmn_the_dev;
}

/* Publish the device (opens find it), then its /dev node. */
int mmn_cdev_register(struct mmn_dev *md)
{
	int ret;

	mutex_lock(&mmn_the_dev_lock);
	mmn_the_dev = md;
	mutex_unlock(&mmn_the_dev_lock);
	ret = misc_register(&mmn_misc);
	if (ret) {
		mutex_lock(&mmn_the_dev_lock);
		mmn_the_dev = NULL;
		mutex_unlock(&mmn_the_dev_lock);
	}
	return ret;
}

/* No new open; files already open keep their reference to the device. */
void mmn_cdev_unregister(void)
{
	mutex_lock(&mmn_the_dev_lock);
	mmn_the_dev = NULL;
	mutex_unlock(&mmn_the_dev_lock);
	misc_deregister(&mmn_misc);
}
