# Resource limits: a full disk under state_dir. source_tail keeps delivering,
# reports that it cannot save its checkpoints, never leaves a damaged
# checkpoint file (the last good one stays in place), and saves again once
# there is room.
#
# The state_dir is a 256 KiB tmpfs in a private mount namespace, so the test
# needs root (as in CI's container); elsewhere it says so and skips.
. "$(dirname "$0")/common.bash"
need_mount_ns "$@"

mkdir -p "$TMP/state" "$TMP/logs"
mount_small_fs "$TMP/state" 256k

seq 1 100 | sed 's/^/line /' >"$TMP/logs/a.log"
cat >"$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state }
sources:
  t: { plugin: tail, paths: [$TMP/logs/*.log], read_from: head, checkpoint_interval: 100ms }
sinks:
  out: { plugin: file, inputs: [t], path: $TMP/out.jsonl }
YAML
CK=$TMP/state/t/checkpoints

"$SLUICE" run "$TMP/p.yaml" 2>"$TMP/log" &
pid=$!
# offset_is N: the checkpoint of a.log says N bytes are done
offset_is() {
    kill -0 "$pid" 2>/dev/null || fail "sluice exited: $(tail -n 5 "$TMP/log")"
    [ "$(awk '!/^#/ {print $3}' "$CK" 2>/dev/null)" = "$1" ]
}
lines_out() { [ "$(wc -l <"$TMP/out.jsonl" 2>/dev/null || echo 0)" -ge "$1" ]; }
size1=$(stat -c %s "$TMP/logs/a.log")
wait_for 30 offset_is "$size1" || { cat "$TMP/log"; fail "first checkpoint not saved"; }
cp "$CK" "$TMP/ck.good"
ok "checkpoint saved while there is room"

# Fill the disk, then give the source more to read.
dd if=/dev/zero of="$TMP/state/filler" bs=4k 2>/dev/null || true
seq 101 200 | sed 's/^/line /' >>"$TMP/logs/a.log"
wait_for 30 lines_out 200 || fail "delivery stopped when state_dir filled up"
wait_for 30 grep -q "No space left on device" "$TMP/log" || { cat "$TMP/log"; fail "no error about the full disk"; }
ok "delivery goes on with state_dir full; the error is reported"

cmp -s "$CK" "$TMP/ck.good" || { cat "$CK"; fail "checkpoint file changed while the disk was full"; }
ok "the last good checkpoint file is intact"

rm -f "$TMP/state/filler"
size2=$(stat -c %s "$TMP/logs/a.log")
wait_for 30 offset_is "$size2" || { cat "$CK" "$TMP/log"; fail "checkpoints not saved after room came back"; }
ok "checkpoints saved again once there is room"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { tail -n 20 "$TMP/log"; fail "exited $rc after SIGTERM"; }
[ "$(wc -l <"$TMP/out.jsonl")" -eq 200 ] || fail "$(wc -l <"$TMP/out.jsonl") lines delivered, want 200"
ok "200 lines delivered once, clean stop"
finish
