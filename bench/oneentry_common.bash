# Shared by the OneEntry benchmarks (sourced): CPU accounting and the
# benchmark pipeline.

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
