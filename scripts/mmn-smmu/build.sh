#!/usr/bin/env bash
# Build mmn-smmu: a pristine QEMU 10.0 tree (fetch-qemu.sh), our files
# overlaid into a per-checkout copy of it, and a small qemu-system-aarch64
# plus the test and benchmark binaries.
#
# Our files are symlinked into the tree, so an edit in the checkout is what
# gets built and ninja rebuilds only what depends on it.  The few lines that
# hook the device into QEMU's own build files are qemu-hooks.patch.
#
# Environment: MMN_BUILD (default <checkout>/build), MMN_CACHE (downloads,
# default ~/.cache/mmn-smmu), MMN_QEMU_SRC (use an existing QEMU 10.0 tree),
# MMN_CONFIGURE (extra configure arguments, e.g. the clang sanitizer
# build's of scripts/mmn-smmu/lib/sanitize.sh; a --cc there replaces cc).
# Arguments: extra ninja targets (default: everything the tests need).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${MMN_BUILD:-$repo/build}
src="$out/qemu-src"
bld="$out/qemu-build"

"$repo/scripts/mmn-smmu/install-deps.sh"
pristine=$("$repo/scripts/mmn-smmu/fetch-qemu.sh")

mkdir -p "$out"
# One build at a time per build directory (several shells may share it).
exec 9>"$out/.lock"
flock 9

# 1. Per-checkout copy of the pristine tree (once).  It is identified by
#    the verified version and checksums (or the path of an MMN_QEMU_SRC
#    tree), so another download cache with the same source keeps it.
ident=$(cat "$pristine/.mmn-verified" 2>/dev/null || echo "$pristine")
if [ ! -f "$src/.mmn-pristine" ] || [ "$(cat "$src/.mmn-pristine")" != "$ident" ]; then
    echo "mmn-smmu: copying QEMU source tree" >&2
    rm -rf "$src" "$bld"
    cp -a "$pristine" "$src.tmp"
    echo "$ident" > "$src.tmp/.mmn-pristine"
    mv "$src.tmp" "$src"
fi

# 2. Hook-ins: patch pristine copies of the touched files and replace a file
#    in the tree only when its content changes (keeps ninja incremental).
patch_file="$repo/scripts/mmn-smmu/qemu-hooks.patch"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in $(sed -n 's|^+++ b/||p' "$patch_file"); do
    mkdir -p "$tmp/$(dirname "$f")"
    cp "$pristine/$f" "$tmp/$f"
done
if ! patch -s -p1 -d "$tmp" < "$patch_file"; then
    echo "mmn-smmu: qemu-hooks.patch does not apply to $pristine" >&2
    exit 1
fi
for f in $(sed -n 's|^+++ b/||p' "$patch_file"); do
    cmp -s "$tmp/$f" "$src/$f" || cp "$tmp/$f" "$src/$f"
done

# 3. Overlay: symlink every file of ours into the tree; drop links to files
#    that no longer exist.
find "$src" -type l -lname "$repo/*" ! -exec test -e {} \; -delete
(cd "$repo" && find hw include tests docs configs -type f ! -name '*~' 2>/dev/null) |
while read -r f; do
    dst="$src/$f"
    if [ -e "$dst" ] && [ ! -L "$dst" ]; then
        echo "mmn-smmu: $f would shadow QEMU's own file" >&2
        exit 1
    fi
    if [ "$(readlink "$dst" 2>/dev/null)" != "$repo/$f" ]; then
        mkdir -p "$(dirname "$dst")"
        ln -sfn "$repo/$f" "$dst"
    fi
done

# 4. Configure once.  QEMU's configure names the compiler explicitly, so
#    meson's own ccache detection never applies: Debian's ccache wrapper
#    directory first in PATH does it.  Paths relative to the build
#    directory let checkouts share objects.
export CCACHE_BASEDIR="$out" CCACHE_NOHASHDIR=1
if [ -d /usr/lib/ccache ]; then
    export PATH="/usr/lib/ccache:$PATH"
fi
conf_args="--target-list=aarch64-softmmu --python=/usr/bin/python3
 --disable-docs --without-default-features --without-default-devices
 --with-devices-aarch64=mmn-smmu --enable-fdt=system --disable-install-blobs
 --disable-werror --enable-trace-backends=log"
# The compiler is Debian's clang: it builds this tree in about a quarter
# less CPU time than gcc at the same -O2 (target/arm/tcg/sve_helper.c
# 34.9 s against 45.9 s, translate-a64.c 12.5 s against 17.1 s, nine of
# the largest files 71 s against 95 s), and a first run must fit CI's
# budget.  MMN_CONFIGURE=--cc=gcc (any --cc) chooses another.
case " ${MMN_CONFIGURE:-} " in
*" --cc="*) ;;
*) conf_args="$conf_args
 --cc=$(command -v clang)" ;;
esac
if [ -n "${MMN_CONFIGURE:-}" ]; then
    conf_args="$conf_args
 $MMN_CONFIGURE"
else
    # The default build (the test suite's) has no debug information: -g
    # costs about a quarter of the compile time of a first build
    # (target/arm/tcg/translate-a64.c: 21.7 s of CPU with it, 16.0 s
    # without), and a first run must fit CI's budget.  For gdb:
    # MMN_CONFIGURE=--enable-debug-info (any MMN_CONFIGURE keeps QEMU's
    # default -g).
    conf_args="$conf_args
 --disable-debug-info"
fi
if [ ! -f "$bld/build.ninja" ] || [ "$(cat "$bld/.mmn-conf" 2>/dev/null)" != "$conf_args" ]; then
    echo "mmn-smmu: configuring QEMU" >&2
    rm -rf "$bld"
    mkdir -p "$bld"
    # shellcheck disable=SC2086
    if ! (cd "$bld" && "$src/configure" $conf_args > "$bld/configure.log" 2>&1); then
        tail -n 30 "$bld/configure.log" >&2
        echo "mmn-smmu: QEMU configure failed; full log in $bld/configure.log" >&2
        exit 1
    fi
    echo "$conf_args" > "$bld/.mmn-conf"
fi

# 5. Build.
if [ $# -eq 0 ]; then
    set -- qemu-system-aarch64 tests/qtest/qos-test \
        tests/qtest/mmn-smmu-repro tests/qtest/mmn-smmu-migration-test \
        tests/qtest/mmn-smmu-robustness-test tests/qtest/mmn-smmu-sequence-test \
        tests/qtest/mmn-smmu-interface-test tests/qtest/mmn-smmu-hostile-test \
        tests/qtest/mmn-smmu-migration-load-test \
        tests/qtest/mmn-smmuv3-test tests/qtest/mmn-smmuv3-errors-test \
        tests/qtest/mmn-smmuv3-robustness-test tests/qtest/mmn-smmuv3-diff-test \
        tests/qtest/mmn-smmuv3-cfgcache-test mmn-smmu-tests
fi
ninja -C "$bld" "$@"
