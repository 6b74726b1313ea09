# shellcheck shell=bash
# TAP results for the shell unit tests (test-bisect.sh,
# test-scenario-judge.sh).  Sourced, not run.
#   check WHAT GOT WANT   one result: "ok N - WHAT" when GOT is WANT, else
#                         "not ok N - WHAT: got '...', want '...'"
# $n counts the results and $failed the failures.
n=0
failed=0
check() {
    local what=$1 got=$2 want=$3
    n=$((n + 1))
    if [ "$got" = "$want" ]; then
        echo "ok $n - $what"
    else
        echo "not ok $n - $what: got '$got', want '$want'"
        failed=$((failed + 1))
    fi
}
