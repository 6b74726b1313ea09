#!/usr/bin/env bash
# Unit test of the bisect search (scripts/mmn-smmu/lib/bisect.sh) on
# synthetic version lists: no kernel, no QEMU.  TAP on stdout; test.sh
# runs it as a tier.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/mmn-smmu/lib/bisect.sh
. "$here/../../../scripts/mmn-smmu/lib/bisect.sh"
# shellcheck source=scripts/mmn-smmu/lib/changelog.sh
. "$here/../../../scripts/mmn-smmu/lib/changelog.sh"

# shellcheck source=tests/unit/mmn-smmu/tap-check.sh
. "$here/tap-check.sh"

# A synthetic list: OUTCOMES[i] is version i's outcome, "skip" makes it
# untestable.  Every call is recorded, to check each version is tried at
# most once.
OUTCOMES=()
CALLS=()
outcome() {
    CALLS+=("$1")
    if [ "${OUTCOMES[$1]}" = skip ]; then
        return 125
    fi
    echo "${OUTCOMES[$1]}"
}
# make_list N FIRST_DIFFERENT [IDX=OUTCOME...]
make_list() {
    local n=$1 first=$2 i
    shift 2
    OUTCOMES=()
    CALLS=()
    for ((i = 0; i < n; i++)); do
        if [ "$i" -lt "$first" ]; then OUTCOMES+=(LIVELOCK); else OUTCOMES+=(DONE); fi
    done
    for i in "$@"; do
        OUTCOMES[${i%%=*}]=${i#*=}
    done
}
dups() {
    printf '%s\n' "${CALLS[@]}" | sort | uniq -d | tr '\n' ' '
}

echo "1..23"

# 1. An exact answer: 19 versions (the 6.12 series' length), the outcome
#    changes at version 13.
make_list 19 13
mmn_bisect 19 outcome
check "exact: result" "$MMN_BISECT_RESULT" first
check "exact: first differing version" "$MMN_BISECT_FIRST" 13
check "exact: last version with the first outcome" "$MMN_BISECT_LAST_GOOD" 12
check "exact: outcomes" "$MMN_BISECT_GOOD -> $MMN_BISECT_BAD" "LIVELOCK -> DONE"
check "exact: at most 2 + ceil(log2(17)) = 7 versions tried" "$([ ${#CALLS[@]} -le 7 ] && echo yes || echo "no (${#CALLS[@]})")" yes
check "exact: no version tried twice" "$(dups)" ""

# 2. The change right after the first version, and right before the last.
make_list 19 1
mmn_bisect 19 outcome
check "change at version 1" "$MMN_BISECT_RESULT $MMN_BISECT_FIRST" "first 1"
make_list 19 18
mmn_bisect 19 outcome
check "change at the last version" "$MMN_BISECT_RESULT $MMN_BISECT_FIRST" "first 18"

# 3. Both ends agree: nothing but the two ends is tried.
make_list 19 99
mmn_bisect 19 outcome
check "agree: result" "$MMN_BISECT_RESULT" agree
check "agree: only the two ends tried" "${CALLS[*]}" "0 18"

# 4. A skipped version that does not hide the answer.
make_list 19 13 9=skip
mmn_bisect 19 outcome
check "skip elsewhere: still exact" "$MMN_BISECT_RESULT $MMN_BISECT_FIRST" "first 13"
check "skip elsewhere: the skipped version is listed" "$MMN_BISECT_SKIPPED" 9
check "skip elsewhere: no version tried twice" "$(dups)" ""

# 5. Skipped versions right before the change: the answer is a range.
make_list 19 13 11=skip 12=skip
mmn_bisect 19 outcome
check "skip hides it: result" "$MMN_BISECT_RESULT" range
check "skip hides it: the range" "$MMN_BISECT_RANGE" "11 12 13"
check "skip hides it: both skipped versions listed" "$(echo "$MMN_BISECT_SKIPPED" | tr ' ' '\n' | sort -n | tr '\n' ' ')" "11 12 "

# 6. An end that cannot be tested.
make_list 19 13 0=skip
mmn_bisect 19 outcome
check "untestable first end" "$MMN_BISECT_RESULT $MMN_BISECT_FIRST" "untestable 0"

# 7. A third outcome in the middle also differs from the first one.
make_list 19 13 10=FAULT 11=FAULT 12=FAULT
mmn_bisect 19 outcome
check "third outcome: the first differing version" "$MMN_BISECT_RESULT $MMN_BISECT_FIRST $MMN_BISECT_BAD" "first 10 FAULT"

# 8. The list of tried versions records every call with its outcome.
make_list 5 2 1=skip
mmn_bisect 5 outcome
check "tried list" "$(printf "%s" "$MMN_BISECT_TRIED" | tr '\t\n' ':,')" "0:LIVELOCK,4:DONE,2:DONE,1:(skip),"

# 9. The changelog items the report shows for the first differing build:
#    entries after the last good build up to the bad one, the backport's
#    trixie parent (same upstream) not counted as newer, mm/arm64/iommu
#    items only.
cl=$(mktemp)
cat > "$cl" <<'CHANGELOG'
linux-signed-arm64 (6.12.74+2~bpo12+1) bookworm-backports; urgency=medium

  * Sign kernel from linux 6.12.74-2~bpo12+1

 -- Debian <kernel@example.org>  Mon, 02 Mar 2026 10:00:00 +0100

linux (6.12.74-2~bpo12+1) bookworm-backports; urgency=medium

  * Rebuild for bookworm-backports

 -- Debian <kernel@example.org>  Mon, 02 Mar 2026 09:00:00 +0100

linux (6.12.74-1) unstable; urgency=medium

  * New upstream stable update:
    - mm/hugetlb: fix copy_hugetlb_page_range() to use ->pt_share_count
    - drm/amdgpu: add buf length check
    - [arm64] cpufeature: Make PMUVer and PerfMon unsigned
    - [arm64] drm/msm/dsi: fix bits_per_pclk
    - [amd64] iommu/amd: Remove protection_domain.dev_cnt variable
    - iommu/arm-smmu-v3: Fix a stale
      invalidation range

 -- Debian <kernel@example.org>  Sun, 01 Mar 2026 09:00:00 +0100

linux (6.12.73-1) unstable; urgency=medium

  * New upstream stable update:
    - mm/memory: this one belongs to the last good build

 -- Debian <kernel@example.org>  Sat, 28 Feb 2026 09:00:00 +0100
CHANGELOG
items=$(mmn_changelog_items "$cl" 6.12.73-1~bpo12+1 6.12.74-2~bpo12+1 | grep -- '- ' | sed 's/^ *- //' | tr '\n' '|')
check "changelog: mm, arm64 core and iommu items of 6.12.74 only" "$items" \
    "mm/hugetlb: fix copy_hugetlb_page_range() to use ->pt_share_count|[arm64] cpufeature: Make PMUVer and PerfMon unsigned|iommu/arm-smmu-v3: Fix a stale|"
check "changelog: the entry heading is shown" \
    "$(mmn_changelog_items "$cl" 6.12.73-1~bpo12+1 6.12.74-2~bpo12+1 | sed -n 1p)" \
    "linux (6.12.74-1) unstable; urgency=medium"
check "changelog: a continuation line stays with its item" \
    "$(mmn_changelog_items "$cl" 6.12.73-1~bpo12+1 6.12.74-2~bpo12+1 | grep -c 'invalidation range')" 1
check "changelog: nothing newer than the last good build when it is the bad one" \
    "$(mmn_changelog_items "$cl" 6.12.74-2~bpo12+1 6.12.74-2~bpo12+1)" ""
rm -f "$cl"

echo "# bisect: $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
