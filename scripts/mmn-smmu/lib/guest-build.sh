# shellcheck shell=bash disable=SC2034
# (sets B_* for its caller)
# Building what a guest runs, for one kernel: the guest module and the
# static user programs.  Sourced by the guest commands; not run.  Needs
# scripts/mmn-smmu/lib/kernels.sh sourced first.
#
#   mmn_guest_build KENV MODSRC OUTDIR [PROG.c...]
#       KENV    env file of a prepared kernel (mmn_kernels_prepare)
#       MODSRC  the module's source folder (Kbuild, *.c, *.h), copied to
#               OUTDIR/module and built there with make -C $K_KDIR M=...
#               as that kernel's preparation asks: against the archive
#               headers or a user tree as they are; for an exact-source
#               tree in two passes, the second with a Module.symvers of
#               the real CRCs of what the first pass's objects import
#               (mmn_ksrc_symvers, kernel-source.sh says why that is sound)
#       PROG.c  user programs, cross-built statically for aarch64 into
#               OUTDIR/bin/NAME: a scenario (a file that includes
#               mmn-scenario.h) with mmn_scenarios_build of
#               scripts/mmn-smmu/lib/scenarios.sh, anything else with
#               aarch64-linux-gnu-gcc -static -I MODSRC.  Programs do not
#               depend on the kernel: they are built once per content
#               into OUTDIR/../../progs (shared by the kernels whose
#               OUTDIRs are siblings) and copied.
#   Sets B_KO (the stripped module), B_BIN (OUTDIR/bin), B_BUILT (yes when
#   something was built, no when OUTDIR was up to date).  On failure:
#   compiler output and one paragraph on stderr, status 1.  The module's
#   vermagic is checked against a module of the image package itself.
#
#   mmn_guest_progs ROOT MODSRC PROG.c...
#       Only the programs, into ROOT/progs/KEY (the folder mmn_guest_build
#       copies from when its OUTDIR is ROOT/NAME/build); sets B_PROGS.  A
#       command calls it before preparing any kernel, so that a program
#       that does not compile is said once, at once.

mmn_gb_cc=aarch64-linux-gnu-gcc

# mmn_gb_vermagic KO: the vermagic of a module file (.ko, .ko.xz, .ko.zst).
mmn_gb_vermagic() {
    case "$1" in
    *.xz) xz -dc "$1" ;;
    *.zst) zstd -qdc "$1" ;;
    *.gz) gzip -dc "$1" ;;
    *) cat "$1" ;;
    esac | tr '\0' '\n' | sed -n 's/^vermagic=//p' | sed -n 1p
}

# mmn_gb_key FILE...: a checksum of the files' contents.
mmn_gb_key() {
    cat "$@" 2>/dev/null | md5sum | cut -c1-16
}

# mmn_gb_progs DIR MODSRC PROG...: build the programs into DIR/NAME.
mmn_gb_progs() {
    local dir=$1 modsrc=$2 p name lib scen=() plain=()
    shift 2
    mkdir -p "$dir"
    for p in "$@"; do
        if grep -q '#include "mmn-scenario.h"' "$p"; then
            scen+=("$p")
        else
            plain+=("$p")
        fi
    done
    for p in "${plain[@]}"; do
        name=$(basename "$p" .c)
        "$mmn_gb_cc" -static -O2 -Wall -Wextra -s -I"$modsrc" -I"$(dirname "$p")" \
            -o "$dir/$name" "$p" || {
            mmn_k_say "mmn-smmu: $p does not compile for aarch64 (errors above)."
            return 1
        }
    done
    if [ ${#scen[@]} -gt 0 ]; then
        lib="$(dirname "${BASH_SOURCE[0]}")/scenarios.sh"
        [ -f "$lib" ] || { mmn_k_say "mmn-smmu: ${scen[*]} need the scenario library $lib, which is missing."; return 1; }
        # shellcheck source=scripts/mmn-smmu/lib/scenarios.sh
        . "$lib"
        mmn_scenarios_build "$dir" "${scen[@]}" || return 1
    fi
}

# mmn_gb_progs_key MODSRC PROG...: the programs' content key.
mmn_gb_progs_key() {
    local modsrc=$1
    shift
    if [ $# -eq 0 ]; then
        echo none
        return 0
    fi
    mmn_gb_key "$@" "$modsrc"/*.h "$(dirname "${BASH_SOURCE[0]}")"/scenarios.sh \
        "$(dirname "${BASH_SOURCE[0]}")"/../../../tests/guest/lib/*
}

mmn_guest_progs() {
    local root=$1 modsrc=$2 pkey pdir
    shift 2
    pkey=$(mmn_gb_progs_key "$modsrc" "$@")
    pdir="$root/progs/$pkey"
    B_PROGS=$pdir
    [ ! -f "$pdir/.mmn-built" ] || return 0
    rm -rf "$pdir.tmp.$$"
    mmn_gb_progs "$pdir.tmp.$$" "$modsrc" "$@" || { rm -rf "$pdir.tmp.$$"; return 1; }
    touch "$pdir.tmp.$$/.mmn-built"
    rm -rf "$pdir"
    mv "$pdir.tmp.$$" "$pdir"
}

mmn_guest_build() {
    local kenv=$1 modsrc=$2 out=$3 key pkey mkey m
    shift 3
    local -a progs=("$@")
    mmn_kernels_load "$kenv"
    B_BIN="$out/bin"
    pkey=$(mmn_gb_progs_key "$modsrc" "${progs[@]}")
    mkey=$(mmn_gb_key "$modsrc"/Kbuild "$modsrc"/*.[ch] "$kenv")
    key="$pkey $mkey"
    m="$out/module"
    if [ -f "$out/.mmn-built" ] && [ "$(cat "$out/.mmn-built")" = "$key" ]; then
        B_KO=$(find "$m" -maxdepth 1 -name '*.ko' | sed -n 1p)
        B_BUILT=no
        return 0
    fi
    B_BUILT=yes
    mkdir -p "$out"
    rm -f "$out/.mmn-built"
    # The module only when its sources or the kernel changed (a changed
    # scenario only changes the programs).
    if [ "$(cat "$m/.mmn-built" 2>/dev/null)" = "$mkey" ] &&
       B_KO=$(find "$m" -maxdepth 1 -name '*.ko' | sed -n 1p) && [ -n "$B_KO" ]; then
        :
    else
        _mmn_gb_module "$modsrc" "$m" || return 1
        echo "$mkey" > "$m/.mmn-built"
    fi
    # Programs: once per content, shared by every kernel.
    rm -rf "$B_BIN"
    mkdir -p "$B_BIN"
    if [ ${#progs[@]} -gt 0 ]; then
        mmn_guest_progs "$(dirname "$(dirname "$out")")" "$modsrc" "${progs[@]}" || return 1
        cp -p "$B_PROGS"/* "$B_BIN/"
    fi
    echo "$key" > "$out/.mmn-built"
}

# _mmn_gb_module MODSRC DIR: build the module of the loaded kernel (K_*)
# in DIR; sets B_KO.
_mmn_gb_module() {
    local modsrc=$1 m=$2 log want got objs=() o
    rm -rf "$m"
    mkdir -p "$m"
    cp "$modsrc"/Kbuild "$modsrc"/*.[ch] "$m/"
    [ ! -f "$modsrc/Makefile" ] || cp "$modsrc/Makefile" "$m/"
    log="$m/build.log"
    local -a mk=(make -C "$K_KDIR" M="$m" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
    case "$K_PREP" in
    exact-source)
        mk+=(KERNELRELEASE="$K_KREL")
        if ! "${mk[@]}" KBUILD_MODPOST_WARN=1 modules > "$log" 2>&1; then
            cat "$log" >&2
            mmn_k_say "mmn-smmu: the module in $modsrc does not compile against $K_KREL ($K_PREP_TEXT)."
            return 1
        fi
        # Each module NAME.ko is linked from NAME.o (NAME.mod lists its parts).
        for o in "$m"/*.mod; do
            objs+=("${o%.mod}.o")
        done
        mmn_ksrc_symvers "$K_KDIR" "$m/crcs.symvers" "${objs[@]}" || return 1
        # Second pass: modpost with the CRCs, unresolved symbols are errors.
        if ! "${mk[@]}" KBUILD_EXTRA_SYMBOLS="$m/crcs.symvers" modules > "$log.2" 2>&1 ||
           grep -qE 'modpost: .*(undefined|no symbol version)' "$log.2"; then
            cat "$log.2" >&2
            mmn_k_say "mmn-smmu: modpost did not accept the module for $K_KREL with the CRCs of $m/crcs.symvers."
            return 1
        fi ;;
    *)
        if ! "${mk[@]}" modules > "$log" 2>&1; then
            cat "$log" >&2
            mmn_k_say "mmn-smmu: the module in $modsrc does not build against $K_KREL ($K_PREP_TEXT, $K_KDIR)."
            return 1
        fi ;;
    esac
    B_KO=$(find "$m" -maxdepth 1 -name '*.ko' | sed -n 1p)
    [ -n "$B_KO" ] || { mmn_k_say "mmn-smmu: the build in $m made no .ko (log: $log)."; return 1; }
    aarch64-linux-gnu-strip --strip-debug "$B_KO"
    got=$(mmn_gb_vermagic "$B_KO")
    if [ -n "$K_ROOT" ]; then
        o=$(find "$K_ROOT/lib/modules/$K_KREL/kernel" -name "*.ko*" -print -quit 2>/dev/null)
        want=$([ -z "$o" ] || mmn_gb_vermagic "$o")
        if [ -n "$want" ] && [ "$got" != "$want" ]; then
            mmn_k_say "mmn-smmu: $B_KO has vermagic '$got', but the image's own" \
                "modules have '$want' ($o): it would not load into $K_KREL, so" \
                "the build is refused."
            return 1
        fi
    fi
}
