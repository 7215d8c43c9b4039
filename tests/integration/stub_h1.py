"""OneEntry stand-ins for oneentry_http1.sh: HTTP/1.1 servers that answer in
ways the emulator never does, to test the sink's built-in client.

usage: stub_h1.py MODE DIR TOKEN [--tls CERT KEY]
  vary  answers take turns: chunked (with a chunk extension and a trailer),
        a 1xx interim answer first, "Connection: close" then closing, an
        HTTP/1.0 answer delimited by closing, an HTTP/1.1 one likewise, and
        a plain keep-alive one
  idle  closes a connection idle for 0.5 s, except the first connection:
        that one stays open but drops, unanswered, the first request that
        comes after 0.5 s of idleness (a server whose idle timer fired as the
        request arrived)
  hang  never answers the first 2 requests; holds them until the client
        closes their connection
  keep  answers every request at once, keep-alive, never closes; its
        connections have a small receive buffer (8 KiB)
  mute  accepts connections but never answers a byte (nor a TLS handshake)
        until DIR/go exists; then serves like keep

--tls CERT KEY: HTTPS. Each connection's handshake is done on its own
thread; of the connections the server closes, every other one gets a TLS
close_notify first, the rest just the TCP close.

Like the emulator, it checks the token and identity and appends each
accepted event to DIR/events as {"auth", "body"}; DIR/notes gets one word a
line: request (every request read), pipelined (the next request had already
arrived when this one was answered), lost (dropped unanswered), hung,
released (the client closed a hung request's connection), bad (refused);
with --tls also, per connection, full or resumed (a new TLS session or a
resumed one); mute: muted (a connection held unanswered, after its first
bytes came)."""
import json
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stub_http import reply, serve  # noqa: E402

MODE, DIR, TOKEN = sys.argv[1], sys.argv[2], sys.argv[3]
TLS = None
if sys.argv[4:5] == ["--tls"]:
    TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    TLS.load_cert_chain(sys.argv[5], sys.argv[6])
QUIET_ERRORS = (ssl.SSLError, ConnectionError) if TLS else ()
IDLE_S = 0.5
HANG = 2
HANDSHAKE_S = 10
lock = threading.Lock()
counts = {"request": 0, "conn": 0, "tls": 0}


def note(word):
    with lock, open(DIR + "/notes", "a") as f:
        f.write(word + "\n")


def take(what):
    """The number of the next `what` (0, 1, ...), across all connections."""
    with lock:
        n = counts[what]
        counts[what] = n + 1
        return n


class Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    dead = False  # nothing to serve on this connection

    def log_message(self, *a):
        pass

    def setup(self):
        if MODE == "mute" and not os.path.exists(DIR + "/go"):
            self.mute()
        elif TLS:
            self.tls_accept()
        if self.dead:
            return
        super().setup()
        # Small writes go out as they are made: answers arrive in pieces.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self):
        if self.dead:
            return
        try:
            super().handle()
        except QUIET_ERRORS:
            pass  # the client dropped the connection without a TLS close

    def mute(self):
        """Take what the client sends and never answer, until it closes."""
        self.dead = True
        self.request.settimeout(60)
        try:
            if self.request.recv(65536):
                note("muted")
                while self.request.recv(65536):
                    pass
        except OSError:
            pass

    def tls_accept(self):
        self.notify = take("tls") % 2 == 0
        self.request.settimeout(HANDSHAKE_S)
        try:
            self.request = TLS.wrap_socket(self.request, server_side=True)
        except OSError:
            self.dead = True  # the client went away mid-handshake
            return
        self.request.settimeout(None)  # StreamRequestHandler sets self.timeout
        note("resumed" if self.request.session_reused else "full")

    def finish(self):
        if self.dead:
            return
        super().finish()
        if TLS:
            # (the server closes the socket it accepted, which wrap_socket
            # took over: closing is up to this one)
            try:
                if self.notify:
                    self.request.settimeout(2)
                    self.request.unwrap()  # close_notify first
            except (OSError, ValueError):
                pass
            self.request.close()

    def read_event(self):
        """Read the body; record the event and return True when valid."""
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        note("request")
        guest, bearer = self.headers.get("x-guest-id"), self.headers.get("Authorization")
        try:
            ev = json.loads(body)
        except ValueError:
            ev = None
        if (self.headers.get("x-app-token") != TOKEN or (guest is None) == (bearer is None)
                or not isinstance(ev, dict) or
                not (guest or (bearer or "").startswith("Bearer "))):
            note("bad")
            reply(self, 400, b'{"statusCode":400,"message":"bad request"}')
            return False
        auth = "guest:" + guest if guest else "bearer:" + bearer[len("Bearer "):]
        with lock, open(DIR + "/events", "a", encoding="utf-8") as f:
            f.write(json.dumps({"auth": auth, "body": ev}, ensure_ascii=False) + "\n")
        if self.next_request_here():
            note("pipelined")
        return True

    def next_request_here(self):
        """Have bytes of another request arrived (sent before this answer)?"""
        self.connection.setblocking(False)
        try:
            return bool(self.rfile.peek(1))
        except OSError:
            return False
        finally:
            self.connection.settimeout(self.timeout)

    def raw(self, data):
        self.wfile.write(data)
        self.wfile.flush()


class Vary(Base):
    def do_POST(self):
        if not self.read_event():
            return
        kind = take("request") % 6
        if kind == 0:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.raw(b"2;note=split\r\ntr\r\n")
            self.raw(b"2\r\nue\r\n0\r\n")
            self.raw(b"X-Checked: yes\r\n\r\n")
        elif kind == 1:
            self.raw(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.raw(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")
            reply(self, 200, b"true")
        elif kind == 2:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "4")
            self.send_header("Connection", "close")  # and http.server closes
            self.end_headers()
            self.raw(b"true")
        elif kind in (3, 4):
            # No length: the body ends where the connection does.
            self.raw(b"HTTP/1.%d 200 OK\r\nContent-Type: application/json\r\n\r\ntr"
                     % (kind - 3))
            self.raw(b"ue")
            self.close_connection = True
        else:
            reply(self, 200, b"true")


class Idle(Base):
    def setup(self):
        self.sticky = take("conn") == 0
        self.timeout = None if self.sticky else IDLE_S  # the idle close
        self.last = None
        super().setup()

    def do_POST(self):
        if self.sticky and self.last is not None and time.monotonic() - self.last >= IDLE_S:
            note("lost")
            self.close_connection = True
            return
        if self.read_event():
            reply(self, 200, b"true")
        self.last = time.monotonic()


class Hang(Base):
    def do_POST(self):
        if take("request") >= HANG:
            if self.read_event():
                reply(self, 200, b"true")
            return
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        note("hung")
        try:
            while self.connection.recv(65536):
                pass
        except OSError:
            pass
        note("released")
        self.close_connection = True


class Keep(Base):
    def do_POST(self):
        if self.read_event():
            reply(self, 200, b"true")


def listen(sock):
    """The listening socket: its receive buffer is the accepted ones'."""
    if MODE == "keep":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    return sock


serve({"vary": Vary, "idle": Idle, "hang": Hang, "keep": Keep, "mute": Keep}[MODE], DIR, listen)
