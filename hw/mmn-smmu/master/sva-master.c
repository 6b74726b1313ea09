/*
 * mmn-sva-master: a DMA master behind mmn-smmuv3 (see sva-master.h).
 *
 * A job (READ, WRITE or FILL of LEN bytes at VA, tagged with PASID when
 * CTRL.SSV is set) runs page by page through the SMMU when DOORBELL is
 * written.  A stall parks it (STATUS.STATE stays BUSY) until the SMMU
 * resumes it (CMD_RESUME Retry: the same access is translated again) or
 * terminates it.  Data moves between guest RAM and the 4 KiB DATA window;
 * an output address that is not RAM ends the job FAULT.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/bswap.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/resettable.h"
#include "migration/vmstate.h"
#include "hw/mmn-smmu/guest-ram.h"
#include "hw/mmn-smmu/iotlb-check.h"
#include "hw/mmn-smmu/sva-master.h"
#include "hw/mmn-smmu/trace.h"

#define REG_ID              0x000
#define REG_VERSION         0x004
#define REG_CTRL            0x008
#define REG_PASID           0x00c
#define REG_VA_LO           0x010
#define REG_VA_HI           0x014
#define REG_LEN             0x018
#define REG_OP              0x01c
#define REG_PATTERN         0x020
#define REG_DOORBELL        0x024
#define REG_STATUS          0x028
#define REG_DONE            0x02c
#define REG_FAULTS          0x030
#define REG_RETRIES         0x034
#define REG_FAULT_VA_LO     0x038
#define REG_FAULT_VA_HI     0x03c
#define REG_IRQ_STATUS      0x040
#define REG_ABORT           0x044
#define REG_TLBI_COUNT      0x048
#define REG_LIVELOCK_COUNT  0x04c
#define REG_CHECK           0x050
#define REG_CHECK_ENTRIES   0x054   /* ... to 0x064: five result words */
#define REG_CHECK_LAST      0x064

#define MMN_SVA_ID          0x4d4d4e4d
#define MMN_SVA_VERSION     0x00010000
#define CTRL_SSV            (1u << 0)
#define CTRL_IRQ_EN         (1u << 1)
#define CTRL_MASK           (CTRL_SSV | CTRL_IRQ_EN)
#define IRQ_JOB_END         (1u << 0)
#define STATUS_FROM_CACHE   (1u << 12)
#define STATUS_STALE        (1u << 13)

static void master_irq_update(MmnSvaMasterState *m)
{
    qemu_set_irq(m->irq, (m->irq_status & IRQ_JOB_END) &&
                         (m->ctrl & CTRL_IRQ_EN));
}

static uint32_t tlbi_since_start(MmnSvaMasterState *m)
{
    if (m->job_asid < 0) {
        return 0;
    }
    return mmn_smmuv3_tlbi_count(m->smmu, m->job_asid) - m->tlbi_base;
}

static void job_end(MmnSvaMasterState *m, uint32_t state)
{
    m->tlbi_count = tlbi_since_start(m);
    m->state = state;
    m->irq_status |= IRQ_JOB_END;
    trace_mmn_sva_master_end(state, m->done, m->faults, m->retries,
                             m->tlbi_count);
    master_irq_update(m);
}

static void note_fault(MmnSvaMasterState *m)
{
    m->faults++;
    m->fault_va = m->txn.va;
    m->fault_info = ((uint32_t)m->txn.fault_kind & 0xf) << 8 |
                    (m->txn.from_cache ? STATUS_FROM_CACHE : 0);
}

/* Move up to @n bytes at output address @pa for the current job. */
static bool job_copy(MmnSvaMasterState *m, uint64_t pa, uint32_t n)
{
    AddressSpace *as = m->smmu->as;

    switch (m->op) {
    case MMN_SVA_OP_READ:
        return mmn_ram_read(as, pa, m->data + m->done, n);
    case MMN_SVA_OP_WRITE:
        return mmn_ram_write(as, pa, m->data + m->done, n);
    default: {
        uint8_t buf[4096];
        uint32_t i;

        for (i = 0; i < n; i++) {
            buf[i] = m->pattern >> (((m->va + m->done + i) & 3) * 8);
        }
        return mmn_ram_write(as, pa, buf, n);
    }
    }
}

static void job_run(MmnSvaMasterState *m)
{
    while (m->done < m->len) {
        uint64_t va = m->va + m->done;
        uint32_t n;

        m->txn.va = va;
        switch (mmn_smmuv3_translate(m->smmu, &m->txn)) {
        case MMN_SMMUV3_XLATE_OK:
            break;
        case MMN_SMMUV3_XLATE_STALLED:
            note_fault(m);
            break;
        case MMN_SMMUV3_XLATE_LIVELOCK:
            note_fault(m);
            m->livelock_count = m->txn.repeat;
            m->fault_info |= m->txn.stale ? STATUS_STALE : 0;
            job_end(m, MMN_SVA_ST_LIVELOCK);
            return;
        case MMN_SMMUV3_XLATE_FAULT:
        default:
            note_fault(m);
            job_end(m, MMN_SVA_ST_FAULT);
            return;
        }
        if (m->job_asid < 0 && m->txn.asid >= 0) {
            m->job_asid = m->txn.asid;
            m->tlbi_base = mmn_smmuv3_tlbi_count(m->smmu, m->job_asid);
        }
        if (m->txn.stalled) {
            return;     /* BUSY until the SMMU resumes us */
        }
        n = MIN(m->len - m->done, (uint32_t)MIN(m->txn.len, 4096));
        n = MIN(n, 4096 - (va & 0xfff));
        if (!job_copy(m, m->txn.pa, n)) {
            qemu_log_mask(LOG_GUEST_ERROR, "mmn-sva-master: VA 0x%" PRIx64
                          " -> 0x%" PRIx64 " is not RAM\n", va, m->txn.pa);
            m->txn.fault_kind = MMN_FAULT_WALK_ABORT;
            note_fault(m);
            job_end(m, MMN_SVA_ST_FAULT);
            return;
        }
        m->done += n;
    }
    job_end(m, MMN_SVA_ST_DONE);
}

static void master_resume(void *opaque, MmnSmmuv3Txn *txn, bool retry)
{
    MmnSvaMasterState *m = opaque;
    MemReentrancyGuard *guard = &DEVICE(m)->mem_reentrancy_guard;
    bool engaged = guard->engaged_in_io;

    if (m->state != MMN_SVA_ST_BUSY) {
        return;
    }
    if (!retry) {
        job_end(m, MMN_SVA_ST_FAULT);
        return;
    }
    m->retries++;
    /*
     * The job runs as under DOORBELL, where QEMU's re-entrancy guard
     * refuses accesses to our registers: an MSI the SMMU sends for one of
     * our faults must not ABORT the job in the middle of its translation.
     */
    guard->engaged_in_io = true;
    job_run(m);
    guard->engaged_in_io = engaged;
}

static const MmnSmmuv3MasterOps master_ops = {
    .resume = master_resume,
};

static void job_start(MmnSvaMasterState *m)
{
    uint32_t max = m->op == MMN_SVA_OP_FILL ? MMN_SVA_MASTER_MAX_LEN :
                   MMN_SVA_MASTER_DATA_SIZE;

    if (m->state == MMN_SVA_ST_BUSY) {
        return;
    }
    m->done = m->faults = m->retries = 0;
    m->fault_va = 0;
    m->fault_info = 0;
    m->livelock_count = 0;
    m->tlbi_count = 0;
    m->job_asid = -1;
    mmn_smmuv3_txn_cancel(m->smmu, &m->txn);
    if (m->op < MMN_SVA_OP_READ || m->op > MMN_SVA_OP_FILL ||
        m->len == 0 || m->len > max || m->va + (m->len - 1) < m->va) {
        qemu_log_mask(LOG_GUEST_ERROR, "mmn-sva-master: bad job: op %u len "
                      "%u va 0x%" PRIx64 "\n", m->op, m->len, m->va);
        m->fault_info = MMN_SMMUV3_FAULT_CONFIG << 8;
        job_end(m, MMN_SVA_ST_FAULT);
        return;
    }
    m->txn.sid = m->sid;
    m->txn.ssv = m->ctrl & CTRL_SSV;
    m->txn.ssid = m->pasid & 0xfffff;
    m->txn.write = m->op != MMN_SVA_OP_READ;
    m->txn.can_stall = true;
    m->state = MMN_SVA_ST_BUSY;
    trace_mmn_sva_master_job(m->op, m->va, m->len, m->txn.ssv, m->txn.ssid);
    job_run(m);
}

static void run_check(MmnSvaMasterState *m)
{
    MmnIotlbCheck r;

    mmn_smmuv3_check(m->smmu, m->sid, m->pasid & 0xfffff, m->ctrl & CTRL_SSV,
                     &r);
    m->check[0] = r.entries;
    m->check[1] = r.stale;
    m->check[2] = r.stale_readonly;
    m->check[3] = r.stale_writable;
    m->check[4] = r.stale_present + r.stale_oa;
}

static uint64_t master_read(void *opaque, hwaddr off, unsigned size)
{
    MmnSvaMasterState *m = opaque;

    if (off >= MMN_SVA_MASTER_DATA &&
        off + size <= MMN_SVA_MASTER_DATA + MMN_SVA_MASTER_DATA_SIZE) {
        return ldn_le_p(m->data + (off - MMN_SVA_MASTER_DATA), size);
    }
    if (size != 4 && !(size == 8 && (off == REG_VA_LO ||
                                      off == REG_FAULT_VA_LO))) {
        qemu_log_mask(LOG_GUEST_ERROR, "mmn-sva-master: %u-byte read at 0x%"
                      HWADDR_PRIx "\n", size, off);
        return 0;
    }
    switch (off) {
    case REG_ID:
        return MMN_SVA_ID;
    case REG_VERSION:
        return MMN_SVA_VERSION;
    case REG_CTRL:
        return m->ctrl;
    case REG_PASID:
        return m->pasid;
    case REG_VA_LO:
        return size == 8 ? m->va : (uint32_t)m->va;
    case REG_VA_HI:
        return m->va >> 32;
    case REG_LEN:
        return m->len;
    case REG_OP:
        return m->op;
    case REG_PATTERN:
        return m->pattern;
    case REG_STATUS:
        return m->state | m->fault_info;
    case REG_DONE:
        return m->done;
    case REG_FAULTS:
        return m->faults;
    case REG_RETRIES:
        return m->retries;
    case REG_FAULT_VA_LO:
        return size == 8 ? m->fault_va : (uint32_t)m->fault_va;
    case REG_FAULT_VA_HI:
        return m->fault_va >> 32;
    case REG_IRQ_STATUS:
        return m->irq_status;
    case REG_TLBI_COUNT:
        return m->state == MMN_SVA_ST_BUSY ? tlbi_since_start(m) :
               m->tlbi_count;
    case REG_LIVELOCK_COUNT:
        return m->livelock_count;
    case REG_CHECK_ENTRIES ... REG_CHECK_LAST:
        return m->check[(off - REG_CHECK_ENTRIES) / 4];
    case REG_DOORBELL:
    case REG_ABORT:
    case REG_CHECK:
        return 0;               /* write-only */
    }
    qemu_log_mask(LOG_GUEST_ERROR, "mmn-sva-master: read of undefined "
                  "register 0x%" HWADDR_PRIx "\n", off);
    return 0;
}

static void master_write(void *opaque, hwaddr off, uint64_t val,
                         unsigned size)
{
    MmnSvaMasterState *m = opaque;
    uint32_t v = val;

    if (off >= MMN_SVA_MASTER_DATA &&
        off + size <= MMN_SVA_MASTER_DATA + MMN_SVA_MASTER_DATA_SIZE) {
        stn_le_p(m->data + (off - MMN_SVA_MASTER_DATA), size, val);
        return;
    }
    if (size != 4 && !(size == 8 && off == REG_VA_LO)) {
        qemu_log_mask(LOG_GUEST_ERROR, "mmn-sva-master: %u-byte write at 0x%"
                      HWADDR_PRIx "\n", size, off);
        return;
    }
    if (m->state == MMN_SVA_ST_BUSY && off >= REG_CTRL && off <= REG_PATTERN) {
        qemu_log_mask(LOG_GUEST_ERROR, "mmn-sva-master: job registers "
                      "written while a job is BUSY: ignored\n");
        return;
    }
    switch (off) {
    case REG_CTRL:
        m->ctrl = v & CTRL_MASK;
        master_irq_update(m);
        return;
    case REG_PASID:
        m->pasid = v & 0xfffff;
        return;
    case REG_VA_LO:
        m->va = size == 8 ? val : deposit64(m->va, 0, 32, v);
        return;
    case REG_VA_HI:
        m->va = deposit64(m->va, 32, 32, v);
        return;
    case REG_LEN:
        m->len = v;
        return;
    case REG_OP:
        m->op = v;
        return;
    case REG_PATTERN:
        m->pattern = v;
        return;
    case REG_DOORBELL:
        if (v & 1) {
            job_start(m);
        }
        return;
    case REG_IRQ_STATUS:
        m->irq_status &= ~v;
        master_irq_update(m);
        return;
    case REG_ABORT:
        if ((v & 1) && m->state == MMN_SVA_ST_BUSY) {
            mmn_smmuv3_txn_cancel(m->smmu, &m->txn);
            job_end(m, MMN_SVA_ST_ABORTED);
        }
        return;
    case REG_CHECK:
        if (v & 1) {
            run_check(m);
        }
        return;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "mmn-sva-master: write to undefined or "
                  "read-only register 0x%" HWADDR_PRIx "\n", off);
}

static const MemoryRegionOps master_mmio_ops = {
    .read = master_read,
    .write = master_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
};

static void master_reset_hold(Object *obj, ResetType type)
{
    MmnSvaMasterState *m = MMN_SVA_MASTER(obj);

    if (m->smmu) {
        mmn_smmuv3_txn_cancel(m->smmu, &m->txn);
    }
    memset(&m->txn, 0, sizeof(m->txn));
    m->ctrl = m->pasid = 0;
    m->va = 0;
    m->len = m->op = m->pattern = 0;
    m->state = MMN_SVA_ST_IDLE;
    m->fault_info = m->done = m->faults = m->retries = 0;
    m->fault_va = 0;
    m->irq_status = 0;
    m->livelock_count = 0;
    m->tlbi_count = 0;
    m->tlbi_base = 0;
    m->job_asid = -1;
    memset(m->check, 0, sizeof(m->check));
    memset(m->data, 0, sizeof(m->data));
    master_irq_update(m);
}

static void master_realize(DeviceState *dev, Error **errp)
{
    MmnSvaMasterState *m = MMN_SVA_MASTER(dev);

    if (!m->smmu) {
        error_setg(errp, "mmn-sva-master: the 'smmu' link is not set");
        return;
    }
    memory_region_init_io(&m->iomem, OBJECT(m), &master_mmio_ops, m,
                          TYPE_MMN_SVA_MASTER, MMN_SVA_MASTER_MMIO_SIZE);
    sysbus_init_mmio(SYS_BUS_DEVICE(m), &m->iomem);
    sysbus_init_irq(SYS_BUS_DEVICE(m), &m->irq);
    mmn_smmuv3_register_master(m->smmu, m->sid, &m->txn, &master_ops, m);
}

static int master_post_load(void *opaque, int version_id)
{
    MmnSvaMasterState *m = opaque;

    if (m->state > MMN_SVA_ST_ABORTED ||
        (m->txn.stalled && m->state != MMN_SVA_ST_BUSY) ||
        m->len > MMN_SVA_MASTER_MAX_LEN || m->done > m->len) {
        return -EINVAL;
    }
    /* IOTLB serials do not migrate: the IOTLB starts empty */
    m->txn.livelock.serial = 0;
    return 0;
}

static const VMStateDescription vmstate_mmn_smmuv3_txn = {
    .name = "mmn-smmuv3-txn",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(sid, MmnSmmuv3Txn),
        VMSTATE_UINT32(ssid, MmnSmmuv3Txn),
        VMSTATE_BOOL(ssv, MmnSmmuv3Txn),
        VMSTATE_BOOL(write, MmnSmmuv3Txn),
        VMSTATE_BOOL(can_stall, MmnSmmuv3Txn),
        VMSTATE_UINT64(va, MmnSmmuv3Txn),
        VMSTATE_UINT8(fault_kind, MmnSmmuv3Txn),
        VMSTATE_BOOL(from_cache, MmnSmmuv3Txn),
        VMSTATE_BOOL(stalled, MmnSmmuv3Txn),
        VMSTATE_UINT16(stag, MmnSmmuv3Txn),
        VMSTATE_UINT32(repeat, MmnSmmuv3Txn),
        VMSTATE_BOOL(stale, MmnSmmuv3Txn),
        VMSTATE_INT32(asid, MmnSmmuv3Txn),
        VMSTATE_UINT32(livelock.count, MmnSmmuv3Txn),
        VMSTATE_UINT32(livelock.ctx, MmnSmmuv3Txn),
        VMSTATE_UINT64(livelock.page, MmnSmmuv3Txn),
        VMSTATE_UINT8(livelock.kind, MmnSmmuv3Txn),
        VMSTATE_UINT8(livelock.level, MmnSmmuv3Txn),
        VMSTATE_BOOL(livelock.write, MmnSmmuv3Txn),
        VMSTATE_UINT64(livelock.desc_pa, MmnSmmuv3Txn),
        VMSTATE_UINT64(livelock.desc_val, MmnSmmuv3Txn),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_mmn_sva_master = {
    .name = TYPE_MMN_SVA_MASTER,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = master_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, MmnSvaMasterState),
        VMSTATE_UINT32(pasid, MmnSvaMasterState),
        VMSTATE_UINT64(va, MmnSvaMasterState),
        VMSTATE_UINT32(len, MmnSvaMasterState),
        VMSTATE_UINT32(op, MmnSvaMasterState),
        VMSTATE_UINT32(pattern, MmnSvaMasterState),
        VMSTATE_UINT32(state, MmnSvaMasterState),
        VMSTATE_UINT32(fault_info, MmnSvaMasterState),
        VMSTATE_UINT32(done, MmnSvaMasterState),
        VMSTATE_UINT32(faults, MmnSvaMasterState),
        VMSTATE_UINT32(retries, MmnSvaMasterState),
        VMSTATE_UINT64(fault_va, MmnSvaMasterState),
        VMSTATE_UINT32(irq_status, MmnSvaMasterState),
        VMSTATE_UINT32(livelock_count, MmnSvaMasterState),
        VMSTATE_UINT64(tlbi_base, MmnSvaMasterState),
        VMSTATE_UINT32(tlbi_count, MmnSvaMasterState),
        VMSTATE_INT32(job_asid, MmnSvaMasterState),
        VMSTATE_UINT32_ARRAY(check, MmnSvaMasterState, 5),
        VMSTATE_UINT8_ARRAY(data, MmnSvaMasterState,
                            MMN_SVA_MASTER_DATA_SIZE),
        VMSTATE_STRUCT(txn, MmnSvaMasterState, 1, vmstate_mmn_smmuv3_txn,
                       MmnSmmuv3Txn),
        VMSTATE_END_OF_LIST()
    },
};

static const Property master_properties[] = {
    DEFINE_PROP_LINK("smmu", MmnSvaMasterState, smmu, TYPE_MMN_SMMUV3,
                     MmnSmmuv3State *),
    DEFINE_PROP_UINT32("sid", MmnSvaMasterState, sid, 0x10000),
};

static void master_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->desc = "DMA master behind mmn-smmuv3 (SVA with stalls)";
    dc->realize = master_realize;
    dc->vmsd = &vmstate_mmn_sva_master;
    rc->phases.hold = master_reset_hold;
    device_class_set_props(dc, master_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo master_types[] = {
    {
        .name = TYPE_MMN_SVA_MASTER,
        .parent = TYPE_SYS_BUS_DEVICE,
        .instance_size = sizeof(MmnSvaMasterState),
        .class_init = master_class_init,
    },
};

DEFINE_TYPES(master_types)
