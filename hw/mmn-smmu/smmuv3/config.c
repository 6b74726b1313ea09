/*
 * mmn-smmuv3: configuration of a transaction, from the stream table entry
 * and the context descriptor (Arm IHI 0070, 3.3 "Data structures and
 * translation procedure", 5.2 STE, 5.4 CD).
 *
 * Every transaction reads its STE and CD from guest memory: this model
 * keeps no configuration cache, so CFGI_* commands have nothing to drop
 * (a permitted implementation: the architecture allows, but does not
 * require, caching of configuration).  What is checked, in the order of
 * the translation procedure:
 *
 *  1. StreamID >= 2^STRTAB_BASE_CFG.LOG2SIZE (or beyond a 2-level L1 span)
 *     -> C_BAD_STREAMID.  STE not in RAM -> F_STE_FETCH.
 *  2. STE.V == 0, Config 0b001..0b011, stage 2 (S2P is 0), S1Fmt 0b11,
 *     S1ContextPtr beyond the OAS -> C_BAD_STE.  Config Abort -> abort
 *     without an event; Bypass -> the input address is the output.
 *  3. No substream (SSV == 0): S1DSS Terminate -> F_STREAM_DISABLED,
 *     Bypass -> bypass, SSID0 -> substream 0.  SSV == 1 with S1CDMAX == 0,
 *     or SSID >= 2^S1CDMAX, or an invalid L1CD -> C_BAD_SUBSTREAMID.
 *     CD not in RAM -> F_CD_FETCH.
 *  4. CD.V == 0, AA64 == 0, ENDI == 1, TG0 0b11 or a reserved IPS, T0SZ
 *     out of range for the granule (VAX is 0: at most 48 bits), HA/HD
 *     beyond IDR0.HTTU, TTB0 beyond the OAS -> C_BAD_CD.  EPD0 == 1: the
 *     TTB0 fields are not checked (nothing is walked).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/log.h"
#include "hw/mmn-smmu/guest-ram.h"
#include "smmuv3-internal.h"
#include "hw/mmn-smmu/trace.h"

#define STE_SIZE 64
#define CD_SIZE 64

static bool read_words(MmnSmmuv3State *s, uint64_t addr, uint64_t *w,
                       unsigned n)
{
    unsigned i;

    if (!mmn_ram_read(s->as, addr, w, n * 8)) {
        return false;
    }
    for (i = 0; i < n; i++) {
        w[i] = le64_to_cpu(w[i]);
    }
    return true;
}

static MmnSmmuv3CfgResult cfg_event(MmnSmmuv3Evt *evt, uint8_t id,
                                    uint64_t addr)
{
    evt->id = id;
    evt->addr = addr;
    evt->class = EVT_CLASS_CD;
    return MMN_SMMUV3_CFG_EVENT;
}

/* 3.3.1: find and fetch the STE of @sid. */
static MmnSmmuv3CfgResult fetch_ste(MmnSmmuv3State *s, uint32_t sid,
                                    uint64_t *ste, MmnSmmuv3Evt *evt)
{
    uint32_t cfg = s->strtab_base_cfg;
    unsigned log2size = MIN(FIELD_EX32(cfg, STRTAB_BASE_CFG, LOG2SIZE),
                            s->sid_bits);
    uint64_t base = FIELD_EX64(s->strtab_base, STRTAB_BASE, ADDR) << 6;
    uint64_t addr;

    if (log2size < 32 && (uint64_t)sid >> log2size) {
        return cfg_event(evt, EVT_C_BAD_STREAMID, 0);
    }
    if (FIELD_EX32(cfg, STRTAB_BASE_CFG, FMT) == 1) {
        unsigned split = FIELD_EX32(cfg, STRTAB_BASE_CFG, SPLIT);
        uint64_t l1;
        unsigned span;

        if (split != 6 && split != 8 && split != 10) {
            /* reserved SPLIT: CONSTRAINED UNPREDICTABLE, we say bad STE */
            qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmuv3: STRTAB_BASE_CFG "
                          "SPLIT %u is reserved\n", split);
            return cfg_event(evt, EVT_C_BAD_STE, 0);
        }
        addr = base + (uint64_t)(sid >> split) * 8;
        if (!read_words(s, addr, &l1, 1)) {
            return cfg_event(evt, EVT_F_STE_FETCH, addr);
        }
        span = FIELD_EX64(l1, L1STD, SPAN);
        if (span == 0 || span > split + 1 ||
            (sid & ((1u << split) - 1)) >> (span - 1)) {
            return cfg_event(evt, EVT_C_BAD_STREAMID, 0);
        }
        addr = (FIELD_EX64(l1, L1STD, L2PTR) << 6) +
               (uint64_t)(sid & ((1u << split) - 1)) * STE_SIZE;
    } else if (FIELD_EX32(cfg, STRTAB_BASE_CFG, FMT) == 0) {
        addr = base + (uint64_t)sid * STE_SIZE;
    } else {
        qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmuv3: STRTAB_BASE_CFG FMT %u "
                      "is reserved\n", FIELD_EX32(cfg, STRTAB_BASE_CFG, FMT));
        return cfg_event(evt, EVT_C_BAD_STE, 0);
    }
    if (!read_words(s, addr, ste, 8)) {
        return cfg_event(evt, EVT_F_STE_FETCH, addr);
    }
    return MMN_SMMUV3_CFG_OK;
}

/* 3.3.2: fetch CD @ssid of the STE's table. */
static MmnSmmuv3CfgResult fetch_cd(MmnSmmuv3State *s, const uint64_t *ste,
                                   uint32_t ssid, uint64_t *cd,
                                   MmnSmmuv3Evt *evt)
{
    uint64_t ctxptr = FIELD_EX64(ste[0], STE0, S1CTXPTR) << 6;
    unsigned fmt = FIELD_EX64(ste[0], STE0, S1FMT);
    uint64_t addr = ctxptr + (uint64_t)ssid * CD_SIZE;

    if (fmt != STE_S1FMT_LINEAR) {
        unsigned split = fmt == STE_S1FMT_4K_L2 ? 6 : 10;
        uint64_t l1;

        addr = ctxptr + (uint64_t)(ssid >> split) * 8;
        if (!read_words(s, addr, &l1, 1)) {
            return cfg_event(evt, EVT_F_CD_FETCH, addr);
        }
        if (!FIELD_EX64(l1, L1CD, V)) {
            return cfg_event(evt, EVT_C_BAD_SUBSTREAMID, 0);
        }
        addr = (FIELD_EX64(l1, L1CD, L2PTR) << 12) +
               (uint64_t)(ssid & ((1u << split) - 1)) * CD_SIZE;
    }
    if (!read_words(s, addr, cd, 8)) {
        return cfg_event(evt, EVT_F_CD_FETCH, addr);
    }
    return MMN_SMMUV3_CFG_OK;
}

static unsigned ips_bits(unsigned ips)
{
    static const uint8_t bits[] = { 32, 36, 40, 42, 44, 48, 52 };

    return ips < ARRAY_SIZE(bits) ? bits[ips] : 0;
}

/* 5.4: decode and check a CD into cfg->walk. */
static bool decode_cd(MmnSmmuv3State *s, const uint64_t *cd,
                      MmnSmmuv3Cfg *cfg)
{
    unsigned ips = ips_bits(FIELD_EX64(cd[0], CD0, IPS));
    uint64_t ttb = FIELD_EX64(cd[1], CD1, TTB0) << 4;
    bool ha = FIELD_EX64(cd[0], CD0, HA), hd = FIELD_EX64(cd[0], CD0, HD);

    if (!FIELD_EX64(cd[0], CD0, V) || !FIELD_EX64(cd[0], CD0, AA64) ||
        FIELD_EX64(cd[0], CD0, ENDI)) {
        return false;
    }
    cfg->asid = FIELD_EX64(cd[0], CD0, ASID);
    cfg->record = FIELD_EX64(cd[0], CD0, R);
    cfg->stall = FIELD_EX64(cd[0], CD0, S);
    cfg->epd0 = FIELD_EX64(cd[0], CD0, EPD0);
    cfg->aset = FIELD_EX64(cd[0], CD0, ASET);
    if (cfg->epd0) {
        /* TTB0 walks disabled: the TCR fields of TTB0 are not used. */
        return true;
    }
    if (!ips || (ha && s->httu < 1) || (hd && (s->httu < 2 || !ha))) {
        return false;
    }
    cfg->walk = (MmnWalkConfig) {
        .ttb = ttb,
        .va_bits = 64 - FIELD_EX64(cd[0], CD0, T0SZ),
        .oa_bits = MIN(ips, s->oas_bits),
        .granule = FIELD_EX64(cd[0], CD0, TG0),
        .tbi = FIELD_EX64(cd[0], CD0, TBI0),
        .ha = ha,
        .hd = hd,
    };
    /* IDR5.VAX is 0: at most 48-bit VAs; every TG0 but 0b11 is offered. */
    if (!mmn_walk_config_valid(&cfg->walk) ||
        cfg->walk.va_bits > MMN_VA_BITS_MAX_48) {
        return false;
    }
    return !(ttb >> cfg->walk.oa_bits);
}

MmnSmmuv3CfgResult mmn_smmuv3_config(MmnSmmuv3State *s, uint32_t sid,
                                     bool ssv, uint32_t ssid,
                                     MmnSmmuv3Cfg *cfg, MmnSmmuv3Evt *evt)
{
    uint64_t ste[8], cd[8];
    MmnSmmuv3CfgResult r;
    unsigned config, cdmax;

    memset(cfg, 0, sizeof(*cfg));
    memset(evt, 0, sizeof(*evt));
    evt->sid = sid;
    evt->ssv = ssv;
    evt->ssid = ssid;

    r = fetch_ste(s, sid, ste, evt);
    if (r != MMN_SMMUV3_CFG_OK) {
        return r;
    }
    config = FIELD_EX64(ste[0], STE0, CONFIG);
    if (!FIELD_EX64(ste[0], STE0, V) || (config != STE_CONFIG_ABORT &&
        config != STE_CONFIG_BYPASS && config != STE_CONFIG_S1)) {
        trace_mmn_smmuv3_bad_ste(sid, ste[0]);
        return cfg_event(evt, EVT_C_BAD_STE, 0);
    }
    if (config == STE_CONFIG_ABORT) {
        return MMN_SMMUV3_CFG_ABORT;
    }
    if (config == STE_CONFIG_BYPASS) {
        cfg->config = STE_CONFIG_BYPASS;
        return MMN_SMMUV3_CFG_OK;
    }
    if (FIELD_EX64(ste[0], STE0, S1FMT) == 3 ||
        (FIELD_EX64(ste[0], STE0, S1CTXPTR) << 6) >> s->oas_bits) {
        return cfg_event(evt, EVT_C_BAD_STE, 0);
    }
    cdmax = FIELD_EX64(ste[0], STE0, S1CDMAX);
    if (cdmax > s->ssid_bits) {
        return cfg_event(evt, EVT_C_BAD_STE, 0);
    }
    if (!ssv) {
        if (cdmax) {
            switch (FIELD_EX64(ste[1], STE1, S1DSS)) {
            case STE_S1DSS_TERMINATE:
                return cfg_event(evt, EVT_F_STREAM_DISABLED, 0);
            case STE_S1DSS_BYPASS:
                cfg->config = STE_CONFIG_BYPASS;
                return MMN_SMMUV3_CFG_OK;
            case STE_S1DSS_SSID0:
                break;
            default:
                return cfg_event(evt, EVT_C_BAD_STE, 0);
            }
        }
        ssid = 0;
    } else if (!cdmax || ssid >> cdmax) {
        return cfg_event(evt, EVT_C_BAD_SUBSTREAMID, 0);
    }
    r = fetch_cd(s, ste, ssid, cd, evt);
    if (r != MMN_SMMUV3_CFG_OK) {
        return r;
    }
    if (!decode_cd(s, cd, cfg)) {
        trace_mmn_smmuv3_bad_cd(sid, ssid, cd[0]);
        return cfg_event(evt, EVT_C_BAD_CD, 0);
    }
    cfg->config = STE_CONFIG_S1;
    cfg->stall = cfg->stall && !FIELD_EX64(ste[1], STE1, S1STALLD);
    return MMN_SMMUV3_CFG_OK;
}
