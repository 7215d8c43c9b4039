#!/usr/bin/env bash
# The OneEntry emulator itself, over real HTTP with curl: every contract check,
# the events file, the port file, scripts, down, token and latency changes,
# stats, concurrency, and a clean stop with requests still waiting; random
# failures (--fail, --seed, fail=); the same over HTTPS (--tls-cert); --backlog.
source "$(dirname "$0")/common.bash"
EMU="$SL_BUILD/tests/oneentry-emulator/oneentry-emulator"
[ -x "$EMU" ] || fail "emulator not built: $EMU"
command -v curl >/dev/null || fail "curl missing (scripts/deps.sh installs it)"

expect_rc 2 "$EMU" --listen 0.0.0.0:0
expect_in "$TMP/err" "only a loopback address"
expect_rc 2 "$EMU" --listen 10.1.2.3:8080
expect_rc 2 "$EMU" --threads 0
expect_rc 2 "$EMU" --backlog 0
expect_rc 2 "$EMU" --tls-cert "$TMP/none.pem"
expect_in "$TMP/err" "--tls-cert and --tls-key go together"
expect_rc 2 "$EMU" --fail 5:200
expect_in "$TMP/err" "bad status in '5:200'"
expect_rc 2 "$EMU" --fail 100.5:503
expect_rc 2 "$EMU" --seed -1
expect_rc 1 "$EMU" --tls-cert "$TMP/none.pem" --tls-key "$TMP/none.pem"
expect_in "$TMP/err" "--tls-cert $TMP/none.pem: No such file or directory"
ok "refuses a non-loopback address, bad flags and a missing certificate"

# start_emu ARGS...: a new emulator on a free port; sets EMU_PID and PORT.
start_emu() {
    rm -f "$TMP/port"
    "$EMU" --listen 127.0.0.1:0 --port-file "$TMP/port" "$@" 2>>"$TMP/emu.log" &
    EMU_PID=$!
    wait_for 10 test -s "$TMP/port" || fail "no port file from: $EMU $*"
    PORT=$(cat "$TMP/port")
}
# stop_emu: SIGTERM, and the emulator must exit 0.
stop_emu() {
    local rc=0
    kill -TERM "$EMU_PID"
    wait "$EMU_PID" || rc=$?
    [ "$rc" -eq 0 ] || fail "emulator exited $rc on SIGTERM"
}

start_emu --events "$TMP/events" --token sekret
BASE="http://127.0.0.1:$PORT"
API="$BASE/api/content/user-activity"
ok "listening on port $PORT (from the port file)"

C=() # curl options of every request: --cacert for the HTTPS part
# post BODY [HEADER...]: POST to the API, status in $code, body in $TMP/body, headers in $TMP/hdr.
post() {
    local body=$1; shift
    code=$(curl -s "${C[@]}" -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' -X POST "$API" "$@" \
        --data-binary "$body") || code="curl-failed"
}
J=(-H 'Content-Type: application/json')
T=(-H 'x-app-token: sekret')
G=(-H 'x-guest-id: guest-1')
control() { curl -s "${C[@]}" -o "$TMP/ctl" -w '%{http_code}' -X POST "$BASE/_control?$1"; }
stats() { curl -s "${C[@]}" "$BASE/_stats"; }
# post_rc: exit code of curl posting a valid event (56 = connection reset).
post_rc() {
    local rc=0
    curl -s "${C[@]}" -o /dev/null -X POST "$API" "${J[@]}" "${G[@]}" "$@" \
        --data-binary '{"type":"product_view","productId":1}' || rc=$?
    echo "$rc"
}
[ "$(curl -s "$BASE/_transport")" = '{"proxied":0,"peak_inflight":0,"connections":1,"tls":0}' ] \
    || fail "transport: $(curl -s "$BASE/_transport")"

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
rc=$(post_rc "${T[@]}")
[ "$rc" -eq 56 ] || fail "script reset: curl exit $rc, expected 56 (connection reset)"
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
    rc=$(post_rc "${T[@]}")
    [ "$rc" -eq 56 ] || fail "down: curl exit $rc, expected 56 (connection reset)"
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
stop_emu
wait "$CURL_PID" || true
ok "SIGTERM with a suspended request: clean exit 0"

# --- random failures ---
# 200 requests at 50 %: Binomial(200, 0.5) has sd 7.1, so 60..140 is 5.6 sd
# either side (a false alarm about once in 10^8 runs).
start_emu --fail 50:503:1 --events "$TMP/events-fail" --quiet
BASE="http://127.0.0.1:$PORT"
API="$BASE/api/content/user-activity"
seq 200 | xargs -P 10 -I{} curl -s -o /dev/null -w '%{http_code} %header{retry-after}\n' \
    -X POST "$API" "${J[@]}" -H 'x-guest-id: g{}' \
    --data-binary '{"type":"product_view","productId":{}}' >"$TMP/codes"
failed=$(grep -c '^503 1$' "$TMP/codes" || true)
passed=$(grep -c '^200 $' "$TMP/codes" || true)
[ $((failed + passed)) -eq 200 ] || fail "--fail: other answers: $(sort "$TMP/codes" | uniq -c)"
[ "$failed" -ge 60 ] && [ "$failed" -le 140 ] || fail "--fail 50: $failed of 200 failed, expected 60..140"
[ "$(stats)" = "{\"requests\":200,\"accepted\":$passed,\"rejected\":0,\"injected\":$failed}" ] \
    || fail "--fail stats: $(stats), $failed failed"
[ "$(wc -l <"$TMP/events-fail")" -eq "$passed" ] || fail "--fail: a failed request was recorded"
ok "--fail 50:503:1: $failed of 200 answered 503 with Retry-After: 1, counted injected, not recorded"

[ "$(control 'script=200,slow:1,503')" = 200 ] || fail "script refused: $(cat "$TMP/ctl")"
[ "$(control 'fail=100:429')" = 200 ] || fail "fail=100:429 refused: $(cat "$TMP/ctl")"
for want in 200 200 503 429; do
    post "$E" "${J[@]}" "${G[@]}"
    [ "$code" = "$want" ] || fail "script then fail=100: $code, expected $want"
done
grep -qi '^Retry-After' "$TMP/hdr" && fail "fail=100:429 sent a Retry-After"
expect_in "$TMP/body" '{"statusCode":429,"message":"injected'
ok "control fail=: a request the script decides never fails at random, then 100 % fail"

[ "$(control 'fail=bogus')" = 400 ] || fail "fail=bogus accepted"
expect_in "$TMP/ctl" "bad percentage in 'bogus'"
[ "$(control 'fail=5:200&latency_ms=0')" = 400 ] || fail "fail=5:200 accepted"
expect_in "$TMP/ctl" "bad status"
[ "$(control 'fail=5:503:a%0d%0aX-Evil:%201')" = 400 ] || fail "a Retry-After with CRLF accepted"
expect_in "$TMP/ctl" "bad Retry-After"
post "$E" "${J[@]}" "${G[@]}"
[ "$code" = 429 ] || fail "a refused fail= changed the failures: $code"
[ "$(control 'fail=')" = 200 ] || fail "fail= refused"
seq 20 | xargs -P 5 -I{} curl -s -o /dev/null -w '%{http_code}\n' -X POST "$API" "${J[@]}" \
    -H 'x-guest-id: g{}' --data-binary '{"type":"product_view","productId":{}}' >"$TMP/codes"
[ "$(grep -c '^200$' "$TMP/codes")" -eq 20 ] || fail "fail= left failures on: $(sort "$TMP/codes" | uniq -c)"
ok "a bad fail value answers 400 and changes nothing; fail= turns failures off"
stop_emu

# One seed, one sequence: two runs of 40 sequential requests fail at the same places.
for run in 1 2; do
    start_emu --fail 30:503 --seed 42 --quiet
    API="http://127.0.0.1:$PORT/api/content/user-activity"
    for _ in $(seq 40); do
        curl -s -o /dev/null -w '%{http_code} ' -X POST "$API" "${J[@]}" "${G[@]}" \
            --data-binary "$E"
    done >"$TMP/seq$run"
    stop_emu
done
cmp -s "$TMP/seq1" "$TMP/seq2" || fail "--seed 42 gave two sequences: $(cat "$TMP/seq1") / $(cat "$TMP/seq2")"
grep -q 503 "$TMP/seq1" && grep -q 200 "$TMP/seq1" || fail "--fail 30 over 40: $(cat "$TMP/seq1")"
ok "--seed: the same seed fails the same requests"

# --- HTTPS ---
command -v openssl >/dev/null || fail "openssl missing (scripts/deps.sh installs it)"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sluice-test \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
    2>"$TMP/openssl.log" || fail "openssl req: $(cat "$TMP/openssl.log")"
expect_rc 1 "$EMU" --tls-cert "$TMP/key.pem" --tls-key "$TMP/cert.pem"
expect_in "$TMP/err" "no PEM CERTIFICATE"
start_emu --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" --events "$TMP/events-tls" \
    --token sekret
BASE="https://127.0.0.1:$PORT"
API="$BASE/api/content/user-activity"
C=(--cacert "$TMP/cert.pem")
curl -s -o /dev/null "http://127.0.0.1:$PORT/_stats" && fail "the HTTPS port answered plain HTTP"
[ "$(curl -s "${C[@]}" "$BASE/_transport" | grep -o '"tls":[01]')" = '"tls":1' ] \
    || fail "transport over HTTPS: $(curl -s "${C[@]}" "$BASE/_transport")"
post '{"type":"search","query":"tls"}' "${J[@]}" "${T[@]}" "${G[@]}"
[ "$code" = 200 ] && [ "$(cat "$TMP/body")" = true ] || fail "HTTPS event: $code $(cat "$TMP/body")"
[ "$(cat "$TMP/events-tls")" = '{"auth":"guest:guest-1","body":{"type":"search","query":"tls"}}' ] \
    || fail "HTTPS events file: $(cat "$TMP/events-tls")"
expect_reject 400 "search requires query" '{"type":"search"}' "${J[@]}" "${T[@]}" "${G[@]}"
expect_reject 401 "x-app-token missing" "$E" "${J[@]}" "${G[@]}"
[ "$(wc -l <"$TMP/events-tls")" -eq 1 ] || fail "HTTPS: a rejected request was recorded"
ok "HTTPS: a valid event is answered true and recorded, bad ones refused; plain HTTP is not spoken"

[ "$(control 'script=reset,503:1')" = 200 ] || fail "control over HTTPS: $(cat "$TMP/ctl")"
rc=$(post_rc "${T[@]}")
[ "$rc" -eq 56 ] || [ "$rc" -eq 35 ] || fail "reset over HTTPS: curl exit $rc, expected 56 or 35"
post "$E" "${J[@]}" "${T[@]}" "${G[@]}"
[ "$code" = 503 ] || fail "script 503 over HTTPS: $code"
expect_in "$TMP/hdr" "Retry-After: 1"
[ "$(control 'down_ms=600000')" = 200 ] || fail "down_ms over HTTPS refused"
rc=$(post_rc "${T[@]}")
[ "$rc" -eq 56 ] || [ "$rc" -eq 35 ] || fail "down over HTTPS: curl exit $rc, expected 56 or 35"
[ "$(control 'down_ms=0&fail=100:503:7')" = 200 ] || fail "down_ms=0 over HTTPS refused"
post "$E" "${J[@]}" "${T[@]}" "${G[@]}"
[ "$code" = 503 ] || fail "fail=100 over HTTPS: $code"
expect_in "$TMP/hdr" "Retry-After: 7"
[ "$(control 'fail=')" = 200 ] || fail "fail= over HTTPS refused"
ok "HTTPS: a scripted reset and down are connection resets (curl exit $rc); script and fail statuses"

[ "$(control 'latency_ms=300')" = 200 ] || fail "latency_ms over HTTPS refused"
took=$(curl -s "${C[@]}" -o /dev/null -w '%{http_code} %{time_total}' -X POST "$API" "${J[@]}" \
    "${T[@]}" "${G[@]}" --data-binary "$E")
awk -v t="$took" 'BEGIN { split(t, a, " "); exit !(a[1] == 200 && a[2] >= 0.3) }' \
    || fail "latency over HTTPS: $took"
[ "$(control 'latency_ms=200')" = 200 ] || fail "latency_ms over HTTPS refused"
seq 30 | xargs -P 10 -I{} curl -s "${C[@]}" -o /dev/null -w '%{http_code}\n' -X POST "$API" \
    "${J[@]}" "${T[@]}" -H 'x-guest-id: g{}' --data-binary '{"type":"product_view","productId":{}}' \
    >"$TMP/codes"
[ "$(grep -c '^200$' "$TMP/codes")" -eq 30 ] || fail "HTTPS with latency: $(sort "$TMP/codes" | uniq -c)"
[ "$(wc -l <"$TMP/events-tls")" -eq 32 ] || fail "HTTPS with latency: lines missing"
peak=$(curl -s "${C[@]}" "$BASE/_transport" | sed 's/.*"peak_inflight":\([0-9]*\).*/\1/')
[ "$peak" -ge 2 ] || fail "HTTPS: requests waiting out their latency did not overlap (peak $peak)"
[ "$(stats)" = '{"requests":38,"accepted":32,"rejected":2,"injected":4}' ] || fail "HTTPS stats: $(stats)"
ok "HTTPS: latency suspends requests (30 concurrent, peak $peak in flight), stats"

[ "$(control 'latency_ms=600000')" = 200 ] || fail "latency_ms refused"
curl -s "${C[@]}" -o /dev/null -m 30 -X POST "$API" "${J[@]}" "${T[@]}" "${G[@]}" \
    --data-binary "$E" &
CURL_PID=$!
wait_for 10 sh -c "curl -s --cacert '$TMP/cert.pem' '$BASE/_stats' | grep -q '\"requests\":39,'" \
    || fail "HTTPS request not pending: $(stats)"
stop_emu
wait "$CURL_PID" || true
ok "HTTPS: SIGTERM with a suspended request: clean exit 0"
C=()

# --- --backlog ---
start_emu --backlog 3 --quiet
if command -v ss >/dev/null; then
    backlog=$(ss -Hltn "sport = :$PORT" | awk '{print $3}')
    [ "$backlog" = 3 ] || fail "--backlog 3: the socket's backlog is '$backlog'"
fi
BASE="http://127.0.0.1:$PORT"
[ "$(curl -s "$BASE/_stats")" = '{"requests":0,"accepted":0,"rejected":0,"injected":0}' ] \
    || fail "--backlog 3: no answer"
stop_emu
ok "--backlog 3 is the listening socket's backlog"
finish
