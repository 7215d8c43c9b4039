#!/bin/bash
# bench/tail_crash.sh [BUILD_DIR] [LINES] [KILLS]: source_tail under kill -9 at
# scale. A LINES-line file (default 500,000) is read with `sluice run --once`
# into sink_file; sluice is killed with SIGKILL KILLS times (default 10), each
# time after the output grew by a random share of the input, so every kill
# lands mid-ingest, then it runs to the end. Prints lines missing (must be
# 0) and, per restart, how many lines were delivered again: the worst of
# these is what one crash costs (what was in flight or acknowledged but not
# yet checkpointed).
set -euo pipefail
BUILD=${1:-build}
LINES=${2:-500000}
KILLS=${3:-10}
W=$(mktemp -d /tmp/sluice-bench-tailcrash.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$W"' EXIT
mkdir -p "$W/logs"
python3 -c '
import sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write("n %d %s\n" % (i, "y" * (50 + i % 200)))' "$W/logs/big.log" "$LINES"
cat > "$W/p.yaml" <<YAML
service: { state_dir: $W/state }
sources:
  t: { plugin: tail, paths: [$W/logs/*.log], read_from: head, checkpoint_interval: 50ms,
       batch_max_events: 500 }
sinks:
  out: { plugin: file, inputs: [t], path: $W/out.jsonl, time_key: "" }
YAML
insize=$(stat -c %s "$W/logs/big.log")
outsize() { stat -c %s "$W/out.jsonl" 2>/dev/null || echo 0; }
: > "$W/marks"
kills=0
for _ in $(seq 1 $((KILLS + 5))); do
    "$BUILD/sluice" run "$W/p.yaml" --once --plugin-path "$BUILD/plugins" 2>>"$W/log" & PID=$!
    if [ "$kills" -lt "$KILLS" ]; then
        # kill after the output grew by 30-100% of an even share of the input
        step=$(( insize / (KILLS + 1) * (30 + RANDOM % 71) / 100 ))
        target=$(( $(outsize) + step ))
        for _ in $(seq 1 6000); do # at most 60 s
            [ "$(outsize)" -ge "$target" ] && break
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.01
        done
        if kill -9 "$PID" 2>/dev/null; then kills=$((kills + 1)); fi
    fi
    rc=0; wait "$PID" || rc=$?
    PID=""
    [ "$rc" -eq 0 ] && break
    [ "$rc" -eq 137 ] || { tail "$W/log" >&2; echo "sluice exited $rc" >&2; exit 1; }
    wc -l <"$W/out.jsonl" >>"$W/marks"
done
[ "$rc" -eq 0 ] || { echo "sluice never finished" >&2; exit 1; }
python3 - "$W/out.jsonl" "$W/marks" "$LINES" "$kills" <<'PY'
import json, sys
out, marks, n, kills = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
bounds = [int(x) for x in open(marks).read().split()]
seen, per_restart, seg, torn = set(), [], 0, 0
dups_here = 0
for lineno, l in enumerate(open(out, "rb")):
    while seg < len(bounds) and lineno >= bounds[seg]:
        per_restart.append(dups_here); dups_here = 0; seg += 1
    try:
        i = int(json.loads(l)["message"].split()[1])
    except ValueError:
        torn += 1  # a line cut by the kill itself
        continue
    if i in seen:
        dups_here += 1
    seen.add(i)
per_restart.append(dups_here)
restarts = per_restart[1:]  # the first run repeats nothing
missing = n - len([i for i in seen if i < n])
print(f"tail kill -9: {n:,} lines, {kills} kills mid-ingest, then a run to the end")
print(f"  missing lines:               {missing}")
print(f"  torn output lines:           {torn}")
print(f"  duplicates, total:           {sum(restarts):,}")
print(f"  duplicates per restart:      {', '.join(f'{d:,}' for d in restarts)}")
print(f"  worst duplicates, 1 restart: {max(restarts, default=0):,}")
sys.exit(1 if missing else 0)
PY
