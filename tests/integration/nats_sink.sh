# sink_nats against a real nats-server -js on 127.0.0.1: tail -> parse ->
# nats stores every line once, on the subject of its type; the same lines
# read again (lost checkpoints) are dropped by the stream's duplicate window;
# format: json publishes the body as JSON; and a nats-server killed (-9)
# and restarted while lines keep coming loses nothing and stores nothing
# twice, and the tail checkpoint never passes a line the stream lacks.
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/nats_helpers.bash"

start_nats
mkdir -p "$TMP/e1"
gen_activity 3000 "$TMP/e1/access.log"
edge_yaml "$TMP/e1/p.yaml" "$TMP/e1/access.log"

# 1. Every line stored once; the stream was created with its subjects.
"$SLUICE" run "$TMP/e1/p.yaml" --once 2>"$TMP/e1/log" || { cat "$TMP/e1/log"; fail "run"; }
expect_in "$TMP/e1/log" "created stream SLUICE (subjects activity.>"
[ "$(stream_msgs)" = 3000 ] || fail "stream holds $(stream_msgs) messages, expected 3000"
ok "3000 lines: the stream was created (activity.>) and holds each once"

# Subjects come from the template: a consumer filtered on one type sees
# exactly the events of that type.
mkdir -p "$TMP/r1"
FILTER=activity.product_purchase reader_yaml "$TMP/r1/p.yaml" "$TMP/r1/out.jsonl" purchases
"$SLUICE" run "$TMP/r1/p.yaml" --once 2>"$TMP/r1/log" || { cat "$TMP/r1/log"; fail "read"; }
want=$(grep -c product_purchase "$TMP/e1/access.log")
[ "$(lines "$TMP/r1/out.jsonl")" = "$want" ] || fail "activity.product_purchase: $(lines "$TMP/r1/out.jsonl") of $want"
grep -v -q product_purchase "$TMP/r1/out.jsonl" && fail "another type on activity.product_purchase"
ok "subject activity.{type}: a consumer on activity.product_purchase reads exactly those $want events"

# 2. Read again from the start (checkpoints lost): same Nats-Msg-Ids, so the
# duplicate window drops them all.
rm -rf "$TMP/e1/state"
"$SLUICE" run "$TMP/e1/p.yaml" --once 2>"$TMP/e1/log2" || { cat "$TMP/e1/log2"; fail "rerun"; }
[ "$(stream_msgs)" = 3000 ] || fail "after a re-read the stream holds $(stream_msgs), expected 3000"
ok "the same 3000 lines published again: all dropped by the duplicate window (Nats-Msg-Id)"

# 3. format: json on a stream of its own: the body and the time as JSON.
mkdir -p "$TMP/j"
head -n 10 "$TMP/e1/access.log" >"$TMP/j/access.log"
SUBJECT='json.{type}' edge_yaml "$TMP/j/p.yaml" "$TMP/j/access.log" \
    'stream: JSON, format: json, time_key: at, time_format: unix_ms'
"$SLUICE" run "$TMP/j/p.yaml" --once 2>"$TMP/j/log" || { cat "$TMP/j/log"; fail "json run"; }
cat >"$TMP/j/r.yaml" <<YAML
service: { state_dir: $TMP/j/rstate }
sources:
  in: { plugin: nats, url: "$NATS_URL", stream: JSON, durable: j, payload: raw }
sinks:
  out: { plugin: file, inputs: [in], path: "$TMP/j/out.jsonl", time_key: "" }
YAML
"$SLUICE" run "$TMP/j/r.yaml" --once 2>"$TMP/j/rlog" || { cat "$TMP/j/rlog"; fail "json read"; }
python3 - "$TMP/j/out.jsonl" <<'PY' || fail "json payloads"
import json, sys
rows = [json.loads(json.loads(l)["message"]) for l in open(sys.argv[1])]
assert len(rows) == 10, len(rows)
for i, r in enumerate(rows, 1):
    t = 1767225600000 + i
    assert r == {"type": r["type"], "productId": i, "guest_id": f"guest-{i % 97}", "ts": t,
                 "at": t}, r
PY
ok "format: json publishes the body's fields and the time (time_key at, unix_ms)"

# 4. nats-server killed and restarted while a writer keeps appending.
mkdir -p "$TMP/e2"
: >"$TMP/e2/access.log"
SUBJECT='live.{type}' edge_yaml "$TMP/e2/p.yaml" "$TMP/e2/access.log" "stream: LIVE"
N=20000
"$SLUICE" run "$TMP/e2/p.yaml" 2>"$TMP/e2/log" &
EDGE=$!
gen_activity "$N" "$TMP/e2/access.log" 1 0.05 &
WRITER=$!
wait_for 60 stream_at_least 2000 LIVE || { cat "$TMP/e2/log"; fail "publishing did not start"; }
stop_nats KILL
down_at=$(wc -l <"$TMP/e2/access.log")
# Down while more lines arrive: the sink holds them (backpressure), the
# tail checkpoint stays behind.
more() { [ "$(wc -l <"$TMP/e2/access.log")" -ge $((down_at + 2000)) ] || ! kill -0 "$WRITER" 2>/dev/null; }
wait_for 60 more || fail "the writer stalled"
start_nats
wait "$WRITER" || fail "writer"
wait_for 120 stream_at_least $N LIVE || { cat "$TMP/e2/log"; fail "only $(stream_msgs LIVE) of $N stored after the restart"; }
kill -TERM "$EDGE"
wait "$EDGE" || { cat "$TMP/e2/log"; fail "the edge did not stop cleanly"; }
expect_in "$TMP/e2/log" "reconnected to NATS"
grep -E "reconnected|PubAck|refused|no NATS" "$TMP/e2/log" | sed 's/^/# /'
[ "$(stream_msgs LIVE)" = "$N" ] || fail "stream LIVE holds $(stream_msgs LIVE), expected exactly $N"
cat >"$TMP/e2/r.yaml" <<YAML
service: { state_dir: $TMP/e2/rstate }
sources:
  in: { plugin: nats, url: "$NATS_URL", stream: LIVE, durable: r }
sinks:
  out: { plugin: file, inputs: [in], path: "$TMP/e2/out.jsonl", time_key: "" }
YAML
"$SLUICE" run "$TMP/e2/r.yaml" --once 2>"$TMP/e2/rlog" || { cat "$TMP/e2/rlog"; fail "read back"; }
ids_in "$TMP/e2/out.jsonl" >"$TMP/e2/got"
seq 1 $N >"$TMP/e2/want"
cmp -s "$TMP/e2/got" "$TMP/e2/want" || fail "the stream does not hold each of 1..$N exactly once"
# The checkpoint is the whole file: every line acknowledged, none skipped.
size=$(stat -c %s "$TMP/e2/access.log")
at=$(awk -v p="$TMP/e2/access.log" '$NF == p { print $3 }' "$TMP/e2/state/access/checkpoints")
[ "$at" = "$size" ] || { cat "$TMP/e2/state/access/checkpoints"; fail "checkpoint at $at, not at the end ($size)"; }
ok "nats-server killed and restarted mid-run: all $N lines stored exactly once, checkpoint at the end"
finish
