#!/bin/sh
# The core's unit tests and integration tests under valgrind memcheck.
#   scripts/memcheck.sh BUILD_DIR      (a build without SLUICE_SANITIZE)
# Every valgrind run writes its own log; any log with errors (invalid reads
# or writes, uninitialised values, definitely lost memory, fd misuse aside)
# fails the run and is printed. MEMCHECK_UNIT / MEMCHECK_INTEGRATION
# override the lists of tests (names without .c/.sh).
set -eu
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null || { echo "memcheck: valgrind is not installed (scripts/deps.sh)" >&2; exit 1; }

logs=$(mktemp -d /tmp/sluice-memcheck.XXXXXX)
trap 'rm -rf "$logs"' EXIT
vg="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
 --show-leak-kinds=definite --num-callers=30 --trace-children=no"

# A stand-in for the sluice binary that runs it under valgrind.
cat >"$logs/sluice" <<WRAP
#!/bin/sh
exec $vg --log-file=$logs/vg.sluice.%p.log "$build/sluice" "\$@"
WRAP
chmod +x "$logs/sluice"

unit=${MEMCHECK_UNIT:-$(cd "$src/tests/unit" && ls test_*.c | sed 's/\.c$//')}
integ=${MEMCHECK_INTEGRATION:-"cli graph stdin_fanout kit_pipetest harden_malformed"}
failed=""
for t in $unit; do
    printf 'memcheck unit %s ... ' "$t"
    if (cd "$build/tests" && $vg --log-file="$logs/vg.$t.%p.log" "./$t" >"$logs/$t.out" 2>&1); then
        echo ok
    else
        echo FAILED; failed="$failed $t"; tail -n 20 "$logs/$t.out" >&2
    fi
done
for t in $integ; do
    [ -f "$src/tests/integration/$t.sh" ] || { echo "memcheck: no integration test $t" >&2; exit 1; }
    printf 'memcheck integration %s ... ' "$t"
    if SLUICE="$logs/sluice" SL_BUILD="$build" SLUICE_PLUGIN_PATH="$build/plugins" \
        SL_SRC="$src" SL_TESTS="$src/tests" bash "$src/tests/integration/$t.sh" \
        >"$logs/$t.out" 2>&1; then
        echo ok
    else
        echo FAILED; failed="$failed $t"; tail -n 20 "$logs/$t.out" >&2
    fi
done
# A process whose exit code nobody checked (a background sluice) still left
# its log: any error summary above zero fails the run.
for l in "$logs"/vg.*.log; do
    [ -e "$l" ] || continue
    if grep -q "ERROR SUMMARY: [1-9]" "$l"; then
        echo "memcheck: errors in $(basename "$l"):" >&2
        cat "$l" >&2
        failed="$failed $(basename "$l")"
    fi
done
runs=$(ls "$logs"/vg.*.log 2>/dev/null | wc -l)
if [ -n "$failed" ]; then
    echo "memcheck: FAILED:$failed ($runs valgrind runs)" >&2
    exit 1
fi
echo "memcheck: $runs valgrind runs, no errors"
