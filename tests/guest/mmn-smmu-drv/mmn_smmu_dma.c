// SPDX-License-Identifier: GPL-2.0
/*
 * mmn_smmu_drv: MMN_IOC_DMA.  One descriptor runs in process context:
 * the ioctl waits for the event interrupt, hands each stalled fault to
 * handle_mm_fault() as the I/O page fault handler does, resumes (or
 * aborts), and ends with a coherence CHECK of the context.
 */
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

#include "mmn_smmu_drv.h"

#define MMN_MAX_RETRIES		64	/* the device gives up at 16 */
#define MMN_DMA_WAIT		(5 * HZ)

/*
 * What iommu_sva_handle_mm() (6.12; iommu_sva_handle_iopf in 6.1) does
 * for a page request.
 */
static bool mmn_handle_fault(struct mm_struct *mm, const struct mmn_event *e)
{
	unsigned long va = e->va;
	unsigned int fault_flags = FAULT_FLAG_REMOTE;
	unsigned long access = VM_READ;
	struct vm_area_struct *vma;
	vm_fault_t ret;
	bool ok = false;

	if (e->flags & MMN_EVENT_F_WRITE) {
		access = VM_WRITE;
		fault_flags |= FAULT_FLAG_WRITE;
	}
	if (e->flags & MMN_EVENT_F_UNPRIV)
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

/* The descriptor is stalled, completed (DMA_DONE seen) or an event came. */
static bool mmn_dma_settled(struct mmn_dev *md, u64 cursor)
{
	return READ_ONCE(md->dma_done) || READ_ONCE(md->evt_seq) != cursor;
}

/* Completion: results, then a coherence CHECK of the context. */
static int mmn_dma_finish(struct mmn_file *f, struct mmn_dma *r, u32 status)
{
	struct mmn_dev *md = f->md;
	struct mmn_desc *d = md->desc;
	struct mmn_check *chk = (void *)(md->desc + 1);

	md->parked = NULL;
	r->state = status & 0xff;
	r->status = le32_to_cpu(d->status);
	r->done = le32_to_cpu(d->done);
	r->faults = le32_to_cpu(d->faults);
	r->fault_va = le64_to_cpu(d->fault_va);
	if (r->op == MMN_OP_READ && r->done &&
	    copy_to_user(u64_to_user_ptr(r->buf), md->bounce, r->done))
		return -EFAULT;

	/* Coherence check: cached entries against the current page tables */
	memset(chk, 0, sizeof(*chk));
	mmn_cmd(md, MMN_CMD_CHECK, md->desc_dma + sizeof(*d), 0, 0);
	r->check_entries = le32_to_cpu(chk->entries);
	r->check_stale = le32_to_cpu(chk->stale);
	r->check_stale_readonly = le32_to_cpu(chk->stale_readonly);
	r->check_stale_writable = le32_to_cpu(chk->stale_writable);
	return 0;
}

/*
 * Run or continue the access in md->cur until it completes (or, with
 * MMN_DMA_F_PARK, until its first stalled fault): wait for the event
 * interrupt, hand each stalled fault to the fault handler, resume.
 */
static int mmn_dma_run(struct mmn_file *f, bool park)
{
	struct mmn_dev *md = f->md;
	struct mmn_dma *r = &md->cur;
	struct mmn_event e;
	u32 status;
	int ret = 0;

	for (;;) {
		if (!md->cur_has_fault &&
		    !wait_event_timeout(md->wq,
					mmn_dma_settled(md, md->cur_seq),
					MMN_DMA_WAIT))
			dev_warn_ratelimited(&md->pdev->dev,
					     "no interrupt for the DMA in %d s\n",
					     MMN_DMA_WAIT / HZ);
		while (mmn_log_next(md, &md->cur_seq, &e)) {
			if (e.type == MMN_EVENT_LIVELOCK)
				r->livelock_count = e.count;
			if (e.type != MMN_EVENT_FAULT)
				continue;
			r->fault_events++;
			if (e.flags & MMN_EVENT_F_FROM_CACHE)
				r->cached_faults++;
			if (e.flags & MMN_EVENT_F_STALLED) {
				md->cur_fault = e;
				md->cur_has_fault = true;
			}
		}
		status = readl(md->regs + MMN_DMA_STATUS);
		if ((status & 0xff) != MMN_ST_STALLED) {
			if (!READ_ONCE(md->dma_done) &&
			    wait_event_timeout(md->wq, READ_ONCE(md->dma_done),
					       MMN_DMA_WAIT))
				continue;	/* collect the last events */
			break;
		}
		if (!md->cur_has_fault)
			continue;	/* stalled; its event is on the way */
		if (park) {
			r->state = MMN_ST_STALLED;
			r->fault_va = md->cur_fault.va;
			md->parked = f;
			goto out;
		}
		md->cur_has_fault = false;
		md->cnt.faults_handled++;
		if (r->retries < MMN_MAX_RETRIES &&
		    mmn_handle_fault(f->mm, &md->cur_fault)) {
			r->retries++;
			mmn_cmd(md, MMN_CMD_DMA_RESUME, 0, 0, 0);
		} else {
			r->fault_errors++;
			md->cnt.fault_errors++;
			mmn_cmd(md, MMN_CMD_DMA_ABORT, 0, 0, 0);
		}
		cond_resched();
	}
	ret = mmn_dma_finish(f, r, status);
out:
	r->notifications = atomic_read(&md->notifications) - md->cur_notif0;
	r->last_start = r->notifications ? md->cnt.last_start : 0;
	r->last_end = r->notifications ? md->cnt.last_end : 0;
	r->cmd_errors = atomic_read(&md->cmd_errors) - md->cur_err0;
	return ret;
}

int mmn_dma(struct mmn_file *f, struct mmn_dma __user *udma)
{
	struct mmn_dev *md = f->md;
	struct mmn_desc *d = md->desc;
	struct mmn_dma r;
	unsigned long flags;
	int ret;

	if (copy_from_user(&r, udma, sizeof(r)))
		return -EFAULT;
	if (md->bound != f || f->mm != current->mm)
		return -EINVAL;
	if (r.flags & ~(MMN_DMA_F_PARK | MMN_DMA_F_CONTINUE))
		return -EINVAL;
	if (r.flags & MMN_DMA_F_CONTINUE) {
		if (md->parked != f)
			return -EINVAL;
		ret = mmn_dma_run(f, false);
		goto out;
	}
	if (md->parked)
		return -EBUSY;
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

	md->cur = r;
	md->cur.fault_events = md->cur.cached_faults = md->cur.retries = 0;
	md->cur.fault_errors = md->cur.livelock_count = 0;
	md->cur_has_fault = false;
	md->cur_notif0 = atomic_read(&md->notifications);
	md->cur_err0 = atomic_read(&md->cmd_errors);
	spin_lock_irqsave(&md->evt_lock, flags);
	md->cur_seq = md->evt_seq;	/* older events are not this access's */
	md->dma_done = false;
	spin_unlock_irqrestore(&md->evt_lock, flags);

	writel(lower_32_bits(md->desc_dma), md->regs + MMN_DMA_DESC_LO);
	writel(upper_32_bits(md->desc_dma), md->regs + MMN_DMA_DESC_HI);
	writel(1, md->regs + MMN_DMA_DOORBELL);	/* runs during the write */
	ret = mmn_dma_run(f, r.flags & MMN_DMA_F_PARK);
out:
	if (ret)
		return ret;
	return copy_to_user(udma, &md->cur, sizeof(md->cur)) ? -EFAULT : 0;
}
