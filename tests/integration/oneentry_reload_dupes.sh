# Reload and stop without duplicates: OneEntry answers in 500 ms, the
# pipeline (tail -> parse -> oneentry, shutdown_timeout 2s) is reloaded every
# second while it delivers. Each stop lets the requests in flight get their
# answers and spools what is queued, so no event reaches OneEntry twice
# (this once gave 480 of 600 events sent more than once, one 11 times).
# transports: h1
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/oneentry_helpers.bash"

TOKEN="app-secret-reload"
start_emu --token "$TOKEN" --latency-ms 500
gen_input 600 "$TMP/in.jsonl"
cat >"$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state, shutdown_timeout: 2s }
sources:
  in: { plugin: tail, paths: [$TMP/in.jsonl], read_from: head }
enrichers:
  ev: { plugin: parse, inputs: [in], format: json, keep_raw: false, time_key: "", request_key: "" }
sinks:
  oe: { plugin: oneentry, inputs: [ev], url: "$URL", token: "$TOKEN", ca_file: "$TMP/cert.pem",
        retry_base: 20ms, retry_max: 500ms }
YAML
"$SLUICE" run "$TMP/p.yaml" 2>"$TMP/log" &
pid=$!
wait_for 30 grep -q "running" "$TMP/log" || { cat "$TMP/log"; fail "did not start"; }
# Reload every second while events are on their way.
for i in $(seq 8); do
    sleep 1
    kill -HUP "$pid"
    n=$i
    restarted() { [ "$(grep -c 'running (3 components)' "$TMP/log")" -gt "$n" ]; }
    wait_for 30 restarted || { cat "$TMP/log"; fail "reload $i did not restart"; }
done
all() { [ "$(lines "$TMP/events")" -ge 600 ]; }
wait_for 120 all || { tail -20 "$TMP/log"; fail "$(lines "$TMP/events") of 600 delivered"; }
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { tail -20 "$TMP/log"; fail "exit $rc"; }
check_delivered "$TMP/in.jsonl" exact || { grep -i "flight\|spool\|drain" "$TMP/log" | tail; fail "events delivered twice"; }
ok "8 reloads at 500 ms latency: every event delivered exactly once"
finish
