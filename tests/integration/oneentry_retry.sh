# sink_oneentry retry classes against the emulator: 5xx, 408, 429, resets
# retried per event (nothing lost, nothing doubled, nothing dead-lettered);
# Retry-After honoured in seconds and as an HTTP-date; other 4xx
# dead-lettered with status and message; retryable_status changes the set.
# transports: h1 h2
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/oneentry_helpers.bash"

TOKEN=t0k
start_emu --token "$TOKEN"
gen_input 400 "$TMP/in.jsonl"

# One failure of each retryable class among hundreds of successes.
control "script=200,503,200,500,408,429:0,reset,reset,502,200"
pipeline "$TMP/p.yaml" "concurrency: 4"
"$SLUICE" run "$TMP/p.yaml" --once <"$TMP/in.jsonl" 2>"$TMP/log" || { cat "$TMP/log"; fail "run"; }
check_delivered "$TMP/in.jsonl" exact || fail "delivery with retries"
[ "$(emu_stat injected)" -ge 7 ] || fail "only $(emu_stat injected) faults were injected"
[ ! -s "$DL" ] || fail "retryable failures were dead-lettered"
ok "503, 500, 502, 408, 429 and resets retried per event: all delivered once, no dead letters"

# Retry-After: a single event answered 429 with Retry-After: 3 is not
# retried before 3 s have passed (the backoff alone would retry in ~20 ms).
# Judged without a fixed sleep: the run starts at T0, before the first
# request; if the retry's event is recorded at a time seen as earlier than
# T0 + the wait, the retry came early. A busy machine only makes the test
# see it later, never earlier. (retry_max caps Retry-After: 10 s here.)
RETRY_MAX=10s pipeline "$TMP/ra.yaml" "concurrency: 4"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
delivered() { [ "$(lines "$TMP/events")" -ge 1 ]; }
one() { # one SCRIPT_ENTRY EARLIEST_MS (Unix ms before which no retry may come)
    : >"$TMP/events"
    head -n 1 "$TMP/in.jsonl" >"$TMP/one.jsonl"
    local before; before=$(emu_stat requests)
    control "script=$1"
    "$SLUICE" run "$TMP/ra.yaml" --once <"$TMP/one.jsonl" 2>"$TMP/log1" &
    local pid=$!
    wait_for 30 delivered || { cat "$TMP/log1"; fail "event not delivered after Retry-After ($1)"; }
    local seen; seen=$(now_ms)
    [ "$seen" -ge "$2" ] || fail "retried $(( $2 - seen )) ms before Retry-After allowed ($1)"
    wait "$pid" || { cat "$TMP/log1"; fail "run"; }
    [ "$(emu_stat requests)" -eq $((before + 2)) ] || fail "expected exactly one retry ($1)"
}
t0=$(now_ms)
one "429:3" $((t0 + 3000))
ok "Retry-After in seconds honoured"
# An HTTP-date has whole seconds: the wait ends at the start of that second.
when=$(( $(date +%s) + 4 ))
date_str=$(python3 -c "import email.utils,sys; print(email.utils.formatdate(int(sys.argv[1]), usegmt=True))" "$when")
one "503:$(python3 -c "import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1]))" "$date_str")" \
    $((when * 1000 - 1000))
ok "Retry-After as an HTTP-date honoured"

# Other 4xx: dead-lettered with the status and the server's message.
: >"$TMP/events"
head -n 50 "$TMP/in.jsonl" >"$TMP/fifty.jsonl"
control "script=422"
"$SLUICE" run "$TMP/p.yaml" --once <"$TMP/fifty.jsonl" 2>"$TMP/log" || { cat "$TMP/log"; fail "run"; }
[ "$(lines "$TMP/events")" -eq 49 ] || fail "expected 49 delivered, got $(lines "$TMP/events")"
python3 - "$DL" <<'PY' || fail "dead letter of a 422"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 1, recs
r = recs[0]
assert r["reason"] == "rejected by OneEntry (HTTP 422): injected by the emulator's script", r
assert r["component"] == "oe" and r["event"]["body"]["type"], r
PY
ok "a 422 is dead-lettered with status, message and event; the rest delivered"

# retryable_status makes 422 retryable.
: >"$TMP/events"
rm -f "$DL"
pipeline "$TMP/p2.yaml" "concurrency: 4, retryable_status: \"408,422,429,500-599\""
control "script=422,422"
"$SLUICE" run "$TMP/p2.yaml" --once <"$TMP/fifty.jsonl" 2>"$TMP/log" || { cat "$TMP/log"; fail "run"; }
[ "$(lines "$TMP/events")" -eq 50 ] || fail "expected 50 delivered, got $(lines "$TMP/events")"
[ ! -s "$DL" ] || fail "dead letters with 422 retryable"
ok "retryable_status: 422 retried and delivered"
stop_emu
finish
