# sink_oneentry over HTTPS, as OneEntry is reached in production: a TLS
# server on 127.0.0.1 with a throwaway certificate. Verified with ca_file:
# delivered. Without the CA: nothing is sent to an unverified server, the
# events are kept (spooled), never dead-lettered. tls_verify: false:
# delivered, with a warning. A run --once that keeps events in the spool
# exits 4.
. "$(dirname "$0")/common.bash"
OE_TRANSPORT=http # this test puts its own TLS server or front before the sink
. "$(dirname "$0")/oneentry_helpers.bash"
command -v openssl >/dev/null || fail "openssl missing (scripts/deps.sh installs it)"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
    2>"$TMP/openssl.log" || { cat "$TMP/openssl.log"; fail "openssl req"; }

# A minimal HTTPS OneEntry: checks the token, records events like the emulator.
python3 - "$TMP" "$(dirname "$0")" <<'PY' &
import ssl, sys
from http.server import BaseHTTPRequestHandler
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, sys.argv[2])
from stub_http import record, reply, serve
tmp = sys.argv[1]
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("x-app-token") != "t0k":
            out, status = b'{"statusCode":401,"message":"bad token"}', 401
        else:
            record(self, tmp, body)
            out, status = b"true", 200
        reply(self, status, out)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(tmp + "/cert.pem", tmp + "/key.pem")
serve(H, tmp, lambda sock: ctx.wrap_socket(sock, server_side=True))
PY
wait_for 10 test -s "$TMP/port" || fail "TLS server did not start"
URL="https://127.0.0.1:$(cat "$TMP/port")"
TOKEN=t0k
gen_input 300 "$TMP/in.jsonl"

over_tls() {
    : >"$TMP/events"
    rm -rf "$TMP/state"
    pipeline "$TMP/p.yaml" "ca_file: $TMP/cert.pem, concurrency: 8"
    "$SLUICE" run "$TMP/p.yaml" --once <"$TMP/in.jsonl" 2>"$TMP/log" || { cat "$TMP/log"; fail "run"; }
    check_delivered "$TMP/in.jsonl" exact || fail "delivery over TLS"
    ok "HTTPS with the server's CA in ca_file: all delivered once"

    : >"$TMP/events"
    rm -rf "$TMP/state"
    CA_FILE="" DRAIN=1s pipeline "$TMP/p.yaml" "concurrency: 8"
    rc=0
    SSL_CERT_FILE=/nonexistent "$SLUICE" run "$TMP/p.yaml" --once <"$TMP/in.jsonl" 2>"$TMP/log" || rc=$?
    [ "$rc" -eq 4 ] || { cat "$TMP/log"; fail "run without the CA exited $rc, expected 4 (events spooled)"; }
    [ "$(lines "$TMP/events")" -eq 0 ] || fail "events sent to a server whose certificate was not verified"
    grep -qi "certificate\|SSL" "$TMP/log" || { cat "$TMP/log"; fail "no TLS error logged"; }
    [ ! -s "$DL" ] || fail "a TLS failure dead-lettered events"
    ls "$TMP/state/oe/spool/"seg-*.oes >/dev/null 2>&1 || fail "events not kept in the spool"
    ok "unknown CA: nothing sent, the error logged, events spooled, none dead-lettered"

    # The right CA, the wrong name: the certificate is for 127.0.0.1 only.
    : >"$TMP/events"
    rm -rf "$TMP/state"
    local url=$URL
    URL="https://localhost:$(cat "$TMP/port")"
    DRAIN=1s pipeline "$TMP/p.yaml" "ca_file: $TMP/cert.pem, concurrency: 8"
    URL=$url
    rc=0
    "$SLUICE" run "$TMP/p.yaml" --once <"$TMP/in.jsonl" 2>"$TMP/log" || rc=$?
    [ "$rc" -eq 4 ] || { cat "$TMP/log"; fail "run with the wrong host name exited $rc, expected 4"; }
    [ "$(lines "$TMP/events")" -eq 0 ] || fail "events sent to a server whose name did not match"
    grep -qi "certificate\|SSL" "$TMP/log" || { cat "$TMP/log"; fail "no TLS error logged"; }
    ok "a certificate for another name: nothing sent, the error logged"

    : >"$TMP/events"
    rm -rf "$TMP/state"
    pipeline "$TMP/p.yaml" "tls_verify: false, concurrency: 8"
    "$SLUICE" run "$TMP/p.yaml" --once <"$TMP/in.jsonl" 2>"$TMP/log" || { cat "$TMP/log"; fail "run"; }
    expect_in "$TMP/log" "tls_verify is off"
    check_delivered "$TMP/in.jsonl" exact || fail "delivery with tls_verify: false"
    ok "tls_verify: false delivers, with a warning"
}

over_tls
finish
