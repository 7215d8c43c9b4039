# Shared by the OneEntry benchmarks (sourced): the build's binaries, a
# temporary directory, the emulator's start and stop, CPU accounting and the
# benchmark pipeline.

# oe_bench_init BUILD NAME: sets EMU, SLUICE and TMP (/tmp/sluice-bench-NAME.*,
# removed at exit with the emulator stopped); fails unless both are built.
oe_bench_init() {
    EMU="$1/tests/oneentry-emulator/oneentry-emulator"
    SLUICE="$1/sluice"
    [ -x "$EMU" ] && [ -x "$SLUICE" ] || { echo "build first: $SLUICE and $EMU" >&2; exit 1; }
    TMP=$(mktemp -d "/tmp/sluice-bench-$2.XXXXXX")
    EMU_PID=""
    trap oe_bench_cleanup EXIT
}

oe_bench_cleanup() {
    [ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null
    rm -rf "$TMP"
}

# oe_bench_start_emu LATENCY_MS [EMULATOR ARGS...]: the emulator on a free
# loopback port (in $TMP/port), recording to $TMP/events, token bench-token,
# EMU_THREADS threads (default 4); sets EMU_PID.
oe_bench_start_emu() {
    local lat=$1; shift
    rm -f "$TMP/port" "$TMP/events"
    "$EMU" --listen 127.0.0.1:0 --port-file "$TMP/port" --events "$TMP/events" --quiet \
        --token bench-token --threads "${EMU_THREADS:-4}" --latency-ms "$lat" "$@" &
    EMU_PID=$!
    for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.1; done
    [ -s "$TMP/port" ] || { echo "emulator did not start" >&2; exit 1; }
}

oe_bench_stop_emu() { kill "$EMU_PID"; wait "$EMU_PID" 2>/dev/null || true; EMU_PID=""; }

# cpu_seconds PID: user+system CPU seconds of a process and its children
# (nghttpx does its work in a child process).
cpu_seconds() {
    local p stats=""
    for p in "$1" $(pgrep -P "$1" || true); do stats="$stats /proc/$p/stat"; done
    # shellcheck disable=SC2086
    awk -v hz="$(getconf CLK_TCK)" '{ t += $14 + $15 } END { printf "%.2f", t / hz }' $stats
}

# oe_bench_pipeline FILE URL CONCURRENCY [EXTRA SINK OPTIONS]: COUNT events
# from source_generate, shaped by enricher_modify into product_view events
# of VISITORS guests (the sink keeps one request per visitor in flight),
# to the oneentry sink at URL with app token bench-token.
oe_bench_pipeline() {
    cat >"$1" <<YAML
service: { state_dir: $TMP/state, shutdown_timeout: 10m, log_level: info }
sources:
  gen: { plugin: generate, count: $COUNT, keys: $VISITORS }
enrichers:
  act:
    plugin: modify
    inputs: [gen]
    remove: [message]
    rename: { seq: productId, key: guest_id }
    set: { type: product_view }
sinks:
  oe: { plugin: oneentry, inputs: [act], url: "$2", token: bench-token, concurrency: $3,
        stop_drain_timeout: 10m${4:+, $4} }
YAML
}
