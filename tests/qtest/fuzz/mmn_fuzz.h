/*
 * mmn-smmu fuzz targets (tests/qtest/fuzz/mmn_smmu_fuzz.c,
 * mmn_smmuv3_fuzz.c): what they share.
 *
 * An input is a sequence of 16-byte records, each one operation that a
 * driver could do (a command, a DMA, a page-table edit, a register
 * write), with its operands chosen from pools of valid-ish values by the
 * record's bytes.  Unlike generic-fuzz, whose guest memory comes only from
 * DMA patterns, the records build the queues, descriptors and page tables
 * the devices read, so coverage-guided mutation starts from inputs the
 * device accepts.
 *
 * Every address a record can give a device lies in a window of guest RAM
 * that is cleared before each input (or outside RAM), so an input's
 * outcome does not depend on the inputs before it.
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MMN_FUZZ_H
#define MMN_FUZZ_H

#include "tests/qtest/libqtest.h"

#define MMN_FUZZ_RAM        0x40000000ULL   /* virt: RAM base */
#define MMN_FUZZ_REC_SIZE   16

typedef struct MmnFuzzRec {
    uint8_t op;
    uint8_t p1, p2, p3;
    uint32_t x;
    uint64_t y;
} MmnFuzzRec;

/* The next record of the input; false when fewer than 16 bytes remain. */
bool mmn_fuzz_next(const uint8_t **data, size_t *size, MmnFuzzRec *r);

/* Print record @n (MMN_FUZZ_VERBOSE). */
void mmn_fuzz_rec_print(unsigned n, const MmnFuzzRec *r);

/* Append a record to a seed. */
void mmn_fuzz_rec(GByteArray *seed, uint8_t op, uint8_t p1, uint8_t p2,
                  uint8_t p3, uint32_t x, uint64_t y);

/*
 * With MMN_FUZZ_SEEDS=DIR in the environment, write @n seeds named
 * @names into DIR and exit; otherwise return.
 */
void mmn_fuzz_write_seeds(const char *const *names, GByteArray **seeds,
                          unsigned n);

/* Zero @len bytes of guest RAM at @pa (through qtest when serialising). */
void mmn_fuzz_ram_clear(QTestState *s, uint64_t pa, uint64_t len);

/*
 * The PCI function at @devfn on virt's ECAM: BAR0 mapped (its address is
 * returned), memory decoding and bus mastering on, the offset of its MSI
 * capability in *@msi_cap (0: none); 0 if there is no such function.
 */
uint64_t mmn_fuzz_pci_enable(QTestState *s, int devfn, uint8_t *msi_cap);

/* A config-space write to the function at @devfn (1, 2 or 4 bytes). */
void mmn_fuzz_pci_cfg_write(QTestState *s, int devfn, uint8_t offset,
                            unsigned size, uint32_t val);

/* Pick @pool[sel % n]. */
#define MMN_PICK(pool, sel) ((pool)[(sel) % ARRAY_SIZE(pool)])

#endif /* MMN_FUZZ_H */
