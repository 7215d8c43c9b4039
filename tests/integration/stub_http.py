"""Pieces shared by the Python stand-ins for OneEntry in the integration
tests (a TLS server, a server with scripted failures): answering a request,
and serving on a free loopback port announced in TMP/port."""
import json
import os
import ssl
import threading
from http.server import ThreadingHTTPServer

_record_lock = threading.Lock()


def reply(handler, status, body):
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def record(handler, tmp, body):
    """Append an accepted event to TMP/events as the emulator does:
    {"auth": "guest:ID" or "bearer:TOKEN", "body": the request's JSON}."""
    g, a = handler.headers.get("x-guest-id"), handler.headers.get("Authorization", "")
    auth = "guest:" + g if g else "bearer:" + a[len("Bearer "):]
    with _record_lock, open(tmp + "/events", "a") as f:
        f.write(json.dumps({"auth": auth, "body": json.loads(body)}) + "\n")


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # listen(2) backlog; http.server's 5 would hide a connect storm


def serve(handler_class, tmp, wrap=None, hold=None, hold_after=0):
    """Serve on 127.0.0.1:0; `wrap` may replace the listening socket (TLS);
    without it, OE_STUB_CERT and OE_STUB_KEY in the environment make it HTTPS.
    `hold`, if given, runs after `hold_after` connections were accepted,
    before any other is.
    The port goes to TMP/port atomically, so a reader never sees half of it."""
    srv = _Server(("127.0.0.1", 0), handler_class)
    srv.daemon_threads = True
    if wrap:
        srv.socket = wrap(srv.socket)
    elif os.environ.get("OE_STUB_CERT"):
        # HTTPS with the test's certificate (oneentry_helpers.bash: tls_env)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.environ["OE_STUB_CERT"], os.environ["OE_STUB_KEY"])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(tmp + "/port.tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp + "/port.tmp", tmp + "/port")
    for _ in range(hold_after):
        srv.handle_request()  # accept one connection (served on its own thread)
    if hold:
        hold()  # listening, not accepting more: connections wait in the backlog
    srv.serve_forever()
