#!/usr/bin/env bash
# The guest scenarios on real Debian arm64 kernels: qemu-system-aarch64
# (TCG) with -device mmn-smmu, the guest driver mmn_smmu_drv.ko built for
# each kernel, and the scenario programs of tests/guest/scenarios (each
# case prints one row: the device's outcome, faults, DMA_RESUME retries,
# the kernel's secondary-TLB notifications, stale read-only entries the
# coherence checker found), judged against tests/guest/scenarios/
# expected.tsv, and beside each the outcome the kernel model
# (tests/qtest/mmn-smmu-repro, profile linux-6.1 or linux-6.6) gives for
# the same case where it has one (tests/guest/scenarios/model.tsv).
# Exits non-zero when a row is not as expected or the model differs.
#
# Kernels are any Debian arm64 build apt can see, or your own build tree;
# each is prepared once (archive headers, or its exact source with the
# image's config: scripts/mmn-smmu/lib/kernels.sh) and the output says
# which way.  --bisect finds the first build of a series whose outcome
# differs.
#
# Usage: guest-repro.sh [--tap|--json] [--kernel SPEC]... [--kernels FROM..TO]...
#                       [--cpu cortex-a57|neoverse-n1|max]... [--scenario S]...
#                       [--expected FILE] [--trace PATTERN] [--qemu PATH]
#                       [--timeout SECONDS]
#        guest-repro.sh --bisect GOOD..BAD --scenario S [--cpu CPU]
#                       [--trace PATTERN] [--qemu PATH] [--timeout SECONDS]
#        guest-repro.sh --list-kernels [SERIES]
#   --kernel SPEC   a kernel (repeatable; default: 6.1 and 6.12, the newest
#                   of each): a series (6.1, 6.12), a build (6.1.0-47,
#                   6.12.74+deb12, with a flavour: 6.12.74+deb12-arm64-16k),
#                   a Debian version (6.12.74-2~bpo12+1), or the path of a
#                   kernel build tree (arch/arm64/boot/Image, Module.symvers)
#   --kernels A..B  every Debian build of one series from A to B
#   --cpu CPU       guest CPU model (repeatable; default cortex-a57)
#   --scenario S    a scenario program: NAME of tests/guest/scenarios,
#                   the path of a FILE.c of your own written against
#                   tests/guest/lib/mmn-scenario.h (repeatable; default:
#                   every program of tests/guest/scenarios), or mmn-repro
#                   (the first reproduction program,
#                   tests/guest/mmn-smmu-drv/mmn-repro.c)
#   --expected FILE rows in expected.tsv's format for your own cases,
#                   searched before tests/guest/scenarios/expected.tsv; a
#                   case of your own FILE.c that no row covers is shown
#                   "unjudged" and does not fail the run
#   --trace PATTERN add QEMU's -trace PATTERN (e.g. 'mmn_smmu_ctx_bind';
#                   events: hw/mmn-smmu/trace-events); the trace lines go
#                   to each boot's console log
#   --bisect A..B   binary-search the builds from A to B for the first one
#                   whose outcome (the scenario's states and classes)
#                   differs from A's
#   --list-kernels  the builds apt sees and how each would be prepared
#   --tap / --json  TAP (one test per row, for test.sh) / JSON rows
#   --qemu PATH     boot with this qemu-system-aarch64 (default: ours,
#                   built with scripts/mmn-smmu/build.sh)
#   --timeout S     seconds per boot (default 300); a guest that hangs is
#                   stopped then, and the end of its console is shown
# Environment: MMN_BUILD (builds, initramfs, console logs go to
# $MMN_BUILD/guest/repro), MMN_CACHE (downloads, prepared kernels),
# MMN_QEMU (as --qemu), MMN_JOBS (make -j for kernel objects, default
# 2), MMN_GUEST_REFRESH=1 (prepare every kernel again).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
run_out=${MMN_BUILD:-$repo/build}/guest/repro
lib="$repo/scripts/mmn-smmu/lib"
# shellcheck source=scripts/mmn-smmu/guest-lib.sh
. "$repo/scripts/mmn-smmu/guest-lib.sh"
# shellcheck source=scripts/mmn-smmu/lib/kernels.sh
. "$lib/kernels.sh"
# shellcheck source=scripts/mmn-smmu/lib/kernel-source.sh
. "$lib/kernel-source.sh"
# shellcheck source=scripts/mmn-smmu/lib/guest-build.sh
. "$lib/guest-build.sh"
# shellcheck source=scripts/mmn-smmu/lib/scenarios.sh
. "$lib/scenarios.sh"
# shellcheck source=scripts/mmn-smmu/lib/guest-run.sh
. "$lib/guest-run.sh"
# shellcheck source=scripts/mmn-smmu/lib/bisect.sh
. "$lib/bisect.sh"
# shellcheck source=scripts/mmn-smmu/lib/changelog.sh
. "$lib/changelog.sh"
# shellcheck source=scripts/mmn-smmu/lib/guest-bisect.sh
. "$lib/guest-bisect.sh"
# shellcheck source=scripts/mmn-smmu/lib/guest-model.sh
. "$lib/guest-model.sh"

format=text
qemu=${MMN_QEMU:-}
tmo=300
specs=()
cpus=()
scen=()
bisect=
list=
expected=
run_qemu_args=()

# usage [STATUS]: the Usage block of the header comment (with its
# Environment lines); on stdout for --help (status 0), else on stderr.
usage() {
    local st=${1:-2}
    awk '/^# Usage:/ { on = 1 } on && !/^#/ { exit } on { sub(/^# ?/, ""); print }' "$0" |
        if [ "$st" = 0 ]; then cat; else cat >&2; fi
    exit "$st"
}
need() { [ "$1" -ge 2 ] || usage; }

while [ $# -gt 0 ]; do
    case "$1" in
    --tap) format=tap ;;
    --json) format=json ;;
    --kernel|--kernels) need $#; specs+=("$2"); shift ;;
    --cpu) need $#; mmn_guest_cpu_check "$2" || exit 2; cpus+=("$2"); shift ;;
    --scenario) need $#; scen+=("$2"); shift ;;
    --bisect) need $#; bisect=$2; shift ;;
    --list-kernels) list=all; if [ $# -ge 2 ] && [[ "$2" != -* ]]; then list=$2; shift; fi ;;
    --qemu) need $#; qemu=$2; shift ;;
    --timeout) need $#; tmo=$2; shift ;;
    --expected) need $#; expected=$2; shift ;;
    --trace) need $#; run_qemu_args+=(-trace "$2"); shift ;;
    -h|--help) usage 0 ;;
    *) echo "guest-repro.sh: unknown argument '$1'" >&2; usage ;;
    esac
    shift
done

if [ -n "$list" ]; then
    [ "$list" = all ] && list=
    mmn_kernels_list "$list"
    exit 0
fi
if ! [[ "$tmo" =~ ^[1-9][0-9]*$ ]]; then
    mmn_k_say "guest-repro.sh: --timeout takes a number of seconds per boot, not '$tmo'."
    exit 2
fi
if [ -n "$expected" ]; then
    if [ ! -f "$expected" ]; then
        mmn_k_say "guest-repro.sh: no file $expected for --expected (rows in" \
            "the format of tests/guest/scenarios/expected.tsv, described at the" \
            "top of tests/guest/lib/mmn-scenario.h)."
        exit 2
    fi
    MMN_SCENARIO_EXPECTED="$(cd "$(dirname "$expected")" && pwd)/$(basename "$expected")"
    export MMN_SCENARIO_EXPECTED
fi

# The scenarios: programs of tests/guest/scenarios, or mmn-repro.
run_mode=scenarios
run_progs=()
run_cases=()
for s in "${scen[@]}"; do
    case "$s" in
    mmn-repro|mmn-repro.c) run_mode=mmn-repro ;;
    *.c) if [ ! -f "$s" ]; then
             mmn_k_say "guest-repro.sh: no scenario file $s."
             exit 2
         fi
         run_progs+=("$(cd "$(dirname "$s")" && pwd)/$(basename "$s")") ;;
    *) if [ -f "$repo/tests/guest/scenarios/$s.c" ]; then
           run_progs+=("$repo/tests/guest/scenarios/$s.c")
       else
           mmn_k_say "guest-repro.sh: no scenario '$s'. The built-in scenarios are" \
               "$(find "$repo/tests/guest/scenarios" -maxdepth 1 -name '*.c' -printf '%f\n' | sed 's/\.c$//' | sort | tr '\n' ' ' | sed 's/ $//')" \
               "(tests/guest/scenarios/NAME.c); give a NAME, the path of" \
               "a FILE.c written against tests/guest/lib/mmn-scenario.h, or" \
               "mmn-repro for the first reproduction program."
           exit 2
       fi ;;
    esac
done
if [ "$run_mode" = mmn-repro ]; then
    if [ ${#run_progs[@]} -gt 0 ]; then
        mmn_k_say "guest-repro.sh: mmn-repro runs under its own /init" \
            "(tests/guest/repro-init); run it apart from the scenario programs."
        exit 2
    fi
    run_progs=("$repo/tests/guest/mmn-smmu-drv/mmn-repro.c")
elif [ ${#run_progs[@]} -eq 0 ]; then
    run_progs=("$repo"/tests/guest/scenarios/*.c)
fi
dup=$(printf '%s\n' "${run_progs[@]}" | xargs -n 1 basename | sort | uniq -d | tr '\n' ' ')
if [ -n "$dup" ]; then
    mmn_k_say "guest-repro.sh: two scenario programs would have the same name" \
        "in the guest (/scenarios/NAME, from NAME.c): ${dup% }. Rename one."
    exit 2
fi
[ ${#cpus[@]} -gt 0 ] || cpus=(cortex-a57)

t_all=$(mmn_run_now)
# Progress and timings: stderr, or TAP comments.
note() {
    if [ "$format" = tap ]; then echo "# $*"; else echo "$*" >&2; fi
}

# console_tail LOG: the part of a failed boot's console that says why:
# from just before the kernel's first oops, BUG, WARNING or panic line (30
# lines), else its last 25 lines.
console_tail() {
    local n
    n=$(tr -d '\r' < "$1" | grep -a -n -m 1 -E 'Unable to handle kernel|Internal error:|BUG:|WARNING:|Kernel panic' |
        cut -d: -f1 || true)
    if [ -n "$n" ]; then
        note "the console ($1) from the kernel's first complaint:"
        tr -d '\r' < "$1" | tail -n +$((n > 3 ? n - 3 : 1)) | head -n 30 |
            while IFS= read -r l; do note "  | $l"; done
    else
        note "last 25 lines of the console ($1):"
        tr -d '\r' < "$1" | tail -n 25 | while IFS= read -r l; do note "  | $l"; done
    fi
}

mkdir -p "$run_out"
# Bad arguments and kernel specs first, then the programs (they do not
# depend on the kernel): a scenario that does not compile is said once,
# before any kernel is fetched.
if [ -n "$bisect" ]; then
    if [ ${#scen[@]} -ne 1 ] || [ ${#specs[@]} -gt 0 ] || [ ${#cpus[@]} -gt 1 ]; then
        mmn_k_say "guest-repro.sh: --bisect GOOD..BAD takes exactly one" \
            "--scenario (the program whose outcome is compared), at most one" \
            "--cpu, and no --kernel: the kernels are the Debian builds" \
            "between GOOD and BAD."
        exit 2
    fi
    mmn_kernels_resolve "$bisect" > /dev/null || exit 2
else
    [ ${#specs[@]} -gt 0 ] || specs=(6.1 6.12)
    for spec in "${specs[@]}"; do
        mmn_kernels_resolve "$spec" > /dev/null || exit 2
    done
fi
t=$(mmn_run_now)
# (The paragraph that says which is above; no guest is booted.)
mmn_guest_progs "$run_out/k/$run_mode" "$repo/tests/guest/mmn-smmu-drv" "${run_progs[@]}" || exit 1
t_progs=$(mmn_run_since "$t")
if [ -n "$bisect" ]; then
    qemu=$(mmn_guest_qemu "$qemu")
    MMN_GUEST_BUSYBOX=$(mmn_kernels_busybox)
    mmn_guest_bisect "$bisect" "${cpus[0]}"
    exit
fi

t=$(mmn_run_now)
st=0
mmn_kernels_prepare_all "${specs[@]}" || st=$?
[ "$st" != 2 ] || exit 2
# Nothing could be prepared: the paragraphs above say why.
[ ${#MMN_KENVS[@]} -gt 0 ] || exit 1
t_prep=$(mmn_run_since "$t")
qemu_given=$qemu
t=$(mmn_run_now)
MMN_GUEST_TARGETS=
[ "$run_mode" != scenarios ] || MMN_GUEST_TARGETS=tests/qtest/mmn-smmu-repro
qemu=$(mmn_guest_qemu "$qemu")
MMN_GUEST_BUSYBOX=$(mmn_kernels_busybox)
# The kernel model's outcomes for the model column (about 1 s).
R_MODEL=
if [ "$run_mode" = scenarios ]; then
    if [ -n "$qemu_given" ]; then
        "$repo/scripts/mmn-smmu/build.sh" tests/qtest/mmn-smmu-repro >&2 || true
    fi
    mbin=$(mmn_guest_snapshot "${MMN_BUILD:-$repo/build}/qemu-build/tests/qtest/mmn-smmu-repro")
    if mmn_model_run "$qemu" "$mbin" "$run_out/model.txt"; then
        R_MODEL="$run_out/model.txt"
    else
        note "model: not run ($MODEL_WHY); the model column says n/a"
    fi
fi
t_qemu=$(mmn_run_since "$t")
for env in "${MMN_KENVS[@]}"; do
    mmn_kernels_load "$env"
    for cpu in "${cpus[@]}"; do
        mmn_guest_cpu_fits "$K_CONFIG" "$cpu" "$K_NAME" || exit 2
    done
done

R_ROWS="$run_out/rows.tsv"
: > "$R_ROWS"
# A build that could not be prepared (its paragraph is above): one row,
# failing when it was named, skipped when it is part of a range.
for id in "${MMN_KFAILED[@]}" "${MMN_KSKIPPED[@]}"; do
    K_NAME=${id#tree:} K_NAME=${K_NAME%%=*} K_NAME=${K_NAME#linux-image-}
    K_VERSION=${id#*=} K_PREP=not-prepared
    [[ "$id" != tree:* ]] || K_VERSION=
    why="not prepared: no archive headers and no exact source, or a bad tree (paragraph above)"
    for cpu in "${cpus[@]}"; do
        R_CPU=$cpu
        if [[ " ${MMN_KSKIPPED[*]} " == *" $id "* ]]; then
            mmn_run_missing "(all)" "$why" | sed 's/\tFAIL not prepared/\tskip not prepared/' >> "$R_ROWS"
        else
            mmn_run_missing "(all)" "$why" >> "$R_ROWS"
        fi
    done
done
boots=()
t_pack=0
for env in "${MMN_KENVS[@]}"; do
    mmn_kernels_load "$env"
    if ! mmn_run_pack "$env"; then
        for cpu in "${cpus[@]}"; do
            R_CPU=$cpu
            mmn_run_missing "(build)" "the guest for $K_NAME could not be built (above)" >> "$R_ROWS"
        done
        continue
    fi
    t_pack=$(awk -v a="$t_pack" -v b="$R_PACK_SECS" 'BEGIN { print a + b }')
    for cpu in "${cpus[@]}"; do
        before=$(wc -l < "$R_ROWS")
        mmn_run_boot "$env" "$cpu"
        note "boot: $K_NAME ($K_VERSION, $K_PREP) on $cpu: $R_NROWS row(s) in $R_BOOT_SECS s${R_BOOTFAIL:+; $R_BOOTFAIL}"
        boots+=("$K_NAME/$cpu ${R_BOOT_SECS}s")
        # A boot that failed, or a row that did: the end of its console.
        if [ -n "$R_BOOTFAIL" ] ||
           tail -n +$((before + 1)) "$R_ROWS" | awk -F'\t' '$14 ~ /^FAIL/ { f = 1 } END { exit !f }'; then
            console_tail "$R_LOG"
        fi
    done
done

# Report.
nfail=$(awk -F'\t' '$14 ~ /^FAIL/' "$R_ROWS" | wc -l)
nunj=$(awk -F'\t' '$14 ~ /^unjudged/' "$R_ROWS" | wc -l)
nrows=$(wc -l < "$R_ROWS")
case "$format" in
tap)
    echo "1..$nrows"
    awk -F'\t' '{
        what = $1 " " $3 " " $5
        if ($14 ~ /^skip/) { printf "ok %d - %s # SKIP %s\n", NR, what, substr($14, 6); next }
        sum = $6 " " $7 ", " $8 " faults, " $10 " notifications, stale_readonly " $11
        split($15, m, " ")
        if (m[1] == "agree") sum = sum ", the kernel model agrees (" m[2] ")"
        if ($14 == "ok") printf "ok %d - %s: %s\n", NR, what, sum
        else if ($14 ~ /^unjudged/) printf "ok %d - %s: %s (not judged: %s)\n", NR, what, sum, substr($14, 10)
        else printf "not ok %d - %s: %s\n", NR, what, substr($14, 6)
    }' "$R_ROWS"
    ;;
json)
    awk -F'\t' 'function q(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
        function n(s) { return s ~ /^[0-9]+$/ ? s : (s == "" ? "null" : q(s)) }
        BEGIN { printf "[" }
        {
            v = $14; ok = (v == "ok") ? "true" : "false"; skip = (v ~ /^skip/) ? "true" : "false"
            verdict = v; sub(/ .*/, "", verdict)
            reason = (v == "ok") ? "" : substr(v, index(v, " ") + 1)
            split($15, m, " ")
            if (m[1] == "" || m[1] == "-") model = "null"
            else model = "{\"agree\": " (m[1] == "agree" ? "true" : m[1] == "DIFFERS" ? "false" : "null") \
                         ", \"run\": " q(m[2]) ", \"outcome\": " (m[3] == "" ? "null" : q(m[3])) "}"
            printf "%s\n  {\"kernel\": %s, \"version\": %s, \"cpu\": %s, \"prepared\": %s, " \
                   "\"scenario\": %s, \"state\": %s, \"class\": %s, \"faults\": %s, " \
                   "\"retries\": %s, \"notifications\": %s, \"stale_readonly\": %s, " \
                   "\"read\": %s, \"data\": %s, \"model\": %s, \"verdict\": %s, " \
                   "\"ok\": %s, \"skip\": %s, \"reason\": %s}",
                   (NR > 1 ? "," : ""), q($1), q($2), q($3), q($4), q($5), q($6), q($7),
                   n($8), n($9), n($10), n($11), q($12), q($13), model, q(verdict), ok, skip, q(reason)
        }
        END { print (NR ? "\n" : "") "]" }' "$R_ROWS"
    ;;
*)
    {
        printf 'kernel\tdebian\tcpu\tscenario\toutcome\tclass\tfaults\tretries\tnotif\tstale_ro\tread\tdata\tmodel\tverdict\n'
        awk -F'\t' -v OFS='\t' '{ m = $15; sub(/ .*/, "", m); if (m == "") m = "-"
            print $1, $2, $3, $5, $6, $7, $8, $9, $10, $11, $12, $13, m, $14 }' "$R_ROWS"
    } | column -t -s $'\t'
    ;;
esac
note "time: total $(mmn_run_since "$t_all") s (programs $t_progs s, kernels $t_prep s," \
     "QEMU + busybox + kernel model $t_qemu s, modules + initramfs $t_pack s," \
     "boots ${boots[*]:-none}); logs in $run_out/k"
if [ "$format" = tap ]; then
    echo "# guest-repro: $((nrows - nfail)) passed or skipped, $nfail failed"
elif [ "$nfail" = 0 ]; then
    unj_note=
    [ "$nunj" = 0 ] || unj_note=", $nunj of them not judged (no expected.tsv row)"
    note "every row as expected ($nrows rows$unj_note; the kernel model agrees on" \
         "$(awk -F'\t' '$15 ~ /^agree/' "$R_ROWS" | wc -l) of them, has no such case for the others)"
else
    note "$nfail of $nrows rows not as expected"
fi
[ "$nfail" = 0 ]
