# Beyond one machine, end to end, with the shipped pipelines: two edges
# (pipelines/edge-to-nats.yaml, each tailing its own nginx log while a
# writer appends to it) publish to JetStream; three aggregators
# (pipelines/nats-to-oneentry.yaml, one durable consumer) deliver to the
# OneEntry emulator over HTTPS (its own TLS, a test CA). Mid-run one aggregator is killed (-9) and started
# again, and nats-server is killed (-9) and started again. Every event must
# reach the emulator at least once; duplicates are counted and must not
# exceed what JetStream had handed out and not had acknowledged at the two
# faults (the consumer's num_ack_pending then, plus a fetch per aggregator
# for what was on its way), plus what the killed nats-server forgot it had
# delivered: nats-server before 2.14 rewrites a consumer's state file in
# place, so a kill in the middle of that write restarts the consumer from
# the beginning (seen in CI: 16,939 duplicates of 20,000). Then the
# aggregators must say so ("went back from delivery"), and the deliveries
# they report repeated join the bound. Per-visitor order is measured and
# reported (across aggregators it is not guaranteed).
#
# CI size: E2E_EVENTS (default 20000, both edges together) at E2E_LATENCY_MS
# (default 5) of emulator latency, E2E_RATE lines/s per writer, E2E_WAIT s for
# the last delivery; bench/nats.sh runs the 200,000-event
# version at 20 ms.
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/oneentry_helpers.bash"
. "$(dirname "$0")/nats_helpers.bash"

TOTAL=${E2E_EVENTS:-20000}
PER_EDGE=$((TOTAL / 2))
RATE=${E2E_RATE:-2500}   # lines per second each writer appends
TOKEN=e2e-token
export SLUICE_GUEST_ID_KEY=e2e-guest-key-0123456789 NATS_ACK_WAIT=${E2E_ACK_WAIT:-10s} \
    NATS_STREAM=ACTIVITY NATS_DURABLE=oneentry NATS_REPLICAS=1

start_nats
start_emu --token "$TOKEN" --latency-ms "${E2E_LATENCY_MS:-5}" --threads 4
export NATS_URL ONEENTRY_URL="$URL" ONEENTRY_TOKEN="$TOKEN" ONEENTRY_CA_FILE="$TMP/cert.pem"
EDGE_YAML="$SL_SRC/pipelines/edge-to-nats.yaml"
AGG_YAML="$SL_SRC/pipelines/nats-to-oneentry.yaml"

# run_sluice NAME YAML: start sluice with its own state dir and an admin
# endpoint (the shipped file has none: a copy with one); sets PID_<NAME>.
run_sluice() {
    mkdir -p "$TMP/$1"
    sed 's/^  log_level: info$/  log_level: info\n  admin: { listen: "127.0.0.1:0" }/' "$2" >"$TMP/$1/p.yaml"
    SLUICE_STATE_DIR="$TMP/$1/state" "$SLUICE" run "$TMP/$1/p.yaml" 2>>"$TMP/$1/log" &
    eval "PID_$1=$!"
}
# unacked: what JetStream delivered and was not acknowledged yet, plus one
# fetch (256) per aggregator on its way: what a fault can make it send again.
unacked() { echo $(($(consumer_field ACTIVITY oneentry num_ack_pending) + 3 * 256)); }
# delivered_seq: the last stream sequence the consumer delivered (0: no
# consumer); cstate: that, the ack floor and what is pending, for the report.
delivered_seq() {
    jsz "consumers=true" "((consumer('ACTIVITY', 'oneentry') or {}).get('delivered') or {}).get('stream_seq', 0)"
}
cstate() {
    jsz "consumers=true" "(lambda c: c and 'delivered %d, ack floor %d, ack pending %d, redelivered %d' % (c['delivered']['stream_seq'], c['ack_floor']['stream_seq'], c['num_ack_pending'], c['num_redelivered']))(consumer('ACTIVITY', 'oneentry'))"
}

for a in a1 a2 a3; do run_sluice "$a" "$AGG_YAML"; done
up() { for a in a1 a2 a3; do grep -q "consumer oneentry" "$TMP/$a/log" || return 1; done; }
wait_for 30 up || { cat "$TMP"/a?/log; fail "aggregators did not start"; }

# The writers: visitor v of edge e is 10.e.(v/250).(v%250); productIds
# 1..PER_EDGE on edge 1, PER_EDGE+1.. on edge 2, in order within each log.
for e in 1 2; do
    mkdir -p "$TMP/e$e"
    : >"$TMP/e$e/access.log"
    NGINX_ACCESS_LOG="$TMP/e$e/access.log" run_sluice "e$e" "$EDGE_YAML"
    python3 - "$TMP/e$e/access.log" "$e" "$PER_EDGE" "$RATE" <<'PY' &
import sys, time
path, e, n, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
first = (e - 1) * n + 1
step = max(rate // 20, 1)
with open(path, "a") as f:
    for k in range(n):
        i, v = first + k, k % 300
        ts = time.strftime("%d/%b/%Y:%H:%M:%S", time.gmtime(1767225600 + k // 50))
        f.write(f'10.{e}.{v // 250}.{v % 250} - - [{ts} +0000] "GET /products/{i} HTTP/1.1" '
                f'200 512 "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"\n')
        if (k + 1) % step == 0:
            f.flush()
            time.sleep(0.05)
PY
    eval "W$e=$!"
done

delivered() { lines "$TMP/events"; }
at_least() { [ "$(delivered)" -ge "$1" ]; }

# Fault 1: kill -9 an aggregator a quarter of the way, start it again later.
wait_for 120 at_least $((TOTAL / 4)) || fail "only $(delivered) delivered before the first fault"
held_kill=$(unacked)
kill -KILL "$PID_a1"
wait "$PID_a1" 2>/dev/null || true
wait_for 120 at_least $((TOTAL * 2 / 5)) || fail "stalled after killing an aggregator"
run_sluice a1 "$AGG_YAML"

# Fault 2: kill -9 nats-server past half way, start it again.
wait_for 120 at_least $((TOTAL * 11 / 20)) || fail "stalled after restarting an aggregator"
held_restart=$(unacked)
# (A query that fails leaves its value empty: it is only compared when known.)
before=$(cstate) || before=""
seq_before=$(delivered_seq) || seq_before=""
stop_nats KILL
start_nats
after=$(cstate) || after=""
seq_after=$(delivered_seq) || seq_after=""
echo "# consumer at the NATS kill: ${before:-?}; after the restart: ${after:-?}"

wait "$W1" && wait "$W2" || fail "a writer failed"
all_in() {
    [ "$(sort -u "$TMP/events" | wc -l)" -ge "$TOTAL" ] && consumer_done ACTIVITY oneentry
}
wait_for "${E2E_WAIT:-180}" all_in || fail "$(sort -u "$TMP/events" | wc -l) distinct of $TOTAL delivered"
for p in e1 e2 a1 a2 a3; do
    kill -TERM "$(eval echo "\$PID_$p")"
    wait "$(eval echo "\$PID_$p")" || { cat "$TMP/$p/log"; fail "$p did not stop cleanly"; }
done
expect_in "$TMP/e1/log" "reconnected to NATS"

# Deliveries the consumer repeated because it went back (each aggregator
# says how far it saw it go; the furthest), and whether JetStream's own
# numbers show it lost its state: the stream sequence it delivered went
# back by more than the open pull requests (a fetch per aggregator) could
# have taken on their way, lost with the connection and seen by nobody.
repeated=$(sed -n 's/.*so up to \([0-9]*\) deliveries are repeated.*/\1/p' "$TMP"/a?/log |
    sort -n | tail -n 1)
if [ -n "$seq_before" ] && [ -n "$seq_after" ] && [ "$seq_after" -lt $((seq_before - 3 * 256)) ] &&
    [ -z "$repeated" ]; then
    fail "the consumer went back from stream sequence $seq_before to $seq_after at the NATS kill, and no aggregator said so"
fi
# What the consumer and the aggregators said at the faults, on a failure.
faults() {
    grep -h "consumer oneentry\|NATS" "$TMP"/a?/log | cut -c1-300
    grep -E "Restor|Recover|ERR|WRN" "$NATS_DIR/server.log" | cut -c1-300
}
python3 - "$TMP/events" "$TOTAL" "$held_kill" "$held_restart" "${repeated:-0}" <<'PY' || { faults; fail "delivery check"; }
import json, sys
from collections import Counter
path, total = sys.argv[1], int(sys.argv[2])
bound = sum(int(a or 0) for a in sys.argv[3:6])
seen, last, inv, visitors = Counter(), {}, 0, set()
for l in open(path):
    r = json.loads(l)
    i = r["body"]["productId"]
    seen[i] += 1
    if seen[i] > 1:
        continue
    who = r["auth"]
    visitors.add(who)
    if i < last.get(who, 0):
        inv += 1
    last[who] = max(last.get(who, 0), i)
missing = set(range(1, total + 1)) - set(seen)
if missing:
    sys.exit(f"{len(missing)} events never delivered, e.g. {sorted(missing)[:5]}")
dups = sum(seen.values()) - total
print(f"# {total} events from 2 edges via 3 aggregators: all delivered, {dups} duplicates "
      f"(bound {bound}: unacknowledged at the kill {sys.argv[3]} + at the NATS "
      f"restart {sys.argv[4]} + repeated by a consumer that went back {sys.argv[5]}), "
      f"{inv} of {total} first arrivals before an earlier event of their "
      f"visitor ({len(visitors)} visitors)")
if dups > bound:
    sys.exit(f"{dups} duplicates exceed the bound {bound}")
PY
ok "2 edges, 3 aggregators, kill -9 of an aggregator, kill -9 of nats-server: all $TOTAL delivered, duplicates within the bound"
finish
