# sink_oneentry over HTTP/2: nghttpx on 127.0.0.1 offers h2 by ALPN in
# front of the emulator. The sink must speak HTTP/2 and multiplex: many
# requests in flight at once (the emulator holds each one a while and
# reports the most it had in progress) over a handful of TCP connections
# (distinct client ports in nghttpx's access log), and every event arrives.
# A server offering only HTTP/1.1 over TLS still gets many requests at once.
. "$(dirname "$0")/common.bash"
OE_TRANSPORT=http # this test puts its own TLS server or front before the sink
. "$(dirname "$0")/oneentry_helpers.bash"

N=3000
TOKEN=t0k
make_cert "IP:127.0.0.1"

# One guest per event, so no per-visitor ordering can hold requests back.
gen_input "$N" "$TMP/gen.jsonl"
python3 - "$TMP/gen.jsonl" "$TMP/in.jsonl" <<'PY'
import json, sys
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as out:
    for i, line in enumerate(src):
        d = json.loads(line)
        d.pop("user_token", None)
        d["guest_id"] = f"guest-{i}"
        out.write(json.dumps(d, ensure_ascii=False) + "\n")
PY

# run_through_front CONCURRENCY [NGHTTPX OPTIONS...]: deliver the input
# through a fresh emulator and front; sets PROTO ("alpn protocol" of every
# request), CONNS (TCP connections that carried requests) and PEAK.
run_through_front() {
    local conc=$1; shift
    : >"$TMP/events"
    : >"$TMP/front.log"
    rm -rf "$TMP/state"
    start_emu --latency-ms 50 --token "$TOKEN"
    local emu_url=$URL
    start_front "$(cat "$TMP/port")" "$@"
    URL="https://127.0.0.1:$FRONT_PORT"
    pipeline "$TMP/p.yaml" "ca_file: $TMP/cert.pem, concurrency: $conc"
    "$SLUICE" run "$TMP/p.yaml" --once <"$TMP/in.jsonl" 2>"$TMP/log" || { cat "$TMP/log"; fail "run"; }
    check_delivered "$TMP/in.jsonl" exact || { tail "$TMP/log"; fail "delivery through the front"; }
    # nghttpx logs a request once it has finished sending the answer, which
    # the sink may have read a moment before.
    wait_for 10 front_logged "$N" || fail "the front logged $(api_requests | wc -l) requests, not $N"
    PROTO=$(api_requests | awk '{print $2, $3}' | sort -u | tr '\n' ' ')
    CONNS=$(api_requests | awk '{print $1}' | sort -u | wc -l)
    PEAK=$(curl -s "$emu_url/_transport" |
        python3 -c "import json,sys; print(json.load(sys.stdin)['peak_inflight'])")
    echo "concurrency $conc: $N requests as ${PROTO}over $CONNS TCP connection(s), at most $PEAK in progress at once"
    kill "$FRONT_PID"; wait "$FRONT_PID" 2>/dev/null || true
    stop_emu
}
api_requests() { grep ' /api/content/user-activity ' "$TMP/front.log" || true; }
front_logged() { [ "$(api_requests | wc -l)" -ge "$1" ]; }

# 64 in flight fit in one connection's 100 streams (nghttpx's default).
run_through_front 64
[ "$PROTO" = "h2 HTTP/2 " ] || fail "requests not all HTTP/2: $PROTO"
ok "HTTP/2 negotiated by ALPN for every request"
[ "$PEAK" -ge 8 ] || fail "at most $PEAK requests were in flight at once"
[ "$CONNS" -eq 1 ] || fail "$CONNS TCP connections for 64 requests in flight: not multiplexed"
ok "multiplexed: $PEAK requests in flight at once over one TCP connection, all delivered"

# 256 in flight (the default max_concurrency) need 3 connections of 100
# streams; libcurl on its own opened one per request beyond the first 100.
run_through_front 256
[ "$PROTO" = "h2 HTTP/2 " ] || fail "requests not all HTTP/2: $PROTO"
[ "$PEAK" -ge 8 ] || fail "at most $PEAK requests were in flight at once"
[ "$CONNS" -le 3 ] || fail "$CONNS TCP connections for 256 requests in flight"
ok "beyond one connection's streams: $PEAK in flight over $CONNS TCP connections, all delivered"

# A TLS server without HTTP/2: one request per connection, and the sink must
# not stay within the HTTP/2 connection budget (3 would allow 3 at once).
run_through_front 256 --npn-list=http/1.1
[ "$PROTO" = "http/1.1 HTTP/1.1 " ] || fail "expected HTTP/1.1 only: $PROTO"
[ "$PEAK" -gt 3 ] || fail "over HTTP/1.1 at most $PEAK requests at once: the HTTP/2 budget stuck"
ok "HTTP/1.1 over TLS: $PEAK requests at once over $CONNS connections, all delivered"
finish
