# sink_oneentry's dead letters for events OneEntry refuses (a 4xx that is not
# retried): each is one line of the component's dead-letter file, written by
# the core (host->dead_letter), whose reason carries the HTTP status and the
# server's message. A hostile message (quotes, newlines, control bytes, NUL,
# invalid UTF-8, a lone surrogate, text that looks like JSON) still gives a
# file of valid JSON lines, one per event, with the message readable.
#
# The server is a Python OneEntry stand-in: productId 1, 2 and 3 get a 400
# or 422 with a different error body each; every other event is accepted.
# transports: h1
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/oneentry_helpers.bash"

# shellcheck disable=SC2046 # tls_env is a list of NAME=VALUE words
env $(tls_env) python3 - "$TMP" "$(dirname "$0")" <<'PY' &
import json, sys
from http.server import BaseHTTPRequestHandler
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, sys.argv[2])
from stub_http import record, reply, serve
tmp = sys.argv[1]
ANSWERS = {
    # a JSON error object whose message needs every kind of unescaping
    1: (400, b'{"statusCode":400,"message":"bad \\"id\\"\\n\\u0000 \\ud800 \\u2713 \\\\ end"}'),
    # not JSON: raw bytes, invalid UTF-8, a NUL, a control byte, fake JSON
    2: (422, b'\xff\xfe"}\n{"evil":1}\x00\x01 tail'),
    # a validation pipe's message array
    3: (400, b'{"statusCode":400,"message":["productId must be a number",'
             b'"type must be a string"],"error":"Bad Request"}'),
}
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status, answer = ANSWERS.get(json.loads(raw)["productId"], (200, b"true"))
        if status == 200:
            record(self, tmp, raw)
        reply(self, status, answer)
serve(H, tmp)
PY
wait_for 10 test -s "$TMP/port" || fail "test server did not start"
serve_url "$(cat "$TMP/port")"
TOKEN=t0k

python3 -c '
for i in range(1, 21):
    print("{\"type\":\"product_view\",\"productId\":%d,\"guest_id\":\"guest-%d\"}" % (i, i % 3))
' >"$TMP/in.jsonl"
pipeline "$TMP/p.yaml" "concurrency: 4"
"$SLUICE" run "$TMP/p.yaml" --once <"$TMP/in.jsonl" 2>"$TMP/log" || { cat "$TMP/log"; fail "run"; }
[ "$(lines "$TMP/events")" -eq 17 ] || fail "expected 17 delivered, got $(lines "$TMP/events")"
ok "the 17 accepted events delivered, the 3 refused ones not retried"

python3 - "$DL" <<'PY' || { cat "$DL"; fail "dead letters"; }
import json, sys
# Strict: the file must be UTF-8 and every line one JSON object.
lines = open(sys.argv[1], encoding="utf-8", errors="strict").read().splitlines()
recs = {}
for l in lines:
    r = json.loads(l)
    assert set(r) == {"time", "component", "reason", "event"}, r
    assert r["component"] == "oe" and r["time"].endswith("Z"), r
    assert set(r["event"]) == {"time", "meta", "body"}, r
    recs[r["event"]["body"]["productId"]] = r
assert len(lines) == 3 and set(recs) == {1, 2, 3}, lines
want1 = 'rejected by OneEntry (HTTP 400): bad "id"\n\ufffd \ufffd \u2713 \\ end'
assert recs[1]["reason"] == want1, recs[1]["reason"]
r2 = recs[2]["reason"]
assert r2.startswith("rejected by OneEntry (HTTP 422): \ufffd\ufffd"), r2
assert '"}\n{"evil":1}\x01 tail' in r2 and "\x00" not in r2, r2
assert recs[3]["reason"] == ("rejected by OneEntry (HTTP 400): productId must be a number; "
                             "type must be a string"), recs[3]["reason"]
assert recs[3]["event"]["body"] == {"type": "product_view", "productId": 3, "guest_id": "guest-0"}
print("3 dead letters, valid JSON, reasons as the server said them")
PY
ok "refused events dead-lettered with the status and the server's message; hostile messages stay valid JSON"
finish
