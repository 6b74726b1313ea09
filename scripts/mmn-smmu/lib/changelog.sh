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
#       continuation lines) that name mm, arm64 or iommu: "mm/...",
#       "mm:", "[arm64]", "arm64:", "iommu/...".  Versions are compared
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
            function match_item(t,   l) {
                l = tolower(t)
                return l ~ /(^|[^a-z0-9_])(mm|arm64|iommu)([^a-z0-9_]|$)/
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
