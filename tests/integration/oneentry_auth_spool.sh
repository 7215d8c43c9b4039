# sink_oneentry: an app token OneEntry rejects pauses delivery (events
# spooled, one error per interval, token never logged, nothing
# dead-lettered) until a probe succeeds; a damaged spool (truncated tail,
# flipped bit) is detected and reported at start, the rest delivered.
# transports: h1 h2
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/oneentry_helpers.bash"

TOKEN="wrong-token-Xy7"
start_emu --token "right-token-Ab3"
gen_input 2000 "$TMP/in.jsonl"
pipeline "$TMP/p.yaml"
mkfifo "$TMP/fifo"
"$SLUICE" run "$TMP/p.yaml" <"$TMP/fifo" 2>"$TMP/log" &
PID=$!
exec 7>"$TMP/fifo"
cat "$TMP/in.jsonl" >&7
spooled() { grep -q "rejected the app token" "$TMP/log"; }
wait_for 20 spooled || { cat "$TMP/log"; fail "no auth error logged"; }
t0=$(date +%s%N)
# A few probe intervals (300 ms) go by; each logs one line at most. The
# bound is from the time that really passed, however busy the machine.
several() { [ "$(grep -c "rejected the app token" "$TMP/log")" -ge 3 ]; }
wait_for 30 several || { cat "$TMP/log"; fail "the paused sink does not probe"; }
n=$(grep -c "rejected the app token" "$TMP/log")
elapsed_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$(lines "$TMP/events")" -eq 0 ] || fail "events accepted with a wrong token"
[ "$n" -le $(( elapsed_ms / 300 + 2 )) ] || fail "$n auth error lines in $elapsed_ms ms: more than one per 300 ms interval"
control "token=$TOKEN" # the operator fixes the token (here: on the server side)
all() { [ "$(lines "$TMP/events")" -ge 2000 ]; }
wait_for 30 all || { cat "$TMP/log"; fail "not delivered after the token was fixed"; }
exec 7>&-
wait "$PID" || { cat "$TMP/log"; fail "run exited non-zero"; }
check_delivered "$TMP/in.jsonl" exact || fail "delivery after auth pause"
[ ! -s "$DL" ] || fail "events dead-lettered for the app token"
expect_in "$TMP/log" "OneEntry answers again"
grep -qF "$TOKEN" "$TMP/log" && fail "token in the log"
grep -qF "right-token" "$TMP/log" && fail "token in the log"
ok "rejected app token: paused and spooled ($n error lines), resumed on the first good probe, all delivered once"

# Damage a spool: fill it while OneEntry is down, then cut the last record
# and flip one bit in the middle of the first segment.
: >"$TMP/events"
control "down_ms=600000"
head -n 1000 "$TMP/in.jsonl" >"$TMP/k.jsonl"
DRAIN=1s pipeline "$TMP/p.yaml" "spool_max_bytes: 64MiB"
expect_rc 4 "$SLUICE" run "$TMP/p.yaml" --once <"$TMP/k.jsonl"
seg=$(ls "$TMP/state/oe/spool/"seg-*.oes | head -n 1)
size=$(stat -c %s "$seg")
truncate -s $((size - 5)) "$seg"
python3 - "$seg" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    data = f.read()
    at = data.index(b"OES1", len(data) // 2) + 20   # inside a record's payload
    f.seek(at); f.write(bytes([data[at] ^ 0x04]))
PY
control "down_ms=0"
# The restart sends the spool while it stops (--once with nothing to read):
# the default stop_drain_timeout, not the 1 s the filling run had.
pipeline "$TMP/p.yaml" "spool_max_bytes: 64MiB"
"$SLUICE" run "$TMP/p.yaml" --once </dev/null 2>"$TMP/log" || { cat "$TMP/log"; fail "run"; }
expect_in "$TMP/log" "spool: cut"
expect_in "$TMP/log" "damaged region"
got=$(lines "$TMP/events")
[ "$got" -eq 998 ] || fail "expected all but the 2 damaged records (998) delivered, got $got"
ok "spool: torn tail cut and flipped bit detected, reported; the other $got events delivered"
stop_emu
finish
