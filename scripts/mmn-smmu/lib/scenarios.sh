# shellcheck shell=bash
# The guest scenario programs: building them, and what a host script needs
# to run and judge them.  Sourced, not run (needs bash; set -euo pipefail
# in the caller is fine).  The C side of the contract is at the top of
# tests/guest/lib/mmn-scenario.h; this is the host side.
#
# Layout
#   tests/guest/lib/mmn-scenario.h      the library's documented header
#   tests/guest/lib/mmn-scenario-*.c    the library, one file per part
#   tests/guest/scenarios/NAME.c        one scenario program per file
#   tests/guest/scenarios/expected.tsv  expected outcome per case
#   tests/guest/scenario-init           the guest's /init
#
# Functions
#   mmn_scenarios_build OUTDIR [SRC.c...]
#       Cross-build each scenario (default: every tests/guest/scenarios/*.c)
#       statically for aarch64 into OUTDIR/NAME, against the library and
#       Linux's kselftest_harness.h (mmn_scenarios_headers).  Compiler
#       output goes to stderr; returns non-zero with one paragraph when a
#       scenario does not compile.
#   mmn_scenarios_headers
#       Prints the folder holding kselftest_harness.h and kselftest.h, taken
#       once from Debian's linux-source-6.12 package into the cache.
#   mmn_scenarios_pack INITRD KO SCENARIO_DIR [MODULE_DIR [DISK]]
#       Pack an initramfs (mmn_guest_initramfs from guest-lib.sh, which the
#       caller must have sourced): scenario-init as /init, KO as
#       /mmn_smmu_drv.ko, every program of SCENARIO_DIR as /scenarios/NAME,
#       the modules of MODULE_DIR (mmn_scenarios_modules) as /modules/,
#       and the ext4 image DISK (mmn_scenarios_disk) as /disk.img.
#   mmn_scenarios_modules IMAGE_ROOT KREL OUTDIR
#       Copy, uncompressed, the modules the scenario disk needs (loop,
#       virtio-pci where it is a module, virtio_blk, ext4 and their
#       dependencies, from the image package's /lib/modules/KREL) into
#       OUTDIR, with OUTDIR/order listing them in load order.
#   mmn_scenarios_disk IMAGE
#       Build the scenario disk: a 16 MiB ext4 image (mke2fs -d).
#   mmn_scenarios_qemu_args IMAGE
#       Prints the QEMU arguments that attach IMAGE as a virtio-blk disk
#       (one a line), for a QEMU built with virtio-blk-pci.
#
# The scenario disk reaches the guest one of two ways: attached as a
# virtio-blk disk (/dev/vda: mmn_scenarios_qemu_args; needs a QEMU with
# CONFIG_VIRTIO_PCI and CONFIG_VIRTIO_BLK, which configs/devices/
# aarch64-softmmu/mmn-smmu.mak, built on minimal.mak, does not have), or
# packed as /disk.img, which scenario-init mounts through a loop device.
# Either way the file-backed cases map files of a real ext4 file system
# (ext4_page_mkwrite, write-notify); without either they are N/A.
#   mmn_scenarios_expect CASE KLINE DIRTY
#       Prints the expected.tsv row (tab-separated) for a case on kernel
#       line KLINE (6.1, 6.12) and dirty class (sw, hw); fails if none.
#       $MMN_SCENARIO_EXPECTED, when set, is a file of the same format
#       searched first (guest-repro.sh --expected FILE).
#   mmn_scenarios_parse ROW
#       Sets the associative array MMN_ROW to the row's fields (and
#       MMN_ROW[kline], its kernel line), without a subprocess.
#   mmn_scenarios_judge ROW
#       Judges one MMN-GUEST-REPRO row against expected.tsv; prints nothing
#       and succeeds when it matches, else prints why and fails: status 3
#       when no row of expected.tsv covers the case, 1 when it differs.
#
# Guest side (scenario-init): kernel command line "mmn.shell=1" gives an
# interactive busybox sh (the scenarios in /scenarios, on PATH) instead of
# running them; "mmn.only=NAME[,NAME...]" runs only those programs.  Each
# program's TAP and rows go to the console; the run ends with one
#   MMN-GUEST-RESULT: PASS <n> programs, <r> rows
#   MMN-GUEST-RESULT: FAIL <reason>
# line (FAIL on a kernel WARNING/BUG/Oops, a command the device rejected,
# a program that exited non-zero), then the guest powers off.
# Row format and expected.tsv columns: see tests/guest/lib/mmn-scenario.h.

_mmn_scen_repo() {
    if [ -n "${repo:-}" ]; then
        echo "$repo"
    else
        (cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
    fi
}

# _mmn_scen_fail TEXT...: one paragraph on stderr (wrapped), status 1.
_mmn_scen_fail() {
    { echo; echo "mmn-smmu scenarios: $*" | fmt -w 78; echo; } >&2
    return 1
}

mmn_scenarios_headers() {
    local cache dir ver deb sudo="" d
    cache=${MMN_CACHE:-$HOME/.cache/mmn-smmu}/kselftest
    for d in "$cache"/*/; do
        if [ -f "$d/kselftest_harness.h" ] && [ -f "$d/kselftest.h" ]; then
            echo "${d%/}"
            return 0
        fi
    done
    [ "$(id -u)" = 0 ] || sudo=sudo
    ver=$(apt-cache madison linux-source-6.12 2>/dev/null | awk -F' *[|] *' 'NR == 1 {print $2}')
    if [ -z "$ver" ]; then
        $sudo apt-get update -qq >/dev/null 2>&1 || true
        ver=$(apt-cache madison linux-source-6.12 2>/dev/null | awk -F' *[|] *' 'NR == 1 {print $2}')
    fi
    [ -n "$ver" ] || _mmn_scen_fail "cannot find Debian's linux-source-6.12" \
        "package with apt-cache. The scenarios are built against Linux's own" \
        "tools/testing/selftests/kselftest_harness.h, taken from that package" \
        "(bookworm-security). Check 'apt-cache madison linux-source-6.12'" \
        "after 'apt-get update' and run the build again." || return 1
    dir="$cache/$ver"
    mkdir -p "$cache/debs"
    deb=$(find "$cache/debs" -maxdepth 1 -name "linux-source-6.12_*${ver##*:}_all.deb" | head -n 1)
    if [ -z "$deb" ]; then
        echo "mmn-smmu: downloading linux-source-6.12=$ver (for kselftest_harness.h)" >&2
        (cd "$cache/debs" && apt-get download -q "linux-source-6.12=$ver" >/dev/null 2>&1) ||
            { _mmn_scen_fail "could not download linux-source-6.12=$ver with" \
                "'apt-get download'; the scenarios need its" \
                "tools/testing/selftests/kselftest_harness.h. Check the apt" \
                "sources and network, then run the build again."; return 1; }
        deb=$(find "$cache/debs" -maxdepth 1 -name 'linux-source-6.12_*_all.deb' | head -n 1)
        [ -n "$deb" ] || { _mmn_scen_fail "apt-get download left no linux-source-6.12 package"; return 1; }
    fi
    rm -rf "$dir.tmp"
    mkdir -p "$dir.tmp"
    # Only the two headers: stream the source tarball out of the package.
    dpkg-deb --fsys-tarfile "$deb" |
        tar -xO --wildcards './usr/src/linux-source-6.12.tar.*' |
        xz -dc |
        tar -x -C "$dir.tmp" --strip-components=4 --wildcards \
            '*/tools/testing/selftests/kselftest_harness.h' \
            '*/tools/testing/selftests/kselftest.h' ||
        { rm -rf "$dir.tmp"; _mmn_scen_fail "could not extract" \
            "kselftest_harness.h from $deb"; return 1; }
    if [ ! -f "$dir.tmp/kselftest_harness.h" ] || [ ! -f "$dir.tmp/kselftest.h" ]; then
        rm -rf "$dir.tmp"
        _mmn_scen_fail "$deb has no tools/testing/selftests/kselftest_harness.h"
        return 1
    fi
    rm -rf "$dir"
    mv "$dir.tmp" "$dir"
    rm -f "$deb"
    echo "$dir"
}

mmn_scenarios_build() {
    local out=${1:-} r lib drv hdr cc=aarch64-linux-gnu-gcc src name o failed=()
    local -a srcs flags objs=()
    [ -n "$out" ] || { _mmn_scen_fail "usage: mmn_scenarios_build OUTDIR [SRC.c...]"; return 2; }
    shift
    r=$(_mmn_scen_repo)
    lib="$r/tests/guest/lib"
    drv="$r/tests/guest/mmn-smmu-drv"
    if [ $# -gt 0 ]; then
        srcs=("$@")
    else
        srcs=("$r"/tests/guest/scenarios/*.c)
    fi
    command -v "$cc" >/dev/null ||
        { _mmn_scen_fail "$cc is missing: install gcc-aarch64-linux-gnu and" \
            "libc6-dev-arm64-cross (scripts/mmn-smmu/install-deps.sh does)."; return 1; }
    hdr=$(mmn_scenarios_headers) || return 1
    mkdir -p "$out"
    flags=(-static -O2 -g0 -Wall -Wextra -D_GNU_SOURCE -I"$lib" -I"$drv" -isystem "$hdr")
    for src in "$lib"/mmn-scenario-*.c; do
        o="$out/.$(basename "$src" .c).o"
        objs+=("$o")
        if ! "$cc" "${flags[@]}" -c -o "$o" "$src"; then
            rm -f "${objs[@]}"
            _mmn_scen_fail "the scenario library ($src) does not compile" \
                "(errors above); no scenario was built."
            return 1
        fi
    done
    for src in "${srcs[@]}"; do
        [ -f "$src" ] || { failed+=("$src (no such file)"); continue; }
        name=$(basename "$src" .c)
        if ! "$cc" "${flags[@]}" -s -o "$out/$name" "$src" "${objs[@]}"; then
            failed+=("$src")
        fi
    done
    rm -f "${objs[@]}"
    if [ ${#failed[@]} -gt 0 ]; then
        _mmn_scen_fail "${#failed[@]} scenario(s) did not compile:" \
            "${failed[*]}. The compiler's errors are above. A scenario is a" \
            "C file written against tests/guest/lib/mmn-scenario.h and" \
            "kselftest_harness.h (TEST(), ASSERT_*), built statically for" \
            "aarch64; fix it, or leave it out of the list."
        return 1
    fi
}

mmn_scenarios_pack() {
    local initrd=$1 ko=$2 sdir=$3 mdir=${4:-} disk=${5:-} r f
    local -a files=()
    r=$(_mmn_scen_repo)
    [ -f "$ko" ] || { _mmn_scen_fail "no module $ko"; return 1; }
    files+=("$ko" mmn_smmu_drv.ko)
    for f in "$sdir"/*; do
        if [ ! -f "$f" ] || [ ! -x "$f" ]; then
            continue
        fi
        files+=("$f" "scenarios/$(basename "$f")")
    done
    if [ -n "$mdir" ]; then
        for f in "$mdir"/*; do
            [ -f "$f" ] && files+=("$f" "modules/$(basename "$f")")
        done
    fi
    if [ -n "$disk" ]; then
        files+=("$disk" disk.img)
    fi
    mmn_guest_initramfs "$initrd" "$r/tests/guest/scenario-init" "${files[@]}"
}

# _mmn_scen_modget MODROOT NAME OUTDIR: copy module NAME (uncompressed)
# after its dependencies (the "depends=" of its .modinfo; Debian's image
# package ships no modules.dep), appending each to OUTDIR/order once.
# Returns 1 when the module is not there (built in, or absent).
_mmn_scen_modget() {
    local root=$1 name=$2 out=$3 f dep
    name=${name//-/_}
    grep -qx "$name.ko" "$out/order" && return 0
    f=$(find "$root/kernel" \( -name "$name.ko*" -o -name "${name//_/-}.ko*" \) | head -n 1)
    [ -n "$f" ] || return 1
    case "$f" in
    *.xz) xz -dc "$f" > "$out/$name.ko" ;;
    *.zst) zstd -qdc "$f" > "$out/$name.ko" ;;
    *.gz) gzip -dc "$f" > "$out/$name.ko" ;;
    *) cp "$f" "$out/$name.ko" ;;
    esac
    for dep in $(aarch64-linux-gnu-objcopy -O binary --only-section=.modinfo \
                     "$out/$name.ko" /dev/stdout | tr '\0' '\n' |
                 sed -n 's/^depends=//p' | tr ',' ' '); do
        _mmn_scen_modget "$root" "$dep" "$out" || true
    done
    echo "$name.ko" >> "$out/order"
}

mmn_scenarios_modules() {
    local img=$1 krel=$2 out=$3 root m
    root="$img/lib/modules/$krel"
    [ -d "$root/kernel" ] || { _mmn_scen_fail "no modules in $root"; return 1; }
    rm -rf "$out"
    mkdir -p "$out"
    : > "$out/order"
    # virtio_pci is built in on 6.12 and a module on 6.1; crc32c for
    # ext4's metadata checksums.
    for m in loop virtio_pci virtio_blk crc32c_generic ext4; do
        _mmn_scen_modget "$root" "$m" "$out" || true
    done
    grep -qx ext4.ko "$out/order" ||
        { _mmn_scen_fail "no ext4 module under $root"; return 1; }
}

mmn_scenarios_disk() {
    local img=$1 stage
    command -v mke2fs >/dev/null || { _mmn_scen_fail "mke2fs is missing (e2fsprogs)"; return 1; }
    stage=$(mktemp -d)
    # The file-backed scenarios create their own files; a marker shows the
    # guest that this is the scenario disk.
    echo "mmn-smmu scenario disk" > "$stage/MMN-SCENARIO-DISK"
    rm -f "$img"
    if ! mke2fs -q -F -t ext4 -d "$stage" -L mmnscen "$img" 16M; then
        rm -rf "$stage"
        _mmn_scen_fail "mke2fs could not build $img"
        return 1
    fi
    rm -rf "$stage"
}

mmn_scenarios_qemu_args() {
    printf '%s\n' -drive "file=$1,format=raw,if=none,id=mmndisk" \
        -device virtio-blk-pci,drive=mmndisk
}

# mmn_scenarios_parse ROW: the fields of a row (NAME=value words; reason
# runs to the end of the line) into the associative array MMN_ROW, and its
# kernel line (6.1, 6.12: the first two numbers of kernel=) into
# MMN_ROW[kline].  Pure bash: a run judges hundreds of rows.
mmn_scenarios_parse() {
    local rest=${1#*MMN-GUEST-REPRO: } w
    local -a words
    declare -gA MMN_ROW=()
    if [[ "$rest" == *" reason="* ]]; then
        MMN_ROW[reason]=${rest#* reason=}
        rest=${rest%% reason=*}
    fi
    read -r -a words <<< "$rest"
    for w in "${words[@]}"; do
        [[ "$w" != *=* ]] || [ -n "${MMN_ROW[${w%%=*}]+set}" ] || MMN_ROW[${w%%=*}]=${w#*=}
    done
    MMN_ROW[kline]=
    if [[ "${MMN_ROW[kernel]:-}" =~ ^([0-9]+\.[0-9]+) ]]; then
        MMN_ROW[kline]=${BASH_REMATCH[1]}
    fi
}

# _mmn_scen_field ROW NAME: value of NAME= in a row (reason: to the end).
_mmn_scen_field() {
    mmn_scenarios_parse "$1"
    echo "${MMN_ROW[$2]:-}"
}

mmn_scenarios_expect() {
    local case=$1 kline=$2 dirty=$3 r
    r=$(_mmn_scen_repo)
    awk -F'\t' -v c="$case" -v k="$kline" -v d="$dirty" '
        /^#/ || NF < 10 { next }
        $1 == c && ($2 == k || $2 == "*") && ($3 == d || $3 == "*") { print; found = 1; exit }
        END { exit found ? 0 : 1 }' ${MMN_SCENARIO_EXPECTED:+"$MMN_SCENARIO_EXPECTED"} \
        "$r/tests/guest/scenarios/expected.tsv"
}

# _mmn_scen_num_ok WANT GOT: "-", N or ">=N".
_mmn_scen_num_ok() {
    case "$1" in
    -) return 0 ;;
    '>='*) [ -n "$2" ] && [ "$2" -ge "${1#>=}" ] ;;
    *) [ "$1" = "$2" ] ;;
    esac
}

mmn_scenarios_judge() {
    local row=$1 case kline dirty exp read
    local -a e
    mmn_scenarios_parse "$row"
    case=${MMN_ROW[scenario]:-}
    kline=${MMN_ROW[kline]}
    dirty=${MMN_ROW[dirty]:-}
    exp=$(mmn_scenarios_expect "$case" "$kline" "$dirty") ||
        { echo "no expected.tsv row for $case on $kline ($dirty dirty)"; return 3; }
    IFS=$'\t' read -r -a e <<< "$exp"
    # e: scenario kernel dirty state class faults notifications stale_ro data why
    local state class faults notif stale data
    state=${MMN_ROW[state]:-}
    class=${MMN_ROW[class]:-}
    faults=${MMN_ROW[faults]:-}
    notif=${MMN_ROW[notifications]:-}
    stale=${MMN_ROW[stale_readonly]:-}
    data=${MMN_ROW[data]:-}
    read=${MMN_ROW[read]:-}
    if [ "${e[3]}" != - ] && [ "$state" != "${e[3]}" ]; then
        echo "state $state, expected ${e[3]} (${e[9]})"
    elif [ "${e[4]}" != - ] && [ "$class" != "${e[4]}" ]; then
        echo "class $class, expected ${e[4]} (${e[9]})"
    elif [ "$state" = N/A ]; then
        return 0
    elif ! _mmn_scen_num_ok "${e[5]}" "$faults"; then
        echo "faults $faults, expected ${e[5]} (${e[9]})"
    elif ! _mmn_scen_num_ok "${e[6]}" "$notif"; then
        echo "notifications $notif, expected ${e[6]} (${e[9]})"
    elif ! _mmn_scen_num_ok "${e[7]}" "$stale"; then
        echo "stale_readonly $stale, expected ${e[7]} (${e[9]})"
    elif [ "${e[8]}" != - ] && [ "$data" != "${e[8]}" ]; then
        echo "data $data, expected ${e[8]} (${e[9]})"
    elif [ "$read" != ok ] && [ "$read" != n/a ]; then
        echo "the device's READ gave $read"
    else
        return 0
    fi
    return 1
}
