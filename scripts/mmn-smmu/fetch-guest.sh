#!/usr/bin/env bash
# The env file of the newest Debian arm64 6.1 and 6.12 builds, for scripts
# that want them by variable (scripts/mmn-smmu/build-sva-kernel.sh,
# guest-smmuv3.sh).  A thin user of scripts/mmn-smmu/lib/kernels.sh, which
# resolves, downloads and prepares them (images, archive headers, busybox)
# under ${MMN_CACHE:-~/.cache/mmn-smmu}/guest; the guest commands use that
# library directly (--kernel SPEC for any build).
#
# Prints the path of a shell-sourceable env file:
#   MMN_GUEST_KERNELS="6.1 6.12"
#   MMN_GUEST_<TAG>_PKG / _VERSION / _KREL / _IMAGE   (TAG: 61, 612)
#   MMN_GUEST_<TAG>_KDIR   kernel build tree for 'make -C ... M=...'
#   MMN_GUEST_BUSYBOX / MMN_GUEST_BUSYBOX_VERSION
# Later runs reuse the prepared builds; MMN_GUEST_REFRESH=1 prepares again.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/mmn-smmu/lib/kernels.sh
. "$here/lib/kernels.sh"

"$here/install-deps.sh"
mkdir -p "$mmn_k_cache"
exec 9>"$mmn_k_cache/.lock"
flock 9

envfile="$mmn_k_cache/guest.env"
bb=$(mmn_kernels_busybox)
bbver=$(basename "$(dirname "$(dirname "$bb")")")
{
    echo "# Written by scripts/mmn-smmu/fetch-guest.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "MMN_GUEST_KERNELS='6.1 6.12'"
    for series in 6.1 6.12; do
        tag=${series//./}
        st=0
        mmn_kernels_prepare_all "$series" || st=$?
        [ "$st" = 0 ] || exit "$st"
        mmn_kernels_load "${MMN_KENVS[0]}"
        printf 'MMN_GUEST_%s_PKG=%q\nMMN_GUEST_%s_VERSION=%q\nMMN_GUEST_%s_KREL=%q\n' \
            "$tag" "$K_PKG" "$tag" "$K_VERSION" "$tag" "$K_KREL"
        printf 'MMN_GUEST_%s_IMAGE=%q\nMMN_GUEST_%s_KDIR=%q\n' "$tag" "$K_IMAGE" "$tag" "$K_KDIR"
    done
    bbver=${bbver#busybox-static_}
    printf 'MMN_GUEST_BUSYBOX_VERSION=%q\nMMN_GUEST_BUSYBOX=%q\n' "${bbver//%3a/:}" "$bb"
} > "$envfile.tmp.$$"
mv "$envfile.tmp.$$" "$envfile"
echo "$envfile"
