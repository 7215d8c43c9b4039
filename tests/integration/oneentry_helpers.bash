# Helpers for the sink_oneentry integration tests (sourced after common.bash).
#
# The sink talks to OneEntry the way production does, over HTTPS with
# libcurl; OE_TRANSPORT says which server it meets (CTest runs each test
# with each transport its "# transports:" line names):
#   h1    HTTPS, HTTP/1.1 only: the emulator's own TLS (default)
#   h2    HTTPS through an nghttpx front that offers HTTP/2 (ALPN); the
#         emulator behind it speaks plain HTTP/1.1 to the front
#   http  plain HTTP (the smoke test)
# Certificates come from a throwaway test CA: the sink trusts it through
# ca_file, curl through --cacert.
EMU="$SL_BUILD/tests/oneentry-emulator/oneentry-emulator"
# libcurl honours proxy variables; the emulator is on loopback, never proxied.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
[ -x "$EMU" ] || fail "OneEntry emulator not built at $EMU"
OE_TRANSPORT=${OE_TRANSPORT:-h1}
case $OE_TRANSPORT in
    h1 | h2 | http) ;;
    *) fail "OE_TRANSPORT: expected h1, h2 or http, got '$OE_TRANSPORT'" ;;
esac
. "$(dirname "${BASH_SOURCE[0]}")/oneentry_front.bash"
echo "# transport: $OE_TRANSPORT"

# The sink's dead letters, written by the core (host->dead_letter), one JSON
# line each: {"time","component","reason","event":{"time","meta","body"}},
# for the sink `oe` of pipeline() below (<state_dir>/<component>/).
DL="$TMP/state/oe/dead-letters.jsonl"

# ecurl ARGS...: curl for the test's own requests to the server under test.
ecurl() { curl -s --noproxy '*' --cacert "$TMP/cert.pem" "$@"; }

# serve_url PORT: point URL at this test's server listening on PORT, which
# speaks TLS itself for h1 (see tls_args, tls_env) and plain HTTP
# otherwise; for h2 an nghttpx front is started before it.
serve_url() {
    case $OE_TRANSPORT in
        h1) URL="https://127.0.0.1:$1" ;;
        http) URL="http://127.0.0.1:$1" ;;
        h2)
            start_front "$1"
            URL="https://127.0.0.1:$FRONT_PORT"
            ;;
    esac
}

# The test certificate (made once), and how a server is told to use it.
need_cert() { [ -s "$TMP/cert.pem" ] || make_cert "IP:127.0.0.1,DNS:localhost"; }
tls_args() { # the emulator's TLS flags for h1, none otherwise
    need_cert
    [ "$OE_TRANSPORT" != h1 ] || echo "--tls-cert $TMP/cert.pem --tls-key $TMP/key.pem"
}
tls_env() { # the environment for a Python stand-in (stub_http.py)
    need_cert
    [ "$OE_TRANSPORT" != h1 ] || echo "OE_STUB_CERT=$TMP/cert.pem OE_STUB_KEY=$TMP/key.pem"
}

# start_emu ARGS...: start the emulator on a free loopback port, recording
# accepted events to $TMP/events; sets EMU_PID, EMU_PORT and URL.
start_emu() {
    rm -f "$TMP/port"
    # shellcheck disable=SC2046 # tls_args is a list of words
    "$EMU" --listen 127.0.0.1:0 --port-file "$TMP/port" --events "$TMP/events" --quiet \
        $(tls_args) "$@" &
    EMU_PID=$!
    wait_for 10 test -s "$TMP/port" || fail "emulator did not start"
    EMU_PORT=$(cat "$TMP/port")
    serve_url "$EMU_PORT"
}

stop_emu() {
    kill "$EMU_PID" ${FRONT_PID:-} 2>/dev/null || true
    wait "$EMU_PID" ${FRONT_PID:-} 2>/dev/null || true
    FRONT_PID=""
}

control() { # control KEY=VALUE&...
    [ "$(ecurl -X POST "$URL/_control?$1")" = ok ] || fail "control $1 refused"
}

emu_stat() { # emu_stat NAME: one counter of /_stats
    ecurl "$URL/_stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}

lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }

# gen_input N FILE [BAD_EVERY]: N activity events as JSON lines, every one
# unique (its productId/pageId/query carries its number); every BAD_EVERY-th
# is invalid in a rotating way. Mixed types, user tokens, meta, unicode.
gen_input() {
    python3 - "$@" <<'PY'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
bad = int(sys.argv[3]) if len(sys.argv) > 3 else 0
faults = [
    lambda d: d.update(type="bogus_type"),
    lambda d: (d.pop("productId", None), d.pop("pageId", None), d.pop("query", None),
               d.update(type="product_add_to_cart")),
    lambda d: (d.pop("productId", None), d.pop("pageId", None), d.pop("query", None),
               d.update(type="page_view")),
    lambda d: (d.pop("productId", None), d.pop("pageId", None), d.pop("query", None),
               d.update(type="search")),
    lambda d: (d.pop("guest_id", None), d.pop("user_token", None)),
]
with open(path, "w", encoding="utf-8") as f:
    for i in range(1, n + 1):
        t = ["product_view", "page_view", "category_view", "search", "product_purchase"][i % 5]
        d = {"type": t, "guest_id": f"guest-{i % 97}", "path": "/ignored", "status": 200}
        if t.startswith("product_"): d["productId"] = i
        if t in ("page_view", "category_view"): d["pageId"] = i
        if t == "category_view": d["categoryId"] = -i
        if t == "search": d["query"] = f"q{i} \"quoted\" \\ tab\t é ✓ 😀"
        if i % 7 == 0: d["user_token"] = f"utok-{i}"
        if i % 11 == 0: d["meta"] = {"sourceBlock": "hdr", "n": i, "deep": [1, {"x": None}], "big": 2**62}
        if bad and i % bad == 0: faults[(i // bad) % len(faults)](d)
        f.write(json.dumps(d, ensure_ascii=False) + "\n")
PY
}

# pipeline FILE [EXTRA SINK OPTIONS as YAML flow items]: stdin -> parse json -> oneentry
# (env: DRAIN stop_drain_timeout, RETRY_MAX retry_max, CA_FILE the CA, empty for none)
# (ADMIN=1: with the admin endpoint on a free loopback port, see admin_url)
pipeline() {
    local extra=${2:-} admin="" ca=""
    if [ -n "${ADMIN:-}" ]; then admin=', admin: { listen: "127.0.0.1:0" }'; fi
    # The test CA, unless the test says otherwise (CA_FILE= for none).
    local cafile=${CA_FILE-$TMP/cert.pem}
    case $extra in *ca_file:* | *tls_verify:*) cafile="" ;; esac
    [ -z "$cafile" ] || ca=", ca_file: \"$cafile\""
    cat >"$1" <<YAML
service: { state_dir: $TMP/state, shutdown_timeout: 60s, log_level: ${LOG_LEVEL:-info}$admin }
sources:
  in: { plugin: stdin }
enrichers:
  ev: { plugin: parse, inputs: [in], format: json, keep_raw: false, time_key: "", request_key: "" }
sinks:
  oe: { plugin: oneentry, inputs: [ev], url: "$URL", token: "$TOKEN", retry_base: 20ms,
        retry_max: ${RETRY_MAX:-500ms}, auth_probe_interval: 300ms, stop_drain_timeout: ${DRAIN:-30s}$ca${extra:+, $extra} }
YAML
}

# check_delivered INPUT [MODE]: every valid input event is in $TMP/events
# with the exact body and identity; MODE exact (default) = each once,
# atleast = duplicates allowed (their number is printed).
check_delivered() {
    python3 - "$1" "$TMP/events" "${2:-exact}" "$(dirname "${BASH_SOURCE[0]}")" <<'PY'
import json, sys
from collections import Counter
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, sys.argv[4])
from oe_expect import expect, record_key
want = Counter(e for e in (expect(json.loads(l)) for l in open(sys.argv[1], encoding="utf-8")) if e)
got = Counter(record_key(json.loads(l))
              for l in open(sys.argv[2], encoding="utf-8")) if sys.argv[2] else Counter()
missing = want - got
extra = set(got) - set(want)
dups = sum((got - want).values())
if missing: sys.exit(f"{sum(missing.values())} events not delivered, e.g. {next(iter(missing))}")
if extra: sys.exit(f"{len(extra)} unexpected events, e.g. {next(iter(extra))}")
if sys.argv[3] == "exact" and dups: sys.exit(f"{dups} duplicates")
print(f"all {sum(want.values())} valid events delivered with exact bodies and identities, {dups} duplicates")
PY
}

# check_order INPUT: each identity's events reached the emulator in input
# order (order: per_visitor). A duplicate (resent after a crash) is judged
# by its first arrival only.
check_order() {
    python3 - "$1" "$TMP/events" "$(dirname "${BASH_SOURCE[0]}")" <<'PY'
import json, sys
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, sys.argv[3])
from oe_expect import expect, record_key
pos = {}
for n, l in enumerate(open(sys.argv[1], encoding="utf-8")):
    k = expect(json.loads(l))
    if k: pos[k] = n  # rejected events are never sent
last, seen, bad, ids = {}, set(), 0, set()
for l in open(sys.argv[2], encoding="utf-8"):
    e = json.loads(l)
    k = record_key(e)
    if k in seen: continue
    seen.add(k)
    ids.add(e["auth"])
    if pos[k] < last.get(e["auth"], -1): bad += 1
    last[e["auth"]] = pos[k]
if bad: sys.exit(f"{bad} events arrived before an earlier event of their visitor")
print(f"every visitor's events in input order ({len(ids)} identities)")
PY
}

# admin_url LOG: the admin endpoint's URL once the log names it.
admin_url() {
    wait_for 10 grep -q "admin endpoint on" "$1" || { cat "$1"; fail "admin did not start"; }
    echo "http://$(sed -n 's/.*admin endpoint on \(127.0.0.1:[0-9]*\).*/\1/p' "$1")"
}
