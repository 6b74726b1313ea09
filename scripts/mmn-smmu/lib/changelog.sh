# shellcheck shell=bash
# The Debian changelog entries of a kernel build that touch mm, arm64 or
# iommu, for guest-repro.sh --bisect.  Sourced, not run.
#
#   mmn_changelog_items FILE AFTER UPTO
#       FILE is a Debian changelog (gzip or plain), e.g. the image package's
#       /usr/share/doc/linux-image-<krel>/changelog.gz.  Prints, for every
#       entry of the linux source packages (linux, linux-6.12, ...; not the
#       linux-signed-* wrapper entries) newer than version AFTER and not
#       newer than UPTO, its heading and those of its items (with their
#       continuation lines) that touch mm, arm64 or iommu (subjects mm/...,
#       iommu/..., KVM: arm64, and arm64 core items: see match_item).
#       Versions are compared
#       without their backport suffix (~bpo12+N, ~deb12uN), so that
#       6.12.73-1 (the trixie upload a bookworm backport 6.12.73-1~bpo12+1
#       was built from) counts as that backport's, not as newer.
#   mmn_changelog_strip VERSION   that comparison key

mmn_changelog_strip() {
    echo "$1" | sed -E 's/~(bpo|deb)[0-9]+[u+][0-9.]*$//'
}

mmn_changelog_items() {
    local file=$1 after upto
    after=$(mmn_changelog_strip "$2")
    upto=$(mmn_changelog_strip "$3")
    { gzip -dc "$file" 2>/dev/null || cat "$file"; } |
        awk '
            function flush() {
                if (item != "" && match_item(item)) {
                    if (!shown) { print head; shown = 1 }
                    print item
                    n++
                }
                item = ""
            }
            # An item is "- [arch,...] subject: text".  Debian writes an
            # upstream "arm64: foo: ..." title as "[arm64] foo: ..." and
            # tags arch-only drivers the same way ("[arm64] drm/msm: ...").
            # Kept: subjects in mm/ or iommu/ (not tagged for other
            # architectures only), "KVM: arm64"-like subjects, and [arm64]
            # items that are not of a driver subsystem (list in BEGIN).
            function match_item(t,   l, tags, subj, first) {
                l = t
                sub(/^ +[-*] +/, "", l)
                tags = ""
                if (l ~ /^\[[^]]*\] /) {
                    tags = substr(l, 2, index(l, "]") - 2)
                    l = substr(l, index(l, "]") + 2)
                }
                if (tags != "" && tags !~ /(^|,)arm64(,|$)/) return 0
                if (index(l, ": ") == 0) return 0
                subj = substr(l, 1, index(l, ": ") - 1)
                first = subj
                sub(/\/.*/, "", first)
                if (first == "mm" || first == "iommu") return 1
                if (subj ~ /(^|[ \/:])arm64($|[ \/:])/) return 1
                if (tags ~ /(^|,)arm64(,|$)/) {
                    first = tolower(subj)
                    sub(/[\/ ,].*/, "", first)
                    return !(first in drivers)
                }
                return 0
            }
            BEGIN {
                # Driver subsystems Debian tags [arm64] because only arm64
                # builds them; they are not arch/arm64 code.
                n = split("dts asoc soc phy pinctrl net drm clk spi i2c mmc usb media " \
                          "thermal regulator firmware cpufreq interconnect remoteproc iio " \
                          "gpio mfd watchdog pci dmaengine mailbox nvmem power rtc serial " \
                          "tty hwrng input hid platform bus octeontx2-af octeontx2-pf wifi " \
                          "bluetooth scsi ufs nvme leds pwm reset coresight edac irqchip ata " \
                          "can dpaa2 dpaa2-eth dpaa2-switch fsl-mc stmmac clocksource memory " \
                          "devfreq pmdomain genpd opp hwmon crypto arm-cc", d, " ")
                for (i = 1; i <= n; i++) drivers[d[i]] = 1
            }
            /^[a-z0-9][^ ]* \([^)]*\)/ {
                flush()
                pkg = $1
                v = $2; gsub(/[()]/, "", v)
                print "ENTRY " pkg " " v
                head = $0
                shown = 0
                next
            }
            /^ -- / { flush(); next }
            /^ +[-*] / { flush(); item = $0; next }
            /^ +[^ ]/ && item != "" { item = item "\n" $0; next }
            /^$/ { flush() }
            END { flush() }
        ' | mmn_changelog_select "$after" "$upto"
}

# mmn_changelog_select AFTER UPTO: keep the entries in (AFTER, UPTO] of
# the awk's "ENTRY pkg version" stream, drop the markers.
mmn_changelog_select() {
    local after=$1 upto=$2 line pkg v s keep=0
    while IFS= read -r line; do
        if [[ "$line" == "ENTRY "* ]]; then
            read -r _ pkg v <<< "$line"
            s=$(mmn_changelog_strip "$v")
            keep=0
            if [[ "$pkg" == linux-signed* ]] || [[ "$pkg" != linux* ]]; then
                continue
            fi
            # Newest first: at AFTER or older, the rest is older still.
            dpkg --compare-versions "$s" gt "$after" || break
            if dpkg --compare-versions "$s" le "$upto"; then
                keep=1
            fi
            continue
        fi
        [ "$keep" = 0 ] || printf '%s\n' "$line"
    done
}
