# sink_oneentry keeps each visitor's events in input order although many
# requests are in flight and some are retried, and gives up on a poison
# event (always 500 while others are accepted) after max_retries, without
# holding up anyone else for longer than that.
#
# The server is a small Python OneEntry stand-in: every answer comes after a
# random 0-15 ms (so parallel requests overtake each other), the first
# attempt of every 4th event gets a 500 (so retries happen), and productId
# 27 gets a 500 every time. It records accepted events in arrival order.
# The same run with order: none must show reordering, which proves the
# check can fail.
# transports: h1 h2
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/oneentry_helpers.bash"

# shellcheck disable=SC2046 # tls_env is a list of NAME=VALUE words
env $(tls_env) python3 - "$TMP" "$(dirname "$0")" <<'PY' &
import json, random, sys, threading, time
from http.server import BaseHTTPRequestHandler
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, sys.argv[2])
from stub_http import reply, serve
tmp = sys.argv[1]
lock = threading.Lock()
tries = {}
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        time.sleep(random.random() * 0.015)
        pid = body["productId"]
        with lock:
            tries[pid] = tries.get(pid, 0) + 1
            ok = pid != 27 and not (pid % 4 == 0 and tries[pid] == 1)
            if ok:
                with open(tmp + "/events", "a") as f:
                    f.write(json.dumps({"guest": self.headers["x-guest-id"], "id": pid}) + "\n")
        if ok:
            reply(self, 200, b"true")
        else:
            reply(self, 500, b'{"statusCode":500,"message":"boom"}')
serve(H, tmp)
PY
wait_for 10 test -s "$TMP/port" || fail "test server did not start"
serve_url "$(cat "$TMP/port")"
TOKEN=t0k

# 650 product views over 13 visitors: visitor i%13 sees ids i, i+13, ...
python3 -c '
for i in range(1, 651):
    print("{\"type\":\"product_view\",\"productId\":%d,\"guest_id\":\"guest-%d\"}" % (i, i % 13))
' >"$TMP/in.jsonl"

# check_run: prints the number of per-visitor inversions; fails on loss,
# duplicates, or anything other than event 27 in the dead letters.
check_run() {
    python3 - "$TMP/events" "$DL" <<'PY'
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
ids = [e["id"] for e in got]
if len(ids) != len(set(ids)): sys.exit(f"{len(ids) - len(set(ids))} duplicates")
missing = set(range(1, 651)) - {27} - set(ids)
if missing: sys.exit(f"{len(missing)} events not delivered, e.g. {sorted(missing)[:5]}")
if 27 in ids: sys.exit("the poison event was accepted?")
dl = [json.loads(l) for l in open(sys.argv[2])]
if [d["event"]["body"]["productId"] for d in dl] != [27]: sys.exit(f"dead letters: {dl}")
if not dl[0]["reason"].startswith("gave up after 3 failed attempts") or \
        not dl[0]["reason"].endswith("(HTTP 500): boom"):
    sys.exit(f"dead letter reason: {dl[0]}")
last, inv = {}, 0
for e in got:
    if e["id"] < last.get(e["guest"], 0): inv += 1
    last[e["guest"]] = e["id"]
print(inv)
PY
}

pipeline "$TMP/p.yaml" "concurrency: 32, max_retries: 3"
"$SLUICE" run "$TMP/p.yaml" --once <"$TMP/in.jsonl" 2>"$TMP/log" || { cat "$TMP/log"; fail "run"; }
inv=$(check_run) || { cat "$TMP/log"; fail "order: per_visitor run: $inv"; }
[ "$inv" -eq 0 ] || fail "order: per_visitor: $inv events arrived before an earlier one of their visitor"
ok "32 in flight, retries and a poison event: every visitor's events arrived in input order"
ok "the poison event was dead-lettered after 3 failed attempts (HTTP 500 and the server's message), all others delivered once"

: >"$TMP/events"
rm -rf "$TMP/state"
pipeline "$TMP/p.yaml" "concurrency: 32, max_retries: 3, order: none"
"$SLUICE" run "$TMP/p.yaml" --once <"$TMP/in.jsonl" 2>"$TMP/log" || { cat "$TMP/log"; fail "run"; }
inv=$(check_run) || { cat "$TMP/log"; fail "order: none run: $inv"; }
[ "$inv" -gt 0 ] || fail "order: none showed no reordering: the order check above proves nothing"
ok "order: none reorders ($inv inversions), so the check above can fail"
finish
