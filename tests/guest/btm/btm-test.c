/*
 * Bare-metal test of mmn-smmuv3's broadcast TLB maintenance (btm = on).
 *
 * Runs at EL1 with the MMU off on -M virt,iommu=mmn-smmuv3, loaded with
 * -kernel.  It programs the SMMU as Linux's arm-smmu-v3 driver would (a
 * linear stream table, a stage-1 STE for the mmn-sva-master, one CD per
 * case, 4 KiB stage-1 tables in RAM; encodings of
 * tests/qtest/libqos/mmn-smmuv3.c), then for each case:
 *
 *  1. maps the job's page read-only (a writable-clean PTE: AF, USER,
 *     RDONLY, DBM; the SMMU has no HTTU) and starts a 8-byte FILL: the
 *     write faults, the SMMU caches the read-only leaf and stalls the
 *     transaction (F_PERMISSION, Stall = 1);
 *  2. makes the PTE writable, as the CPU's dirty-bit update would, and
 *     invalidates with the case's TLBI instruction (or nothing, or an SMMU
 *     command), then DSB ISH;
 *  3. resumes the stall with CMD_RESUME (Retry), and again for every new
 *     stall, until the job ends.
 *
 * It prints "case NAME: DONE" when the retry walked the new PTE, or
 * "case NAME: LIVELOCK" when the SMMU kept faulting from its cached
 * read-only entry until its livelock detector ended the job (the SMMU saw
 * no invalidation), or "case NAME: N/A" when the CPU lacks the
 * instruction.  It ends with "END" and PSCI SYSTEM_OFF (HVC: the conduit
 * of -M virt without EL2 and EL3).  scripts/mmn-smmu/btm-test.sh judges
 * the lines.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART        0x09000000UL
#define SMMU        0x09050000UL
#define MASTER      0x090c0000UL
#define MASTER_SID  0x10000u

/* Guest RAM (256 MiB from 0x40000000); the program is at 0x40080000. */
#define STRTAB      0x41000000UL    /* 2^17 STEs: 8 MiB */
#define CMDQ        0x41800000UL    /* 2^8 commands */
#define EVTQ        0x41810000UL    /* 2^8 events */
#define CDTAB       0x41820000UL    /* 2^5 CDs */
#define TABLES      0x41900000UL    /* page tables, bump-allocated */
#define DATA        0x42000000UL    /* one data page per case */
#define QLOG2       8
#define CDMAX       5

/* SMMU registers (Arm IHI 0070, 6.3) */
#define CR0         0x20
#define CR0ACK      0x24
#define CR1         0x28
#define CR2         0x2c
#define CR2_RECINVSID (1u << 1)
#define CR2_PTM     (1u << 2)
#define IRQ_CTRL    0x50
#define GERROR      0x60
#define STRTAB_BASE 0x80
#define STRTAB_CFG  0x88
#define CMDQ_BASE   0x90
#define CMDQ_PROD   0x98
#define CMDQ_CONS   0x9c
#define EVTQ_BASE   0xa0
#define EVTQ_PROD   0x100a8
#define EVTQ_CONS   0x100ac

/* commands (4.1-4.7) */
#define CMD_CFGI_CD     0x05
#define CMD_TLBI_NH_ALL 0x10
#define CMD_TLBI_NH_VA  0x12
#define CMD_RESUME      0x44
#define CMD_SYNC        0x46
#define EVT_F_PERMISSION 0x13

/* mmn-sva-master (docs/specs/mmn-smmuv3.rst) */
#define M_CTRL      0x008
#define M_PASID     0x00c
#define M_VA_LO     0x010
#define M_VA_HI     0x014
#define M_LEN       0x018
#define M_OP        0x01c
#define M_PATTERN   0x020
#define M_DOORBELL  0x024
#define M_STATUS    0x028
#define M_FAULTS    0x030
#define M_RETRIES   0x034
#define M_OP_FILL   3
#define ST_BUSY     1
#define ST_DONE     2
#define ST_LIVELOCK 4

/* stage-1 descriptor bits (Linux arch/arm64 pgtable-hwdef.h) */
#define PTE_VALID   (1ULL << 0)
#define PTE_TABLE   (1ULL << 1)
#define PTE_USER    (1ULL << 6)
#define PTE_RDONLY  (1ULL << 7)
#define PTE_AF      (1ULL << 10)
#define PTE_DBM     (1ULL << 51)

#define PATTERN     0x01020304u

__asm__(
    ".section .text.start, \"ax\"\n"
    ".global _start\n"
    "_start:\n"
    "    ldr x0, =stack_top\n"
    "    mov sp, x0\n"
    "    adr x0, vectors\n"
    "    msr vbar_el1, x0\n"
    "    isb\n"
    "    bl main\n"
    "    b poweroff\n"
    ".balign 2048\n"
    "vectors:\n"
    ".rept 16\n"
    "    .balign 128\n"
    "    b exception\n"
    ".endr\n"
    ".text\n");

static uint8_t stack[16384] __attribute__((aligned(16), used));
__asm__(".set stack_top, stack + 16384\n");

/*
 * The compiler may emit calls to memset even when freestanding.  With the
 * MMU off all of RAM is Device memory: byte stores (volatile, so that
 * this loop does not become a call to itself) are always aligned.
 */
void *memset(void *d, int c, size_t n)
{
    volatile uint8_t *p = d;        /* see above */

    while (n--) {
        *p++ = c;
    }
    return d;
}

/*
 * Register and RAM accesses: the SMMU and the master read and write the
 * tables, queues and data behind the compiler's back (volatile).
 */
static inline void w32(uint64_t a, uint32_t v)
{
    *(volatile uint32_t *)a = v;    /* device-visible */
}

static inline uint32_t r32(uint64_t a)
{
    return *(volatile uint32_t *)a; /* device-visible */
}

static inline void w64(uint64_t a, uint64_t v)
{
    *(volatile uint64_t *)a = v;    /* device-visible */
}

static inline uint64_t r64(uint64_t a)
{
    return *(volatile uint64_t *)a; /* device-visible */
}

static void putc_(char c)
{
    w32(UART, (uint8_t)c);
}

static void puts_(const char *s)
{
    while (*s) {
        putc_(*s++);
    }
}

static void putu(uint64_t v)
{
    char b[24];
    int i = 0;

    do {
        b[i++] = '0' + v % 10;
        v /= 10;
    } while (v);
    while (i) {
        putc_(b[--i]);
    }
}

static void putx(uint64_t v)
{
    int i;

    puts_("0x");
    for (i = 60; i >= 0; i -= 4) {
        putc_("0123456789abcdef"[(v >> i) & 0xf]);
    }
}

/* Called from _start (asm): kept under its name. */
static void __attribute__((used, noinline, noreturn)) poweroff(void)
{
    register uint64_t x0 __asm__("x0") = 0x84000008;   /* SYSTEM_OFF */

    __asm__ volatile("hvc #0" : "+r"(x0) : : "memory");
    for (;;) {
        __asm__ volatile("wfi");
    }
}

/* Every exception vector branches here (asm). */
static void __attribute__((used, noinline, noreturn)) exception(void)
{
    uint64_t esr, elr, far;

    __asm__ volatile("mrs %0, esr_el1" : "=r"(esr));
    __asm__ volatile("mrs %0, elr_el1" : "=r"(elr));
    __asm__ volatile("mrs %0, far_el1" : "=r"(far));
    puts_("\nEXCEPTION esr=");
    putx(esr);
    puts_(" elr=");
    putx(elr);
    puts_(" far=");
    putx(far);
    puts_("\nEND\n");
    poweroff();
}

/* ---- SMMU driver ---- */

static uint32_t cmd_prod;
static uint32_t evt_cons;
static uint64_t next_table = TABLES;

static void smmu_w(uint32_t off, uint32_t v)
{
    w32(SMMU + off, v);
}

static uint32_t smmu_r(uint32_t off)
{
    return r32(SMMU + off);
}

static void zero(uint64_t a, uint64_t len)
{
    uint64_t i;

    for (i = 0; i < len; i += 8) {
        w64(a + i, 0);
    }
}

static bool cmd(uint64_t w0, uint64_t w1)
{
    uint32_t mask = (2u << QLOG2) - 1;
    uint64_t slot = CMDQ + (cmd_prod & ((1u << QLOG2) - 1)) * 16;
    int spins = 1000000;

    w64(slot, w0);
    w64(slot + 8, w1);
    __asm__ volatile("dsb ishst" : : : "memory");
    cmd_prod = (cmd_prod + 1) & mask;
    smmu_w(CMDQ_PROD, cmd_prod);
    do {
        if ((smmu_r(CMDQ_CONS) & mask) == cmd_prod) {
            break;
        }
    } while (--spins);
    if (!spins || (smmu_r(GERROR) & 1)) {
        puts_("command error, CONS=");
        putx(smmu_r(CMDQ_CONS));
        puts_("\n");
        return false;
    }
    return true;
}

static void cmd_sync(void)
{
    cmd(CMD_SYNC, 0);
}

/* Next event's first two words; false if the queue is empty. */
static bool evt(uint64_t *w0, uint64_t *w1)
{
    uint32_t mask = (2u << QLOG2) - 1;
    uint64_t slot;

    if ((smmu_r(EVTQ_PROD) & mask) == (evt_cons & mask)) {
        return false;
    }
    slot = EVTQ + (evt_cons & ((1u << QLOG2) - 1)) * 32;
    *w0 = r64(slot);
    *w1 = r64(slot + 8);
    evt_cons = (evt_cons + 1) & mask;
    smmu_w(EVTQ_CONS, evt_cons);
    return true;
}

/* The order of Linux's arm_smmu_device_reset(); CR2 without PTM. */
static void smmu_init(void)
{
    uint64_t ste = STRTAB + (uint64_t)MASTER_SID * 64;

    smmu_w(CR0, 0);
    smmu_w(CR1, 0x0d75);
    smmu_w(CR2, CR2_RECINVSID);
    w64(SMMU + STRTAB_BASE, STRTAB);
    smmu_w(STRTAB_CFG, 17);                     /* linear, 2^17 STEs */
    w64(SMMU + CMDQ_BASE, CMDQ | QLOG2);
    smmu_w(CMDQ_PROD, 0);
    smmu_w(CMDQ_CONS, 0);
    smmu_w(CR0, 1 << 3);                        /* CMDQEN */
    w64(SMMU + EVTQ_BASE, EVTQ | QLOG2);
    smmu_w(EVTQ_PROD, 0);
    smmu_w(EVTQ_CONS, 0);
    smmu_w(CR0, (1 << 3) | (1 << 2));           /* + EVENTQEN */
    smmu_w(IRQ_CTRL, 0);
    smmu_w(CR0, (1 << 3) | (1 << 2) | 1);       /* + SMMUEN */

    /* STE: S1 translate, linear CD table, S1DSS SSID0, stalls allowed */
    zero(ste, 64);
    zero(CDTAB, 64u << CDMAX);
    w64(ste + 8, 2 | (1ULL << 2) | (1ULL << 4) | (3ULL << 6));
    w64(ste, 1 | (5ULL << 1) | CDTAB | ((uint64_t)CDMAX << 59));
    cmd(CMD_TLBI_NH_ALL, 0);
    cmd_sync();
}

static uint64_t table_new(void)
{
    uint64_t t = next_table;

    next_table += 4096;
    zero(t, 4096);
    return t;
}

/* Map the 4 KiB page @va to @pa; returns the leaf descriptor's address. */
static uint64_t map(uint64_t root, uint64_t va, uint64_t pa, uint64_t attrs)
{
    uint64_t table = root, slot, d;
    int level;

    for (level = 0; level < 3; level++) {
        slot = table + ((va >> (39 - 9 * level)) & 0x1ff) * 8;
        d = r64(slot);
        if (!(d & PTE_VALID)) {
            d = table_new() | PTE_TABLE | PTE_VALID;
            w64(slot, d);
        }
        table = d & 0x0000fffffffff000ULL;
    }
    slot = table + ((va >> 12) & 0x1ff) * 8;
    w64(slot, (pa & 0x0000fffffffff000ULL) | attrs | PTE_TABLE | PTE_VALID);
    return slot;
}

/* CD @ssid: 48-bit VA, 4 KiB granule, stall + record, @asid, @aset. */
static void cd(uint32_t ssid, uint64_t ttb, uint16_t asid, bool aset)
{
    uint64_t a = CDTAB + (uint64_t)ssid * 64;
    uint64_t w0 = 16 | (1ULL << 8) | (1ULL << 10) | (3ULL << 12) |
                  (1ULL << 30) | (1ULL << 31) | (5ULL << 32) | (1ULL << 41) |
                  (1ULL << 44) | (1ULL << 45) | (1ULL << 46) |
                  ((uint64_t)aset << 47) | ((uint64_t)asid << 48);

    zero(a, 64);
    w64(a + 8, ttb);
    w64(a + 24, 0x00000000ff440c0400ULL);       /* MAIR */
    cmd(CMD_CFGI_CD | ((uint64_t)ssid << 12) |
        ((uint64_t)MASTER_SID << 32), 1);
    w64(a, w0);
    cmd(CMD_CFGI_CD | ((uint64_t)ssid << 12) |
        ((uint64_t)MASTER_SID << 32), 1);
    cmd_sync();
}

/* ---- CPU features and TLBI instructions ---- */

static unsigned isar0_tlb(void)
{
    uint64_t v;

    __asm__ volatile("mrs %0, id_aa64isar0_el1" : "=r"(v));
    return (v >> 56) & 0xf;     /* 1: TLBI OS; 2: OS and range */
}

static unsigned isar1_xs(void)
{
    uint64_t v;

    __asm__ volatile("mrs %0, id_aa64isar1_el1" : "=r"(v));
    return (v >> 56) & 0xf;     /* 1: FEAT_XS (nXS TLBIs) */
}

/* TLBI operands: ASID[63:48], VA[55:12] in [43:0] */
static uint64_t op_va(uint16_t asid, uint64_t va)
{
    return ((uint64_t)asid << 48) | ((va >> 12) & ((1ULL << 44) - 1));
}

/*
 * Range operand (Arm ARM, TLBI RVAE1IS): ASID[63:48], TG[47:46] (1: 4 KiB),
 * SCALE[45:44], NUM[43:39], TTL[38:37], BaseADDR[36:0] (VA[48:12]);
 * (NUM + 1) << (5 * SCALE + 1) pages from BaseADDR.
 */
static uint64_t op_range(uint16_t asid, uint64_t va, unsigned num,
                         unsigned scale)
{
    return ((uint64_t)asid << 48) | (1ULL << 46) | ((uint64_t)scale << 44) |
           ((uint64_t)num << 39) | ((va >> 12) & ((1ULL << 37) - 1));
}

/* SYS encodings, so that any assembler takes the v8.4/v8.7 forms. */
#define TLBI(insn, x) __asm__ volatile(insn ", %0" : : "r"(x) : "memory")

typedef enum Inv {
    INV_NONE,           /* no invalidation at all */
    INV_CMD_NH_VA,      /* the SMMU command, not a broadcast */
    INV_VALE1IS,
    INV_VAE1IS,
    INV_ASIDE1IS,
    INV_VAAE1IS,
    INV_VMALLE1IS,
    INV_VALE1IS_OTHER,  /* another ASID */
    INV_VALE1OS,
    INV_VALE1ISNXS,
    INV_RVALE1IS,
    INV_RVAAE1IS,
    INV_RVAE1IS_OTHER,  /* a range that misses the page */
} Inv;

typedef struct Case {
    const char *name;
    Inv inv;
    bool aset;          /* CD.ASET = 1: a non-shared ASID */
    bool ptm;           /* SMMU_CR2.PTM = 1 (what Linux writes) */
} Case;

static const Case cases[] = {
    { "none", INV_NONE, false, false },
    { "cmd-nh-va", INV_CMD_NH_VA, false, false },
    { "vale1is", INV_VALE1IS, false, false },
    { "vae1is", INV_VAE1IS, false, false },
    { "aside1is", INV_ASIDE1IS, false, false },
    { "vaae1is", INV_VAAE1IS, false, false },
    { "vmalle1is", INV_VMALLE1IS, false, false },
    { "vale1is-other-asid", INV_VALE1IS_OTHER, false, false },
    { "vale1is-ptm", INV_VALE1IS, false, true },
    { "aset1-vale1is", INV_VALE1IS, true, false },
    { "aset1-aside1is", INV_ASIDE1IS, true, false },
    { "aset1-vaae1is", INV_VAAE1IS, true, false },
    { "aset1-vmalle1is", INV_VMALLE1IS, true, false },
    { "vale1os", INV_VALE1OS, false, false },
    { "vale1isnxs", INV_VALE1ISNXS, false, false },
    { "rvale1is", INV_RVALE1IS, false, false },
    { "rvae1is-other-range", INV_RVAE1IS_OTHER, false, false },
    { "aset1-rvale1is", INV_RVALE1IS, true, false },
    { "aset1-rvaae1is", INV_RVAAE1IS, true, false },
};

static bool supported(Inv inv)
{
    switch (inv) {
    case INV_VALE1OS:
        return isar0_tlb() >= 1;
    case INV_VALE1ISNXS:
        return isar1_xs() >= 1;
    case INV_RVALE1IS:
    case INV_RVAAE1IS:
    case INV_RVAE1IS_OTHER:
        return isar0_tlb() >= 2;
    default:
        return true;
    }
}

static void invalidate(Inv inv, uint16_t asid, uint64_t va)
{
    switch (inv) {
    case INV_NONE:
        break;
    case INV_CMD_NH_VA:
        cmd(CMD_TLBI_NH_VA | ((uint64_t)asid << 48), (va & ~0xfffULL) | 1);
        cmd_sync();
        break;
    case INV_VALE1IS:
        TLBI("tlbi vale1is", op_va(asid, va));
        break;
    case INV_VAE1IS:
        TLBI("tlbi vae1is", op_va(asid, va));
        break;
    case INV_ASIDE1IS:
        TLBI("tlbi aside1is", (uint64_t)asid << 48);
        break;
    case INV_VAAE1IS:
        TLBI("tlbi vaae1is", op_va(0, va));
        break;
    case INV_VMALLE1IS:
        __asm__ volatile("tlbi vmalle1is" : : : "memory");
        break;
    case INV_VALE1IS_OTHER:
        TLBI("tlbi vale1is", op_va(asid + 1, va));
        break;
    case INV_VALE1OS:
        TLBI("sys #0, c8, c1, #5", op_va(asid, va));
        break;
    case INV_VALE1ISNXS:
        TLBI("sys #0, c9, c3, #5", op_va(asid, va));
        break;
    case INV_RVALE1IS:
        /* NUM 1, SCALE 0: 4 pages from the page before the job's */
        TLBI("sys #0, c8, c2, #5", op_range(asid, va - 4096, 1, 0));
        break;
    case INV_RVAAE1IS:
        TLBI("sys #0, c8, c2, #7", op_range(0, va - 4096, 1, 0));
        break;
    case INV_RVAE1IS_OTHER:
        /* 4 pages from the page after the job's */
        TLBI("sys #0, c8, c2, #1", op_range(asid, va + 4096, 1, 0));
        break;
    }
    __asm__ volatile("dsb ish\n\tisb" : : : "memory");
}

static void master_w(uint32_t off, uint32_t v)
{
    w32(MASTER + off, v);
}

static uint32_t master_r(uint32_t off)
{
    return r32(MASTER + off);
}

/* Resume every stall of the job until it ends; its final state. */
static uint32_t resume_until_end(void)
{
    uint64_t w0, w1;
    uint32_t st;
    int n;

    for (n = 0; n < 100; n++) {
        st = master_r(M_STATUS) & 0xf;
        if (st != ST_BUSY) {
            return st;
        }
        if (!evt(&w0, &w1) || !((w1 >> 31) & 1)) {
            puts_("BUSY without a stall event; ");
            return st;
        }
        cmd(CMD_RESUME | (1ULL << 12) | ((uint64_t)MASTER_SID << 32),
            w1 & 0xffff);
    }
    return master_r(M_STATUS) & 0xf;
}

static void run_case(unsigned i, const Case *c)
{
    uint32_t ssid = 1 + i;
    uint16_t asid = 0x100 + i;
    uint64_t va = 0x0000007f00000000ULL + (uint64_t)i * 0x200000 + 0x5000;
    uint64_t pa = DATA + (uint64_t)i * 4096;
    uint64_t root, pte, w0, w1;
    uint32_t st;

    puts_("case ");
    puts_(c->name);
    puts_(": ");
    if (!supported(c->inv)) {
        puts_("N/A\n");
        return;
    }
    smmu_w(CR2, CR2_RECINVSID | (c->ptm ? CR2_PTM : 0));
    root = table_new();
    pte = map(root, va, pa, PTE_AF | PTE_USER | PTE_RDONLY | PTE_DBM);
    cd(ssid, root, asid, c->aset);
    w32(pa, 0x5a5a5a5a);
    w32(pa + 4, 0x5a5a5a5a);

    master_w(M_CTRL, 1);                        /* SSV */
    master_w(M_PASID, ssid);
    master_w(M_VA_LO, (uint32_t)va);
    master_w(M_VA_HI, va >> 32);
    master_w(M_LEN, 8);
    master_w(M_OP, M_OP_FILL);
    master_w(M_PATTERN, PATTERN);
    master_w(M_DOORBELL, 1);
    if ((master_r(M_STATUS) & 0xf) != ST_BUSY || !evt(&w0, &w1) ||
        (w0 & 0xff) != EVT_F_PERMISSION || !((w1 >> 31) & 1)) {
        puts_("SETUP-FAILED status=");
        putx(master_r(M_STATUS));
        puts_("\n");
        return;
    }

    /* The CPU makes the page writable, then the case's invalidation. */
    w64(pte, r64(pte) & ~PTE_RDONLY);
    __asm__ volatile("dsb ishst" : : : "memory");
    invalidate(c->inv, asid, va);
    cmd(CMD_RESUME | (1ULL << 12) | ((uint64_t)MASTER_SID << 32),
        w1 & 0xffff);
    st = resume_until_end();

    if (st == ST_DONE && r32(pa) == PATTERN && r32(pa + 4) == PATTERN) {
        puts_("DONE");
    } else if (st == ST_LIVELOCK && r32(pa) == 0x5a5a5a5a) {
        puts_("LIVELOCK");
    } else {
        puts_("UNEXPECTED status=");
        putx(master_r(M_STATUS));
    }
    puts_(" faults=");
    putu(master_r(M_FAULTS));
    puts_(" retries=");
    putu(master_r(M_RETRIES));
    puts_("\n");

    /* Leave nothing cached for the next case. */
    cmd(CMD_TLBI_NH_ALL, 0);
    cmd_sync();
}

int main(void)
{
    uint64_t el;
    unsigned i;

    __asm__ volatile("mrs %0, CurrentEL" : "=r"(el));
    puts_("btm-test: EL");
    putu((el >> 2) & 3);
    puts_(" ID_AA64ISAR0_EL1.TLB=");
    putu(isar0_tlb());
    puts_(" ID_AA64ISAR1_EL1.XS=");
    putu(isar1_xs());
    puts_("\n");
    if (((el >> 2) & 3) != 1) {
        puts_("btm-test: must start at EL1\nEND\n");
        return 1;
    }
    smmu_init();
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_case(i, &cases[i]);
    }
    puts_("END\n");
    return 0;
}
