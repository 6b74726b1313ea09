#!/usr/bin/env bash
# Guest smoke test: boot Debian arm64 kernels under qemu-system-aarch64
# (TCG) with -device mmn-smmu, and let the guest's /init (tests/guest/init)
# check that Linux enumerated the device with our IDs and a 4 KiB memory
# BAR0 and that register 0x0 reads 0x4D4D4E53.  Reports TAP, one test per
# kernel and CPU, with the tail of the console log on failure; exits
# non-zero on any failure.  No module is built: only the kernel images are
# fetched (scripts/mmn-smmu/lib/kernels.sh).
#
# Usage: guest-test.sh [--show] [--kernel SPEC]... [--kernels FROM..TO]...
#                      [--cpu cortex-a57|neoverse-n1|max]... [--qemu PATH]
#                      [--device 'ARGS'] [--timeout SECONDS]
#   --show       boot one guest (the first kernel and CPU; default kernel
#                6.1) and print what it sees (lspci-like lines from /init)
#                instead of TAP (guest-show.sh is guest-test.sh --show)
#   --kernel S   a kernel spec, as for guest-repro.sh (repeatable; default:
#                6.1 6.12, the newest build of each series)
#   --kernels R  every Debian build of one series in FROM..TO
#   --cpu CPU    guest CPU model (repeatable; default cortex-a57)
#   --qemu PATH  use this qemu-system-aarch64 (default: build ours)
#   --device A   QEMU arguments for the device under test, split on blanks
#                (default '-device mmn-smmu'; '' boots without it, and the
#                test must then fail)
#   --timeout S  seconds per boot (default 180); on a failure the last 40
#                console lines are shown
# Environment: MMN_QEMU, MMN_GUEST_DEVICE, MMN_GUEST_KERNELS (specs split
# on blanks), MMN_GUEST_TIMEOUT (default 180) stand for the options;
# MMN_BUILD (console logs and initramfs go to $MMN_BUILD/guest), MMN_CACHE
# (downloads).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${MMN_BUILD:-$repo/build}/guest
# shellcheck source=scripts/mmn-smmu/guest-lib.sh
. "$repo/scripts/mmn-smmu/guest-lib.sh"
# shellcheck source=scripts/mmn-smmu/lib/kernels.sh
. "$repo/scripts/mmn-smmu/lib/kernels.sh"

show=0
qemu=${MMN_QEMU:-}
device=${MMN_GUEST_DEVICE--device mmn-smmu}
read -r -a specs <<< "${MMN_GUEST_KERNELS:-}"
cpus=()
tmo=${MMN_GUEST_TIMEOUT:-180}

# usage [STATUS]: the Usage block of the header comment (with its
# Environment lines); on stdout for --help (status 0), else on stderr.
usage() {
    local st=${1:-2}
    awk '/^# Usage:/ { on = 1 } on && !/^#/ { exit } on { sub(/^# ?/, ""); print }' "$0" |
        if [ "$st" = 0 ]; then cat; else cat >&2; fi
    exit "$st"
}
need() { [ "$1" -ge 2 ] || usage; }

while [ $# -gt 0 ]; do
    case "$1" in
    --show) show=1 ;;
    --kernel|--kernels) need $#; specs+=("$2"); shift ;;
    --cpu) need $#; mmn_guest_cpu_check "$2" || exit 2; cpus+=("$2"); shift ;;
    --qemu) need $#; qemu=$2; shift ;;
    --device) need $#; device=$2; shift ;;
    --timeout) need $#; tmo=$2; shift ;;
    -h|--help) usage 0 ;;
    *) echo "guest-test.sh: unknown argument '$1'" >&2; usage ;;
    esac
    shift
done
if [ ${#specs[@]} -eq 0 ]; then
    if [ "$show" = 1 ]; then specs=(6.1); else specs=(6.1 6.12); fi
fi
[ ${#cpus[@]} -gt 0 ] || cpus=(cortex-a57)
read -r -a devargs <<< "$device"

# 1. Kernels (images only), QEMU, busybox.
st=0
mmn_kernels_prepare_all --image-only "${specs[@]}" || st=$?
[ "$st" != 2 ] || exit 2
# Nothing could be prepared: the paragraphs above say why.
[ ${#MMN_KENVS[@]} -gt 0 ] || exit 1
qemu=$(mmn_guest_qemu "$qemu")
MMN_GUEST_BUSYBOX=$(mmn_kernels_busybox)
for env in "${MMN_KENVS[@]}"; do
    mmn_kernels_load "$env"
    for cpu in "${cpus[@]}"; do
        mmn_guest_cpu_fits "$K_CONFIG" "$cpu" "$K_NAME" || exit 2
    done
done

# 2. initramfs: busybox, its applet links, our /init (cpio newc + gzip).
mkdir -p "$out"
initrd="$out/initrd.gz"
mmn_guest_initramfs "$initrd" "$repo/tests/guest/init"

# boot CPU LOG: boot the loaded kernel; sets rc (QEMU's exit status, 124
# on timeout), secs (wall time) and result (the guest's marker line or "").
boot() {
    MMN_GUEST_CPU=$1 mmn_guest_boot "$qemu" "$K_IMAGE" "$initrd" "$2" "$tmo" "${devargs[@]}"
    result=$(tr -d '\r' < "$2" | grep -a -o 'MMN-GUEST-RESULT: .*' | tail -n 1 || true)
}

if [ "$show" = 1 ]; then
    [ ${#MMN_KENVS[@]} -gt 0 ] || exit 1
    mmn_kernels_load "${MMN_KENVS[0]}"
    cpu=${cpus[0]}
    log="$out/linux-$K_NAME-$cpu.console.log"
    echo "# qemu-system-aarch64 -M virt -cpu $cpu -m 1G ... -kernel vmlinuz-$K_KREL ${devargs[*]}"
    boot "$cpu" "$log"
    tr -d '\r' < "$log" | sed -n 's/^mmn-guest: //p'
    echo "${result:-MMN-GUEST-RESULT: none (QEMU exit $rc)}"
    echo "# linux $K_KREL ($K_VERSION) on $cpu booted and powered off in $secs s (QEMU exit $rc); console log: $log"
    [ "$rc" = 0 ] && [ "${result#MMN-GUEST-RESULT: PASS}" != "$result" ]
    exit
fi

echo "1..$(( (${#MMN_KENVS[@]} + ${#MMN_KFAILED[@]} + ${#MMN_KSKIPPED[@]}) * ${#cpus[@]} ))"
n=0
failed=0
for id in "${MMN_KFAILED[@]}" "${MMN_KSKIPPED[@]}"; do
    for cpu in "${cpus[@]}"; do
        n=$((n + 1))
        if [[ " ${MMN_KSKIPPED[*]} " == *" $id "* ]]; then
            echo "ok $n - guest ${id#tree:} on $cpu # SKIP the kernel could not be fetched (above)"
        else
            failed=$((failed + 1))
            echo "not ok $n - guest ${id#tree:} on $cpu: the kernel could not be fetched (above)"
        fi
    done
done
for env in "${MMN_KENVS[@]}"; do
    mmn_kernels_load "$env"
    for cpu in "${cpus[@]}"; do
        n=$((n + 1))
        log="$out/linux-$K_NAME-$cpu.console.log"
        boot "$cpu" "$log"
        what="guest linux $K_KREL ($K_VERSION) on $cpu"
        if [ "$rc" = 0 ] && [ "${result#MMN-GUEST-RESULT: PASS }" != "$result" ]; then
            echo "ok $n - $what: mmn-smmu enumerated: ${result#MMN-GUEST-RESULT: PASS } (${secs} s)"
            continue
        fi
        failed=$((failed + 1))
        if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
            why="timed out after $tmo s"
        elif [ -n "$result" ] && [ "${result#MMN-GUEST-RESULT: FAIL}" != "$result" ]; then
            why="guest says: ${result#MMN-GUEST-RESULT: FAIL }"
        elif [ -z "$result" ]; then
            why="no MMN-GUEST-RESULT line (QEMU exit $rc)"
        else
            why="QEMU exit $rc after '$result'"
        fi
        echo "not ok $n - $what: $why (${secs} s)"
        echo "# qemu: $qemu ${devargs[*]:-(no device arguments)}"
        echo "# last 40 lines of $log:"
        tr -d '\r' < "$log" | tail -n 40 | sed 's/^/#   /'
    done
done
echo "# guest: $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
