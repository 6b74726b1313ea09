# shellcheck shell=bash disable=SC2034
# (sets the K_* variables for its caller)
# Guest kernels: which ones exist, which one a user means, and how to get
# each ready to boot and to build an out-of-tree module against.  Sourced
# by every guest command (guest-test.sh, guest-show.sh, guest-repro.sh,
# guest-shell.sh, fetch-guest.sh); not run.  Needs bash, set -euo pipefail
# is fine.
#
# Kernel specs (--kernel SPEC, --kernels FROM..TO)
#   6.1, 6.12               the newest Debian arm64 build of that series
#   6.1.0-47, 6.12.74+deb12 one build, named as in its image package
#                           linux-image-<name>-<flavour>
#   ...-arm64, -arm64-16k, -16k, -cloud-arm64, -rt-arm64   the flavour
#                           (default -arm64), e.g. 6.12.74+deb12-arm64-16k
#   6.12.74-2~bpo12+1       the Debian version of the image package
#   6.12.74                 the one +debNN build of that upstream release
#   PATH                    a kernel build tree of your own
#                           (arch/arm64/boot/Image, Module.symvers)
#   FROM..TO                every build of one series from FROM to TO
#                           in Debian version order (dpkg --compare-versions)
# Every build apt can see is listed once (apt-cache show of the arm64
# linux-image-* and linux-headers-* packages) into a table cached under
# ${MMN_CACHE:-~/.cache/mmn-smmu}/guest and rebuilt when apt's lists change.
#
# Preparation: one of three ways, always said in the output
#   archive headers     Debian's linux-headers-<krel> (+ -common, and the
#                       host's linux-kbuild-<ver> installed with apt), as
#                       guest.md describes;
#   exact source        when the archive has no headers for the image: the
#                       image's own source package version, its
#                       /boot/config-<krel> and a Module.symvers of the real
#                       CRCs of what the module imports
#                       (scripts/mmn-smmu/lib/kernel-source.sh explains why
#                       this is sound, from check_version());
#   user tree           your build tree, used as it is.
# A build with neither headers nor its exact source is refused: a module is
# never built against a near version.
#
# Functions
#   mmn_kernels_resolve SPEC      print one build id per line ("PKG=VERSION"
#                                 or "tree:/abs/path"); one paragraph on
#                                 stderr and status 2 for a bad spec
#   mmn_kernels_prepare ID [image]  fetch and prepare; print the path of
#                                 the build's env file (K_* variables below);
#                                 "image": only the image, for a guest that
#                                 loads no module of ours
#   mmn_kernels_prepare_all [--image-only] SPEC...   resolve and prepare
#                                 every build the specs name (each once, in
#                                 order) into MMN_KENVS; one line a build on
#                                 stderr saying how it was prepared; status
#                                 2 for a bad spec (nothing prepared), 1
#                                 when some named by --kernel cannot be
#                                 prepared (their ids in MMN_KFAILED, the
#                                 others prepared); builds of a FROM..TO
#                                 range that cannot be are skipped, as by
#                                 'git bisect skip' (MMN_KSKIPPED)
#   mmn_kernels_load ENVFILE      set the K_* variables of one build
#   mmn_kernels_busybox           print the path of the static arm64 busybox
#   mmn_kernels_fetch_deb PKG VER [all]   download and unpack a package once
# K_* (env file of a build)
#   K_NAME    what rows call it: the kernel release (uname -r)
#   K_KREL K_SERIES K_FLAVOUR K_PKG K_VERSION K_SRC (source package=version)
#   K_IMAGE   the arm64 Image to boot      K_ROOT  unpacked image package
#   K_CONFIG  its config                   K_KDIR  tree for make -C ... M=
#   K_PREP    archive-headers | exact-source | user-tree | image-only
#   K_PREP_TEXT  the same, said for people (with what it is made of)
#   K_CHANGELOG  the image package's Debian changelog, or empty

mmn_k_cache=${MMN_CACHE:-$HOME/.cache/mmn-smmu}/guest
mmn_k_flavours="arm64-16k cloud-arm64 rt-arm64 arm64"
mmn_k_sudo=
if [ "$(id -u)" != 0 ]; then
    mmn_k_sudo=sudo
fi

# mmn_k_say TEXT...: one paragraph on stderr, wrapped.
mmn_k_say() {
    { echo; echo "$*" | fmt -w 78; echo; } >&2
}

# mmn_k_vsort: sort the Debian versions in the first field of stdin's lines
# (dpkg --compare-versions order), stable; an insertion sort, quick on
# input that sort -V has nearly ordered.
mmn_k_vsort() {
    local -a lines sorted
    local l i j
    mapfile -t lines
    sorted=()
    for l in "${lines[@]}"; do
        [ -n "$l" ] || continue
        i=${#sorted[@]}
        sorted+=("$l")
        while [ "$i" -gt 0 ]; do
            j=$((i - 1))
            if dpkg --compare-versions "${sorted[$j]%% *}" gt "${l%% *}"; then
                sorted[i]=${sorted[$j]}
                sorted[j]=$l
                i=$j
            else
                break
            fi
        done
    done
    [ ${#sorted[@]} -eq 0 ] || printf '%s\n' "${sorted[@]}"
}

# mmn_k_lists_key: changes whenever apt's package lists do.
mmn_k_lists_key() {
    # shellcheck disable=SC2012
    ls -l --time-style=+%s /var/lib/apt/lists/ 2>/dev/null | md5sum | cut -c1-16
}

# mmn_kernels_table: print the path of the table of every Debian arm64
# kernel build apt can see, one a line, in Debian version order:
#   series krelbase flavour krel package version source headers
# (source: "srcpkg=version" of the linux source package the image is built
# from; headers: yes when linux-headers-<krel>:arm64 of that version exists).
mmn_kernels_table() {
    local t="$mmn_k_cache/builds.tsv" key names
    key=$(mmn_k_lists_key)
    if [ -f "$t" ] && [ "$(head -n 1 "$t")" = "# lists $key" ]; then
        echo "$t"
        return 0
    fi
    mkdir -p "$mmn_k_cache"
    names=$(apt-cache search --names-only \
        '^linux-(image|headers)-[0-9]+\.[0-9]+\.[0-9]+(-[0-9]+)?(\+deb[0-9.]+)?-(arm64|arm64-16k|cloud-arm64|rt-arm64)$' |
        awk '{print $1 ":arm64"}' | sort -u)
    {
        echo "# lists $key"
        echo "# series krelbase flavour krel package version source headers"
        # shellcheck disable=SC2086
        [ -z "$names" ] || apt-cache show $names 2>/dev/null | awk -v flv="$mmn_k_flavours" '
            function flush() {
                if (pkg != "" && arch == "arm64") {
                    if (pkg ~ /^linux-headers-/) {
                        hdr[substr(pkg, 15) " " ver] = 1
                    } else {
                        krel = substr(pkg, 13)
                        n = split(flv, f, " ")
                        base = ""
                        for (i = 1; i <= n; i++) {
                            suf = "-" f[i]
                            if (substr(krel, length(krel) - length(suf) + 1) == suf) {
                                base = substr(krel, 1, length(krel) - length(suf))
                                fl = f[i]
                                break
                            }
                        }
                        if (base != "") {
                            split(base, p, ".")
                            sub(/[^0-9].*/, "", p[2])
                            s = src
                            sub(/ .*/, "", s)
                            if (s == "") s = "linux"
                            sub(/-signed/, "", s)
                            sub(/-arm64$/, "", s)
                            img[++ni] = p[1] "." p[2] " " base " " fl " " krel " " pkg " " ver " " s "=" ver
                            ikey[ni] = krel " " ver
                        }
                    }
                }
                pkg = ""; ver = ""; src = ""; arch = ""
            }
            /^Package: / { flush(); pkg = $2 }
            /^Version: / { ver = $2 }
            /^Architecture: / { arch = $2 }
            /^Source: / { src = substr($0, 9) }
            END {
                flush()
                for (i = 1; i <= ni; i++) {
                    if (seen[img[i]]++) continue
                    print img[i] " " (ikey[i] in hdr ? "yes" : "no")
                }
            }' | awk '{print $6, $0}' | sort -V | mmn_k_vsort | cut -d' ' -f2-
    } > "$t.tmp.$$"
    mv "$t.tmp.$$" "$t"
    echo "$t"
}

# mmn_k_rows [SERIES [FLAVOUR]]: the table's builds (no comments).
mmn_k_rows() {
    local t
    t=$(mmn_kernels_table)
    awk -v s="${1:-}" -v f="${2:-}" '!/^#/ && (s == "" || $1 == s) && (f == "" || $3 == f)' "$t"
}

# mmn_k_split SPEC: set _base and _flav from SPEC (flavour suffix stripped).
mmn_k_split() {
    local spec=$1 f
    _base=$spec
    _flav=
    for f in $mmn_k_flavours 16k; do
        case "$spec" in
        *-"$f")
            _base=${spec%-"$f"}
            _flav=$f
            [ "$f" != 16k ] || _flav=arm64-16k
            break ;;
        esac
    done
}

# mmn_k_nearby SPEC: a sentence naming the builds around SPEC.
mmn_k_nearby() {
    local spec=$1 series rows below="" above="" base v
    mmn_k_split "$spec"
    series=$(echo "$_base" | sed -nE 's/^([0-9]+\.[0-9]+).*/\1/p')
    rows=$(mmn_k_rows "$series" "${_flav:-arm64}")
    if [ -z "$series" ] || [ -z "$rows" ]; then
        echo "apt sees these series: $(mmn_k_rows | awk '{print $1}' | sort -u -V | tr '\n' ' ' | sed 's/ $//')" \
             "(flavours: $(mmn_k_rows | awk '{print $3}' | sort -u | tr '\n' ' ' | sed 's/ $//'))."
        return 0
    fi
    while read -r _ base _ _ _ v _; do
        if dpkg --compare-versions "$base" lt "$_base"; then
            below="$base ($v)"
        elif [ -z "$above" ]; then
            above="$base ($v)"
        fi
    done <<< "$rows"
    echo "For $series (-${_flav:-arm64}) apt sees $(echo "$rows" | wc -l) builds, from" \
         "$(echo "$rows" | sed -n 1p | awk '{print $2 " (" $6 ")"}') to" \
         "$(echo "$rows" | tail -n 1 | awk '{print $2 " (" $6 ")"}');" \
         "nearest to '$spec': ${below:-none below}, ${above:-none above}."
}

mmn_k_spec_help="A kernel spec is a series (6.1, 6.12: its newest build), a build as named in its image package (6.1.0-47, 6.12.74+deb12, optionally with a flavour: -arm64, the default, or -arm64-16k, -cloud-arm64, -rt-arm64), the image package's Debian version (6.12.74-2~bpo12+1), FROM..TO for every build of one series in between, or the path of your own kernel build tree."

# mmn_k_find SPEC: print the table row SPEC names; status 1 when none,
# 3 when several.
mmn_k_find() {
    local spec=$1 rows m
    mmn_k_split "$spec"
    if [[ "$_base" =~ ^[0-9]+\.[0-9]+$ ]]; then
        m=$(mmn_k_rows "$_base" "${_flav:-arm64}" | tail -n 1)
        [ -n "$m" ] || return 1
        echo "$m"
        return 0
    fi
    rows=$(mmn_k_rows "" "${_flav:-arm64}")
    m=$(echo "$rows" | awk -v b="$_base" '$2 == b || $6 == b')
    [ -n "$m" ] || m=$(echo "$rows" | awk -v b="$_base" 'index($2, b "+") == 1')
    [ -n "$m" ] || return 1
    if [ "$(echo "$m" | awk '{print $2}' | sort -u | wc -l)" -gt 1 ]; then
        echo "$m"
        return 3
    fi
    # The same build name in several versions: the newest.
    echo "$m" | tail -n 1
}

# mmn_k_bad_spec SPEC STATUS: the paragraph for a spec that names nothing.
mmn_k_bad_spec() {
    local spec=$1 st=$2 m=${3:-}
    if [ "$st" = 3 ]; then
        mmn_k_say "mmn-smmu: the kernel spec '$spec' names several Debian builds:" \
            "$(echo "$m" | awk '{print $2 " (" $6 ")"}' | tr '\n' ',' | sed 's/,$//;s/,/, /g')." \
            "Give one of them. $mmn_k_spec_help"
    else
        mmn_k_say "mmn-smmu: no Debian arm64 kernel build matches the kernel spec" \
            "'$spec'. $(mmn_k_nearby "$spec") $mmn_k_spec_help" \
            "The list is what apt-cache knows (arm64 architecture and the" \
            "bookworm, bookworm-security and bookworm-backports suites, from" \
            "scripts/mmn-smmu/install-deps.sh); after 'apt-get update' it may" \
            "know more."
    fi
}

# mmn_kernels_resolve SPEC: print build ids, one a line (see the header).
mmn_kernels_resolve() {
    local spec=$1 from to rf rt st=0 sf st2 m
    if [[ "$spec" == */* ]] || { [ -d "$spec" ] && [[ "$spec" != *..* ]]; }; then
        [ -d "$spec" ] || {
            mmn_k_say "mmn-smmu: the kernel spec '$spec' looks like a path, but" \
                "there is no such directory. A kernel build tree of your own" \
                "is given by its top directory (the one holding .config," \
                "Module.symvers and arch/arm64/boot/Image). $mmn_k_spec_help"
            return 2
        }
        echo "tree:$(cd "$spec" && pwd)"
        return 0
    fi
    if [[ "$spec" == *..* ]]; then
        from=${spec%%..*}
        to=${spec#*..}
        mmn_k_split "$from"; sf=$_flav
        mmn_k_split "$to"
        [ -n "$sf" ] || sf=$_flav
        [ -n "$_flav" ] || to="$to-${sf:-arm64}"
        [[ "$from" == *-"${sf:-arm64}" ]] || [ -z "$sf" ] || from="$from-$sf"
        if [ -z "$from" ] || [ -z "$to" ]; then
            mmn_k_say "mmn-smmu: the kernel range '$spec' needs both ends," \
                "FROM..TO, e.g. 6.12.43+deb12..6.12.117+deb12. $mmn_k_spec_help"
            return 2
        fi
        rf=$(mmn_k_find "$from") || { st=$?; mmn_k_bad_spec "$from" "$st" "$rf"; return 2; }
        rt=$(mmn_k_find "$to") || { st2=$?; mmn_k_bad_spec "$to" "$st2" "$rt"; return 2; }
        if [ "${rf%% *}" != "${rt%% *}" ]; then
            mmn_k_say "mmn-smmu: the kernel range '$spec' runs from the" \
                "${rf%% *} series to the ${rt%% *} series. A range stays" \
                "within one series: Debian's builds of different series" \
                "come from different source packages and branches, and" \
                "nothing between them is a build (bookworm has no kernel" \
                "between 6.1 and 6.12). Give a range within one series," \
                "e.g. 6.1.0-47..6.1.0-57 or 6.12.43+deb12..6.12.117+deb12" \
                "(--bisect takes one; --kernels can be given once per" \
                "series)."
            return 2
        fi
        local vf series flav vt
        read -r series _ flav _ _ vf _ <<< "$rf"
        read -r _ _ _ _ _ vt _ <<< "$rt"
        if dpkg --compare-versions "$vf" gt "$vt"; then
            mmn_k_say "mmn-smmu: the kernel range '$spec' is backwards:" \
                "$from ($vf) is newer than $to ($vt). Write the older" \
                "build first."
            return 2
        fi
        mmn_k_rows "$series" "$flav" | while read -r _ _ _ _ pkg v _; do
            if dpkg --compare-versions "$v" ge "$vf" && dpkg --compare-versions "$v" le "$vt"; then
                echo "$pkg=$v"
            fi
        done
        return 0
    fi
    m=$(mmn_k_find "$spec") || { st=$?; mmn_k_bad_spec "$spec" "$st" "$m"; return 2; }
    echo "$m" | awk '{print $5 "=" $6}'
}

# mmn_k_row_of PKG VERSION: the table row of one build.
mmn_k_row_of() {
    mmn_k_rows | awk -v p="$1" -v v="$2" '$5 == p && $6 == v' | sed -n 1p
}

# mmn_kernels_fetch_deb PKG VERSION [all]: download PKG:arm64=VERSION (or
# the Architecture: all package) once into the cache and unpack it; prints
# the folder.  Same layout as before (pkgs/, debs/), shared by every
# checkout on the machine.
mmn_kernels_fetch_deb() {
    local pkg=$1 ver=$2 arch=${3:-arm64} dir deb log spec
    dir="$mmn_k_cache/pkgs/${pkg}_${ver//:/%3a}"
    if [ -f "$dir/.mmn-unpacked" ]; then
        echo "$dir"
        return 0
    fi
    mkdir -p "$mmn_k_cache/debs"
    deb="$mmn_k_cache/debs/${pkg}_${ver//:/%3a}_$arch.deb"
    spec="$pkg:arm64=$ver"
    [ "$arch" = arm64 ] || spec="$pkg=$ver"
    if [ ! -f "$deb" ]; then
        echo "mmn-smmu: downloading $spec" >&2
        if ! log=$(cd "$mmn_k_cache/debs" && apt-get download -q "$spec" 2>&1) ||
           [ ! -f "$deb" ]; then
            # Stale lists name files the mirror has dropped: once more
            # after apt-get update.
            echo "mmn-smmu: $(echo "$log" | grep -E '^E:' | sed -n 1p); apt-get update and again" >&2
            $mmn_k_sudo apt-get update -qq >/dev/null 2>&1 || true
            if ! log=$(cd "$mmn_k_cache/debs" && apt-get download -q "$spec" 2>&1) ||
               [ ! -f "$deb" ]; then
                echo "$log" | grep -E '^E:' | sed -n 1,3p >&2
                return 1
            fi
        fi
    fi
    rm -rf "$dir" "$dir.tmp.$$"
    mkdir -p "$dir.tmp.$$"
    dpkg-deb -x "$deb" "$dir.tmp.$$"
    touch "$dir.tmp.$$/.mmn-unpacked"
    mv "$dir.tmp.$$" "$dir" 2>/dev/null || rm -rf "$dir.tmp.$$"
    # Unpacked is what is used; the .deb (up to 90 MB) is fetched again if
    # the folder is ever removed.
    rm -f "$deb"
    echo "$dir"
}

# mmn_kernels_busybox: the static arm64 busybox (newest busybox-static).
mmn_kernels_busybox() {
    local v dir
    v=$(apt-cache madison busybox-static:arm64 2>/dev/null |
        awk -F' *[|] *' '$3 ~ /arm64 Packages/ {print $2}' | sort -u | awk '{print $1, $1}' |
        mmn_k_vsort | tail -n 1 | cut -d' ' -f1)
    [ -n "$v" ] || {
        mmn_k_say "mmn-smmu: apt knows no busybox-static:arm64. The guests'" \
            "initramfs is Debian's static arm64 busybox; enable the arm64" \
            "architecture (scripts/mmn-smmu/install-deps.sh does) and run" \
            "'apt-get update'."
        return 1
    }
    dir=$(mmn_kernels_fetch_deb busybox-static "$v") || return 1
    [ -x "$dir/bin/busybox" ] || { mmn_k_say "mmn-smmu: busybox-static $v has no /bin/busybox."; return 1; }
    echo "$dir/bin/busybox"
}

# mmn_k_headers KREL VERSION: prepare Debian's linux-headers of one build
# into a private root (guest.md: the -common Makefile include and the
# linux-kbuild links); prints the tree for make -C.
mmn_k_headers() {
    local krel=$1 ver=$2 dep common kbuild root kdir d
    dep=$(apt-cache show "linux-headers-$krel:arm64=$ver" 2>/dev/null | sed -n 's/^Depends: //p' | sed -n 1p)
    common=$(echo "$dep" | grep -o 'linux-headers-[^ ,]*-common[^ ,]*' | sed -n 1p)
    kbuild=$(echo "$dep" | grep -o 'linux-kbuild-[^ ,]*' | sed -n 1p)
    if [ -z "$common" ] || [ -z "$kbuild" ]; then
        echo "mmn-smmu: linux-headers-$krel:arm64=$ver names no -common or linux-kbuild package" >&2
        return 1
    fi
    root="$mmn_k_cache/kheaders/${krel}_$ver"
    kdir="$root/usr/src/linux-headers-$krel"
    # The host (amd64) kbuild tools: linux-kbuild-6.1 (>= VERSION), one
    # package for every 6.1 build, or linux-kbuild-6.12.NN+deb12.
    if [ ! -x "/usr/lib/$kbuild/scripts/mod/modpost" ]; then
        echo "mmn-smmu: installing $kbuild (host tools for kbuild)" >&2
        DEBIAN_FRONTEND=noninteractive $mmn_k_sudo apt-get install -y -qq \
            --no-install-recommends "$kbuild" >/dev/null || {
            echo "mmn-smmu: could not install $kbuild with apt-get" >&2
            return 1
        }
    fi
    if [ ! -f "$root/.mmn-unpacked" ]; then
        rm -rf "$root"
        mkdir -p "$root"
        d=$(mmn_kernels_fetch_deb "linux-headers-$krel" "$ver") || return 1
        cp -a "$d/." "$root/"
        d=$(mmn_kernels_fetch_deb "$common" "$ver" all) || return 1
        cp -a "$d/." "$root/"
        sed -i "s|/usr/src/$common/|$root/usr/src/$common/|g" "$kdir/Makefile"
        mkdir -p "$root/usr/lib"
        ln -sfn "/usr/lib/$kbuild" "$root/usr/lib/$kbuild"
        rm -f "$root/.mmn-unpacked"
        touch "$root/.mmn-unpacked"
    fi
    if [ ! -f "$kdir/Module.symvers" ] || [ ! -x "$kdir/scripts/mod/modpost" ]; then
        echo "mmn-smmu: linux-headers-$krel ($ver) did not give a usable kbuild tree at $kdir" >&2
        return 1
    fi
    echo "$kdir"
}

# mmn_k_write_env FILE: write the K_* variables.
mmn_k_write_env() {
    local v
    {
        echo "# scripts/mmn-smmu/lib/kernels.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        for v in K_NAME K_KREL K_SERIES K_FLAVOUR K_PKG K_VERSION K_SRC K_IMAGE \
                 K_ROOT K_CONFIG K_KDIR K_PREP K_PREP_TEXT K_CHANGELOG; do
            printf '%s=%q\n' "$v" "${!v:-}"
        done
    } > "$1.tmp.$$"
    mv "$1.tmp.$$" "$1"
}

# mmn_kernels_load ENVFILE: set the K_* variables of one build.
mmn_kernels_load() {
    K_NAME='' K_KREL='' K_SERIES='' K_FLAVOUR='' K_PKG='' K_VERSION='' K_SRC=''
    K_IMAGE='' K_ROOT='' K_CONFIG='' K_KDIR='' K_PREP='' K_PREP_TEXT='' K_CHANGELOG=''
    # shellcheck disable=SC1090
    . "$1"
}

# mmn_k_env_ok FILE [image]: the env file exists and what it names is
# still there (only the image, with "image").
mmn_k_env_ok() {
    [ -f "$1" ] || return 1
    (
        mmn_kernels_load "$1"
        [ -f "$K_IMAGE" ] || exit 1
        [ "${2:-}" = image ] && exit 0
        [ -f "$K_KDIR/Makefile" ] && [ -x "$K_KDIR/scripts/mod/modpost" ]
    )
}

# mmn_k_tree DIR: a user's kernel build tree; writes its env file.
mmn_k_tree() {
    local t=$1 env missing=()
    [ -f "$t/arch/arm64/boot/Image" ] || missing+=("arch/arm64/boot/Image (make ARCH=arm64 Image)")
    [ -f "$t/Module.symvers" ] || missing+=("Module.symvers (make ARCH=arm64 modules, or a full build)")
    [ -f "$t/.config" ] || missing+=(".config")
    [ -x "$t/scripts/mod/modpost" ] || missing+=("scripts/mod/modpost (make ARCH=arm64 modules_prepare)")
    if [ ${#missing[@]} -gt 0 ]; then
        mmn_k_say "mmn-smmu: $t is not a kernel build tree the guest tests can" \
            "use: it has no $(printf '%s; ' "${missing[@]}" | sed 's/; $//')." \
            "The guest boots the tree's arch/arm64/boot/Image and builds" \
            "mmn_smmu_drv.ko against it with 'make -C <tree> M=...', which" \
            "needs the Module.symvers of that very build (the CRCs the" \
            "kernel checks when the module loads) and a tree prepared for" \
            "external modules. Build the kernel fully (make ARCH=arm64" \
            "CROSS_COMPILE=aarch64-linux-gnu- Image modules) and pass its top" \
            "directory."
        return 1
    fi
    K_KDIR=$t
    K_IMAGE="$t/arch/arm64/boot/Image"
    K_CONFIG="$t/.config"
    K_KREL=$(cat "$t/include/config/kernel.release" 2>/dev/null ||
             make -s -C "$t" ARCH=arm64 kernelrelease 2>/dev/null || echo unknown)
    K_NAME=$K_KREL
    K_SERIES=$(echo "$K_KREL" | sed -nE 's/^([0-9]+\.[0-9]+).*/\1/p')
    K_FLAVOUR=user
    K_PKG=
    K_VERSION=$K_KREL
    K_SRC=
    K_ROOT=
    K_PREP=user-tree
    K_PREP_TEXT="user tree $t"
    K_CHANGELOG=
    mkdir -p "$mmn_k_cache/kernels"
    env="$mmn_k_cache/kernels/tree-$(echo "$t" | md5sum | cut -c1-12).env"
    mmn_k_write_env "$env"
    echo "$env"
}

# mmn_k_refused ENV STATUS: after a refusal (status 3) remember its
# paragraph ($ENV.why, already shown) with the apt lists it was made with.
mmn_k_refused() {
    local env=$1 st=$2
    if [ "$st" = 3 ] && [ -f "$env.why" ]; then
        { echo "# lists $(mmn_k_lists_key)"; cat "$env.why"; } > "$env.refused"
    fi
    rm -f "$env.why"
}

# mmn_kernels_prepare ID: see the header.
mmn_kernels_prepare() {
    local id=$1 only=${2:-} pkg ver row env root lockfd st
    if [[ "$id" == tree:* ]]; then
        mmn_k_tree "${id#tree:}"
        return
    fi
    pkg=${id%%=*}
    ver=${id#*=}
    env="$mmn_k_cache/kernels/${pkg#linux-image-}_${ver//:/%3a}.env"
    if [ "${MMN_GUEST_REFRESH:-0}" != 1 ] && mmn_k_env_ok "$env"; then
        echo "$env"
        return 0
    fi
    if [ "$only" = image ]; then
        env="${env%.env}.image.env"
        if [ "${MMN_GUEST_REFRESH:-0}" != 1 ] && mmn_k_env_ok "$env" image; then
            echo "$env"
            return 0
        fi
    elif [ -f "$env.refused" ] && [ "$(sed -n 1p "$env.refused")" = "# lists $(mmn_k_lists_key)" ]; then
        # Refused before with the same apt lists: the same paragraph, at
        # once (a bisection skips such builds without asking apt again).
        sed -n '2,$p' "$env.refused" >&2
        return 1
    fi
    row=$(mmn_k_row_of "$pkg" "$ver")
    [ -n "$row" ] || { mmn_k_say "mmn-smmu: apt no longer lists $pkg:arm64=$ver."; return 1; }
    mkdir -p "$mmn_k_cache/kernels"
    exec {lockfd}>"$env.lock"
    flock "$lockfd"
    if [ "${MMN_GUEST_REFRESH:-0}" != 1 ] && mmn_k_env_ok "$env"; then
        exec {lockfd}>&-
        echo "$env"
        return 0
    fi
    # shellcheck disable=SC2086
    set -- $row
    K_SERIES=$1 K_FLAVOUR=$3 K_KREL=$4 K_PKG=$5 K_VERSION=$6 K_SRC=$7
    K_NAME=$K_KREL
    if [ "$only" != image ] && [ "$8" != yes ]; then
        # No headers: refuse before downloading anything when the exact
        # source is not there either.
        # shellcheck source=scripts/mmn-smmu/lib/kernel-source.sh
        . "$(dirname "${BASH_SOURCE[0]}")/kernel-source.sh"
        st=0
        MMN_K_WHY="$env.why" mmn_ksrc_available || st=$?
        if [ "$st" != 0 ]; then
            mmn_k_refused "$env" "$st"
            exec {lockfd}>&-
            return 1
        fi
    fi
    root=$(mmn_kernels_fetch_deb "$K_PKG" "$K_VERSION") || {
        exec {lockfd}>&-
        mmn_k_say "mmn-smmu: could not download $K_PKG:arm64=$K_VERSION with apt-get download."
        return 1
    }
    K_ROOT=$root
    K_IMAGE="$root/boot/vmlinuz-$K_KREL"
    K_CONFIG="$root/boot/config-$K_KREL"
    K_CHANGELOG=$(find "$root/usr/share/doc/$K_PKG" -maxdepth 1 -name 'changelog*.gz' 2>/dev/null | sort | sed -n 1p)
    if [ ! -f "$K_IMAGE" ] || [ ! -f "$K_CONFIG" ]; then
        exec {lockfd}>&-
        mmn_k_say "mmn-smmu: $K_PKG $K_VERSION has no /boot/vmlinuz-$K_KREL or /boot/config-$K_KREL."
        return 1
    fi
    if [ "$only" = image ]; then
        K_KDIR=''
        K_PREP=image-only
        K_PREP_TEXT="image only (no module is built for this guest)"
    elif [ "$8" = yes ]; then
        K_KDIR=$(mmn_k_headers "$K_KREL" "$K_VERSION") || { exec {lockfd}>&-; return 1; }
        K_PREP=archive-headers
        K_PREP_TEXT="archive headers (linux-headers-$K_KREL $K_VERSION)"
    else
        # shellcheck source=scripts/mmn-smmu/lib/kernel-source.sh
        . "$(dirname "${BASH_SOURCE[0]}")/kernel-source.sh"
        st=0
        MMN_K_WHY="$env.why" mmn_ksrc_prepare || st=$?
        if [ "$st" != 0 ]; then
            mmn_k_refused "$env" "$st"
            exec {lockfd}>&-
            return 1
        fi
    fi
    mmn_k_write_env "$env"
    exec {lockfd}>&-
    echo "$env"
}

mmn_kernels_prepare_all() {
    local only='' spec id env out
    local -a ids=()
    local -A seen=()
    if [ "${1:-}" = --image-only ]; then
        only=image
        shift
    fi
    local -A ranged=()
    for spec in "$@"; do
        out=$(mmn_kernels_resolve "$spec") || return 2
        while read -r id; do
            if [ -z "$id" ] || [ -n "${seen[$id]:-}" ]; then
                continue
            fi
            seen[$id]=1
            ids+=("$id")
            [[ "$spec" != *..* ]] || ranged[$id]=1
        done <<< "$out"
    done
    MMN_KENVS=()
    MMN_KFAILED=()
    MMN_KSKIPPED=()
    for id in "${ids[@]}"; do
        if ! env=$(mmn_kernels_prepare "$id" $only); then
            if [ -n "${ranged[$id]:-}" ]; then
                MMN_KSKIPPED+=("$id")
                echo "mmn-smmu: kernel ${id#tree:}: skipped, cannot be prepared (above)" >&2
            else
                MMN_KFAILED+=("$id")
                echo "mmn-smmu: kernel ${id#tree:}: not prepared (above)" >&2
            fi
            continue
        fi
        mmn_kernels_load "$env"
        echo "mmn-smmu: kernel $K_NAME${K_PKG:+ ($K_PKG $K_VERSION)}: $K_PREP_TEXT" >&2
        MMN_KENVS+=("$env")
    done
    [ ${#MMN_KFAILED[@]} -eq 0 ]
}

# mmn_kernels_list [SERIES [FLAVOUR]]: every build apt sees, with the way
# it would be prepared: archive headers, exact source (its source version
# is in the deb-src lists), or refused (neither).
mmn_kernels_list() {
    local series=${1:-} flav=${2:-} s base f krel pkg v src hdr way r
    local -A srcvers=()
    printf '%-6s %-22s %-12s %-22s %s\n' series build flavour debian-version preparation
    while read -r s base f krel pkg v src hdr; do
        if [ "$hdr" = yes ]; then
            way="archive headers"
        else
            if [ -z "${srcvers[${src%%=*}]+set}" ]; then
                srcvers[${src%%=*}]=" $(apt-cache showsrc "${src%%=*}" 2>/dev/null |
                    sed -n 's/^Version: //p' | sort -u | tr '\n' ' ')"
            fi
            case "${srcvers[${src%%=*}]}" in
            *" ${src#*=} "*) way="exact source $src + image config" ;;
            *) way="refused: no headers, no exact source $src in deb-src" ;;
            esac
            r="$mmn_k_cache/kernels/${krel}_${v//:/%3a}.env.refused"
            if [ -f "$r" ] && grep -q ' 404 ' "$r"; then
                way="refused: no headers, exact source $src listed but gone from the mirror (404)"
            fi
        fi
        printf '%-6s %-22s %-12s %-22s %s\n' "$s" "$base" "$f" "$v" "$way"
    done < <(mmn_k_rows "$series" "$flav")
}
