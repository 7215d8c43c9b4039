#!/usr/bin/env bash
# Beyond one machine: edges -> NATS JetStream -> aggregators -> OneEntry,
# with the shipped pipelines (pipelines/edge-to-nats.yaml and
# pipelines/nats-to-oneentry.yaml), a real nats-server -js and the OneEntry
# emulator on 127.0.0.1.
#
#  1. Edges: two edge processes read EVENTS nginx lines (half each, written
#     beforehand) to their end (--once) and publish them: events/s, CPU per
#     event of the edges and of nats-server.
#  2. Aggregators: for K in AGGREGATORS, K processes on a fresh durable read
#     the whole stream and deliver it to the emulator (HTTPS) at LATENCY_MS: events/s,
#     CPU per event of the aggregators, of nats-server and of the emulator.
#  3. The judged run (JUDGED=1): tests/integration/nats_e2e.sh at
#     JUDGED_EVENTS events and LATENCY_MS: 2 live edges, 3 aggregators, kill -9
#     of one aggregator and its restart, kill -9 and restart of nats-server;
#     delivered, duplicates, per-visitor inversions.
#
# usage: bench/nats.sh [BUILD_DIR]
#   env: EVENTS (100000) AGGREGATORS ("1 2 3") LATENCY_MS (20) EMU_THREADS (4)
#        JUDGED (1) JUDGED_EVENTS (200000) JUDGED_RATE (2500 lines/s per edge)
# Prints Markdown for docs/BENCHMARKS.md on stdout.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$SRC/bench/oneentry_common.bash"
BUILD=${1:-${SL_BUILD:-$SRC/build}}
BUILD=$(cd "$BUILD" && pwd)
oe_bench_init "$BUILD" nats
EVENTS=${EVENTS:-100000}
AGGREGATORS=${AGGREGATORS:-1 2 3}
LATENCY_MS=${LATENCY_MS:-20}
export SLUICE_PLUGIN_PATH="$BUILD/plugins" SLUICE_GUEST_ID_KEY=bench-guest-key-0123456789
command -v nats-server >/dev/null || { echo "nats-server missing (scripts/deps.sh)" >&2; exit 1; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
# The aggregators reach the emulator over HTTPS, as they reach OneEntry.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sluice-bench \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
export ONEENTRY_CA_FILE="$TMP/cert.pem"

NATS_PID=""
bench_cleanup() {
    [ -n "$NATS_PID" ] && kill "$NATS_PID" 2>/dev/null && wait "$NATS_PID" 2>/dev/null
    oe_bench_cleanup
}
trap bench_cleanup EXIT

start_nats() {
    mkdir -p "$TMP/nats/ports"
    nats-server -js -a 127.0.0.1 -p -1 -sd "$TMP/nats/store" --ports_file_dir "$TMP/nats/ports" \
        -l "$TMP/nats/log" &
    NATS_PID=$!
    for _ in $(seq 100); do ls "$TMP"/nats/ports/*.ports >/dev/null 2>&1 && break; sleep 0.1; done
    NATS_URL=$(sed -n 's/.*"\(nats:\/\/127.0.0.1:[0-9]*\)".*/\1/p' "$TMP"/nats/ports/*.ports)
    [ -n "$NATS_URL" ] || { echo "nats-server did not start" >&2; exit 1; }
    export NATS_URL
}

# gen_log FILE EDGE N: nginx combined lines, product views of 300 visitors
# of this edge, productIds unique over both edges.
gen_log() {
    python3 - "$@" <<'PY'
import sys, time
path, e, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
first = (e - 1) * n + 1
with open(path, "w") as f:
    for k in range(n):
        v = k % 300
        ts = time.strftime("%d/%b/%Y:%H:%M:%S", time.gmtime(1767225600 + k // 50))
        f.write(f'10.{e}.{v // 250}.{v % 250} - - [{ts} +0000] "GET /products/{first + k} '
                f'HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"\n')
PY
}

# measure LABEL N CMD...: `| label | events | events/s | wall | cpu | rss |`
measure() {
    local label=$1 n=$2
    shift 2
    python3 "$SRC/bench/measure.py" "$label" "$n" -- "$@"
}

machine() {
    echo "$(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)), load average" \
        "$(cut -d' ' -f1-3 /proc/loadavg) at the start, $(date -u '+%Y-%m-%d %H:%M UTC'), commit" \
        "$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?'), nats-server" \
        "$(nats-server --version | sed 's/nats-server: //'), libnats $(pkg-config --modversion libnats)"
}

echo "Machine: $(machine)."
echo
start_nats

# 1. Edges.
HALF=$((EVENTS / 2))
for e in 1 2; do
    mkdir -p "$TMP/e$e"
    gen_log "$TMP/e$e/access.log" "$e" "$HALF"
done
n0=$(cpu_seconds "$NATS_PID")
t0=$(date +%s.%N)
pids=""
for e in 1 2; do
    NGINX_ACCESS_LOG="$TMP/e$e/access.log" SLUICE_STATE_DIR="$TMP/e$e/state" \
        measure "edge $e" "$HALF" bash -c "exec '$SLUICE' run --once '$SRC/pipelines/edge-to-nats.yaml' 2>'$TMP/e$e/log'" \
        >"$TMP/e$e/row" &
    pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
t1=$(date +%s.%N)
n1=$(cpu_seconds "$NATS_PID")
echo "Edges (tail -> parse -> activity -> nats), $EVENTS lines written beforehand, two edge"
echo "processes each reading its own log to its end (--once) at the same time:"
echo
echo "| process | events | events/s | wall s | CPU s | peak RSS MiB | CPU µs per event |"
echo "|---|---|---|---|---|---|---|"
for e in 1 2; do
    IFS='|' read -r _ label ev rate wall cpu rss _ <"$TMP/e$e/row"
    echo "|$label|$ev|$rate|$wall|$cpu|$rss| $(echo "scale=1; $cpu * 1000000 / $HALF" | bc) |"
done
ncpu=$(echo "$n1 - $n0" | bc)
echo "| nats-server (both edges) | $EVENTS | $(echo "$EVENTS / ($t1 - $t0)" | bc) | $(printf %.2f "$(echo "$t1 - $t0" | bc)") | $ncpu | - | $(echo "scale=1; $ncpu * 1000000 / $EVENTS" | bc) |"
echo

# 2. Aggregators.
echo "Aggregators (nats -> oneentry) delivering the whole stream ($EVENTS events, 600 visitors)"
echo "to the emulator over HTTPS at $LATENCY_MS ms latency; K processes on one fresh durable, started"
echo "together, each stopping when a fetch finds nothing left (--once):"
echo
echo "| aggregators | events | events/s | wall s | aggregator CPU s | aggregator CPU µs per event | nats-server CPU s | emulator CPU s |"
echo "|---|---|---|---|---|---|---|---|"
for k in $AGGREGATORS; do
    oe_bench_start_emu "$LATENCY_MS" --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem"
    export ONEENTRY_URL="https://127.0.0.1:$(cat "$TMP/port")" ONEENTRY_TOKEN=bench-token
    export NATS_DURABLE="bench$k"
    e0=$(cpu_seconds "$EMU_PID")
    n0=$(cpu_seconds "$NATS_PID")
    t0=$(date +%s.%N)
    pids=""
    for a in $(seq "$k"); do
        rm -rf "$TMP/a$a"
        mkdir -p "$TMP/a$a"
        SLUICE_STATE_DIR="$TMP/a$a/state" measure "a$a" 0 \
            bash -c "exec '$SLUICE' run --once '$SRC/pipelines/nats-to-oneentry.yaml' 2>'$TMP/a$a/log'" \
            >"$TMP/a$a/row" &
        pids="$pids $!"
    done
    # shellcheck disable=SC2086
    wait $pids
    t1=$(date +%s.%N)
    n1=$(cpu_seconds "$NATS_PID")
    e1=$(cpu_seconds "$EMU_PID")
    got=$(sort -u "$TMP/events" | wc -l)
    oe_bench_stop_emu
    [ "$got" -eq "$EVENTS" ] || { echo "only $got of $EVENTS delivered" >&2; cat "$TMP"/a1/log >&2; exit 1; }
    cpu=0
    for a in $(seq "$k"); do
        IFS='|' read -r _ _ _ _ _ c _ _ <"$TMP/a$a/row"
        cpu=$(echo "$cpu + $c" | bc)
    done
    wall=$(echo "$t1 - $t0" | bc)
    echo "| $k | $EVENTS | $(echo "$EVENTS / $wall" | bc) | $(printf %.2f "$wall") | $cpu |" \
        "$(echo "scale=1; $cpu * 1000000 / $EVENTS" | bc) | $(echo "$n1 - $n0" | bc) | $(echo "$e1 - $e0" | bc) |"
done
echo

# 3. The judged run.
if [ "${JUDGED:-1}" = 1 ]; then
    kill "$NATS_PID" && wait "$NATS_PID" 2>/dev/null || true
    NATS_PID=""
    echo "The judged run (tests/integration/nats_e2e.sh, E2E_EVENTS=${JUDGED_EVENTS:-200000},"
    echo "E2E_LATENCY_MS=$LATENCY_MS): 2 live edges, 3 aggregators, kill -9 of one aggregator and"
    echo "its restart, kill -9 and restart of nats-server:"
    echo
    t0=$(date +%s.%N)
    SLUICE="$SLUICE" SL_BUILD="$BUILD" SL_SRC="$SRC" SL_TESTS="$SRC/tests" \
        E2E_EVENTS=${JUDGED_EVENTS:-200000} E2E_LATENCY_MS=$LATENCY_MS \
        E2E_RATE=${JUDGED_RATE:-2500} E2E_WAIT=600 \
        bash "$SRC/tests/integration/nats_e2e.sh" >"$TMP/judged" 2>&1 ||
        { cat "$TMP/judged" >&2; exit 1; }
    t1=$(date +%s.%N)
    grep '^# [0-9]' "$TMP/judged" | sed 's/^# /    /'
    echo
    echo "    wall $(printf %.1f "$(echo "$t1 - $t0" | bc)") s (writers pace ${JUDGED_RATE:-2500} lines/s per edge)"
fi
