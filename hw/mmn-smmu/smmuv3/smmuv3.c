/*
 * mmn-smmuv3: QOM type, programming interface registers (Arm IHI 0070,
 * chapter 6), interrupts, reset and migration.  docs/specs/mmn-smmuv3.rst
 * lists what is implemented.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "exec/address-spaces.h"
#include "hw/irq.h"
#include "hw/pci/pci.h"
#include "hw/qdev-properties.h"
#include "hw/resettable.h"
#include "migration/vmstate.h"
#include "hw/mmn-smmu/iotlb.h"
#include "smmuv3-internal.h"
#include "hw/mmn-smmu/trace.h"

bool mmn_smmuv3_enabled(MmnSmmuv3State *s)
{
    return FIELD_EX32(s->cr[0], CR0, SMMUEN);
}

void mmn_smmuv3_irq_raise(MmnSmmuv3State *s, int irq)
{
    trace_mmn_smmuv3_irq(irq);
    qemu_irq_pulse(s->irq[irq]);
}

static unsigned oas_field(unsigned bits)
{
    static const uint8_t oas[] = { 32, 36, 40, 42, 44, 48, 52 };
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(oas); i++) {
        if (oas[i] == bits) {
            return i;
        }
    }
    return 5;
}

static uint32_t idr(MmnSmmuv3State *s, unsigned n)
{
    uint32_t v = 0;

    switch (n) {
    case 0:
        v = FIELD_DP32(v, IDR0, S1P, 1);
        v = FIELD_DP32(v, IDR0, TTF, 2);            /* AArch64 tables */
        v = FIELD_DP32(v, IDR0, COHACC, 1);
        v = FIELD_DP32(v, IDR0, BTM, s->btm);
        v = FIELD_DP32(v, IDR0, HTTU, s->httu);
        v = FIELD_DP32(v, IDR0, ASID16, 1);
        v = FIELD_DP32(v, IDR0, MSI, 1);
        v = FIELD_DP32(v, IDR0, CD2L, 1);
        v = FIELD_DP32(v, IDR0, TTENDIAN, 2);       /* little-endian */
        v = FIELD_DP32(v, IDR0, STALL_MODEL, 0);    /* stall and terminate */
        v = FIELD_DP32(v, IDR0, TERM_MODEL, 1);     /* abort, no RAZ/WI */
        v = FIELD_DP32(v, IDR0, ST_LEVEL, 1);       /* 2-level stream table */
        return v;
    case 1:
        v = FIELD_DP32(v, IDR1, SIDSIZE, s->sid_bits);
        v = FIELD_DP32(v, IDR1, SSIDSIZE, s->ssid_bits);
        v = FIELD_DP32(v, IDR1, EVENTQS, MMN_SMMUV3_EVENTQS);
        v = FIELD_DP32(v, IDR1, CMDQS, MMN_SMMUV3_CMDQS);
        return v;
    case 3:
        return FIELD_DP32(v, IDR3, RIL, s->ril);
    case 5:
        v = FIELD_DP32(v, IDR5, OAS, oas_field(s->oas_bits));
        v = FIELD_DP32(v, IDR5, GRAN4K, 1);
        v = FIELD_DP32(v, IDR5, GRAN16K, 1);
        v = FIELD_DP32(v, IDR5, GRAN64K, 1);
        v = FIELD_DP32(v, IDR5, STALL_MAX, MMN_SMMUV3_STALL_MAX);
        return v;
    }
    return 0;
}

/* 64-bit registers, readable and writable as a whole or as halves. */
static uint64_t *reg64(MmnSmmuv3State *s, hwaddr off)
{
    switch (off & ~7ULL) {
    case A_GERROR_IRQ_CFG0:
        return &s->gerror_irq_cfg0;
    case A_STRTAB_BASE:
        return &s->strtab_base;
    case A_CMDQ_BASE:
        return &s->cmdq.base;
    case A_EVENTQ_BASE:
        return &s->evtq.base;
    case A_EVENTQ_IRQ_CFG0:
        return &s->eventq_irq_cfg0;
    }
    return NULL;
}

/* Writable bits of the 64-bit registers. */
static uint64_t reg64_mask(hwaddr off)
{
    switch (off & ~7ULL) {
    case A_GERROR_IRQ_CFG0:
    case A_EVENTQ_IRQ_CFG0:
        return 0x000ffffffffffffcULL;
    case A_STRTAB_BASE:
        return 0x400fffffffffffc0ULL;
    default:
        return 0x400fffffffffffffULL;       /* queue bases: RA/WA, ADDR, LOG2 */
    }
}

static uint64_t mmn_smmuv3_read(void *opaque, hwaddr off, unsigned size)
{
    MmnSmmuv3State *s = opaque;
    uint64_t *r = reg64(s, off);
    uint64_t v = 0;

    if (r) {
        v = size == 8 ? *r : (uint32_t)(*r >> ((off & 4) * 8));
        goto out;
    }
    if (size == 8) {
        qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmuv3: 64-bit read of 32-bit "
                      "register 0x%" HWADDR_PRIx "\n", off);
        goto out;
    }
    switch (off) {
    case A_IDR0 ... A_IDR5:
        v = idr(s, off / 4);
        break;
    case A_IIDR:
        v = 0;
        break;
    case A_AIDR:
        v = 0x2;                /* SMMUv3.2: range invalidation */
        break;
    case A_CR0:
        v = s->cr[0];
        break;
    case A_CR0ACK:
        v = s->cr0ack;
        break;
    case A_CR1:
        v = s->cr[1];
        break;
    case A_CR2:
        v = s->cr[2];
        break;
    case A_GBPA:
        v = s->gbpa;
        break;
    case A_IRQ_CTRL:
    case A_IRQ_CTRLACK:
        v = s->irq_ctrl;
        break;
    case A_GERROR:
        v = s->gerror;
        break;
    case A_GERRORN:
        v = s->gerrorn;
        break;
    case A_GERROR_IRQ_CFG1:
        v = s->gerror_irq_cfg1;
        break;
    case A_GERROR_IRQ_CFG2:
        v = s->gerror_irq_cfg2;
        break;
    case A_STRTAB_BASE_CFG:
        v = s->strtab_base_cfg;
        break;
    case A_CMDQ_PROD:
        v = s->cmdq.prod;
        break;
    case A_CMDQ_CONS:
        v = s->cmdq.cons;
        break;
    case A_EVENTQ_PROD:
    case A_EVENTQ_PROD_P0:
        v = s->evtq.prod;
        break;
    case A_EVENTQ_CONS:
    case A_EVENTQ_CONS_P0:
        v = s->evtq.cons;
        break;
    case A_EVENTQ_IRQ_CFG1:
        v = s->eventq_irq_cfg1;
        break;
    case A_EVENTQ_IRQ_CFG2:
        v = s->eventq_irq_cfg2;
        break;
    case A_STATUSR:
    case A_AGBPA:
    case 0xc0 ... 0xdc:         /* PRIQ: IDR0.PRI == 0 */
        break;
    case 0xfd0 ... 0xffc: {
        /* Peripheral and component ID registers, as QEMU's SMMUv3 */
        static const uint8_t ids[] = {
            0x04, 0, 0, 0, 0x84, 0xb4, 0xf0, 0x10, 0x0d, 0xf0, 0x05, 0xb1
        };
        v = ids[(off - 0xfd0) / 4];
        break;
    }
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmuv3: read of unimplemented "
                      "register 0x%" HWADDR_PRIx "\n", off);
        break;
    }
out:
    trace_mmn_smmuv3_read(off, v, size);
    return v;
}

static void write_cr0(MmnSmmuv3State *s, uint32_t v)
{
    bool was_on = mmn_smmuv3_enabled(s);

    if (v & ~MMN_SMMUV3_CR0_VALID) {
        qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmuv3: CR0 reserved bits 0x%x "
                      "ignored\n", v & ~MMN_SMMUV3_CR0_VALID);
    }
    s->cr[0] = v & MMN_SMMUV3_CR0_VALID;
    s->cr0ack = s->cr[0];
    if (was_on && !mmn_smmuv3_enabled(s)) {
        /* 6.3.9.6: disabling terminates stalled transactions */
        mmn_smmuv3_terminate_all_stalls(s);
        mmn_smmuv3_cfgc_flush(s, "SMMUEN=0");
    }
    mmn_smmuv3_cmdq_process(s);
}

/*
 * Registers Guarded by an enable (6.3.21-6.3.32): in SMMUv3.2 a write
 * while the enable (or its acknowledgement) is 1 is IGNORED.  Returns the
 * name of the enable that refuses a write to @off, or NULL.
 */
static const char *write_guard(MmnSmmuv3State *s, hwaddr off)
{
    switch (off & ~3ULL) {
    case A_STRTAB_BASE:
    case A_STRTAB_BASE + 4:
    case A_STRTAB_BASE_CFG:
        return FIELD_EX32(s->cr[0] | s->cr0ack, CR0, SMMUEN) ?
               "SMMUEN" : NULL;
    case A_CMDQ_BASE:
    case A_CMDQ_BASE + 4:
        return FIELD_EX32(s->cr[0] | s->cr0ack, CR0, CMDQEN) ?
               "CMDQEN" : NULL;
    case A_EVENTQ_BASE:
    case A_EVENTQ_BASE + 4:
        return FIELD_EX32(s->cr[0] | s->cr0ack, CR0, EVENTQEN) ?
               "EVENTQEN" : NULL;
    case A_GERROR_IRQ_CFG0:
    case A_GERROR_IRQ_CFG0 + 4:
    case A_GERROR_IRQ_CFG1:
    case A_GERROR_IRQ_CFG2:
        return FIELD_EX32(s->irq_ctrl, IRQ_CTRL, GERROR_IRQEN) ?
               "GERROR_IRQEN" : NULL;
    case A_EVENTQ_IRQ_CFG0:
    case A_EVENTQ_IRQ_CFG0 + 4:
    case A_EVENTQ_IRQ_CFG1:
    case A_EVENTQ_IRQ_CFG2:
        return FIELD_EX32(s->irq_ctrl, IRQ_CTRL, EVENTQ_IRQEN) ?
               "EVENTQ_IRQEN" : NULL;
    }
    return NULL;
}

static void mmn_smmuv3_write(void *opaque, hwaddr off, uint64_t val,
                             unsigned size)
{
    MmnSmmuv3State *s = opaque;
    uint64_t *r = reg64(s, off);
    uint32_t v = val;
    const char *guard = write_guard(s, off);

    trace_mmn_smmuv3_write(off, val, size);
    if (guard) {
        qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmuv3: write to 0x%"
                      HWADDR_PRIx " while %s is 1: ignored\n", off, guard);
        return;
    }
    if (r) {
        uint64_t mask = reg64_mask(off);

        if (r == &s->strtab_base) {
            mmn_smmuv3_cfgc_flush(s, "STRTAB_BASE");
        }

        if (size == 8) {
            *r = val & mask;
        } else if (off & 4) {
            *r = (deposit64(*r, 32, 32, v)) & mask;
        } else {
            *r = (deposit64(*r, 0, 32, v)) & mask;
        }
        return;
    }
    if (size == 8) {
        qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmuv3: 64-bit write to 32-bit "
                      "register 0x%" HWADDR_PRIx "\n", off);
        return;
    }
    switch (off) {
    case A_CR0:
        write_cr0(s, v);
        break;
    case A_CR1:
        s->cr[1] = v & 0xfff;       /* TABLE_* and QUEUE_* attributes */
        break;
    case A_CR2:
        s->cr[2] = v & 0x7;
        break;
    case A_GBPA:
        /* 6.3.14: the update takes effect, then UPDATE reads 0 */
        if (FIELD_EX32(v, GBPA, UPDATE)) {
            s->gbpa = v & ~R_GBPA_UPDATE_MASK;
        }
        break;
    case A_IRQ_CTRL:
        /* GERROR_IRQEN, EVENTQ_IRQEN; PRIQ_IRQEN is RES0 (no PRI) */
        s->irq_ctrl = v & (R_IRQ_CTRL_GERROR_IRQEN_MASK |
                           R_IRQ_CTRL_EVENTQ_IRQEN_MASK);
        break;
    case A_GERRORN: {
        bool cmdq_err = FIELD_EX32(s->gerror ^ s->gerrorn, GERROR, CMDQ_ERR);

        s->gerrorn = v & 0x1fd;
        trace_mmn_smmuv3_gerror(s->gerror, s->gerrorn);
        if (cmdq_err &&
            !FIELD_EX32(s->gerror ^ s->gerrorn, GERROR, CMDQ_ERR)) {
            /* 7.1: acknowledged: consumption resumes at CONS */
            mmn_smmuv3_cmdq_process(s);
        }
        break;
    }
    case A_GERROR_IRQ_CFG1:
        s->gerror_irq_cfg1 = v;
        break;
    case A_GERROR_IRQ_CFG2:
        s->gerror_irq_cfg2 = v & 0x3f;
        break;
    case A_STRTAB_BASE_CFG:
        s->strtab_base_cfg = v & 0x307ff;
        mmn_smmuv3_cfgc_flush(s, "STRTAB_BASE_CFG");
        break;
    case A_CMDQ_PROD:
        s->cmdq.prod = v & ((2u << MMN_SMMUV3_CMDQS) - 1);
        mmn_smmuv3_cmdq_process(s);
        break;
    case A_CMDQ_CONS:
        if (FIELD_EX32(s->cr[0], CR0, CMDQEN)) {
            qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmuv3: CMDQ_CONS written "
                          "while the command queue is enabled\n");
            break;
        }
        s->cmdq.cons = v & (((2u << MMN_SMMUV3_CMDQS) - 1) |
                            R_CMDQ_CONS_ERR_MASK);
        break;
    case A_EVENTQ_PROD:
    case A_EVENTQ_PROD_P0:
        if (FIELD_EX32(s->cr[0], CR0, EVENTQEN)) {
            qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmuv3: EVENTQ_PROD written "
                          "while the event queue is enabled\n");
            break;
        }
        s->evtq.prod = v & (((2u << MMN_SMMUV3_EVENTQS) - 1) |
                            R_EVENTQ_PROD_OVFLG_MASK);
        break;
    case A_EVENTQ_CONS:
    case A_EVENTQ_CONS_P0:
        s->evtq.cons = v & (((2u << MMN_SMMUV3_EVENTQS) - 1) |
                            R_EVENTQ_CONS_OVACKFLG_MASK);
        break;
    case A_EVENTQ_IRQ_CFG1:
        s->eventq_irq_cfg1 = v;
        break;
    case A_EVENTQ_IRQ_CFG2:
        s->eventq_irq_cfg2 = v & 0x3f;
        break;
    case 0xc0 ... 0xdc:         /* PRIQ: IDR0.PRI == 0 */
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmuv3: write to unimplemented "
                      "or read-only register 0x%" HWADDR_PRIx "\n", off);
        break;
    }
}

static const MemoryRegionOps mmn_smmuv3_ops = {
    .read = mmn_smmuv3_read,
    .write = mmn_smmuv3_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};

static void mmn_smmuv3_reset_hold(Object *obj, ResetType type)
{
    MmnSmmuv3State *s = MMN_SMMUV3(obj);

    mmn_smmuv3_terminate_all_stalls(s);
    s->cr[0] = s->cr[1] = s->cr[2] = 0;
    s->cr0ack = 0;
    s->gbpa = 1u << 12;         /* SHCFG: use incoming, as QEMU's SMMUv3 */
    s->irq_ctrl = 0;
    s->gerror = s->gerrorn = 0;
    s->gerror_irq_cfg0 = 0;
    s->gerror_irq_cfg1 = s->gerror_irq_cfg2 = 0;
    s->strtab_base = 0;
    s->strtab_base_cfg = 0;
    memset(&s->cmdq, 0, sizeof(s->cmdq));
    memset(&s->evtq, 0, sizeof(s->evtq));
    s->eventq_irq_cfg0 = 0;
    s->eventq_irq_cfg1 = s->eventq_irq_cfg2 = 0;
    s->next_stag = 0;
    mmn_smmuv3_asids_free(s);
    mmn_smmuv3_cfgc_flush(s, "reset");
}

static void mmn_smmuv3_realize(DeviceState *dev, Error **errp)
{
    MmnSmmuv3State *s = MMN_SMMUV3(dev);
    SysBusDevice *sbd = SYS_BUS_DEVICE(dev);
    int i;

    if (s->oas_bits != 32 && s->oas_bits != 36 && s->oas_bits != 40 &&
        s->oas_bits != 42 && s->oas_bits != 44 && s->oas_bits != 48) {
        error_setg(errp, "mmn-smmuv3: oas-bits must be one of 32, 36, 40, "
                   "42, 44, 48");
        return;
    }
    if (s->sid_bits < 1 || s->sid_bits > 32 || s->ssid_bits > 20 ||
        s->httu > 2 || s->livelock_threshold < 2) {
        error_setg(errp, "mmn-smmuv3: sid-bits 1..32, ssid-bits 0..20, "
                   "httu 0..2, livelock-threshold >= 2");
        return;
    }
    s->as = &address_space_memory;
    s->iotlb = mmn_iotlb_new(s->iotlb_capacity);
    memory_region_init_io(&s->iomem, OBJECT(s), &mmn_smmuv3_ops, s,
                          TYPE_MMN_SMMUV3, MMN_SMMUV3_MMIO_SIZE);
    sysbus_init_mmio(sbd, &s->iomem);
    for (i = 0; i < MMN_SMMUV3_NUM_IRQS; i++) {
        sysbus_init_irq(sbd, &s->irq[i]);
    }
    mmn_smmuv3_pci_init(s);
    mmn_smmuv3_btm_realize(s);
}

static void mmn_smmuv3_unrealize(DeviceState *dev)
{
    mmn_smmuv3_btm_fini(MMN_SMMUV3(dev));
}

static void mmn_smmuv3_get_cfgc_entries(Object *obj, Visitor *v,
                                        const char *name, void *opaque,
                                        Error **errp)
{
    uint32_t n = mmn_smmuv3_cfgc_entries(MMN_SMMUV3(obj));

    visit_type_uint32(v, name, &n, errp);
}

static void mmn_smmuv3_instance_init(Object *obj)
{
    MmnSmmuv3State *s = MMN_SMMUV3(obj);

    object_property_add_uint64_ptr(obj, "commands", &s->stat_commands,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "events", &s->stat_events,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "events-lost", &s->stat_events_lost,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "tlbi", &s->stat_tlbi,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "faults", &s->stat_faults,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "stalls", &s->stat_stalls,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "livelocks", &s->stat_livelocks,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "config-cache-hits",
                                   &s->stat_cfgc_hits, OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "stale-configs",
                                   &s->stat_stale_configs, OBJ_PROP_FLAG_READ);
    object_property_add(obj, "config-cache-entries", "uint32",
                        mmn_smmuv3_get_cfgc_entries, NULL, NULL, NULL);
    mmn_smmuv3_btm_instance_init(s);
}

static void mmn_smmuv3_finalize(Object *obj)
{
    MmnSmmuv3State *s = MMN_SMMUV3(obj);

    mmn_smmuv3_btm_fini(s);
    mmn_smmuv3_cfgc_fini(s);
    if (s->asids) {
        g_hash_table_destroy(s->asids);
    }
    if (s->iotlb) {
        mmn_iotlb_free(s->iotlb);
    }
}

static int mmn_smmuv3_post_load(void *opaque, int version_id)
{
    MmnSmmuv3State *s = opaque;

    /* The IOTLB and the configuration cache start empty. */
    mmn_smmuv3_asids_free(s);
    mmn_smmuv3_cfgc_flush(s, "migration");
    return 0;
}

static const VMStateDescription vmstate_mmn_smmuv3_queue = {
    .name = "mmn-smmuv3-queue",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(base, MmnSmmuv3Queue),
        VMSTATE_UINT32(prod, MmnSmmuv3Queue),
        VMSTATE_UINT32(cons, MmnSmmuv3Queue),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_mmn_smmuv3 = {
    .name = TYPE_MMN_SMMUV3,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = mmn_smmuv3_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_ARRAY(cr, MmnSmmuv3State, 3),
        VMSTATE_UINT32(cr0ack, MmnSmmuv3State),
        VMSTATE_UINT32(gbpa, MmnSmmuv3State),
        VMSTATE_UINT32(irq_ctrl, MmnSmmuv3State),
        VMSTATE_UINT32(gerror, MmnSmmuv3State),
        VMSTATE_UINT32(gerrorn, MmnSmmuv3State),
        VMSTATE_UINT64(gerror_irq_cfg0, MmnSmmuv3State),
        VMSTATE_UINT32(gerror_irq_cfg1, MmnSmmuv3State),
        VMSTATE_UINT32(gerror_irq_cfg2, MmnSmmuv3State),
        VMSTATE_UINT64(strtab_base, MmnSmmuv3State),
        VMSTATE_UINT32(strtab_base_cfg, MmnSmmuv3State),
        VMSTATE_STRUCT(cmdq, MmnSmmuv3State, 1, vmstate_mmn_smmuv3_queue,
                       MmnSmmuv3Queue),
        VMSTATE_STRUCT(evtq, MmnSmmuv3State, 1, vmstate_mmn_smmuv3_queue,
                       MmnSmmuv3Queue),
        VMSTATE_UINT64(eventq_irq_cfg0, MmnSmmuv3State),
        VMSTATE_UINT32(eventq_irq_cfg1, MmnSmmuv3State),
        VMSTATE_UINT32(eventq_irq_cfg2, MmnSmmuv3State),
        VMSTATE_UINT16(next_stag, MmnSmmuv3State),
        VMSTATE_END_OF_LIST()
    },
};

static const Property mmn_smmuv3_properties[] = {
    DEFINE_PROP_LINK("primary-bus", MmnSmmuv3State, primary_bus,
                     TYPE_PCI_BUS, PCIBus *),
    DEFINE_PROP_BOOL("btm", MmnSmmuv3State, btm, false),
    DEFINE_PROP_UINT8("httu", MmnSmmuv3State, httu, 0),
    DEFINE_PROP_UINT8("sid-bits", MmnSmmuv3State, sid_bits, 17),
    DEFINE_PROP_UINT8("ssid-bits", MmnSmmuv3State, ssid_bits, 20),
    DEFINE_PROP_UINT8("oas-bits", MmnSmmuv3State, oas_bits, 48),
    DEFINE_PROP_BOOL("ril", MmnSmmuv3State, ril, true),
    DEFINE_PROP_UINT32("iotlb-capacity", MmnSmmuv3State, iotlb_capacity,
                       MMN_IOTLB_DEFAULT_CAPACITY),
    DEFINE_PROP_UINT32("livelock-threshold", MmnSmmuv3State,
                       livelock_threshold, 16),
    DEFINE_PROP_BOOL("config-cache", MmnSmmuv3State, config_cache, true),
};

static void mmn_smmuv3_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->desc = "Arm SMMUv3 over the mmn-smmu walker and IOTLB (stage 1, SVA)";
    dc->realize = mmn_smmuv3_realize;
    dc->unrealize = mmn_smmuv3_unrealize;
    dc->vmsd = &vmstate_mmn_smmuv3;
    rc->phases.hold = mmn_smmuv3_reset_hold;
    device_class_set_props(dc, mmn_smmuv3_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo mmn_smmuv3_types[] = {
    {
        .name = TYPE_MMN_SMMUV3,
        .parent = TYPE_SYS_BUS_DEVICE,
        .instance_size = sizeof(MmnSmmuv3State),
        .instance_init = mmn_smmuv3_instance_init,
        .instance_finalize = mmn_smmuv3_finalize,
        .class_init = mmn_smmuv3_class_init,
    },
};

DEFINE_TYPES(mmn_smmuv3_types)
