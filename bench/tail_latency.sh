#!/bin/bash
# bench/tail_latency.sh [BUILD_DIR] [LINES]: how long a line written to a
# followed file waits before source_tail reads it, with inotify (default)
# and with polling alone (inotify: false), both at the default 100 ms
# poll_interval. A writer appends one line every 20 ms carrying its write
# time; sink_file records the event time (taken when the source reads), so
# read time - write time is the wait. Prints median, p99 and max per mode,
# and the CPU seconds sluice used while mostly idle.
set -euo pipefail
BUILD=${1:-build}
LINES=${2:-300}
W=$(mktemp -d /tmp/sluice-bench-taillat.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$W"' EXIT
run() { # run INOTIFY
    rm -rf "$W/logs" "$W/state" "$W/out.jsonl"; mkdir -p "$W/logs"; : > "$W/logs/a.log"
    cat > "$W/p.yaml" <<YAML
service: { state_dir: $W/state }
sources:
  t: { plugin: tail, paths: [$W/logs/*.log], read_from: head, inotify: $1 }
sinks:
  out: { plugin: file, inputs: [t], path: $W/out.jsonl, time_format: unix_ns }
YAML
    "$BUILD/sluice" run "$W/p.yaml" --plugin-path "$BUILD/plugins" 2>"$W/log" & PID=$!
    sleep 0.5
    python3 - "$W/logs/a.log" "$LINES" <<'PY'
import sys, time
with open(sys.argv[1], "a", buffering=1) as f:
    for i in range(int(sys.argv[2])):
        f.write("%d %d\n" % (i, time.time_ns()))
        time.sleep(0.02)
PY
    sleep 0.5
    local cpu
    cpu=$(awk '{print ($14 + $15) / 100}' "/proc/$PID/stat")
    kill -TERM "$PID"; wait "$PID"; PID=""
    python3 - "$W/out.jsonl" "$LINES" "$1" "$cpu" <<'PY'
import json, sys
waits = sorted((json.loads(l)["time"] - int(json.loads(l)["message"].split()[1])) / 1e6
               for l in open(sys.argv[1]))
n = int(sys.argv[2])
if len(waits) != n:
    sys.exit(f"got {len(waits)} lines, want {n}")
pick = lambda q: waits[min(len(waits) - 1, int(q * len(waits)))]
print(f"  inotify: {sys.argv[3]:5}  wait median {pick(0.5):6.2f} ms, p99 {pick(0.99):6.2f} ms, "
      f"max {waits[-1]:6.2f} ms; sluice CPU {float(sys.argv[4]):.2f} s over {n * 0.02 + 1:.0f} s")
PY
}
echo "tail latency: $LINES lines, one every 20 ms, poll_interval 100ms"
run true
run false
