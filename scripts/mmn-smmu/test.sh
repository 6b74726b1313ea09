#!/usr/bin/env bash
# The whole mmn-smmu test suite: build, unit tests, qtests, guest smoke
# tests.  Every tier speaks TAP.  The unit tests and qtests are meson tests
# of suite mmn-smmu (tests/unit/mmn-smmu/meson.build; the
# tests/qtest/meson.build hunks of qemu-hooks.patch), run by
# "meson test --suite mmn-smmu" and counted from meson's logs, one result
# per TAP subtest (lib/meson-results.py); this script runs and counts the
# other tiers itself.  It ends with the line "N passed, N failed" (exit
# status 1 on any failure).
#
# A skipped test is reported as skipped, never counted as passed.  A binary
# that crashes, or that prints fewer results than it planned, counts as a
# failure.
#
# Options: --no-guest (skip the guest tier, e.g. for quick local runs);
# --sanitize (the tiers but the guests, on the clang ASan+UBSan build of
# lib/sanitize.sh in build/fuzz; any sanitizer report fails the run).
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${MMN_BUILD:-$repo/build}
bld="$out/qemu-build"
logdir="$out/test-logs"
guest=1
sanitize=0
for a in "$@"; do
    case "$a" in
    --no-guest) guest=0 ;;
    --sanitize) sanitize=1; guest=0 ;;
    *) echo "usage: $0 [--no-guest] [--sanitize]" >&2; exit 2 ;;
    esac
done
if [ "$sanitize" = 1 ]; then
    # shellcheck source=scripts/mmn-smmu/lib/sanitize.sh
    . "$repo/scripts/mmn-smmu/lib/sanitize.sh"
    "$repo/scripts/mmn-smmu/install-deps.sh" --clang || exit 1
    export MMN_BUILD="$mmn_san_build" MMN_CONFIGURE="$mmn_san_configure"
    out=$MMN_BUILD bld="$MMN_BUILD/qemu-build" logdir="$MMN_BUILD/test-logs"
fi

passed=0
failed=0
skipped=0
failures=()

# tap_exec NAME TIMEOUT CMD...: run a TAP producer into $logdir/NAME.log,
# its exit status into NAME.rc (also in a background job).
tap_exec() {
    local name=$1 secs=$2
    shift 2
    timeout -k 10 "$secs" "$@" > "$logdir/$name.log" 2>&1
    echo $? > "$logdir/$name.rc"
}

# tap_count NAME: print and count the results of a tap_exec run.
tap_count() {
    local name=$1 log rc plan ok nok skip
    log="$logdir/$name.log"
    echo "== $name"
    rc=$(cat "$logdir/$name.rc" 2>/dev/null) || rc=1
    [ -n "$rc" ] || rc=1
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

# run_tap NAME TIMEOUT CMD...: run a TAP producer, count its results.
run_tap() {
    tap_exec "$@"
    tap_count "$1"
}

rm -rf "$logdir"
mkdir -p "$logdir"
# Sanitizer reports go to files, also from a QEMU a test expected to fail.
[ "$sanitize" = 0 ] || mmn_san_options 0 "$logdir/sanitizer"

# The SVA guest kernel of the mmn-smmuv3 tier (Debian's linux-source-6.1
# built with CONFIG_ARM_SMMU_V3_SVA=y: ~740 compilations, ~7 min of the
# 2 cores) is, after the QEMU build, the longest job of a first run.  It
# starts first, niced, in its own process group, beside the QEMU build
# and then the tiers, so that it is off the critical path.  It needs the
# cross compiler (install-deps.sh) and fetches the guest images itself.
sva_pid=
if [ "$guest" = 1 ] && "$repo/scripts/mmn-smmu/install-deps.sh"; then
    setsid nice -n 10 "$repo/scripts/mmn-smmu/build-sva-kernel.sh" 6.1 \
        > "$logdir/sva-kernel-6.1.log" 2>&1 &
    sva_pid=$!
fi

echo "mmn-smmu: building (first run: ~10 min; later runs: seconds)"
if ! "$repo/scripts/mmn-smmu/build.sh"; then
    echo "mmn-smmu: build failed"
    [ -z "$sva_pid" ] || kill -- -"$sva_pid" 2>/dev/null
    echo "0 passed, 1 failed"
    exit 1
fi

# run_meson: the meson tests of suite mmn-smmu, one at a time (the other
# core is for the guest tiers and the SVA kernel build), each with the
# timeout it is registered with; count their TAP results from meson's
# logs.
run_meson() {
    local base="$bld/meson-logs/mmn-smmu" meson="$bld/pyvenv/bin/meson"
    local res line p f s
    echo "== meson test --suite mmn-smmu"
    rm -f "$base".json "$base".junit.xml "$base".txt
    "$meson" test -C "$bld" --suite mmn-smmu --no-rebuild --print-errorlogs \
        --num-processes 1 --logbase mmn-smmu
    cp "$base".txt "$logdir/meson-mmn-smmu.txt" 2>/dev/null
    if ! res=$(/usr/bin/python3 "$repo/scripts/mmn-smmu/lib/meson-results.py" \
               "$base"); then
        echo "   meson test left no usable log ($base.json, .junit.xml)"
        failed=$((failed + 1))
        failures+=("meson-test")
        return
    fi
    while read -r line; do
        case "$line" in
        counts\ *)
            read -r _ p f s <<< "$line"
            passed=$((passed + p))
            failed=$((failed + f))
            skipped=$((skipped + s)) ;;
        failing\ *) failures+=("${line#failing }") ;;
        *) echo "   $line" ;;
        esac
    done <<< "$res"
}

# qos_unregistered: every mmn-smmu suite of qos-test must be a meson test
# of suite mmn-smmu (a new suite needs its line in the tests/qtest/
# meson.build hunk of qemu-hooks.patch); one failure per missing one.
qos_unregistered() {
    local node=/aarch64/virt/generic-pcihost/pci-bus-generic/pci-bus/mmn-smmu
    local listed suites s
    listed=$("$bld/pyvenv/bin/meson" test -C "$bld" --list --suite mmn-smmu \
             2>/dev/null | sed -n 's|.* / ||p')
    suites=$("$bld/tests/qtest/qos-test" -l 2>/dev/null |
             grep "^$node/mmn-smmu-tests/" | sed -E 's|/[^/]+$||' | sort -u)
    if [ -z "$suites" ]; then
        echo "== qos-test lists no mmn-smmu test"
        failed=$((failed + 1))
        failures+=("qtest-missing")
    fi
    for s in $suites; do
        s="qtest-aarch64/mmn-smmu-qos${s#"$node/mmn-smmu-tests"}"
        if ! grep -qxF "$s" <<< "$listed"; then
            echo "== qos-test suite without a meson test: $s"
            failed=$((failed + 1))
            failures+=("$s")
        fi
    done
}

# Tiers 1-2: unit tests of the pure logic; qos-graph qtests of the device
# on aarch64/virt; migration (vmstate); robustness (random guest input
# gets defined errors, fixed seed: MMN_FUZZ_SEED / MMN_FUZZ_ITERS to
# explore); the programming-interface details a driver relies on; random
# mm sequences under every kernel profile against the test's own
# reference (fixed seed: MMN_SEQ_SEED / MMN_SEQ_OPS; bench.sh runs a long
# one), and the same migrated in their middle (MMN_MIGLOAD_SEED /
# MMN_MIGLOAD_OPS); hostile guest input (docs/specs/mmn-smmu-hostile.rst); the
# Arm SMMUv3 front end on virt,iommu=mmn-smmuv3, its bad-input behaviour
# (Arm IHI 0070 error paths) and robustness, and the same stage-1 cases
# against QEMU's own SMMUv3 (virt,iommu=smmuv3).
export QTEST_QEMU_BINARY="$bld/qemu-system-aarch64"

# Tier 4: real Debian arm64 guests, a fixed small matrix: the newest 6.1
# and 6.12 builds, on cortex-a57 (software dirty state) and neoverse-n1
# (hardware AF/DBM); enumeration, then the stale read-only PTE scenarios
# (pte-upgrade) with a real SVA-style driver subscribing a real process
# mm.  The full matrix is a separate command (README, "Guest matrix").
# Then Linux's own arm-smmu-v3 SVA driver and IOPF path on -M
# virt,iommu=mmn-smmuv3: Debian's stock 6.1 image (probe, bind refused: no
# ARM_SMMU_V3_SVA) and the SVA kernel built above (6.1 livelocks on the
# stale read-only entry), once that build has ended.  The 6.12 half needs
# a second SVA kernel build (as long as the first: both do not fit in a
# first run's budget on 2 cores), so it runs only when that kernel is in
# the cache (scripts/mmn-smmu/guest-smmuv3.sh --kernel 6.12 builds it)
# and is reported as skipped otherwise.  A guest boot keeps about one
# core busy (one TCG vCPU), so the first two guest tiers run in the
# background, one after the other, beside the meson tests, which run one
# at a time, and the SVA tiers run after the other tiers, beside the
# second guest tier; all guest results are counted last.
guest_matrix=(--kernel 6.1 --kernel 6.12 --cpu cortex-a57 --cpu neoverse-n1)
guest_pid=
if [ "$guest" = 1 ]; then
    (
        tap_exec guest 900 "$repo/scripts/mmn-smmu/guest-test.sh" "${guest_matrix[@]}"
        tap_exec guest-repro 900 "$repo/scripts/mmn-smmu/guest-repro.sh" --tap \
            "${guest_matrix[@]}" --scenario pte-upgrade
    ) &
    guest_pid=$!
fi

run_meson
qos_unregistered

# The search of guest-repro.sh --bisect, on synthetic version lists.
run_tap unit-bisect 60 bash "$repo/tests/unit/mmn-smmu/test-bisect.sh"

# How guest-repro.sh judges a guest row and fills its model column, on
# synthetic rows.
run_tap unit-judge 60 bash "$repo/tests/unit/mmn-smmu/test-scenario-judge.sh"

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

# The guest tiers: the SVA ones now, once the SVA kernel build has ended,
# while the background ones end.
if [ "$guest" = 1 ]; then
    sva_ok=1
    if [ -n "$sva_pid" ] && ! wait "$sva_pid"; then
        sva_ok=0
    fi
    tap_exec guest-smmuv3 900 "$repo/scripts/mmn-smmu/guest-smmuv3.sh" --tap --kernel 6.1
    if "$repo/scripts/mmn-smmu/build-sva-kernel.sh" --cached 6.12 > /dev/null 2>&1; then
        tap_exec guest-smmuv3-6.12 900 "$repo/scripts/mmn-smmu/guest-smmuv3.sh" \
            --tap --kernel 6.12
    fi
    wait "$guest_pid"
    tap_count guest
    tap_count guest-repro
    [ "$sva_ok" = 1 ] || echo "== sva kernel build failed: $logdir/sva-kernel-6.1.log"
    tap_count guest-smmuv3
    if [ -f "$logdir/guest-smmuv3-6.12.rc" ]; then
        tap_count guest-smmuv3-6.12
    else
        echo "== guest-smmuv3-6.12: skipped (no 6.12 SVA kernel in the cache;" \
             "scripts/mmn-smmu/guest-smmuv3.sh --kernel 6.12 builds it once)"
        skipped=$((skipped + 1))
    fi
else
    echo "== guest: skipped (--no-guest)"
    skipped=$((skipped + 1))
fi

if [ "$sanitize" = 1 ]; then
    # shellcheck disable=SC2016
    run_tap sanitizer-reports 60 bash -c '. "$1"; mmn_san_reports_tap "$2"' _ \
        "$repo/scripts/mmn-smmu/lib/sanitize.sh" "$logdir"
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
    echo "failing: ${failures[*]} (logs in $logdir)"
fi
# The last line is exactly "N passed, N failed" (what CI reads); skipped
# tests, never counted as passed, are on the line before.
if [ "$skipped" -gt 0 ]; then
    echo "$skipped skipped (not counted as passed)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
