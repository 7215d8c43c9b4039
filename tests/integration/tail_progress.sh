# source_tail's --once progress line: shown on stderr when it is a terminal
# (script(1) gives sluice a pty), ending on the 100% line with the line
# count; absent with quiet: true, and absent when stderr is not a terminal.
. "$(dirname "$0")/common.bash"

mkdir -p "$TMP/logs"
python3 -c '
import sys
with open(sys.argv[1], "w") as f:
    for i in range(5000): f.write("n %d %s\n" % (i, "q" * (i % 80)))' "$TMP/logs/a.log"
pipeline() { # pipeline QUIET
    rm -rf "$TMP/state"
    cat > "$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state }
sources:
  t: { plugin: tail, paths: [$TMP/logs/*.log], read_from: head, quiet: $1 }
sinks:
  n: { plugin: "null", inputs: [t] }
YAML
}
final='tail: 230.1 KiB / 230.1 KiB (100%), 5000 lines, '
[ "$(stat -c %s "$TMP/logs/a.log")" -eq 235590 ] || fail "the input is not the expected 235590 bytes"

# Not a terminal: logs captured to a file carry no progress line.
pipeline false
"$SLUICE" run "$TMP/p.yaml" --once 2>"$TMP/plain.log" </dev/null || fail "sluice --once failed"
expect_in "$TMP/plain.log" "discarded 5000 events"
if grep -qF "lines/s" "$TMP/plain.log" || grep -q $'\033' "$TMP/plain.log"; then
    fail "progress written to a stderr that is not a terminal"
fi
ok "stderr not a terminal: no progress line"

if ! command -v script >/dev/null; then
    echo "skip - terminal cases: no script(1) (util-linux); test_tail_progress covers the formatting"
    finish; exit 0
fi
on_tty() { # on_tty OUT: sluice --once with a pty as its terminal
    script -q -e -c "\"$SLUICE\" run \"$TMP/p.yaml\" --once" /dev/null </dev/null >"$1" 2>&1 ||
        fail "sluice --once under script exited $? ($(tail -3 "$1"))"
}
pipeline false; on_tty "$TMP/tty.out"
expect_in "$TMP/tty.out" "discarded 5000 events"
expect_in "$TMP/tty.out" "$final"
expect_in "$TMP/tty.out" $'\r\033[K'"tail: "
grep -qF "done in" "$TMP/tty.out" || fail "no final 'done in' on the progress line"
ok "stderr a terminal: the progress line ends at 100% with 5000 lines"

pipeline true; on_tty "$TMP/quiet.out"
expect_in "$TMP/quiet.out" "discarded 5000 events"
if grep -qF "lines/s" "$TMP/quiet.out"; then fail "quiet: true still drew progress"; fi
ok "quiet: true on a terminal: no progress line"
finish
