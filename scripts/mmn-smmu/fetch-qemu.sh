#!/usr/bin/env bash
# Obtain a pristine QEMU 10.0 tree from Debian's source package, verified
# against pinned checksums, and print its path.  Fetched and unpacked once;
# later runs only check the stamp.
#
# MMN_QEMU_SRC=/path/to/qemu-10.0-tree uses an existing, unmodified QEMU 10.0
# source tree instead (nothing is downloaded).
set -euo pipefail

cache=${MMN_CACHE:-$HOME/.cache/mmn-smmu}

QEMU_DEB_VERSION='1:10.0.13+ds-0+deb13u1'
QEMU_UPSTREAM=10.0.13
# sha256 of the three files of the source package, as verified on
# 2026-11-22 (trixie).
SHA256_ORIG=6a0888e806c2ffc0c5f0733e974f9aea55491950d3c47c98669c8b236dde59ae
SHA256_DEBIAN=da73c092f5684c551b0334d675eb16a3dec91e1edea94759cfb1102fa4a0364e
SHA256_DSC=a426c892e5369058c3423816c8625bc8010bb5a58ece57261f62b64ee4d765ad

fail() {
    {
        echo
        echo "mmn-smmu: cannot obtain QEMU source: $1"
        echo "The build needs Debian's source package qemu=$QEMU_DEB_VERSION" \
             "(QEMU $QEMU_UPSTREAM with Debian's patches), fetched with" \
             "'apt-get source' from the deb-src entries that" \
             "scripts/mmn-smmu/install-deps.sh adds. If Debian no longer" \
             "publishes that version, point the build at an existing QEMU" \
             "10.0 source tree (unmodified, with Debian's" \
             "skip-unpack-edk2-blobs.patch or an upstream tarball that has" \
             "the firmware blobs) by setting MMN_QEMU_SRC=/path/to/qemu-10.0" \
             "and run the same command again."
        echo
    } >&2
    exit 1
}

if [ -n "${MMN_QEMU_SRC:-}" ]; then
    [ -f "$MMN_QEMU_SRC/VERSION" ] || fail "MMN_QEMU_SRC=$MMN_QEMU_SRC has no VERSION file"
    case "$(cat "$MMN_QEMU_SRC/VERSION")" in
    10.0.*) ;;
    *) fail "MMN_QEMU_SRC=$MMN_QEMU_SRC is QEMU $(cat "$MMN_QEMU_SRC/VERSION"), not 10.0.x" ;;
    esac
    cd "$MMN_QEMU_SRC" && pwd
    exit 0
fi

tree="$cache/qemu-$QEMU_UPSTREAM"
stamp="$tree/.mmn-verified"
want="$QEMU_DEB_VERSION $SHA256_ORIG $SHA256_DEBIAN"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "$tree"
    exit 0
fi

dl="$cache/dl"
mkdir -p "$dl"
cd "$dl"
ver=${QEMU_DEB_VERSION#*:}
orig="qemu_${QEMU_UPSTREAM}+ds.orig.tar.xz"
deb="qemu_${ver}.debian.tar.xz"
dsc="qemu_${ver}.dsc"

check() {
    [ -f "$1" ] && echo "$2  $1" | sha256sum --quiet -c - 2>/dev/null
}

if ! check "$orig" "$SHA256_ORIG" || ! check "$deb" "$SHA256_DEBIAN" ||
   ! check "$dsc" "$SHA256_DSC"; then
    rm -f "$orig" "$deb" "$dsc"
    echo "mmn-smmu: downloading Debian source package qemu=$QEMU_DEB_VERSION" >&2
    if ! log=$(apt-get source --download-only "qemu=$QEMU_DEB_VERSION" 2>&1); then
        fail "'apt-get source qemu=$QEMU_DEB_VERSION' failed: $(echo "$log" | grep -E '^(E|W):' | head -n 2 | tr '\n' ' ')"
    fi
    check "$orig" "$SHA256_ORIG" || fail "checksum mismatch for $orig"
    check "$deb" "$SHA256_DEBIAN" || fail "checksum mismatch for $deb"
    check "$dsc" "$SHA256_DSC" || fail "checksum mismatch for $dsc"
fi

rm -rf "$tree" "$tree.tmp"
echo "mmn-smmu: unpacking QEMU $QEMU_UPSTREAM and applying Debian's patches" >&2
if ! log=$(dpkg-source --no-check -x "$dsc" "$tree.tmp" 2>&1); then
    fail "dpkg-source could not unpack $dsc: $(echo "$log" | tail -n 2 | tr '\n' ' ')"
fi
mv "$tree.tmp" "$tree"
echo "$want" > "$stamp"
echo "$tree"
