#!/usr/bin/env bash
# The flagship job against a OneEntry that fails some requests: the enrichers
# of pipelines/nginx-to-oneentry.yaml (tail -> parse -> activity) into the
# oneentry sink, over HTTPS (the emulator's own TLS, HTTP/1.1; the sink's
# defaults: adaptive concurrency, per-visitor order, spool) at LATENCY ms,
# with 0, 1, 3 and 10 % of requests answered 503, each with and without
# Retry-After: 1; then the 0 % row at SLOW_LATENCY ms. Each row is one
# `sluice run --once` of the same generated storefront log.
#
# Per row: events/s and its share of the 0 % row, sluice's CPU per 1,000
# events, peak RSS, and the proof: every event the same pipeline writes into
# sink file (the reference) arrived exactly once, and each visitor's events
# arrived in log order.
#
# usage: bench/oneentry-faults.sh [BUILD_DIR]
#   env: LINES (60000) VISITORS (3000) FAULTS ("0 1 3 10") LATENCY (20)
#        SLOW_LATENCY (80) EMU_THREADS (4)
# Prints Markdown rows for docs/BENCHMARKS.md on stdout.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$SRC/bench/oneentry_common.bash"
BUILD=${1:-${SL_BUILD:-$SRC/build}}
oe_bench_init "$BUILD" faults
LINES=${LINES:-60000}
VISITORS=${VISITORS:-3000}
FAULTS=${FAULTS:-0 1 3 10}
LATENCY=${LATENCY:-20}
SLOW_LATENCY=${SLOW_LATENCY:-80}
export SLUICE_PLUGIN_PATH="$BUILD/plugins" SLUICE_GUEST_ID_KEY=bench-key-0123456789abcdef
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sluice-bench \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null

# A storefront access log in the URL scheme of nginx-to-oneentry.yaml:
# VISITORS visitors (client IP + user agent; one agent in eight is a bot,
# which the activity enricher drops), each browsing in order.
python3 - "$TMP/access.log" "$LINES" "$VISITORS" <<'PY'
import random, sys
random.seed(13)
path, n, visitors = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
uas = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
       "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
       "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
       "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
       "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
       "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
       "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"]
reqs = [("GET", "/products/%d-red-sneakers?from=recommended", 200), ("GET", "/products/%d", 200),
        ("GET", "/catalog/%d-running-shoes?page=2", 200), ("GET", "/search?q=trail+running%%20shoes&n=%d", 200),
        ("POST", "/cart/add?product_id=%d&qty=1", 302), ("GET", "/static/css/app.css?v=%d", 200),
        ("GET", "/static/js/app.js?v=%d", 200), ("GET", "/pages/%d-delivery", 200),
        ("GET", "/img/p/%d.webp", 200), ("GET", "/checkout/complete?order=A-%d&product_id=77", 200)]
with open(path, "w") as f:
    out = []
    for i in range(n):
        v = random.randrange(visitors)
        m, u, st = reqs[random.randrange(len(reqs))]
        ip = "10.%d.%d.%d" % (v >> 16 & 255, v >> 8 & 255, v & 255)
        out.append('%s - - [12/Mar/2024:%02d:%02d:%02d +0100] "%s %s HTTP/1.1" %d %d "https://shop.example/" "%s"\n'
                   % (ip, (i // 3600) % 24, (i // 60) % 60, i % 60, m, u % (1000 + i % 5000), st,
                      500 + i % 40000, uas[v % len(uas)]))
    f.write("".join(out))
PY

# pipeline FILE SINK_YAML: the flagship's source and enrichers, then SINK_YAML.
pipeline() {
    {
        echo "service: { state_dir: $TMP/state, log_level: info }"
        echo "sources:"
        echo "  access: { plugin: tail, paths: [$TMP/access.log], read_from: head }"
        sed -n '/^enrichers:/,/^sinks:/p' "$SRC/pipelines/nginx-to-oneentry.yaml" | sed '$d'
        echo "sinks:"
        echo "  $2"
    } >"$1"
}

# The reference: what the activity enricher makes of the log, in log order.
pipeline "$TMP/ref.yaml" "out: { plugin: file, inputs: [activity], path: $TMP/ref.jsonl, time_key: '' }"
rm -rf "$TMP/state"
"$SLUICE" run "$TMP/ref.yaml" --once 2>"$TMP/ref.log" || { cat "$TMP/ref.log" >&2; exit 1; }
EVENTS=$(wc -l <"$TMP/ref.jsonl")


# verify: exactly once and per-visitor order, against the reference.
verify() {
    python3 - "$TMP/ref.jsonl" "$TMP/events" "$SRC/tests/integration" <<'PY'
import json, sys
from collections import Counter, defaultdict
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[3])
from oe_expect import expect, record_key
want = [k for k in (expect(json.loads(l)) for l in open(sys.argv[1])) if k]
got = [record_key(json.loads(l)) for l in open(sys.argv[2])]
if Counter(got) != Counter(want):
    miss, extra = Counter(want) - Counter(got), Counter(got) - Counter(want)
    print(f"NOT exactly once: {sum(miss.values())} missing, {sum(extra.values())} extra"); sys.exit()
seq_w, seq_g = defaultdict(list), defaultdict(list)
for k in want: seq_w[json.loads(k)["auth"]].append(k)
for k in got: seq_g[json.loads(k)["auth"]].append(k)
bad = sum(1 for a in seq_w if seq_w[a] != seq_g[a])
print(f"exactly once, {len(seq_w)} visitors in order" if not bad else f"ORDER broken for {bad} visitors")
PY
}

echo "Input: $LINES log lines, $VISITORS visitors, $EVENTS activity events (reference: the same"
echo "pipeline into sink file). HTTPS to the emulator's TLS (HTTP/1.1), sink defaults."
echo
echo "| server latency | 503s | Retry-After | events/s | of the 0 % row | wall s | sluice CPU ms / 1k events | peak RSS MiB | emulator CPU s | 503s answered | delivery |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
base=""
row() { # row LATENCY PCT RETRY_AFTER
    local lat=$1 pct=$2 ra=$3 spec=""
    if [ "$pct" != 0 ]; then spec="$pct:503${ra:+:$ra}"; fi
    oe_bench_start_emu "$lat" --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" ${spec:+--fail "$spec"}
    pipeline "$TMP/p.yaml" "oe: { plugin: oneentry, inputs: [activity], url: \"https://127.0.0.1:$(cat "$TMP/port")\", token: bench-token, ca_file: \"$TMP/cert.pem\" }"
    rm -rf "$TMP/state"
    local e0 e1 out
    e0=$(cpu_seconds "$EMU_PID")
    out=$(python3 - "$SLUICE" "$TMP/p.yaml" "$TMP/log" <<'PY'
import resource, subprocess, sys, time
t0 = time.monotonic()
with open(sys.argv[3], "w") as log:
    rc = subprocess.run([sys.argv[1], "run", sys.argv[2], "--once"], stderr=log).returncode
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(rc, f"{wall:.2f}", f"{ru.ru_utime + ru.ru_stime:.3f}", f"{ru.ru_maxrss / 1024:.1f}")
PY
)
    e1=$(cpu_seconds "$EMU_PID")
    local injected
    injected=$(curl -s --cacert "$TMP/cert.pem" "https://127.0.0.1:$(cat "$TMP/port")/_stats" |
        python3 -c "import json,sys; print(json.load(sys.stdin)['injected'])")
    oe_bench_stop_emu
    local rc wall cpu rss
    read -r rc wall cpu rss <<<"$out"
    [ "$rc" = 0 ] || { echo "run exited $rc" >&2; tail -n 20 "$TMP/log" >&2; exit 1; }
    local rate share="-"
    rate=$(echo "$EVENTS / $wall" | bc)
    if [ "$lat" = "$LATENCY" ]; then
        [ -n "$base" ] || base=$rate
        share="$(echo "100 * $rate / $base" | bc) %"
    fi
    echo "| ${lat} ms | ${pct} % | ${ra:-none} | $rate | $share | $wall |" \
        "$(echo "scale=1; 1000000 * $cpu / $EVENTS" | bc) | $rss | $(echo "$e1 - $e0" | bc) |" \
        "$injected | $(verify) |"
}

for pct in $FAULTS; do
    row "$LATENCY" "$pct" ""
    [ "$pct" = 0 ] || row "$LATENCY" "$pct" 1
done
row "$SLOW_LATENCY" 0 ""
