#!/usr/bin/env bash
# bench/tap.sh [BUILD_DIR] [EVENTS]: what one `sluice tap` reader costs a busy
# pipeline. generate -> null (EVENTS, default 20,000,000) twice: alone, and
# with a tap reader on the source from start to end (curl into /dev/null,
# default tap settings: at most 1000 events a second shown). Prints events/s
# for both as markdown rows.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
N=${2:-20000000}
SLUICE_BIN="$BUILD/sluice"
[ -x "$SLUICE_BIN" ] || { echo "no $SLUICE_BIN: build first (make build)" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl missing (scripts/deps.sh installs it)" >&2; exit 2; }
TMP=$(mktemp -d /tmp/sluice-bench-tap.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
cat >"$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state, admin: { listen: "127.0.0.1:0" }, log_level: info }
sources: { gen: { plugin: generate, count: $N } }
sinks: { out: { plugin: null, inputs: [gen] } }
YAML
export SLUICE_PLUGIN_PATH="$BUILD/plugins"
run() { # run NAME WITH_TAP
    local t0 t1 port
    rm -rf "$TMP/state"
    t0=$(date +%s.%N)
    "$SLUICE_BIN" run "$TMP/p.yaml" 2>"$TMP/log" &
    local pid=$!
    if [ "$2" = 1 ]; then
        for _ in $(seq 200); do grep -q "admin endpoint on" "$TMP/log" && break; sleep 0.01; done
        port=$(sed -n 's/.*admin endpoint on 127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/log")
        curl -sN "http://127.0.0.1:$port/tap/gen" >/dev/null &
    fi
    wait "$pid"
    t1=$(date +%s.%N)
    python3 - "$1" "$N" "$t0" "$t1" <<'PY'
import sys
name, n, t0, t1 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"| {name} | {n:,} | {n / (t1 - t0):,.0f} | {t1 - t0:.2f} |")
PY
}
echo "| pipeline | events | events/s | wall s |"
echo "|---|---|---|---|"
run "generate -> null" 0
run "generate -> null, one tap reader" 1
