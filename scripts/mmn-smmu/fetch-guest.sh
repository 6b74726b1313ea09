#!/usr/bin/env bash
# Obtain what the guest tests boot, from Debian's arm64 packages: the Linux
# 6.1 and 6.12 kernel images, their linux-headers (arm64 + common, to
# cross-build guest modules; the matching amd64 linux-kbuild-<ver> is
# installed with apt-get) and busybox-static.  Exact package names are
# resolved with apt-cache (Debian's ABI numbers move), downloaded with
# 'apt-get download' and unpacked with 'dpkg-deb -x' under
# ${MMN_CACHE:-~/.cache/mmn-smmu}/guest, once.
#
# Prints the path of a shell-sourceable env file that records what was
# resolved and where it is:
#   MMN_GUEST_KERNELS="6.1 6.12"
#   MMN_GUEST_<TAG>_PKG / _VERSION / _KREL / _IMAGE   (TAG: 61, 612)
#   MMN_GUEST_<TAG>_KDIR   kernel build tree for 'make -C ... M=...'
#   MMN_GUEST_BUSYBOX / MMN_GUEST_BUSYBOX_VERSION
# Later runs reuse that file without asking apt while every file it names is
# there; MMN_GUEST_REFRESH=1 resolves (and downloads) again.
#
# Extending (e.g. linux-headers for cross-building a guest module): write a
# resolve_* function that prints "<package> <version>", fetch it with
# fetch_deb, and add its variables in write_env.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${MMN_CACHE:-$HOME/.cache/mmn-smmu}
guest="$cache/guest"
envfile="$guest/guest.env"

SUDO=
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
fi

fail() {
    {
        echo
        echo "mmn-smmu: cannot obtain the guest kernels and busybox: $1."
        echo "The guest tests boot Debian's own arm64 kernels: Linux 6.1 (the" \
             "package linux-image-arm64 depends on in bookworm or" \
             "bookworm-security, linux-image-6.1.0-NN-arm64), Linux 6.12" \
             "(linux-image-6.12.NN+deb12-arm64 from bookworm-security, or" \
             "what linux-image-arm64 depends on in bookworm-backports) and" \
             "busybox-static:arm64. They are found with apt-cache, which needs" \
             "the arm64 architecture enabled ('dpkg --add-architecture arm64'," \
             "done by scripts/mmn-smmu/install-deps.sh), the bookworm," \
             "bookworm-security and bookworm-backports suites in the apt" \
             "sources, and fresh lists ('apt-get update', which this script" \
             "already tried once). Check 'apt-cache madison" \
             "linux-image-arm64:arm64' and run the same command again."
        echo
    } >&2
    exit 1
}

# Highest Debian version among the arguments.
max_version() {
    local best="" v
    for v in "$@"; do
        if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then
            best=$v
        fi
    done
    echo "$best"
}

# Versions of arm64 package $1 that apt can download, one a line.
arm64_versions() {
    apt-cache madison "$1:arm64" 2>/dev/null | awk -F' *[|] *' '$3 ~ /arm64 Packages/ {print $2}' | sort -u
}

# The linux-image-<krel> package that linux-image-arm64 of upstream series
# $1 (6.1, 6.12) depends on: prints "<package> <version>".
meta_image_dep() {
    local series=$1 v dep
    # shellcheck disable=SC2046
    v=$(max_version $(arm64_versions linux-image-arm64 | grep -F "$series." | grep -E "^$series\.[0-9]+-" || true))
    [ -n "$v" ] || return 1
    dep=$(apt-cache show "linux-image-arm64:arm64=$v" 2>/dev/null |
          sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*-arm64\) (= \([^)]*\)).*/\1 \2/p' | head -n 1)
    [ -n "$dep" ] || return 1
    echo "$dep"
}

resolve_linux_image_61() {
    meta_image_dep 6.1
}

resolve_linux_image_612() {
    local name v
    # Newest linux-image-6.12.NN+deb12-arm64 that has an arm64 version
    # (bookworm-security carries 6.12 for bookworm).
    for name in $(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-arm64$' |
                  awk '{print $1}' | sort -V -r); do
        # shellcheck disable=SC2046
        v=$(max_version $(arm64_versions "$name"))
        if [ -n "$v" ]; then
            echo "$name $v"
            return 0
        fi
    done
    # Otherwise bookworm-backports' linux-image-arm64.
    meta_image_dep 6.12
}

resolve_busybox() {
    local v
    # shellcheck disable=SC2046
    v=$(max_version $(arm64_versions busybox-static))
    [ -n "$v" ] || return 1
    echo "busybox-static $v"
}

# fetch_deb PACKAGE VERSION [ARCH]: download PACKAGE:arm64=VERSION (or the
# Architecture: all package when ARCH is "all") once and unpack it; prints
# the folder it is unpacked in.
fetch_deb() {
    local pkg=$1 ver=$2 arch=${3:-arm64} dir deb log spec
    dir="$guest/pkgs/${pkg}_${ver//:/%3a}"
    if [ -f "$dir/.mmn-unpacked" ]; then
        echo "$dir"
        return 0
    fi
    mkdir -p "$guest/debs"
    # apt-get's file name, with an epoch's ':' written as %3a.
    deb="$guest/debs/${pkg}_${ver//:/%3a}_$arch.deb"
    spec="$pkg:arm64=$ver"
    [ "$arch" = arm64 ] || spec="$pkg=$ver"
    if [ ! -f "$deb" ]; then
        echo "mmn-smmu: downloading $spec" >&2
        if ! log=$(cd "$guest/debs" && apt-get download -q "$spec" 2>&1) ||
           [ ! -f "$deb" ]; then
            echo "$log" | grep -E '^(E|W):' | head -n 3 >&2
            return 1
        fi
    fi
    rm -rf "$dir" "$dir.tmp"
    mkdir -p "$dir.tmp"
    dpkg-deb -x "$deb" "$dir.tmp"
    touch "$dir.tmp/.mmn-unpacked"
    mv "$dir.tmp" "$dir"
    echo "$dir"
}

# fetch_kernel TAG WHAT: resolve with resolve_linux_image_TAG, fetch, and
# set K_PKG, K_VER, K_KREL, K_IMAGE.
fetch_kernel() {
    local tag=$1 what=$2 r dir
    r=$("resolve_linux_image_$tag") || { err="no arm64 package found for $what"; return 1; }
    K_PKG=${r% *}
    K_VER=${r#* }
    K_KREL=${K_PKG#linux-image-}
    dir=$(fetch_deb "$K_PKG" "$K_VER") || { err="could not download $K_PKG:arm64=$K_VER"; return 1; }
    K_IMAGE="$dir/boot/vmlinuz-$K_KREL"
    [ -f "$K_IMAGE" ] || { err="$K_PKG has no /boot/vmlinuz-$K_KREL"; return 1; }
    echo "mmn-smmu: guest $what: $K_PKG $K_VER" >&2
    fetch_headers || return 1
}

# resolve_linux_headers KREL VERSION: prints "<common package> <kbuild
# package>" from the Depends of linux-headers-KREL:arm64=VERSION.
resolve_linux_headers() {
    local dep common kbuild
    dep=$(apt-cache show "linux-headers-$1:arm64=$2" 2>/dev/null | sed -n 's/^Depends: //p' | head -n 1)
    common=$(echo "$dep" | grep -o 'linux-headers-[^ ,]*-common' | head -n 1)
    kbuild=$(echo "$dep" | grep -o 'linux-kbuild-[^ ,]*' | head -n 1)
    [ -n "$common" ] && [ -n "$kbuild" ] || return 1
    echo "$common $kbuild"
}

# fetch_headers: for the kernel fetch_kernel just resolved, unpack
# linux-headers-$K_KREL (arm64) and its -common package into one private
# root, install the host's linux-kbuild-<ver> (scripts, tools) with apt and
# apply the two fixes that make the private copy usable (guest.md); sets
# K_KDIR.
fetch_headers() {
    local r common kbuild root d
    r=$(resolve_linux_headers "$K_KREL" "$K_VER") ||
        { err="no linux-headers-$K_KREL:arm64=$K_VER"; return 1; }
    common=${r% *}
    kbuild=${r#* }
    root="$guest/kheaders/${K_KREL}_$K_VER"
    K_KDIR="$root/usr/src/linux-headers-$K_KREL"
    if [ ! -d "/usr/lib/$kbuild" ]; then
        echo "mmn-smmu: installing $kbuild=$K_VER (host tools for kbuild)" >&2
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
            --no-install-recommends "$kbuild=$K_VER" >/dev/null ||
            { err="could not install $kbuild=$K_VER"; return 1; }
    fi
    if [ -f "$root/.mmn-unpacked" ]; then
        return 0
    fi
    rm -rf "$root"
    mkdir -p "$root"
    d=$(fetch_deb "linux-headers-$K_KREL" "$K_VER") ||
        { err="could not download linux-headers-$K_KREL:arm64=$K_VER"; return 1; }
    cp -a "$d/." "$root/"
    d=$(fetch_deb "$common" "$K_VER" all) ||
        { err="could not download $common=$K_VER"; return 1; }
    cp -a "$d/." "$root/"
    # 1. The arm64 Makefile includes the common one by absolute path.
    sed -i "s|/usr/src/$common/|$root/usr/src/$common/|g" "$K_KDIR/Makefile"
    # 2. scripts and tools link to ../../lib/$kbuild: the installed one.
    mkdir -p "$root/usr/lib"
    ln -sfn "/usr/lib/$kbuild" "$root/usr/lib/$kbuild"
    if [ ! -f "$K_KDIR/Module.symvers" ] || [ ! -e "$K_KDIR/scripts/" ]; then
        err="linux-headers-$K_KREL is not a usable kbuild tree"
        return 1
    fi
    rm -f "$root/.mmn-unpacked"
    touch "$root/.mmn-unpacked"
    echo "mmn-smmu: guest headers: $K_KDIR" >&2
}

fetch_all() {
    local r dir
    fetch_kernel 61 "Linux 6.1 kernel" || return 1
    G61=("$K_PKG" "$K_VER" "$K_KREL" "$K_IMAGE" "$K_KDIR")
    fetch_kernel 612 "Linux 6.12 kernel" || return 1
    G612=("$K_PKG" "$K_VER" "$K_KREL" "$K_IMAGE" "$K_KDIR")
    r=$(resolve_busybox) || { err="no arm64 package found for busybox-static"; return 1; }
    dir=$(fetch_deb busybox-static "${r#* }") || { err="could not download busybox-static:arm64=${r#* }"; return 1; }
    BB=("${r#* }" "$dir/bin/busybox")
    [ -x "${BB[1]}" ] || { err="busybox-static has no /bin/busybox"; return 1; }
    echo "mmn-smmu: guest busybox: busybox-static ${BB[0]}" >&2
}

write_env() {
    {
        echo "# Written by scripts/mmn-smmu/fetch-guest.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "MMN_GUEST_KERNELS='6.1 6.12'"
        printf "MMN_GUEST_61_PKG=%q\nMMN_GUEST_61_VERSION=%q\nMMN_GUEST_61_KREL=%q\nMMN_GUEST_61_IMAGE=%q\nMMN_GUEST_61_KDIR=%q\n" "${G61[@]}"
        printf "MMN_GUEST_612_PKG=%q\nMMN_GUEST_612_VERSION=%q\nMMN_GUEST_612_KREL=%q\nMMN_GUEST_612_IMAGE=%q\nMMN_GUEST_612_KDIR=%q\n" "${G612[@]}"
        printf "MMN_GUEST_BUSYBOX_VERSION=%q\nMMN_GUEST_BUSYBOX=%q\n" "${BB[@]}"
    } > "$envfile.tmp"
    mv "$envfile.tmp" "$envfile"
}

# Cached: every file the env file names is still there.
env_ok() {
    [ -f "$envfile" ] || return 1
    (
        # shellcheck disable=SC1090
        . "$envfile"
        [ -f "$MMN_GUEST_61_IMAGE" ] && [ -f "$MMN_GUEST_612_IMAGE" ] && [ -x "$MMN_GUEST_BUSYBOX" ] &&
        [ -f "${MMN_GUEST_61_KDIR:-/nonexistent}/Makefile" ] && [ -f "${MMN_GUEST_612_KDIR:-/nonexistent}/Makefile" ] &&
        [ -x "${MMN_GUEST_61_KDIR}/scripts/mod/modpost" ] && [ -x "${MMN_GUEST_612_KDIR}/scripts/mod/modpost" ]
    )
}

if [ "${MMN_GUEST_REFRESH:-0}" != 1 ] && env_ok; then
    echo "$envfile"
    exit 0
fi

"$here/install-deps.sh"
mkdir -p "$guest"
exec 9>"$guest/.lock"
flock 9

err=""
if ! fetch_all; then
    # Stale lists name packages the mirror has dropped, or lack new ones.
    echo "mmn-smmu: $err; updating apt lists and trying again" >&2
    $SUDO apt-get update -qq || true
    err=""
    fetch_all || fail "$err"
fi
write_env
echo "$envfile"
