# shellcheck shell=bash disable=SC2154,SC2034
# (uses the caller's run_* settings, repo, qemu, tmo)
# guest-repro.sh --bisect: find the first Debian build of one series whose
# outcome for a scenario differs from the oldest build's.  The search
# itself is lib/bisect.sh (pure, unit-tested); this file runs a guest per
# version it asks for and reports.  Sourced, not run; needs guest-run.sh,
# kernels.sh, changelog.sh and bisect.sh sourced.
#
#   mmn_guest_bisect RANGE CPU
#       RANGE is GOOD..BAD (kernel specs of one series, lib/kernels.sh).
#       Prints one progress line per boot on stderr, then on stdout every
#       version tried with its outcome, the first version whose outcome
#       differs (or the range skipped builds leave), that build's Debian
#       changelog items on mm, arm64 or iommu since the last build with the
#       first outcome, and a benchmark line.  Status 0 when the search
#       ended (whatever it found), 1 when it could not run, 2 for a bad
#       range.
#   A version's outcome is "case=STATE/class" for every row of the
#   scenario, in order; a build that cannot be prepared, packed or booted
#   to the end is skipped.

# _mmn_gbis_outcome IDX: the outcome function of mmn_bisect.
_mmn_gbis_outcome() {
    local i=$1 id=${_gbis_ids[$1]} env t t1 err outcome rows
    local name=${id#*=}
    t=$(mmn_run_now)
    err="$run_out/bisect-prepare.err"
    _gbis_steps=$((_gbis_steps + 1))
    if ! env=$(mmn_kernels_prepare "$id" 2>"$err"); then
        _gbis_label[$i]="${id%%=*} $name"
        _gbis_why[$i]="cannot be prepared: $(tr '\n' ' ' < "$err" | sed -E 's/^ *//; s/ +/ /g; s/^mmn-smmu: //' |
                        sed -E 's/^(.{0,160}).*/\1/')..."
        echo "bisect: [$_gbis_steps] ${id%%=*} $name: skip, ${_gbis_why[$i]}" >&2
        return 125
    fi
    mmn_kernels_load "$env"
    _gbis_label[$i]="$K_NAME ($K_VERSION)"
    t1=$(mmn_run_since "$t")
    _gbis_prep=$(awk -v a="$_gbis_prep" -v b="$t1" 'BEGIN { print a + b }')
    if ! mmn_run_pack "$env" 2>"$err"; then
        _gbis_why[$i]="the guest could not be built: $(tail -n 3 "$err" | tr '\n' ' ')"
        echo "bisect: [$_gbis_steps] ${_gbis_label[$i]}: skip, ${_gbis_why[$i]}" >&2
        return 125
    fi
    rows=$(mktemp)
    R_ROWS=$rows
    mmn_run_boot "$env" "$_gbis_cpu"
    outcome=$(awk -F'\t' '$6 != "" { printf "%s%s=%s/%s", (n++ ? " " : ""), $5, $6, $7 }' "$rows")
    rm -f "$rows"
    _gbis_pack=$(awk -v a="$_gbis_pack" -v b="$R_PACK_SECS" 'BEGIN { print a + b }')
    _gbis_boot=$(awk -v a="$_gbis_boot" -v b="$R_BOOT_SECS" 'BEGIN { print a + b }')
    _gbis_boots=$((_gbis_boots + 1))
    if [ -z "$outcome" ]; then
        _gbis_why[$i]="no outcome (${R_BOOTFAIL:-no row}; console: $R_LOG)"
        echo "bisect: [$_gbis_steps] ${_gbis_label[$i]}: skip, ${_gbis_why[$i]} (boot ${R_BOOT_SECS} s); its console ends:" >&2
        tr -d '\r' < "$R_LOG" | tail -n 12 | sed 's/^/bisect:   | /' >&2
        return 125
    fi
    echo "bisect: [$_gbis_steps] ${_gbis_label[$i]} on $_gbis_cpu: $outcome" \
         "(prepare ${t1} s, build+pack ${R_PACK_SECS} s, boot ${R_BOOT_SECS} s)" >&2
    echo "$outcome"
}

mmn_guest_bisect() {
    local range=$1 out i idx o t0 total lg first
    _gbis_cpu=$2
    if [[ "$range" != *..* ]]; then
        mmn_k_say "mmn-smmu: --bisect takes a range GOOD..BAD of Debian builds" \
            "of one series (e.g. 6.12.43+deb12..6.12.117+deb12), not '$range'."
        return 2
    fi
    out=$(mmn_kernels_resolve "$range") || return 2
    mapfile -t _gbis_ids <<< "$out"
    if [ ${#_gbis_ids[@]} -lt 2 ]; then
        mmn_k_say "mmn-smmu: the range '$range' holds ${#_gbis_ids[@]} build;" \
            "a bisection needs two ends that differ."
        return 2
    fi
    declare -gA _gbis_label=() _gbis_why=()
    _gbis_steps=0 _gbis_boots=0 _gbis_prep=0 _gbis_pack=0 _gbis_boot=0
    t0=$(mmn_run_now)
    echo "bisect: ${#_gbis_ids[@]} Debian builds from ${_gbis_ids[0]#*=} to" \
         "${_gbis_ids[-1]#*=}, scenario ${run_progs[*]##*/}, -cpu $_gbis_cpu" >&2
    mmn_bisect "${#_gbis_ids[@]}" _mmn_gbis_outcome || return 1
    total=$(mmn_run_since "$t0")

    echo "versions tried (in order):"
    while IFS=$'\t' read -r idx o; do
        [ -n "$idx" ] || continue
        if [ "$o" = "(skip)" ]; then
            printf '  %-44s skipped: %s\n' "${_gbis_label[$idx]}" "${_gbis_why[$idx]}"
        else
            printf '  %-44s %s\n' "${_gbis_label[$idx]}" "$o"
        fi
    done <<< "$MMN_BISECT_TRIED"
    case "$MMN_BISECT_RESULT" in
    untestable)
        echo "the end ${_gbis_label[$MMN_BISECT_FIRST]} cannot be tested" \
             "(${_gbis_why[$MMN_BISECT_FIRST]}): choose ends that can."
        ;;
    agree)
        echo "both ends agree: ${_gbis_label[0]} and ${_gbis_label[$MMN_BISECT_LAST_GOOD]}" \
             "give '$MMN_BISECT_GOOD'; nothing to bisect."
        ;;
    first|range)
        lg=${_gbis_label[$MMN_BISECT_LAST_GOOD]}
        first=$MMN_BISECT_FIRST
        if [ "$MMN_BISECT_RESULT" = first ]; then
            echo "first version whose outcome differs: ${_gbis_label[$first]}:" \
                 "'$MMN_BISECT_BAD' (the last one with '$MMN_BISECT_GOOD' is $lg)"
        else
            echo "the first version whose outcome differs is one of:"
            for i in $MMN_BISECT_RANGE; do
                echo "  ${_gbis_label[$i]:-${_gbis_ids[$i]#*=}}${_gbis_why[$i]:+ (skipped: ${_gbis_why[$i]})}"
            done
            echo "(skipped builds hide it; the last one with '$MMN_BISECT_GOOD' is $lg," \
                 "${_gbis_label[$first]} gives '$MMN_BISECT_BAD')"
        fi
        mmn_gbis_changelog "$MMN_BISECT_LAST_GOOD" "$first"
        ;;
    esac
    [ -z "$MMN_BISECT_SKIPPED" ] || echo "skipped: $(for i in $MMN_BISECT_SKIPPED; do
        printf '%s; ' "${_gbis_label[$i]}"; done | sed 's/; $//')"
    awk -v s="$_gbis_steps" -v b="$_gbis_boots" -v p="$_gbis_prep" -v k="$_gbis_pack" \
        -v t="$_gbis_boot" -v all="$total" -v n="${#_gbis_ids[@]}" 'BEGIN {
        printf "benchmark: bisect over %d builds: %d steps, %d boots; per boot %.1f s" \
               " (build+pack %.1f s, boot %.1f s); preparation %.1f s in all%s; total %.1f s\n",
               n, s, b, b ? (k + t) / b : 0, b ? k / b : 0, b ? t / b : 0, p,
               p < 2 * s ? " (every build already prepared)" : "", all }'
}

# mmn_gbis_changelog GOOD_IDX BAD_IDX: the changelog items of the bad
# build since the good one.
mmn_gbis_changelog() {
    local good=$1 bad=$2 gv env src file tmp
    gv=${_gbis_ids[$good]#*=}
    env=$(mmn_kernels_prepare "${_gbis_ids[$bad]}" image 2>/dev/null) || return 0
    mmn_kernels_load "$env"
    file=$K_CHANGELOG
    if [ -n "$file" ] && [ -f "$file" ]; then
        src="the image package's ${file#"$K_ROOT"}"
    else
        tmp="$run_out/changelog-$K_NAME.txt"
        if apt-get changelog -qq "$K_PKG=$K_VERSION" > "$tmp" 2>/dev/null && [ -s "$tmp" ]; then
            file=$tmp
            src="apt-get changelog $K_PKG=$K_VERSION"
        else
            echo "no Debian changelog for $K_PKG $K_VERSION (neither in the package nor from apt-get changelog)"
            return 0
        fi
    fi
    echo "Debian changelog of $K_NAME ($K_VERSION) since $gv, items on mm, arm64 or iommu" \
         "(from $src):"
    mmn_changelog_items "$file" "$gv" "$K_VERSION" | sed 's/^/  /'
}
