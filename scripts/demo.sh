#!/bin/sh
# `make demo`: the flagship job end to end, with nothing outside this machine
# and nothing to set up. The sample nginx access log is tailed, parsed, turned
# into UserActivity events and delivered by the OneEntry sink to the local
# OneEntry emulator, which checks every request against the API contract.
# The pipeline is the one users copy (pipelines/nginx-to-oneentry.yaml); this
# script only supplies what a real install puts in its environment file.
set -eu
BUILD=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
EMU="$BUILD/tests/oneentry-emulator/oneentry-emulator"
LOG="$SRC/tests/data/nginx-access.log"
[ -x "$EMU" ] || { echo "no $EMU: build first (make build)" >&2; exit 2; }
T=$(mktemp -d /tmp/sluice-demo.XXXXXX)
"$EMU" --listen 127.0.0.1:0 --port-file "$T/port" --events "$T/events" --token demo-token --quiet &
EMU_PID=$!
trap 'kill $EMU_PID 2>/dev/null; wait $EMU_PID 2>/dev/null; rm -rf "$T"' EXIT INT TERM
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/port" ] || { echo "the emulator did not start" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$T/port")"

echo "== sluice run pipelines/nginx-to-oneentry.yaml --once  (OneEntry emulator at $URL)"
start=$(date +%s%N)
rc=0
ONEENTRY_URL="$URL" ONEENTRY_TOKEN=demo-token \
SLUICE_GUEST_ID_KEY=demo-key-not-a-secret-0123 SLUICE_STATE_DIR="$T/state" \
NGINX_ACCESS_LOG="$LOG" \
    "$BUILD/sluice" run "$SRC/pipelines/nginx-to-oneentry.yaml" --once || rc=$?
end=$(date +%s%N)
curl -sf "$URL/_stats" >"$T/stats" 2>/dev/null || echo '{}' >"$T/stats"
: >>"$T/events"

echo
echo "== what OneEntry received:"
python3 - "$T/events" "$T/stats" "$LOG" "$T/state" $(( (end - start) / 1000000 )) <<'PY'
import collections, json, os, sys
events_file, stats_file, log, state, ms = sys.argv[1:6]
events = [json.loads(line) for line in open(events_file)]
for e in events:
    b = e["body"]
    what = {k: v for k, v in b.items() if k != "type"}
    print(f'  {b["type"]:<28} {e["auth"][:28]:<28} {json.dumps(what, ensure_ascii=False)}')
by_type = collections.Counter(e["body"]["type"] for e in events)
stats = json.load(open(stats_file))
dead = 0
for root, _, files in os.walk(state):
    for f in files:
        # each component's dead letters (host->dead_letter), turned-over ones too
        if f.startswith("dead-letters.jsonl"):
            dead += sum(1 for _ in open(os.path.join(root, f)))
lines = sum(1 for _ in open(log, "rb"))
print("\n== summary")
print(f"  log lines read         {lines}")
print(f"  events delivered       {len(events)}, by type:")
for t, n in sorted(by_type.items(), key=lambda tn: (-tn[1], tn[0])):
    print(f"    {t:<28} {n:>3}")
print(f"  not events             {lines - len(events)} (bots, static files, no rule matched, "
      "or the line did not parse)")
print(f"  rejected by OneEntry   {stats.get('rejected', '?')}")
print(f"  dead-lettered          {dead}")
print(f"  time                   {int(ms) / 1000:.2f} s")
PY
exit $rc
