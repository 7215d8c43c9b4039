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
vg="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
vg="$vg --show-leak-kinds=definite --num-callers=30 --trace-children=no"

# A stand-in for the sluice binary that runs it under valgrind.
cat >"$logs/sluice" <<WRAP
#!/bin/sh
exec $vg --log-file=$logs/vg.sluice.%p.log "$build/sluice" "\$@"
WRAP
chmod +x "$logs/sluice"

# test_allocfail brings its own malloc, which valgrind replaces in the main
# program as well; it runs under ASan and LSan in `make test` instead.
unit=${MEMCHECK_UNIT:-$(cd "$src/tests/unit" && ls test_*.c | sed 's/\.c$//' | grep -vx test_allocfail)}
# (admin.sh expects /health ready as soon as the endpoint is up: too tight
# under valgrind's slowdown, so it is not in the default list.)
integ=${MEMCHECK_INTEGRATION:-"cli graph stdin_fanout kit_pipetest parse_formats activity_pipeline harden_malformed harden_nofile"}
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
