#!/usr/bin/env bash
# Install mmn-smmu's build and test dependencies from Debian packages.
#
# Idempotent: a stamp file records the package set, so a second run costs
# nothing.  Runs apt as root, or through sudo when not root.
#
# --clang: also (only then) Debian's clang with its compiler-rt runtimes
# (libFuzzer, ASan, UBSan: libclang-rt-dev) and llvm-symbolizer (llvm),
# for the sanitizer build of fuzz.sh and test.sh --sanitize.
set -euo pipefail

clang=0
for a in "$@"; do
    case "$a" in
    --clang) clang=1 ;;
    *) echo "usage: $0 [--clang]" >&2; exit 2 ;;
    esac
done

cache=${MMN_CACHE:-$HOME/.cache/mmn-smmu}
mkdir -p "$cache"

SUDO=
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
fi

# Build QEMU 10.0 (see ../shared/reference/qemu.md), cross-build the guest
# module and its static test program (libc6-dev-arm64-cross) and pack an
# initramfs (guest.md); check the rst docs (python3-docutils).  Prepare a
# guest kernel from its exact source when the archive has no headers for
# it (scripts/mmn-smmu/lib/kernel-source.sh: modules_prepare builds
# resolve_btfids and sign-file, libelf-dev and libssl-dev); the guest
# commands' tables (column, bsdextrautils).  QEMU is built with clang
# (scripts/mmn-smmu/build.sh).
PKGS_MAIN="clang dpkg-dev ccache ninja-build pkg-config libglib2.0-dev libfdt-dev
libpixman-1-dev python3-venv python3 bzip2 xz-utils cpio gzip
gcc-aarch64-linux-gnu libc6-dev-arm64-cross make bc flex bison
python3-docutils libelf-dev libssl-dev bsdextrautils"
PKGS_BPO="meson python3-pycotap"

PKGS_CLANG="clang libclang-rt-dev llvm"

stamp="$cache/deps.stamp"
want="v7 $PKGS_MAIN | $PKGS_BPO | arm64"
clang_stamp="$cache/deps-clang.stamp"
if [ "$clang" = 1 ] && { [ ! -f "$clang_stamp" ] ||
   [ "$(cat "$clang_stamp")" != "$PKGS_CLANG" ] ||
   ! command -v clang >/dev/null; }; then
    echo "mmn-smmu: installing clang, compiler-rt and llvm-symbolizer..." >&2
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    if ! $SUDO apt-get install -y -qq --no-install-recommends $PKGS_CLANG \
            >/dev/null; then
        $SUDO apt-get update -qq
        # shellcheck disable=SC2086
        $SUDO apt-get install -y -qq --no-install-recommends $PKGS_CLANG \
            >/dev/null
    fi
    echo "$PKGS_CLANG" > "$clang_stamp"
fi
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
   command -v meson >/dev/null && command -v ccache >/dev/null; then
    exit 0
fi

echo "mmn-smmu: installing build dependencies from Debian packages..." >&2

src=/etc/apt/sources.list.d/mmn-smmu.sources
if [ ! -f "$src" ]; then
    $SUDO tee "$src" >/dev/null <<'EOS'
# Added by mmn-smmu scripts/mmn-smmu/install-deps.sh
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-backports trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $PKGS_MAIN >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports \
    $PKGS_BPO >/dev/null

echo "$want" > "$stamp"
echo "mmn-smmu: dependencies installed" >&2
