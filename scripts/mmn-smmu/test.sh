#!/usr/bin/env bash
# The whole mmn-smmu test suite: build, unit tests, qos-graph qtests, guest
# smoke tests.  Every tier speaks TAP; this script counts the results and
# ends with the line "N passed, N failed" (exit status 1 on any failure).
#
# A skipped test is reported as skipped, never counted as passed.  A binary
# that crashes, or that prints fewer results than it planned, counts as a
# failure.
#
# Options: --no-guest (skip the guest tier, e.g. for quick local runs).
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${MMN_BUILD:-$repo/build}
bld="$out/qemu-build"
logdir="$out/test-logs"
guest=1
for a in "$@"; do
    case "$a" in
    --no-guest) guest=0 ;;
    *) echo "usage: $0 [--no-guest]" >&2; exit 2 ;;
    esac
done

passed=0
failed=0
skipped=0
failures=()

# run_tap NAME TIMEOUT CMD...: run a TAP producer, count its results.
run_tap() {
    local name=$1 secs=$2 log rc plan ok nok skip
    shift 2
    log="$logdir/$name.log"
    echo "== $name"
    timeout -k 10 "$secs" "$@" > "$log" 2>&1
    rc=$?
    ok=$(grep -cE '^ok [0-9]+' "$log" | head -n1)
    skip=$(grep -cE '^ok [0-9]+.*# (SKIP|skip)' "$log" | head -n1)
    nok=$(grep -cE '^not ok [0-9]+' "$log" | head -n1)
    ok=$((ok - skip))
    plan=$(sed -n -E 's/^1\.\.([0-9]+).*/\1/p' "$log" | tail -n1)
    grep -E '^(not )?ok [0-9]+' "$log" | sed 's/^/   /'
    if [ -n "$plan" ] && [ $((ok + nok + skip)) -lt "$plan" ]; then
        echo "   $name: planned $plan results, got $((ok + nok + skip))"
        nok=$((nok + plan - ok - nok - skip))
    fi
    if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
        echo "   $name: exited with status $rc"
        nok=1
    fi
    if [ $((ok + nok + skip)) -eq 0 ]; then
        echo "   $name: ran no test"
        nok=1
    fi
    if [ "$nok" -gt 0 ]; then
        failures+=("$name")
        echo "   --- last lines of $log:"
        tail -n 25 "$log" | sed 's/^/   | /'
    fi
    passed=$((passed + ok))
    failed=$((failed + nok))
    skipped=$((skipped + skip))
}

echo "mmn-smmu: building (first run: ~10 min; later runs: seconds)"
if ! "$repo/scripts/mmn-smmu/build.sh"; then
    echo "mmn-smmu: build failed"
    echo "0 passed, 1 failed"
    exit 1
fi
rm -rf "$logdir"
mkdir -p "$logdir"

# The SVA guest kernel of the mmn-smmuv3 tier (Debian's linux-source-6.1
# built with CONFIG_ARM_SMMU_V3_SVA=y, about 700 compilations) builds in
# the background, niced, while the tiers below keep one core busy.
if [ "$guest" = 1 ]; then
    "$repo/scripts/mmn-smmu/build-sva-kernel.sh" 6.1 > "$logdir/sva-kernel-6.1.log" 2>&1 &
    sva_pid=$!
fi

# Tier 1: unit tests of the pure logic.
for src in "$repo"/tests/unit/mmn-smmu/test-*.c; do
    [ -e "$src" ] || continue
    t=$(basename "$src" .c)
    run_tap "unit-$t" 120 "$bld/tests/unit/mmn-smmu/$t" --tap -k
done
# The search of guest-repro.sh --bisect, on synthetic version lists.
run_tap unit-bisect 60 bash "$repo/tests/unit/mmn-smmu/test-bisect.sh"

# Tier 2: qos-graph qtests of the device on aarch64/virt.
qos="$bld/tests/qtest/qos-test"
export QTEST_QEMU_BINARY="$bld/qemu-system-aarch64"
suites=$("$qos" -l 2>/dev/null | grep -E '/mmn-smmu/' | grep -v '/pci-device-tests/' |
         sed -E 's|/[^/]+$||' | sort -u)
if [ -z "$suites" ]; then
    echo "== qtest: no mmn-smmu qtest found in qos-test"
    failed=$((failed + 1))
    failures+=("qtest-missing")
fi
for s in $suites; do
    run_tap "qtest-$(basename "$s")" 600 "$qos" --tap -k -p "$s"
done

# Migration (vmstate) qtests, one QEMU pair per test.
mig="$bld/tests/qtest/mmn-smmu-migration-test"
for t in $("$mig" -l 2>/dev/null | grep '^/'); do
    run_tap "migration-$(basename "$t")" 300 "$mig" --tap -k -p "$t"
done
if ! "$mig" -l 2>/dev/null | grep '^/' > /dev/null; then
    echo "== migration: no test found"
    failed=$((failed + 1))
    failures+=("migration-missing")
fi

# Robustness: random guest input gets defined errors (fixed seed; set
# MMN_FUZZ_SEED / MMN_FUZZ_ITERS to explore).
run_tap robustness 300 "$bld/tests/qtest/mmn-smmu-robustness-test" --tap -k

# Programming-interface details a driver relies on (one QEMU per test).
run_tap interface 300 "$bld/tests/qtest/mmn-smmu-interface-test" --tap -k

# Random mm sequences under every kernel profile against the test's own
# reference (fixed seed, a few seconds; MMN_SEQ_SEED / MMN_SEQ_OPS to
# explore; bench.sh runs a long one).
run_tap sequence 300 "$bld/tests/qtest/mmn-smmu-sequence-test" --tap -k

# The Arm SMMUv3 front end on virt,iommu=mmn-smmuv3 (one QEMU per test).
v3="$bld/tests/qtest/mmn-smmuv3-test"
for t in $("$v3" -l 2>/dev/null | grep '^/'); do
    run_tap "smmuv3-$(basename "$t")" 120 "$v3" --tap -k -p "$t"
done
if ! "$v3" -l 2>/dev/null | grep '^/' > /dev/null; then
    echo "== smmuv3: no test found"
    failed=$((failed + 1))
    failures+=("smmuv3-missing")
fi
# Its bad-input behaviour (Arm IHI 0070 error paths), one QEMU per test.
v3e="$bld/tests/qtest/mmn-smmuv3-errors-test"
for t in $("$v3e" -l 2>/dev/null | grep '^/'); do
    run_tap "smmuv3-errors-$(basename "$t")" 120 "$v3e" --tap -k -p "$t"
done
if ! "$v3e" -l 2>/dev/null | grep '^/' > /dev/null; then
    echo "== smmuv3-errors: no test found"
    failed=$((failed + 1))
    failures+=("smmuv3-errors-missing")
fi
# Its robustness (fixed seed; MMN_FUZZ_SEED / MMN_FUZZ_ITERS to explore).
run_tap smmuv3-robustness 300 "$bld/tests/qtest/mmn-smmuv3-robustness-test" --tap -k
# Against QEMU's own SMMUv3 (virt,iommu=smmuv3): the same stage-1 cases.
run_tap smmuv3-diff 120 "$bld/tests/qtest/mmn-smmuv3-diff-test" --tap -k

# mmn-smmuv3 with broadcast TLB maintenance: guest CPU TLBIs (bare metal).
run_tap btm 120 "$repo/scripts/mmn-smmu/btm-test.sh"

# The device documentation must be valid reStructuredText.
run_tap docs 60 /usr/bin/python3 "$repo/scripts/mmn-smmu/check-docs.py"

# Tier 3: the reproduction report must reach its expected outcomes.
# shellcheck disable=SC2016
run_tap report 300 bash -c 'echo 1..1; "$1"
    if [ $? -eq 0 ]; then echo "ok 1 - reproduction report: every outcome as expected"
    else echo "not ok 1 - reproduction report: unexpected outcome"; fi' \
    _ "$bld/tests/qtest/mmn-smmu-repro"

# Tier 4: real Debian arm64 guests, a fixed small matrix: the newest 6.1
# and 6.12 builds, on cortex-a57 (software dirty state) and neoverse-n1
# (hardware AF/DBM); enumeration, then the stale read-only PTE scenarios
# (pte-upgrade) with a real SVA-style driver subscribing a real process
# mm.  The full matrix is a separate command (README, "Guest matrix").
guest_matrix=(--kernel 6.1 --kernel 6.12 --cpu cortex-a57 --cpu neoverse-n1)
if [ "$guest" = 1 ]; then
    run_tap guest 900 "$repo/scripts/mmn-smmu/guest-test.sh" "${guest_matrix[@]}"
    run_tap guest-repro 900 "$repo/scripts/mmn-smmu/guest-repro.sh" --tap \
        "${guest_matrix[@]}" --scenario pte-upgrade
    # Linux's own arm-smmu-v3 SVA driver and IOPF path on -M
    # virt,iommu=mmn-smmuv3: Debian's stock 6.1 image (probe, bind refused:
    # no ARM_SMMU_V3_SVA) and the SVA kernel built above (6.1 livelocks on
    # the stale read-only entry).  The 6.12 half takes a second kernel
    # build: scripts/mmn-smmu/guest-smmuv3.sh without --kernel.
    wait "$sva_pid" || echo "== sva kernel build failed: $logdir/sva-kernel-6.1.log"
    run_tap guest-smmuv3 900 "$repo/scripts/mmn-smmu/guest-smmuv3.sh" --tap --kernel 6.1
else
    echo "== guest: skipped (--no-guest)"
    skipped=$((skipped + 1))
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
    echo "failing: ${failures[*]} (logs in $logdir)"
fi
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
