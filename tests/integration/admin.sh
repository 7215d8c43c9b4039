# The admin endpoint: /metrics counts what the sinks got, /health turns
# not-ready when a sink is stuck, /tap streams events (secrets masked),
# `sluice tap` prints them, and a non-loopback address is refused. Requests
# a browser could be made to send (a foreign Host or Origin) are refused,
# and with service.admin.token /reload and /tap need it.
. "$(dirname "$0")/common.bash"
: "${SL_BUILD:?}"
command -v curl >/dev/null || fail "curl missing (scripts/deps.sh installs it)"

mkfifo "$TMP/in"
cat >"$TMP/p.yaml" <<YAML
service:
  state_dir: $TMP/state
  admin: { listen: "127.0.0.1:0", stuck_after: 1s }
  shutdown_timeout: 1s
sources:
  in: { plugin: stdin }
enrichers:
  tag: { plugin: modify, inputs: [in], set: { api_token: s3cr3t-value, env: test } }
sinks:
  out: { plugin: file, inputs: [tag], path: $TMP/out.jsonl }
  held: { path: $SL_BUILD/tests/fixtures/fx_sink.so, inputs: [in], mode: hold }
YAML

exec 3<>"$TMP/in" # keep the fifo open so stdin stays alive between writes
"$SLUICE" run "$TMP/p.yaml" <"$TMP/in" 2>"$TMP/log" &
pid=$!
wait_for 10 grep -q "admin endpoint on" "$TMP/log" || { cat "$TMP/log"; fail "admin did not start"; }
port=$(sed -n 's/.*admin endpoint on 127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/log")
A="http://127.0.0.1:$port"

curl -sf "$A/health" >"$TMP/health" || fail "health not 200 at start"
expect_in "$TMP/health" '"status":"ready"'
ok "/health ready at start"

# A tap reader started before the events arrive sees them.
curl -sfN "$A/tap/tag?limit=3" >"$TMP/tap" &
tap_pid=$!
"$SLUICE" tap tag --admin "127.0.0.1:$port" --limit 2 >"$TMP/cli_tap" &
cli_pid=$!
# The metrics are read whole before grep: under pipefail a grep -q that exits
# early can fail curl's next write (SIGPIPE) and with it the pipeline.
readers() {
    local m
    m=$(curl -sf "$A/metrics") || return 1
    grep -q 'sluice_tap_readers{component="tag",kind="enricher",plugin="modify"} 2' <<<"$m"
}
wait_for 20 readers || fail "tap readers did not connect"
for i in $(seq 1 1000); do echo "line $i"; done >&3
lines() { wc -l <"$TMP/out.jsonl" 2>/dev/null || echo 0; }
got_all() { [ "$(lines)" -eq 1000 ]; }
wait_for 20 got_all || fail "file sink got $(lines) of 1000 events"
wait "$tap_pid" || fail "tap stream failed"
wait "$cli_pid" || fail "sluice tap failed"
[ "$(wc -l <"$TMP/tap")" -eq 3 ] || { cat "$TMP/tap"; fail "tap limit=3 gave $(wc -l <"$TMP/tap") lines"; }
expect_in "$TMP/tap" '"body":{"message":"line 1","api_token":"***","env":"test"}'
[ "$(wc -l <"$TMP/cli_tap")" -eq 2 ] || fail "sluice tap --limit 2"
expect_in "$TMP/cli_tap" '"message":"line 2"'
if grep -q s3cr3t-value "$TMP/tap" "$TMP/cli_tap"; then fail "secret value leaked into tap"; fi
ok "tap streams the enricher's events, secrets masked; sluice tap prints them"

curl -sf "$A/metrics" >"$TMP/metrics" || fail "metrics"
expect_in "$TMP/metrics" 'sluice_events_out_total{component="out",kind="sink",plugin="file"} 1000'
expect_in "$TMP/metrics" 'sluice_events_in_total{component="tag",kind="enricher",plugin="modify"} 1000'
expect_in "$TMP/metrics" '# TYPE sluice_queue_bytes gauge'
if grep -q s3cr3t-value "$TMP/metrics" "$TMP/log"; then fail "secret value leaked"; fi
ok "/metrics counts equal what the file sink wrote"

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code -X POST -H 'Host: evil.example' "$A/reload")" = 403 ] || fail "foreign Host not refused"
[ "$(code -X POST -H 'Origin: http://evil.example' "$A/reload")" = 403 ] || fail "foreign Origin not refused"
[ "$(code -H 'Host: evil.example' "$A/metrics")" = 403 ] || fail "DNS rebinding read /metrics"
[ "$(code -H "Origin: http://127.0.0.1:$port" "$A/metrics")" = 200 ] || fail "own Origin refused"
if grep -q "reload: checking" "$TMP/log"; then fail "a refused request reloaded"; fi
ok "a foreign Host (DNS rebinding) or Origin (CSRF) is refused with 403"

# The hold sink never acknowledges: after stuck_after the pipeline is not ready.
wait_for 10 sh -c "! curl -sf '$A/health' >/dev/null" || fail "health stayed 200 with a stuck sink"
curl -s "$A/health" >"$TMP/health2"
expect_in "$TMP/health2" '"name":"held","kind":"sink","state":"stuck"'
expect_in "$TMP/health2" '"status":"not_ready"'
ok "/health turns 503 not_ready while a sink is stuck"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
exec 3>&-
[ "$rc" -eq 4 ] || { cat "$TMP/log"; fail "exit $rc, expected 4: the held sink cannot drain"; }
expect_in "$TMP/log" "events) not acknowledged; sources will read them again"
ok "SIGTERM with a sink that never acknowledges: exit 4 after shutdown_timeout"

cat >"$TMP/remote.yaml" <<YAML
service: { admin: "0.0.0.0:0" }
sources: { in: { plugin: stdin } }
sinks: { out: { plugin: null, inputs: [in] } }
YAML
expect_rc 1 "$SLUICE" validate "$TMP/remote.yaml"
expect_in "$TMP/err" "not a loopback address"
ok "a non-loopback admin address needs allow_remote"

sed -i 's/0.0.0.0:0/127.attacker.example:0/' "$TMP/remote.yaml"
expect_rc 1 "$SLUICE" validate "$TMP/remote.yaml"
expect_in "$TMP/err" "not a loopback address"
ok "a host name that only starts like 127. is not loopback"

cat >"$TMP/tok.yaml" <<YAML
service:
  state_dir: $TMP/state2
  admin: { listen: "127.0.0.1:0", token: "\${ADMIN_TOKEN}" }
sources: { in: { plugin: stdin } }
sinks: { out: { plugin: null, inputs: [in] } }
YAML
ADMIN_TOKEN=t0k3n-value "$SLUICE" run "$TMP/tok.yaml" <"$TMP/in" 2>"$TMP/log2" &
pid2=$!
exec 4<>"$TMP/in"
wait_for 10 grep -q "admin endpoint on" "$TMP/log2" || { cat "$TMP/log2"; fail "second admin did not start"; }
port2=$(sed -n 's/.*admin endpoint on 127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/log2")
B="http://127.0.0.1:$port2"
[ "$(code -X POST "$B/reload")" = 401 ] || fail "reload without the token"
[ "$(code -X POST -H 'Authorization: Bearer wrong' "$B/reload")" = 401 ] || fail "reload with a wrong token"
[ "$(code "$B/tap/in?limit=1")" = 401 ] || fail "tap without the token"
[ "$(code "$B/health")" = 200 ] || fail "/health needs no token"
expect_rc 1 "$SLUICE" reload --admin "127.0.0.1:$port2"
SLUICE_ADMIN_TOKEN=t0k3n-value expect_rc 0 "$SLUICE" reload --admin "127.0.0.1:$port2"
wait_for 20 grep -q "reload: checking" "$TMP/log2" || fail "the token's reload did not happen"
if grep -q t0k3n-value "$TMP/log2"; then fail "the admin token was logged"; fi
kill -TERM "$pid2"
wait "$pid2" || true
exec 4>&-
ok "with service.admin.token, /reload and /tap need it; sluice reload sends \$SLUICE_ADMIN_TOKEN"
finish
