#!/usr/bin/env bash
# bench/parse-compare.sh OLD_BUILD NEW_BUILD [LINES] [ROUNDS]: bench/parse.sh on
# two builds in one run, interleaved (OLD, NEW, OLD, NEW, ...) so both see the
# same machine, then one instruction count of each under callgrind on 100,000
# lines (load does not change it). Both run this tree's parse.sh and pipeline,
# each with its own binary and plugins; for a build of another commit:
#   git worktree add /tmp/old <commit> && cmake -S /tmp/old -B /tmp/old/build && cmake --build /tmp/old/build
#   bench/parse-compare.sh /tmp/old/build build
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OLD=$(cd "$1" && pwd); NEW=$(cd "$2" && pwd)
LINES=${3:-1000000}; ROUNDS=${4:-5}
run() { # run NAME BUILD [ENV=VALUE...]: one parse.sh row
    local name=$1 build=$2; shift 2
    echo "| $name $(env "$@" bash "$HERE/parse.sh" "$build" "$LINES" | sed 's/^| //')"
}
echo "| build, lines | lines/s | wall | CPU | CPU-s per million lines | peak RSS |"
echo "|---|---|---|---|---|---|"
for _ in $(seq "$ROUNDS"); do
    run old "$OLD"
    run new "$NEW"
done
LINES=100000
echo
echo "| build, lines | instructions | per line |"
echo "|---|---|---|"
run old "$OLD" BENCH_CALLGRIND=1
run new "$NEW" BENCH_CALLGRIND=1
