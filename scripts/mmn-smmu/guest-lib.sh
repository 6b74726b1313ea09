# shellcheck shell=bash disable=SC2034,SC2154
# (sets rc, secs, IMAGE, KREL, KDIR for its caller; uses the caller's $repo)
# Shared by the guest scripts (guest-test.sh, guest-repro.sh); sourced,
# not run.  Needs $repo (the checkout) and, from fetch-guest.sh's env file,
# $MMN_GUEST_BUSYBOX.

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

# mmn_guest_boot QEMU IMAGE INITRD LOG TIMEOUT [QEMU ARGS...]: boot one
# kernel on virt/cortex-a57 (no hardware AF/DBM: software dirty and
# access-flag faults) until /init powers off; console to LOG.  Sets rc
# (QEMU's exit status, 124 or 137 on timeout) and secs (wall time).
mmn_guest_boot() {
    local qemu=$1 image=$2 initrd=$3 log=$4 tmo=$5 t0 t1
    shift 5
    t0=$(date +%s%N)
    set +e
    timeout -k 10 "$tmo" "$qemu" -M virt -cpu cortex-a57 -m 1G -nographic \
        -no-reboot -nic none -kernel "$image" -initrd "$initrd" \
        -append 'console=ttyAMA0 panic=-1' "$@" \
        </dev/null >"$log" 2>&1
    rc=$?
    set -e
    t1=$(date +%s%N)
    secs=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f", d / 1e9 }')
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
