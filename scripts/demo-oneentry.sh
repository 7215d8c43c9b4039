#!/bin/sh
# The flagship job end to end, with nothing outside this machine: the sample
# nginx access log is tailed, parsed, turned into UserActivity events and
# delivered by the OneEntry sink to the local OneEntry emulator, which checks
# every request against the API contract. `make demo-oneentry` runs it.
set -eu
BUILD=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
EMU="$BUILD/tests/oneentry-emulator/oneentry-emulator"
[ -x "$EMU" ] || { echo "no $EMU: build first (make build)" >&2; exit 2; }
T=$(mktemp -d /tmp/sluice-demo.XXXXXX)
"$EMU" --listen 127.0.0.1:0 --port-file "$T/port" --events "$T/events" --token demo-token --quiet &
EMU_PID=$!
trap 'kill $EMU_PID 2>/dev/null; wait $EMU_PID 2>/dev/null; rm -rf "$T"' EXIT INT TERM
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/port" ] || { echo "the emulator did not start" >&2; exit 1; }

echo "== sluice run pipelines/nginx-to-oneentry.yaml --once  (OneEntry emulator on 127.0.0.1:$(cat "$T/port"))"
ONEENTRY_URL="http://127.0.0.1:$(cat "$T/port")" ONEENTRY_TOKEN=demo-token \
SLUICE_GUEST_ID_KEY=demo-key-not-a-secret-0123 SLUICE_STATE_DIR="$T/state" \
NGINX_ACCESS_LOG="$SRC/tests/data/nginx-access.log" \
    "$BUILD/sluice" run "$SRC/pipelines/nginx-to-oneentry.yaml" --once

echo
echo "== what OneEntry received ($(wc -l <"$T/events") events from $(wc -l <"$SRC/tests/data/nginx-access.log") log lines; the rest were bots, static files or no rule's match):"
python3 - "$T/events" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    b = e["body"]
    what = {k: v for k, v in b.items() if k != "type"}
    print(f'  {b["type"]:<28} {e["auth"][:28]:<28} {json.dumps(what, ensure_ascii=False)}')
PY
echo
echo "== emulator: $(curl -s "http://127.0.0.1:$(cat "$T/port")/_stats" 2>/dev/null || echo 'stats unavailable')"
