#!/usr/bin/env bash
# mmn-smmuv3 broadcast TLB maintenance (btm=on), tested with guest CPU
# instructions: tests/guest/btm/btm-test.c, a bare-metal aarch64 program,
# runs on -M virt,iommu=mmn-smmuv3 at EL1 with the MMU off.  In each case
# the SMMU has cached a read-only PTE for a stalled write; the CPU makes
# the PTE writable, executes the case's TLBI (or nothing, or an SMMU
# command), DSB ISH, and resumes the stall: DONE if the SMMU dropped its
# entry, LIVELOCK if it kept faulting from it.
#
# Every case runs with btm=off (only the SMMU command heals) and btm=on
# (the broadcasts Arm IHI 0070 3.17 makes the SMMU honour heal too), on
# cortex-a57 and on max (FEAT_TLBIOS, FEAT_TLBIRANGE, FEAT_XS forms); the
# QOM counters btm-invalidations / btm-ignored are read over QMP at the
# end.  Output: TAP.  Environment: MMN_BUILD (default <checkout>/build,
# with qemu-system-aarch64 built by build.sh).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${MMN_BUILD:-$repo/build}
qemu="$out/qemu-build/qemu-system-aarch64"
work="$out/btm-test"
src="$repo/tests/guest/btm/btm-test.c"

if [ $# -ne 0 ]; then
    echo "usage: $0 (no arguments; MMN_BUILD selects the build directory)." \
         "It runs the bare-metal broadcast TLB maintenance test of" \
         "mmn-smmuv3 and prints TAP." >&2
    exit 2
fi
if [ ! -x "$qemu" ]; then
    echo "btm-test.sh: $qemu does not exist. Build QEMU first with" \
         "scripts/mmn-smmu/build.sh (or set MMN_BUILD to the build" \
         "directory that has it)." >&2
    exit 2
fi
if ! command -v aarch64-linux-gnu-gcc >/dev/null; then
    echo "btm-test.sh: aarch64-linux-gnu-gcc is missing; install it with" \
         "scripts/mmn-smmu/install-deps.sh (Debian gcc-aarch64-linux-gnu)." >&2
    exit 2
fi

mkdir -p "$work"
# QMP sockets in a short directory (sun_path holds 108 bytes).
sockdir=$(mktemp -d /tmp/mmn-btm.XXXXXX)
trap 'rm -rf "$sockdir"' EXIT
elf="$work/btm-test.elf"
aarch64-linux-gnu-gcc -O2 -Wall -Wextra -Werror -ffreestanding -nostdlib \
    -static -mgeneral-regs-only -mstrict-align -fno-pie -no-pie \
    -fno-stack-protector -Wl,-Ttext=0x40080000 -Wl,--build-id=none \
    -e _start -o "$elf" "$src"

# case, expected with btm=off, expected with btm=on, CPUs, and how much the
# case adds to btm-invalidations with btm=on (broadcasts that reached an
# ASID context; the PTM case adds 1 to btm-ignored instead)
expected="\
none                 LIVELOCK LIVELOCK a57,max  0
cmd-nh-va            DONE     DONE     a57,max  0
vale1is              LIVELOCK DONE     a57,max  1
vae1is               LIVELOCK DONE     a57,max  1
aside1is             LIVELOCK DONE     a57,max  1
vaae1is              LIVELOCK DONE     a57,max  1
vmalle1is            LIVELOCK DONE     a57,max  1
vale1is-other-asid   LIVELOCK LIVELOCK a57,max  0
vale1is-ptm          LIVELOCK LIVELOCK a57,max  0
aset1-vale1is        LIVELOCK LIVELOCK a57,max  0
aset1-aside1is       LIVELOCK LIVELOCK a57,max  0
aset1-vaae1is        LIVELOCK DONE     a57,max  1
aset1-vmalle1is      LIVELOCK DONE     a57,max  1
vale1os              LIVELOCK DONE     max      1
vale1isnxs           LIVELOCK DONE     max      1
rvale1is             LIVELOCK DONE     max      1
rvae1is-other-range  LIVELOCK LIVELOCK max      1
aset1-rvale1is       LIVELOCK LIVELOCK max      0
aset1-rvaae1is       LIVELOCK DONE     max               1"

# Print "btm-invalidations btm-ignored" of the SMMU over QMP socket $1,
# then quit QEMU.
qmp_counters() {
    python3 - "$1" <<'EOF'
import json
import socket
import sys

s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")


def cmd(name, **args):
    f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r:
            return r["return"]
        if "error" in r:
            sys.exit("QMP %s: %s" % (name, r["error"]))


json.loads(f.readline())
cmd("qmp_capabilities")
path = None
for child in cmd("qom-list", path="/machine/unattached"):
    if child["type"] == "child<mmn-smmuv3>":
        path = "/machine/unattached/" + child["name"]
if path is None:
    sys.exit("no mmn-smmuv3 under /machine/unattached")
print(cmd("qom-get", path=path, property="btm-invalidations"),
      cmd("qom-get", path=path, property="btm-ignored"))
cmd("quit")
EOF
}

# run CPU BTM: run the program, leave its UART output in $work/CPU-BTM.log
# and the counters in $work/CPU-BTM.counters.
run() {
    local cpu=$1 btm=$2 log sock pid
    log="$work/$cpu-$btm.log"
    sock="$sockdir/$cpu-$btm.qmp"
    rm -f "$log" "$sock" "$work/$cpu-$btm.counters"
    "$qemu" -M virt,iommu=mmn-smmuv3 -global "mmn-smmuv3.btm=$btm" \
        -cpu "$cpu" -m 256M -nodefaults -display none -no-shutdown \
        -serial "file:$log" -qmp "unix:$sock,server=on,wait=off" \
        -kernel "$elf" 2> "$work/$cpu-$btm.stderr" &
    pid=$!
    for _ in $(seq 600); do
        if grep -q '^END' "$log" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    if grep -q '^END' "$log" 2>/dev/null &&
       qmp_counters "$sock" > "$work/$cpu-$btm.counters" 2>> "$work/$cpu-$btm.stderr"; then
        wait "$pid" || true
    else
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}

n=0
results=()
result() {
    n=$((n + 1))
    if [ "$1" = ok ]; then
        results+=("ok $n - $2")
    else
        results+=("not ok $n - $2")
    fi
}

for cpu in cortex-a57 max; do
    short=$cpu
    [ "$cpu" = cortex-a57 ] && short=a57
    for btm in off on; do
        run "$cpu" "$btm"
        log="$work/$cpu-$btm.log"
        want_inv=0
        while read -r name off on cpus count; do
            case ",$cpus," in
            *",$short,"*) ;;
            *) continue ;;
            esac
            want_inv=$((want_inv + count))
            want=$off
            [ "$btm" = on ] && want=$on
            got=$(sed -n "s/^case $name: \([A-Z/-]*\).*/\1/p" "$log" 2>/dev/null)
            if [ "$got" = "$want" ]; then
                result ok "$cpu btm=$btm $name: $want"
            else
                result fail "$cpu btm=$btm $name: expected $want, got ${got:-no result}"
            fi
        done <<< "$expected"
        read -r inv ign < "$work/$cpu-$btm.counters" 2>/dev/null || inv=x ign=x
        if [ "$btm" = on ]; then
            if [ "$inv" = "$want_inv" ] && [ "$ign" = 1 ]; then
                result ok "$cpu btm=on counters: btm-invalidations=$inv btm-ignored=$ign"
            else
                result fail "$cpu btm=on counters: btm-invalidations=$inv btm-ignored=$ign (want $want_inv 1)"
            fi
        else
            if [ "$inv" = 0 ] && [ "$ign" = 0 ]; then
                result ok "$cpu btm=off counters: no broadcast seen"
            else
                result fail "$cpu btm=off counters: btm-invalidations=$inv btm-ignored=$ign (want 0 0)"
            fi
        fi
    done
done

echo "1..$n"
printf '%s\n' "${results[@]}"
for f in "$work"/*.log; do
    sed "s|^|# $(basename "$f" .log): |" "$f"
done
for r in "${results[@]}"; do
    case "$r" in
    not*) exit 1 ;;
    esac
done
