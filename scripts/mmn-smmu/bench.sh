#!/usr/bin/env bash
# Run mmn-smmu's benchmarks and print their figures (they assert nothing
# about time; compare the side-by-side ratios they print).
#   notifier: range invalidation cost vs number of interval subscribers,
#             against a linear scan, measured in the same run
#   walker:   cost of 4-, 3- and 2-level walks, with and without HTTU
#   iotlb:    hit/miss cost, one-page invalidation with 64 Ki entries vs a
#             QEMU-style full-table scan, bytes per entry
#   qemu-smmu-iotlb: QEMU's own hw/arm/smmu-common.c IOTLB linked in, side
#             by side with ours at 256 entries (QEMU's maximum); ours at
#             4 Ki and 64 Ki
#   smmuv3-device: the mmn-smmu PCI device's DMA and TLBI commands behind
#             QEMU's smmuv3 and behind mmn-smmuv3, through qtest
#   sequence: random mm sequences with DMA, per kernel profile: operations
#             per second and every outcome count (MMN_SEQ_OPS operations
#             per profile, default 100000; MMN_SEQ_SEED)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${MMN_BUILD:-$repo/build}
bld="$out/qemu-build/tests/bench/mmn-smmu"

"$repo/scripts/mmn-smmu/build.sh" tests/bench/mmn-smmu/bench-mmn-notifier \
    tests/bench/mmn-smmu/bench-mmn-walker \
    tests/bench/mmn-smmu/bench-mmn-iotlb qemu-system-aarch64 \
    tests/bench/mmn-smmu/bench-qemu-smmu-iotlb \
    tests/bench/mmn-smmu/bench-smmuv3-device \
    tests/qtest/mmn-smmu-sequence-test >&2
for b in bench-mmn-notifier bench-mmn-walker bench-mmn-iotlb \
         bench-qemu-smmu-iotlb; do
    echo "=== $b"
    "$bld/$b"
    echo
done
echo "=== bench-smmuv3-device"
QTEST_QEMU_BINARY="$out/qemu-build/qemu-system-aarch64" \
    "$bld/bench-smmuv3-device" 2>&1 |
    grep -v -E "^# (random seed|starting QEMU)|Default NIC"
echo
ops=${MMN_SEQ_OPS:-100000}
echo "=== mmn-smmu-sequence-test ($ops operations per profile)"
QTEST_QEMU_BINARY="$out/qemu-build/qemu-system-aarch64" MMN_SEQ_OPS="$ops" \
    "$out/qemu-build/tests/qtest/mmn-smmu-sequence-test" --tap -k |
    grep -v -E '^# (Start|End|starting QEMU)'
