#!/usr/bin/env bash
# An interactive shell in a Debian arm64 guest with -device mmn-smmu:
# mmn_smmu_drv.ko built for that kernel and loaded (/dev/mmn-smmu), the
# scenario programs of tests/guest/scenarios and mmn-repro on PATH, the
# scenario disk at /mnt/ext4, and the guest's console on your terminal
# (busybox sh; 'exit' or 'poweroff -f' ends the guest, and this script).
# The guest's /init is tests/guest/scenario-init with mmn.shell=1.
#
# Usage: guest-shell.sh [--kernel SPEC] [--cpu cortex-a57|neoverse-n1|max]
#                       [--run 'COMMANDS'] [--trace PATTERN] [--qemu PATH]
#                       [--timeout SECONDS]
#   --kernel SPEC  the kernel (default 6.12): any spec of guest-repro.sh
#                  (a series, a Debian build, a Debian version, a build tree)
#   --cpu CPU      guest CPU model (default cortex-a57)
#   --run CMDS     no terminal: type CMDS into the guest's shell once it is
#                  up, print the console, power off (for scripts; e.g.
#                  --run 'cat /proc/sys/kernel/tainted')
#   --trace P      add QEMU's -trace P (e.g. 'mmn_smmu_ctx_bind'; events in
#                  hw/mmn-smmu/trace-events), printed on the console
#   --qemu PATH    boot with this qemu-system-aarch64 (default: ours)
#   --timeout S    with --run, seconds for the whole boot (default 300)
# Environment: MMN_BUILD, MMN_CACHE, MMN_QEMU as for guest-repro.sh.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
run_out=${MMN_BUILD:-$repo/build}/guest/shell
lib="$repo/scripts/mmn-smmu/lib"
# shellcheck source=scripts/mmn-smmu/guest-lib.sh
. "$repo/scripts/mmn-smmu/guest-lib.sh"
# shellcheck source=scripts/mmn-smmu/lib/kernels.sh
. "$lib/kernels.sh"
# shellcheck source=scripts/mmn-smmu/lib/kernel-source.sh
. "$lib/kernel-source.sh"
# shellcheck source=scripts/mmn-smmu/lib/guest-build.sh
. "$lib/guest-build.sh"
# shellcheck source=scripts/mmn-smmu/lib/scenarios.sh
. "$lib/scenarios.sh"
# shellcheck source=scripts/mmn-smmu/lib/guest-run.sh
. "$lib/guest-run.sh"

qemu=${MMN_QEMU:-}
tmo=300
specs=()
cpu=cortex-a57
cmds=
trace=()

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
    --kernel) need $#; specs+=("$2"); shift ;;
    --cpu) need $#; mmn_guest_cpu_check "$2" || exit 2; cpu=$2; shift ;;
    --run) need $#; cmds=$2; shift ;;
    --trace) need $#; trace+=(-trace "$2"); shift ;;
    --qemu) need $#; qemu=$2; shift ;;
    --timeout) need $#; tmo=$2; shift ;;
    -h|--help) usage 0 ;;
    *) echo "guest-shell.sh: unknown argument '$1'" >&2; usage ;;
    esac
    shift
done
[ ${#specs[@]} -gt 0 ] || specs=(6.12)
if [ ${#specs[@]} -ne 1 ] || [[ "${specs[0]}" == *..* ]]; then
    mmn_k_say "guest-shell.sh: one guest, one kernel: give --kernel once, with" \
        "a single build (not a range). guest-repro.sh runs several."
    exit 2
fi

st=0
mmn_kernels_prepare_all "${specs[0]}" || st=$?
[ "$st" = 0 ] || exit "$st"
qemu=$(mmn_guest_qemu "$qemu")
MMN_GUEST_BUSYBOX=$(mmn_kernels_busybox)
env=${MMN_KENVS[0]}
mmn_kernels_load "$env"
mmn_guest_cpu_fits "$K_CONFIG" "$cpu" "$K_NAME" || exit 2

run_mode=scenarios
run_progs=("$repo"/tests/guest/scenarios/*.c "$repo/tests/guest/mmn-smmu-drv/mmn-repro.c")
mkdir -p "$run_out"
mmn_run_pack "$env" >&2
mmn_kernels_load "$env"

MMN_GUEST_CPU=$cpu
MMN_GUEST_APPEND="mmn.shell=1"
export MMN_GUEST_CPU MMN_GUEST_APPEND
echo "mmn-smmu: $K_NAME ($K_PREP_TEXT) on $cpu with -device mmn-smmu;" \
     "the driver loads, then a shell starts ('exit' powers off)" >&2
if [ -z "$cmds" ]; then
    MMN_GUEST_INTERACTIVE=1 mmn_guest_boot "$qemu" "$K_IMAGE" "$R_INITRD" /dev/null 0 -device mmn-smmu "${trace[@]}"
    exit "$rc"
fi

# --run: type the commands once the guest's shell is up, then 'exit'.
coproc GUEST { timeout -k 10 "$tmo" "$qemu" -M virt -cpu "$cpu" -m 1G -nographic \
    -no-reboot -nic none -kernel "$K_IMAGE" -initrd "$R_INITRD" \
    -append "console=ttyAMA0 panic=-1 $MMN_GUEST_APPEND" -device mmn-smmu "${trace[@]}" 2>&1; }
gpid=$GUEST_PID
sent=0
while IFS= read -r line <&"${GUEST[0]}"; do
    printf '%s\n' "${line%$'\r'}"
    if [ "$sent" = 0 ] && [[ "$line" == *"mmn-guest: shell mode"* ]]; then
        printf '%s\nexit\n' "$cmds" >&"${GUEST[1]}"
        sent=1
    fi
done
wait "$gpid" || rc=$?
rc=${rc:-0}
[ "$sent" = 1 ] || { echo "guest-shell.sh: the guest's shell never started (QEMU exit $rc)" >&2; exit 1; }
exit "$rc"
