# sink_oneentry opens connections gradually: a server that stops accepting
# after its first connection (its accept queue filling, as on a busy server
# with a small backlog) sees at most 8 connects from the sink waiting at a
# time, however many requests the sink wants in flight (concurrency: 64
# here), instead of 63 at once; once the server accepts again, every event
# is delivered once. (The first connection answers over HTTP/1.1, so libcurl
# knows that each request in flight needs a connection of its own.)
#
# The accept queue of the stand-in's listening socket is read from
# /proc/net/tcp (rx_queue of a socket in LISTEN state) while it holds off
# accepting. A busy machine only means fewer looks, never a larger queue.
# transports: h1
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/oneentry_helpers.bash"

# shellcheck disable=SC2046 # tls_env is a list of NAME=VALUE words
env $(tls_env) python3 - "$TMP" "$(dirname "$0")" <<'PY' &
import os, sys, time
from http.server import BaseHTTPRequestHandler
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, sys.argv[2])
from stub_http import record, reply, serve
tmp = sys.argv[1]
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        record(self, tmp, self.rfile.read(int(self.headers.get("Content-Length", 0))))
        reply(self, 200, b"true")
def hold():
    for _ in range(600):  # at most 60 s, then serve anyway
        if os.path.exists(tmp + "/release"):
            return
        time.sleep(0.1)
serve(H, tmp, hold=hold, hold_after=1)
PY
wait_for 10 test -s "$TMP/port" || fail "test server did not start"
PORT=$(cat "$TMP/port")
serve_url "$PORT"

# One guest per event: nothing waits for its visitor.
python3 -c '
import json
for i in range(1, 501):
    print(json.dumps({"type": "product_view", "productId": i, "guest_id": "g%d" % i}))
' >"$TMP/in.jsonl"
TOKEN=t0k
pipeline "$TMP/p.yaml" "concurrency: 64, connect_timeout: 60s, timeout: 60s"
"$SLUICE" run "$TMP/p.yaml" --once <"$TMP/in.jsonl" 2>"$TMP/log" &
PID=$!

backlog() { # the listening socket's accept queue
    python3 - "$PORT" <<'PY'
import sys
port = "%04X" % int(sys.argv[1])
for line in open("/proc/net/tcp").read().splitlines()[1:]:
    f = line.split()
    if f[1].endswith(":" + port) and f[3] == "0A":
        print(int(f[4].split(":")[1], 16)); break
else:
    print(0)
PY
}
queued() { [ "$(backlog)" -ge "$1" ]; }
wait_for 20 queued 1 || { cat "$TMP/log"; fail "no connection reached the server"; }
# Look for a while: the queue must never pass 8 (it reached 63 at once
# without the bound); it reaches 8 when the sink goes as far as it may.
peak=0
for _ in $(seq 20); do
    n=$(backlog)
    [ "$n" -le 8 ] || fail "$n connections waiting at once: connects are not bounded"
    [ "$n" -gt "$peak" ] && peak=$n
    [ "$peak" -eq 8 ] && break
    sleep 0.1
done
ok "a server not accepting: at most 8 connects from the sink waiting at once (saw $peak)"

touch "$TMP/release"
wait "$PID" || { cat "$TMP/log"; fail "run exited non-zero"; }
check_delivered "$TMP/in.jsonl" exact || fail "delivery"
ok "then, the server accepting: all delivered once"
finish
