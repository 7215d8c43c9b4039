# A sink that never acknowledges does not grow memory past the queue bound:
# an unthrottled source runs into an 8 MiB queue, is held there, and the
# process's peak resident memory (VmHWM from /proc) stays under the bound
# the README's memory formula gives; an unbounded queue would pass it within
# a fraction of a second. Twice: large events in large batches, and one tiny
# event per batch (each batch used to hold an 8 KiB buffer the queue did not
# count: 800 MB for an 8 MiB queue).
. "$(dirname "$0")/common.bash"
: "${SL_BUILD:?}"
command -v curl >/dev/null || fail "curl missing (scripts/deps.sh installs it)"
FX=$SL_BUILD/tests/fixtures
QUEUE_MIB=8
# docs: about 24 MiB for the process + 1.25 x the queues; an ASan build is
# several times larger.
LIMIT_MIB=48
if sanitized_build; then LIMIT_MIB=192; fi

# held_case NAME BATCH_EVENTS MESSAGE MAX_EVENTS: run until the source is
# held, check the queue and the peak RSS, stop.
held_case() {
    local name=$1 batch=$2 msg=$3 max=$4
    cat >"$TMP/p.yaml" <<YAML
service:
  state_dir: $TMP/state-$name
  admin: { listen: "127.0.0.1:0" }
  shutdown_timeout: 1s
sources:
  gen: { plugin: generate, batch_max_events: $batch, message: "$msg" }
sinks:
  mute: { path: $FX/mute_sink.so, inputs: [gen], queue_max_bytes: ${QUEUE_MIB}MiB }
YAML
    # ASan keeps freed memory in quarantine (256 MiB by default); cap it so
    # the test measures sluice, not the sanitizer.
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=16" "$SLUICE" run "$TMP/p.yaml" 2>"$TMP/log" &
    pid=$!
    started() { kill -0 "$pid" 2>/dev/null || fail "sluice exited: $(cat "$TMP/log")"; grep -q "admin endpoint on" "$TMP/log"; }
    wait_for 60 started || { cat "$TMP/log"; fail "admin did not start"; }
    port=$(sed -n 's/.*admin endpoint on 127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/log")
    out_events() {
        curl -sf "http://127.0.0.1:$port/metrics" >"$TMP/metrics" || return 1
        grep -E '^sluice_events_out_total\{component="gen"' "$TMP/metrics" | awk '{print $2}'
    }
    # Held: the source's count stops moving (it is blocked in emit). Filling
    # the queue one tiny batch at a time takes a while on a loaded machine:
    # the deadline is generous, the check is the fact, not the time.
    local prev=-1 same=0 n=0 deadline=$((SECONDS + 130))
    while [ "$SECONDS" -lt "$deadline" ]; do
        n=$(out_events || echo -1)
        if [ "$n" = "$prev" ] && [ "$n" -gt 0 ]; then same=$((same + 1)); else same=0; fi
        [ "$same" -ge 5 ] && break
        prev=$n
        sleep 0.1
    done
    [ "$same" -ge 5 ] || { cat "$TMP/metrics" >&2; fail "$name: the source was never held back"; }
    [ "$n" -le "$max" ] || fail "$name: $n events passed an ${QUEUE_MIB} MiB queue"
    local qb
    qb=$(grep -E '^sluice_queue_bytes\{component="mute"' "$TMP/metrics" | awk '{print $2}')
    [ -n "$qb" ] && [ "$qb" -le $(((QUEUE_MIB + 1) * 1024 * 1024)) ] || { cat "$TMP/metrics" >&2; fail "$name: queue bytes $qb past the bound"; }
    ok "$name: held after $n events ($qb bytes charged), within the ${QUEUE_MIB} MiB bound"

    local hwm
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
    echo "$name: VmHWM ${hwm} kB"
    [ "$hwm" -lt $((LIMIT_MIB * 1024)) ] || fail "$name: peak RSS ${hwm} kB over ${LIMIT_MIB} MiB"
    ok "$name: peak resident memory ${hwm} kB under ${LIMIT_MIB} MiB"

    kill -TERM "$pid"
    local rc=0
    wait "$pid" || rc=$?
    # Unacknowledged batches at the drain deadline: exit 4, not a crash.
    [ "$rc" -eq 4 ] || { cat "$TMP/log"; fail "$name: sluice exited $rc after SIGTERM"; }
    ok "$name: stops on SIGTERM with the sink still silent (exit $rc)"
}

# 1 KiB bodies in batches of 256, so memory would grow fast without the bound.
held_case large 256 "$(head -c 1024 /dev/zero | tr '\0' 'x')" $((QUEUE_MIB * 1024 * 2))
# One small event per batch: what each batch costs beyond its bytes counts.
held_case tiny 1 x $((QUEUE_MIB * 1024 * 1024 / 256))
finish
