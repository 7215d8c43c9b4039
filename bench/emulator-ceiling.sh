#!/usr/bin/env bash
# The OneEntry emulator's ceiling: how many requests/s it answers (and records)
# at a given concurrency, with 0 ms and 20 ms added latency, measured with wrk
# and a POST Lua script sending a valid UserActivity event with a guest id and
# an app token. The sink benchmark (bench/oneentry.sh) reads its rate as a
# fraction of this.
#
# usage: bench/emulator-ceiling.sh [BUILD_DIR]
#   env: CONCURRENCY (64) DURATION seconds (10) WRK_THREADS (2) EMU_THREADS (4)
#        LATENCIES ("0 20")
# Prints a Markdown section for docs/BENCHMARKS.md on stdout.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$SRC/bench/oneentry_common.bash"
BUILD=${1:-${SL_BUILD:-$SRC/build}}
CONCURRENCY=${CONCURRENCY:-64}
DURATION=${DURATION:-10}
WRK_THREADS=${WRK_THREADS:-2}
EMU_THREADS=${EMU_THREADS:-4}
LATENCIES=${LATENCIES:-0 20}

if ! command -v wrk >/dev/null; then
    echo "emulator-ceiling: installing wrk (Debian package)" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get install -y -qq --no-install-recommends wrk >&2 ||
        { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends wrk >&2; }
fi

oe_bench_init "$BUILD" emu

cat >"$TMP/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"type":"product_view","productId":48213,"meta":{"sourceBlock":"catalog","variant":"b"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-app-token"] = "bench-token"
wrk.headers["x-guest-id"] = "guest-6f1c2a9e"
LUA

# run LATENCY_MS: one emulator, one wrk run; prints a table row.
run() {
    local lat=$1
    oe_bench_start_emu "$lat"
    local url="http://127.0.0.1:$(cat "$TMP/port")/api/content/user-activity"
    local cpu0 cpu1
    cpu0=$(cpu_seconds "$EMU_PID")
    # wrk's own CPU: the second line of the subshell's `times` (its children),
    # "0m1.23s 0m0.45s"
    (wrk -t "$WRK_THREADS" -c "$CONCURRENCY" -d "${DURATION}s" --latency -s "$TMP/post.lua" \
        "$url" >"$TMP/wrk.out"; times >"$TMP/wrk.times")
    cpu1=$(cpu_seconds "$EMU_PID")
    # requests still waiting out their latency when wrk stopped are answered
    # (and recorded) a moment later; count once nothing is pending
    local stats
    for _ in $(seq 50); do
        stats=$(curl -s "http://127.0.0.1:$(cat "$TMP/port")/_stats")
        echo "$stats" | awk -F'[:,}]' '{ exit !($2 == $4 + $6 + $8) }' && break
        sleep 0.1
    done
    oe_bench_stop_emu
    local rps p50 p99 errors lines accepted
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$TMP/wrk.out")
    p50=$(awk '$1 == "50%" { print $2 }' "$TMP/wrk.out")
    p99=$(awk '$1 == "99%" { print $2 }' "$TMP/wrk.out")
    errors=$(awk '/Non-2xx|Socket errors/ { printf "%s ", $0 }' "$TMP/wrk.out")
    lines=$(wc -l <"$TMP/events")
    accepted=$(echo "$stats" | sed 's/.*"accepted":\([0-9]*\).*/\1/')
    local ideal="-" cpu_per wrk_per
    [ "$lat" -gt 0 ] && ideal=$(awk -v c="$CONCURRENCY" -v l="$lat" 'BEGIN { printf "%.0f", c * 1000 / l }')
    cpu_per=$(awk -v c0="$cpu0" -v c1="$cpu1" -v n="$accepted" \
        'BEGIN { printf "%.2f", n ? (c1 - c0) * 100000 / n : 0 }')
    wrk_per=$(awk -v n="$accepted" 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } }
        END { printf "%.2f", n ? t * 100000 / n : 0 }' "$TMP/wrk.times")
    [ "$lines" -eq "$accepted" ] || errors="$errors events file has $lines lines, stats say $accepted"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$lat" "$CONCURRENCY" "$rps" \
        "$ideal" "$p50" "$p99" "$accepted" "$cpu_per" "$wrk_per" "${errors:-none}"
}

echo "## OneEntry emulator ceiling (bench/emulator-ceiling.sh)"
echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"
echo "wrk $WRK_THREADS threads, ${DURATION}s per run; emulator $EMU_THREADS threads, recording every"
echo "event to its events file, token checked. wrk and the emulator share the machine."
echo
echo "| latency ms | connections | requests/s | concurrency ÷ latency | p50 | p99 | accepted | emulator CPU s / 100k req | wrk CPU s / 100k req | errors |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for lat in $LATENCIES; do
    run "$lat"
done
