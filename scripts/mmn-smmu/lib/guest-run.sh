# shellcheck shell=bash disable=SC2034,SC2154,SC2153
# (sets R_* for its caller and reads the caller's run_* settings)
# One guest run of the reproduction: pack the guest of one kernel, boot it
# on one CPU model, and turn its console into judged rows.  Sourced by
# guest-repro.sh (plain runs and --bisect); not run.  Needs guest-lib.sh,
# lib/kernels.sh, lib/guest-build.sh, lib/scenarios.sh and (for
# mmn_run_boot) lib/guest-model.sh sourced, and
# from the caller:
#   repo qemu tmo      the checkout, qemu-system-aarch64, seconds per boot
#   run_out            folder for builds, initramfs and console logs
#   run_mode           scenarios: tests/guest/scenarios programs under
#                      tests/guest/scenario-init, judged by expected.tsv;
#                      mmn-repro: the first reproduction (mmn-repro.c under
#                      tests/guest/repro-init), judged by kernel line
#   run_progs          the programs' .c files (array)
#   run_cases          mmn-repro mode: the cases to report (array; empty:
#                      all)
#   run_qemu_args      more QEMU arguments for every boot (array; may be
#                      unset), e.g. -trace mmn_smmu_ctx_bind
#   R_MODEL            the kernel model's runs (mmn_model_run of
#                      lib/guest-model.sh), or empty: no model column
#
#   mmn_run_pack KENV     build (mmn_guest_build) and pack the initramfs of
#                         one kernel, both cached by content; sets R_INITRD,
#                         R_PACK_SECS, R_BUILT (yes/no)
#   mmn_run_boot KENV CPU boot it; appends rows to R_ROWS (a file) and sets
#                         R_BOOT_SECS, R_BOOTFAIL ("" or why the boot as a
#                         whole failed), R_LOG, R_NROWS
# Rows are tab-separated:
#   kernel version cpu prep scenario state class faults retries
#   notifications stale_ro read data verdict model
# verdict: "ok", "skip <reason>" (an N/A case), "FAIL <reason>", or
# "unjudged <reason>" (a case of a scenario file outside
# tests/guest/scenarios that no expected.tsv row covers: shown, not held
# against the run).  model: "agree", "DIFFERS" (the row then fails), "-"
# (the model has no such case) or "n/a" (the model could not run), with
# the model's outcome after a blank ("DIFFERS linux-6.6/writable-clean
# LIVELOCK/stale").

mmn_run_now() { date +%s%N; }
mmn_run_since() { awk -v d=$(($(mmn_run_now) - $1)) 'BEGIN { printf "%.1f", d / 1e9 }'; }

# mmn_run_dir KENV: the per-kernel folder of this mode.
mmn_run_dir() {
    mmn_kernels_load "$1"
    echo "$run_out/k/$run_mode/${K_NAME}_${K_VERSION//:/%3a}"
}

mmn_run_pack() {
    local kenv=$1 d t key
    t=$(mmn_run_now)
    d=$(mmn_run_dir "$kenv")
    mmn_guest_build "$kenv" "$repo/tests/guest/mmn-smmu-drv" "$d/build" "${run_progs[@]}" || return 1
    R_BUILT=${B_BUILT:-yes}
    R_INITRD="$d/initrd.gz"
    if [ "$run_mode" = scenarios ]; then
        key=$(cat "$d/build/.mmn-built" "$repo/tests/guest/scenario-init" \
                  "$repo/scripts/mmn-smmu/lib/scenarios.sh" "$repo/tests/guest/applets" | md5sum)
    else
        key=$(cat "$d/build/.mmn-built" "$repo/tests/guest/repro-init" "$repo/tests/guest/applets" | md5sum)
    fi
    if [ -f "$R_INITRD" ] && [ "$(cat "$d/initrd.key" 2>/dev/null)" = "$key" ]; then
        R_PACK_SECS=$(mmn_run_since "$t")
        return 0
    fi
    R_BUILT=yes
    rm -f "$d/initrd.key"
    if [ "$run_mode" = scenarios ]; then
        local mdir="" disk="$run_out/scenario-disk.img"
        if [ -n "$K_ROOT" ]; then
            mdir="$d/modules"
            mmn_scenarios_modules "$K_ROOT" "$K_KREL" "$mdir" >&2 || return 1
        fi
        [ -f "$disk" ] || mmn_scenarios_disk "$disk" >&2 || return 1
        mmn_scenarios_pack "$R_INITRD" "$B_KO" "$B_BIN" "$mdir" "$disk" >&2 || return 1
    else
        mmn_guest_initramfs "$R_INITRD" "$repo/tests/guest/repro-init" \
            "$B_KO" mmn_smmu_drv.ko "$B_BIN/mmn-repro" mmn-repro
    fi
    echo "$key" > "$d/initrd.key"
    R_PACK_SECS=$(mmn_run_since "$t")
}

# mmn_run_field LINE NAME: the value of NAME=... in a row line
# (mmn_scenarios_parse of lib/scenarios.sh).
mmn_run_field() {
    mmn_scenarios_parse "$1"
    echo "${MMN_ROW[$2]:-}"
}

# mmn_run_judge_repro SERIES LINE: today's expectation of the first
# reproduction, by kernel line: 6.1 (invalidate_range era, flush_tlb_page
# notifies nobody) LIVELOCK on a stale read-only entry, 6.6+
# (arch_invalidate_secondary_tlbs from flush_tlb_page) DONE after one
# fault.  Prints why not, or nothing.
mmn_run_judge_repro() {
    local series=$1 line=$2 want state faults stale data read
    case "$series" in
    6.1|6.2|6.3|6.4|6.5|5.*|4.*) want=LIVELOCK ;;
    *) want=DONE ;;
    esac
    state=$(mmn_run_field "$line" state)
    faults=$(mmn_run_field "$line" faults)
    stale=$(mmn_run_field "$line" stale_readonly)
    data=$(mmn_run_field "$line" data)
    read=$(mmn_run_field "$line" read)
    if [ "$read" != ok ] && [ "$read" != n/a ]; then
        echo "the device's READ gave $read"
    elif [ "$state" != "$want" ]; then
        echo "device $state, expected $want"
    elif [ "$want" = LIVELOCK ] && [ "${stale:-0}" -lt 1 ]; then
        echo "LIVELOCK but the checker found no stale read-only entry"
    elif [ "$want" = LIVELOCK ] && [ "$data" != unchanged ]; then
        echo "LIVELOCK but the CPU sees the page $data"
    elif [ "$want" = DONE ] && [ "$faults" != 1 ]; then
        echo "DONE after $faults faults, expected exactly 1"
    elif [ "$want" = DONE ] && [ "$data" != ok ]; then
        echo "DONE but the CPU sees data=$data"
    fi
}

# mmn_run_row LINE VERDICT [MODEL]: one TSV row from a console row line.
mmn_run_row() {
    local line=$1 verdict=$2 model=${3:-} f
    mmn_scenarios_parse "$line"
    printf '%s\t%s\t%s\t%s' "$K_NAME" "$K_VERSION" "$R_CPU" "$K_PREP"
    for f in scenario state class faults retries notifications stale_readonly read data; do
        printf '\t%s' "${MMN_ROW[$f]:-}"
    done
    printf '\t%s\t%s\n' "$verdict" "$model"
}

# mmn_run_missing NAME WHY: a row for a case or program that gave none.
mmn_run_missing() {
    printf '%s\t%s\t%s\t%s\t%s\t\t\t\t\t\t\t\t\tFAIL %s\n' "$K_NAME" "$K_VERSION" \
        "$R_CPU" "$K_PREP" "$1" "$2"
}

mmn_run_boot() {
    local kenv=$1 console result line c p why n=0 gcpu
    R_CPU=$2
    mmn_kernels_load "$kenv"
    R_LOG="$(mmn_run_dir "$kenv")/console-$R_CPU.log"
    local -a extra=()
    [ -z "${run_qemu_args+set}" ] || extra=("${run_qemu_args[@]}")
    MMN_GUEST_CPU=$R_CPU mmn_guest_boot "$qemu" "$K_IMAGE" "$R_INITRD" "$R_LOG" "$tmo" \
        -device mmn-smmu "${extra[@]}"
    R_BOOT_SECS=$secs
    console=$(tr -d '\r' < "$R_LOG")
    result=$(echo "$console" | grep -a -o 'MMN-GUEST-RESULT: .*' | tail -n 1 || true)
    local panic
    panic=$(echo "$console" | grep -a -o -m 1 'Kernel panic - not syncing: .*' || true)
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        R_BOOTFAIL="timed out after $tmo s (--timeout)"
    elif [ -z "$result" ] && [ -n "$panic" ]; then
        R_BOOTFAIL="the guest kernel panicked (${panic#Kernel panic - not syncing: })"
    elif [ -z "$result" ]; then
        R_BOOTFAIL="no MMN-GUEST-RESULT line (QEMU exit $rc)"
    elif [ "${result#MMN-GUEST-RESULT: PASS}" = "$result" ]; then
        R_BOOTFAIL="guest says: ${result#MMN-GUEST-RESULT: }"
    elif [ "$rc" != 0 ]; then
        R_BOOTFAIL="QEMU exit $rc"
    else
        R_BOOTFAIL=
    fi
    if [ "$run_mode" = mmn-repro ]; then
        local -a cases=("${run_cases[@]}")
        [ ${#cases[@]} -gt 0 ] || cases=(writable-clean writable-clean-first-write wp-page-reuse)
        for c in "${cases[@]}"; do
            line=$(echo "$console" | grep -a -o "MMN-GUEST-REPRO: .* scenario=$c .*" | tail -n 1 || true)
            n=$((n + 1))
            if [ -z "$line" ]; then
                mmn_run_missing "$c" "no result line${R_BOOTFAIL:+; $R_BOOTFAIL}" >> "$R_ROWS"
                continue
            fi
            why=$(mmn_run_judge_repro "$K_SERIES" "$line")
            [ -n "$why" ] || why=$R_BOOTFAIL
            mmn_run_row "$line" "${why:+FAIL }${why:-ok}" >> "$R_ROWS"
        done
        R_NROWS=$n
        return 0
    fi
    # Scenario programs: every row each one printed, a failing row for a
    # program that printed none or exited non-zero (a case could not set up
    # what it tests); those are then not held against the other rows.
    case "$R_BOOTFAIL" in
    "guest says: FAIL scenario programs failed:"*) R_BOOTFAIL= ;;
    esac
    local src user kline scase state class
    for src in "${run_progs[@]}"; do
        p=$(basename "$src" .c)
        user=0
        [[ "$src" == "$repo/tests/guest/scenarios/"* ]] || user=1
        local rows
        rows=$(echo "$console" |
               awk -v p="$p" '/MMN-GUEST-SCENARIO: name=/ { cur = "" }
                              /mmn-guest: running / { cur = $3 }
                              cur == p && /^MMN-GUEST-REPRO: / { print }')
        if [ -z "$rows" ]; then
            n=$((n + 1))
            mmn_run_missing "$p" "program $p printed no row${R_BOOTFAIL:+; $R_BOOTFAIL}" >> "$R_ROWS"
            continue
        fi
        while read -r line; do
            n=$((n + 1))
            mmn_scenarios_parse "$line"
            gcpu=${MMN_ROW[cpu]:-}
            scase=${MMN_ROW[scenario]:-}
            state=${MMN_ROW[state]:-}
            class=${MMN_ROW[class]:-}
            kline=${MMN_ROW[kline]}
            mmn_model_compare "${R_MODEL:-}" "$scase" "$kline" \
                "${MMN_ROW[dirty]:-}" "$state" "$class"
            local st=0
            if [ "$class" = n/a ]; then
                why="skip ${MMN_ROW[reason]:-}"
            elif [ -n "$gcpu" ] && [ "$gcpu" != "$R_CPU" ]; then
                why="FAIL the guest reports cpu=$gcpu, booted with -cpu $R_CPU"
            elif why=$(mmn_scenarios_judge "$line"); then
                why=${R_BOOTFAIL:+FAIL $R_BOOTFAIL}
                why=${why:-ok}
            else
                st=$?
                if [ "$st" = 3 ] && [ "$user" = 1 ]; then
                    why="unjudged $why: $src is not one of tests/guest/scenarios (--expected FILE judges it)"
                else
                    why="FAIL $why"
                fi
            fi
            if [ "$MODEL_COL" = DIFFERS ]; then
                local msg="the kernel model ($MODEL_RUN) gives $MODEL_SAYS, this kernel $state/$class"
                case "$why" in
                FAIL*) why="$why; $msg" ;;
                *) why="FAIL $msg" ;;
                esac
            fi
            mmn_run_row "$line" "$why" "$MODEL_COL${MODEL_RUN:+ $MODEL_RUN}${MODEL_SAYS:+ $MODEL_SAYS}" >> "$R_ROWS"
        done <<< "$rows"
        c=$(echo "$console" | sed -n "s/^MMN-GUEST-SCENARIO: name=$p exit=\([0-9]*\) .*/\1/p" | tail -n 1)
        if [ -n "$c" ] && [ "$c" != 0 ]; then
            n=$((n + 1))
            mmn_run_missing "$p" "program $p exited $c: a case failed (its TAP is in $R_LOG)" >> "$R_ROWS"
        fi
    done
    R_NROWS=$n
}
