# Helpers for the NATS plugin tests (sourced after common.bash): a real
# nats-server with JetStream on 127.0.0.1, its store in $TMP, on free ports
# (client and monitoring), stopped at exit. The monitoring endpoint (/jsz)
# tells the tests what the stream and its consumers hold, so no NATS CLI is
# needed.
command -v nats-server >/dev/null || fail "nats-server missing (scripts/deps.sh installs it)"
NATS_DIR="$TMP/nats"
NATS_PID=""
NATS_PORT=""
NATS_MON=""

# ports_of DIR: "CLIENT MONITORING" ports from the ports file nats-server
# wrote in DIR (--ports_file_dir), read as JSON (a clustered server lists
# its cluster URL there too); fails while there is none.
ports_of() {
    local f
    f=$(ls "$1"/*.ports 2>/dev/null) || return 1
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(*[d[k][0].rsplit(":", 1)[1] for k in ("nats", "monitoring")])' "$f"
}

# free_ports N: N distinct free ports on 127.0.0.1 from below the kernel's
# ephemeral range. A server restarted on its old port (clients reconnect to
# the URL they know) leaves that port free meanwhile; a port the kernel
# hands out (another test's server on port 0, an emulator, a client) can
# never be one of these, so nothing else of the suite takes it in the gap
# (once, a concurrent test's nats-server did, and the clients of the
# restarted one published into both).
free_ports() {
    python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
got = []
while len(got) < n:
    p = random.randrange(max(1024, low - 12000), low)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    if p not in got:
        got.append(p)
print(*got)
PY
}

# start_nats: the server on free ports (free_ports), or on the ports it had
# before (a restart: clients reconnect to the same URL). Sets NATS_PID,
# NATS_PORT, NATS_MON and NATS_URL.
start_nats() {
    mkdir -p "$NATS_DIR/ports"
    rm -f "$NATS_DIR"/ports/*
    local try fresh=""
    [ -n "$NATS_PORT" ] || fresh=1
    for try in 1 2 3 4 5; do
        [ -z "$fresh" ] || read -r NATS_PORT NATS_MON < <(free_ports 2)
        nats-server -js -a 127.0.0.1 -p "$NATS_PORT" -m "$NATS_MON" \
            -sd "$NATS_DIR/store" --ports_file_dir "$NATS_DIR/ports" \
            -l "$NATS_DIR/server.log" &
        NATS_PID=$!
        if wait_for 10 nats_ready; then
            read -r NATS_PORT NATS_MON < <(ports_of "$NATS_DIR/ports")
            NATS_URL="nats://127.0.0.1:$NATS_PORT"
            return 0
        fi
        # Taken meanwhile by someone else: a first start tries other ports,
        # a restart waits for its own and tries again.
        kill "$NATS_PID" 2>/dev/null || true
        wait "$NATS_PID" 2>/dev/null || true
        sleep 0.5
    done
    cat "$NATS_DIR/server.log" >&2
    fail "nats-server did not start"
}

# The ports file is written once it listens; JetStream answers on /jsz.
nats_ready() {
    kill -0 "$NATS_PID" 2>/dev/null || return 1
    local port mon
    read -r port mon < <(ports_of "$NATS_DIR/ports") || return 1
    [ -n "$mon" ] && curl -sf --noproxy '*' "http://127.0.0.1:$mon/jsz" >/dev/null
}

# stop_nats [SIGNAL]: TERM by default; KILL for a crash.
stop_nats() {
    [ -n "$NATS_PID" ] || return 0
    kill -"${1:-TERM}" "$NATS_PID" 2>/dev/null || true
    wait "$NATS_PID" 2>/dev/null || true
    NATS_PID=""
}

# jsz QUERY PYTHON-EXPR: evaluate an expression over the /jsz answer
# (account details), e.g. jsz "streams=true" "stream('SLUICE')['messages']".
jsz() {
    curl -sf --noproxy '*' "http://127.0.0.1:$NATS_MON/jsz?$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
acc = (d.get("account_details") or [{}])[0]
streams = {s["name"]: s for s in acc.get("stream_detail") or []}
def stream(n): return streams[n]["state"] if n in streams else {"messages": 0}
def consumer(s, c):
    for x in (streams.get(s) or {}).get("consumer_detail") or []:
        if x["name"] == c: return x
    return None
print(eval(sys.argv[1]))' "$2"
}

# stream_msgs [STREAM]: messages the stream holds (0 when it does not exist).
stream_msgs() { jsz "streams=true" "stream('${1:-SLUICE}')['messages']"; }

# consumer_field STREAM DURABLE FIELD: num_ack_pending, num_pending,
# num_redelivered, ... of a consumer ("None" when it does not exist).
consumer_field() {
    jsz "consumers=true" "(consumer('$1', '$2') or {}).get('$3')"
}

# stream_at_least N [STREAM]: for wait_for.
stream_at_least() { [ "$(stream_msgs "${2:-SLUICE}")" -ge "$1" ] 2>/dev/null; }

# consumer_done STREAM DURABLE: nothing pending, nothing waiting for an ack.
consumer_done() {
    [ "$(consumer_field "$1" "$2" num_pending)" = 0 ] &&
        [ "$(consumer_field "$1" "$2" num_ack_pending)" = 0 ]
}

cleanup_nats() { stop_nats KILL; }
trap 'cleanup_nats; cleanup' EXIT

# gen_activity N FILE [FIRST [PAUSE]]: appends N activity events as JSON
# lines, productId FIRST..FIRST+N-1 (unique), over 97 guests, mixed types,
# and a time of their own (ts, epoch ms: parse makes it the event time, so a
# line read again is the same event, with the same Nats-Msg-Id). With PAUSE
# (seconds), 400 lines at a time with a pause between, as a busy log grows:
# run it in the background.
gen_activity() {
    python3 - "$1" "$2" "${3:-1}" "${4:-0}" <<'PY'
import json, sys, time
n, path, first, pause = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
types = ["product_view", "product_add_to_cart", "product_purchase"]
with open(path, "a", encoding="utf-8") as f:
    for i in range(first, first + n):
        f.write(json.dumps({"type": types[i % 3], "productId": i, "guest_id": f"guest-{i % 97}",
                            "ts": 1767225600000 + i}) + "\n")
        if pause and (i - first + 1) % 400 == 0:
            f.flush()
            time.sleep(pause)
PY
}

# ids_in FILE...: the productIds in JSON lines, one per line, sorted.
ids_in() {
    cat "$@" | python3 -c '
import json, sys
for l in sys.stdin:
    if l.strip(): print(json.loads(l)["productId"])' | sort -n
}

# admin_yaml: the service's admin endpoint on a free port when ADMIN=1.
admin_yaml() { [ -z "${ADMIN:-}" ] || echo ', admin: { listen: "127.0.0.1:0" }'; }

# edge_yaml FILE LOG [EXTRA SINK OPTIONS]: tail LOG -> parse json -> sink
# nats (subject SUBJECT or activity.{type}), state in $(dirname FILE)/state.
edge_yaml() {
    cat >"$1" <<YAML
service: { state_dir: $(dirname "$1")/state, shutdown_timeout: 20s, log_level: ${LOG_LEVEL:-info}$(admin_yaml) }
sources:
  access: { plugin: tail, paths: ["$2"], read_from: head, poll_interval: 20ms, checkpoint_interval: 100ms }
enrichers:
  ev: { plugin: parse, inputs: [access], format: json, keep_raw: false, time_key: ts,
        time_format: epoch_ms, request_key: "" }
sinks:
  js: { plugin: nats, inputs: [ev], url: "$NATS_URL", subject: "${SUBJECT:-activity.{type\}}",
        reconnect_wait: 50ms, ack_timeout: 1s${3:+, $3} }
YAML
}

# reader_yaml FILE OUT DURABLE [EXTRA SOURCE OPTIONS]: source nats (durable
# DURABLE, filter FILTER or activity.>) -> sink file OUT (bodies as JSON lines).
reader_yaml() {
    cat >"$1" <<YAML
service: { state_dir: $(dirname "$1")/state, shutdown_timeout: 20s, log_level: ${LOG_LEVEL:-info}$(admin_yaml) }
sources:
  in: { plugin: nats, url: "$NATS_URL", durable: $3, filter_subject: "${FILTER:-activity.>}",
        reconnect_wait: 50ms${4:+, $4} }
sinks:
  out: { plugin: file, inputs: [in], path: "$2", time_key: "" }
YAML
}

# metric LOG NAME COMPONENT: a counter of the process whose log is LOG
# (its admin endpoint, ADMIN=1); empty when absent.
metric() {
    local port
    port=$(sed -n 's/.*admin endpoint on 127.0.0.1:\([0-9]*\).*/\1/p' "$1" | head -n 1)
    [ -n "$port" ] || return 1
    curl -sf --noproxy '*' "http://127.0.0.1:$port/metrics" |
        sed -n "s/^sluice_$2_total{component=\"$3\"[^}]*} //p"
}

# read_all OUT: every message of SLUICE once more, through a fresh durable,
# into OUT (--once: it stops when nothing is left).
read_all() {
    local d="$TMP/readall.$RANDOM"
    mkdir -p "$d"
    reader_yaml "$d/p.yaml" "$1" "check$RANDOM"
    "$SLUICE" run "$d/p.yaml" --once 2>"$d/log" || { cat "$d/log"; fail "reading the stream back"; }
}

lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
