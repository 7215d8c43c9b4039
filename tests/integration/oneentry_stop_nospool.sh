# SIGTERM with requests in flight and no spool: the core calls the sink's
# flush before it waits for pending batches, and the sink gives its requests
# in flight the rest of shutdown_timeout, so every event read is delivered,
# the stop is clean (exit 0) and nothing is left to be read again.
# transports: h1
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/oneentry_helpers.bash"

TOKEN="app-secret-stop"
start_emu --token "$TOKEN" --latency-ms 400
gen_input 300 "$TMP/in.jsonl"
pipeline "$TMP/p.yaml" "spool: false, max_concurrency: 64"
mkfifo "$TMP/fifo"
"$SLUICE" run "$TMP/p.yaml" <"$TMP/fifo" >"$TMP/out" 2>"$TMP/log" &
pid=$!
exec 3>"$TMP/fifo"
cat "$TMP/in.jsonl" >&3
# Stop while requests are in flight: some arrived, not all.
arrived() { [ "$(lines "$TMP/events")" -ge 1 ]; }
wait_for 30 arrived || { cat "$TMP/log"; fail "nothing arrived"; }
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
exec 3>&-
[ "$rc" -eq 0 ] || { cat "$TMP/log"; fail "exit $rc, expected a clean stop"; }
if grep -q "unacknowledged\|will be read again" "$TMP/log"; then cat "$TMP/log"; fail "batches left unacknowledged"; fi
n=$(lines "$TMP/events")
[ "$n" -eq 300 ] || fail "$n of 300 events delivered before the stop completed"
ok "SIGTERM without a spool: the requests in flight finish, exit 0, all 300 delivered"
finish
