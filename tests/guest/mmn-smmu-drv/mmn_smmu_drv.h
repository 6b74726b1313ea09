/* SPDX-License-Identifier: GPL-2.0 */
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
 *   part          Linux 6.1                     Linux 6.12
 *   subscription  arm_smmu_mmu_notifier_get:    arm_smmu_sva_domain_alloc:
 *                 mmu_notifier_register, ops    mmu_notifier_register, ops
 *                 .invalidate_range .release    .arch_invalidate_secondary_tlbs
 *                 .free_notifier                .release .free_notifier
 *   invalidation  arm_smmu_mm_invalidate_range  arm_smmu_mm_arch_invalidate_
 *                                               secondary_tlbs
 *     size = end - start; without RANGE_INV a size >= CMDQ_MAX_TLBI_OPS
 *     pages (1 << (PAGE_SHIFT - 3) = 512) becomes 0; with RANGE_INV 6.12
 *     turns ULONG_MAX (flush_tlb_mm's 0, -1UL) into 0.  Size 0:
 *     arm_smmu_tlb_inv_asid -> TLBI_CTX; else arm_smmu_tlb_inv_range_asid
 *     -> TLBI_RANGE [start, start + size).
 *   release       arm_smmu_mm_release: quiet_cd arm_smmu_mm_release: SVA CD
 *                 (translation off), then       with no mm (EPD0), then
 *                 arm_smmu_tlb_inv_asid         arm_smmu_tlb_inv_asid
 *     -> MN_RELEASE (the context translates nothing more, entries gone),
 *     then TLBI_CTX.
 *   unbind        arm_smmu_mmu_notifier_put:    arm_smmu_sva_domain_free:
 *                 CD cleared, inv_asid unless   inv_asid, then
 *                 cleared, mmu_notifier_put     mmu_notifier_put
 *     -> TLBI_CTX (unless released), CTX_UNBIND, mmu_notifier_put (no
 *     ->release call; the subscription is freed by free_notifier after
 *     SRCU, and module exit waits with mmu_notifier_synchronize, as
 *     arm_smmu_sva_notifier_synchronize does).
 *   faults        iopf_handle_group -> iommu_sva_handle_iopf (6.12) /
 *                 iommu_sva_handle_iopf (6.1): handle_mm_fault with
 *                 FAULT_FLAG_REMOTE, then resume (DMA_RESUME) or abort.
 *   events        arm_smmu_evtq_thread: the event queue is drained on
 *                 the interrupt (MSI), not polled.
 *
 * DMA runs in process context (ioctl): the ioctl waits for the event
 * interrupt, handles a stalled fault like the I/O page fault handler and
 * resumes.  A PCI unbind while /dev/mmn-smmu is open unbinds the context
 * and leaves the open files returning -ENODEV.
 *
 * The programming interface is docs/specs/mmn-smmu.rst in the QEMU tree.
 *
 * Files (one module, mmn_smmu_drv.ko; Kbuild lists its objects):
 *   mmn_smmu_drv.h    this header: registers, device formats, the driver's
 *                     structures and what the files share
 *   mmn_smmu_pci.c    PCI probe/remove, module init/exit, device lifetime
 *   mmn_smmu_queue.c  command queue, event interrupt and event log
 *   mmn_smmu_sva.c    the mmu_notifier subscription: ops, bind, unbind
 *   mmn_smmu_dma.c    MMN_IOC_DMA: descriptors and stalled-fault handling
 *   mmn_smmu_cdev.c   /dev/mmn-smmu: open/release and the ioctl dispatch
 */
#ifndef MMN_SMMU_DRV_H
#define MMN_SMMU_DRV_H

#include <linux/atomic.h>
#include <linux/interrupt.h>
#include <linux/kref.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>

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
#define MMN_CTX			0
#define MMN_LOG_ENTS		256	/* event log (power of 2) */

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

/* mmn_smmu_pci.c */
void mmn_dev_put(struct mmn_dev *md);

/* mmn_smmu_queue.c */
int mmn_cmd(struct mmn_dev *md, u8 opcode, u64 a0, u64 a1, u64 a2);
irqreturn_t mmn_irq(int irq, void *data);
bool mmn_log_next(struct mmn_dev *md, u64 *cursor, struct mmn_event *e);

/* mmn_smmu_sva.c (called with md->lock held) */
int mmn_bind(struct mmn_file *f, struct mmn_bind __user *ubind);
void mmn_unbind(struct mmn_file *f);

/* mmn_smmu_dma.c (called with md->lock held) */
int mmn_dma(struct mmn_file *f, struct mmn_dma __user *udma);

/* mmn_smmu_cdev.c */
#define MMN_MISC_NAME		"mmn-smmu"
bool mmn_cdev_taken(void);
int mmn_cdev_register(struct mmn_dev *md);
void mmn_cdev_unregister(void);

#endif /* MMN_SMMU_DRV_H */
