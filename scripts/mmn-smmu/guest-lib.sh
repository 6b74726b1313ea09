# shellcheck shell=bash disable=SC2034,SC2154
# (sets rc, secs, IMAGE, KREL, KDIR for its caller; uses the caller's $repo)
# Booting guests and packing their initramfs, shared by the guest scripts
# (guest-test.sh, guest-repro.sh, guest-shell.sh); sourced, not run.  Needs
# $repo (the checkout) and $MMN_GUEST_BUSYBOX (a static arm64 busybox:
# mmn_kernels_busybox of lib/kernels.sh, or fetch-guest.sh's env file).
# Which kernels exist and how they are prepared: lib/kernels.sh.

# mmn_guest_initramfs OUT INIT [SRC DST]...: pack a busybox initramfs
# (cpio newc + gzip) into OUT: busybox-static with the applet links of
# tests/guest/applets, INIT as /init, and each SRC file as /DST.
mmn_guest_initramfs() {
    local out=$1 init=$2 stage
    shift 2
    stage=$(mktemp -d "$(dirname "$out")/initramfs.XXXXXX")
    mkdir -p "$stage/root"/{bin,sbin,dev,proc,sys,tmp}
    cp "$MMN_GUEST_BUSYBOX" "$stage/root/bin/busybox"
    grep -v -e '^#' -e '^$' "$repo/tests/guest/applets" | while read -r a; do
        ln -s busybox "$stage/root/bin/$a"
    done
    install -m 755 "$init" "$stage/root/init"
    while [ $# -ge 2 ]; do
        install -D "$1" "$stage/root/$2"
        shift 2
    done
    (cd "$stage/root" && find . -mindepth 1 | LC_ALL=C sort |
        cpio --quiet -o -H newc -R 0:0 | gzip -9n) > "$stage/initrd.gz"
    mv "$stage/initrd.gz" "$out"
    rm -rf "$stage"
}

# The guest CPU models the commands accept (QEMU 10.0, target/arm/tcg/
# cpu64.c): cortex-a57 has neither hardware AF/DBM nor FEAT_LPA2 (the
# kernel takes access-flag and dirty faults in software); neoverse-n1 has
# hardware AF and DBM (ID_AA64MMFR1.HAFDBS = 2), no LPA2; max has both,
# and a 6.12 kernel (CONFIG_ARM64_VA_BITS=52) then uses 52-bit LPA2 tables.
MMN_GUEST_CPUS="cortex-a57 neoverse-n1 max"

# mmn_guest_cpu_check CPU: one paragraph and status 2 for a CPU not in
# MMN_GUEST_CPUS.
mmn_guest_cpu_check() {
    case " $MMN_GUEST_CPUS " in
    *" $1 "*) return 0 ;;
    esac
    {
        echo
        echo "mmn-smmu: unknown guest CPU '$1'. --cpu takes one of" \
             "$MMN_GUEST_CPUS: cortex-a57 (the default: software access-flag" \
             "and dirty faults), neoverse-n1 (hardware access flag and dirty" \
             "state, 48-bit tables) or max (hardware AF/DBM and FEAT_LPA2:" \
             "52-bit tables on 6.12). Those are the CPU models whose page" \
             "table formats the device's walker is written against." | fmt -w 78
        echo
    } >&2
    return 2
}

# mmn_guest_cpu_fits CONFIG CPU NAME: can kernel NAME (built with
# CONFIG) run on CPU?  A 16 KiB-page kernel (CONFIG_ARM64_16K_PAGES, the
# -arm64-16k flavour) needs the 16K granule, which QEMU's cortex-a57 does
# not have (aarch64_a57_initfn in target/arm/cpu64.c: ID_AA64MMFR0_EL1 =
# 0x00001124, TGran16 = 0; neoverse-n1 and max have it): it would hang
# before its first console line.  One paragraph and status 2 when it
# cannot.
mmn_guest_cpu_fits() {
    local config=$1 cpu=$2 name=$3
    if [ "$cpu" = cortex-a57 ] && grep -qx 'CONFIG_ARM64_16K_PAGES=y' "$config" 2>/dev/null; then
        {
            echo
            echo "mmn-smmu: $name uses 16 KiB pages (CONFIG_ARM64_16K_PAGES)," \
                 "and -cpu cortex-a57 has no 16K translation granule" \
                 "(ID_AA64MMFR0_EL1.TGran16 = 0 in QEMU's model, as on the" \
                 "real Cortex-A57): the kernel stops before printing anything." \
                 "Run it with --cpu neoverse-n1 or --cpu max, which have it." | fmt -w 78
            echo
        } >&2
        return 2
    fi
}

# mmn_guest_boot QEMU IMAGE INITRD LOG TIMEOUT [QEMU ARGS...]: boot one
# kernel on virt with CPU model ${MMN_GUEST_CPU:-cortex-a57} until /init
# powers off; console to LOG; kernel command line 'console=ttyAMA0
# panic=-1' plus $MMN_GUEST_APPEND.  Sets rc (QEMU's exit status, 124 or
# 137 on timeout) and secs (wall time).  With MMN_GUEST_INTERACTIVE=1 the
# console is the terminal instead (LOG unused, no timeout).
mmn_guest_boot() {
    local qemu=$1 image=$2 initrd=$3 log=$4 tmo=$5 t0 t1
    local -a cmd
    shift 5
    cmd=("$qemu" -M virt -cpu "${MMN_GUEST_CPU:-cortex-a57}" -m 1G -nographic
         -no-reboot -nic none -kernel "$image" -initrd "$initrd"
         -append "console=ttyAMA0 panic=-1${MMN_GUEST_APPEND:+ $MMN_GUEST_APPEND}" "$@")
    t0=$(date +%s%N)
    set +e
    if [ "${MMN_GUEST_INTERACTIVE:-0}" = 1 ]; then
        "${cmd[@]}"
    else
        timeout -k 10 "$tmo" "${cmd[@]}" </dev/null >"$log" 2>&1
    fi
    rc=$?
    set -e
    t1=$(date +%s%N)
    secs=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f", d / 1e9 }')
}

# mmn_guest_qemu [PATH]: print the qemu-system-aarch64 to boot with: PATH,
# else $MMN_QEMU, else ours, built with build.sh (its output to stderr;
# $MMN_GUEST_TARGETS, if set, are more ninja targets built in the same
# call, e.g. tests/qtest/mmn-smmu-repro for the kernel model).
mmn_guest_qemu() {
    local q=${1:-${MMN_QEMU:-}} b=${MMN_BUILD:-$repo/build}
    local -a more
    read -r -a more <<< "${MMN_GUEST_TARGETS:-}"
    if [ -z "$q" ]; then
        "$repo/scripts/mmn-smmu/build.sh" qemu-system-aarch64 "${more[@]}" >&2 || return 1
        q=$b/qemu-build/qemu-system-aarch64
    fi
    if [ ! -x "$q" ]; then
        echo "mmn-smmu: no qemu-system-aarch64 at $q" >&2
        return 1
    fi
    mmn_guest_snapshot "$q"
}

# mmn_guest_snapshot FILE: print the path to run FILE from.  A binary of
# our build folder is copied first (under build.sh's lock), so that a
# rebuild by someone else sharing the build folder cannot swap it in the
# middle of a run (exec would fail with status 126 while ld writes it);
# anything else is used as it is.
mmn_guest_snapshot() {
    local q=$1 b=${MMN_BUILD:-$repo/build} snap lockfd name
    if [ "$(cd "$(dirname "$q")" && pwd)" = "$(cd "$b/qemu-build" 2>/dev/null && pwd)" ] ||
       [[ "$(cd "$(dirname "$q")" && pwd)" == "$(cd "$b/qemu-build" 2>/dev/null && pwd)"/* ]]; then
        name=$(basename "$q")
        mkdir -p "$b/guest/qemu"
        exec {lockfd}>"$b/.lock"
        flock "$lockfd"
        snap="$b/guest/qemu/$name.$(stat -c %Y-%s "$q")"
        if [ ! -x "$snap" ]; then
            cp "$q" "$snap.tmp.$$"
            mv "$snap.tmp.$$" "$snap"
            # Keep this one and the one before (a run that started earlier
            # may still run it).
            find "$b/guest/qemu" -name "$name.*" -printf '%T@ %p\n' |
                sort -rn | sed -n '3,$p' | cut -d' ' -f2- | xargs -r rm -f
        fi
        exec {lockfd}>&-
        q=$snap
    fi
    echo "$q"
}

# mmn_guest_image_of K: set IMAGE, KREL, KDIR of kernel K (6.1, 6.12).
mmn_guest_image_of() {
    local tag=${1//./}
    local img="MMN_GUEST_${tag}_IMAGE" krel="MMN_GUEST_${tag}_KREL" kdir="MMN_GUEST_${tag}_KDIR"
    if [ -z "${!img:-}" ]; then
        echo "$(basename "$0"): unknown kernel '$1' (have: $MMN_GUEST_KERNELS)" >&2
        exit 2
    fi
    IMAGE=${!img}
    KREL=${!krel}
    KDIR=${!kdir:-}
}
