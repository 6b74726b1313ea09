#!/usr/bin/env bash
# Run mmn-smmu's benchmarks and print their figures (they assert nothing
# about time; compare the side-by-side ratios they print).
#   notifier: range invalidation cost vs number of interval subscribers,
#             against a linear scan, measured in the same run
#   walker:   cost of 4-, 3- and 2-level walks, with and without HTTU
#   iotlb:    hit/miss cost, one-page invalidation with 64 Ki entries vs a
#             QEMU-style full-table scan, bytes per entry
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${MMN_BUILD:-$repo/build}
bld="$out/qemu-build/tests/bench/mmn-smmu"

"$repo/scripts/mmn-smmu/build.sh" tests/bench/mmn-smmu/bench-mmn-notifier \
    tests/bench/mmn-smmu/bench-mmn-walker \
    tests/bench/mmn-smmu/bench-mmn-iotlb >&2
for b in bench-mmn-notifier bench-mmn-walker bench-mmn-iotlb; do
    echo "=== $b"
    "$bld/$b"
    echo
done
