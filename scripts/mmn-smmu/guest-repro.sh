#!/usr/bin/env bash
# The stale read-only PTE bug on real Debian arm64 guests: Linux 6.1 and
# 6.12 under qemu-system-aarch64 (TCG, -cpu cortex-a57: no hardware AF or
# DBM) with -device mmn-smmu, driven by a real SVA-style guest driver.
#
# Cross-builds tests/guest/mmn-smmu-drv (mmn_smmu_drv.ko against each
# kernel's Debian linux-headers, and the static mmn-repro program), packs
# an initramfs per kernel (tests/guest/repro-init as /init), boots it, and
# prints one row per kernel and scenario: the device's outcome for the
# write, fault events, DMA_RESUME retries, MN_SECONDARY_TLBS notifications
# the kernel sent meanwhile, and the coherence checker's stale read-only
# entries.  Expected: 6.1 (invalidate_range, not called by flush_tlb_page)
# LIVELOCK with a stale read-only entry; 6.12 (arch_invalidate_secondary_tlbs
# from flush_tlb_page) DONE after one fault.  Exits non-zero otherwise.
#
# Usage: guest-repro.sh [--tap] [--kernel 6.1|6.12]... [--qemu PATH]
#                       [--timeout SECONDS]
#   --tap        TAP output (one test per kernel and scenario), for test.sh
#   --kernel K   only this kernel (repeatable; default: 6.1 6.12)
#   --qemu PATH  use this qemu-system-aarch64 (default: build ours)
#   --timeout S  per boot (default 240)
# Environment: MMN_BUILD (objects, initramfs, console logs go to
# $MMN_BUILD/guest/repro), MMN_CACHE (downloads), MMN_QEMU.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${MMN_BUILD:-$repo/build}/guest/repro
drv="$repo/tests/guest/mmn-smmu-drv"
scenarios="writable-clean writable-clean-first-write wp-page-reuse"

tap=0
qemu=${MMN_QEMU:-}
kernels=
tmo=240

usage() {
    sed -n '/^# Usage:/,/^# Environment/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --tap) tap=1 ;;
    --kernel) [ $# -ge 2 ] || usage; kernels="$kernels $2"; shift ;;
    --qemu) [ $# -ge 2 ] || usage; qemu=$2; shift ;;
    --timeout) [ $# -ge 2 ] || usage; tmo=$2; shift ;;
    -h|--help) usage ;;
    *) echo "guest-repro.sh: unknown argument '$1'" >&2; usage ;;
    esac
    shift
done
[ -n "${kernels// /}" ] || kernels="6.1 6.12"
read -r -a kernels <<< "$kernels"
read -r -a scenarios <<< "$scenarios"

now() { date +%s%N; }
since() { awk -v d=$(($(now) - $1)) 'BEGIN { printf "%.1f", d / 1e9 }'; }
# Progress and timings: stderr, or TAP comments.
note() {
    if [ "$tap" = 1 ]; then echo "# $*"; else echo "$*" >&2; fi
}
t_all=$(now)

# 1. QEMU.
t=$(now)
if [ -z "$qemu" ]; then
    "$repo/scripts/mmn-smmu/build.sh" qemu-system-aarch64 >&2
    qemu=${MMN_BUILD:-$repo/build}/qemu-build/qemu-system-aarch64
fi
[ -x "$qemu" ] || { echo "guest-repro.sh: no QEMU at $qemu" >&2; exit 1; }
t_qemu=$(since "$t")

# 2. Kernels, their headers, busybox.
t=$(now)
envfile=$("$repo/scripts/mmn-smmu/fetch-guest.sh")
# shellcheck disable=SC1090
. "$envfile"
# shellcheck source=scripts/mmn-smmu/guest-lib.sh
. "$repo/scripts/mmn-smmu/guest-lib.sh"
t_fetch=$(since "$t")

# 3. Cross-build: the program once, the module per kernel (in a copy of
#    the sources, so that the checkout stays clean).
t=$(now)
mkdir -p "$out"
aarch64-linux-gnu-gcc -static -O2 -Wall -Wextra -s -o "$out/mmn-repro" \
    "$drv/mmn-repro.c"
for k in "${kernels[@]}"; do
    mmn_guest_image_of "$k"
    b="$out/build-$KREL"
    rm -rf "$b"
    mkdir -p "$b"
    cp "$drv"/Kbuild "$drv"/Makefile "$drv"/*.[ch] "$b/"
    if ! make -s -C "$KDIR" M="$b" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
         modules > "$b/build.log" 2>&1; then
        cat "$b/build.log" >&2
        echo "guest-repro.sh: building mmn_smmu_drv.ko for $KREL failed" >&2
        exit 1
    fi
    aarch64-linux-gnu-strip --strip-debug "$b/mmn_smmu_drv.ko"
    mmn_guest_initramfs "$out/initrd-$KREL.gz" "$repo/tests/guest/repro-init" \
        "$b/mmn_smmu_drv.ko" mmn_smmu_drv.ko "$out/mmn-repro" mmn-repro
done
t_build=$(since "$t")

# expect K SCENARIO: the expected outcome of the device's write.
expect() {
    case "$1" in
    6.1) echo LIVELOCK ;;       # invalidate_range era: no notification
    *) echo DONE ;;             # >= 6.6: flush_tlb_page notifies
    esac
}

# field LINE NAME: the value of NAME=... in an MMN-GUEST-REPRO line.
field() {
    echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# judge K LINE: sets verdict ("" when as expected) for one row.
judge() {
    local k=$1 line=$2 want state faults stale data read
    want=$(expect "$k")
    state=$(field "$line" state)
    faults=$(field "$line" faults)
    stale=$(field "$line" stale_readonly)
    data=$(field "$line" data)
    read=$(field "$line" read)
    verdict=
    if [ "$read" != ok ] && [ "$read" != n/a ]; then
        verdict="the device's READ gave $read"
    elif [ "$state" != "$want" ]; then
        verdict="device $state, expected $want"
    elif [ "$want" = LIVELOCK ] && [ "${stale:-0}" -lt 1 ]; then
        verdict="LIVELOCK but the checker found no stale read-only entry"
    elif [ "$want" = LIVELOCK ] && [ "$data" != unchanged ]; then
        verdict="LIVELOCK but the CPU sees the page $data"
    elif [ "$want" = DONE ] && [ "$faults" != 1 ]; then
        verdict="DONE after $faults faults, expected exactly 1"
    elif [ "$want" = DONE ] && [ "$data" != ok ]; then
        verdict="DONE but the CPU sees data=$data"
    fi
}

# 4. Boot each kernel.
[ "$tap" = 1 ] && echo "1..$(( ${#kernels[@]} * ${#scenarios[@]} ))"
n=0
failed=0
rows=()
boots=()
for k in "${kernels[@]}"; do
    mmn_guest_image_of "$k"
    log="$out/linux-$k.console.log"
    note "booting linux $KREL with -device mmn-smmu"
    mmn_guest_boot "$qemu" "$IMAGE" "$out/initrd-$KREL.gz" "$log" "$tmo" \
        -device mmn-smmu
    boots+=("$k ${secs}s")
    console=$(tr -d '\r' < "$log")
    result=$(echo "$console" | grep -a -o 'MMN-GUEST-RESULT: .*' | tail -n 1 || true)
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        bootfail="timed out after $tmo s"
    elif [ -z "$result" ]; then
        bootfail="no MMN-GUEST-RESULT line (QEMU exit $rc)"
    elif [ "${result#MMN-GUEST-RESULT: PASS}" = "$result" ]; then
        bootfail="guest says: ${result#MMN-GUEST-RESULT: }"
    elif [ "$rc" != 0 ]; then
        bootfail="QEMU exit $rc"
    else
        bootfail=
    fi
    for s in "${scenarios[@]}"; do
        n=$((n + 1))
        line=$(echo "$console" | grep -a -o "MMN-GUEST-REPRO: .* scenario=$s .*" | tail -n 1 || true)
        what="linux-$k ($KREL) $s"
        if [ -z "$line" ]; then
            verdict="no result line${bootfail:+; $bootfail}"
        else
            judge "$k" "$line"
            [ -n "$verdict" ] || [ -z "$bootfail" ] || verdict=$bootfail
            rows+=("$(printf '%-6s %-27s %-9s %6s %7s %13s %6s  %-5s %s' "$k" "$s" \
                "$(field "$line" state)" "$(field "$line" faults)" \
                "$(field "$line" retries)" "$(field "$line" notifications)" \
                "$(field "$line" stale_readonly)" "$(field "$line" read)" \
                "$(field "$line" data)")")
        fi
        summary="${line:+$(field "$line" state) after $(field "$line" faults) faults, $(field "$line" notifications) notifications, stale_readonly $(field "$line" stale_readonly)}"
        if [ -z "$verdict" ]; then
            [ "$tap" = 1 ] && echo "ok $n - $what: $summary (expected $(expect "$k"))"
            continue
        fi
        failed=$((failed + 1))
        if [ "$tap" = 1 ]; then
            echo "not ok $n - $what: $verdict"
        else
            echo "FAIL $what: $verdict" >&2
        fi
        if [ "$s" = "${scenarios[0]}" ] || [ -z "$line" ]; then
            note "qemu: $qemu -device mmn-smmu; last 40 lines of $log:"
            echo "$console" | tail -n 40 | sed 's/^/#   /' |
                if [ "$tap" = 1 ]; then cat; else cat >&2; fi
        fi
    done
done

if [ "$tap" = 0 ]; then
    printf '%-6s %-27s %-9s %6s %7s %13s %6s  %-5s %s\n' kernel scenario outcome \
        faults retries notifications stale_ro read data
    printf '%s\n' "${rows[@]}"
fi
note "time: total $(since "$t_all") s (qemu build $t_qemu s, fetch $t_fetch s," \
     "cross-build + initramfs $t_build s, boots ${boots[*]}); logs in $out"
if [ "$tap" = 1 ]; then
    echo "# guest-repro: $((n - failed)) passed, $failed failed"
elif [ "$failed" = 0 ]; then
    echo "every outcome as expected: 6.1 livelocks on a stale read-only entry, 6.12 heals after one fault"
fi
[ "$failed" = 0 ]
