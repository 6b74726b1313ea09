/*
 * mmn-smmuv3: the command queue (Arm IHI 0070, chapter 4).
 *
 * Commands are consumed synchronously when CMDQ_PROD is written (and when
 * a command error is acknowledged through GERRORN), while CR0.CMDQEN is
 * set.  An illegal command (unknown opcode, a field this SMMU cannot
 * honour, a stage-2, EL2 or MPAM command on an SMMU without them, SSec
 * set on this Non-secure queue, CMD_SYNC with the reserved CS 0b11)
 * stops consumption with CMDQ_CONS.ERR = CERROR_ILL and GERROR.CMDQ_ERR
 * (4.1.3, 4.1.6, 7.1); a command that cannot be read from RAM gives
 * CERROR_ABT.  The queue base is aligned to the queue size and truncated
 * to the OAS (6.3.26, 3.4.3).
 *
 * TLBI commands reach the ASID's IOTLB context through
 * mmn_iotlb_inv_secondary, the same invalidation the notifier layer's
 * arch_invalidate_secondary_tlbs callback makes.  Range invalidation
 * (IDR3.RIL) follows 4.4.1.1: with TG != 0, (NUM + 1) << SCALE pages of
 * the TG granule from ADDR.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/log.h"
#include "hw/mmn-smmu/guest-ram.h"
#include "hw/mmn-smmu/iotlb.h"
#include "smmuv3-internal.h"
#include "hw/mmn-smmu/trace.h"

#define CMD_SIZE 16

static void tlbi_asid_range(MmnSmmuv3State *s, uint16_t asid, uint64_t start,
                            uint64_t end)
{
    MmnSmmuv3Asid *a = mmn_smmuv3_asid(s, asid, false);

    if (a) {
        a->tlbi++;
        mmn_iotlb_inv_secondary(a->ictx, start, end);
    }
}

typedef struct TlbiVa {
    uint64_t start;
    uint64_t end;
} TlbiVa;

static void each_asid_inv(gpointer key, gpointer value, gpointer opaque)
{
    MmnSmmuv3Asid *a = value;
    TlbiVa *r = opaque;

    a->tlbi++;
    mmn_iotlb_inv_secondary(a->ictx, r->start, r->end);
}

/* The VA range of a TLBI_NH_VA / _VAA command; false if ILLEGAL. */
static bool tlbi_range(MmnSmmuv3State *s, const uint64_t *c, TlbiVa *r)
{
    uint64_t addr = FIELD_EX64(c[1], CMD1, ADDR) << 12;
    unsigned tg = FIELD_EX64(c[1], CMD1, TG);
    unsigned num = FIELD_EX64(c[0], CMD0, TLBI_NUM);
    unsigned scale = FIELD_EX64(c[0], CMD0, TLBI_SCALE);
    static const uint8_t tg_shift[] = { 12, 12, 14, 16 };
    uint64_t len;

    /* Only the address bits of the input size are significant. */
    addr &= (1ULL << 56) - 1;
    if (tg == 0) {
        if (num || scale) {
            /* range fields without a granule: ILLEGAL only with RIL */
            return !s->ril;
        }
        r->start = addr;
        r->end = addr + 4096;
        return true;
    }
    if (!s->ril) {
        return false;
    }
    len = (uint64_t)(num + 1) << (scale + tg_shift[tg]);
    if (scale + tg_shift[tg] > 58) {
        len = UINT64_MAX - addr;
    }
    r->start = addr & ~((1ULL << tg_shift[tg]) - 1);
    r->end = r->start + len < r->start ? UINT64_MAX : r->start + len;
    return true;
}

static int cmd_sync(MmnSmmuv3State *s, const uint64_t *c)
{
    switch (FIELD_EX64(c[0], CMD0, SYNC_CS)) {
    case CMD_SYNC_CS_IRQ: {
        uint64_t addr = FIELD_EX64(c[1], CMD1, SYNC_MSIADDR) << 2;

        if (addr) {
            /* a non-zero MSIAddress is truncated to the OAS (4.7.3) */
            if (!mmn_smmuv3_msi(s, addr,
                                FIELD_EX64(c[0], CMD0, SYNC_MSIDATA))) {
                mmn_smmuv3_gerror(s, R_GERROR_MSI_CMDQ_ABT_ERR_MASK);
            }
        } else {
            mmn_smmuv3_irq_raise(s, MMN_SMMUV3_IRQ_CMD_SYNC);
        }
        break;
    }
    case CMD_SYNC_CS_SEV:
    case CMD_SYNC_CS_NONE:
        /* SEV: IDR0.SEV is 0, so SIG_SEV is SIG_NONE; CONS moves. */
        break;
    case CMD_SYNC_CS_RESERVED:
        return CERROR_ILL;
    }
    return CERROR_NONE;
}

/* 4.1.6: commands with an SSec field, which must be 0 on this queue. */
static bool cmd_has_ssec(uint8_t op)
{
    switch (op) {
    case CMD_PREFETCH_CONFIG:
    case CMD_PREFETCH_ADDR:
    case CMD_CFGI_STE:
    case CMD_CFGI_STE_RANGE:
    case CMD_CFGI_CD:
    case CMD_CFGI_CD_ALL:
    case CMD_RESUME:
    case CMD_STALL_TERM:
        return true;
    }
    return false;
}

/* Execute one command; returns a CERROR_* code. */
static int cmd_exec(MmnSmmuv3State *s, const uint64_t *c)
{
    uint8_t op = FIELD_EX64(c[0], CMD0, OP);
    uint32_t sid = FIELD_EX64(c[0], CMD0, SID);
    uint16_t asid = FIELD_EX64(c[0], CMD0, ASID);
    TlbiVa r;

    trace_mmn_smmuv3_cmd(op, c[0], c[1]);
    if (cmd_has_ssec(op) && FIELD_EX64(c[0], CMD0, SSEC)) {
        qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmuv3: command 0x%02x with "
                      "SSec on the Non-secure queue\n", op);
        return CERROR_ILL;
    }
    switch (op) {
    case CMD_PREFETCH_CONFIG:
    case CMD_PREFETCH_ADDR:
        /* Hints: the configuration cache fills on use only. */
        return CERROR_NONE;
    case CMD_CFGI_STE:
    case CMD_CFGI_STE_RANGE:
    case CMD_CFGI_CD:
    case CMD_CFGI_CD_ALL:
        mmn_smmuv3_cfgc_command(s, c);
        return CERROR_NONE;
    case CMD_TLBI_NH_ALL:
    case CMD_TLBI_NSNH_ALL:
        if (s->asids) {
            r = (TlbiVa) { 0, UINT64_MAX };
            g_hash_table_foreach(s->asids, each_asid_inv, &r);
        }
        s->stat_tlbi++;
        return CERROR_NONE;
    case CMD_TLBI_NH_ASID:
        tlbi_asid_range(s, asid, 0, UINT64_MAX);
        s->stat_tlbi++;
        return CERROR_NONE;
    case CMD_TLBI_NH_VA:
        if (!tlbi_range(s, c, &r)) {
            return CERROR_ILL;
        }
        tlbi_asid_range(s, asid, r.start, r.end);
        s->stat_tlbi++;
        return CERROR_NONE;
    case CMD_TLBI_NH_VAA:
        if (!tlbi_range(s, c, &r)) {
            return CERROR_ILL;
        }
        if (s->asids) {
            g_hash_table_foreach(s->asids, each_asid_inv, &r);
        }
        s->stat_tlbi++;
        return CERROR_NONE;
    case CMD_RESUME:
        /*
         * 4.7.1: Action (bit 12) 1 retries, 0 terminates; the Abort
         * parameter (bit 13) is IGNORED with IDR0.TERM_MODEL == 1.
         */
        mmn_smmuv3_resume(s, sid, FIELD_EX64(c[1], CMD1, RESUME_STAG),
                          FIELD_EX64(c[0], CMD0, RESUME_AC));
        return CERROR_NONE;
    case CMD_STALL_TERM:
        mmn_smmuv3_stall_term(s, sid);
        return CERROR_NONE;
    case CMD_SYNC:
        return cmd_sync(s, c);
    default:
        /*
         * EL2, EL3 and stage-2 TLBIs (no IDR0.HYP, no S2P), ATC_INV (no
         * ATS), PRI_RESP (no PRI), CFGI_VMS_PIDM (0x07, no VMS): ILLEGAL
         * on this SMMU, as are reserved opcodes.
         */
        qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmuv3: illegal command opcode "
                      "0x%02x\n", op);
        return CERROR_ILL;
    }
}

void mmn_smmuv3_cmdq_process(MmnSmmuv3State *s)
{
    MmnSmmuv3Queue *q = &s->cmdq;
    unsigned log2 = MIN(FIELD_EX64(q->base, Q_BASE, LOG2SIZE),
                        MMN_SMMUV3_CMDQS);
    uint32_t wrap_idx = (2u << log2) - 1;
    uint64_t base = (FIELD_EX64(q->base, Q_BASE, ADDR) << 5) &
                    MAKE_64BIT_MASK(0, s->oas_bits) &
                    ~(MAX(32ULL, (uint64_t)CMD_SIZE << log2) - 1);

    if (!FIELD_EX32(s->cr[0], CR0, CMDQEN) ||
        FIELD_EX32(s->gerror ^ s->gerrorn, GERROR, CMDQ_ERR)) {
        return;
    }
    while ((q->cons & wrap_idx) != (q->prod & wrap_idx)) {
        uint64_t c[2];
        int err;

        if (!mmn_ram_read(s->as, base + (q->cons & ((1u << log2) - 1)) *
                          CMD_SIZE, c, sizeof(c))) {
            qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmuv3: command queue "
                          "entry not in RAM (base 0x%" PRIx64 ")\n", base);
            err = CERROR_ABT;
        } else {
            c[0] = le64_to_cpu(c[0]);
            c[1] = le64_to_cpu(c[1]);
            s->stat_commands++;
            err = cmd_exec(s, c);
        }
        if (err != CERROR_NONE) {
            q->cons = FIELD_DP32(q->cons, CMDQ_CONS, ERR, err);
            trace_mmn_smmuv3_cmd_error(err, q->cons);
            mmn_smmuv3_gerror(s, R_GERROR_CMDQ_ERR_MASK);
            return;
        }
        /* 6.3.28: RD is wrapped to the queue size, bits above it RAZ */
        q->cons = (q->cons & R_CMDQ_CONS_ERR_MASK) |
                  ((q->cons + 1) & wrap_idx);
    }
}
