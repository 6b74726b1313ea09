# shellcheck shell=bash disable=SC2034,SC2154
# (sets K_* for kernels.sh, whose mmn_k_cache and mmn_k_say it uses)
# Preparing a Debian arm64 kernel build for out-of-tree modules from its
# exact source, when the archive has no linux-headers for it.  Sourced by
# scripts/mmn-smmu/lib/kernels.sh (mmn_kernels_prepare) and
# scripts/mmn-smmu/lib/guest-build.sh; not run.
#
# What is built
#   The image package's Version is the version of the linux source package
#   it was built from (its Source: field names linux-signed-arm64 or
#   linux-signed-6.12-arm64, whose image is linux or linux-6.12 of that
#   version).  That source comes from apt's deb-src lists: 'apt-get source
#   --download-only SRC=VERSION'.  With Debian's .debian.tar.xz it is
#   unpacked with dpkg-source (Debian's patches applied); when the mirror
#   answers 404 for it, the orig tarball alone is unpacked (upstream
#   without Debian's patches) and the output says so.  The tree is
#   configured with the image's own /boot/config-<krel> (olddefconfig) and
#   'make modules_prepare KERNELRELEASE=<krel>', so the module's vermagic
#   is "<krel> SMP mod_unload modversions aarch64" like the image's own
#   modules (checked against one of them after each module build).
#
# Why the module then loads soundly (Linux 6.1 and 6.12, the same
# kernel/module/version.c in both):
#   With CONFIG_MODVERSIONS, resolve_symbol() (kernel/module/main.c) calls
#   check_version() for every symbol the module imports; check_version()
#   looks the symbol up in the module's __versions table and compares the
#   CRC recorded there with the CRC the running kernel exports for it
#   (fsa.crc, which find_exported_symbol_in_section() takes from the
#   kernel's own __kcrctab / __kcrctab_gpl): equal, the symbol resolves;
#   different, "disagrees about version of symbol", and the load fails
#   with -EINVAL; absent, "no symbol version for", and it fails too.
#   check_modstruct_version() does the same for module_layout, whose
#   genksyms CRC covers struct module, modversion_info, kernel_param,
#   kernel_symbol and tracepoint: the structures the loader itself uses.
#   same_magic() ignores the release part of vermagic when the module has
#   __versions, and compares the rest (SMP, preempt model, mod_unload,
#   modversions, arch).  A CRC is genksyms' checksum of the exported
#   symbol's declaration with every type it reaches expanded, computed
#   from the preprocessed source with the kernel's own configuration.
#   We build exactly the objects that export what the module imports
#   (kbuild's gen_symversions appends their "#SYMVER <sym> <crc>" lines to
#   each <obj>.o.cmd, which is what modpost reads when it builds vmlinux),
#   write those CRCs as a Module.symvers and pass it to modpost with
#   KBUILD_EXTRA_SYMBOLS, so the module's __versions holds the CRCs this
#   source and config give.  If they are the ones the image was built
#   with, every check_version() passes, module_layout included, and the
#   module is as good as one built from Debian's headers.  If anything
#   differs that matters to a symbol the module uses (a missing Debian
#   patch that changes a structure, a config that olddefconfig changed),
#   the kernel itself refuses the module with "disagrees about version":
#   a mismatch cannot load silently.  What CRCs do not cover: code the
#   module inlines from headers (static inline functions, macros) and
#   types that no imported declaration reaches.  For those the tree is the
#   exact source: with Debian's patches the build's own; from the orig
#   tarball alone, upstream's, and a Debian patch to such a header would
#   go unnoticed, which is why the output names that case ("orig tarball:
#   Debian's patches are not on the mirror").  We never force a load (insmod -f,
#   TAINT_FORCED_MODULE, taint flag F) and never strip __versions (with no
#   __versions check_version() calls try_to_force_load()).
#
# Functions
#   mmn_ksrc_available         its exact source is in apt's deb-src lists
#                              (else the refusal paragraph, status 3)
#   mmn_ksrc_prepare           prepare the build in K_* (kernels.sh) into
#                              the cache; sets K_KDIR, K_PREP, K_PREP_TEXT;
#                              status 3 when the build is refused (no exact
#                              source), 1 on other failures
#   mmn_ksrc_symvers KDIR OUT OBJ...   write OUT, a Module.symvers with the
#                              CRCs of every symbol the module objects OBJ
#                              import (plus module_layout), building the
#                              exporting objects of KDIR the first time a
#                              symbol is asked for (cached in KDIR/.mmn/)
# Environment: MMN_JOBS (make -j, default 2).

mmn_ksrc_jobs=${MMN_JOBS:-2}

# mmn_ksrc_make KDIR ARGS...: kbuild in KDIR for the guest's ABI.
mmn_ksrc_make() {
    local kdir=$1 krel
    shift
    krel=$(cat "$kdir/.mmn/krel")
    make -C "$kdir" -j"$mmn_ksrc_jobs" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
        KERNELRELEASE="$krel" "$@"
}

# mmn_ksrc_refusal TEXT...: a refusal's paragraph, on stderr and, when
# MMN_K_WHY names a file, in it too (kernels.sh remembers refusals).
mmn_ksrc_refusal() {
    mmn_k_say "$@"
    [ -z "${MMN_K_WHY:-}" ] || { echo; echo "$*" | fmt -w 78; echo; } > "$MMN_K_WHY"
}

# mmn_ksrc_refuse SRC VERSION: the paragraph for a build without headers
# and without its exact source.
mmn_ksrc_refuse() {
    local src=$1 ver=$2 have
    have=$(apt-cache showsrc "$src" 2>/dev/null | sed -n 's/^Version: //p' |
           { grep -F "$K_SERIES." || true; } | sort -u -V | tr '\n' ' ' | sed 's/ $//')
    mmn_ksrc_refusal "mmn-smmu: cannot prepare $K_KREL ($K_PKG $K_VERSION): the" \
        "archive has no linux-headers-$K_KREL for it, and apt's deb-src lists" \
        "do not have its exact source, $src=$ver (they have${have:+ $src} ${have:-no $K_SERIES version})." \
        "A module must be built against the very source and configuration of" \
        "the kernel that loads it: every symbol's CRC is checked at load" \
        "time, and a near version gives different CRCs or, worse, the same" \
        "CRCs over different code, so it is not used. Choose a build whose" \
        "headers are in the archive or whose source apt can fetch" \
        "(scripts/mmn-smmu/guest-repro.sh --list-kernels shows which way each" \
        "build can be prepared), or add a deb-src line that carries" \
        "$src $ver (e.g. snapshot.debian.org) and run 'apt-get update'."
}

# mmn_ksrc_fetch SRC VERSION DEST: unpack the exact source into DEST; sets
# _patched to yes (Debian's patches applied) or no (orig tarball only).
# Parts of the tree no arm64 module build of ours reads: their sources are
# left out (~1 GB; their Kconfig and Makefiles stay, kbuild reads them:
# even other architectures' Kconfig files are, drivers/ras/Kconfig sources
# arch/x86/ras/Kconfig).
mmn_ksrc_pruned=(drivers/gpu drivers/net drivers/media drivers/staging sound Documentation)

mmn_ksrc_fetch() {
    local src=$1 ver=$2 dest=$3 dl dsc orig deb up d excl=()
    dl="$mmn_k_cache/ksrc-dl"
    mkdir -p "$dl"
    up=${ver#*:}
    up=${up%-*}
    dsc="$dl/${src}_${ver#*:}.dsc"
    echo "mmn-smmu: downloading the source $src=$ver (apt-get source)" >&2
    (cd "$dl" && apt-get source --download-only -q "$src=$ver" >"$dl/${src}_$ver.log" 2>&1) || true
    orig=$(sed -n '/^Files:/,/^[A-Z]/p' "$dsc" 2>/dev/null | awk '{print $3}' | grep -E '\.orig\.tar\.' | sed -n 1p || true)
    deb=$(sed -n '/^Files:/,/^[A-Z]/p' "$dsc" 2>/dev/null | awk '{print $3}' | grep -E '\.debian\.tar\.' | sed -n 1p || true)
    if [ -z "$orig" ] || [ ! -f "$dl/$orig" ]; then
        if grep -q "${orig:-orig\.tar}.* 404 " "$dl/${src}_$ver.log"; then
            mmn_ksrc_refusal "mmn-smmu: cannot prepare $K_KREL ($K_PKG $K_VERSION): the" \
                "archive has no linux-headers-$K_KREL, and its exact source" \
                "$src=$ver, although listed by apt's deb-src lists, is gone" \
                "from the mirror: 'apt-get source' got 404 Not Found for" \
                "${orig:-its orig tarball} (log: $dl/${src}_$ver.log). A module" \
                "is never built against a near version, so this build is" \
                "refused; choose another (guest-repro.sh --list-kernels), or" \
                "add a deb-src line that still carries $src $ver (e.g." \
                "snapshot.debian.org) and run 'apt-get update'."
            return 3
        fi
        grep -E '^(E|W):' "$dl/${src}_$ver.log" | grep -v unsandboxed | sed -n 1,3p >&2
        mmn_k_say "mmn-smmu: 'apt-get source --download-only $src=$ver' did not" \
            "give the orig tarball of $K_KREL's source (log:" \
            "$dl/${src}_$ver.log). Check the network and the deb-src lines and" \
            "run the same command again."
        return 1
    fi
    rm -rf "$dest"
    if [ -n "$deb" ] && [ -f "$dl/$deb" ]; then
        echo "mmn-smmu: unpacking $src $ver with Debian's patches (dpkg-source -x)" >&2
        mkdir -p "$(dirname "$dest")"
        dpkg-source -q -x "$dsc" "$dest" > "$dl/${src}_$ver.unpack.log" 2>&1 || {
            tail -n 5 "$dl/${src}_$ver.unpack.log" >&2
            mmn_k_say "mmn-smmu: dpkg-source -x $dsc failed (log above)."
            return 1
        }
        # dpkg-source leaves a copy of the orig tarball next to the tree.
        rm -f "$(dirname "$dest")/$orig"
        for d in "${mmn_ksrc_pruned[@]}"; do
            find "$dest/$d" -type f \( -name '*.[chS]' -o -name '*.rst' -o -name '*.txt' \
                 -o -name '*.yaml' \) -delete 2>/dev/null || true
        done
        _patched=yes
        return 0
    fi
    # Debian's part is missing: the orig tarball alone.
    echo "mmn-smmu: unpacking $orig (Debian's ${deb:-debian tarball} is not on the mirror)" >&2
    for d in "${mmn_ksrc_pruned[@]}"; do
        excl+=(--exclude="*/$d/*.[chS]" --exclude="*/$d/*.rst" --exclude="*/$d/*.txt"
               --exclude="*/$d/*.yaml")
    done
    mkdir -p "$dest"
    tar -xf "$dl/$orig" -C "$dest" --strip-components=1 --wildcards "${excl[@]}" || {
        mmn_k_say "mmn-smmu: could not unpack $dl/$orig."
        return 1
    }
    _patched=no
}

# mmn_ksrc_index KDIR: KDIR/.mmn/exports: "symbol macro file" for every
# EXPORT_* in the tree's C and assembly sources (arm64 and generic).
mmn_ksrc_index() {
    local kdir=$1
    (cd "$kdir" || exit 1; grep -rnoE --include='*.c' --include='*.S' --include='*.h' \
        --exclude-dir=Documentation --exclude-dir=tools --exclude-dir=samples \
        --exclude-dir=scripts --exclude-dir=.pc --exclude-dir=debian \
        '\b(EXPORT_SYMBOL|EXPORT_SYMBOL_GPL|EXPORT_SYMBOL_NS|EXPORT_SYMBOL_NS_GPL|EXPORT_TRACEPOINT_SYMBOL|EXPORT_TRACEPOINT_SYMBOL_GPL|EXPORT_PER_CPU_SYMBOL|EXPORT_PER_CPU_SYMBOL_GPL)\([[:space:]]*[A-Za-z_][A-Za-z0-9_]*' \
        . 2>/dev/null || true) |
        awk -F: '{
            f = $1; sub(/^\.\//, "", f)
            if (f ~ /^arch\// && f !~ /^arch\/arm64\//) next
            m = $3; sub(/\(.*/, "", m)
            s = $3; sub(/^[^(]*\([[:space:]]*/, "", s)
            print s, m, f
        }' > "$kdir/.mmn/exports"
    # C files that export from inside a macro (drivers/base/core.c's
    # define_dev_printk_level(_dev_err, ...)), for mmn_ksrc_objects_of.
    (cd "$kdir" || exit 1; grep -rlzP --include='*.c' --exclude-dir=Documentation \
        --exclude-dir=tools --exclude-dir=samples --exclude-dir=scripts \
        --exclude-dir=.pc --exclude-dir=debian \
        '(\\\n[ \t]*EXPORT_\w*\([ \t]*\w+[ \t]*\))|(EXPORT_\w*\([ \t]*\w+[ \t]*\)[ \t;]*\\\n)' \
        . 2>/dev/null || true) | sed 's|^\./||' > "$kdir/.mmn/macro-exporters"
}

# mmn_ksrc_available: apt's deb-src lists have the exact source K_SRC of
# the build in K_*; else its refusal paragraph and status 1.
mmn_ksrc_available() {
    local src=${K_SRC%%=*} ver=${K_SRC#*=}
    if ! apt-cache showsrc "$src" 2>/dev/null | grep -x "Version: $ver" >/dev/null; then
        mmn_ksrc_refuse "$src" "$ver"
        return 3
    fi
}

# mmn_ksrc_prepare: see the header.  Uses K_KREL K_PKG K_VERSION K_SRC
# K_CONFIG K_SERIES from kernels.sh.
mmn_ksrc_prepare() {
    local src=${K_SRC%%=*} ver=${K_SRC#*=} tree log t0 diffs
    tree="$mmn_k_cache/ksrc/${K_KREL}_${ver//:/%3a}"
    mmn_ksrc_available || return
    K_KDIR=$tree
    K_PREP=exact-source
    if [ -f "$tree/.mmn/prepared" ]; then
        K_PREP_TEXT=$(cat "$tree/.mmn/prepared")
        return 0
    fi
    t0=$(date +%s)
    echo "mmn-smmu: $K_KREL has no linux-headers in the archive; preparing it" \
         "from its exact source $src=$ver (once; a few minutes)" >&2
    mmn_ksrc_fetch "$src" "$ver" "$tree" || return
    mkdir -p "$tree/.mmn"
    echo "$K_KREL" > "$tree/.mmn/krel"
    cp "$K_CONFIG" "$tree/.config"
    log="$tree/.mmn/prepare.log"
    if ! mmn_ksrc_make "$tree" olddefconfig > "$log" 2>&1 ||
       ! mmn_ksrc_make "$tree" modules_prepare >> "$log" 2>&1; then
        tail -n 20 "$log" >&2
        mmn_k_say "mmn-smmu: 'make modules_prepare' failed in $tree for" \
            "$K_KREL (log above, full log in $log). It needs the host tools" \
            "scripts/mmn-smmu/install-deps.sh installs (libelf-dev, libssl-dev," \
            "flex, bison, bc)."
        return 1
    fi
    # Options of the image's config that olddefconfig dropped or changed
    # (Kconfig symbols of Debian's patches when they are missing, the
    # compat vDSO without an arm32 compiler); the toolchain's own
    # descriptions (CC_VERSION_TEXT, RUSTC_*) do not count.
    diff <(grep -E '^CONFIG_' "$K_CONFIG" | sort) <(grep -E '^CONFIG_' "$tree/.config" | sort) |
        grep '^[<>]' > "$tree/.mmn/config-diff" || true
    diffs=$(grep '^<' "$tree/.mmn/config-diff" |
            grep -cvE '^< CONFIG_(CC_VERSION_TEXT|RUSTC_[A-Z_]*|BUILD_SALT)=' || true)
    mmn_ksrc_index "$tree"
    if [ "$_patched" = yes ]; then
        K_PREP_TEXT="exact source $src $ver (Debian's patches applied) + image config"
    else
        K_PREP_TEXT="exact source $src $ver (orig tarball: Debian's patches are not on the mirror) + image config"
    fi
    [ "$diffs" = 0 ] || K_PREP_TEXT="$K_PREP_TEXT; $diffs option(s) of it not in this tree ($tree/.mmn/config-diff)"
    echo "$K_PREP_TEXT" > "$tree/.mmn/prepared"
    : > "$tree/.mmn/crcs"
    # The download (about 150 MB) is not needed any more; apt-get source
    # fetches it again in seconds should the tree be prepared again.
    local up=${ver#*:}
    up=${up%-*}
    rm -f "$mmn_k_cache/ksrc-dl/${src}_${ver#*:}".* "$mmn_k_cache/ksrc-dl/${src}_$up".orig.tar.*
    echo "mmn-smmu: $K_KREL prepared in $(( $(date +%s) - t0 )) s: $K_PREP_TEXT" >&2
}

# mmn_ksrc_configured KDIR OBJ: OBJ (dir/name.o) is part of this
# configuration, as far as its directory's Makefile says: listed in obj-y,
# lib-y, obj-$(CONFIG_X) with X=y or m, or in a composite object or a list
# variable (mmu-$(CONFIG_MMU) := ... memory.o in mm/Makefile, used as
# $(mmu-y)) that is.
mmn_ksrc_configured() {
    local kdir=$1 obj=$2 mk
    mk="$kdir/$(dirname "$obj")/Makefile"
    [ -f "$mk" ] || return 0
    _mmn_ksrc_listed "$kdir" "$mk" "(^|[[:space:]=])$(basename "$obj" | sed 's/\./\\./g')([[:space:]]|\$)" 0
}

# _mmn_ksrc_listed KDIR MAKEFILE REGEX DEPTH: a line matching REGEX assigns
# to a variable that ends up built.
_mmn_ksrc_listed() {
    local kdir=$1 mk=$2 re=$3 depth=$4 lines lhs cfg comp
    [ "$depth" -lt 4 ] || return 1
    lines=$(sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' "$mk" | grep -E "$re" || true)
    [ -n "$lines" ] || return 1
    while read -r lhs; do
        lhs=${lhs%%[+:?]=*}
        lhs=${lhs%%=*}
        lhs=$(echo "$lhs" | tr -d '[:space:]')
        case "$lhs" in
        obj-y|lib-y|obj-m|core-y|extra-y) return 0 ;;
        *"\$(CONFIG_"*)
            cfg=$(echo "$lhs" | sed -nE 's/.*\$\((CONFIG_[A-Za-z0-9_]+)\).*/\1/p')
            grep -qE "^$cfg=(y|m)" "$kdir/.config" || continue
            comp=${lhs%%-\$\(*} ;;
        *-y|*-objs)
            comp=${lhs%-y}
            comp=${comp%-objs} ;;
        *) continue ;;
        esac
        case "$comp" in
        obj|lib|core) return 0 ;;
        esac
        # A composite object comp.o, or a list used as $(comp-y).
        _mmn_ksrc_listed "$kdir" "$mk" "(^|[[:space:]=])${comp}\.o([[:space:]]|\$)" $((depth + 1)) && return 0
        _mmn_ksrc_listed "$kdir" "$mk" "\\$\\(${comp}-y\\)" $((depth + 1)) && return 0
    done <<< "$lines"
    return 1
}

# mmn_ksrc_objects_of KDIR SYM: the objects that may export SYM.
mmn_ksrc_objects_of() {
    local kdir=$1 sym=$2 files f o inc
    files=$(awk -v s="$sym" '
        $1 == s ||
        ($2 ~ /TRACEPOINT/ && ("__tracepoint_" $1 == s || "__traceiter_" $1 == s)) ||
        ($2 ~ /PER_CPU/ && $1 == s) { print $3 }' "$kdir/.mmn/exports" | sort -u)
    if [ -z "$files" ]; then
        # Exported from inside a macro: a macro call naming the symbol, in
        # a file that exports from a macro, else anywhere.
        local re="^[a-z_]+\\([[:space:]]*${sym}[[:space:]]*[,)]"
        files=$(cd "$kdir" || exit 1
                xargs -r grep -lE "$re" < .mmn/macro-exporters 2>/dev/null | sed -n 1,5p || true)
        [ -n "$files" ] || files=$(cd "$kdir" || exit 1
                grep -rlE --include='*.c' --exclude-dir=Documentation --exclude-dir=tools \
                    --exclude-dir=.pc --exclude-dir=debian "$re" . 2>/dev/null | sed 's|^\./||' | sed -n 1,5p || true)
    fi
    for f in $files; do
        o=${f%.*}.o
        if ! grep -qw "$(basename "$o")" "$kdir/$(dirname "$o")/Makefile" 2>/dev/null; then
            # A file #included by another one (kernel/sched/wait.c by
            # build_utility.c).
            inc=$(cd "$kdir" || exit 0
                  grep -lE "^#include \"$(basename "$f")\"" "$(dirname "$f")"/*.c 2>/dev/null |
                  sed -n 1p || true)
            [ -n "$inc" ] || continue
            o=${inc%.c}.o
        fi
        mmn_ksrc_configured "$kdir" "$o" && echo "$o"
    done | sort -u
}

# mmn_ksrc_symvers KDIR OUT OBJ...: see the header.
mmn_ksrc_symvers() {
    local kdir=$1 out=$2 sym o objs=() missing=() need=() crcs lockfd log line
    shift 2
    crcs="$kdir/.mmn/crcs"
    mapfile -t need < <({ for o in "$@"; do aarch64-linux-gnu-nm -u "$o" | awk '{print $2}'; done
                         echo module_layout; } | grep -vx '__this_module' | sort -u)
    exec {lockfd}>"$kdir/.mmn/lock"
    flock "$lockfd"
    for sym in "${need[@]}"; do
        grep -q "^$sym " "$crcs" || missing+=("$sym")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        for sym in "${missing[@]}"; do
            mapfile -t -O "${#objs[@]}" objs < <(mmn_ksrc_objects_of "$kdir" "$sym")
        done
        mapfile -t objs < <(printf '%s\n' "${objs[@]}" | sort -u | grep .)
        echo "mmn-smmu: building ${#objs[@]} object(s) of $(cat "$kdir/.mmn/krel") for the CRCs of ${#missing[@]} symbol(s)" >&2
        log="$kdir/.mmn/crc-build.log"
        mmn_ksrc_make "$kdir" -k "${objs[@]}" > "$log" 2>&1 || true
        for o in "${objs[@]}"; do
            line="$kdir/$(dirname "$o")/.$(basename "$o").cmd"
            [ -f "$line" ] || continue
            # An object of a module, not of vmlinux: its exports are not
            # the kernel's.
            ! grep -q -- '-DMODULE\b' "$line" || continue
            sed -n "s|^#SYMVER \([^ ]*\) \(0x[0-9a-f]*\)\$|\1 \2 $o|p" "$line"
        done > "$crcs.new"
        # type (GPL or not) from the source's export macro
        awk 'NR == FNR { if ($2 ~ /GPL/) gpl[$1] = 1; next }
             { print $1, $2, (($1 in gpl) ? "EXPORT_SYMBOL_GPL" : "EXPORT_SYMBOL"), $3 }' \
            "$kdir/.mmn/exports" "$crcs.new" >> "$crcs"
        rm -f "$crcs.new"
        sort -u -k1,1 "$crcs" -o "$crcs"
    fi
    missing=()
    : > "$out.tmp"
    for sym in "${need[@]}"; do
        line=$(grep "^$sym " "$crcs" | sed -n 1p) || true
        if [ -z "$line" ]; then
            missing+=("$sym")
            continue
        fi
        # shellcheck disable=SC2086
        set -- $line
        printf '%s\t%s\tvmlinux\t%s\t\n' "$2" "$1" "$3" >> "$out.tmp"
    done
    exec {lockfd}>&-
    if [ ${#missing[@]} -gt 0 ]; then
        rm -f "$out.tmp"
        mmn_k_say "mmn-smmu: no CRC for ${missing[*]} in $kdir: no object of" \
            "this configuration that exports it could be built (log:" \
            "$kdir/.mmn/crc-build.log). The module imports it, and without" \
            "the CRC the kernel was built with it cannot load cleanly, so it" \
            "is not built. If the symbol comes from a module rather than" \
            "vmlinux, load-time dependencies between modules are not handled" \
            "here; use a build with archive headers."
        return 1
    fi
    mv "$out.tmp" "$out"
}
