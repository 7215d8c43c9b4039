# enricher_activity: per-rule excludes and the dead letters of rejected
# events, end to end (tail -> parse -> activity -> sink_file). Rejected
# events are set aside with their reason (the host's dead-letter file),
# counted in /metrics, never sent on; a rule's exclude drops only what that
# rule matched.
. "$(dirname "$0")/common.bash"
command -v curl >/dev/null || fail "curl missing (scripts/deps.sh installs it)"
[ -f "$SLUICE_PLUGIN_PATH/source_tail.so" ] || { echo "# source_tail not built: skipped"; finish; exit 0; }

UA='Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0'
line() { # line REQUEST STATUS UA
    printf '203.0.113.7 - - [12/Mar/2024:10:00:%02d +0100] "%s" %s 512 "-" "%s"\n' \
        "$((n++))" "$1" "$2" "$3"
}
n=0
{
    line "GET /products/42 HTTP/1.1" 200 "$UA"                          # event
    line "GET /products/abc HTTP/1.1" 200 "$UA"                         # rejected: bad_id
    line "GET /search?q= HTTP/1.1" 200 "$UA"                            # rejected: empty_query
    line "GET /products/43 HTTP/1.1" 200 "Mozilla/5.0 STOREKIOSK/2.0"   # excluded by its rule
    line "GET /products/000 HTTP/1.1" 200 "$UA"                         # excluded by path
    line "GET /products/44 HTTP/1.1" 200 "Googlebot/2.1"                # bot
    line "POST /cart/add?product_id=x1 HTTP/1.1" 302 "$UA"              # rejected: bad_id
    line "GET /pages/5 HTTP/1.1" 200 "Mozilla/5.0 StoreKiosk/2.0"       # event: not this rule's exclude
    line "GET /static/app.css HTTP/1.1" 200 "$UA"                       # unmatched
} >"$TMP/access.log"

cat >"$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state, admin: { listen: "127.0.0.1:0" } }
sources:
  access: { plugin: tail, paths: [$TMP/access.log], read_from: head }
enrichers:
  parsed: { plugin: parse, inputs: [access], format: nginx_combined, keep_raw: false }
  activity:
    plugin: activity
    inputs: [parsed]
    derive_guest_id: true
    guest_id_key: integration-test-key-0123456789
    rules:
      - type: product_add_to_cart
        method: POST
        path: '^/cart/add$'
        productId: param:product_id
      - type: product_view
        path: '^/products/(?<productId>[^/]+)$'
        exclude: { user_agents: [storekiosk], paths: ['^/products/0+$'] }
      - type: search
        path: '^/search$'
        query: param:q
      - type: page_view
        path: '^/pages/(?<pageId>[0-9]+)$'
sinks:
  out: { plugin: file, inputs: [activity], path: $TMP/out.jsonl }
YAML

"$SLUICE" run "$TMP/p.yaml" 2>"$TMP/log" &
pid=$!
started() { kill -0 "$pid" 2>/dev/null || fail "sluice exited: $(cat "$TMP/log")"; grep -q "admin endpoint on" "$TMP/log"; }
wait_for 60 started || { cat "$TMP/log"; fail "admin did not start"; }
port=$(sed -n 's/.*admin endpoint on 127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/log")
metric() { # metric NAME: the activity component's counter (empty when absent)
    grep -E "^sluice_$1_total\{component=\"activity\"" "$TMP/metrics" | awk '{print $2}'
}
settled() {
    curl -sf "http://127.0.0.1:$port/metrics" >"$TMP/metrics" || return 1
    [ "$(metric dead_lettered)" = 3 ] && [ -f "$TMP/out.jsonl" ] && [ "$(wc -l <"$TMP/out.jsonl")" = 2 ]
}
wait_for 60 settled || { cat "$TMP/metrics" "$TMP/log" >&2; fail "pipeline did not settle"; }
kill "$pid"
wait "$pid" || true

python3 - "$TMP/out.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
got = [(r["type"], r.get("productId", r.get("pageId"))) for r in rows]
assert got == [("product_view", 42), ("page_view", 5)], got
PY
ok "only the valid, not excluded events reach the sink"

for m in "rejected 3" "rejected_bad_id 2" "rejected_empty_query 1" "rejected_missing_id 0" \
         "dead_lettered 3" "dead_letters 3" "excluded 2" "excluded_bots 1" "unmatched 1"; do
    set -- $m
    [ "$(metric "$1")" = "$2" ] || { grep activity "$TMP/metrics" >&2; fail "metric $1 is not $2"; }
done
ok "rejections, excludes, bots and unmatched counted (and the host's dead_letters)"

dl="$TMP/state/activity/dead-letters.jsonl"
[ -f "$dl" ] || fail "no dead-letter file at the default path $dl"
[ "$(stat -c %a "$dl")" = 600 ] || fail "dead-letter file is not private (mode $(stat -c %a "$dl"))"
python3 - "$dl" <<'PY'
import json, sys, datetime
rows = [json.loads(l) for l in open(sys.argv[1])]
assert all(set(r) == {"time", "component", "reason", "event"} for r in rows), rows
assert all(r["component"] == "activity" for r in rows), rows
assert [r["reason"].split(":")[0] for r in rows] == ["bad_id", "empty_query", "bad_id"], rows
assert rows[0]["reason"] == "bad_id: productId: 'abc' is not a number (rule 2 (product_view))", rows[0]
assert rows[1]["reason"] == "empty_query: search: empty or missing query (rule 3 (search))", rows[1]
body = rows[0]["event"]["body"]
assert body["path"] == "/products/abc" and body["status"] == 200, rows[0]
assert rows[2]["event"]["body"]["query"] == {"product_id": "x1"}, rows[2]
assert rows[0]["event"]["time"] == "2024-03-12T09:00:01.000000000Z", rows[0]["event"]
assert "path" in rows[0]["event"]["meta"], rows[0]["event"]   # tail's meta, as it came
for r in rows:
    t = datetime.datetime.fromisoformat(r["time"][:26])
    assert abs((datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - t).total_seconds()) < 600, r["time"]
PY
ok "dead letters: the event, the reason (code, why, rule) and the time, one JSON line each"

# dead_letter_path (the core's, on any component) is honoured.
sed -i "s|    derive_guest_id: true|    derive_guest_id: true\n    dead_letter_path: $TMP/dl2.jsonl|; s|state_dir: $TMP/state|state_dir: $TMP/state2|" "$TMP/p.yaml"
"$SLUICE" run "$TMP/p.yaml" --once >"$TMP/out3" 2>&1 || { cat "$TMP/out3"; fail "run with dead_letter_path failed"; }
[ "$(wc -l <"$TMP/dl2.jsonl")" = 3 ] || fail "dead_letter_path did not get the 3 rejections"
ok "dead_letter_path receives the rejections"

# A dead letter that cannot be written fails the batch, which goes on
# unchanged (nothing is dropped silently) and is logged with the reason.
: >"$TMP/afile"
sed -i "s|dead_letter_path: $TMP/dl2.jsonl|dead_letter_path: $TMP/afile/dl.jsonl|; s|state_dir: $TMP/state2|state_dir: $TMP/state3|; s|path: $TMP/out.jsonl|path: $TMP/out5.jsonl|" "$TMP/p.yaml"
"$SLUICE" run "$TMP/p.yaml" --once >"$TMP/out5" 2>&1 || true
expect_in "$TMP/out5" "dead letters: cannot open $TMP/afile/dl.jsonl"
expect_in "$TMP/out5" "its dead letter was not written"
expect_in "$TMP/out5" "passed on unchanged"
grep -q '"path":"/products/abc"' "$TMP/out5.jsonl" || fail "the rejected request was dropped"
ok "an unwritable dead letter fails the batch: passed on unchanged and logged"

# A misspelt exclude key is a config error naming the place.
sed -i "s|exclude: { user_agents:|exclude: { agents:|" "$TMP/p.yaml"
rc=0
timeout 20 "$SLUICE" run "$TMP/p.yaml" --once >"$TMP/out4" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "started with exclude: {agents: ...}"
expect_in "$TMP/out4" "exclude: keys are user_agents and paths"
ok "unknown exclude key refused"
finish
