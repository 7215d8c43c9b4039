# Plugin isolation: a plugin whose init fails stops the start with its
# message; a source that emits a builder that is not a batch (an event left
# open, a value outside any event) and an enricher that returns SL_OK with
# an event left open are caught at the core's boundary. Each bad batch is
# rejected with a clear error and counted in /metrics; no byte of it
# reaches a sink, and every good event is still delivered.
. "$(dirname "$0")/common.bash"
: "${SL_BUILD:?}"
command -v curl >/dev/null || fail "curl missing (scripts/deps.sh installs it)"
FX=$SL_BUILD/tests/fixtures

cat >"$TMP/p.yaml" <<YAML
service:
  state_dir: $TMP/state
  admin: { listen: "127.0.0.1:0" }
  shutdown_timeout: 2s
sources:
  bad: { path: $FX/bad_source.so, batches: 20, events: 5, every: 2 }
enrichers:
  broken: { path: $FX/bad_enricher.so, inputs: [bad] }
sinks:
  direct: { plugin: file, inputs: [bad], path: $TMP/direct.jsonl }
  after: { plugin: file, inputs: [broken], path: $TMP/after.jsonl }
YAML

"$SLUICE" run "$TMP/p.yaml" 2>"$TMP/log" &
pid=$!
started() { kill -0 "$pid" 2>/dev/null || fail "sluice exited: $(cat "$TMP/log")"; grep -q "admin endpoint on" "$TMP/log"; }
wait_for 60 started || { cat "$TMP/log"; fail "admin did not start"; }
port=$(sed -n 's/.*admin endpoint on 127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/log")

# metric NAME COMPONENT: its value in /metrics (empty when absent)
metric() {
    grep -E "^sluice_$1_total\{component=\"$2\"" "$TMP/metrics" | awk '{print $2}'
}
settled() {
    curl -sf "http://127.0.0.1:$port/metrics" >"$TMP/metrics" || return 1
    [ "$(metric events_out direct)" = 50 ] && [ "$(metric events_out after)" = 50 ] &&
        [ "$(metric malformed_batches bad)" = 10 ]
}
wait_for 120 settled || { cat "$TMP/metrics" "$TMP/log" >&2; fail "pipeline did not settle"; }
ok "10 malformed batches of the source rejected and counted, 50 good events delivered"

[ "$(metric errors broken)" = 5 ] || { cat "$TMP/metrics" >&2; fail "enricher errors not counted"; }
ok "5 malformed outputs of the enricher counted as errors"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { cat "$TMP/log"; fail "sluice exited $rc after SIGTERM"; }

expect_in "$TMP/log" "emitted a batch that is not one, rejected"
expect_in "$TMP/log" "returned SL_OK but an event was begun and not ended"
ok "the log names the plugin's fault"

# Only well-formed events, each good one exactly once, reached both sinks:
# the enricher's bad batches were replaced by its (valid) input.
python3 - "$TMP/direct.jsonl" "$TMP/after.jsonl" <<'PY' || fail "sink output wrong"
import json, sys
want = sorted((b, i) for b in range(1, 21) if b % 2 for i in range(5))
for path in sys.argv[1:]:
    got = sorted((o["batch"], o["i"]) for o in map(json.loads, open(path)))
    assert got == want, (path, len(got), got[:5])
PY
ok "sinks got exactly the 50 good events, nothing of the bad batches"

# A plugin whose init fails stops the start with its own message, before any
# source has read anything.
cat >"$TMP/init.yaml" <<YAML
service: { state_dir: $TMP/state2 }
sources:
  bad: { path: $FX/bad_source.so, every: 0 }
sinks:
  ok: { plugin: file, inputs: [bad], path: $TMP/init-out.jsonl }
  moon: { path: $FX/init_fails.so, inputs: [bad] }
YAML
expect_rc 3 "$SLUICE" run "$TMP/init.yaml" # exit 3: a plugin failed to start
expect_in "$TMP/err" "sink 'moon' failed to start: cannot reach the moon"
[ ! -s "$TMP/init-out.jsonl" ] || fail "events flowed although a sink failed to start"
ok "a failing init stops the start with the plugin's message"
finish
