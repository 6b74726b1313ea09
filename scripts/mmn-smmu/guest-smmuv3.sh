#!/usr/bin/env bash
# The stale read-only PTE bug with Linux's own arm-smmu-v3 SVA driver:
# Linux 6.1 and 6.12 guests under qemu-system-aarch64 -M virt,iommu=mmn-smmuv3
# (TCG, -cpu cortex-a57: no hardware AF or DBM), with the mmn-sva-master DMA
# master behind the SMMU and tests/guest/smmuv3 (mmn_sva_master.ko, which
# binds a process with iommu_sva_bind_device, and mmn-sva-repro).
#
# Debian's arm64 images are built without CONFIG_ARM_SMMU_V3_SVA, so per
# kernel this runs two boots:
#   stock  Debian's image and headers: arm-smmu-v3 probes, the module loads
#          and its BIND fails cleanly (the kernel has no SVA);
#   sva    the same Debian source with CONFIG_ARM_SMMU_V3_SVA=y
#          (scripts/mmn-smmu/build-sva-kernel.sh): arm-smmu-v3 must probe
#          with SVA and stalls, then three scenarios.
# Expected for the scenarios: 6.1 LIVELOCK with a stale read-only entry
# (arm_smmu_mm_invalidate_range is not called from flush_tlb_page), 6.12
# DONE after one fault (flush_tlb_page ->
# arm_smmu_mm_arch_invalidate_secondary_tlbs -> CMD_TLBI_NH_VA).  Exits
# non-zero otherwise.
#
# Usage: guest-smmuv3.sh [--tap] [--kernel 6.1|6.12]... [--qemu PATH]
#                        [--timeout SECONDS] [--iommu NAME] [--cpu MODEL]
#                        [--trace PATTERN] [--no-stock]
#   --tap        TAP output (one test per kernel and check), for test.sh
#   --kernel K   only this kernel (repeatable; default: 6.1 6.12)
#   --qemu PATH  use this qemu-system-aarch64 (default: build ours)
#   --timeout S  per boot (default 240)
#   --iommu NAME -M virt,iommu=NAME (default mmn-smmuv3; QEMU's own
#                "smmuv3" only probes: it has no stalls and no SSIDs)
#   --cpu MODEL  -cpu MODEL (default cortex-a57)
#   --trace P    add -trace P -d guest_errors (e.g. 'mmn_smmuv3_*')
#   --no-stock   skip the boots of Debian's unmodified images
# Environment: MMN_BUILD (objects, initramfs, console logs go to
# $MMN_BUILD/guest/smmuv3), MMN_CACHE (downloads, kernels), MMN_QEMU.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${MMN_BUILD:-$repo/build}/guest/smmuv3
src="$repo/tests/guest/smmuv3"
scenarios="writable-clean writable-clean-first-write wp-page-reuse"

tap=0
qemu=${MMN_QEMU:-}
kernels=
tmo=240
iommu=mmn-smmuv3
cpu=
trace=
stock=1

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
    --iommu) [ $# -ge 2 ] || usage; iommu=$2; shift ;;
    --cpu) [ $# -ge 2 ] || usage; cpu=$2; shift ;;
    --trace) [ $# -ge 2 ] || usage; trace=$2; shift ;;
    --no-stock) stock=0 ;;
    -h|--help) usage ;;
    *) echo "guest-smmuv3.sh: unknown argument '$1'" >&2; usage ;;
    esac
    shift
done
[ -n "${kernels// /}" ] || kernels="6.1 6.12"
read -r -a kernels <<< "$kernels"
read -r -a scenarios <<< "$scenarios"
for k in "${kernels[@]}"; do
    case "$k" in
    6.1|6.12) ;;
    *) echo "guest-smmuv3.sh: unknown kernel '$k': the SVA guest kernels are" \
            "built from Debian's 6.1 and 6.12 sources (give --kernel 6.1 or" \
            "--kernel 6.12)" >&2
       exit 2 ;;
    esac
done
case "$tmo" in
''|*[!0-9]*) echo "guest-smmuv3.sh: --timeout wants whole seconds, not '$tmo'" >&2; exit 2 ;;
esac

now() { date +%s%N; }
since() { awk -v d=$(($(now) - $1)) 'BEGIN { printf "%.1f", d / 1e9 }'; }
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
[ -x "$qemu" ] || { echo "guest-smmuv3.sh: no QEMU at $qemu" >&2; exit 1; }
t_qemu=$(since "$t")

# 2. Debian's kernels, headers and busybox; the SVA kernels.
t=$(now)
envfile=$("$repo/scripts/mmn-smmu/fetch-guest.sh")
# shellcheck disable=SC1090
. "$envfile"
# shellcheck source=scripts/mmn-smmu/guest-lib.sh
. "$repo/scripts/mmn-smmu/guest-lib.sh"
declare -A SVA_IMAGE SVA_KDIR SVA_KREL
for k in "${kernels[@]}"; do
    e=$("$repo/scripts/mmn-smmu/build-sva-kernel.sh" "$k")
    # shellcheck disable=SC1090
    . "$e"
    SVA_IMAGE[$k]=$MMN_SVA_IMAGE
    SVA_KDIR[$k]=$MMN_SVA_KDIR
    SVA_KREL[$k]=$MMN_SVA_KREL
done
t_fetch=$(since "$t")

# 3. Cross-build: the program once, the module per kernel tree.
t=$(now)
mkdir -p "$out"
aarch64-linux-gnu-gcc -static -O2 -Wall -Wextra -Werror -s \
    -I"$repo/tests/guest/lib" -I"$repo/tests/guest/mmn-smmu-drv" -I"$src" \
    -o "$out/mmn-sva-repro" "$src/mmn-sva-repro.c" "$repo"/tests/guest/lib/mmn-scenario-*.c

# build_module NAME KDIR: mmn_sva_master.ko for one kernel tree into
# $out/build-NAME (a copy of the sources: the checkout stays clean).
build_module() {
    local b="$out/build-$1"
    rm -rf "$b"
    mkdir -p "$b"
    cp "$src"/Kbuild "$src"/mmn_sva_master.c "$src"/mmn_sva_uapi.h "$b/"
    if ! make -s -C "$2" M="$b" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
         modules > "$b/build.log" 2>&1; then
        cat "$b/build.log" >&2
        echo "guest-smmuv3.sh: building mmn_sva_master.ko against $2 failed" >&2
        exit 1
    fi
    aarch64-linux-gnu-strip --strip-debug "$b/mmn_sva_master.ko"
}

boots=()
for k in "${kernels[@]}"; do
    mmn_guest_image_of "$k"
    build_module "sva-$k" "${SVA_KDIR[$k]}"
    mmn_guest_initramfs "$out/initrd-sva-$k.gz" "$src/init" \
        "$out/build-sva-$k/mmn_sva_master.ko" mmn_sva_master.ko \
        "$out/mmn-sva-repro" mmn-sva-repro
    if [ "$stock" = 1 ]; then
        build_module "stock-$k" "$KDIR"
        mmn_guest_initramfs "$out/initrd-stock-$k.gz" "$src/init" \
            "$out/build-stock-$k/mmn_sva_master.ko" mmn_sva_master.ko \
            "$out/mmn-sva-repro" mmn-sva-repro
    fi
done
t_build=$(since "$t")

qemu_args=(-M "iommu=$iommu")
[ -z "$cpu" ] || qemu_args+=(-cpu "$cpu")
[ -z "$trace" ] || qemu_args+=(-trace "$trace" -d guest_errors)

# boot NAME K IMAGE MODE: one boot; sets console, bootfail, lastlog
# (mmn_guest_boot sets rc and secs).
# shellcheck disable=SC2154
boot() {
    local name=$1 k=$2 image=$3 mode=$4 log="$out/linux-$1.console.log" result
    note "booting $name ($image) with -M virt,iommu=$iommu, mmn.mode=$mode"
    mmn_guest_boot "$qemu" "$image" "$out/initrd-$name.gz" "$log" "$tmo" \
        "${qemu_args[@]}" -append "console=ttyAMA0 panic=-1 mmn.mode=$mode"
    boots+=("$name ${secs}s")
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
    lastlog=$log
}

# field LINE NAME: the value of NAME=... in a row.
field() {
    echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

expect() {
    case "$1" in
    6.1) echo LIVELOCK ;;       # invalidate_range: not called by flush_tlb_page
    *) echo DONE ;;             # 6.6+: flush_tlb_page notifies
    esac
}

# judge K LINE: sets verdict ("" when as expected) for one scenario row.
judge() {
    local k=$1 line=$2 want state faults stale data read tlbi
    want=$(expect "$k")
    state=$(field "$line" state)
    faults=$(field "$line" faults)
    stale=$(field "$line" stale_readonly)
    data=$(field "$line" data)
    read=$(field "$line" read)
    tlbi=$(field "$line" notifications)
    verdict=
    if [ "$(field "$line" driver)" != arm-smmu-v3 ]; then
        verdict="row without driver=arm-smmu-v3"
    elif [ "$read" != ok ] && [ "$read" != n/a ]; then
        verdict="the device's READ gave $read"
    elif [ "$state" != "$want" ]; then
        verdict="device $state, expected $want"
    elif [ "$want" = LIVELOCK ] && [ "${stale:-0}" -lt 1 ]; then
        verdict="LIVELOCK but the checker found no stale read-only entry"
    elif [ "$want" = LIVELOCK ] && [ "$data" != unchanged ]; then
        verdict="LIVELOCK but the CPU sees the page $data"
    elif [ "$want" = LIVELOCK ] && [ "${tlbi:-0}" != 0 ]; then
        verdict="LIVELOCK although the SMMU executed $tlbi TLBIs for the ASID"
    elif [ "$want" = DONE ] && [ "$faults" != 1 ]; then
        verdict="DONE after $faults faults, expected exactly 1"
    elif [ "$want" = DONE ] && [ "${tlbi:-0}" -lt 1 ]; then
        verdict="DONE without a TLBI for the ASID"
    elif [ "$want" = DONE ] && [ "$data" != ok ]; then
        verdict="DONE but the CPU sees data=$data"
    fi
}

ntests=$(( ${#kernels[@]} * (${#scenarios[@]} + 1 + stock) ))
[ "$tap" = 1 ] && echo "1..$ntests"
n=0
failed=0
rows=()

# report WHAT VERDICT SUMMARY: one TAP test (or a FAIL line).
report() {
    n=$((n + 1))
    if [ -z "$2" ]; then
        [ "$tap" = 1 ] && echo "ok $n - $1: $3"
        return 0
    fi
    failed=$((failed + 1))
    if [ "$tap" = 1 ]; then echo "not ok $n - $1: $2"; else echo "FAIL $1: $2" >&2; fi
    if [ "${shown:-}" != "$lastlog" ]; then
        shown=$lastlog
        note "qemu: $qemu ${qemu_args[*]}; last 40 lines of $lastlog:"
        echo "$console" | tail -n 40 | sed 's/^/#   /' |
            if [ "$tap" = 1 ]; then cat; else cat >&2; fi
    fi
}

for k in "${kernels[@]}"; do
    mmn_guest_image_of "$k"     # sets IMAGE, KREL, KDIR
    # shellcheck disable=SC2153
    if [ "$stock" = 1 ]; then
        boot "stock-$k" "$k" "$IMAGE" no-sva
        line=$(echo "$console" | grep -a -o 'MMN-GUEST-SVA: .*' | tail -n 1 || true)
        v=$bootfail
        [ -n "$v" ] || [ -n "$line" ] || v="no MMN-GUEST-SVA line"
        report "linux-$k ($KREL, Debian's image) has no SMMUv3 SVA: the module loads, BIND fails" \
            "$v" "${line#MMN-GUEST-SVA: }"
    fi

    boot "sva-$k" "$k" "${SVA_IMAGE[$k]}" repro
    feat=$(echo "$console" | grep -a -o 'arm-smmu-v3 features .*' | tail -n 1 || true)
    v=
    case "$feat" in
    *"SVA 1 STALLS 1"*) ;;
    "") v="no arm-smmu-v3 features line${bootfail:+; $bootfail}" ;;
    *) v="arm-smmu-v3 probed without SVA or stalls: $feat" ;;
    esac
    report "linux-$k (${SVA_KREL[$k]}) arm-smmu-v3 probes the SMMU with SVA and stalls" \
        "$v" "${feat#arm-smmu-v3 }"
    for s in "${scenarios[@]}"; do
        line=$(echo "$console" | grep -a -o "MMN-GUEST-REPRO: .* scenario=$s .*" | tail -n 1 || true)
        what="linux-$k (${SVA_KREL[$k]}) $s"
        if [ -z "$line" ]; then
            verdict="no result line${bootfail:+; $bootfail}"
        else
            judge "$k" "$line"
            [ -n "$verdict" ] || [ -z "$bootfail" ] || verdict=$bootfail
            rows+=("$(printf '%-6s %-27s %-9s %6s %7s %5s %6s  %-5s %s' "$k" "$s" \
                "$(field "$line" state)" "$(field "$line" faults)" \
                "$(field "$line" retries)" "$(field "$line" notifications)" \
                "$(field "$line" stale_readonly)" "$(field "$line" read)" \
                "$(field "$line" data)")")
        fi
        summary="${line:+$(field "$line" state) after $(field "$line" faults) faults, $(field "$line" retries) retries, $(field "$line" notifications) TLBIs, stale_readonly $(field "$line" stale_readonly)} (expected $(expect "$k"))"
        report "$what" "$verdict" "$summary"
    done
done

if [ "$tap" = 0 ] && [ ${#rows[@]} -gt 0 ]; then
    printf '%-6s %-27s %-9s %6s %7s %5s %6s  %-5s %s\n' kernel scenario outcome \
        faults retries tlbis stale_ro read data
    printf '%s\n' "${rows[@]}"
fi
note "time: total $(since "$t_all") s (qemu build $t_qemu s, kernels $t_fetch s," \
     "cross-build + initramfs $t_build s, boots ${boots[*]}); logs in $out"
if [ "$tap" = 1 ]; then
    echo "# guest-smmuv3: $((n - failed)) passed, $failed failed"
elif [ "$failed" = 0 ]; then
    echo "every outcome as expected: 6.1 livelocks on a stale read-only entry, 6.12 heals after one fault"
fi
[ "$failed" = 0 ]
