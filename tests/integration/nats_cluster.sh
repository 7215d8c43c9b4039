# What the README recommends for production: a three-node JetStream cluster
# on 127.0.0.1 and a stream with replicas: 3. While an edge publishes (tail
# -> parse -> nats, all three URLs) and an aggregator reads (source nats ->
# file), the node that leads the stream is killed (-9). The stream and its
# consumer elect a new leader; the edge resends what had no PubAck, which
# the duplicate window drops; the aggregator goes on. Every line reaches
# the aggregator, the stream holds each once, and the killed node, started
# again, catches up.
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/nats_helpers.bash"

N=20000
NODES="1 2 3"
declare -A PID CPORT PORT MON

# Cluster ports are fixed per node (the routes name them); client and
# monitoring ports are picked by the server and read from its ports file.
read -r CPORT[1] CPORT[2] CPORT[3] < <(free_ports 3)

start_node() { # start_node I
    local i=$1 routes="" j
    for j in $NODES; do [ "$j" = "$i" ] || routes="${routes:+$routes,}nats://127.0.0.1:${CPORT[$j]}"; done
    mkdir -p "$TMP/n$i/ports"
    rm -f "$TMP/n$i"/ports/*
    nats-server -js -a 127.0.0.1 -p -1 -m -1 -n "n$i" --cluster_name sluice-test \
        --cluster "nats://127.0.0.1:${CPORT[$i]}" --routes "$routes" \
        -sd "$TMP/n$i/store" --ports_file_dir "$TMP/n$i/ports" -l "$TMP/n$i/server.log" &
    PID[$i]=$!
    wait_for 20 node_ports "$i" || { cat "$TMP/n$i/server.log"; fail "node n$i did not start"; }
}

node_ports() { # node_ports I: PORT and MON of node I, once its ports file exists
    read -r PORT[$1] MON[$1] < <(ports_of "$TMP/n$1/ports") || return 1
    [ -n "${PORT[$1]}" ] && [ -n "${MON[$1]}" ]
}

# on_node I CMD...: a nats_helpers query (jsz, stream_msgs, ...) against node I.
on_node() { local NATS_MON=${MON[$1]}; shift; "$@"; }

# The meta group (the cluster's JetStream API) has a leader, seen by node I.
meta_leader() { [ -n "$(on_node "$1" jsz "" "d.get('meta_cluster', {}).get('leader', '')" 2>/dev/null)" ]; }

kill_node() { kill -9 "${PID[$1]}" 2>/dev/null || true; wait "${PID[$1]}" 2>/dev/null || true; PID[$1]=""; }
cleanup_nats() { for i in $NODES; do [ -z "${PID[$i]:-}" ] || kill_node "$i"; done; }

for i in $NODES; do start_node "$i"; done
for i in $NODES; do
    wait_for 60 meta_leader "$i" || { cat "$TMP/n$i/server.log"; fail "n$i: no JetStream meta leader"; }
done
NATS_URL="nats://127.0.0.1:${PORT[1]},nats://127.0.0.1:${PORT[2]},nats://127.0.0.1:${PORT[3]}"
ok "three nats-server nodes formed a JetStream cluster on 127.0.0.1"

mkdir -p "$TMP/edge" "$TMP/agg"
: >"$TMP/edge/access.log"
edge_yaml "$TMP/edge/p.yaml" "$TMP/edge/access.log" "replicas: 3"
reader_yaml "$TMP/agg/p.yaml" "$TMP/agg/out.jsonl" agg "replicas: 3"
"$SLUICE" run "$TMP/edge/p.yaml" 2>"$TMP/edge/log" &
EDGE=$!
"$SLUICE" run "$TMP/agg/p.yaml" 2>"$TMP/agg/log" &
AGG=$!
# N lines over about 5 s, so the kill lands mid-stream.
gen_activity "$N" "$TMP/edge/access.log" 1 0.1 &
WRITER=$!

on_node 1 wait_for 60 stream_at_least 4000 || { cat "$TMP/edge/log"; fail "publishing did not start"; }
leader=$(on_node 1 jsz "streams=true" "streams['SLUICE']['cluster']['leader']")
replicas=$(on_node 1 jsz "streams=true" "1 + len(streams['SLUICE']['cluster'].get('replicas') or [])")
[ "$replicas" = 3 ] || fail "the stream has $replicas copies, expected 3"
victim=${leader#n}
case $victim in 1 | 2 | 3) ;; *) fail "stream leader '$leader' is not one of n1..n3" ;; esac
kill_node "$victim"
ok "the stream (3 copies) is being written; its leader $leader was killed (-9)"

live=1
[ "$victim" != 1 ] || live=2
wait "$WRITER" || fail "writer"
got_all() {
    # An aggregator that stopped will not get there: say why now, not in 180 s.
    kill -0 "$AGG" 2>/dev/null || { cat "$TMP/agg/log"; fail "the aggregator stopped during the leader change"; }
    [ "$(lines "$TMP/agg/out.jsonl")" -ge "$N" ] || return 1
    [ "$(ids_in "$TMP/agg/out.jsonl" | uniq | wc -l)" -eq "$N" ]
}
wait_for 180 got_all || {
    tail -n 20 "$TMP/edge/log" "$TMP/agg/log" "$TMP/n$live/server.log"
    echo "stream: $(on_node "$live" stream_msgs), consumer: pending $(on_node "$live" consumer_field SLUICE agg num_pending), ack pending $(on_node "$live" consumer_field SLUICE agg num_ack_pending)"
    fail "the aggregator has $(ids_in "$TMP/agg/out.jsonl" | uniq | wc -l) of $N distinct events"
}
on_node "$live" wait_for 60 stream_at_least "$N" || fail "the stream holds $(on_node "$live" stream_msgs) of $N"
held=$(on_node "$live" stream_msgs)
[ "$held" = "$N" ] || fail "the stream holds $held messages, expected each of $N once"
dups=$(($(lines "$TMP/agg/out.jsonl") - N))
echo "# aggregator: $N events, $dups delivered twice (redelivered after the leader change)"
grep -hiE "reconnect|leader|PubAck|timeout" "$TMP/edge/log" "$TMP/agg/log" | head -n 8 | sed 's/^/# /' || true
ok "every one of $N lines reached the aggregator ($dups twice); the stream holds each once"

kill -TERM "$EDGE" "$AGG"
wait "$EDGE" || { cat "$TMP/edge/log"; fail "the edge did not stop cleanly"; }
wait "$AGG" || { cat "$TMP/agg/log"; fail "the aggregator did not stop cleanly"; }
size=$(stat -c %s "$TMP/edge/access.log")
at=$(awk -v p="$TMP/edge/access.log" '$NF == p { print $3 }' "$TMP/edge/state/access/checkpoints")
[ "$at" = "$size" ] || fail "edge checkpoint at $at, not at the end ($size)"
ok "edge and aggregator stop cleanly; the edge's checkpoint is at the end of its log"

start_node "$victim"
on_node "$victim" wait_for 120 stream_at_least "$N" ||
    fail "restarted $leader holds $(on_node "$victim" stream_msgs) of $N"
ok "the killed node, started again, caught up: its copy holds all $N"
finish
