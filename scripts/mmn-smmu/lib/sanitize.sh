# shellcheck shell=bash
# Sourced by scripts/mmn-smmu/fuzz.sh and test.sh --sanitize: the clang
# build with AddressSanitizer, UndefinedBehaviorSanitizer and libFuzzer
# instrumentation that both use, and the sanitizer options.
#
# One build serves both: QEMU's --enable-fuzzing compiles every object
# with -fsanitize=fuzzer-no-link (coverage counters only in hw/, see
# scripts/oss-fuzz/instrumentation-filter-template), so the same build
# directory links qemu-fuzz-aarch64 and a sanitized qemu-system-aarch64,
# qos-test and unit tests.  It is separate from the gcc build
# (build/qemu-build): MMN_BUILD=build/fuzz gives it its own copy of the
# source tree and build/fuzz/qemu-build.
#
# Needs $repo.  MMN_SAN_BUILD overrides the directory.

mmn_san_build=${MMN_SAN_BUILD:-$repo/build/fuzz}
mmn_san_configure="--cc=clang --cxx=clang++ --enable-fuzzing --enable-asan --enable-ubsan"

# mmn_san_build_qemu TARGETS...: install clang (once) and build.
mmn_san_build_qemu() {
    "$repo/scripts/mmn-smmu/install-deps.sh" --clang &&
    MMN_BUILD="$mmn_san_build" MMN_CONFIGURE="$mmn_san_configure" \
        nice -n 10 "$repo/scripts/mmn-smmu/build.sh" "$@"
}

# mmn_san_options LEAKS [LOG_PREFIX]: export ASAN_OPTIONS and
# UBSAN_OPTIONS.  Every report stops the process (halt_on_error; UBSan
# would otherwise print and go on) with a stack trace.  LEAKS 0 turns
# LeakSanitizer off, as QEMU's own ASan+UBSan job does
# (tests/docker/test-debug: detect_leaks=0); 1 leaves it on, as its
# build-oss-fuzz CI job does for the fuzzers.  With LOG_PREFIX, reports
# go to LOG_PREFIX.<pid> files instead of stderr, so that one in a QEMU
# that a test expected to fail is seen too.
mmn_san_options() {
    local log=${2:+:log_path=$2}

    export ASAN_OPTIONS="halt_on_error=1:detect_leaks=$1:print_stacktrace=1$log"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1$log"
}

# mmn_san_reports_tap DIR: one TAP result, failed if any process left a
# report in DIR/sanitizer.<pid> (mmn_san_options's LOG_PREFIX).  Files
# that hold only ASan's warning about QEMU's ucontext coroutines
# ("doesn't fully support makecontext/swapcontext") are not reports.
mmn_san_reports_tap() {
    local reports=() f
    for f in "$1"/sanitizer.*; do
        if [ -e "$f" ] &&
           grep -qE '^==[0-9]+==ERROR|runtime error:|^SUMMARY: ' "$f"; then
            reports+=("$f")
        fi
    done
    echo 1..1
    if [ ${#reports[@]} -eq 0 ]; then
        echo "ok 1 - no ASan or UBSan report"
        return
    fi
    echo "not ok 1 - ${#reports[@]} sanitizer report(s) in $1"
    for f in "${reports[@]:0:3}"; do
        echo "# $f:"
        grep -E 'ERROR|runtime error|SUMMARY|^ +#[0-9]' "$f" | head -n 12 |
            sed 's/^/#   /'
    done
}
