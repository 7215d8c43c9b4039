#!/usr/bin/env bash
# sink_oneentry throughput: COUNT events from source_generate (shaped into
# product_view events of VISITORS guests by enricher_modify; the sink keeps
# one request per visitor in flight) delivered to the OneEntry emulator
# with 0 ms and 20 ms added latency; events/s, CPU seconds and peak RSS of
# sluice, CPU seconds of the emulator, where adaptive concurrency settled.
# Then the emulator's own ceiling (bench/emulator-ceiling.sh, wrk) at the
# same latencies, so the sink's rate reads as a fraction of it.
#
# usage: bench/oneentry.sh [BUILD_DIR]
#   env: COUNT (200000) VISITORS (10000) CONCURRENCY ("adaptive 64") LATENCIES ("0 20")
#        EMU_THREADS (4) CEILING (1 = also run emulator-ceiling.sh)
#        SINK_OPTS (more sink options as YAML flow items, e.g. "rate_limit: 5000")
# Prints Markdown rows for docs/BENCHMARKS.md on stdout.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$SRC/bench/oneentry_common.bash"
BUILD=${1:-${SL_BUILD:-$SRC/build}}
oe_bench_init "$BUILD" oe
COUNT=${COUNT:-200000}
VISITORS=${VISITORS:-10000}
CONCURRENCY=${CONCURRENCY:-adaptive 64}
LATENCIES=${LATENCIES:-0 20}
EMU_THREADS=${EMU_THREADS:-4}

echo "| server latency | concurrency | events | events/s | wall s | sluice CPU s | sluice peak RSS MiB | emulator CPU s | settled at |"
echo "|---|---|---|---|---|---|---|---|---|"
for lat in $LATENCIES; do
    for conc in $CONCURRENCY; do
        oe_bench_start_emu "$lat"
        oe_bench_pipeline "$TMP/p.yaml" "http://127.0.0.1:$(cat "$TMP/port")" "$conc" "${SINK_OPTS:-}"
        rm -rf "$TMP/state"
        e0=$(cpu_seconds "$EMU_PID")
        row=$(SLUICE_PLUGIN_PATH="$BUILD/plugins" python3 "$SRC/bench/measure.py" x "$COUNT" -- \
            bash -c "exec '$SLUICE' run '$TMP/p.yaml' 2>'$TMP/log'")
        e1=$(cpu_seconds "$EMU_PID")
        got=$(wc -l <"$TMP/events")
        oe_bench_stop_emu
        [ "$got" -eq "$COUNT" ] || { echo "only $got of $COUNT events recorded" >&2; cat "$TMP/log" >&2; exit 1; }
        settled=$(sed -n 's/.*adaptive concurrency ended at \([0-9]*\).*/\1/p' "$TMP/log" | tail -n 1)
        # measure.py prints | label | events | events/s | wall | cpu | rss |
        IFS='|' read -r _ _ ev rate wall cpu rss _ <<<"$row"
        echo "| ${lat} ms | $conc |$ev|$rate|$wall|$cpu|$rss| $(echo "$e1 - $e0" | bc) | ${settled:--} |"
    done
done

if [ "${CEILING:-1}" = 1 ]; then
    echo
    echo "Emulator ceiling with wrk (bench/emulator-ceiling.sh, 64 and 256 connections):"
    echo
    CONCURRENCY=64 DURATION=${DURATION:-5} "$SRC/bench/emulator-ceiling.sh" "$BUILD" | grep '^|'
    CONCURRENCY=256 DURATION=${DURATION:-5} LATENCIES=20 "$SRC/bench/emulator-ceiling.sh" "$BUILD" | grep '^| 20'
fi
