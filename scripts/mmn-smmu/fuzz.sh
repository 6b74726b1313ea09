#!/usr/bin/env bash
# Coverage-guided fuzzing of mmn-smmu and mmn-smmuv3 with libFuzzer, in
# QEMU's fuzzing framework (tests/qtest/fuzz/), under ASan and UBSan.
#
#   fuzz.sh [--seconds N] [--target T] [--replay FILE]
#
# Targets (default mmn-smmu):
#   mmn-smmu            tests/qtest/fuzz/mmn_smmu_fuzz.c: records that build
#                       commands, DMA descriptors and page tables
#   mmn-smmuv3          tests/qtest/fuzz/mmn_smmuv3_fuzz.c: the same for the
#                       SMMUv3, its SVA master and a PCI function behind it
#   generic-mmn-smmu    QEMU's generic-fuzz (MMIO, PCI config, DMA
#   generic-mmn-smmuv3  patterns) with the configs our hook patch adds to
#                       generic_fuzz_configs.h
#
# Builds qemu-fuzz-aarch64 with clang in build/fuzz (lib/sanitize.sh; the
# first build takes a while, later ones are incremental), writes the
# target's seeds (valid command and DMA sequences), runs libFuzzer for N
# seconds (default 600) in one niced process on the corpus kept in
# ~/.cache/mmn-smmu/fuzz-corpus/<target>/, and prints executions, exec/s,
# edge coverage (libFuzzer's cov:) and any crash with its reproducer and
# how to replay it.  Each run appends a line to fuzz-corpus/runs.tsv.
# Exit status: 0 no crash, 1 a crash (or leak, timeout, OOM) was found.
#
# --replay FILE runs the target on one input and writes its qtest trace
# (FILE.trace), the first step to a qtest reproducer.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/mmn-smmu/lib/sanitize.sh
. "$repo/scripts/mmn-smmu/lib/sanitize.sh"
cache=${MMN_CACHE:-$HOME/.cache/mmn-smmu}

seconds=600
target=mmn-smmu
replay=
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds=${2:?}; shift ;;
    --target) target=${2:?}; shift ;;
    --replay) replay=${2:?}; shift ;;
    *) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
    esac
    shift
done
case "$target" in
mmn-smmu|mmn-smmuv3) ftarget=$target ;;
generic-mmn-smmu|generic-mmn-smmuv3) ftarget=generic-fuzz-${target#generic-} ;;
*) echo "fuzz.sh: unknown target $target" >&2; exit 2 ;;
esac
case "$seconds" in
''|*[!0-9]*) echo "fuzz.sh: --seconds takes a number" >&2; exit 2 ;;
esac

t0=$(date +%s)
if ! mmn_san_build_qemu qemu-fuzz-aarch64; then
    echo "fuzz.sh: build failed" >&2
    exit 3
fi
build_s=$(($(date +%s) - t0))
bin="$mmn_san_build/qemu-build/qemu-fuzz-aarch64"
echo "build: ${build_s} s ($bin)"
# LeakSanitizer off: QEMU allocates during each input, so libFuzzer's
# leak check would rerun nearly every input with a full leak scan (29
# instead of 179 exec/s on mmn-smmu).
mmn_san_options 0

if [ -n "$replay" ]; then
    "$bin" --fuzz-target="$ftarget" "$replay"
    rc=$?
    QEMU_FUZZ_TIMEOUT=0 QTEST_LOG=1 FUZZ_SERIALIZE_QTEST=1 \
        "$bin" --fuzz-target="$ftarget" "$replay" \
        > "$replay.trace" 2>&1
    echo "exit status $rc; qtest trace: $replay.trace"
    exit "$rc"
fi

corpus="$cache/fuzz-corpus/$target"
seeds="$cache/fuzz-seeds/$target"
crashes="$cache/fuzz-crashes/$target"
mkdir -p "$corpus" "$seeds" "$crashes"
if [ "$ftarget" = "$target" ]; then
    MMN_FUZZ_SEEDS="$seeds" "$bin" --fuzz-target="$ftarget" > /dev/null ||
        { echo "fuzz.sh: writing the seeds failed" >&2; exit 3; }
fi
log="$cache/fuzz-corpus/$target.log"
count() { find "$1" -maxdepth 1 -type f | wc -l; }
before=$(count "$crashes")
echo "fuzzing $ftarget for $seconds s (corpus $corpus: $(count "$corpus") inputs, seeds $(count "$seeds")); log $log"
# One process (no -jobs/-fork): the machine is shared.  -timeout: no
# record sequence should take seconds; -max_len: 256 records.
touch "$log.start"
nice -n 19 "$bin" --fuzz-target="$ftarget" \
    -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
    -max_len=4096 -print_final_stats=1 -artifact_prefix="$crashes/" \
    "$corpus" "$seeds" > "$log" 2>&1
rc=$?

stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -n 1; }
execs=$(stat number_of_executed_units)
rate=$(stat average_exec_per_sec)
cov0=$(grep -m1 -E 'INITED' "$log" | grep -o 'cov: [0-9]*' | cut -d' ' -f2)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
new=$(count "$crashes")
found=$((new - before))
echo "target $target: ${execs:-?} executions in $seconds s, ${rate:-?} exec/s," \
     "edges (cov) ${cov0:-?} -> ${cov:-?}, features ${ft:-?}," \
     "corpus $(count "$corpus"), crashes $found (libFuzzer exit $rc)"
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" \
    "$target" "$seconds" "${execs:-}" "${rate:-}" "${cov0:-}" "${cov:-}" \
    "$(count "$corpus")" "$found" >> "$cache/fuzz-corpus/runs.tsv"
if [ "$found" -gt 0 ] || [ "$rc" -ne 0 ]; then
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error:)' "$log" | head -n 5
    find "$crashes" -maxdepth 1 -type f -newer "$log.start" |
        sed 's/^/reproducer: /'
    cat <<EOF
replay:   ASAN_OPTIONS=detect_leaks=0 $bin --fuzz-target=$ftarget FILE
trace:    bash $0 --target $target --replay FILE   (writes FILE.trace)
then, as docs/devel/testing/fuzzing.rst describes:
    build/qemu-src/scripts/oss-fuzz/reorder_fuzzer_qtest_trace.py FILE.trace > FILE.qtest
    build/qemu-build/qemu-system-aarch64 <the args at the top of FILE.trace> -qtest stdio < FILE.qtest
and turn FILE.qtest into a qtest (scripts/oss-fuzz/output_reproducer.py).
EOF
    exit 1
fi
