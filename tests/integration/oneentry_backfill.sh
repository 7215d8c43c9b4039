# sink_oneentry: a backfill (run --once) finishes or says why. A few failed
# requests (six 503s at the start; 3 % random 503s, with and without
# Retry-After) are retried per event: exit 0, every event delivered once,
# in per-visitor order, nothing left in the spool. A OneEntry that stays
# down past stop_drain_timeout: exit 4 and one line saying how many events
# remain in the spool, where, and that the next start sends them; one that
# recovers within the deadline: exit 0 with the spool empty.
# transports: h1 h2
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/oneentry_helpers.bash"

TOKEN=t0k
N=3000
start_emu --token "$TOKEN"
gen_input $N "$TMP/in.jsonl"

no_spool_left() { # the run left nothing behind
    grep -q "remain in the spool" "$TMP/err" && { cat "$TMP/err"; fail "events left in the spool"; }
    return 0
}

# backfill LABEL: --once of the whole input into a fresh state dir: exit 0,
# all delivered once and in order, nothing spooled at the end.
backfill() {
    : >"$TMP/events"
    rm -rf "$TMP/state"
    expect_rc 0 "$SLUICE" run "$TMP/p.yaml" --once <"$TMP/in.jsonl"
    no_spool_left
    check_delivered "$TMP/in.jsonl" exact >/dev/null || fail "$1: delivery"
    check_order "$TMP/in.jsonl" >/dev/null || fail "$1: order"
    [ ! -s "$DL" ] || fail "$1: dead letters"
}

pipeline "$TMP/p.yaml"
control "script=503,503,503,503,503,503"
backfill "six 503s at the start"
ok "six transient errors at the start: exit 0, all $N delivered once, in order, spool empty"

control "fail=3:503"
backfill "3 % of 503s"
ok "3 % random 503s: exit 0, all delivered once, in order, spool empty ($(emu_stat injected) injected so far)"

control "fail=3:503:1"
backfill "3 % of 503s with Retry-After: 1"
control "fail="
ok "3 % random 503s with Retry-After: 1: exit 0, all delivered once, in order"

# Down for longer than the drain deadline: the events are safe in the
# spool, but the backfill has not finished.
: >"$TMP/events"
rm -rf "$TMP/state"
control "down_ms=600000"
DRAIN=2s pipeline "$TMP/p.yaml"
expect_rc 4 "$SLUICE" run "$TMP/p.yaml" --once <"$TMP/in.jsonl"
expect_in "$TMP/err" "$N events remain in the spool ($TMP/state/oe/spool); the next start sends them"
[ "$(grep -c "remain in the spool" "$TMP/err")" -eq 1 ] || fail "the spool line more than once"
ok "OneEntry down past stop_drain_timeout: exit 4, one line with the count and the spool"

# Back after a few seconds, within the deadline: the next --once sends the
# spool and ends with exit 0 and nothing left.
control "down_ms=3000"
pipeline "$TMP/p.yaml"
expect_rc 0 "$SLUICE" run "$TMP/p.yaml" --once </dev/null
no_spool_left
expect_in "$TMP/err" "from a previous run to deliver"
check_delivered "$TMP/in.jsonl" exact >/dev/null || fail "delivery from the spool"
ok "OneEntry back within the deadline: exit 0, the spool delivered, nothing left"
stop_emu
finish
