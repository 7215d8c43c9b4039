#!/usr/bin/env python3
"""Write the seed corpora of tests/fuzz/corpus/<target>/ (checked in).

Seeds are small valid and nearly-valid inputs that take each parser down
its main paths; libFuzzer mutates from there. Run from anywhere:
    python3 tests/fuzz/make-seeds.py
Existing seeds are overwritten, others (minimised finds) are kept.
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))


def mp(v):
    """Minimal msgpack encoder: None, bool, int, float, str, bytes, list, dict, Ts."""
    if v is None:
        return b"\xc0"
    if v is True or v is False:
        return b"\xc3" if v else b"\xc2"
    if isinstance(v, Ts):
        return b"\xd7\xff" + struct.pack(">Q", (v.ns % 10**9) << 34 | (v.ns // 10**9))
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack("b", v)
        return b"\xd3" + struct.pack(">q", v) if v < 0 else b"\xcf" + struct.pack(">Q", v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        b = v.encode("utf-8", "surrogateescape")
        return (bytes([0xA0 | len(b)]) if len(b) < 32 else b"\xda" + struct.pack(">H", len(b))) + b
    if isinstance(v, bytes):
        return b"\xc4" + bytes([len(v)]) + v
    if isinstance(v, list):
        return bytes([0x90 | len(v)]) + b"".join(mp(x) for x in v)
    if isinstance(v, dict):
        return bytes([0x80 | len(v)]) + b"".join(mp(k) + mp(x) for k, x in v.items())
    raise TypeError(v)


class Ts:
    def __init__(self, ns):
        self.ns = ns


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def config():
    for p in ("nginx-to-oneentry.yaml",):
        with open(os.path.join(SRC, "pipelines", p), "rb") as f:
            write("config", p, f.read())
    write("config", "env.yaml", "service:\n  state_dir: ${FUZZ_SET}/x\n  queue_max_bytes: 1MiB\n"
          "  shutdown_timeout: 2.5s\nsources:\n  a: {plugin: stdin}\nsinks:\n"
          "  b:\n    plugin: file\n    inputs: [a]\n    path: ${FUZZ_UNSET:-/tmp/o}\n")
    write("config", "cycle.yaml", "sources:\n  s: {plugin: stdin}\nenrichers:\n"
          "  a: {plugin: modify, inputs: [s, b]}\n  b: {plugin: modify, inputs: [a]}\n"
          "sinks:\n  o: {plugin: stdout, inputs: [b, nope]}\n")
    write("config", "alias.yaml", "x: &a [1, 2]\nsources:\n  s: &s {plugin: stdin, paths: *a}\n"
          "  t: *s\nsinks:\n  o: {plugin: null, inputs: [s, t], <<: *s}\n")
    write("config", "admin.yaml", "service:\n  log_level: debug\n  log_format: json\n"
          "  admin:\n    listen: 127.0.0.1:2021\n    stuck_after: 30s\nsources:\n"
          "  g: {path: ./x.so, count: 3}\nsinks:\n  o: {plugin: stdout, inputs: g}\n"
          "tests:\n  - {enricher: g, input: {a: 1}, expect: {a: ~absent}}\n")
    write("config", "bad.yaml", "service: [1\nsources:\n  : {plugin: ${X:?missing}}\n\t- \"\\q\"\n")


def interp():
    for i, s in enumerate(["plain", "${FUZZ_A}", "${FUZZ_UNSET}", "${FUZZ_E:-dflt}",
                           "${FUZZ_E:?need it}", "$$${FUZZ_A}$", "${FUZZ_UNSET:-${FUZZ_A:-x}}",
                           "${", "${A:-${B:-${C:-${D}}}}", "a$b${}c"]):
        write("interp", "s%d" % i, s)


def event_of(t, meta, body):
    return mp([Ts(t), meta, body])


def event():
    e1 = event_of(1700000000123456789, {"source": "tail", "offset": 42},
                  {"msg": "hello \u00e9\x01\"", "n": -5, "f": 1.5, "ok": True, "nil": None,
                   "arr": [1, [2, {"k": b"\xff\x00"}]], "big": 2**64 - 1})
    e2 = mp([1700000000000000000, {}, {"text": "plain line"}])
    write("event", "one", bytes([1]) + e1)
    write("event", "two", bytes([2]) + e1 + e2)
    write("event", "count-mismatch", bytes([3]) + e1 + e2)
    write("event", "truncated", bytes([1]) + e1[:-3])
    write("event", "not-event", bytes([1]) + mp({"a": [1, 2, 3]}))
    write("event", "ts96", bytes([1]) + b"\x93\xc7\x0c\xff" + struct.pack(">Iq", 5, -1) + b"\x80\x80")
    write("event", "deep", bytes([1]) + b"\x93\x00\x80\x81\xa1a" + b"\x91" * 150 + b"\xc0")


PARSE_FORMATS = ["nginx_combined", "apache_combined", "common", "json", "regex", "logfmt"]


def parse():
    with open(os.path.join(SRC, "tests", "data", "nginx-access.log"), encoding="utf-8") as f:
        lines = f.read().splitlines()[:4]
    for i, l in enumerate(lines):
        write("parse", "nginx%d" % i, bytes([0]) + l.encode())
    write("parse", "apache", bytes([1]) + b'10.1.2.3 - frank [10/Oct/2000:13:55:36 -0700] '
          b'"GET /search?q=red+shoes%21 HTTP/1.0" 304 - "http://x/\\"q\\"" "Agent \\\\ 1"')
    write("parse", "common", bytes([2]) + b'::1 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 12')
    write("parse", "json", bytes([3]) + b'{"time":"2024-03-12T10:00:00.5+01:00","request":"GET /a?b=1&b=2 HTTP/1.1",'
          b'"status":"200","f":"1e3","b":"true","s":7,"nested":{"x":[1,null,"\\u00e9\\ud83d\\ude00"]}}')
    write("parse", "regex", bytes([4]) + b'1.1.1.1 [10/Oct/2000:13:55:36 -0700] "GET /s?q=a%20b HTTP/1.1" 404 512 "curl/8"')
    write("parse", "logfmt", bytes([5]) + b'time=2024-03-12T10:00:00Z request="POST /cart/add?product_id=7 HTTP/2.0" '
          b'status=201 f=0.25 b=false s="quoted \\" value" flag')
    write("parse", "tls-junk", bytes([0]) + b'1.2.3.4 - - [12/Mar/2024:10:00:00 +0100] "\\x16\\x03\\x01" 400 0 "-" "-"')


def activity():
    reqs = [
        ("GET /products/1042-red-sneakers?from=recommended&ref=home HTTP/1.1", "200", "Mozilla/5.0",
         "gid=g-1; other=x", "203.0.113.10", ""),
        ("POST /cart/add?product_id=1042&qty=1 HTTP/1.1", "302", "Mozilla/5.0", "", "198.51.100.2", "tok"),
        ("GET /search?q=red+shoes%21&q=blue HTTP/1.1", "200", "Mozilla", "gid=abc", "::1", ""),
        ("GET /catalog/shoes-12 HTTP/1.1", "500", "Googlebot/2.1", "", "10.0.0.1", ""),
        ("GET /checkout/complete?product_id=9007199254740993&order=A1 HTTP/2.0", "200", "x", "", "", "t"),
        ("GET /pages/77 HTTP/1.1", "404", "", "gid=%41", "", ""),
        ("POST /wishlist/%2e%2e HTTP/1.1", "201", "ua", "gid", "1.1.1.1", ""),
    ]
    for i, r in enumerate(reqs):
        write("activity", "req%d" % i, "\n".join(r))


def oe_body():
    bodies = [
        {"type": "product_view", "productId": 1042, "guest_id": "g-1", "meta": {"ref": "home"}},
        {"type": "search", "query": "red \"shoes\"\n", "user_token": "tok\r\nX-Evil: 1"},
        {"type": "category_view", "categoryId": "12", "guest_id": 5},
        {"type": "nope", "guest_id": "g"},
        {"type": "product_purchase", "productId": -1, "guest_id": "g", "meta": {"order": [1, {"a": None}]}},
        {"type": "page_view", "pageId": 2**63, "guest_id": "g\x00x"},
    ]
    for i, b in enumerate(bodies):
        write("oe_body", "body%d" % i, mp(b))


def ckpt():
    write("ckpt", "two", "# sluice tail checkpoints v1\n2049 131 1024 256 cbf29ce484222325 64 "
          "af63bd4c8601b7df /var/log/nginx/access.log\n2049 132 0 0 0 0 0 /var/log/a b.log\n")
    write("ckpt", "bad", "# sluice tail checkpoints v1\n1 2 3 300 x 1 1 /p\n1 2\n-1 2 3 4 5 6 7 8\n")
    write("ckpt", "torn", "# sluice tail checkpoints v1\n2049 131 1024 256 ff 64 ee /x")


def record(payload):
    h = b"OES1" + struct.pack("<I", len(payload))
    return h + struct.pack("<I", zlib.crc32(payload, zlib.crc32(h[4:8]))) + payload


def spool():
    r = [record(b'{"type":"product_view","productId":%d}' % i) for i in range(3)]
    write("spool", "clean", b"\n" + b"".join(r))
    write("spool", "torn-tail", b"\n" + r[0] + r[1][:-5])
    bad = bytearray(r[1])
    bad[14] ^= 0xFF
    write("spool", "corrupt-middle", b"\n" + r[0] + bytes(bad) + r[2])
    write("spool", "pos", b"OESPOS1 1 %d\n" % len(r[0]) + b"".join(r))
    write("spool", "garbage", b"OESPOS1 x y\nOES1\xff\xff\xff\xffOES1")


if __name__ == "__main__":
    for fn in (config, interp, event, parse, activity, oe_body, ckpt, spool):
        fn()
