#!/usr/bin/env bash
# mmn-smmu's main job: the stale read-only PTE reproduction report.
#
# Builds QEMU with the device (first run ~10 min, then seconds), then runs
# tests/qtest/mmn-smmu-repro: every upgrade scenario (4 KiB pages, hugetlb,
# THP) under the linux-6.1, upgrade-notify (6.1 plus the May 2023 patch
# "mmu_notifiers: Notify on pte permission upgrades") and linux-6.6 kernel
# profiles, one table row per run, with the livelock class (stale entry or
# coherent) and the Linux function that made the upgrade.  Exits 0 when
# every outcome is the expected one.
#
# Options: --json (machine-readable rows), --guest (also run the bug on
# real Debian arm64 guests, 6.1 and 6.12, with the guest SVA driver).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${MMN_BUILD:-$repo/build}
bld="$out/qemu-build"
json=
guest=0
for a in "$@"; do
    case "$a" in
    --json) json=--json ;;
    --guest) guest=1 ;;
    *)
        echo "repro.sh: unknown argument '$a'. Usage: $0 [--json] [--guest]" \
             "(--json: rows as JSON; --guest: also run the bug on real" \
             "Debian 6.1/6.12 guests)." >&2
        exit 2 ;;
    esac
done

"$repo/scripts/mmn-smmu/build.sh" qemu-system-aarch64 \
    tests/qtest/mmn-smmu-repro >&2
rc=0
QTEST_QEMU_BINARY="$bld/qemu-system-aarch64" \
    "$bld/tests/qtest/mmn-smmu-repro" $json || rc=$?
if [ "$guest" = 1 ]; then
    "$repo/scripts/mmn-smmu/guest-repro.sh" --scenario pte-upgrade || rc=1
fi
exit $rc
