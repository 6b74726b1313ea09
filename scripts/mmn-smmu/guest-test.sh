#!/usr/bin/env bash
# Guest smoke test: boot Debian's arm64 Linux 6.1 and 6.12 under
# qemu-system-aarch64 (TCG) with -device mmn-smmu, and let the guest's /init
# (tests/guest/init) check that Linux enumerated the device with our IDs and
# a 4 KiB memory BAR0 and that register 0x0 reads 0x4D4D4E53.  Reports TAP,
# one test per kernel, with the tail of the console log on failure; exits
# non-zero on any failure.
#
# Usage: guest-test.sh [--show] [--kernel 6.1|6.12]... [--qemu PATH]
#                      [--device 'ARGS'] [--timeout SECONDS]
#   --show       boot one guest (6.1 unless --kernel) and print what it sees
#                (lspci-like lines from /init) instead of TAP
#   --kernel K   only this kernel (repeatable; default: 6.1 6.12)
#   --qemu PATH  use this qemu-system-aarch64 (default: build ours)
#   --device A   QEMU arguments for the device under test, split on blanks
#                (default '-device mmn-smmu'; '' boots without it, and the
#                test must then fail)
# Environment: MMN_QEMU, MMN_GUEST_DEVICE, MMN_GUEST_KERNELS,
# MMN_GUEST_TIMEOUT (default 180) stand for the options; MMN_BUILD (console
# logs and initramfs go to $MMN_BUILD/guest), MMN_CACHE (downloads).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${MMN_BUILD:-$repo/build}/guest

show=0
qemu=${MMN_QEMU:-}
device=${MMN_GUEST_DEVICE--device mmn-smmu}
kernels=${MMN_GUEST_KERNELS:-}
tmo=${MMN_GUEST_TIMEOUT:-180}

usage() {
    sed -n '/^# Usage:/,/^# Environment/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --show) show=1 ;;
    --kernel) [ $# -ge 2 ] || usage; kernels="$kernels $2"; shift ;;
    --qemu) [ $# -ge 2 ] || usage; qemu=$2; shift ;;
    --device) [ $# -ge 2 ] || usage; device=$2; shift ;;
    --timeout) [ $# -ge 2 ] || usage; tmo=$2; shift ;;
    -h|--help) usage ;;
    *) echo "guest-test.sh: unknown argument '$1'" >&2; usage ;;
    esac
    shift
done
if [ -z "${kernels// /}" ]; then
    if [ "$show" = 1 ]; then kernels=6.1; else kernels="6.1 6.12"; fi
fi
read -r -a kernels <<< "$kernels"
read -r -a devargs <<< "$device"

# 1. QEMU.
if [ -z "$qemu" ]; then
    "$repo/scripts/mmn-smmu/build.sh" qemu-system-aarch64 >&2
    qemu=${MMN_BUILD:-$repo/build}/qemu-build/qemu-system-aarch64
fi
[ -x "$qemu" ] || { echo "guest-test.sh: no QEMU at $qemu" >&2; exit 1; }

# 2. Kernels and busybox.
envfile=$("$repo/scripts/mmn-smmu/fetch-guest.sh")
# shellcheck disable=SC1090
. "$envfile"

# 3. initramfs: busybox, its applet links, our /init (cpio newc + gzip).
# shellcheck source=scripts/mmn-smmu/guest-lib.sh
. "$repo/scripts/mmn-smmu/guest-lib.sh"
mkdir -p "$out"
initrd="$out/initrd.gz"
mmn_guest_initramfs "$initrd" "$repo/tests/guest/init"

# boot IMAGE LOG: boot one kernel; sets rc (QEMU's exit status, 124 on
# timeout), secs (wall time) and result (the guest's marker line or "").
boot() {
    mmn_guest_boot "$qemu" "$1" "$initrd" "$2" "$tmo" "${devargs[@]}"
    result=$(tr -d '\r' < "$2" | grep -a -o 'MMN-GUEST-RESULT: .*' | tail -n 1 || true)
}

image_of() {
    mmn_guest_image_of "$1"
}

if [ "$show" = 1 ]; then
    k=${kernels[0]}
    image_of "$k"
    log="$out/linux-$k.console.log"
    echo "# qemu-system-aarch64 -M virt -cpu cortex-a57 -m 1G ... -kernel vmlinuz-$KREL ${devargs[*]}"
    boot "$IMAGE" "$log"
    tr -d '\r' < "$log" | sed -n 's/^mmn-guest: //p'
    echo "${result:-MMN-GUEST-RESULT: none (QEMU exit $rc)}"
    echo "# linux $KREL booted and powered off in $secs s (QEMU exit $rc); console log: $log"
    [ "$rc" = 0 ] && [ "${result#MMN-GUEST-RESULT: PASS}" != "$result" ]
    exit
fi

echo "1..${#kernels[@]}"
n=0
failed=0
for k in "${kernels[@]}"; do
    n=$((n + 1))
    image_of "$k"
    log="$out/linux-$k.console.log"
    boot "$IMAGE" "$log"
    what="guest linux-$k ($KREL)"
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
echo "# guest: $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
