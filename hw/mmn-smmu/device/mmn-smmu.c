/*
 * mmn-smmu: PCI device glue (QOM type, registers, interrupts, reset,
 * migration).  The programming interface is docs/specs/mmn-smmu.rst.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/pci/pci.h"
#include "hw/pci/msi.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "hw/mmn-smmu/iotlb.h"
#include "mmn-smmu-internal.h"
#include "hw/mmn-smmu/trace.h"

#define MMN_SMMU_IOTLB_CAPACITY_MAX (1u << 20)     /* entries */

static uint32_t mmn_smmu_features(MmnSmmuState *s)
{
    uint32_t f = 0;

    f = FIELD_DP32(f, FEATURES, VA39, 1);
    f = FIELD_DP32(f, FEATURES, VA48, 1);
    f = FIELD_DP32(f, FEATURES, HTTU_HA, 1);
    f = FIELD_DP32(f, FEATURES, HTTU_HD, 1);
    f = FIELD_DP32(f, FEATURES, BLOCKS, 1);
    f = FIELD_DP32(f, FEATURES, STALL, 1);
    f = FIELD_DP32(f, FEATURES, MSI, 1);
    f = FIELD_DP32(f, FEATURES, YOUNG_BITMAP, 1);
    /* every stage-1 format of include/hw/mmn-smmu/walker.h */
    f = FIELD_DP32(f, FEATURES, GRAN16K, 1);
    f = FIELD_DP32(f, FEATURES, GRAN64K, 1);
    f = FIELD_DP32(f, FEATURES, LPA2, 1);
    f = FIELD_DP32(f, FEATURES, LVA_LPA, 1);
    f = FIELD_DP32(f, FEATURES, TBI, 1);
    /* FEATURES.BTM stays 0: the device never snoops TLBI. */
    return f;
}

/* Interrupts: MSI when the guest enabled it, INTx A otherwise. */
static void mmn_smmu_irq_update(MmnSmmuState *s, bool new_event)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    bool level = !!(s->irq_status & s->irq_enable);

    if (msi_enabled(pdev)) {
        if (level && new_event) {
            msi_notify(pdev, 0);
        }
        level = false;
    }
    if (level != s->irq_level) {
        s->irq_level = level;
        pci_set_irq(pdev, level);
    }
}

void mmn_smmu_raise_irq(MmnSmmuState *s, uint32_t status_bits)
{
    bool new_event = (status_bits & s->irq_enable) != 0;

    s->irq_status |= status_bits;
    mmn_smmu_irq_update(s, new_event);
}

static uint32_t mmn_smmu_status(MmnSmmuState *s)
{
    uint32_t v = 0;

    /* the enables, acknowledged at once */
    v = FIELD_DP32(v, STATUS, CMDQ_EN, FIELD_EX32(s->ctrl, CTRL, CMDQ_EN));
    v = FIELD_DP32(v, STATUS, EVTQ_EN, FIELD_EX32(s->ctrl, CTRL, EVTQ_EN));
    v = FIELD_DP32(v, STATUS, DMA_EN, FIELD_EX32(s->ctrl, CTRL, DMA_EN));
    v = FIELD_DP32(v, STATUS, CMDQ_STOPPED,
                   FIELD_EX32(s->cmdq_err, CMDQ_ERR, VALID));
    v = FIELD_DP32(v, STATUS, DMA_BUSY, s->dma.state == MMN_DMA_ST_STALLED ||
                   s->dma.state == MMN_DMA_ST_BLOCKED);
    v = FIELD_DP32(v, STATUS, DMA_STALLED, s->dma.state == MMN_DMA_ST_STALLED);
    return v;
}

static uint32_t queue_base_lo(MmnSmmuQueue *q)
{
    /* CMDQ_BASE_LO and EVTQ_BASE_LO have the same LOG2SIZE field */
    return FIELD_DP32((uint32_t)q->base, CMDQ_BASE_LO, LOG2SIZE,
                      q->log2size);
}

/*
 * A write of *_BASE_LO (@hi false) or *_BASE_HI.  CMDQ_BASE_LO and
 * EVTQ_BASE_LO have the same LOG2SIZE field; @addr_mask is the ADDR field.
 */
static void queue_set_base(MmnSmmuState *s, MmnSmmuQueue *q, bool hi,
                           uint32_t val, uint32_t addr_mask,
                           unsigned max_log2, const char *name)
{
    QEMU_BUILD_BUG_ON((uint32_t)R_CMDQ_BASE_LO_LOG2SIZE_MASK !=
                      (uint32_t)R_EVTQ_BASE_LO_LOG2SIZE_MASK);
    if (!hi) {
        uint32_t log2 = FIELD_EX32(val, CMDQ_BASE_LO, LOG2SIZE);

        if (log2 == 0 || log2 > max_log2) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "mmn-smmu: %s LOG2SIZE %u out of range 1..%u, "
                          "clamped\n", name, log2, max_log2);
            log2 = log2 ? max_log2 : 1;
        }
        q->log2size = log2;
        /*
         * PROD and CONS are [LOG2SIZE:0]: a smaller ring keeps the low
         * bits, else a CONS the driver can never write stays out of reach
         * of PROD and the queue never reads as empty.
         */
        q->prod &= mmn_queue_idx_mask(q);
        q->cons &= mmn_queue_idx_mask(q);
        q->base = deposit64(q->base, 0, 32, val & addr_mask);
    } else {
        q->base = deposit64(q->base, 32, 32, val);
    }
}

static uint64_t mmn_smmu_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    MmnSmmuState *s = opaque;
    uint64_t val = 0;

    switch (addr) {
    case A_ID:
        val = MMN_SMMU_ID_VALUE;
        break;
    case A_VERSION:
        val = FIELD_DP32(0, VERSION, MAJOR, MMN_SMMU_VERSION_MAJOR);
        val = FIELD_DP32(val, VERSION, MINOR, MMN_SMMU_VERSION_MINOR);
        break;
    case A_FEATURES:
        val = mmn_smmu_features(s);
        break;
    case A_NUM_CTX:
        val = s->num_ctx;
        break;
    case A_IOTLB_CAP:
        val = s->iotlb_capacity;
        break;
    case A_QUEUE_CAPS:
        val = FIELD_DP32(0, QUEUE_CAPS, CMDQ_LOG2, MMN_CMDQ_MAX_LOG2);
        val = FIELD_DP32(val, QUEUE_CAPS, EVTQ_LOG2, MMN_EVTQ_MAX_LOG2);
        break;
    case A_CTRL:
        val = s->ctrl;
        break;
    case A_STATUS:
        val = mmn_smmu_status(s);
        break;
    case A_IRQ_STATUS:
        val = s->irq_status;
        break;
    case A_IRQ_ENABLE:
        val = s->irq_enable;
        break;
    case A_CMDQ_BASE_LO:
        val = queue_base_lo(&s->cmdq);
        break;
    case A_CMDQ_BASE_HI:
        val = extract64(s->cmdq.base, 32, 32);
        break;
    case A_CMDQ_PROD:
        val = s->cmdq.prod;
        break;
    case A_CMDQ_CONS:
        val = s->cmdq.cons;
        break;
    case A_CMDQ_ERR:
        val = s->cmdq_err;
        break;
    case A_EVTQ_BASE_LO:
        val = queue_base_lo(&s->evtq);
        break;
    case A_EVTQ_BASE_HI:
        val = extract64(s->evtq.base, 32, 32);
        break;
    case A_EVTQ_PROD:
        val = s->evtq.prod;
        break;
    case A_EVTQ_CONS:
        val = s->evtq.cons;
        break;
    case A_EVTQ_LOST:
        val = s->evtq_lost;
        break;
    case A_DMA_DESC_LO:
        val = extract64(s->dma_desc, 0, 32);
        break;
    case A_DMA_DESC_HI:
        val = extract64(s->dma_desc, 32, 32);
        break;
    case A_DMA_STATUS:
        val = s->dma.status;
        break;
    case A_DMA_FAULT_VA_LO:
        val = extract64(s->dma.fault_va, 0, 32);
        break;
    case A_DMA_FAULT_VA_HI:
        val = extract64(s->dma.fault_va, 32, 32);
        break;
    case A_CMDQ_ERR_ACK:
    case A_DMA_DOORBELL:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "mmn-smmu: read of write-only register 0x%"
                      HWADDR_PRIx "\n", addr);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "mmn-smmu: read of undefined register 0x%" HWADDR_PRIx
                      "\n", addr);
        break;
    }
    trace_mmn_smmu_mmio_read(addr, val, size);
    return val;
}

static void mmn_smmu_write_ctrl(MmnSmmuState *s, uint32_t val)
{
    uint32_t valid = R_CTRL_CMDQ_EN_MASK | R_CTRL_EVTQ_EN_MASK |
                     R_CTRL_DMA_EN_MASK;
    uint32_t was = s->ctrl;

    if (val & ~valid) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "mmn-smmu: CTRL reserved bits 0x%x ignored\n",
                      val & ~valid);
    }
    s->ctrl = val & valid;
    if (!FIELD_EX32(was, CTRL, CMDQ_EN) && FIELD_EX32(s->ctrl, CTRL, CMDQ_EN)) {
        mmn_smmu_cmdq_process(s);
    }
}

static void mmn_smmu_mmio_write(void *opaque, hwaddr addr, uint64_t val64,
                                unsigned size)
{
    MmnSmmuState *s = opaque;
    uint32_t val = val64;

    trace_mmn_smmu_mmio_write(addr, val, size);
    switch (addr) {
    case A_CTRL:
        mmn_smmu_write_ctrl(s, val);
        break;
    case A_IRQ_STATUS:
        s->irq_status &= ~val;
        mmn_smmu_irq_update(s, false);
        break;
    case A_IRQ_ENABLE:
        s->irq_enable = val & (R_IRQ_STATUS_SYNC_MASK |
                               R_IRQ_STATUS_EVTQ_MASK |
                               R_IRQ_STATUS_CMDQ_ERR_MASK |
                               R_IRQ_STATUS_DMA_DONE_MASK |
                               R_IRQ_STATUS_EVTQ_OVERFLOW_MASK);
        mmn_smmu_irq_update(s, true);
        break;
    case A_CMDQ_BASE_LO:
    case A_CMDQ_BASE_HI:
        if (s->ctrl & R_CTRL_CMDQ_EN_MASK) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "mmn-smmu: CMDQ base written while enabled\n");
            break;
        }
        queue_set_base(s, &s->cmdq, addr == A_CMDQ_BASE_HI, val,
                       R_CMDQ_BASE_LO_ADDR_MASK, MMN_CMDQ_MAX_LOG2, "CMDQ");
        break;
    case A_CMDQ_PROD:
        s->cmdq.prod = val & mmn_queue_idx_mask(&s->cmdq);
        mmn_smmu_cmdq_process(s);
        break;
    case A_CMDQ_ERR_ACK:
        if (FIELD_EX32(val, CMDQ_ERR_ACK, ACK) &&
            FIELD_EX32(s->cmdq_err, CMDQ_ERR, VALID)) {
            s->cmdq.cons = mmn_queue_next(&s->cmdq, s->cmdq.cons);
            s->cmdq_err = 0;
            mmn_smmu_cmdq_process(s);
        }
        break;
    case A_EVTQ_BASE_LO:
    case A_EVTQ_BASE_HI:
        if (s->ctrl & R_CTRL_EVTQ_EN_MASK) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "mmn-smmu: EVTQ base written while enabled\n");
            break;
        }
        queue_set_base(s, &s->evtq, addr == A_EVTQ_BASE_HI, val,
                       R_EVTQ_BASE_LO_ADDR_MASK, MMN_EVTQ_MAX_LOG2, "EVTQ");
        break;
    case A_EVTQ_CONS:
        s->evtq.cons = val & mmn_queue_idx_mask(&s->evtq);
        break;
    case A_DMA_DESC_LO:
        s->dma_desc = deposit64(s->dma_desc, 0, 32, val);
        break;
    case A_DMA_DESC_HI:
        s->dma_desc = deposit64(s->dma_desc, 32, 32, val);
        break;
    case A_DMA_DOORBELL:
        if (FIELD_EX32(val, DMA_DOORBELL, RING)) {
            mmn_smmu_dma_doorbell(s);
        }
        break;
    case A_ID:
    case A_VERSION:
    case A_FEATURES:
    case A_NUM_CTX:
    case A_IOTLB_CAP:
    case A_QUEUE_CAPS:
    case A_STATUS:
    case A_CMDQ_CONS:
    case A_CMDQ_ERR:
    case A_EVTQ_PROD:
    case A_EVTQ_LOST:
    case A_DMA_STATUS:
    case A_DMA_FAULT_VA_LO:
    case A_DMA_FAULT_VA_HI:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "mmn-smmu: write to read-only register 0x%"
                      HWADDR_PRIx "\n", addr);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "mmn-smmu: write to undefined register 0x%"
                      HWADDR_PRIx "\n", addr);
        break;
    }
}

static const MemoryRegionOps mmn_smmu_mmio_ops = {
    .read = mmn_smmu_mmio_read,
    .write = mmn_smmu_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

/* QOM counters of the IOTLB, read from its statistics on demand. */
typedef struct MmnIotlbCounter {
    const char *name;
    size_t offset;
} MmnIotlbCounter;

static const MmnIotlbCounter mmn_iotlb_counters[] = {
    { "iotlb-hits", offsetof(MmnIotlbStats, hits) },
    { "iotlb-misses", offsetof(MmnIotlbStats, misses) },
    { "iotlb-fills", offsetof(MmnIotlbStats, fills) },
    { "iotlb-evictions", offsetof(MmnIotlbStats, evictions) },
    { "iotlb-walks", offsetof(MmnIotlbStats, walks) },
    { "iotlb-fill-retries", offsetof(MmnIotlbStats, fill_retries) },
    { "cached-faults", offsetof(MmnIotlbStats, perm_faults_cached) },
};

static void mmn_smmu_get_iotlb_counter(Object *obj, Visitor *v,
                                       const char *name, void *opaque,
                                       Error **errp)
{
    MmnSmmuState *s = MMN_SMMU(obj);
    const MmnIotlbCounter *c = opaque;
    MmnIotlbStats st = { 0 };
    uint64_t val;

    if (s->iotlb) {
        mmn_iotlb_get_stats(s->iotlb, &st);
    }
    val = *(uint64_t *)((char *)&st + c->offset);
    visit_type_uint64(v, name, &val, errp);
}

static void mmn_smmu_get_iotlb_invalidations(Object *obj, Visitor *v,
                                             const char *name, void *opaque,
                                             Error **errp)
{
    MmnSmmuState *s = MMN_SMMU(obj);
    MmnIotlbStats st = { 0 };
    uint64_t val = 0;
    int i;

    if (s->iotlb) {
        mmn_iotlb_get_stats(s->iotlb, &st);
    }
    /*
     * Entries removed by invalidation requests (commands and notifier
     * calls), not by replacement on fill or by unbinding a context.
     */
    for (i = 0; i < MMN_IOTLB_INV__MAX; i++) {
        if (i != MMN_IOTLB_INV_REPLACE && i != MMN_IOTLB_INV_UNBIND) {
            val += st.inv_entries[i];
        }
    }
    visit_type_uint64(v, name, &val, errp);
}

static void mmn_smmu_instance_init(Object *obj)
{
    MmnSmmuState *s = MMN_SMMU(obj);
    size_t i;

    for (i = 0; i < ARRAY_SIZE(mmn_iotlb_counters); i++) {
        object_property_add(obj, mmn_iotlb_counters[i].name, "uint64",
                            mmn_smmu_get_iotlb_counter, NULL, NULL,
                            (void *)(uintptr_t)&mmn_iotlb_counters[i]);
    }
    object_property_add(obj, "iotlb-invalidations", "uint64",
                        mmn_smmu_get_iotlb_invalidations, NULL, NULL, NULL);
    object_property_add_uint64_ptr(obj, "commands", &s->stat_commands,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "events", &s->stat_events,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "events-lost", &s->stat_events_lost,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "dma-faults", &s->stat_dma_faults,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "livelocks", &s->stat_livelocks,
                                   OBJ_PROP_FLAG_READ);
}

static void mmn_smmu_realize(PCIDevice *pdev, Error **errp)
{
    MmnSmmuState *s = MMN_SMMU(pdev);

    if (s->num_ctx == 0 || s->num_ctx > MMN_SMMU_MAX_CTX) {
        error_setg(errp, "mmn-smmu: num-ctx must be 1..%d",
                   MMN_SMMU_MAX_CTX);
        return;
    }
    if (s->iotlb_capacity == 0 ||
        s->iotlb_capacity > MMN_SMMU_IOTLB_CAPACITY_MAX) {
        error_setg(errp, "mmn-smmu: iotlb-capacity must be 1..%u",
                   MMN_SMMU_IOTLB_CAPACITY_MAX);
        return;
    }
    if (s->livelock_threshold < 2) {
        error_setg(errp, "mmn-smmu: livelock-threshold must be >= 2");
        return;
    }
    pci_config_set_interrupt_pin(pdev->config, 1);
    if (msi_init(pdev, 0, 1, true, false, errp) < 0) {
        return;
    }
    memory_region_init_io(&s->mmio, OBJECT(s), &mmn_smmu_mmio_ops, s,
                          "mmn-smmu-mmio", MMN_SMMU_BAR0_SIZE);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);
    s->iotlb = mmn_iotlb_new(s->iotlb_capacity);
}

static void mmn_smmu_exit(PCIDevice *pdev)
{
    MmnSmmuState *s = MMN_SMMU(pdev);

    mmn_smmu_ctx_unbind_all(s);
    mmn_iotlb_free(s->iotlb);
    s->iotlb = NULL;
    msi_uninit(pdev);
}

static void mmn_smmu_reset_hold(Object *obj, ResetType type)
{
    MmnSmmuState *s = MMN_SMMU(obj);

    trace_mmn_smmu_reset();
    mmn_smmu_dma_reset(s);
    mmn_smmu_ctx_unbind_all(s);
    mmn_iotlb_inv_all(s->iotlb);
    s->ctrl = 0;
    s->irq_status = 0;
    s->irq_enable = 0;
    memset(&s->cmdq, 0, sizeof(s->cmdq));
    memset(&s->evtq, 0, sizeof(s->evtq));
    s->cmdq_err = 0;
    s->evtq_lost = 0;
    s->dma_desc = 0;
    mmn_smmu_irq_update(s, false);
}

/*
 * Contexts migrate as bindings, with their release and open notifier
 * ranges replayed into a fresh notifier layer; the IOTLB starts empty on
 * the destination.  A stream that does not fit this device is refused.
 */
static int mmn_smmu_post_load(void *opaque, int version_id)
{
    MmnSmmuState *s = opaque;
    uint8_t dma_state = s->dma.state;
    bool bad = s->cmdq.log2size > MMN_CMDQ_MAX_LOG2 ||
               s->evtq.log2size > MMN_EVTQ_MAX_LOG2;
    unsigned i;

    s->dma.state = MMN_DMA_ST_IDLE;
    for (i = 0; i < MMN_SMMU_MAX_CTX; i++) {
        g_autofree MmnSmmuCtxMig *m = g_steal_pointer(&s->ctx[i].incoming);

        if (bad || !s->ctx[i].bound) {
            continue;
        }
        bad = i >= s->num_ctx || !m || mmn_smmu_ctx_restore(s, i, m) != 0;
    }
    if (bad) {
        return -EINVAL;
    }
    if (dma_state != MMN_DMA_ST_IDLE) {
        if ((dma_state != MMN_DMA_ST_STALLED &&
             dma_state != MMN_DMA_ST_BLOCKED) ||
            !mmn_smmu_ctx_get(s, s->dma.desc.ctx) ||
            s->dma.desc.len > MMN_DMA_MAX_LEN ||
            s->dma.done >= s->dma.desc.len) {
            return -EINVAL;
        }
    }
    s->dma.state = dma_state;
    return 0;
}

static const VMStateDescription vmstate_mmn_smmu_queue = {
    .name = "mmn-smmu-queue",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(base, MmnSmmuQueue),
        VMSTATE_UINT32(log2size, MmnSmmuQueue),
        VMSTATE_UINT32(prod, MmnSmmuQueue),
        VMSTATE_UINT32(cons, MmnSmmuQueue),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_mmn_smmu_open_range = {
    .name = "mmn-smmu-open-range",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(start, MmnSmmuOpenRange),
        VMSTATE_UINT64(end, MmnSmmuOpenRange),
        VMSTATE_UINT64(owner, MmnSmmuOpenRange),
        VMSTATE_UINT32(arg, MmnSmmuOpenRange),
        VMSTATE_END_OF_LIST()
    },
};

static int mmn_smmu_ctx_mig_pre_save(void *opaque)
{
    MmnSmmuCtxMig *m = opaque;

    return mmn_smmu_ctx_save(m->parent, m);
}

static int mmn_smmu_ctx_mig_post_load(void *opaque, int version_id)
{
    MmnSmmuCtxMig *m = opaque;

    g_free(m->parent->incoming);
    m->parent->incoming = g_memdup2(m, sizeof(*m));
    return 0;
}

/* The notifier layer's state of a context (MmnSmmuCtxMig). */
static const VMStateDescription vmstate_mmn_smmu_ctx_mn = {
    .name = "mmn-smmu-ctx/notifier",
    .pre_save = mmn_smmu_ctx_mig_pre_save,
    .post_load = mmn_smmu_ctx_mig_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(released, MmnSmmuCtxMig),
        VMSTATE_UINT32(nr_open, MmnSmmuCtxMig),
        /* version 0: the version of a VMSTATE_WITH_TMP child */
        VMSTATE_STRUCT_ARRAY(open, MmnSmmuCtxMig, MMN_SMMU_MAX_OPEN_RANGES, 0,
                             vmstate_mmn_smmu_open_range, MmnSmmuOpenRange),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_mmn_smmu_ctx = {
    .name = "mmn-smmu-ctx",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(bound, MmnSmmuCtx),
        VMSTATE_UINT64(ttb, MmnSmmuCtx),
        VMSTATE_UINT64(cfg, MmnSmmuCtx),
        VMSTATE_UINT64(owner, MmnSmmuCtx),
        VMSTATE_WITH_TMP(MmnSmmuCtx, MmnSmmuCtxMig, vmstate_mmn_smmu_ctx_mn),
        VMSTATE_END_OF_LIST()
    },
};

/*
 * Version 1 of the device stream carried the descriptor as the bytes of
 * the host-endian MmnDmaDesc (VMSTATE_BUFFER_UNSAFE): loaded as it was,
 * never saved any more.
 */
static bool mmn_smmu_stream_v1(void *opaque, int version_id)
{
    return version_id < 2;
}

static const VMStateDescription vmstate_mmn_smmu_dma_v1 = {
    .name = "mmn-smmu-dma",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(state, MmnSmmuDma),
        VMSTATE_UINT64(desc_addr, MmnSmmuDma),
        VMSTATE_BUFFER_UNSAFE(desc, MmnSmmuDma, 1, sizeof(MmnDmaDesc)),
        VMSTATE_UINT32(done, MmnSmmuDma),
        VMSTATE_UINT32(faults, MmnSmmuDma),
        VMSTATE_UINT64(fault_va, MmnSmmuDma),
        VMSTATE_UINT32(status, MmnSmmuDma),
        VMSTATE_END_OF_LIST()
    },
};

/* The descriptor's fields the engine uses, each in the stream's order. */
static const VMStateDescription vmstate_mmn_smmu_dma = {
    .name = "mmn-smmu-dma",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(state, MmnSmmuDma),
        VMSTATE_UINT64(desc_addr, MmnSmmuDma),
        VMSTATE_UINT8(desc.op, MmnSmmuDma),
        VMSTATE_UINT16(desc.ctx, MmnSmmuDma),
        VMSTATE_UINT32(desc.len, MmnSmmuDma),
        VMSTATE_UINT64(desc.va, MmnSmmuDma),
        VMSTATE_UINT64(desc.buf, MmnSmmuDma),
        VMSTATE_UINT32(desc.pattern, MmnSmmuDma),
        VMSTATE_UINT32(done, MmnSmmuDma),
        VMSTATE_UINT32(faults, MmnSmmuDma),
        VMSTATE_UINT64(fault_va, MmnSmmuDma),
        VMSTATE_UINT32(status, MmnSmmuDma),
        VMSTATE_END_OF_LIST()
    },
};

/*
 * DMA_FAULT_VA and DMA_STATUS are the engine's fault_va and status; the
 * stream still carries them here, as it did when they were registers of
 * their own (loading takes the engine's copy, later in the stream).
 */
typedef struct MmnSmmuDmaRegsMig {
    MmnSmmuState *parent;
    uint64_t fault_va;
    uint32_t status;
} MmnSmmuDmaRegsMig;

static int mmn_smmu_dma_regs_pre_save(void *opaque)
{
    MmnSmmuDmaRegsMig *m = opaque;

    m->fault_va = m->parent->dma.fault_va;
    m->status = m->parent->dma.status;
    return 0;
}

static const VMStateDescription vmstate_mmn_smmu_dma_regs = {
    .name = "mmn-smmu/dma-regs",
    .pre_save = mmn_smmu_dma_regs_pre_save,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(fault_va, MmnSmmuDmaRegsMig),
        VMSTATE_UINT32(status, MmnSmmuDmaRegsMig),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_mmn_smmu = {
    .name = TYPE_MMN_SMMU,
    .version_id = 2,            /* 2: per-field DMA descriptor */
    .minimum_version_id = 1,
    .post_load = mmn_smmu_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, MmnSmmuState),
        VMSTATE_UINT32(ctrl, MmnSmmuState),
        VMSTATE_UINT32(irq_status, MmnSmmuState),
        VMSTATE_UINT32(irq_enable, MmnSmmuState),
        VMSTATE_STRUCT(cmdq, MmnSmmuState, 1, vmstate_mmn_smmu_queue,
                       MmnSmmuQueue),
        VMSTATE_UINT32(cmdq_err, MmnSmmuState),
        VMSTATE_STRUCT(evtq, MmnSmmuState, 1, vmstate_mmn_smmu_queue,
                       MmnSmmuQueue),
        VMSTATE_UINT32(evtq_lost, MmnSmmuState),
        VMSTATE_UINT64(dma_desc, MmnSmmuState),
        VMSTATE_WITH_TMP(MmnSmmuState, MmnSmmuDmaRegsMig,
                         vmstate_mmn_smmu_dma_regs),
        VMSTATE_BOOL(irq_level, MmnSmmuState),
        VMSTATE_STRUCT_TEST(dma, MmnSmmuState, mmn_smmu_stream_v1, 1,
                            vmstate_mmn_smmu_dma_v1, MmnSmmuDma),
        VMSTATE_STRUCT(dma, MmnSmmuState, 2, vmstate_mmn_smmu_dma,
                       MmnSmmuDma),
        VMSTATE_STRUCT_ARRAY(ctx, MmnSmmuState, MMN_SMMU_MAX_CTX, 1,
                             vmstate_mmn_smmu_ctx, MmnSmmuCtx),
        VMSTATE_END_OF_LIST()
    },
};

static const Property mmn_smmu_properties[] = {
    DEFINE_PROP_UINT32("num-ctx", MmnSmmuState, num_ctx, 8),
    DEFINE_PROP_UINT32("iotlb-capacity", MmnSmmuState, iotlb_capacity, 4096),
    DEFINE_PROP_UINT32("livelock-threshold", MmnSmmuState,
                       livelock_threshold, 16),
};

static void mmn_smmu_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = mmn_smmu_realize;
    k->exit = mmn_smmu_exit;
    k->vendor_id = MMN_SMMU_PCI_VENDOR_ID;
    k->device_id = MMN_SMMU_PCI_DEVICE_ID;
    k->revision = MMN_SMMU_PCI_REVISION;
    k->class_id = MMN_SMMU_PCI_CLASS;
    k->subsystem_vendor_id = MMN_SMMU_PCI_VENDOR_ID;
    k->subsystem_id = MMN_SMMU_PCI_DEVICE_ID;
    dc->desc = "mmn-smmu: SMMU without BTM, kept coherent by mmu_notifier";
    dc->vmsd = &vmstate_mmn_smmu;
    rc->phases.hold = mmn_smmu_reset_hold;
    device_class_set_props(dc, mmn_smmu_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo mmn_smmu_types[] = {
    {
        .name = TYPE_MMN_SMMU,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(MmnSmmuState),
        .instance_init = mmn_smmu_instance_init,
        .class_init = mmn_smmu_class_init,
        .interfaces = (InterfaceInfo[]) {
            { INTERFACE_CONVENTIONAL_PCI_DEVICE },
            { },
        },
    },
};

DEFINE_TYPES(mmn_smmu_types)
