#!/usr/bin/env bash
# sink_oneentry over HTTPS with HTTP/2, as OneEntry is reached in production:
# nghttpx terminates TLS on 127.0.0.1 (ALPN h2) in front of the emulator, and
# COUNT events from source_generate (VISITORS guests) go through it over
# HTTP/2 (libcurl, the sink's one transport). Then the
# same front's ceiling with h2load (one connection, the same streams in
# flight), so the sink's rate reads as a fraction of what that server takes.
# events/s; CPU seconds of sluice, of nghttpx and of the emulator.
#
# usage: bench/oneentry-h2.sh [BUILD_DIR]
#   env: COUNT (200000) VISITORS (10000) CONCURRENCY ("64 adaptive")
# Needs nghttpx and h2load (scripts/deps.sh nghttp2-proxy nghttp2-client).
# Prints Markdown rows for docs/BENCHMARKS.md on stdout.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
SL_BUILD=$(cd "${1:-${SL_BUILD:-$SRC/build}}" && pwd)
export SL_BUILD SLUICE="$SL_BUILD/sluice"
COUNT=${COUNT:-200000}
VISITORS=${VISITORS:-10000}
CONCURRENCY=${CONCURRENCY:-64 adaptive}
sh "$SRC/scripts/deps.sh" nghttp2-proxy nghttp2-client >&2
# The test helpers start the emulator and the TLS front and clean up after.
. "$SRC/tests/integration/common.bash"
OE_TRANSPORT=http # the emulator speaks plain HTTP to the front started below
. "$SRC/tests/integration/oneentry_helpers.bash"
. "$SRC/bench/oneentry_common.bash"

TOKEN=bench-token
make_cert "IP:127.0.0.1"
start_emu --token "$TOKEN" --threads 4
start_front "$(cat "$TMP/port")" --backend-keep-alive-timeout=60s
FRONT="https://127.0.0.1:$FRONT_PORT"

echo "| transport | concurrency | events | events/s | wall s | sluice CPU s | sluice peak RSS MiB | nghttpx CPU s | emulator CPU s | settled at |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for conc in $CONCURRENCY; do
    oe_bench_pipeline "$TMP/p.yaml" "$FRONT" "$conc" "ca_file: \"$TMP/cert.pem\""
    rm -rf "$TMP/state"
    : >"$TMP/events"
    f0=$(cpu_seconds "$FRONT_PID") e0=$(cpu_seconds "$EMU_PID")
    row=$(SLUICE_PLUGIN_PATH="$SL_BUILD/plugins" python3 "$SRC/bench/measure.py" x "$COUNT" -- \
        bash -c "exec '$SLUICE' run '$TMP/p.yaml' 2>'$TMP/log'")
    f1=$(cpu_seconds "$FRONT_PID") e1=$(cpu_seconds "$EMU_PID")
    got=$(lines "$TMP/events")
    [ "$got" -eq "$COUNT" ] || { cat "$TMP/log" >&2; fail "only $got of $COUNT events recorded"; }
    # libcurl must have used h2 (what the front offers first)
    proto=h2 label="HTTPS, HTTP/2 (nghttpx)"
    over=$(awk -v p="$proto" '$2 == p' "$TMP/front.log" | wc -l)
    [ "$over" -ge "$COUNT" ] || fail "only $over requests came over $proto"
    : >"$TMP/front.log"
    settled=$(sed -n 's/.*adaptive concurrency ended at \([0-9]*\).*/\1/p' "$TMP/log" | tail -n 1)
    IFS='|' read -r _ _ ev rate wall cpu rss _ <<<"$row"
    echo "| $label | $conc |$ev|$rate|$wall|$cpu|$rss| $(echo "$f1 - $f0" | bc) | $(echo "$e1 - $e0" | bc) | ${settled:--} |"
done

# The ceiling: h2load posting the same kind of event, one connection with
# 64 streams in flight (the sink's 64 multiplex on one connection too).
printf '{"type":"product_view","productId":12345}' >"$TMP/body.json"
: >"$TMP/events"
f0=$(cpu_seconds "$FRONT_PID") e0=$(cpu_seconds "$EMU_PID")
h2load -n "$COUNT" -c 1 -m 64 -d "$TMP/body.json" -H "content-type: application/json" \
    -H "x-app-token: $TOKEN" -H "x-guest-id: guest-bench" \
    "$FRONT/api/content/user-activity" >"$TMP/h2load.out" 2>&1 || { cat "$TMP/h2load.out" >&2; fail "h2load"; }
f1=$(cpu_seconds "$FRONT_PID") e1=$(cpu_seconds "$EMU_PID")
rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' "$TMP/h2load.out")
ok2xx=$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' "$TMP/h2load.out")
echo
echo "| ceiling (h2load, 1 connection, 64 streams) | requests | requests/s | 2xx | nghttpx CPU s | emulator CPU s |"
echo "|---|---|---|---|---|---|"
echo "| HTTPS, HTTP/2 (nghttpx) | $COUNT | $rps | $ok2xx | $(echo "$f1 - $f0" | bc) | $(echo "$e1 - $e0" | bc) |"
stop_emu
