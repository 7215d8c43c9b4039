# `run --once` on a tail source is a backfill: a file with no checkpoint is
# read from its start whatever read_from says (its default, end, would read
# nothing), and the checkpoint it leaves covers exactly the lines read, so
# the next --once reads only what was appended.
. "$(dirname "$0")/common.bash"

printf 'one\ntwo\nthree\n' >"$TMP/app.log"
cat >"$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state }
sources: { t: { plugin: tail, paths: [$TMP/*.log] } }
sinks: { out: { plugin: file, inputs: [t], path: $TMP/out.jsonl } }
YAML
lines() { [ -f "$TMP/out.jsonl" ] && wc -l <"$TMP/out.jsonl" || echo 0; }

expect_rc 0 "$SLUICE" run "$TMP/p.yaml" --once
[ "$(lines)" -eq 3 ] || fail "first --once wrote $(lines) lines, want 3 (read_from: end must not apply)"
ok "a first --once reads a file from its start with read_from left at its default"

expect_rc 0 "$SLUICE" run "$TMP/p.yaml" --once
[ "$(lines)" -eq 3 ] || fail "second --once wrote again: $(lines) lines"
printf 'four\n' >>"$TMP/app.log"
printf 'new\n' >"$TMP/other.log"
expect_rc 0 "$SLUICE" run "$TMP/p.yaml" --once
[ "$(lines)" -eq 5 ] || fail "third --once: $(lines) lines, want 5"
grep -q '"message":"four"' "$TMP/out.jsonl" || fail "the appended line is missing"
grep -q '"message":"new"' "$TMP/out.jsonl" || fail "the new file's line is missing"
ok "the next --once reads only what came since, and new files from their start"

expect_rc 0 "$SLUICE" run --help
expect_in "$TMP/out" "backfill"
ok "run --help says --once is a backfill"
finish
