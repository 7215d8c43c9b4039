# Fan-in, fan-out and an enricher chain: every event reaches every sink that
# is downstream of it, enrichers apply in graph order.
. "$(dirname "$0")/common.bash"

cat >"$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state, queue_max_bytes: 64KiB }
sources:
  a: { plugin: generate, count: 20000, message: from-a }
  b: { plugin: generate, count: 30000, message: from-b, batch_max_events: 7 }
enrichers:
  second:                      # listed first, runs second: order comes from inputs
    plugin: modify
    inputs: [first]
    rename: { stage: stage2 }
    set: { seen_second: true }
  first:
    plugin: modify
    inputs: [a, b]             # fan-in
    set: { stage: one }
sinks:
  all: { plugin: file, inputs: [second], path: $TMP/all.jsonl }
  only_b: { plugin: file, inputs: [b], path: $TMP/b.jsonl }     # fan-out of b
  counted: { plugin: null, inputs: [first, a] }
YAML

"$SLUICE" validate "$TMP/p.yaml" >/dev/null
"$SLUICE" run "$TMP/p.yaml" 2>"$TMP/log" || { cat "$TMP/log"; fail "run failed"; }
ok "run exits 0 when both sources end"

python3 - "$TMP/all.jsonl" "$TMP/b.jsonl" <<'PY'
import json, sys
from collections import defaultdict
seqs = defaultdict(list)
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert o["stage2"] == "one" and o["seen_second"] is True and "stage" not in o, o
    seqs[o["message"]].append(o["seq"])
assert seqs["from-a"] == list(range(1, 20001)), "source a: missing, duplicated or reordered"
assert seqs["from-b"] == list(range(1, 30001)), "source b: missing, duplicated or reordered"
b = [json.loads(l) for l in open(sys.argv[2])]
assert [o["seq"] for o in b] == list(range(1, 30001)) and all("stage" not in o for o in b)
print("all: 50000 events in per-source order; only_b: 30000 untouched")
PY
ok "fan-in, fan-out and enricher order"
finish
