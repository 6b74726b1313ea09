// SPDX-License-Identifier: GPL-2.0
/*
 * mmn_smmu_drv: a minimal SVA driver for QEMU's mmn-smmu (1af4:10f5), an
 * SMMU without broadcast TLB maintenance that walks the CPU's page tables.
 *
 * It subscribes a process's mm with an mmu_notifier exactly like
 * drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-sva.c of the same kernel, for
 * an SMMU without BTM and without range invalidation (no
 * ARM_SMMU_FEAT_RANGE_INV; module parameter range_inv=1 models one with
 * it).  What each part mirrors:
 *
 *   part              Linux 6.1                     Linux 6.12
 *   subscription      arm_smmu_mmu_notifier_get:    arm_smmu_sva_domain_alloc:
 *                     mmu_notifier_register, ops    mmu_notifier_register, ops
 *                     .invalidate_range .release    .arch_invalidate_secondary_tlbs
 *                     .free_notifier                .release .free_notifier
 *   invalidation      arm_smmu_mm_invalidate_range  arm_smmu_mm_arch_invalidate_
 *                                                   secondary_tlbs
 *     size = end - start; without RANGE_INV a size >= CMDQ_MAX_TLBI_OPS
 *     pages (1 << (PAGE_SHIFT - 3) = 512) becomes 0; with RANGE_INV 6.12
 *     turns ULONG_MAX (flush_tlb_mm's 0, -1UL) into 0.  Size 0:
 *     arm_smmu_tlb_inv_asid -> TLBI_CTX; else arm_smmu_tlb_inv_range_asid
 *     -> TLBI_RANGE [start, start + size).
 *   release           arm_smmu_mm_release: quiet_cd arm_smmu_mm_release: SVA CD
 *                     (translation off), then       with no mm (EPD0), then
 *                     arm_smmu_tlb_inv_asid         arm_smmu_tlb_inv_asid
 *     -> MN_RELEASE (the context translates nothing more, entries gone),
 *     then TLBI_CTX.
 *   unbind            arm_smmu_mmu_notifier_put:    arm_smmu_sva_domain_free:
 *                     CD cleared, inv_asid unless   inv_asid, then
 *                     cleared, mmu_notifier_put     mmu_notifier_put
 *     -> TLBI_CTX (unless released), CTX_UNBIND, mmu_notifier_put (no
 *     ->release call; the subscription is freed by free_notifier after
 *     SRCU, and module exit waits with mmu_notifier_synchronize, as
 *     arm_smmu_sva_notifier_synchronize does).
 *   faults            iopf_handle_group -> iommu_sva_handle_iopf (6.12) /
 *                     iommu_sva_handle_iopf (6.1): handle_mm_fault with
 *                     FAULT_FLAG_REMOTE, then resume (DMA_RESUME) or abort.
 *   events            arm_smmu_evtq_thread: the event queue is drained on
 *                     the interrupt (MSI), not polled.
 *
 * DMA runs in process context (ioctl): the ioctl waits for the event
 * interrupt, handles a stalled fault like the I/O page fault handler and
 * resumes.  A PCI unbind while /dev/mmn-smmu is open unbinds the context
 * and leaves the open files returning -ENODEV.
 *
 * The programming interface is docs/specs/mmn-smmu.rst in the QEMU tree.
 */
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/kref.h>
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
#include <linux/wait.h>
#include <asm/cpufeature.h>	/* mmn_bind_format() */

#include "mmn_smmu_uapi.h"

#define MMN_ID			0x000
#define MMN_ID_VALUE		0x4d4d4e53
#define MMN_CTRL		0x020
#define MMN_CTRL_CMDQ_EN	BIT(0)
#define MMN_CTRL_EVTQ_EN	BIT(1)
#define MMN_CTRL_DMA_EN		BIT(2)
#define MMN_STATUS		0x024
#define MMN_IRQ_STATUS		0x028
#define MMN_IRQ_EVTQ		BIT(1)
#define MMN_IRQ_CMDQ_ERR	BIT(2)
#define MMN_IRQ_DMA_DONE	BIT(3)
#define MMN_IRQ_EVTQ_OVERFLOW	BIT(4)
#define MMN_IRQ_ENABLE		0x02c
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
#define MMN_EVTQ_LOST		0x070
#define MMN_DMA_DESC_LO		0x080
#define MMN_DMA_DESC_HI		0x084
#define MMN_DMA_DOORBELL	0x088
#define MMN_DMA_STATUS		0x08c

#define MMN_CMD_CTX_BIND	0x02
#define MMN_CMD_CTX_UNBIND	0x03
#define MMN_CMD_TLBI_RANGE	0x11
#define MMN_CMD_TLBI_CTX	0x12
#define MMN_CMD_MN_RELEASE	0x28
#define MMN_CMD_DMA_RESUME	0x30
#define MMN_CMD_DMA_ABORT	0x31
#define MMN_CMD_CHECK		0x40

#define MMN_CFG_VA_BITS(x)	((u64)(x))
#define MMN_CFG_OA_BITS(x)	((u64)(x) << 8)
#define MMN_CFG_UNPRIV		BIT_ULL(18)
#define MMN_CFG_STALL		BIT_ULL(19)
#define MMN_CFG_GRANULE(tg0)	((u64)(tg0) << 21)	/* TCR.TG0 encoding */
#define MMN_CFG_DS		BIT_ULL(23)
#define MMN_CFG_TBI		BIT_ULL(24)


#define MMN_Q_LOG2		8	/* 256 entries each */
#define MMN_Q_ENTS		(1u << MMN_Q_LOG2)
#define MMN_Q_IDX_MASK		(2 * MMN_Q_ENTS - 1)	/* index + wrap */
#define MMN_MAX_RETRIES		64	/* the device gives up at 16 */
#define MMN_CTX			0
#define MMN_LOG_ENTS		256	/* event log (power of 2) */
#define MMN_DMA_WAIT		(5 * HZ)

/* 6.6+: .arch_invalidate_secondary_tlbs, called by the TLB flush helpers */
#define MMN_SECONDARY_TLBS	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0))

/* arm-smmu-v3-sva.c: "Cloned from the MAX_TLBI_OPS in tlbflush.h" */
#define CMDQ_MAX_TLBI_OPS	(1 << (PAGE_SHIFT - 3))

static bool range_inv;
module_param(range_inv, bool, 0444);
MODULE_PARM_DESC(range_inv,
		 "behave as for an SMMU with ARM_SMMU_FEAT_RANGE_INV (default: without)");

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
	__le32 nr_samples;
	__le32 reserved;
	struct {
		__le64 va;
		__le16 ctx;
		u8 kind;
		u8 pad[5];
	} sample[8];
	u8 rest[96];
};

static_assert(sizeof(struct mmn_cmd) == 64);
static_assert(sizeof(struct mmn_evt) == 32);
static_assert(sizeof(struct mmn_desc) == 64);
static_assert(sizeof(struct mmn_check) == 256);

struct mmn_file;

/*
 * One device.  Freed on the last kref_put: the probe holds one reference,
 * each open file one, each subscription (until free_notifier) one, so an
 * open file or a late notifier call never sees it freed after a PCI
 * unbind; "dead" (under lock and cmdq_lock) keeps them off the hardware.
 */
struct mmn_dev {
	struct kref ref;
	struct pci_dev *pdev;
	void __iomem *regs;
	bool dead;			/* removed: no register access */
	int irq;
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

	/* Events, taken by the interrupt handler (evt_lock) */
	spinlock_t evt_lock;
	wait_queue_head_t wq;
	struct mmn_event log[MMN_LOG_ENTS];
	u64 evt_seq;			/* records ever logged */
	u64 evt_read;			/* MMN_IOC_EVENTS cursor */
	bool dma_done;			/* IRQ_STATUS.DMA_DONE seen */

	/* The access in progress or parked (lock) */
	struct mmn_file *parked;
	struct mmn_dma cur;
	u64 cur_seq;			/* event cursor of the access */
	int cur_notif0, cur_err0;
	struct mmn_event cur_fault;	/* its pending stalled fault */
	bool cur_has_fault;

	atomic_t notifications;
	atomic_t cmd_errors;
	struct mmn_counters cnt;	/* since the binding (cmdq_lock) */
};

/* One subscription: freed by free_notifier after mmu_notifier_put. */
struct mmn_sva {
	struct mmu_notifier mn;
	struct mmn_dev *md;
	bool live;		/* the context is bound (cmdq_lock) */
	bool cleared;		/* ->release ran (6.1's smmu_mn->cleared) */
};

struct mmn_file {
	struct mmn_dev *md;
	struct mmn_sva *sva;
	struct mm_struct *mm;
};

static void mmn_dev_free(struct kref *ref)
{
	kfree(container_of(ref, struct mmn_dev, ref));
}

static void mmn_dev_put(struct mmn_dev *md)
{
	kref_put(&md->ref, mmn_dev_free);
}

static struct mmn_dev *mmn_the_dev;
static DEFINE_MUTEX(mmn_the_dev_lock);	/* mmn_the_dev against open */

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
	if (md->dead) {
		spin_unlock_irqrestore(&md->cmdq_lock, flags);
		return -ENODEV;
	}
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
		md->cnt.cmd_errors++;
		ret = -EIO;
	}
	spin_unlock_irqrestore(&md->cmdq_lock, flags);
	if (ret)
		dev_warn_ratelimited(&md->pdev->dev,
				     "command 0x%02x a0 %#llx a1 %#llx: error %u\n",
				     opcode, a0, a1, err & 0xff);
	return ret;
}

/*
 * The interrupt (MSI): acknowledge, drain the event queue into the log,
 * note a completed descriptor, wake the waiting ioctl.  As
 * arm_smmu_evtq_thread, which drains the queue on the event interrupt.
 */
static irqreturn_t mmn_irq(int irq, void *data)
{
	struct mmn_dev *md = data;
	struct mmn_event *l;
	struct mmn_evt e;
	u32 st, prod;

	spin_lock(&md->evt_lock);
	if (md->dead) {
		spin_unlock(&md->evt_lock);
		return IRQ_NONE;
	}
	st = readl(md->regs + MMN_IRQ_STATUS);
	if (!st) {
		spin_unlock(&md->evt_lock);
		return IRQ_NONE;
	}
	writel(st, md->regs + MMN_IRQ_STATUS);	/* RW1C */
	md->cnt.irqs++;
	for (;;) {
		prod = readl(md->regs + MMN_EVTQ_PROD);
		if (prod == md->evtq_cons)
			break;
		e = md->evtq[md->evtq_cons & (MMN_Q_ENTS - 1)];
		md->evtq_cons = (md->evtq_cons + 1) & MMN_Q_IDX_MASK;
		writel(md->evtq_cons, md->regs + MMN_EVTQ_CONS);
		l = &md->log[md->evt_seq++ & (MMN_LOG_ENTS - 1)];
		l->type = e.type;
		l->kind = e.kind;
		l->level = e.level;
		l->flags = e.flags;
		l->count = le32_to_cpu(e.count);
		l->va = le64_to_cpu(e.va);
		l->desc = le64_to_cpu(e.desc);
		md->cnt.events++;
	}
	if (st & MMN_IRQ_DMA_DONE)
		md->dma_done = true;
	spin_unlock(&md->evt_lock);
	wake_up(&md->wq);
	return IRQ_HANDLED;
}

/* The next logged event after *cursor, if any (false when none). */
static bool mmn_log_next(struct mmn_dev *md, u64 *cursor, struct mmn_event *e)
{
	unsigned long flags;
	bool ok = false;

	spin_lock_irqsave(&md->evt_lock, flags);
	if (md->evt_seq - *cursor > MMN_LOG_ENTS)
		*cursor = md->evt_seq - MMN_LOG_ENTS;	/* overwritten */
	if (*cursor < md->evt_seq) {
		*e = md->log[(*cursor)++ & (MMN_LOG_ENTS - 1)];
		ok = true;
	}
	spin_unlock_irqrestore(&md->evt_lock, flags);
	return ok;
}

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

static int mmn_bind(struct mmn_file *f, struct mmn_bind __user *ubind)
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
	dev_info(&md->pdev->dev, "bound pid %d: ttb %#llx va_bits %u\n",
		 current->pid, b.ttb, b.va_bits);
	return copy_to_user(ubind, &b, sizeof(b)) ? -EFAULT : 0;
}

/*
 * arm_smmu_mmu_notifier_put (6.1) / arm_smmu_sva_domain_free (6.12):
 * invalidate the ASID unless release did, clear the CD, mmu_notifier_put.
 * The device drops a context's entries when it is unbound, and a DMA
 * stalled on it is aborted.  Called with md->lock held.
 */
static void mmn_unbind(struct mmn_file *f)
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

/* What iommu_sva_handle_mm() (6.12; iommu_sva_handle_iopf in 6.1) does
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
		    !wait_event_timeout(md->wq, mmn_dma_settled(md, md->cur_seq),
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

static int mmn_dma(struct mmn_file *f, struct mmn_dma __user *udma)
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
	while (ev->nr < MMN_EVENTS_MAX && mmn_log_next(md, &seq, &ev->ev[ev->nr]))
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
	ret = mmn_cmd(md, MMN_CMD_CHECK, md->desc_dma + sizeof(*md->desc), 0, 0);
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
		dev_err(&pdev->dev, "queues not enabled: status %#x\n",
			readl(md->regs + MMN_STATUS));
		ret = -EIO;
		goto err_disable;
	}

	pci_set_drvdata(pdev, md);
	mutex_lock(&mmn_the_dev_lock);
	mmn_the_dev = md;
	mutex_unlock(&mmn_the_dev_lock);
	ret = misc_register(&mmn_misc);
	if (ret) {
		mutex_lock(&mmn_the_dev_lock);
		mmn_the_dev = NULL;
		mutex_unlock(&mmn_the_dev_lock);
		goto err_disable;
	}
	dev_info(&pdev->dev, "mmn-smmu: cmdq %pad evtq %pad, MSI irq %d, /dev/%s\n",
		 &md->cmdq_dma, &md->evtq_dma, md->irq, mmn_misc.name);
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

	mutex_lock(&mmn_the_dev_lock);
	mmn_the_dev = NULL;		/* no new open */
	mutex_unlock(&mmn_the_dev_lock);
	misc_deregister(&mmn_misc);

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
