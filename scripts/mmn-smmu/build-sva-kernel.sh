#!/usr/bin/env bash
# Build an arm64 guest kernel with the arm-smmu-v3 SVA and I/O page-fault
# code built in, from Debian's own source package of the kernel that
# scripts/mmn-smmu/fetch-guest.sh boots.
#
# Debian's arm64 images (linux-image-6.1.0-NN-arm64, linux-image-6.12.NN+
# deb12-arm64) have CONFIG_ARM_SMMU_V3=y but CONFIG_ARM_SMMU_V3_SVA unset,
# hence no IOMMU_SVA / IOMMU_IOPF: iommu_sva_bind_device() returns -ENODEV
# there.  To run Linux's own SVA code (arm-smmu-v3-sva.c, io-pgfault.c)
# this script takes linux-source-<series> of the same Debian version as the
# image (Debian's patches applied), configures it from allnoconfig plus
# tests/guest/smmuv3/kernel.config, copies from the image's /boot/config-*
# the options that shape the fault and TLB-flush paths (page size, VA/PA
# bits, HW_AFDBM, CONTPTE, THP, ...), sets CONFIG_ARM_SMMU_V3_SVA=y and
# builds Image plus what an out-of-tree module needs (M=...).
#
# Usage: build-sva-kernel.sh [--cached] 6.1|6.12
#   --cached  build nothing: print the env file if that kernel is already
#             built (exit 0), else exit 3 (test.sh: the 6.12 tier)
# Prints the path of an env file with
#   MMN_SVA_IMAGE  the arm64 Image to boot
#   MMN_SVA_KDIR   the build tree for 'make -C $MMN_SVA_KDIR M=...'
#   MMN_SVA_KREL   its kernel release (uname -r)
# Built once per (Debian version, config) into
# ${MMN_CACHE:-~/.cache/mmn-smmu}/guest/sva-kernels/; later runs print the
# cached env file.  Environment: MMN_LINUX_SRC_61 / MMN_LINUX_SRC_612 = an
# unpacked linux-source tree of the right version to use instead of
# downloading linux-source-<series> with apt-get.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${MMN_CACHE:-$HOME/.cache/mmn-smmu}
fragment="$repo/tests/guest/smmuv3/kernel.config"

die() {
    echo "build-sva-kernel.sh: $*" >&2
    exit 1
}

cached_only=0
if [ "${1:-}" = --cached ]; then
    cached_only=1
    shift
fi
[ $# = 1 ] || {
    echo "usage: build-sva-kernel.sh [--cached] 6.1|6.12 (the Debian kernel" \
         "series whose source is built with CONFIG_ARM_SMMU_V3_SVA=y)" >&2
    exit 2
}
series=$1
case "$series" in
6.1|6.12) ;;
*) echo "build-sva-kernel.sh: unknown kernel series '$series': give 6.1 or" \
        "6.12, the two Debian kernels scripts/mmn-smmu/fetch-guest.sh fetches" >&2
   exit 2 ;;
esac
tag=${series//./}

envfile=$("$repo/scripts/mmn-smmu/fetch-guest.sh")
# shellcheck disable=SC1090
. "$envfile"
vervar="MMN_GUEST_${tag}_VERSION"
imgvar="MMN_GUEST_${tag}_IMAGE"
krelvar="MMN_GUEST_${tag}_KREL"
debver=${!vervar}
debkrel=${!krelvar}
debconfig="$(dirname "${!imgvar}")/config-$debkrel"
[ -f "$debconfig" ] || die "the image package has no $debconfig"

# Options copied from Debian's config when present: they decide how the
# fault, COW and TLB-flush paths behave, and how the SMMU driver probes.
copy_opts="ARM64_4K_PAGES ARM64_16K_PAGES ARM64_64K_PAGES
ARM64_VA_BITS_39 ARM64_VA_BITS_47 ARM64_VA_BITS_48 ARM64_VA_BITS_52
ARM64_PA_BITS_48 ARM64_PA_BITS_52 ARM64_HW_AFDBM ARM64_CONTPTE ARM64_PAN
ARM64_LSE_ATOMICS ARM64_USE_LSE_ATOMICS ARM64_LPA2 ARM64_PTR_AUTH
UNMAP_KERNEL_AT_EL0 RANDOMIZE_BASE TRANSPARENT_HUGEPAGE
TRANSPARENT_HUGEPAGE_ALWAYS TRANSPARENT_HUGEPAGE_MADVISE SHMEM TMPFS
HUGETLBFS KSM USERFAULTFD SWAP MIGRATION COMPACTION
PER_VMA_LOCK MMU_NOTIFIER CMA DMA_CMA CMA_SIZE_MBYTES CMA_ALIGNMENT
IOMMU_SUPPORT IOMMU_DEFAULT_DMA_STRICT IOMMU_DEFAULT_DMA_LAZY
IOMMU_DEFAULT_PASSTHROUGH ARM_SMMU_V3
PCI_ATS PCI_PRI PCI_PASID HZ_100 HZ_250 HZ_1000 PREEMPT_NONE
PREEMPT_VOLUNTARY PREEMPT PREEMPT_DYNAMIC"

mk_extra() {
    local o line
    for o in $copy_opts; do
        line=$(grep -E "^(CONFIG_$o=|# CONFIG_$o is not set)" "$debconfig" || true)
        [ -n "$line" ] && echo "$line"
    done
    echo "CONFIG_ARM_SMMU_V3_SVA=y"
}

extra=$(mk_extra)
key=$( { echo "$debver"; cat "$fragment"; echo "$extra"; } | sha256sum | cut -c1-12)
out="$cache/guest/sva-kernels/${debkrel}-$key"
result="$out/sva-kernel.env"
if [ -f "$result" ] && [ -f "$out/.mmn-built" ]; then
    echo "$result"
    exit 0
fi
[ "$cached_only" = 0 ] || exit 3

# One build (and one source download) at a time.
mkdir -p "$cache/guest"
exec 9>"$cache/guest/.sva-kernel.lock"
flock 9
if [ -f "$result" ] && [ -f "$out/.mmn-built" ]; then
    echo "$result"
    exit 0
fi

# The Debian source tree of exactly the image's version.
srcvar="MMN_LINUX_SRC_$tag"
src=${!srcvar:-}
if [ -z "$src" ]; then
    d="$cache/guest/linux-source/$series-$debver"
    src="$d/linux-source-$series"
    if [ ! -f "$d/.mmn-unpacked" ]; then
        rm -rf "$d"
        mkdir -p "$d/deb"
        echo "mmn-smmu: downloading linux-source-$series=$debver" >&2
        (cd "$d/deb" && apt-get download -q "linux-source-$series=$debver" >&2) ||
            die "cannot download linux-source-$series=$debver (Debian's source of the guest image $debkrel); set $srcvar to an unpacked tree of that version"
        dpkg-deb --fsys-tarfile "$d"/deb/*.deb |
            tar -x -O "./usr/src/linux-source-$series.tar.xz" | tar -xJ -C "$d"
        rm -rf "$d/deb"
        touch "$d/.mmn-unpacked"
    fi
fi
want="${debver%%-*}"
have=$(sed -n 's/^VERSION = //p; s/^PATCHLEVEL = //p; s/^SUBLEVEL = //p' "$src/Makefile" | paste -sd.)
[ "$have" = "$want" ] || die "$src is Linux $have, the image $debkrel is $want"

rm -rf "$out"
mkdir -p "$out/build"
echo "$extra" > "$out/debian-options.config"
localver="-mmn-sva"
{
    cat "$fragment"
    echo "CONFIG_LOCALVERSION=\"$localver\""
} > "$out/base.config"

mkargs=(-C "$src" O="$out/build" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
echo "mmn-smmu: configuring Linux $have ($debver source) with SVA in $out" >&2
(cd "$src" &&
    ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
    "$src/scripts/kconfig/merge_config.sh" -n -O "$out/build" \
        "$out/base.config" "$out/debian-options.config") > "$out/config.log" 2>&1 ||
    { tail -n 30 "$out/config.log" >&2; die "configuring failed"; }

# Every requested option must have come out as asked (merge_config.sh
# only warns).
missing=
while read -r line; do
    case "$line" in
    CONFIG_*=*) grep -qxF "$line" "$out/build/.config" || missing="$missing $line" ;;
    "# CONFIG_"*" is not set")
        o=${line#\# }; o=${o%% *}
        if grep -q "^$o=" "$out/build/.config"; then missing="$missing $line"; fi ;;
    esac
done < <(cat "$out/base.config" "$out/debian-options.config")
[ -z "$missing" ] || die "the configured kernel lacks:$missing (see $out/config.log)"

echo "mmn-smmu: building Linux $have with SVA (Image, modules_prepare; minutes)" >&2
t0=$(date +%s)
nice -n 10 make "${mkargs[@]}" -j"$(nproc)" Image modules > "$out/build.log" 2>&1 ||
    { tail -n 40 "$out/build.log" >&2; die "the kernel build failed (log: $out/build.log)"; }
krel=$(cat "$out/build/include/config/kernel.release")
[ -f "$out/build/Module.symvers" ] || die "no Module.symvers in $out/build"
echo "mmn-smmu: built $krel in $(( $(date +%s) - t0 )) s" >&2
{
    echo "# Written by scripts/mmn-smmu/build-sva-kernel.sh: Debian linux-source-$series $debver + CONFIG_ARM_SMMU_V3_SVA=y"
    printf 'MMN_SVA_IMAGE=%q\nMMN_SVA_KDIR=%q\nMMN_SVA_KREL=%q\nMMN_SVA_DEBVER=%q\n' \
        "$out/build/arch/arm64/boot/Image" "$out/build" "$krel" "$debver"
} > "$result"
touch "$out/.mmn-built"
echo "$result"
