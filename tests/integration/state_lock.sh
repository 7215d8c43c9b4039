#!/usr/bin/env bash
# One process per state directory: a second `sluice run` on the same
# state_dir is refused with the holder's pid; a state_dir another user can
# write into is refused; the lock goes with the process (kill -9 included).
. "$(dirname "$0")/common.bash"

cat >"$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state }
sources:
  in: { plugin: stdin }
sinks:
  out: { plugin: null, inputs: [in] }
YAML

mkfifo "$TMP/fifo"
"$SLUICE" run "$TMP/p.yaml" <"$TMP/fifo" >"$TMP/first.out" 2>"$TMP/first.err" &
first=$!
exec 3>"$TMP/fifo" # keep stdin open: the first run stays up
wait_for 30 grep -q "running" "$TMP/first.err" || { cat "$TMP/first.err" >&2; fail "first run did not start"; }
[ "$(stat -c %a "$TMP/state")" = 700 ] || fail "a new state_dir should be 0700"

expect_rc 3 "$SLUICE" run "$TMP/p.yaml" </dev/null
expect_in "$TMP/err" "is in use by another sluice (pid $first)"
ok "second process on the same state_dir refused, naming the holder"

kill -9 "$first"
wait "$first" 2>/dev/null || true
exec 3>&-
expect_rc 0 "$SLUICE" run "$TMP/p.yaml" --once </dev/null
ok "the lock goes with the process (after kill -9 the next run starts)"

chmod 0777 "$TMP/state"
expect_rc 3 "$SLUICE" run "$TMP/p.yaml" --once </dev/null
expect_in "$TMP/err" "is writable by every user"
chmod 0700 "$TMP/state"
ok "a world-writable state_dir is refused"

# A symlink planted where a state file's temporary goes is not followed.
seq 1 5 | sed 's/^/line /' >"$TMP/a.log"
cat >"$TMP/t.yaml" <<YAML
service: { state_dir: $TMP/tstate }
sources:
  t: { plugin: tail, paths: [$TMP/a.log] }
sinks:
  out: { plugin: null, inputs: [t] }
YAML
mkdir -p "$TMP/tstate/t"
chmod 700 "$TMP/tstate" "$TMP/tstate/t"
echo precious >"$TMP/victim"
ln -s "$TMP/victim" "$TMP/tstate/t/checkpoints.tmp"
expect_rc 0 "$SLUICE" run "$TMP/t.yaml" --once
[ "$(cat "$TMP/victim")" = precious ] || fail "the planted symlink was written through"
[ -f "$TMP/tstate/t/checkpoints" ] && [ ! -L "$TMP/tstate/t/checkpoints" ] || fail "no checkpoint saved"
[ "$(stat -c %a "$TMP/tstate/t/checkpoints")" = 600 ] || fail "the checkpoint file is not 0600"
ok "a symlink planted at checkpoints.tmp is not followed; the checkpoint is a private file"

if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
    chown nobody "$TMP/state"
    expect_rc 3 "$SLUICE" run "$TMP/p.yaml" --once </dev/null
    expect_in "$TMP/err" "belongs to uid"
    ok "a state_dir owned by another user is refused"
fi
finish
