# enricher_parse end to end: the sample nginx log through stdin -> parse ->
# sink_file with each on_error mode, and a JSON log with casts and its time.
. "$(dirname "$0")/common.bash"

log="$SL_TESTS/data/nginx-access.log"
total=$(wc -l <"$log")

run_parse() { # run_parse NAME "EXTRA OPTIONS" INPUT
    cat >"$TMP/$1.yaml" <<YAML
service: { state_dir: $TMP/state-$1 }
sources:
  in: { plugin: stdin }
enrichers:
  parsed: { plugin: parse, inputs: [in], $2 }
sinks:
  out: { plugin: file, inputs: [parsed], path: $TMP/$1.jsonl, time_key: event_time, time_format: unix_ms }
YAML
    "$SLUICE" run "$TMP/$1.yaml" --once <"$3" >"$TMP/$1.log" 2>&1 \
        || { cat "$TMP/$1.log"; fail "run $1 failed"; }
}

run_parse keep "format: nginx_combined" "$log"
python3 - "$TMP/keep.jsonl" "$total" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert len(rows) == int(sys.argv[2]), len(rows)
bad = [r for r in rows if "_parse_error" in r]
assert len(bad) == 2, bad   # the truncated line and the non-log line
for r in bad:
    assert "message" in r and set(r) == {"message", "_parse_error", "event_time"}, r
first = rows[0]
assert first["message"].startswith("203.0.113.10 - - [12/Mar/2024:10:00:00 +0100]")
assert first["remote_addr"] == "203.0.113.10" and first["method"] == "GET"
assert first["path"] == "/products/1042-red-sneakers"
assert first["query"] == {"from": "recommended"}
assert first["status"] == 200 and first["body_bytes_sent"] == 18234
assert first["event_time"] == 1710234000000, first["event_time"]   # 10:00:00 +0100 in ms
tls = [r for r in rows if r.get("remote_addr") == "45.155.205.1"][0]
assert tls["request"] == "\u0016\u0003\u0001\u0000\ufffd\u0001" and "method" not in tls, tls
search = [r for r in rows if r.get("path") == "/search" and r["query"].get("sort")][0]
assert search["query"] == {"q": "trail running shoes", "sort": "price"}, search
PY
ok "nginx_combined: fields, query map, log time; 2 bad lines kept with _parse_error"

run_parse drop "format: nginx_combined, on_error: drop, keep_raw: false" "$log"
[ "$(wc -l <"$TMP/drop.jsonl")" -eq $((total - 2)) ] || fail "on_error drop kept bad lines"
grep -q '"message"' "$TMP/drop.jsonl" && fail "keep_raw: false still has the line"
ok "on_error: drop, keep_raw: false"

run_parse dead "format: nginx_combined, on_error: dead_letter" "$log"
[ "$(wc -l <"$TMP/dead.jsonl")" -eq $((total - 2)) ] || fail "dead_letter passed bad lines on"
dl="$TMP/state-dead/parsed/dead-letters.jsonl"
[ -f "$dl" ] || fail "no dead letters at the default path $dl"
python3 - "$dl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 2, rows
for r in rows:
    assert set(r) == {"time", "component", "reason", "event"} and r["component"] == "parsed", r
    assert set(r["event"]) == {"time", "meta", "body"} and r["event"]["meta"] == {"source": "in"}, r
    assert set(r["event"]["body"]) == {"message"}, r   # the event as it came in
assert rows[0]["reason"] == 'missing or unterminated "http_user_agent"', rows[0]
assert rows[1]["reason"] == "missing [time]" and \
    rows[1]["event"]["body"]["message"] == "this is not an access log line", rows[1]
PY
run_parse dead2 "format: nginx_combined, on_error: dead_letter, dead_letter_path: $TMP/dl.jsonl" "$log"
[ "$(wc -l <"$TMP/dl.jsonl")" -eq 2 ] || fail "dead_letter_path did not get the 2 bad lines"
ok "on_error: dead_letter sets the 2 bad lines aside with their reasons (default file, dead_letter_path)"

cat >"$TMP/app.log" <<'JSON'
{"ts":"2024-03-12T09:00:00.5Z","req":"GET /products/7?x=1 HTTP/1.1","status":"200","rt":"0.012","user":{"id":5}}
{"ts":"1710234000","req":"POST /cart/add HTTP/1.1","status":"302","rt":"0.2","user":null}
{"ts":"2024-03-12T09:00:01Z","req":"GET / HTTP/1.1","status":"OK","rt":"1"}
not json
JSON
run_parse json "format: json, time_key: ts, request_key: req, types: { status: int, rt: float }" "$TMP/app.log"
python3 - "$TMP/json.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 4, rows
a, b, c, d = rows
assert a["status"] == 200 and a["rt"] == 0.012 and a["user"] == {"id": 5}, a
assert a["method"] == "GET" and a["path"] == "/products/7" and a["query"] == {"x": "1"}, a
assert a["event_time"] == 1710234000500, a["event_time"]
assert b["event_time"] == 1710234000000 and b["status"] == 302 and b["user"] is None, b
assert "field 'status' is not an int" in c["_parse_error"], c
assert d["_parse_error"].startswith("json:"), d
PY
ok "json: nested values, casts, time field, request split; cast and syntax errors reported"

# `plugins describe parse` lists the fields each format adds, with types:
# every field the sample log produced is listed there with the right type,
# and every field listed for combined occurs.
expect_rc 0 "$SLUICE" plugins describe parse
python3 - "$TMP/out" "$TMP/keep.jsonl" <<'PY'
import json, re, sys
table = {}
for line in open(sys.argv[1]):
    m = re.match(r"^\| `(\w+)` \| (\w+) \| ([^|]+) \|", line)
    if m:
        table[m.group(1)] = (m.group(2), m.group(3).strip())
py_type = {"string": str, "int": int, "map": dict}
seen = set()
for line in open(sys.argv[2], encoding="utf-8"):
    r = json.loads(line)
    for k, v in r.items():
        if k in ("message", "event_time"):
            continue
        assert k in table, "field %r is not listed by describe" % k
        t = table[k][0]
        assert isinstance(v, py_type[t]), (k, v, t)
        seen.add(k)
combined = {k for k, (_, fm) in table.items() if "combined" in fm or fm == "all"}
missing = combined - seen
assert not missing, "listed but never produced: %s" % missing
PY
ok "describe parse lists every field the combined format produced, with its type"
finish
