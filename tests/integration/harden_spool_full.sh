# Resource limits: the OneEntry sink's spool on a full disk. OneEntry is down,
# so every event goes to the spool, and the spool's disk is far too small for
# the input. sluice must say "No space left on device", keep running, stop
# acknowledging the source (the tail checkpoint never covers an event that is
# not in the spool), keep the spool files readable, and, once OneEntry is
# back, deliver every input event. Then the same with kill -9 while the disk
# is full, and a restart: still every event, duplicates only for what was in
# the spool and not yet acknowledged.
#
# The small tmpfs is mounted on the sink's own state directory (state_dir/oe,
# where the spool lives), in a private mount namespace, so the test needs root
# (as in CI's container); elsewhere it says so and skips. The tail source's
# checkpoint stays on the ordinary disk beside it: a checkpoint that cannot be
# written would stop advancing whatever the sink did, and hide the thing under
# test (checkpoints on a full state_dir are harden_diskfull.sh).
# transports: h1 h2
. "$(dirname "$0")/common.bash"
need_mount_ns "$@"
. "$(dirname "$0")/oneentry_helpers.bash"

# The 512 KiB spool holds under 3,000 records. Run 1: 8,000 events and a
# queue that can hold all of them unacknowledged, so the tail source is not
# blocked and its checkpoint shows exactly what the sink acknowledged. Run 2:
# 40,000 events and a small queue, so the source is held back.
N1=8000
N2=${OE_SPOOL_FULL_EVENTS:-40000}
FIRST=200 # written first, and acknowledged through the spool, before the rest
TOKEN=t0k
mkdir -p "$TMP/state/oe" "$TMP/logs"
mount_small_fs "$TMP/state/oe" 512k

start_emu --token "$TOKEN"
gen_input $((N1 + N2)) "$TMP/all.jsonl" # unique events: a.log gets the first N1, b.log the rest
head -n "$N1" "$TMP/all.jsonl" >"$TMP/a.in"
tail -n +$((N1 + 1)) "$TMP/all.jsonl" >"$TMP/b.in"
# Small batches, so the checkpoint moves in small steps and says precisely
# how much the sink has acknowledged. A batch's bytes count against the
# queue until the sink acknowledges it.
pipeline_yaml() { # pipeline_yaml QUEUE_MAX_BYTES
    cat >"$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state, queue_max_bytes: $1, shutdown_timeout: 30s }
sources:
  t: { plugin: tail, paths: [$TMP/logs/*.log], read_from: head, checkpoint_interval: 100ms,
       refresh_interval: 100ms, batch_max_events: 64 }
enrichers:
  ev: { plugin: parse, inputs: [t], format: json, keep_raw: false, time_key: "", request_key: "" }
sinks:
  oe: { plugin: oneentry, inputs: [ev], url: "$URL", token: "$TOKEN", retry_base: 20ms,
        retry_max: 500ms, stop_drain_timeout: 5s, ca_file: "$TMP/cert.pem" }
YAML
}
CK=$TMP/state/t/checkpoints
SPOOL=$TMP/state/oe/spool

start() { # start LOG: run sluice in the background, PID set
    "$SLUICE" run "$TMP/p.yaml" 2>"$1" &
    PID=$!
    RUNLOG=$1
}
alive() { kill -0 "$PID" 2>/dev/null || fail "sluice exited: $(tail -n 5 "$RUNLOG")"; }
# ck_offset FILE: bytes of FILE the tail checkpoint says are done (0 before the first)
ck_offset() {
    local o
    o=$(awk -v p="$1" '!/^#/ && $8 == p {print $3}' "$CK" 2>/dev/null || true)
    echo "${o:-0}"
}
# acked_lines FILE OFFSET: input lines wholly before OFFSET
acked_lines() { head -c "$2" "$1" | wc -l; }

# spool_check: every segment file is a clean sequence of valid records
# (framing and CRC-32 as documented in oe_spool.h); prints how many.
spool_check() {
    python3 - "$SPOOL" <<'PY'
import glob, struct, sys, zlib
n = 0
for path in sorted(glob.glob(sys.argv[1] + "/seg-*.oes")):
    data = open(path, "rb").read()
    off = 0
    while off < len(data):
        if len(data) - off < 12:
            sys.exit(f"torn: {path} ends {len(data) - off} bytes into a header")
        magic, (ln, crc) = data[off:off + 4], struct.unpack("<II", data[off + 4:off + 12])
        body = data[off + 12:off + 12 + ln]
        if magic != b"OES1":
            sys.exit(f"corrupt: {path} offset {off}: no record magic")
        if len(body) < ln:
            sys.exit(f"torn: {path} offset {off}: {len(body)} of {ln} bytes")
        if zlib.crc32(body, zlib.crc32(data[off + 4:off + 8])) != crc:
            sys.exit(f"corrupt: {path} offset {off}: CRC mismatch")
        off += 12 + ln
        n += 1
print(n)
PY
}
# spool_records: spool_check, but a torn last record may be a write in
# progress (a short write on the full disk, cut again at once): that read is
# retried a few times; one that lasts fails the test.
spool_records() {
    local out
    for _ in $(seq 20); do
        if out=$(spool_check 2>&1); then echo "$out"; return 0; fi
        case $out in torn:*) sleep 0.05 ;; *) fail "spool file damaged: $out" ;; esac
    done
    fail "spool file damaged: $out"
}

# fill NAME: write NAME.log (FIRST lines, wait until they are acknowledged
# through the spool, then the rest) while OneEntry is down; wait until the
# disk is full and the checkpoint settles, then check the invariant a few
# times: the acknowledged lines are at most what the spool holds. Sets
# acked and spooled.
fill() {
    local log=$TMP/logs/$1.log in=$TMP/$1.in size first_size
    head -n "$FIRST" "$in" >"$log"
    first_size=$(stat -c %s "$log")
    first_acked() { alive; [ "$(ck_offset "$log")" = "$first_size" ]; }
    wait_for 30 first_acked || { cat "$RUNLOG"; fail "$1: the first $FIRST events not acknowledged through the spool"; }
    tail -n +$((FIRST + 1)) "$in" >>"$log"
    size=$(stat -c %s "$log")
    wait_for 30 grep -q "No space left on device" "$RUNLOG" || { cat "$RUNLOG"; fail "$1: no error about the full disk"; }
    settled() {
        alive
        local a b
        a=$(ck_offset "$log"); sleep 0.5; b=$(ck_offset "$log")
        [ "$a" = "$b" ]
    }
    wait_for 30 settled || fail "$1: the checkpoint kept moving with the spool full and OneEntry down"
    for _ in 1 2 3; do
        off=$(ck_offset "$log") # the checkpoint first: what it covers is spooled by then
        spooled=$(spool_records)
        acked=$(acked_lines "$log" "$off")
        [ "$acked" -le "$spooled" ] ||
            fail "$1: checkpoint covers $acked events, the spool holds $spooled: acknowledged without being on disk"
        [ "$off" -lt "$size" ] || fail "$1: checkpoint reached the end of the input with the spool full"
        alive
        sleep 0.3
    done
}

# delivered_all INPUT LOG: wait until every event of INPUT reached the
# emulator and the checkpoint of LOG is at its end; check (duplicates
# allowed), their number in dups.
delivered_all() {
    local want=$1 log=$2 size
    size=$(stat -c %s "$log")
    all_in() { alive; [ "$(lines "$TMP/events")" -ge "$(lines "$want")" ]; }
    wait_for 60 all_in || { tail -n 20 "$RUNLOG"; fail "$(lines "$TMP/events") of $(lines "$want") delivered"; }
    done_ck() { alive; [ "$(ck_offset "$log")" = "$size" ]; }
    wait_for 30 done_ck || fail "checkpoint at $(ck_offset "$log") of $size after delivery"
    check_delivered "$want" atleast | tee "$TMP/check" || fail "events lost"
    dups=$(sed -n 's/.*, \([0-9]*\) duplicates/\1/p' "$TMP/check")
}

stop_clean() {
    kill -TERM "$PID"
    local rc=0
    wait "$PID" || rc=$?
    [ "$rc" -eq 0 ] || { tail -n 20 "$RUNLOG"; fail "exited $rc after SIGTERM"; }
}

# 1. One run: the disk fills while OneEntry is down, then OneEntry is back.
control "down_ms=600000"
pipeline_yaml 32MiB
start "$TMP/log1"
fill a
# Not blocked, the source saves checkpoints as acknowledgements come:
# events acknowledged through the spool after the first ones show.
[ "$acked" -gt "$FIRST" ] || fail "only $acked events acknowledged, the spool filled with $spooled"
expect_in "$TMP/log1" "events go to the spool"
ok "full spool disk reported ($(grep -m1 'No space left' "$TMP/log1" | sed 's/^.*\] //')), sluice runs on"
[ "$(lines "$TMP/events")" -eq 0 ] || fail "events delivered while OneEntry was down"
ok "backpressure: the checkpoint holds at $acked of $N1 events, all in the spool ($spooled valid records)"

control "down_ms=0"
delivered_all "$TMP/a.in" "$TMP/logs/a.log"
# Nothing restarted and no request answered 2xx more than once: no duplicates.
[ "$dups" -eq 0 ] || fail "$dups duplicates without a restart"
ok "OneEntry back: all $N1 events delivered, $dups duplicates, checkpoint at the end"
stop_clean
ok "clean stop after the disk was full"

# 2. kill -9 while the disk is full, restart with OneEntry back.
control "down_ms=600000"
pipeline_yaml 256KiB
start "$TMP/log2"
fill b
spooled_at_kill=$(spool_records)
kill -9 "$PID"
wait "$PID" 2>/dev/null || true
control "down_ms=0"
start "$TMP/log3"
cat "$TMP/a.in" "$TMP/b.in" >"$TMP/ab.in"
delivered_all "$TMP/ab.in" "$TMP/logs/b.log"
# A spooled event whose batch was not yet acknowledged is read again from
# the log: at most what the spool held beyond the checkpoint.
[ "$dups" -le $((spooled_at_kill - acked)) ] ||
    fail "$dups duplicates, more than the $((spooled_at_kill - acked)) spooled and unacknowledged"
ok "kill -9 with the disk full ($acked acknowledged, $spooled_at_kill spooled), restart: all $((N1 + N2)) events, $dups duplicates"
stop_clean

expect_in "$TMP/log3" "from a previous run to deliver"
# After kill -9 a torn last record may be cut (a write in progress); after a
# clean stop not even that.
if grep -E "damaged region|incomplete record|position file was ahead" "$TMP/log1" "$TMP/log2" ||
    grep -E "damaged region|position file was ahead" "$TMP/log3"; then
    fail "the spool was misread"
fi
[ ! -s "$DL" ] || fail "dead letters"
spool_records >/dev/null
ok "no spool record reported damaged or torn, no dead letters"
stop_emu
finish
