# Helpers for the tests of the oneentry sink's built-in HTTP/1.1 client
# against stub_h1.py (sourced after oneentry_helpers.bash).
STUB_H1_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# run_once YAML INPUT LOG: one --once run, bounded (RUN_TIMEOUT seconds,
# default 60): a hang fails the test.
run_once() {
    local rc=0 limit=${RUN_TIMEOUT:-60}
    timeout "$limit" "$SLUICE" run "$1" --once <"$2" 2>"$3" || rc=$?
    [ "$rc" -eq 0 ] || { cat "$3" >&2; fail "run of $1 exited $rc (124: did not end in $limit s)"; }
}

# quiet LOG: no warning or error line (a failed request shows up as one at
# the latest when it makes the sink spool).
quiet() {
    ! grep -E '^[^ ]+ (warn|error) ' "$1" >&2 || { cat "$1" >&2; fail "warnings or errors in $1"; }
}

no_dead_letters() {
    [ ! -s "$TMP/state/oe/dead_letter.jsonl" ] || { head -c 600 "$TMP/state/oe/dead_letter.jsonl" >&2; fail "dead letters"; }
}

delivered_n() { [ "$(lines "$TMP/events")" -ge "$1" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }

# start_stub MODE: a stub_h1.py server (see there), fresh events and notes;
# over TLS when STUB_CERT and STUB_KEY name its certificate and key. Sets
# STUB_PID and URL.
start_stub() {
    local tls=() scheme=http
    [ -z "${STUB_CERT:-}" ] || { tls=(--tls "$STUB_CERT" "$STUB_KEY"); scheme=https; }
    rm -f "$TMP/port" "$TMP/go"
    : >"$TMP/events"
    : >"$TMP/notes"
    python3 "$STUB_H1_DIR/stub_h1.py" "$1" "$TMP" "$TOKEN" "${tls[@]}" &
    STUB_PID=$!
    wait_for 10 test -s "$TMP/port" || fail "stub $1 did not start"
    URL="$scheme://127.0.0.1:$(cat "$TMP/port")"
}
stop_stub() { kill "$STUB_PID" 2>/dev/null || true; wait "$STUB_PID" 2>/dev/null || true; }
notes() { grep -cx "$1" "$TMP/notes" || true; } # notes WORD: how often the stub noted it
