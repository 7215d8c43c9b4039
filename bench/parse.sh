#!/usr/bin/env bash
# bench/parse.sh [BUILD_DIR] [LINES]: LINES (default 1,000,000) nginx combined
# lines through tail -> parse -> activity -> sink_null, with the enrichers of
# pipelines/nginx-to-oneentry.yaml. Prints lines/s, CPU seconds per million
# lines and peak RSS as a markdown table row (BENCH_CALLGRIND=1: instructions).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
LINES=${2:-1000000}
SLUICE_BIN="$BUILD/sluice"
[ -x "$SLUICE_BIN" ] || { echo "no $SLUICE_BIN: build first (make build)" >&2; exit 2; }
TMP=$(mktemp -d /tmp/sluice-bench-parse.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

python3 - "$TMP/access.log" "$LINES" <<'PY'
import random, sys
random.seed(7)
uas = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
       "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
       "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"]
reqs = ["GET /products/%d-red-sneakers?from=recommended HTTP/1.1", "GET /products/%d HTTP/2.0",
        "GET /catalog/%d-running-shoes?page=2 HTTP/2.0", "GET /search?q=trail+running%%20shoes&n=%d HTTP/2.0",
        "POST /cart/add?product_id=%d&qty=1 HTTP/1.1", "GET /static/css/app.css?v=%d HTTP/1.1",
        "GET /static/js/app.js?v=%d HTTP/1.1", "GET /pages/%d-delivery HTTP/1.1",
        "GET /img/p/%d.webp HTTP/2.0", "GET /checkout/complete?order=A-%d&product_id=77 HTTP/1.1"]
n = int(sys.argv[2])
with open(sys.argv[1], "w") as f:
    chunk = []
    for i in range(n):
        r = reqs[i % len(reqs)] % (1000 + i % 5000)
        st = 302 if r.startswith("POST") else (404 if i % 53 == 0 else 200)
        chunk.append('10.%d.%d.%d - - [12/Mar/2024:%02d:%02d:%02d +0100] "%s" %d %d "https://shop.example/" "%s"\n'
                     % (i % 200, i % 250, i % 254 + 1, (i // 3600) % 24, (i // 60) % 60, i % 60,
                        r, st, 500 + i % 40000, uas[i % 7 % 4]))
        if len(chunk) == 10000:
            f.write("".join(chunk)); chunk = []
    f.write("".join(chunk))
PY

sed -n '/^enrichers:/,/^sinks:/p' "$SRC/pipelines/nginx-to-oneentry.yaml" | sed '$d' >"$TMP/enrichers.yaml"
{
    echo "service: { state_dir: $TMP/state, log_level: warn }"
    echo "sources:"
    echo "  access: { plugin: tail, paths: [$TMP/access.log], read_from: head }"
    cat "$TMP/enrichers.yaml"
    echo "sinks:"
    echo "  out: { plugin: null, inputs: [activity] }"
} >"$TMP/p.yaml"

export SLUICE_GUEST_ID_KEY=bench-key-0123456789abcdef SLUICE_PLUGIN_PATH="$BUILD/plugins"
python3 - "$SLUICE_BIN" "$TMP/p.yaml" "$LINES" "$(stat -c %s "$TMP/access.log")" <<'PY'
import resource, subprocess, sys, time
sluice, pipeline, lines, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
t0 = time.monotonic()
import os
# BENCH_PERF=FILE records a perf profile of the run into FILE (numbers then include perf's cost).
perf = ["perf", "record", "-g", "-o", os.environ["BENCH_PERF"], "--"] if os.environ.get("BENCH_PERF") else []
# BENCH_CALLGRIND=1 counts the instructions of the whole process with valgrind
# (slow; the count does not depend on the machine's load, the times do).
cg = os.environ.get("BENCH_CALLGRIND") == "1"
if cg:
    perf = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + pipeline + ".cg"]
subprocess.run(perf + [sluice, "run", pipeline, "--once"], check=True,
               stderr=subprocess.DEVNULL if cg else None)
if cg:
    total = next(int(l.split()[1]) for l in open(pipeline + ".cg") if l.startswith("summary:"))
    print(f"| {lines:,} lines | {total / 1e6:,.0f} M instructions | "
          f"{total / lines:,.0f} instructions per line |")
    sys.exit(0)
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = ru.ru_utime + ru.ru_stime
print(f"| {lines:,} lines ({size / 2**20:.0f} MiB) | {lines / wall:,.0f} lines/s | "
      f"{wall:.2f} s wall | {cpu:.2f} CPU-s ({ru.ru_utime:.2f} user + {ru.ru_stime:.2f} sys) | "
      f"{cpu / lines * 1e6:.2f} CPU-s per million lines | peak RSS {ru.ru_maxrss / 1024:.1f} MiB |")
PY
