#!/bin/sh
# Run every fuzz target of a SLUICE_FUZZ build for SECONDS each, one after
# another, and print one summary line per target (runs, exec/s, coverage).
#   tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
# New inputs go to BUILD_DIR/fuzz-corpus/<t> (seeded from tests/fuzz/corpus);
# a crash leaves BUILD_DIR/fuzz-crashers/<t>/crash-* and makes the exit code 1.
# Copy a crasher into tests/fuzz/crashers/<t>/ once fixed: `make test` replays it.
# FUZZ_KEEP_GOING=1 runs libFuzzer's fork mode and goes on after a crash, to
# look past a known, not yet fixed finding (every crash is still saved).
set -eu
build=$1 seconds=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
targets=${*:-$(cat "$build/fuzz-targets.txt")}
nice_cmd=${FUZZ_NICE:-nice -n 10}

# Two runs started side by side (one per core) would build the same
# libraries at once and break each other's archives: one build at a time.
# shellcheck disable=SC2086
flock "$build/.fuzz-build.lock" cmake --build "$build" -j "$(nproc)" \
    $(for t in $targets; do printf -- '--target fuzz_%s ' "$t"; done)

failed=""
for t in $targets; do
    corpus=$build/fuzz-corpus/$t crashers=$build/fuzz-crashers/$t log=$build/fuzz-$t.log
    mkdir -p "$corpus" "$crashers"
    rc=0 mode=""
    [ "${FUZZ_KEEP_GOING:-0}" = 1 ] && mode="-fork=1 -ignore_crashes=1"
    # shellcheck disable=SC2086
    $nice_cmd "$build/tests/fuzz/fuzz_$t" $mode -max_total_time="$seconds" -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$crashers/" "$corpus" "$src/corpus/$t" \
        >"$log" 2>&1 || rc=$?
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    if [ -z "$runs" ]; then # fork mode: "#RUNS: cov: .. time: Ts"
        runs=$(echo "$last" | sed -n 's/^#\([0-9]*\):.*/\1/p')
        secs=$(echo "$last" | sed -n 's/.* time: \([0-9]*\)s.*/\1/p')
        [ -n "$runs" ] && [ "${secs:-0}" -gt 0 ] && eps=$((runs / secs))
    fi
    cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    found=$(find "$crashers" -type f | wc -l)
    echo "fuzz_$t: ${seconds}s runs=${runs:-?} exec/s=${eps:-?} cov=${cov:-?} ft=${ft:-?} corpus=$(find "$corpus" -type f | wc -l) crashers=$found rc=$rc"
    if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
        failed="$failed $t"
        grep -E 'ERROR|SUMMARY|^    #[0-9]' "$log" | head -n 20 >&2 || true
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz: findings in:$failed (logs: $build/fuzz-<target>.log)" >&2
    exit 1
fi
