# sink_oneentry honours the usual proxy variables (libcurl reads them; the
# sink sets no proxy of its own). The project URL names a host that must
# never be resolved (oneentry.invalid, RFC 6761), so an event can only
# arrive through a proxy, and every proxy is a stand-in on 127.0.0.1:
#  - plain http: the emulator itself, which accepts the absolute-form
#    request line a client sends a proxy and counts it (GET /_transport);
#  - https: a CONNECT proxy below that records the target and tunnels to
#    nghttpx, which holds a certificate for oneentry.invalid.
# NO_PROXY keeps listed hosts direct; HTTP_PROXY in capitals is ignored,
# as libcurl does on purpose (httpoxy: CGI puts a request's Proxy header
# there), so http needs http_proxy or ALL_PROXY.
. "$(dirname "$0")/common.bash"
OE_TRANSPORT=http # this test puts its own TLS server or front before the sink
. "$(dirname "$0")/oneentry_helpers.bash"
unset NO_PROXY no_proxy

TOKEN=t0k
make_cert "DNS:oneentry.invalid,IP:127.0.0.1"
start_emu --token "$TOKEN"
EMU_URL=$URL
EMU_PORT=$(cat "$TMP/port")
start_front "$EMU_PORT"
gen_input 200 "$TMP/in.jsonl"

python3 - "$TMP" "$FRONT_PORT" <<'PY' &
import os, socket, sys, threading
tmp, backend = sys.argv[1], int(sys.argv[2])
lock = threading.Lock()

def pipe(src, dst):
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass

def serve(client):
    head = b""
    while b"\r\n\r\n" not in head:
        data = client.recv(4096)
        if not data:
            client.close()
            return
        head += data
    line, rest = head.split(b"\r\n", 1)[0].decode(), head.split(b"\r\n\r\n", 1)[1]
    with lock, open(tmp + "/connects", "a") as f:
        f.write(line + "\n")
    if not line.startswith("CONNECT "):
        client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n"
                       b"Connection: close\r\n\r\n")
        client.close()
        return
    # Whatever the target, the tunnel leads to the local TLS front.
    upstream = socket.create_connection(("127.0.0.1", backend))
    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    if rest:
        upstream.sendall(rest)
    back = threading.Thread(target=pipe, args=(upstream, client))
    back.start()
    pipe(client, upstream)
    back.join()
    client.close()
    upstream.close()

srv = socket.create_server(("127.0.0.1", 0))
with open(tmp + "/cport.tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(tmp + "/cport.tmp", tmp + "/cport")
while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
PY
wait_for 10 test -s "$TMP/cport" || fail "CONNECT proxy did not start"
CONNECT_PROXY="http://127.0.0.1:$(cat "$TMP/cport")"
HTTP_STANDIN="http://127.0.0.1:$EMU_PORT"
touch "$TMP/connects"

transport() { # transport NAME: one counter of the emulator's /_transport
    curl -s "$EMU_URL/_transport" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}

# send_via URL [NAME=VALUE...]: deliver the input to URL with exactly these
# proxy variables; every event must arrive once. Sets PROXIED (requests
# the emulator got in absolute form), REQUESTS (all it got) and CONNECTS
# (tunnels opened by the CONNECT proxy) during the run.
send_via() {
    local url=$1; shift
    local p0 r0 c0
    p0=$(transport proxied); r0=$(URL=$EMU_URL emu_stat requests); c0=$(lines "$TMP/connects")
    : >"$TMP/events"
    rm -rf "$TMP/state"
    URL=$url pipeline "$TMP/p.yaml" "ca_file: $TMP/cert.pem, concurrency: 8"
    env "$@" "$SLUICE" run "$TMP/p.yaml" --once <"$TMP/in.jsonl" 2>"$TMP/log" \
        || { cat "$TMP/log"; fail "run with $*"; }
    check_delivered "$TMP/in.jsonl" exact >/dev/null || { tail "$TMP/log"; fail "delivery with $*"; }
    PROXIED=$(( $(transport proxied) - p0 ))
    REQUESTS=$(( $(URL=$EMU_URL emu_stat requests) - r0 ))
    CONNECTS=$(( $(lines "$TMP/connects") - c0 ))
}

send_via http://oneentry.invalid http_proxy="$HTTP_STANDIN"
[ "$PROXIED" -gt 0 ] && [ "$PROXIED" -eq "$REQUESTS" ] || fail "$PROXIED of $REQUESTS requests proxied"
ok "http_proxy: all $REQUESTS requests went through the proxy, every event delivered"

send_via http://oneentry.invalid ALL_PROXY="$HTTP_STANDIN"
[ "$PROXIED" -gt 0 ] && [ "$PROXIED" -eq "$REQUESTS" ] || fail "$PROXIED of $REQUESTS requests proxied"
ok "ALL_PROXY: all $REQUESTS requests went through the proxy"

for name in HTTPS_PROXY https_proxy; do
    send_via https://oneentry.invalid "$name=$CONNECT_PROXY"
    [ "$CONNECTS" -gt 0 ] || fail "$name: no CONNECT reached the proxy"
    bad=$(tail -n "$CONNECTS" "$TMP/connects" | grep -vc '^CONNECT oneentry.invalid:443 ' || true)
    [ "$bad" -eq 0 ] || { cat "$TMP/connects"; fail "$name: unexpected proxy requests"; }
    [ "$PROXIED" -eq 0 ] || fail "$name: the tunnel carried absolute-form requests"
    ok "$name: $REQUESTS requests through $CONNECTS CONNECT tunnel(s) to oneentry.invalid:443, TLS verified"
done

for name in NO_PROXY no_proxy; do
    send_via "$EMU_URL" http_proxy="$HTTP_STANDIN" "$name=localhost,127.0.0.1"
    [ "$PROXIED" -eq 0 ] || fail "$name: $PROXIED requests to 127.0.0.1 went through the proxy"
    send_via http://oneentry.invalid http_proxy="$HTTP_STANDIN" "$name=localhost,127.0.0.1"
    [ "$PROXIED" -eq "$REQUESTS" ] || fail "$name: unlisted host not proxied ($PROXIED of $REQUESTS)"
    ok "$name: a listed host is reached directly, others through the proxy"
done

send_via "$EMU_URL" HTTP_PROXY="$HTTP_STANDIN"
[ "$PROXIED" -eq 0 ] || fail "HTTP_PROXY was used ($PROXIED requests)"
ok "HTTP_PROXY in capitals is ignored for http (libcurl's httpoxy rule); use http_proxy"
finish
