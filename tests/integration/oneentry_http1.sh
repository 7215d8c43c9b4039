# sink_oneentry's built-in HTTP/1.1 client (oe_h1.c) at its edges, against
# real servers on 127.0.0.1:
#  a. pipelining (pipeline: 8, 32 in flight over 4 connections) with resets,
#     5xx, 429 and latency from the emulator: each event once, in order per
#     visitor; strace shows requests sent before earlier ones were answered;
#  b. answers of every shape (stub_h1.py vary): chunked, 1xx interim,
#     "Connection: close", bodies delimited by the connection's end;
#  c. a server that closes idle connections, and one that drops a request
#     arriving on a connection it is about to close: resent, never a failure;
#  d. a server that never answers (timeout: 1s): retried, the run ends;
#  e. nothing listening, then the server comes up: spooled, then delivered;
#  f. http_client: curl still delivers; the log says which client ran.
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/oneentry_helpers.bash"
. "$(dirname "$0")/stub_h1.bash"
TOKEN=t0k

# open_fifo: a fresh $TMP/fifo, stdin of a run fed in batches (on fd 7).
open_fifo() {
    rm -f "$TMP/fifo" && mkfifo "$TMP/fifo"
}

# ---------------------------------------------------------------------------
# a. pipelining against the emulator's faults
start_emu --token "$TOKEN"
gen_input 600 "$TMP/in.jsonl"
SCRIPT="200,503,reset,200,429:0,503,slow:40,200,reset,500,429:0,slow:25,reset,503,200"
SCRIPT="$SCRIPT,reset,429:0,slow:60,503,reset,200,502,reset,429:0"
RESETS=$(tr , '\n' <<<"$SCRIPT" | grep -cx reset)
FAULTS=$(tr , '\n' <<<"$SCRIPT" | grep -cv '^200$\|^slow:')
control "latency_ms=3&script=$SCRIPT"
emu_conns() { curl -s "$URL/_transport" | python3 -c "import json,sys; print(json.load(sys.stdin)['connections'])"; }
conns_before=$(emu_conns)
pipeline "$TMP/pa.yaml" "concurrency: 32, max_concurrency: 32, pipeline: 8"
# strace (scripts/deps.sh) records the client's socket traffic, to show
# pipelining from the outside. LeakSanitizer cannot run under ptrace.
STRACE=(strace -f -ff -qq -e signal=none -xx -s 1048576 -o "$TMP/st"
        -e trace=sendmsg,sendto,write,writev,recvfrom,recvmsg,read,readv,close,connect)
if strace --seccomp-bpf -f -o /dev/null true 2>/dev/null; then STRACE+=(--seccomp-bpf); fi
if ! "${STRACE[@]}" true 2>/dev/null; then
    echo "note: strace cannot trace here; pipelining is judged by the connection count only"
    STRACE=()
fi
rm -f "$TMP"/st.*
rc=0
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" timeout 60 \
    "${STRACE[@]}" "$SLUICE" run "$TMP/pa.yaml" --once <"$TMP/in.jsonl" 2>"$TMP/loga" || rc=$?
[ "$rc" -eq 0 ] || { cat "$TMP/loga" >&2; fail "pipelined run exited $rc"; }
conns=$(( $(emu_conns) - conns_before - 1 )) # that request's own connection counts
expect_in "$TMP/loga" "sending with the built-in HTTP/1.1 client"
check_delivered "$TMP/in.jsonl" exact || { cat "$TMP/loga" >&2; fail "pipelined delivery with faults"; }
check_order "$TMP/in.jsonl" || fail "per-visitor order with pipelining"
no_dead_letters
[ "$(emu_stat injected)" -eq "$FAULTS" ] || fail "$(emu_stat injected) of the script's $FAULTS faults injected"
ok "pipeline: 8, 32 in flight, $RESETS resets, 503/500/502, 429 and slow answers: each event once, in order per visitor"

# The client may open max_concurrency / pipeline = 4 connections, and one
# more after each reset took one down; 32 requests in flight over them.
[ "$conns" -le $((4 + RESETS)) ] || fail "$conns connections for 4 + $RESETS resets"
if [ ${#STRACE[@]} -gt 0 ]; then
    # Per connection: requests written minus answers read. Pipelined when a
    # write leaves 2 or more unanswered (an answer cut between two reads is
    # counted at its first piece, so this never overstates).
    depth=$(python3 - "$TMP"/st.* <<'PY'
import re, sys
call = re.compile(r'^(\w+)\((\d+),(.*)\) += (-?\d+)')
strs = re.compile(r'"((?:\\x[0-9a-f]{2})*)"')
status = b"HTTP/1."
best = 0
for path in sys.argv[1:]:
    sent, got = {}, {}
    for line in open(path, encoding="ascii", errors="replace"):
        m = call.match(line)
        if not m:
            continue
        name, fd, args, ret = m.group(1), int(m.group(2)), m.group(3), int(m.group(4))
        if name in ("close", "connect"):
            sent[fd] = got[fd] = 0
            continue
        if ret <= 0:
            continue
        data = b"".join(bytes.fromhex(s.replace("\\x", "")) for s in strs.findall(args))[:ret]
        if name.startswith(("send", "write")):
            sent[fd] = sent.get(fd, 0) + data.count(b" HTTP/1.1\r\nHost: ")
            best = max(best, sent[fd] - got.get(fd, 0))
        elif sent.get(fd):
            n = data.count(status)
            n += any(data.endswith(status[:k]) for k in range(1, len(status)))
            got[fd] = got.get(fd, 0) + n
print(best)
PY
)
    [ "$depth" -ge 2 ] || fail "no request was sent before the one ahead of it was answered (deepest $depth)"
    ok "pipelined: up to $depth requests unanswered on one connection (strace), $conns connections in all"
else
    ok "$conns connections carried 32 requests in flight"
fi
stop_emu

# ---------------------------------------------------------------------------
# b. answers of every shape
gen_input 240 "$TMP/inb.jsonl"
for pl in 1 4; do
    rm -rf "$TMP/state"
    start_stub vary
    pipeline "$TMP/pb.yaml" "concurrency: 8, max_concurrency: 8, pipeline: $pl"
    run_once "$TMP/pb.yaml" "$TMP/inb.jsonl" "$TMP/logb"
    stop_stub
    check_delivered "$TMP/inb.jsonl" exact || { cat "$TMP/logb" >&2; fail "pipeline $pl: delivery with varied answers"; }
    check_order "$TMP/inb.jsonl" || fail "pipeline $pl: order with varied answers"
    quiet "$TMP/logb"
    no_dead_letters
    [ "$(notes bad)" -eq 0 ] || fail "the stub refused $(notes bad) requests"
    if [ "$pl" = 1 ]; then
        # Nothing lost, nothing resent: one request per event.
        [ "$(notes request)" -eq 240 ] || fail "$(notes request) requests for 240 events"
        [ "$(notes pipelined)" -eq 0 ] || fail "pipeline: 1 sent $(notes pipelined) requests early"
        ok "chunked, 1xx interim, Connection: close, bodies to EOF (HTTP/1.0 and 1.1): 240 events in 240 requests, no warning"
    else
        [ "$(notes pipelined)" -ge 1 ] || fail "pipeline: 4 never had a request waiting behind another"
        ok "the same with pipeline: 4 ($(notes pipelined) answers had the next request queued behind, $(notes request) requests): each event once, no warning"
    fi
done

# ---------------------------------------------------------------------------
# c. idle keep-alive connections closed by the server
rm -rf "$TMP/state"
gen_input 120 "$TMP/inc.jsonl"
head -n 60 "$TMP/inc.jsonl" >"$TMP/c1.jsonl"
tail -n 60 "$TMP/inc.jsonl" >"$TMP/c2.jsonl"
start_stub idle
ADMIN=1 pipeline "$TMP/pc.yaml" "concurrency: 4"
open_fifo
"$SLUICE" run "$TMP/pc.yaml" --once <"$TMP/fifo" 2>"$TMP/logc" &
PID=$!
exec 7>"$TMP/fifo"
cat "$TMP/c1.jsonl" >&7
wait_for 20 delivered_n 60 || { cat "$TMP/logc"; fail "first batch: $(lines "$TMP/events") of 60 delivered"; }
sleep 1.5 # every connection idle for longer than the server keeps one
cat "$TMP/c2.jsonl" >&7
wait_for 20 delivered_n 120 || { cat "$TMP/logc"; fail "second batch: $(lines "$TMP/events") of 120 delivered"; }
A=$(admin_url "$TMP/logc")
counter() { curl -sf "$A/metrics" | sed -n "s/^sluice_$1_total{component=\"oe\"[^}]*} //p"; }
delivered_all() { [ "$(counter events_delivered)" = 120 ]; }
wait_for 10 delivered_all || fail "events_delivered $(counter events_delivered), expected 120"
retries=$(counter retries)
exec 7>&-
wait_for 30 gone "$PID" || fail "run did not end after its input"
wait "$PID" || { cat "$TMP/logc" >&2; fail "idle run exited non-zero"; }
stop_stub
check_delivered "$TMP/inc.jsonl" exact || fail "delivery across idle closes"
[ "$(notes lost)" -ge 1 ] || fail "the stub never dropped a request on an idle connection: resend untested"
[ "${retries:-0}" -eq 0 ] || fail "$retries failed requests (retries) across idle closes"
quiet "$TMP/logc"
ok "server-closed idle connections, $(notes lost) request(s) dropped as the server closed: resent at once, 0 retries, each event once"

# ---------------------------------------------------------------------------
# d. no answer at all: timeout
rm -rf "$TMP/state"
head -n 40 "$TMP/in.jsonl" >"$TMP/ind.jsonl"
start_stub hang
pipeline "$TMP/pd.yaml" "concurrency: 4, max_concurrency: 4, pipeline: 2, timeout: 1s"
run_once "$TMP/pd.yaml" "$TMP/ind.jsonl" "$TMP/logd"
check_delivered "$TMP/ind.jsonl" exact || { cat "$TMP/logd" >&2; fail "delivery after timeouts"; }
stop_stub
[ "$(notes hung)" -eq 2 ] || fail "$(notes hung) requests hung, expected 2"
# Closed at the timeout, not at exit: the retries and the events stuck
# behind the hung ones came after both connections were closed.
after=$(awk '/^released$/ { n = 0; r++ } /^request$/ { n++ } END { print (r == 2 ? n : -1) }' "$TMP/notes")
[ "$after" -ge 10 ] || fail "hung connections not closed at the timeout ($after requests after; notes: $(tr '\n' ' ' <"$TMP/notes" | tail -c 300))"
no_dead_letters
ok "2 requests never answered: their connections closed at the 1 s timeout, retried; each event once, the run ended"

# ---------------------------------------------------------------------------
# e. nothing listening yet, then the server comes up
rm -rf "$TMP/state"
head -n 200 "$TMP/in.jsonl" >"$TMP/ine.jsonl"
start_emu --token "$TOKEN" # only to find a free port
PORT=$(cat "$TMP/port")
stop_emu
: >"$TMP/events"
URL="http://127.0.0.1:$PORT"
pipeline "$TMP/pe.yaml" "concurrency: 8, max_concurrency: 8, pipeline: 4"
open_fifo
"$SLUICE" run "$TMP/pe.yaml" --once <"$TMP/fifo" 2>"$TMP/loge" &
PID=$!
exec 7>"$TMP/fifo"
cat "$TMP/ine.jsonl" >&7
spooling() { grep -q "events go to the spool" "$TMP/loge"; }
wait_for 20 spooling || { cat "$TMP/loge"; fail "not spooling while nothing listens"; }
expect_in "$TMP/loge" "Connection refused"
rm -f "$TMP/port"
"$EMU" --listen "127.0.0.1:$PORT" --port-file "$TMP/port" --events "$TMP/events" --token "$TOKEN" --quiet 7>&- &
EMU_PID=$!
wait_for 10 test -s "$TMP/port" || fail "emulator did not start on port $PORT"
wait_for 30 delivered_n 200 || { cat "$TMP/loge"; fail "$(lines "$TMP/events") of 200 delivered once the server was up"; }
exec 7>&-
wait_for 30 gone "$PID" || fail "run did not end after its input"
wait "$PID" || { cat "$TMP/loge" >&2; fail "run exited non-zero"; }
check_delivered "$TMP/ine.jsonl" exact || fail "delivery after connection refused"
no_dead_letters
expect_in "$TMP/loge" "OneEntry answers again"
ok "connection refused: spooled; the server came up on the port: all 200 delivered once"

# ---------------------------------------------------------------------------
# f. libcurl on demand
rm -rf "$TMP/state"
: >"$TMP/events"
head -n 100 "$TMP/in.jsonl" >"$TMP/inf.jsonl"
pipeline "$TMP/pf.yaml" "concurrency: 8, http_client: curl"
run_once "$TMP/pf.yaml" "$TMP/inf.jsonl" "$TMP/logf"
expect_in "$TMP/logf" "sending with libcurl"
! grep -q "built-in HTTP/1.1 client" "$TMP/logf" || fail "http_client: curl ran the built-in client"
check_delivered "$TMP/inf.jsonl" exact || fail "delivery with libcurl"
ok "http_client: curl: 'sending with libcurl', 100 delivered once"
stop_emu
finish
