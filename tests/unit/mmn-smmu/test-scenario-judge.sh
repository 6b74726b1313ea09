#!/usr/bin/env bash
# Unit test of how guest-repro.sh judges a guest row and fills its "model"
# column (scripts/mmn-smmu/lib/scenarios.sh: mmn_scenarios_parse,
# mmn_scenarios_judge; scripts/mmn-smmu/lib/guest-model.sh:
# mmn_model_compare), on synthetic rows, a synthetic expected file and
# synthetic model runs: no kernel, no QEMU.  TAP on stdout; test.sh runs
# it as a tier.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
# shellcheck source=scripts/mmn-smmu/lib/scenarios.sh
. "$repo/scripts/mmn-smmu/lib/scenarios.sh"
# shellcheck source=scripts/mmn-smmu/lib/guest-model.sh
. "$repo/scripts/mmn-smmu/lib/guest-model.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=tests/unit/mmn-smmu/tap-check.sh
. "$here/tap-check.sh"

# judge ROW: "status|message" of mmn_scenarios_judge.
judge() {
    local msg st=0
    msg=$(mmn_scenarios_judge "$1") || st=$?
    echo "$st|$msg"
}

row() {
    echo "[   12.5] MMN-GUEST-REPRO: scenario=$1 kernel=$2 dirty=$3 state=$4" \
        "class=$5 faults=$6 notifications=$7 stale_readonly=$8 data=$9" \
        "read=${10} reason=a reason with words=and spaces"
}

# --- parsing --------------------------------------------------------------
mmn_scenarios_parse "$(row t-exact 6.12.74+deb12-arm64 sw DONE healed 1 1 0 ok ok)"
check "parse: scenario" "${MMN_ROW[scenario]}" t-exact
check "parse: kernel line of 6.12.74+deb12-arm64" "${MMN_ROW[kline]}" 6.12
check "parse: reason runs to the end of the line" \
    "${MMN_ROW[reason]}" "a reason with words=and spaces"
check "parse: a word inside the reason is no field" "${MMN_ROW[words]:-unset}" unset
mmn_scenarios_parse "MMN-GUEST-REPRO: scenario=x kernel=6.1.0-47-arm64 state=A state=B"
check "parse: kernel line of 6.1.0-47-arm64" "${MMN_ROW[kline]}" 6.1
check "parse: the first of two equal names counts" "${MMN_ROW[state]}" A
mmn_scenarios_parse "MMN-GUEST-REPRO: scenario=x kernel=mykernel"
check "parse: no kernel line in a name without numbers" "${MMN_ROW[kline]}" ""

# --- judging against an expected file -------------------------------------
# Columns: scenario kernel dirty state class faults notifications
# stale_readonly data why.  The first matching row applies.
{
    printf '# a comment line\n'
    printf 't-exact\t6.12\t*\tDONE\thealed\t1\t1\t0\tok\twhy-exact\n'
    printf 't-exact\t6.1\t*\tLIVELOCK\tstale\t16\t0\t1\tunchanged\twhy-61\n'
    printf 't-atleast\t*\t*\tDONE\t-\t>=2\t-\t-\t-\twhy-atleast\n'
    printf 't-dirty\t*\thw\tDONE\thealed\t1\t-\t-\t-\twhy-hw\n'
    printf 't-dirty\t*\t*\tDONE\tclean\t0\t-\t-\t-\twhy-sw\n'
    printf 't-na\t6.1\t*\tN/A\tn/a\t-\t-\t-\t-\twhy-na\n'
    printf 'short\t6.1\t*\tDONE\n'
} > "$tmp/expected.tsv"
export MMN_SCENARIO_EXPECTED="$tmp/expected.tsv"

k612=6.12.74+deb12-arm64
k61=6.1.0-47-arm64
check "judge: a matching row" \
    "$(judge "$(row t-exact $k612 sw DONE healed 1 1 0 ok ok)")" "0|"
check "judge: the kernel line picks the row" \
    "$(judge "$(row t-exact $k61 sw LIVELOCK stale 16 0 1 unchanged ok)")" "0|"
check "judge: another state" \
    "$(judge "$(row t-exact $k612 sw LIVELOCK stale 16 0 1 unchanged ok)")" \
    "1|state LIVELOCK, expected DONE (why-exact)"
check "judge: another class" \
    "$(judge "$(row t-exact $k612 sw DONE clean 1 1 0 ok ok)")" \
    "1|class clean, expected healed (why-exact)"
check "judge: another fault count" \
    "$(judge "$(row t-exact $k612 sw DONE healed 2 1 0 ok ok)")" \
    "1|faults 2, expected 1 (why-exact)"
check "judge: another notification count" \
    "$(judge "$(row t-exact $k612 sw DONE healed 1 0 0 ok ok)")" \
    "1|notifications 0, expected 1 (why-exact)"
check "judge: a stale read-only entry where none is expected" \
    "$(judge "$(row t-exact $k612 sw DONE healed 1 1 1 ok ok)")" \
    "1|stale_readonly 1, expected 0 (why-exact)"
check "judge: other data" \
    "$(judge "$(row t-exact $k612 sw DONE healed 1 1 0 unchanged ok)")" \
    "1|data unchanged, expected ok (why-exact)"
check "judge: a failed READ of the device" \
    "$(judge "$(row t-exact $k612 sw DONE healed 1 1 0 ok fault)")" \
    "1|the device's READ gave fault"
check "judge: >=2 takes 5" \
    "$(judge "$(row t-atleast $k61 sw DONE healed 5 9 9 x ok)")" "0|"
check "judge: >=2 takes 2" \
    "$(judge "$(row t-atleast $k61 sw DONE healed 2 9 9 x ok)")" "0|"
check "judge: >=2 refuses 1" \
    "$(judge "$(row t-atleast $k61 sw DONE healed 1 9 9 x ok)")" \
    "1|faults 1, expected >=2 (why-atleast)"
check "judge: >=2 refuses an empty count" \
    "$(judge "MMN-GUEST-REPRO: scenario=t-atleast kernel=$k61 dirty=sw state=DONE read=ok")" \
    "1|faults , expected >=2 (why-atleast)"
check "judge: dirty hw takes the hw row" \
    "$(judge "$(row t-dirty $k612 hw DONE healed 1 1 0 ok ok)")" "0|"
check "judge: dirty sw falls through to the * row" \
    "$(judge "$(row t-dirty $k612 sw DONE clean 0 1 0 ok ok)")" "0|"
check "judge: dirty sw does not take the hw row" \
    "$(judge "$(row t-dirty $k612 sw DONE healed 1 1 0 ok ok)")" \
    "1|class healed, expected clean (why-sw)"
check "judge: N/A matches with no counts" \
    "$(judge "$(row t-na $k61 sw N/A n/a - - - - n/a)")" "0|"
check "judge: a row of too few columns is skipped" \
    "$(judge "$(row short $k61 sw DONE clean 0 0 0 ok ok)" | cut -c1-2)" "3|"
check "judge: no expected row for the kernel line" \
    "$(judge "$(row t-na $k612 sw N/A n/a - - - - n/a)")" \
    "3|no expected.tsv row for t-na on 6.12 (sw dirty)"
check "judge: the repository's expected.tsv after the given file" \
    "$(judge "$(row writable-clean $k61 sw LIVELOCK stale 16 0 1 unchanged ok)")" "0|"
unset MMN_SCENARIO_EXPECTED

# --- the model column ------------------------------------------------------
# Model runs as mmn_model_run writes them: "profile scenario outcome class".
{
    echo "linux-6.1 writable-clean livelock stale"
    echo "linux-6.6 writable-clean healed coherent"
    echo "linux-6.1 wp-page-reuse no-fault coherent"
    echo "linux-6.6 cpu-hw-dirty livelock coherent"
} > "$tmp/model.out"
model() {
    mmn_model_compare "$tmp/model.out" "$@"
    echo "$MODEL_COL|$MODEL_SAYS|$MODEL_RUN"
}
check "model: 6.1 livelock agrees" \
    "$(model writable-clean 6.1 sw LIVELOCK stale)" \
    "agree|LIVELOCK/stale|linux-6.1/writable-clean"
check "model: 6.12 plays linux-6.6 and agrees" \
    "$(model writable-clean 6.12 sw DONE healed)" \
    "agree|DONE/healed|linux-6.6/writable-clean"
check "model: shmem-writable-clean is the model's writable-clean" \
    "$(model shmem-writable-clean 6.12 hw DONE healed)" \
    "agree|DONE/healed|linux-6.6/writable-clean"
check "model: a different outcome DIFFERS" \
    "$(model writable-clean 6.12 sw LIVELOCK stale)" \
    "DIFFERS|DONE/healed|linux-6.6/writable-clean"
check "model: no-fault is DONE/clean" \
    "$(model wp-page-reuse 6.1 sw DONE clean)" \
    "agree|DONE/clean|linux-6.1/wp-page-reuse"
check "model: livelock coherent" \
    "$(model cpu-write-before-device-write 6.12 hw LIVELOCK coherent)" \
    "agree|LIVELOCK/coherent|linux-6.6/cpu-hw-dirty"
check "model: a case only for hw dirty has no model under sw" \
    "$(model cpu-write-before-device-write 6.12 sw DONE clean)" "-||"
check "model: a case the model does not play" \
    "$(model no-such-case 6.12 sw DONE clean)" "-||"
check "model: a model scenario with no run is n/a" \
    "$(model wp-page-reuse 6.12 sw DONE healed)" \
    "n/a||linux-6.6/wp-page-reuse"
check "model: 6.5 still plays linux-6.1" "$(mmn_model_profile 6.5)" linux-6.1
check "model: 6.6 plays linux-6.6" "$(mmn_model_profile 6.6)" linux-6.6

echo "1..$n"
[ "$failed" = 0 ]
