// SPDX-License-Identifier: GPL-2.0
/*
 * mmn_smmu_drv: the command queue (commands run during the PROD write),
 * the event interrupt that drains the event queue, and the event log the
 * DMA path and MMN_IOC_EVENTS read.
 */
#include <linux/io.h>

#include "mmn_smmu_drv.h"

/*
 * Send one command.  The device executes it during the PROD write, so this
 * never waits and may be called from any context.
 */
int mmn_cmd(struct mmn_dev *md, u8 opcode, u64 a0, u64 a1, u64 a2)
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
				     "command 0x%02x a0 0x%llx a1 0x%llx: error %u\n",
				     opcode, a0, a1, err & 0xff);
	return ret;
}

/*
 * The interrupt (MSI): acknowledge, drain the event queue into the log,
 * note a completed descriptor, wake the waiting ioctl.  As
 * arm_smmu_evtq_thread, which drains the queue on the event interrupt.
 */
irqreturn_t mmn_irq(int irq, void *data)
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
bool mmn_log_next(struct mmn_dev *md, u64 *cursor, struct mmn_event *e)
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
