// SPDX-License-Identifier: GPL-2.0
/*
 * mmn_smmu_drv: the SVA subscription of a process's mm, as
 * arm-smmu-v3-sva.c does it (see mmn_smmu_drv.h): the mmu_notifier ops
 * that forward invalidations and release to the device, MMN_IOC_BIND
 * (CTX_BIND with this CPU's stage-1 format) and the unbind.
 */
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <asm/cpufeature.h>	/* mmn_bind_format() */

#include "mmn_smmu_drv.h"

/* 6.6+: .arch_invalidate_secondary_tlbs, called by the TLB flush helpers */
#define MMN_SECONDARY_TLBS	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0))

/* arm-smmu-v3-sva.c: "Cloned from the MAX_TLBI_OPS in tlbflush.h" */
#define CMDQ_MAX_TLBI_OPS	(1 << (PAGE_SHIFT - 3))

static bool range_inv;
module_param(range_inv, bool, 0444);
MODULE_PARM_DESC(range_inv,
		 "behave as for an SMMU with ARM_SMMU_FEAT_RANGE_INV (default: without)");

/* Count a notification; false when the context is no longer bound. */
static bool mmn_mn_account(struct mmn_sva *sva, unsigned long start,
			   unsigned long end, bool whole)
{
	struct mmn_dev *md = sva->md;
	unsigned long flags;
	bool live;

	spin_lock_irqsave(&md->cmdq_lock, flags);
	live = sva->live && !md->dead;
	if (live) {
		md->cnt.notifications++;
		if (whole)
			md->cnt.inv_ctx++;
		else
			md->cnt.inv_range++;
		md->cnt.last_start = start;
		md->cnt.last_end = end;
	}
	spin_unlock_irqrestore(&md->cmdq_lock, flags);
	if (live)
		atomic_inc(&md->notifications);
	return live;
}

/*
 * arm_smmu_mm_invalidate_range (6.1) / arm_smmu_mm_arch_invalidate_
 * secondary_tlbs (6.12).  Called with the page-table lock held (6.6+:
 * from the arm64 TLB flush helpers) or anywhere: no sleeping.  A call
 * racing with the unbind finds the context gone and does nothing (the
 * real driver's "harmless unnecessary invalidation").
 */
static void mmn_mn_invalidate(struct mmu_notifier *mn, struct mm_struct *mm,
			      unsigned long start, unsigned long end)
{
	struct mmn_sva *sva = container_of(mn, struct mmn_sva, mn);
	size_t size = end - start;

	if (!range_inv) {
		if (size >= CMDQ_MAX_TLBI_OPS * PAGE_SIZE)
			size = 0;
	} else if (MMN_SECONDARY_TLBS && size == ULONG_MAX) {
		size = 0;	/* 6.12: flush_tlb_mm()'s (0, -1UL) */
	}
	if (!mmn_mn_account(sva, start, end, !size))
		return;
	if (!size)	/* arm_smmu_tlb_inv_asid */
		mmn_cmd(sva->md, MMN_CMD_TLBI_CTX, 0, 0, 0);
	else		/* arm_smmu_tlb_inv_range_asid */
		mmn_cmd(sva->md, MMN_CMD_TLBI_RANGE, start, start + size, 0);
}

/*
 * arm_smmu_mm_release: DMA may still be running; keep the context but
 * disable translation (6.1's quiet_cd, 6.12's SVA CD without an mm), then
 * arm_smmu_tlb_inv_asid.  Only from exit_mmap (the unbind uses
 * mmu_notifier_put, which does not call ->release).
 */
static void mmn_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct mmn_sva *sva = container_of(mn, struct mmn_sva, mn);
	struct mmn_dev *md = sva->md;
	unsigned long flags;
	bool live;

	spin_lock_irqsave(&md->cmdq_lock, flags);
	live = sva->live && !sva->cleared && !md->dead;
	if (live) {
		sva->cleared = true;
		md->cnt.releases++;
	}
	spin_unlock_irqrestore(&md->cmdq_lock, flags);
	if (!live)
		return;
	mmn_cmd(md, MMN_CMD_MN_RELEASE, 0, 0, 0);
	mmn_cmd(md, MMN_CMD_TLBI_CTX, 0, 0, 0);
}

/* arm_smmu_mmu_notifier_free: after SRCU, from mmu_notifier_put */
static void mmn_mn_free(struct mmu_notifier *mn)
{
	struct mmn_sva *sva = container_of(mn, struct mmn_sva, mn);

	mmn_dev_put(sva->md);
	kfree(sva);
}

static const struct mmu_notifier_ops mmn_mn_ops = {
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	.arch_invalidate_secondary_tlbs = mmn_mn_invalidate,
#else
	.invalidate_range = mmn_mn_invalidate,
#endif
	.release = mmn_mn_release,
	.free_notifier = mmn_mn_free,
};

/*
 * The CTX_BIND format fields: the stage-1 format this CPU uses for the
 * mm's TTBR0 (docs/specs/mmn-smmu.rst, "Context configuration").
 * - GRANULE from PAGE_SHIFT, in TCR.TG0's encoding (TCR_TG0_4K/64K/16K).
 * - DS: 6.12 lpa2_is_enabled() (asm/pgtable-prot.h: TCR_EL1.DS, which
 *   __cpu_setup in arch/arm64/mm/proc.S sets with ARM64_HAS_VA52 under
 *   CONFIG_ARM64_LPA2, i.e. when cpu_has_lpa2()); 6.1 has no LPA2.
 * - OA_BITS: TCR_EL1.IPS as __cpu_setup's tcr_compute_pa_size set it (the
 *   CPU's PARange capped to what the kernel supports: 48 unless PA_BITS_52
 *   and, with LPA2, ARM64_HAS_VA52), decoded like PARange by
 *   id_aa64mmfr0_parange_to_phys_shift() (6.1 and 6.12 cpufeature.h).
 * - TBI: TCR_EL1.TBI0, which __cpu_setup always sets (6.1 and 6.12).
 */
static u64 mmn_bind_format(void)
{
	u64 tcr = read_sysreg(tcr_el1);
	u64 cfg = MMN_CFG_OA_BITS(id_aa64mmfr0_parange_to_phys_shift(
			(tcr & TCR_IPS_MASK) >> TCR_IPS_SHIFT));

	cfg |= MMN_CFG_GRANULE(PAGE_SHIFT == 16 ? 1 : PAGE_SHIFT == 14 ? 2 : 0);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	if (lpa2_is_enabled())
		cfg |= MMN_CFG_DS;
#endif
	if (tcr & TCR_TBI0)
		cfg |= MMN_CFG_TBI;
	return cfg;
}

int mmn_bind(struct mmn_file *f, struct mmn_bind __user *ubind)
{
	struct mmn_dev *md = f->md;
	struct mmn_bind b = {};
	u64 cfg;
	int ret;

	if (md->bound || f->sva)
		return -EBUSY;
	if (!current->mm)
		return -EINVAL;
	/* TTBR0_EL1 of this mm is virt_to_phys(mm->pgd) (cpu_switch_mm) */
	b.ttb = virt_to_phys(current->mm->pgd);
	/*
	 * TCR.T0SZ = 64 - vabits_actual (6.12 asm/memory.h reads it back from
	 * TCR.T1SZ; 6.1 mm/mmu.c keeps it in a variable): 52 with LPA2/LVA.
	 */
	b.va_bits = vabits_actual;

	f->sva = kzalloc(sizeof(*f->sva), GFP_KERNEL);
	if (!f->sva)
		return -ENOMEM;
	f->sva->mn.ops = &mmn_mn_ops;
	f->sva->md = md;
	kref_get(&md->ref);		/* dropped by mmn_mn_free */
	ret = mmu_notifier_register(&f->sva->mn, current->mm);
	if (ret) {
		mmn_dev_put(md);
		kfree(f->sva);
		f->sva = NULL;
		return ret;
	}
	f->mm = current->mm;
	memset(&md->cnt, 0, sizeof(md->cnt));

	/* no HTTU: a writable-clean (PTE_RDONLY) entry is read-only to us */
	cfg = MMN_CFG_VA_BITS(b.va_bits) | mmn_bind_format() |
	      MMN_CFG_UNPRIV | MMN_CFG_STALL;
	ret = mmn_cmd(md, MMN_CMD_CTX_BIND, b.ttb, cfg, (unsigned long)f);
	if (ret) {
		mmu_notifier_put(&f->sva->mn);	/* frees f->sva */
		f->sva = NULL;
		f->mm = NULL;
		return ret;
	}
	/* Nothing is cached before CTX_BIND: earlier calls need no TLBI. */
	spin_lock_irq(&md->cmdq_lock);
	f->sva->live = true;
	spin_unlock_irq(&md->cmdq_lock);
	md->bound = f;
	atomic_set(&md->notifications, 0);
	dev_info(&md->pdev->dev, "bound pid %d: ttb 0x%llx va_bits %u\n",
		 current->pid, b.ttb, b.va_bits);
	return copy_to_user(ubind, &b, sizeof(b)) ? -EFAULT : 0;
}

/*
 * arm_smmu_mmu_notifier_put (6.1) / arm_smmu_sva_domain_free (6.12):
 * invalidate the ASID unless release did, clear the CD, mmu_notifier_put.
 * The device drops a context's entries when it is unbound, and a DMA
 * stalled on it is aborted.  Called with md->lock held.
 */
void mmn_unbind(struct mmn_file *f)
{
	struct mmn_dev *md = f->md;
	struct mmn_sva *sva = f->sva;
	bool cleared;

	if (!sva || md->bound != f)
		return;
	spin_lock_irq(&md->cmdq_lock);
	sva->live = false;		/* later notifier calls do nothing */
	cleared = sva->cleared;
	spin_unlock_irq(&md->cmdq_lock);
	if (!cleared)
		mmn_cmd(md, MMN_CMD_TLBI_CTX, 0, 0, 0);
	mmn_cmd(md, MMN_CMD_CTX_UNBIND, 0, 0, 0);
	md->parked = NULL;
	mmu_notifier_put(&sva->mn);	/* no ->release; frees sva later */
	if (!md->dead)
		dev_info(&md->pdev->dev, "unbound: %s\n", cleared ?
			 "released by exit_mmap" : "mmu_notifier_put");
	f->sva = NULL;
	f->mm = NULL;
	md->bound = NULL;
}
