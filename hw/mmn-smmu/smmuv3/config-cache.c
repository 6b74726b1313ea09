/*
 * mmn-smmuv3: the configuration cache (Arm IHI 0070 G.b, 3.3 "Data
 * structures and translation procedure", 4.3 "Configuration structure
 * invalidation").
 *
 * A configuration that config.c decoded from an STE (and a CD) without
 * any error is kept, keyed by (StreamID, SubstreamID or none), and used
 * by later transactions of that stream instead of the tables in memory,
 * until a CFGI_* command drops it.  So a kernel that changes an STE or a
 * CD and forgets the CFGI keeps getting the old configuration, as on an
 * SMMU that caches configuration.  Like QEMU's hw/arm/smmuv3.c
 * smmuv3_get_config(), which inserts a configuration only when
 * smmuv3_decode_config() succeeded, nothing that ends in an event, or in
 * a silent abort, is cached: those are read again on every transaction
 * (an STE with Config Abort included; QEMU caches that one, this model
 * does not: not caching is always permitted).  Stage-1 and bypass (STE
 * Config Bypass, S1DSS Bypass) configurations are cached.
 *
 * Invalidation (4.3; dropping more than asked is always permitted):
 *
 *  CFGI_STE        every entry of the StreamID (its CDs are reached
 *                  through the STE), whatever Leaf says: no L1STD is
 *                  cached apart from the entries, and the other
 *                  StreamIDs behind the same L1STD keep theirs, as on an
 *                  SMMU that caches each STE (4.3.1)
 *  CFGI_STE_RANGE  the StreamIDs SID[31:Range + 1], any low bits; Range 31
 *                  is CFGI_ALL
 *  CFGI_CD         the entries of (StreamID, SubstreamID) that used that
 *                  CD (the no-substream entry with S1DSS SSID0 or S1CDMax
 *                  0 used CD 0), whatever Leaf says (likewise, 4.3.3)
 *  CFGI_CD_ALL     every entry of the StreamID
 *
 * The whole cache is dropped on reset, when CR0.SMMUEN goes from 1 to 0,
 * on a write of STRTAB_BASE or STRTAB_BASE_CFG, and after an incoming
 * migration (it is not migrated).  It holds at most
 * MMN_SMMUV3_CFGC_MAX entries: an insertion into a full cache drops
 * everything first, so a guest that floods it with streams cannot grow
 * host memory.  With the property config-cache=off every transaction
 * reads its STE and CD from memory.
 *
 * On a hit the tables are read again and compared with the entry: a
 * difference counts in stale-configs (the configuration sibling of the
 * IOTLB's coherence check), but the transaction uses the cached entry.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "smmuv3-internal.h"
#include "hw/mmn-smmu/trace.h"

#define KEY_NO_SSID (1ULL << 20)    /* above every 20-bit SubstreamID */

typedef struct CfgcEntry {
    uint64_t key;               /* the hash key points here */
    uint32_t sid;
    MmnSmmuv3Cfg cfg;
} CfgcEntry;

static uint64_t cfgc_key(uint32_t sid, bool ssv, uint32_t ssid)
{
    return (uint64_t)sid << 21 | (ssv ? ssid & 0xfffff : KEY_NO_SSID);
}

static bool walk_equal(const MmnWalkConfig *a, const MmnWalkConfig *b)
{
    return a->ttb == b->ttb && a->va_bits == b->va_bits &&
           a->oa_bits == b->oa_bits && a->granule == b->granule &&
           a->ds == b->ds && a->tbi == b->tbi && a->ha == b->ha &&
           a->hd == b->hd;
}

static bool cfg_equal(const MmnSmmuv3Cfg *a, const MmnSmmuv3Cfg *b)
{
    return a->config == b->config && walk_equal(&a->walk, &b->walk) &&
           a->asid == b->asid && a->stall == b->stall &&
           a->record == b->record && a->epd0 == b->epd0 &&
           a->aset == b->aset && a->has_cd == b->has_cd &&
           a->cd_ssid == b->cd_ssid && a->cd_split == b->cd_split;
}

uint32_t mmn_smmuv3_cfgc_entries(MmnSmmuv3State *s)
{
    return s->cfgc ? g_hash_table_size(s->cfgc) : 0;
}

void mmn_smmuv3_cfgc_flush(MmnSmmuv3State *s, const char *why)
{
    if (s->cfgc && g_hash_table_size(s->cfgc)) {
        trace_mmn_smmuv3_cfgc_flush(why, g_hash_table_size(s->cfgc));
        g_hash_table_remove_all(s->cfgc);
    }
}

void mmn_smmuv3_cfgc_fini(MmnSmmuv3State *s)
{
    if (s->cfgc) {
        g_hash_table_destroy(s->cfgc);
        s->cfgc = NULL;
    }
}

static void cfgc_insert(MmnSmmuv3State *s, uint32_t sid, bool ssv,
                        uint32_t ssid, const MmnSmmuv3Cfg *cfg)
{
    CfgcEntry *e;

    if (!s->cfgc) {
        s->cfgc = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
                                        g_free);
    }
    if (g_hash_table_size(s->cfgc) >= MMN_SMMUV3_CFGC_MAX) {
        mmn_smmuv3_cfgc_flush(s, "full");
    }
    e = g_new0(CfgcEntry, 1);
    e->key = cfgc_key(sid, ssv, ssid);
    e->sid = sid;
    e->cfg = *cfg;
    g_hash_table_replace(s->cfgc, &e->key, e);
    trace_mmn_smmuv3_cfgc_insert(sid, ssv, ssid, cfg->config, cfg->asid);
}

static const CfgcEntry *cfgc_lookup(MmnSmmuv3State *s, uint32_t sid,
                                    bool ssv, uint32_t ssid)
{
    uint64_t key = cfgc_key(sid, ssv, ssid);

    if (!s->config_cache || !s->cfgc) {
        return NULL;
    }
    return g_hash_table_lookup(s->cfgc, &key);
}

static void cfg_result_ok(MmnSmmuv3Evt *evt, uint32_t sid, bool ssv,
                          uint32_t ssid)
{
    memset(evt, 0, sizeof(*evt));
    evt->sid = sid;
    evt->ssv = ssv;
    evt->ssid = ssid;
}

MmnSmmuv3CfgResult mmn_smmuv3_config(MmnSmmuv3State *s, uint32_t sid,
                                     bool ssv, uint32_t ssid,
                                     MmnSmmuv3Cfg *cfg, MmnSmmuv3Evt *evt)
{
    const CfgcEntry *e = cfgc_lookup(s, sid, ssv, ssid);
    MmnSmmuv3CfgResult r;

    if (e) {
        MmnSmmuv3Cfg now;
        MmnSmmuv3Evt now_evt;
        bool stale;

        /* The coherence check: what the tables say now. */
        stale = mmn_smmuv3_config_fetch(s, sid, ssv, ssid, &now, &now_evt) !=
                MMN_SMMUV3_CFG_OK || !cfg_equal(&e->cfg, &now);
        s->stat_cfgc_hits++;
        s->stat_stale_configs += stale;
        trace_mmn_smmuv3_cfgc_hit(sid, ssv, ssid, stale);
        *cfg = e->cfg;
        cfg_result_ok(evt, sid, ssv, ssid);
        return MMN_SMMUV3_CFG_OK;
    }
    r = mmn_smmuv3_config_fetch(s, sid, ssv, ssid, cfg, evt);
    if (r == MMN_SMMUV3_CFG_OK && s->config_cache) {
        cfgc_insert(s, sid, ssv, ssid, cfg);
    }
    return r;
}

MmnSmmuv3CfgResult mmn_smmuv3_config_peek(MmnSmmuv3State *s, uint32_t sid,
                                          bool ssv, uint32_t ssid,
                                          MmnSmmuv3Cfg *cfg,
                                          MmnSmmuv3Evt *evt)
{
    const CfgcEntry *e = cfgc_lookup(s, sid, ssv, ssid);

    if (e) {
        *cfg = e->cfg;
        cfg_result_ok(evt, sid, ssv, ssid);
        return MMN_SMMUV3_CFG_OK;
    }
    return mmn_smmuv3_config_fetch(s, sid, ssv, ssid, cfg, evt);
}

/* What a CFGI command drops. */
typedef struct CfgcInv {
    uint32_t first, last;       /* StreamIDs */
    bool cd;                    /* CFGI_CD: only entries that used ... */
    uint32_t ssid;              /* ... this CD */
    bool leaf;                  /* the command's Leaf (traced only) */
} CfgcInv;

static gboolean cfgc_inv_match(gpointer key, gpointer value, gpointer opaque)
{
    const CfgcEntry *e = value;
    const CfgcInv *inv = opaque;

    if (e->sid < inv->first || e->sid > inv->last) {
        return false;
    }
    if (!inv->cd) {
        return true;
    }
    if (!e->cfg.has_cd) {
        return false;
    }
    return e->cfg.cd_ssid == inv->ssid;
}

static void cfgc_inv(MmnSmmuv3State *s, const char *op, const CfgcInv *inv)
{
    unsigned n = 0;

    if (s->cfgc) {
        n = g_hash_table_foreach_remove(s->cfgc, cfgc_inv_match,
                                        (gpointer)inv);
    }
    trace_mmn_smmuv3_cfgc_inv(op, inv->first, inv->last, inv->cd, inv->ssid,
                              inv->leaf, n);
}

void mmn_smmuv3_cfgc_command(MmnSmmuv3State *s, const uint64_t *c)
{
    uint8_t op = FIELD_EX64(c[0], CMD0, OP);
    uint32_t sid = FIELD_EX64(c[0], CMD0, SID);
    bool leaf = FIELD_EX64(c[1], CMD1, LEAF);
    CfgcInv inv = { .first = sid, .last = sid, .leaf = true };
    uint64_t mask;

    switch (op) {
    case CMD_CFGI_STE:
        /*
         * 4.3.1: Leaf == 0 also invalidates the L1STD on the SID's path.
         * No L1 descriptor is cached apart from the entries, and the
         * other StreamIDs behind that L1STD keep their entries, as an
         * SMMU that caches each STE does: only this SID is dropped.
         */
        inv.leaf = leaf;
        cfgc_inv(s, "CFGI_STE", &inv);
        break;
    case CMD_CFGI_STE_RANGE:
        /* 4.3: 2^(Range + 1) StreamIDs, SID aligned down to them */
        mask = (2ULL << FIELD_EX64(c[1], CMD1, RANGE)) - 1;
        inv.first = sid & ~mask;
        inv.last = inv.first + mask;
        cfgc_inv(s, "CFGI_STE_RANGE", &inv);
        break;
    case CMD_CFGI_CD:
        /* 4.3.3: Leaf == 0 also the L1CD on the path: as for CFGI_STE */
        inv.cd = true;
        inv.ssid = FIELD_EX64(c[0], CMD0, SSID);
        inv.leaf = leaf;
        cfgc_inv(s, "CFGI_CD", &inv);
        break;
    case CMD_CFGI_CD_ALL:
        cfgc_inv(s, "CFGI_CD_ALL", &inv);
        break;
    default:
        g_assert_not_reached();
    }
}
