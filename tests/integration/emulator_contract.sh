#!/usr/bin/env bash
# The OneEntry emulator itself, over real HTTP with curl: every contract check,
# the events file, the port file, scripts, down, token and latency changes,
# stats, concurrency, and a clean stop with requests still waiting.
source "$(dirname "$0")/common.bash"
EMU="$SL_BUILD/tests/oneentry-emulator/oneentry-emulator"
[ -x "$EMU" ] || fail "emulator not built: $EMU"
command -v curl >/dev/null || fail "curl missing (scripts/deps.sh installs it)"

expect_rc 2 "$EMU" --listen 0.0.0.0:0
expect_in "$TMP/err" "only a loopback address"
expect_rc 2 "$EMU" --listen 10.1.2.3:8080
expect_rc 2 "$EMU" --threads 0
ok "refuses a non-loopback address and bad flags"

"$EMU" --listen 127.0.0.1:0 --port-file "$TMP/port" --events "$TMP/events" \
    --token sekret 2>"$TMP/emu.log" &
EMU_PID=$!
wait_for 10 test -s "$TMP/port" || fail "no port file"
PORT=$(cat "$TMP/port")
BASE="http://127.0.0.1:$PORT"
API="$BASE/api/content/user-activity"
ok "listening on port $PORT (from the port file)"

# post BODY [HEADER...]: POST to the API, status in $code, body in $TMP/body, headers in $TMP/hdr.
post() {
    local body=$1; shift
    code=$(curl -s -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' -X POST "$API" "$@" \
        --data-binary "$body") || code="curl-failed"
}
J=(-H 'Content-Type: application/json')
T=(-H 'x-app-token: sekret')
G=(-H 'x-guest-id: guest-1')
control() { curl -s -o "$TMP/ctl" -w '%{http_code}' -X POST "$BASE/_control?$1"; }
stats() { curl -s "$BASE/_stats"; }

post '{"type":"product_view","productId":12}' "${J[@]}" "${T[@]}" "${G[@]}"
[ "$code" = 200 ] && [ "$(cat "$TMP/body")" = true ] || fail "guest event: $code $(cat "$TMP/body")"
post '{"type":"search","query":"iphone \"case\"","meta":{"block":"hdr","n":[1,2]}}' \
    "${J[@]}" "${T[@]}" -H 'Authorization: Bearer tok-9'
[ "$code" = 200 ] || fail "bearer event: $code"
expect_in "$TMP/hdr" "Content-Type: application/json"
cat >"$TMP/want" <<'WANT'
{"auth":"guest:guest-1","body":{"type":"product_view","productId":12}}
{"auth":"bearer:tok-9","body":{"type":"search","query":"iphone \"case\"","meta":{"block":"hdr","n":[1,2]}}}
WANT
cmp -s "$TMP/want" "$TMP/events" || { diff "$TMP/want" "$TMP/events" >&2; fail "events file"; }
ok "accepted events answer true and are recorded exactly"

# expect_reject STATUS TEXT BODY [HEADER...]
expect_reject() {
    local want=$1 text=$2; shift 2
    post "$@"
    [ "$code" = "$want" ] || fail "expected $want for $*: got $code $(cat "$TMP/body")"
    expect_in "$TMP/body" "{\"statusCode\":$want,\"message\":\""
    expect_in "$TMP/body" "$text"
}
V='{"type":"page_view","pageId":3}'
code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$API" "${T[@]}" "${G[@]}")
[ "$code" = 405 ] || fail "GET answered $code"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$BASE/api/content/other" "${J[@]}" \
    "${T[@]}" "${G[@]}" --data-binary "$V")
[ "$code" = 404 ] || fail "wrong path answered $code"
expect_reject 415 "expected application/json" "$V" -H 'Content-Type: text/plain' "${T[@]}" "${G[@]}"
expect_reject 401 "x-app-token missing" "$V" "${J[@]}" "${G[@]}"
expect_reject 401 "x-app-token rejected" "$V" "${J[@]}" -H 'x-app-token: nope' "${G[@]}"
expect_reject 400 "no identity" "$V" "${J[@]}" "${T[@]}"
expect_reject 400 "both" "$V" "${J[@]}" "${T[@]}" "${G[@]}" -H 'Authorization: Bearer x'
expect_reject 400 "Bearer" "$V" "${J[@]}" "${T[@]}" -H 'Authorization: Basic eA=='
expect_reject 400 "invalid JSON" '{"type":"page_view","pageId":3' "${J[@]}" "${T[@]}" "${G[@]}"
expect_reject 400 "invalid JSON" $'{"type":"search","query":"\xc0\x80"}' "${J[@]}" "${T[@]}" "${G[@]}"
expect_reject 400 "not one of" '{"type":"click"}' "${J[@]}" "${T[@]}" "${G[@]}"
expect_reject 400 "product_add_to_cart requires productId" '{"type":"product_add_to_cart"}' \
    "${J[@]}" "${T[@]}" "${G[@]}"
expect_reject 400 "category_view requires pageId" '{"type":"category_view","categoryId":4}' \
    "${J[@]}" "${T[@]}" "${G[@]}"
expect_reject 400 "search requires query" '{"type":"search","query":""}' "${J[@]}" "${T[@]}" "${G[@]}"
expect_reject 400 'unknown key \"guest_id\"' '{"type":"page_view","pageId":3,"guest_id":"g"}' \
    "${J[@]}" "${T[@]}" "${G[@]}"
expect_reject 400 "meta must be an object" '{"type":"page_view","pageId":3,"meta":"x"}' \
    "${J[@]}" "${T[@]}" "${G[@]}"
[ "$(wc -l <"$TMP/events")" -eq 2 ] || fail "a rejected request was recorded"
[ "$(stats)" = '{"requests":18,"accepted":2,"rejected":16,"injected":0}' ] || fail "stats: $(stats)"
ok "each contract violation answers its status and names the problem; none recorded"

[ "$(control 'script=503,429:2,503:Wed,%2021%20Oct%202015%2007:28:00%20GMT,slow:100,reset,200')" = 200 ] \
    || fail "control refused the script: $(cat "$TMP/ctl")"
[ "$(cat "$TMP/ctl")" = ok ] || fail "control answer: $(cat "$TMP/ctl")"
E='{"type":"product_purchase","productId":5}'
post "$E" "${J[@]}" "${T[@]}" "${G[@]}"
[ "$code" = 503 ] || fail "script 503: $code"
expect_in "$TMP/body" '{"statusCode":503,"message":"injected'
post "$E" "${J[@]}" "${T[@]}" "${G[@]}"
[ "$code" = 429 ] || fail "script 429: $code"
expect_in "$TMP/hdr" "Retry-After: 2"
post "$E" -H 'Content-Type: text/plain' # scripted statuses skip the contract check
[ "$code" = 503 ] || fail "script 503 with date: $code"
expect_in "$TMP/hdr" "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT"
post "$E" "${J[@]}" "${T[@]}" "${G[@]}"
[ "$code" = 200 ] || fail "script slow: $code"
rc=0
curl -s -o /dev/null -X POST "$API" "${J[@]}" "${T[@]}" "${G[@]}" --data-binary "$E" || rc=$?
[ "$rc" -eq 56 ] || [ "$rc" -eq 52 ] || fail "script reset: curl exit $rc, expected 56 or 52"
post "$E" -H 'Content-Type: text/plain' "${T[@]}" "${G[@]}" # 200 = normal handling
[ "$code" = 415 ] || fail "script 200 did not check the contract: $code"
post "$E" "${J[@]}" "${T[@]}" "${G[@]}"
[ "$code" = 200 ] || fail "after the script: $code"
[ "$(grep -c product_purchase "$TMP/events")" -eq 2 ] || fail "slow and post-script events not both recorded"
[ "$(stats)" = '{"requests":25,"accepted":4,"rejected":17,"injected":4}' ] || fail "stats: $(stats)"
ok "script: statuses, Retry-After (seconds, HTTP-date), slow, reset, 2xx = normal"

[ "$(control 'script=bogus&latency_ms=5')" = 400 ] || fail "bad script accepted"
expect_in "$TMP/ctl" "bad entry 'bogus'"
[ "$(control 'nosuch=1')" = 400 ] || fail "unknown key accepted"
[ "$(control 'latency_ms=-1')" = 400 ] || fail "negative latency accepted"
post "$E" "${J[@]}" "${T[@]}" "${G[@]}"
[ "$code" = 200 ] || fail "a refused control request changed something: $code"
ok "control requests with a bad key or value change nothing"

[ "$(control 'down_ms=600000')" = 200 ] || fail "down_ms refused"
for _ in 1 2; do
    rc=0
    curl -s -o /dev/null -X POST "$API" "${J[@]}" "${T[@]}" "${G[@]}" --data-binary "$E" || rc=$?
    [ "$rc" -eq 56 ] || [ "$rc" -eq 52 ] || fail "down: curl exit $rc"
done
stats | grep -q '"injected":6' || fail "down requests not counted: $(stats)"
[ "$(control 'down_ms=0')" = 200 ] || fail "down_ms=0 refused"
post "$E" "${J[@]}" "${T[@]}" "${G[@]}"
[ "$code" = 200 ] || fail "still down after down_ms=0: $code"
ok "down_ms closes every request until down_ms=0"

[ "$(control 'token=rotated')" = 200 ] || fail "token change refused"
post "$E" "${J[@]}" "${T[@]}" "${G[@]}"
[ "$code" = 401 ] || fail "old token still accepted: $code"
post "$E" "${J[@]}" -H 'x-app-token: rotated' "${G[@]}"
[ "$code" = 200 ] || fail "new token refused: $code"
[ "$(control 'token=')" = 200 ] || fail "token= refused"
post "$E" "${J[@]}" "${G[@]}"
[ "$code" = 200 ] || fail "token= did not turn the check off: $code"
ok "token changes at run time; empty token turns the check off"

# 200 requests, 20 at a time, each waiting out 20 ms of latency (no thread blocked).
[ "$(control 'latency_ms=20')" = 200 ] || fail "latency_ms refused"
before=$(wc -l <"$TMP/events")
seq 200 | xargs -P 20 -I{} curl -s -o /dev/null -w '%{http_code}\n' -X POST "$API" "${J[@]}" \
    -H 'x-guest-id: g{}' --data-binary '{"type":"product_view","productId":{}}' >"$TMP/codes"
[ "$(grep -c '^200$' "$TMP/codes")" -eq 200 ] || fail "parallel: $(sort "$TMP/codes" | uniq -c)"
[ "$(( $(wc -l <"$TMP/events") - before ))" -eq 200 ] || fail "parallel: lines missing"
python3 - "$TMP/events" <<'PY' || fail "events file is not one JSON object per line"
import json, sys
ids = set()
for line in open(sys.argv[1]):
    rec = json.loads(line)
    assert set(rec) == {"auth", "body"}, rec
    if rec["auth"].startswith("guest:g") and rec["auth"] != "guest:guest-1":
        assert rec["auth"] == "guest:g%d" % rec["body"]["productId"], rec
        ids.add(rec["body"]["productId"])
assert ids == set(range(1, 201)), len(ids)
PY
ok "200 concurrent requests with latency: all answered, one intact line each"

# A request waiting out its latency when SIGTERM comes: the emulator still stops, exit 0.
[ "$(control 'latency_ms=600000')" = 200 ] || fail "latency_ms refused"
pending=$(( $(stats | sed 's/.*"requests":\([0-9]*\).*/\1/') + 1 ))
curl -s -o /dev/null -m 30 -X POST "$API" "${J[@]}" "${G[@]}" --data-binary "$E" &
CURL_PID=$!
wait_for 10 sh -c "curl -s '$BASE/_stats' | grep -q '\"requests\":$pending,'" || fail "request not pending: $(stats)"
kill -TERM "$EMU_PID"
rc=0
wait "$EMU_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "emulator exited $rc on SIGTERM"
wait "$CURL_PID" || true
ok "SIGTERM with a suspended request: clean exit 0"
finish
