#!/bin/sh
# Core engine throughput: events through source -> (enricher) -> sink with
# nothing else in the way. Usage: bench/core.sh [EVENTS]   (default 5,000,000)
# Builds the release tree first (make build). Prints a Markdown table.
set -eu
cd "$(dirname "$0")/.."
N=${1:-5000000}
make -s build >/dev/null
B=./build/sluice
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

cat >"$T/gen-null.yaml" <<YAML
service: { state_dir: $T/state }
sources: { gen: { plugin: generate, count: $N } }
sinks: { out: { plugin: null, inputs: [gen] } }
YAML
cat >"$T/gen-modify-null.yaml" <<YAML
service: { state_dir: $T/state }
sources: { gen: { plugin: generate, count: $N } }
enrichers: { m: { plugin: modify, inputs: [gen], set: { env: prod }, rename: { message: msg } } }
sinks: { out: { plugin: null, inputs: [m] } }
YAML
cat >"$T/stdin-file.yaml" <<YAML
service: { state_dir: $T/state }
sources: { in: { plugin: stdin } }
sinks: { out: { plugin: file, inputs: [in], path: $T/out.jsonl } }
YAML
python3 -c "
import sys
with open('$T/lines.txt', 'w') as f:
    for i in range($N // 5):
        f.write(f'192.0.2.{i % 250} - - [29/Nov/2026:15:00:00 +0000] \"GET /products/{i} HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0\"\n')
"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
echo
echo "| pipeline | events | events/s | wall s | CPU s | peak RSS MiB |"
echo "|---|---|---|---|---|---|"
python3 bench/measure.py "generate -> null" "$N" -- $B run "$T/gen-null.yaml" --log-level warn
python3 bench/measure.py "generate -> modify -> null" "$N" -- $B run "$T/gen-modify-null.yaml" --log-level warn
python3 bench/measure.py "stdin (access-log lines) -> file" "$((N / 5))" --stdin "$T/lines.txt" -- $B run "$T/stdin-file.yaml" --log-level warn
