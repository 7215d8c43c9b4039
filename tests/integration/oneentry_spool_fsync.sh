# sink_oneentry spool_fsync: spooled events are fdatasync'ed before they are
# acknowledged upstream (so a tail checkpoint, itself fsynced, never covers
# events that a power loss could take from the spool). Seen with strace: with
# the default, the spool segment is fdatasync'ed and the run still ends with
# every event acknowledged; with spool_fsync: false it never is.
# transports: h1 h2
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/oneentry_helpers.bash"
command -v strace >/dev/null || fail "strace missing (scripts/deps.sh installs it)"

TOKEN=t0k
start_emu --token "$TOKEN" --down-ms 600000
gen_input 3000 "$TMP/in.jsonl"

# spooled_run EXTRA: all events into the spool (OneEntry is down) under
# strace; prints how many fdatasync calls hit a spool segment.
spooled_run() {
    rm -rf "$TMP/state"
    DRAIN=1s pipeline "$TMP/p.yaml" "$1"
    # LeakSanitizer cannot run under ptrace; the other tests check leaks.
    # A backfill that leaves events in the spool has not finished: exit 4.
    local rc=0
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
        strace -f -y -qq -e trace=fdatasync -o "$TMP/strace" "$SLUICE" run "$TMP/p.yaml" --once <"$TMP/in.jsonl" 2>"$TMP/log" \
        || rc=$?
    [ "$rc" -eq 4 ] || { cat "$TMP/log" >&2; fail "run ($1) exited $rc, expected 4"; }
    expect_in "$TMP/log" "events go to the spool"
    expect_in "$TMP/log" "3000 events remain in the spool ($TMP/state/oe/spool); the next start sends them"
    grep -q "not acknowledged" "$TMP/log" && { cat "$TMP/log" >&2; fail "events left unacknowledged"; }
    [ "$(lines "$TMP/events")" -eq 0 ] || fail "events delivered while down"
    grep -c 'fdatasync([0-9]*</.*/spool/seg-[0-9]*\.oes>' "$TMP/strace" || true
}

n=$(spooled_run "spool_fsync: true")
[ "$n" -gt 0 ] || { cat "$TMP/strace"; fail "spool_fsync: true, but no fdatasync of a spool segment"; }
ok "spool_fsync (default): $n fdatasync calls on the spool, every event acknowledged"

n=$(spooled_run "spool_fsync: false")
[ "$n" -eq 0 ] || fail "spool_fsync: false, yet $n fdatasync calls on the spool"
ok "spool_fsync: false: no fdatasync on the spool"

# What was spooled is all there: OneEntry back, a restart delivers it.
control "down_ms=0"
pipeline "$TMP/p.yaml" # the default drain: slow builds need more than 1 s
"$SLUICE" run "$TMP/p.yaml" --once </dev/null 2>"$TMP/log" || { cat "$TMP/log"; fail "restart"; }
check_delivered "$TMP/in.jsonl" exact || fail "delivery from the spool"
ok "the spooled events are delivered after a restart"
stop_emu
finish
