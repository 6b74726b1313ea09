# shellcheck shell=bash disable=SC2034,SC2154
# (sets MODEL_* for its caller; uses the caller's $repo)
# The kernel model beside the real kernels: guest-repro.sh's "model"
# column.  tests/qtest/mmn-smmu-repro plays each kernel line with the
# guest-kernel model (libqos/mmn-kernel, profiles linux-6.1 and linux-6.6)
# against the same device; tests/guest/scenarios/model.tsv says which
# guest case is which model scenario.  Sourced, not run; needs $repo.
#
#   mmn_model_run QEMU BIN OUT
#       Run the model (BIN: mmn-smmu-repro, QEMU: the qemu-system-aarch64
#       it drives) once and write its runs to OUT, one a line:
#       "profile scenario outcome class".  Status 1 (and the reason in
#       MODEL_WHY) when it cannot run.
#   mmn_model_profile KERNEL_LINE
#       The model's profile for a kernel line: linux-6.1 up to 6.5 (no
#       notification from flush_tlb_page), linux-6.6 from 6.6.
#   mmn_model_compare OUT CASE KERNEL_LINE DIRTY STATE CLASS
#       Sets MODEL_COL ("-" when the model has no such case, "agree",
#       "DIFFERS"), MODEL_SAYS (the model's outcome in the guest rows'
#       words, STATE/class, or ""), MODEL_RUN ("profile/scenario" or "").

# mmn_model_run QEMU BIN OUT: see above.
mmn_model_run() {
    local qemu=$1 bin=$2 out=$3 json
    MODEL_WHY=
    if [ ! -x "$bin" ]; then
        MODEL_WHY="no $bin"
        return 1
    fi
    if ! json=$(QTEST_QEMU_BINARY=$qemu timeout 120 "$bin" --json 2>"$out.err"); then
        # A run whose outcomes are not all as expected still prints them.
        [ -n "$json" ] || { MODEL_WHY="$bin failed: $(tail -n 2 "$out.err" | tr '\n' ' ')"; return 1; }
    fi
    echo "$json" | sed -n 's/.*"profile": "\([^"]*\)", "scenario": "\([^"]*\)", .*"outcome": "\([^"]*\)", "class": "\([^"]*\)".*/\1 \2 \3 \4/p' > "$out"
    if [ ! -s "$out" ]; then
        MODEL_WHY="$bin printed no run"
        return 1
    fi
}

mmn_model_profile() {
    case "$1" in
    6.[0-5]|5.*|4.*) echo linux-6.1 ;;
    *) echo linux-6.6 ;;
    esac
}

# _mmn_model_load OUT: read model.tsv and the runs in OUT once (pure bash:
# compared once per row).
_mmn_model_load() {
    local out=$1 c d m p o k
    if [ -n "${_mmn_model_loaded+set}" ] && [ "$_mmn_model_loaded" = "$out" ]; then
        return 0
    fi
    declare -gA _mmn_model_map=() _mmn_model_runs=()
    while IFS=$'\t' read -r c d m _; do
        [[ -n "$m" && "$c" != '#'* ]] || continue
        _mmn_model_map["$c|$d"]=$m
    done < "$repo/tests/guest/scenarios/model.tsv"
    if [ -s "$out" ]; then
        while read -r p m o k; do
            _mmn_model_runs["$p|$m"]="$o $k"
        done < "$out"
    fi
    _mmn_model_loaded=$out
}

mmn_model_compare() {
    local out=$1 case=$2 kline=$3 dirty=$4 state=$5 class=$6 scen prof run
    MODEL_COL=- MODEL_SAYS='' MODEL_RUN=''
    _mmn_model_load "$out"
    scen=${_mmn_model_map["$case|$dirty"]:-${_mmn_model_map["$case|*"]:-}}
    [ -n "$scen" ] || return 0
    case "$kline" in
    6.[0-5]|5.*|4.*) prof=linux-6.1 ;;
    *) prof=linux-6.6 ;;
    esac
    MODEL_RUN="$prof/$scen"
    run=${_mmn_model_runs["$prof|$scen"]:-}
    case "$run" in
    "livelock stale") MODEL_SAYS=LIVELOCK/stale ;;
    "livelock coherent") MODEL_SAYS=LIVELOCK/coherent ;;
    "healed "*) MODEL_SAYS=DONE/healed ;;
    "no-fault "*) MODEL_SAYS=DONE/clean ;;
    "") MODEL_COL="n/a"; return 0 ;;
    *) MODEL_SAYS="other(${run// /\/})" ;;
    esac
    if [ "$MODEL_SAYS" = "$state/$class" ]; then
        MODEL_COL=agree
    else
        MODEL_COL=DIFFERS
    fi
}
