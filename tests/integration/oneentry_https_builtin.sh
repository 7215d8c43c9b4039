# sink_oneentry's built-in HTTP/1.1 client over TLS (http_client: builtin,
# oe_tls.c), against stub_h1.py --tls on 127.0.0.1 with a throwaway
# certificate given as ca_file:
#  a. pipeline: 4, 16 in flight, answers of every shape (chunked, 1xx,
#     "Connection: close", bodies ended by closing, with and without
#     close_notify): each event once, in order per visitor, no warning;
#  b. events of 70 KiB to 400 KiB among small ones: no TLS write carries
#     such a request whole; each event once with its exact body, no
#     connection given up (the server never closes one). Then again with
#     8 KiB TCP send buffers (as root, in a private network namespace), where
#     the writes wait for room mid-record;
#  c. a server that closes connections idle for 0.5 s (every other one with
#     close_notify), two batches 1.5 s apart: each event once, 0 retries;
#  d. a server that takes the TCP connection but never answers the TLS
#     handshake (connect_timeout: 1s): the run does not hang, the events are
#     spooled, and delivered once the server answers;
#  e. one connection at a time to a server that ends every other one: most
#     reconnections resume the TLS session (the server's
#     SSLSocket.session_reused).
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/oneentry_helpers.bash"
. "$(dirname "$0")/stub_h1.bash"
command -v openssl >/dev/null || fail "openssl missing (scripts/deps.sh installs it)"
TOKEN=t0k

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
    2>"$TMP/openssl.log" || { cat "$TMP/openssl.log"; fail "openssl req"; }
TLS_OPTS="http_client: builtin, ca_file: $TMP/cert.pem"
STUB_CERT=$TMP/cert.pem STUB_KEY=$TMP/key.pem RUN_TIMEOUT=30

# As root, the test runs in a private network namespace (its own loopback),
# where b. can shrink TCP send buffers without touching the host's.
if [ -z "${SL_IN_NET_NS:-}" ] && [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null &&
    unshare -n true 2>/dev/null; then
    rm -rf "$TMP" # exec skips the exit trap
    SL_IN_NET_NS=1 exec unshare -n bash "$0" "$@"
fi
[ -z "${SL_IN_NET_NS:-}" ] || ip link set lo up || fail "cannot bring up lo in the network namespace"

tls_conns() { echo $(( $(notes full) + $(notes resumed) )); }

# run_fed YAML LOG: a run reading $TMP/fifo, fed on fd 7; sets PID.
run_fed() {
    rm -f "$TMP/fifo" && mkfifo "$TMP/fifo"
    timeout 40 "$SLUICE" run "$1" --once <"$TMP/fifo" 2>"$2" &
    PID=$!
    exec 7>"$TMP/fifo"
}
# end_fed LOG: close the input; the run must end by itself, successfully.
end_fed() {
    exec 7>&-
    wait_for 20 gone "$PID" || { cat "$1" >&2; fail "run did not end after its input"; }
    wait "$PID" || { cat "$1" >&2; fail "run exited non-zero"; }
}

# ---------------------------------------------------------------------------
# a. pipelining over TLS, answers of every shape
rm -rf "$TMP/state"
gen_input 240 "$TMP/ina.jsonl"
start_stub vary
pipeline "$TMP/pa.yaml" "$TLS_OPTS, concurrency: 16, max_concurrency: 16, pipeline: 4"
run_once "$TMP/pa.yaml" "$TMP/ina.jsonl" "$TMP/loga"
stop_stub
expect_in "$TMP/loga" "sending with the built-in HTTP/1.1 client"
check_delivered "$TMP/ina.jsonl" exact || { cat "$TMP/loga" >&2; fail "pipelined delivery over TLS"; }
check_order "$TMP/ina.jsonl" || fail "per-visitor order over TLS"
quiet "$TMP/loga"
no_dead_letters
[ "$(notes bad)" -eq 0 ] || fail "the stub refused $(notes bad) requests"
[ "$(notes pipelined)" -ge 1 ] || fail "pipeline: 4 never had a request waiting behind another"
ok "TLS, pipeline: 4, 16 in flight, chunked/1xx/Connection: close/bodies to the close: each event once, in order, no warning ($(notes pipelined) answers had a request queued behind, $(tls_conns) TLS connections)"

# ---------------------------------------------------------------------------
# b. requests larger than one TLS write; then with 8 KiB TCP send buffers
gen_input 160 "$TMP/small.jsonl"
python3 - "$TMP/small.jsonl" "$TMP/inb.jsonl" <<'PY'
import json, sys
# Every 5th event carries a long string in meta: 70 KiB to 400 KiB of JSON
# (a TLS record holds 16 KiB, one write of the client at most 64 KiB),
# non-ASCII text and escapes included; each string is unique.
src, dst = sys.argv[1], sys.argv[2]
unit = "é✓😀 \"q\" \\ tab\t line\n <>&' "
with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
    for i, line in enumerate(f, 1):
        d = json.loads(line)
        if i % 5 == 0:
            size = 70 * 1024 + (i * 37 % 330) * 1024
            parts, n, k = [], 0, 0
            while n < size:
                parts.append(f"{i}:{k}:{unit}")
                n += len(parts[-1].encode())
                k += 1
            d["meta"] = {"n": i, "blob": "".join(parts)}
        out.write(json.dumps(d, ensure_ascii=False) + "\n")
PY
big=$(LC_ALL=C awk 'length($0) > 65536' "$TMP/inb.jsonl" | wc -l)
[ "$big" -eq 32 ] || fail "$big events above 64 KiB, expected 32"
for buffers in default small; do
    what="default TCP buffers"
    if [ "$buffers" = small ]; then
        # On loopback the send buffer grows to megabytes and no write ever
        # waits. With 8 KiB nearly every TLS record does: the write would
        # block with the record half in the socket, and is retried.
        wmem=$(sysctl -n net.ipv4.tcp_wmem 2>/dev/null || true)
        if [ -z "${SL_IN_NET_NS:-}" ] || ! sysctl -q -w net.ipv4.tcp_wmem="4096 8192 8192" 2>/dev/null; then
            echo "note: no private network namespace (needs root): 8 KiB send buffers not tried"
            continue
        fi
        what="8 KiB TCP send buffers"
    fi
    rm -rf "$TMP/state"
    start_stub keep
    pipeline "$TMP/pb.yaml" "$TLS_OPTS, concurrency: 16, max_concurrency: 16, pipeline: 4"
    run_once "$TMP/pb.yaml" "$TMP/inb.jsonl" "$TMP/logb"
    stop_stub
    [ "$buffers" = default ] || sysctl -q -w net.ipv4.tcp_wmem="$wmem"
    check_delivered "$TMP/inb.jsonl" exact || { cat "$TMP/logb" >&2; fail "$what: delivery of large events over TLS"; }
    quiet "$TMP/logb"
    no_dead_letters
    [ "$(notes bad)" -eq 0 ] || fail "$what: the stub refused $(notes bad) requests (invalid, or cut short by the client's close)"
    # 16 in flight at pipeline: 4 is 4 connections; the server closes none,
    # so a fifth means the client gave up a healthy one.
    [ "$(tls_conns)" -le 4 ] || fail "$what: $(tls_conns) TLS connections to a server that never closes one (at most 4 expected)"
    ok "$what: 32 events of 70-400 KiB among 128 small ones: each delivered once, byte-exact, over $(tls_conns) connections, no warning"
done

# ---------------------------------------------------------------------------
# c. idle TLS connections closed by the server (with and without close_notify)
rm -rf "$TMP/state"
gen_input 120 "$TMP/inc.jsonl"
head -n 60 "$TMP/inc.jsonl" >"$TMP/c1.jsonl"
tail -n 60 "$TMP/inc.jsonl" >"$TMP/c2.jsonl"
start_stub idle
ADMIN=1 pipeline "$TMP/pc.yaml" "$TLS_OPTS, concurrency: 4"
run_fed "$TMP/pc.yaml" "$TMP/logc"
cat "$TMP/c1.jsonl" >&7
wait_for 20 delivered_n 60 || { cat "$TMP/logc"; fail "first batch: $(lines "$TMP/events") of 60 delivered"; }
sleep 1.5 # every connection idle for longer than the server keeps one
first_conns=$(tls_conns)
cat "$TMP/c2.jsonl" >&7
wait_for 20 delivered_n 120 || { cat "$TMP/logc"; fail "second batch: $(lines "$TMP/events") of 120 delivered"; }
A=$(admin_url "$TMP/logc")
counter() { curl -sf "$A/metrics" | sed -n "s/^sluice_$1_total{component=\"oe\"[^}]*} //p"; }
delivered_all() { [ "$(counter events_delivered)" = 120 ]; }
wait_for 10 delivered_all || fail "events_delivered $(counter events_delivered), expected 120"
retries=$(counter retries)
end_fed "$TMP/logc"
stop_stub
check_delivered "$TMP/inc.jsonl" exact || fail "delivery across idle TLS closes"
[ "${retries:-0}" -eq 0 ] || fail "$retries failed requests (retries) across idle TLS closes"
quiet "$TMP/logc"
no_dead_letters
later_conns=$(( $(tls_conns) - first_conns ))
[ "$later_conns" -ge 1 ] || fail "no new TLS connection for the second batch: idle closes untested"
ok "TLS connections closed when idle (close_notify or not), 1.5 s between batches: each event once, 0 retries, no warning ($later_conns new connections)"

# ---------------------------------------------------------------------------
# d. the TCP connection is taken, the TLS handshake never answered
rm -rf "$TMP/state"
head -n 80 "$TMP/ina.jsonl" >"$TMP/ind.jsonl"
start_stub mute
pipeline "$TMP/pd.yaml" "$TLS_OPTS, concurrency: 4, max_concurrency: 4, connect_timeout: 1s"
run_fed "$TMP/pd.yaml" "$TMP/logd"
cat "$TMP/ind.jsonl" >&7
spooling() { grep -q "events go to the spool" "$TMP/logd"; }
wait_for 20 spooling || { cat "$TMP/logd"; fail "not spooling while the TLS handshake goes unanswered"; }
expect_in "$TMP/logd" "connection timed out after 1000 ms"
[ "$(notes muted)" -ge 1 ] || fail "no connection reached the server with its first bytes"
[ "$(lines "$TMP/events")" -eq 0 ] || fail "events delivered through an unanswered handshake"
muted=$(notes muted)
touch "$TMP/go" # the server answers from now on
wait_for 20 delivered_n 80 || { cat "$TMP/logd"; fail "$(lines "$TMP/events") of 80 delivered once the server answered"; }
end_fed "$TMP/logd"
stop_stub
check_delivered "$TMP/ind.jsonl" exact || fail "delivery after unanswered TLS handshakes"
no_dead_letters
expect_in "$TMP/logd" "OneEntry answers again"
ok "TLS handshake never answered (connect_timeout: 1s, $muted connections held): spooled, then all 80 delivered once"

# ---------------------------------------------------------------------------
# e. TLS sessions resumed on reconnection: one connection at a time, to a
#    server that ends every other one after an answer ("Connection: close"
#    or a body ended by the close): each new connection follows the close of
#    the one before, and should offer its session ticket.
rm -rf "$TMP/state"
head -n 60 "$TMP/ina.jsonl" >"$TMP/ine.jsonl"
start_stub vary
pipeline "$TMP/pe.yaml" "$TLS_OPTS, concurrency: 1, max_concurrency: 1"
run_once "$TMP/pe.yaml" "$TMP/ine.jsonl" "$TMP/loge"
stop_stub
check_delivered "$TMP/ine.jsonl" exact || { cat "$TMP/loge" >&2; fail "delivery, one connection at a time"; }
quiet "$TMP/loge"
reconnects=$(( $(tls_conns) - 1 ))
[ "$reconnects" -ge 20 ] || fail "only $reconnects reconnections: resumption untested"
[ $(( 2 * $(notes resumed) )) -ge "$reconnects" ] ||
    fail "$(notes resumed) of $reconnects reconnections resumed the TLS session ($(notes full) full handshakes)"
ok "TLS session resumed on $(notes resumed) of $reconnects reconnections (SSLSocket.session_reused)"
finish
