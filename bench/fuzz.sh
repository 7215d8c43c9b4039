#!/bin/sh
# Fuzzing throughput and coverage, one line per target (runs, exec/s, cov,
# features, corpus size, crashers): `make fuzz` for SECONDS each, one target
# after another, under nice. Needs clang (scripts/fuzz-deps.sh).
#   sh bench/fuzz.sh [SECONDS] [TARGET...]      (default 300 s, all targets)
# FUZZ_KEEP_GOING=1 continues past known crashes (libFuzzer fork mode).
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-300}
[ $# -gt 0 ] && shift
echo "# $(date -u +%Y-%m-%d) nproc=$(nproc) cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
make fuzz FUZZ_SECONDS="$seconds" FUZZ_TARGETS="$*" 2>&1 | grep -E '^fuzz_|^fuzz:' || true
