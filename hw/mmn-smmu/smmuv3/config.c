/*
 * mmn-smmuv3: configuration of a transaction, from the stream table entry
 * and the context descriptor (Arm IHI 0070, 3.3 "Data structures and
 * translation procedure", 5.2 STE, 5.4 CD).
 *
 * mmn_smmuv3_config_fetch() reads a stream's STE and CD from guest memory
 * and decodes them; config-cache.c keeps what decoded without an error
 * and serves later transactions from it until a CFGI_* command drops it.
 * What is checked, in the order of the translation procedure:
 *
 *  1. StreamID >= 2^STRTAB_BASE_CFG.LOG2SIZE, or beyond a 2-level L1
 *     descriptor's Span (0, reserved, above SPLIT + 1) -> C_BAD_STREAMID,
 *     recorded only with CR2.RECINVSID (7.3.3).  Reserved FMT values
 *     behave as linear, reserved SPLIT values as 6 (6.3.25).  The STE or
 *     its L1 descriptor not in RAM -> F_STE_FETCH.
 *  2. STE.V == 0, Config 0b11x (S2P is 0), S1CDMax > SSIDSIZE,
 *     S1ContextPtr beyond the OAS -> C_BAD_STE (5.2.2, 3.4.3).  Config
 *     0b0xx -> abort without an event (0b001..0b011 are reserved and
 *     behave as 0b000); Bypass -> the input address is the output.  S1Fmt
 *     0b11 behaves as linear; S1Fmt is ignored when S1CDMax is 0 (5.2).
 *  3. No substream (SSV == 0): S1DSS Terminate (or the reserved 0b11) ->
 *     F_STREAM_DISABLED, Bypass -> bypass, SSID0 -> substream 0.  SSV == 1
 *     with Config Bypass, S1CDMax == 0 (or SSIDSIZE == 0), SSID >=
 *     2^S1CDMax, an invalid L1CD or an L1CD.L2Ptr beyond the OAS ->
 *     C_BAD_SUBSTREAMID; SSID 0 with S1DSS SSID0 -> F_STREAM_DISABLED
 *     (7.3.7, 7.3.9).  CD or L1CD not in RAM -> F_CD_FETCH.
 *  4. The CdIllegal() rules of 5.4.2 for this SMMU -> C_BAD_CD: V == 0,
 *     S == 1 with STE.S1STALLD == 1, A == 0 (IDR0.TERM_MODEL is 1),
 *     ENDI == 1 unless EPD0 and EPD1 are both 1 (little-endian only),
 *     AA64 == 0, HA/HD beyond IDR0.HTTU; with EPD0 == 0 also T0SZ outside
 *     16..39 (no STT, no VAX), TG0 0b11, TTB0 beyond the effective IPS.
 *     {HD, HA} == 0b10 behaves as no HTTU, IPS 0b111 as 0b110 (52 bits,
 *     capped at the OAS).  EPD1 is treated as 1: TTB1 is never walked
 *     and its fields are not checked (a deviation, see the spec).
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

/* 5.1.1, 7.3.3: an invalid StreamID is recorded only with RECINVSID. */
static MmnSmmuv3CfgResult bad_streamid(MmnSmmuv3State *s, MmnSmmuv3Evt *evt)
{
    if (!FIELD_EX32(s->cr[2], CR2, RECINVSID)) {
        return MMN_SMMUV3_CFG_ABORT;
    }
    return cfg_event(evt, EVT_C_BAD_STREAMID, 0);
}

static bool beyond_oas(MmnSmmuv3State *s, uint64_t addr)
{
    return addr >> s->oas_bits;
}

/* STRTAB_BASE_CFG.SPLIT of a 2-level stream table (6, 8, 10), or 0. */
static unsigned strtab_split(MmnSmmuv3State *s)
{
    unsigned split = FIELD_EX32(s->strtab_base_cfg, STRTAB_BASE_CFG, SPLIT);

    if (FIELD_EX32(s->strtab_base_cfg, STRTAB_BASE_CFG, FMT) != 1) {
        return 0;
    }
    /* 6.3.25: other values are reserved and behave as 6 */
    return split == 8 || split == 10 ? split : 6;
}

/* 3.3.1: find and fetch the STE of @sid. */
static MmnSmmuv3CfgResult fetch_ste(MmnSmmuv3State *s, uint32_t sid,
                                    uint64_t *ste, MmnSmmuv3Evt *evt)
{
    uint32_t cfg = s->strtab_base_cfg;
    unsigned lit = FIELD_EX32(cfg, STRTAB_BASE_CFG, LOG2SIZE);
    unsigned log2size = MIN(lit, s->sid_bits);
    uint64_t base = FIELD_EX64(s->strtab_base, STRTAB_BASE, ADDR) << 6;
    unsigned split = strtab_split(s);
    uint64_t addr;

    if (log2size < 32 && (uint64_t)sid >> log2size) {
        return bad_streamid(s, evt);
    }
    if (split) {
        uint64_t l1;
        unsigned span;

        /* 6.3.24: aligned to the larger of 64 bytes and the L1 table */
        base &= ~((8ULL << MAX(3, (int)lit - (int)split)) - 1);
        addr = base + (uint64_t)(sid >> split) * 8;
        if (!read_words(s, addr, &l1, 1)) {
            return cfg_event(evt, EVT_F_STE_FETCH, addr);
        }
        /* 5.1: Span 0, 12..31 (reserved) or above SPLIT + 1 is invalid */
        span = FIELD_EX64(l1, L1STD, SPAN);
        if (span == 0 || span > split + 1 ||
            (sid & ((1u << split) - 1)) >> (span - 1)) {
            return bad_streamid(s, evt);
        }
        /* 5.1: L2Ptr[5 + (Span - 1):0] are treated as 0 */
        addr = ((FIELD_EX64(l1, L1STD, L2PTR) << 6) &
                ~((64ULL << (span - 1)) - 1)) +
               (uint64_t)(sid & ((1u << split) - 1)) * STE_SIZE;
    } else {
        /* 6.3.25: FMT 0b10 and 0b11 are reserved and behave as linear */
        if (FIELD_EX32(cfg, STRTAB_BASE_CFG, FMT)) {
            qemu_log_mask(LOG_GUEST_ERROR, "mmn-smmuv3: STRTAB_BASE_CFG FMT "
                          "%u is reserved: linear\n",
                          FIELD_EX32(cfg, STRTAB_BASE_CFG, FMT));
        }
        /* 6.3.24: aligned to the table size (the literal LOG2SIZE) */
        base &= lit + 6 >= 64 ? 0 : ~((64ULL << lit) - 1);
        addr = base + (uint64_t)sid * STE_SIZE;
    }
    if (!read_words(s, addr, ste, 8)) {
        return cfg_event(evt, EVT_F_STE_FETCH, addr);
    }
    return MMN_SMMUV3_CFG_OK;
}

/*
 * 3.3.2: fetch CD @ssid of a table of 2^@cdmax CDs at @ctxptr (within the
 * OAS) in format @fmt.  The bits of S1ContextPtr below the table's
 * alignment are RES0: they are treated as zero (5.2 S1Fmt), so the table
 * lies within the OAS.  An L1CD.L2Ptr beyond it is C_BAD_SUBSTREAMID
 * (3.4.3).
 */
static MmnSmmuv3CfgResult fetch_cd(MmnSmmuv3State *s, uint64_t ctxptr,
                                   unsigned fmt, unsigned cdmax,
                                   uint32_t ssid, uint64_t *cd,
                                   MmnSmmuv3Evt *evt)
{
    unsigned split = fmt == STE_S1FMT_4K_L2 ? 6 : 10;
    uint64_t addr;

    if (fmt == STE_S1FMT_LINEAR) {
        ctxptr &= ~((64ULL << cdmax) - 1);
        addr = ctxptr + (uint64_t)ssid * CD_SIZE;
    } else {
        uint64_t l1;

        ctxptr &= ~((8ULL << MAX(3, (int)cdmax - (int)split)) - 1);
        addr = ctxptr + (uint64_t)(ssid >> split) * 8;
        if (!read_words(s, addr, &l1, 1)) {
            return cfg_event(evt, EVT_F_CD_FETCH, addr);
        }
        if (!FIELD_EX64(l1, L1CD, V)) {
            return cfg_event(evt, EVT_C_BAD_SUBSTREAMID, 0);
        }
        addr = FIELD_EX64(l1, L1CD, L2PTR) << 12;
        if (fmt == STE_S1FMT_64K_L2) {
            addr &= ~0xffffULL;     /* L2Ptr[15:12] are RES0: zero */
        }
        if (beyond_oas(s, addr)) {
            return cfg_event(evt, EVT_C_BAD_SUBSTREAMID, 0);
        }
        addr += (uint64_t)(ssid & ((1u << split) - 1)) * CD_SIZE;
    }
    if (!read_words(s, addr, cd, 8)) {
        return cfg_event(evt, EVT_F_CD_FETCH, addr);
    }
    return MMN_SMMUV3_CFG_OK;
}

/* 5.4 IPS: 0b111 is reserved in SMMUv3.1-3.3 and behaves as 0b110. */
static unsigned ips_bits(unsigned ips)
{
    static const uint8_t bits[] = { 32, 36, 40, 42, 44, 48, 52, 52 };

    return bits[ips & 7];
}

/*
 * 5.4, 5.4.2 CdIllegal(): decode and check a CD (reached through an STE
 * with S1STALLD = @s1stalld) into cfg->walk; false if ILLEGAL.
 */
static bool decode_cd(MmnSmmuv3State *s, const uint64_t *cd, bool s1stalld,
                      MmnSmmuv3Cfg *cfg)
{
    unsigned ips = ips_bits(FIELD_EX64(cd[0], CD0, IPS));
    uint64_t ttb = FIELD_EX64(cd[1], CD1, TTB0) << 4;
    bool ha = FIELD_EX64(cd[0], CD0, HA), hd = FIELD_EX64(cd[0], CD0, HD);
    bool epd0 = FIELD_EX64(cd[0], CD0, EPD0);
    bool epd1 = FIELD_EX64(cd[0], CD0, EPD1);

    if (!FIELD_EX64(cd[0], CD0, V) ||
        /* stalls disabled by the STE, enabled by the CD (5.5) */
        (FIELD_EX64(cd[0], CD0, S) && s1stalld) ||
        /* IDR0.TERM_MODEL == 1: no RAZ/WI termination (5.5) */
        !FIELD_EX64(cd[0], CD0, A) ||
        /* IDR0.TTENDIAN: little-endian only; ignored if no TTBx walks */
        (FIELD_EX64(cd[0], CD0, ENDI) && !(epd0 && epd1)) ||
        /* IDR0.TTF: AArch64 tables only */
        !FIELD_EX64(cd[0], CD0, AA64) ||
        /* beyond IDR0.HTTU, whatever EPD0 says */
        ((ha || hd) && s->httu < 1) || (hd && s->httu < 2)) {
        return false;
    }
    if (hd && !ha) {
        /* {HD, HA} == 0b10 is reserved and behaves as 0b00 */
        hd = false;
    }
    cfg->asid = FIELD_EX64(cd[0], CD0, ASID);
    cfg->record = FIELD_EX64(cd[0], CD0, R);
    cfg->stall = FIELD_EX64(cd[0], CD0, S);
    cfg->epd0 = epd0;
    cfg->aset = FIELD_EX64(cd[0], CD0, ASET);
    if (cfg->epd0) {
        /* TTB0 walks disabled: the TCR fields of TTB0 are IGNORED. */
        return true;
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

MmnSmmuv3CfgResult mmn_smmuv3_config_fetch(MmnSmmuv3State *s, uint32_t sid,
                                           bool ssv, uint32_t ssid,
                                           MmnSmmuv3Cfg *cfg,
                                           MmnSmmuv3Evt *evt)
{
    uint64_t ste[8], cd[8], ctxptr;
    MmnSmmuv3CfgResult r;
    unsigned config, cdmax, fmt, s1dss;

    memset(cfg, 0, sizeof(*cfg));
    memset(evt, 0, sizeof(*evt));
    evt->sid = sid;
    evt->ssv = ssv;
    evt->ssid = ssid;

    r = fetch_ste(s, sid, ste, evt);
    if (r != MMN_SMMUV3_CFG_OK) {
        return r;
    }
    /* 5.2.2 SteIllegal(); S1CDMax is IGNORED when SSIDSIZE == 0 (5.2) */
    config = FIELD_EX64(ste[0], STE0, CONFIG);
    cdmax = s->ssid_bits ? FIELD_EX64(ste[0], STE0, S1CDMAX) : 0;
    ctxptr = FIELD_EX64(ste[0], STE0, S1CTXPTR) << 6;
    if (!FIELD_EX64(ste[0], STE0, V) || config >= STE_CONFIG_S2 ||
        (config == STE_CONFIG_S1 &&
         (cdmax > s->ssid_bits || beyond_oas(s, ctxptr)))) {
        trace_mmn_smmuv3_bad_ste(sid, ste[0]);
        return cfg_event(evt, EVT_C_BAD_STE, 0);
    }
    if (!(config & STE_CONFIG_BYPASS)) {
        /* 0b000 abort; 0b001..0b011 are reserved and behave as 0b000 */
        return MMN_SMMUV3_CFG_ABORT;
    }
    if (config == STE_CONFIG_BYPASS) {
        if (ssv) {
            /* a SubstreamID without stage 1 (5.2 S1Fmt, 7.3.9) */
            return cfg_event(evt, EVT_C_BAD_SUBSTREAMID, 0);
        }
        cfg->config = STE_CONFIG_BYPASS;
        return MMN_SMMUV3_CFG_OK;
    }
    /* S1Fmt: IGNORED without substreams; 0b11 behaves as linear */
    fmt = cdmax ? FIELD_EX64(ste[0], STE0, S1FMT) : STE_S1FMT_LINEAR;
    fmt = fmt == 3 ? STE_S1FMT_LINEAR : fmt;
    s1dss = FIELD_EX64(ste[1], STE1, S1DSS);
    if (!ssv) {
        if (cdmax) {
            switch (s1dss) {
            case STE_S1DSS_TERMINATE:
            case STE_S1DSS_RESERVED:
                return cfg_event(evt, EVT_F_STREAM_DISABLED, 0);
            case STE_S1DSS_BYPASS:
                cfg->config = STE_CONFIG_BYPASS;
                return MMN_SMMUV3_CFG_OK;
            }
        }
        ssid = 0;
    } else if (!cdmax || ssid >> cdmax) {
        return cfg_event(evt, EVT_C_BAD_SUBSTREAMID, 0);
    } else if (ssid == 0 && s1dss == STE_S1DSS_SSID0) {
        /* CD 0 is reserved for traffic without a substream */
        return cfg_event(evt, EVT_F_STREAM_DISABLED, 0);
    }
    r = fetch_cd(s, ctxptr, fmt, cdmax, ssid, cd, evt);
    if (r != MMN_SMMUV3_CFG_OK) {
        return r;
    }
    if (!decode_cd(s, cd, FIELD_EX64(ste[1], STE1, S1STALLD), cfg)) {
        trace_mmn_smmuv3_bad_cd(sid, ssid, cd[0]);
        return cfg_event(evt, EVT_C_BAD_CD, 0);
    }
    cfg->config = STE_CONFIG_S1;
    cfg->has_cd = true;
    cfg->cd_ssid = ssid;
    cfg->cd_split = fmt == STE_S1FMT_LINEAR ? 0 :
                    fmt == STE_S1FMT_4K_L2 ? 6 : 10;
    return MMN_SMMUV3_CFG_OK;
}
