/*
 * mmn-smmu fuzz targets: the shared helpers (see mmn_fuzz.h).
 *
 * Copyright (c) 2026 The mmn-smmu authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "exec/memory.h"
#include "hw/boards.h"
#include "tests/qtest/libqos/pci.h"
#include "tests/qtest/libqos/generic-pcihost.h"
#include "hw/pci/pci_regs.h"
#include "mmn_fuzz.h"

bool mmn_fuzz_next(const uint8_t **data, size_t *size, MmnFuzzRec *r)
{
    const uint8_t *d = *data;

    if (*size < MMN_FUZZ_REC_SIZE) {
        return false;
    }
    r->op = d[0];
    r->p1 = d[1];
    r->p2 = d[2];
    r->p3 = d[3];
    r->x = ldl_le_p(d + 4);
    r->y = ldq_le_p(d + 8);
    *data += MMN_FUZZ_REC_SIZE;
    *size -= MMN_FUZZ_REC_SIZE;
    return true;
}

void mmn_fuzz_rec_print(unsigned n, const MmnFuzzRec *r)
{
    fprintf(stderr, "record %u: op %u p1 0x%x p2 0x%x p3 0x%x x 0x%" PRIx32
            " y 0x%" PRIx64 "\n", n, r->op, r->p1, r->p2, r->p3, r->x, r->y);
}

void mmn_fuzz_rec(GByteArray *seed, uint8_t op, uint8_t p1, uint8_t p2,
                  uint8_t p3, uint32_t x, uint64_t y)
{
    uint8_t b[MMN_FUZZ_REC_SIZE] = { op, p1, p2, p3 };

    stl_le_p(b + 4, x);
    stq_le_p(b + 8, y);
    g_byte_array_append(seed, b, sizeof(b));
}

void mmn_fuzz_write_seeds(const char *const *names, GByteArray **seeds,
                          unsigned n)
{
    const char *dir = getenv("MMN_FUZZ_SEEDS");
    unsigned i;

    if (!dir) {
        return;
    }
    g_mkdir_with_parents(dir, 0755);
    for (i = 0; i < n; i++) {
        g_autofree char *path = g_build_filename(dir, names[i], NULL);
        g_autoptr(GError) err = NULL;

        if (!g_file_set_contents(path, (const char *)seeds[i]->data,
                                 seeds[i]->len, &err)) {
            fprintf(stderr, "%s: %s\n", path, err->message);
            exit(1);
        }
    }
    printf("wrote %u seeds to %s\n", n, dir);
    exit(0);
}

void mmn_fuzz_ram_clear(QTestState *s, uint64_t pa, uint64_t len)
{
    MemoryRegion *ram = current_machine->ram;

    if (getenv("FUZZ_SERIALIZE_QTEST")) {
        /* A qtest trace of the input must contain the clearing too. */
        qtest_memset(s, pa, 0, len);
        return;
    }
    g_assert(pa >= MMN_FUZZ_RAM &&
             pa + len <= MMN_FUZZ_RAM + memory_region_size(ram));
    memset((uint8_t *)memory_region_get_ram_ptr(ram) + (pa - MMN_FUZZ_RAM),
           0, len);
}

/* virt's ECAM (libqos generic-pcihost.c), rebuilt for each input. */
static QGenericPCIBus mmn_fuzz_bus;

uint64_t mmn_fuzz_pci_enable(QTestState *s, int devfn, uint8_t *msi_cap)
{
    QPCIDevice *dev;
    QPCIBar bar;

    qpci_init_generic(&mmn_fuzz_bus, s, NULL, false);
    dev = qpci_device_find(&mmn_fuzz_bus.bus, devfn);
    if (!dev) {
        return 0;
    }
    bar = qpci_iomap(dev, 0, NULL);
    qpci_device_enable(dev);
    if (msi_cap) {
        *msi_cap = qpci_find_capability(dev, PCI_CAP_ID_MSI, 0);
    }
    g_free(dev);
    return bar.addr;
}

void mmn_fuzz_pci_cfg_write(QTestState *s, int devfn, uint8_t offset,
                            unsigned size, uint32_t val)
{
    QPCIBus *bus = &mmn_fuzz_bus.bus;

    switch (size) {
    case 1:
        bus->config_writeb(bus, devfn, offset, val);
        break;
    case 2:
        bus->config_writew(bus, devfn, offset & ~1, val);
        break;
    default:
        bus->config_writel(bus, devfn, offset & ~3, val);
        break;
    }
}
