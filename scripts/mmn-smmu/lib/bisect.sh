# shellcheck shell=bash disable=SC2034
# (sets MMN_BISECT_* for its caller)
# The search of guest-repro.sh --bisect, on its own: which of N versions,
# in order, is the first whose outcome differs from the first one's.  Pure
# logic (no kernels, no QEMU), so that tests/unit/mmn-smmu/test-bisect.sh
# can run it on a synthetic version list.  Sourced, not run.
#
#   mmn_bisect N OUTCOME_FN
#       Versions are the indexes 0 .. N-1 (oldest first).  OUTCOME_FN IDX
#       prints the outcome of version IDX on stdout (one word or line;
#       outcomes are compared as strings) and returns 0, or returns 125
#       when the version cannot be tested (it could not be prepared, or
#       did not boot): that version is skipped, as 'git bisect skip' does,
#       and another one near the middle is tried instead.
#       Both ends are tested first.  Results, in variables:
#         MMN_BISECT_RESULT   agree      both ends give the same outcome
#                             first      MMN_BISECT_FIRST is the first
#                                        version whose outcome differs
#                             range      skipped versions hide it: it is
#                                        one of MMN_BISECT_RANGE (indexes,
#                                        the last one tested)
#                             untestable an end could not be tested
#                                        (MMN_BISECT_FIRST is that end)
#         MMN_BISECT_GOOD     the outcome of version 0
#         MMN_BISECT_LAST_GOOD  the newest version with that outcome
#         MMN_BISECT_FIRST    see above; its outcome in MMN_BISECT_BAD
#         MMN_BISECT_RANGE    space-separated indexes (result range)
#         MMN_BISECT_SKIPPED  indexes skipped, in the order tried
#         MMN_BISECT_TRIED    "IDX<TAB>OUTCOME" lines, in the order tried
#                             (OUTCOME "(skip)" for a skipped version)
#       OUTCOME_FN runs once per version at most, in the current shell.

# _mmn_bisect_try IDX: run the outcome function once; sets _out and
# returns its status (0 or 125).
_mmn_bisect_try() {
    local f=$_mmn_bisect_tmp st=0
    "$_mmn_bisect_fn" "$1" > "$f" || st=$?
    _out=$(cat "$f")
    if [ "$st" = 125 ]; then
        MMN_BISECT_SKIPPED="${MMN_BISECT_SKIPPED:+$MMN_BISECT_SKIPPED }$1"
        MMN_BISECT_TRIED+="$1"$'\t'"(skip)"$'\n'
        _skip[$1]=1
        return 125
    fi
    [ "$st" = 0 ] || {
        echo "mmn_bisect: the outcome function failed for version $1 (status $st)" >&2
        return "$st"
    }
    MMN_BISECT_TRIED+="$1"$'\t'"$_out"$'\n'
    return 0
}

mmn_bisect() {
    local n=$1 lo hi mid c best bestd d st=0
    local -A _skip=()
    local _mmn_bisect_fn=$2 _mmn_bisect_tmp _out
    MMN_BISECT_RESULT='' MMN_BISECT_GOOD='' MMN_BISECT_BAD='' MMN_BISECT_FIRST=''
    MMN_BISECT_LAST_GOOD='' MMN_BISECT_RANGE='' MMN_BISECT_SKIPPED='' MMN_BISECT_TRIED=''
    _mmn_bisect_tmp=$(mktemp)
    if [ "$n" -lt 2 ]; then
        echo "mmn_bisect: needs at least two versions, got $n" >&2
        rm -f "$_mmn_bisect_tmp"
        return 2
    fi
    _mmn_bisect_try 0 || st=$?
    if [ "$st" != 0 ]; then
        rm -f "$_mmn_bisect_tmp"
        [ "$st" = 125 ] || return "$st"
        MMN_BISECT_RESULT=untestable MMN_BISECT_FIRST=0
        return 0
    fi
    MMN_BISECT_GOOD=$_out
    _mmn_bisect_try $((n - 1)) || st=$?
    if [ "$st" != 0 ]; then
        rm -f "$_mmn_bisect_tmp"
        [ "$st" = 125 ] || return "$st"
        MMN_BISECT_RESULT=untestable MMN_BISECT_FIRST=$((n - 1))
        return 0
    fi
    if [ "$_out" = "$MMN_BISECT_GOOD" ]; then
        MMN_BISECT_RESULT=agree MMN_BISECT_LAST_GOOD=$((n - 1)) MMN_BISECT_BAD=$_out
        rm -f "$_mmn_bisect_tmp"
        return 0
    fi
    # lo has the good outcome, hi a different one; the first difference
    # is in (lo, hi].
    lo=0
    hi=$((n - 1))
    MMN_BISECT_BAD=$_out
    while :; do
        # The untested, unskipped version nearest the middle of (lo, hi).
        best=
        bestd=
        for ((c = lo + 1; c < hi; c++)); do
            [ -z "${_skip[$c]:-}" ] || continue
            d=$(( 2 * c - lo - hi ))
            d=${d#-}
            if [ -z "$best" ] || [ "$d" -lt "$bestd" ]; then
                best=$c
                bestd=$d
            fi
        done
        [ -n "$best" ] || break
        mid=$best
        st=0
        _mmn_bisect_try "$mid" || st=$?
        if [ "$st" = 125 ]; then
            continue
        elif [ "$st" != 0 ]; then
            rm -f "$_mmn_bisect_tmp"
            return "$st"
        fi
        if [ "$_out" = "$MMN_BISECT_GOOD" ]; then
            lo=$mid
        else
            hi=$mid
            MMN_BISECT_BAD=$_out
        fi
    done
    rm -f "$_mmn_bisect_tmp"
    MMN_BISECT_LAST_GOOD=$lo
    MMN_BISECT_FIRST=$hi
    if [ $((hi - lo)) -eq 1 ]; then
        MMN_BISECT_RESULT=first
    else
        MMN_BISECT_RESULT=range
        MMN_BISECT_RANGE=$(seq -s ' ' $((lo + 1)) "$hi")
    fi
}
