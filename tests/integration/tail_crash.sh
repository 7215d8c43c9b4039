# source_tail under kill -9: a 100,000-line file read with --once, sluice
# killed at random moments and restarted until it finishes. Every line must
# reach the sink; duplicates may only come from what was in flight (the
# count is printed). bench/tail_crash.sh runs the 500,000-line version and
# reports the duplicates of each restart.
. "$(dirname "$0")/common.bash"
LINES=${TAIL_CRASH_LINES:-100000}
KILLS=${TAIL_CRASH_KILLS:-4}
mkdir -p "$TMP/logs"
python3 -c '
import sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write("n %d %s\n" % (i, "y" * (50 + i % 200)))' "$TMP/logs/big.log" "$LINES"
cat > "$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state }
sources:
  t: { plugin: tail, paths: [$TMP/logs/*.log], read_from: head, checkpoint_interval: 50ms,
       batch_max_events: 500 }
sinks:
  out: { plugin: file, inputs: [t], path: $TMP/out.jsonl, time_key: "" }
YAML
kills=0
for attempt in $(seq 1 50); do
    "$SLUICE" run "$TMP/p.yaml" --once 2>>"$TMP/log" & pid=$!
    if [ "$kills" -lt "$KILLS" ]; then
        sleep "0.$(( RANDOM % 3 ))$(( RANDOM % 10 ))"
        if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
    fi
    rc=0; wait "$pid" || rc=$?
    [ "$rc" -eq 0 ] && break
    [ "$rc" -eq 137 ] || { tail "$TMP/log"; fail "sluice exited $rc"; }
done
[ "$rc" -eq 0 ] || fail "never finished"
python3 - "$TMP/out.jsonl" "$LINES" "$kills" <<'PY' || fail "lines lost"
import collections, json, sys
c, torn = collections.Counter(), 0
for l in open(sys.argv[1], "rb"):
    try:
        c[int(json.loads(l)["message"].split()[1])] += 1
    except ValueError:
        torn += 1  # SIGKILL can cut the sink's write(); that batch was never acknowledged
n, kills = int(sys.argv[2]), int(sys.argv[3])
missing = [i for i in range(n) if c[i] == 0]
dups = sum(k - 1 for k in c.values() if k > 1)
print(f"{n} lines, {kills} kills: {len(missing)} missing, {dups} duplicates, {torn} torn")
if missing:
    sys.exit(f"missing {len(missing)}, first {missing[:5]}")
if torn > kills:
    sys.exit(f"{torn} torn lines from {kills} kills")
PY
ok "kill -9 $kills times during ingest: no line lost"
finish
