# source_tail rotation matrix: lines are written while the file is rotated
# (rename+create, copytruncate, delete+recreate, while the sink is blocked,
# while sluice is stopped, graceful restart mid-file); the sink must hold
# every line exactly once.
. "$(dirname "$0")/common.bash"

D=$TMP/logs
mkdir -p "$D"
SPID=""

pipeline() { # pipeline OUTFILE
    cat > "$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state, shutdown_timeout: 10s, queue_max_bytes: 256KiB }
sources:
  t:
    plugin: tail
    paths: [$D/access.log]
    read_from: head
    refresh_interval: 100ms
    poll_interval: 20ms
    rotate_wait: 3s
    checkpoint_interval: 100ms
sinks:
  out: { plugin: file, inputs: [t], path: $1, time_key: "" }
YAML
}
start() { "$SLUICE" run "$TMP/p.yaml" 2>>"$TMP/log" 7>&- & SPID=$!; }
stop() { kill -TERM "$SPID"; wait "$SPID" || fail "sluice exited $? (log: $(tail -5 "$TMP/log"))"; SPID=""; }
count() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
has_lines() { [ "$(count "$1")" -ge "$2" ]; }
wait_lines() { # wait_lines FILE N
    wait_for 30 has_lines "$1" "$2" || fail "$1 has $(count "$1") lines, want $2"
}
# write FILE FROM TO: append lines "n <i> ...padding..."
write() { python3 -c '
import sys
with open(sys.argv[1], "a") as f:
    for i in range(int(sys.argv[2]), int(sys.argv[3])):
        f.write("n %d %s\n" % (i, "x" * (i % 97)))' "$@"; }
# exactly_once FILE N: ids 0..N-1 each once
exactly_once() { python3 - "$1" "$2" <<'PY' || fail "$1: not every line exactly once"
import collections, json, sys
c = collections.Counter(int(json.loads(l)["message"].split()[1]) for l in open(sys.argv[1]))
n = int(sys.argv[2])
missing = [i for i in range(n) if c[i] == 0]
dups = [i for i, k in c.items() if k > 1]
extra = [i for i in c if i >= n]
if missing or dups or extra:
    sys.exit(f"missing {len(missing)} (first {missing[:5]}), duplicated {len(dups)} (first {dups[:5]}), unexpected {extra[:5]}")
PY
}
reset() { [ -n "$SPID" ] && stop; rm -rf "$D" "$TMP/state" "$TMP"/out*.jsonl; mkdir -p "$D"; }

# 1. rename and create (logrotate's default); the writer keeps its old
#    handle for a while, as nginx does until it gets USR1.
pipeline "$TMP/out.jsonl"; start
write "$D/access.log" 0 2000
python3 - "$D" <<'PY'
import os, sys, time
d = sys.argv[1]
n = 2000
for r in range(3):
    old = open(f"{d}/access.log", "a")
    os.rename(f"{d}/access.log", f"{d}/access.log.{r}")
    for i in range(n, n + 500):
        old.write("n %d rotated-handle\n" % i)
        if i % 100 == 0: old.flush(); time.sleep(0.01)
    old.close(); n += 500
    with open(f"{d}/access.log", "a") as f:
        for i in range(n, n + 1500):
            f.write("n %d new\n" % i)
    n += 1500
    time.sleep(0.2)
PY
# rotate_wait is how long a renamed file may stay idle and still get lines:
# long enough for a writer the test machine starves of CPU for a while.
wait_lines "$TMP/out.jsonl" 8000
wait_for 60 grep -q "drained after rotation" "$TMP/log" || fail "no rotated file was drained"
stop
exactly_once "$TMP/out.jsonl" 8000
expect_in "$TMP/log" "renamed or deleted; reading what is left"
ok "rename+create three times while writing: 8000 lines exactly once"

# 2. copytruncate: copy, truncate, and the writer at once writes more bytes
#    than were there, before the next poll: detected by the bytes before
#    the offset, read from 0, not resumed mid-garbage.
reset; pipeline "$TMP/out.jsonl"; start
write "$D/access.log" 0 2000
wait_lines "$TMP/out.jsonl" 2000
cp "$D/access.log" "$D/access.log.1"; : > "$D/access.log"; write "$D/access.log" 2000 5000
wait_lines "$TMP/out.jsonl" 5000
cp "$D/access.log" "$D/access.log.2"; : > "$D/access.log"; sleep 0.3; write "$D/access.log" 5000 5100
wait_lines "$TMP/out.jsonl" 5100; sleep 0.3; stop
exactly_once "$TMP/out.jsonl" 5100
expect_in "$TMP/log" "reading it again from the start"
ok "copytruncate (regrown before the poll, and plain): every line exactly once"

# 3. delete and recreate while the writer still holds the deleted file.
reset; pipeline "$TMP/out.jsonl"; start
python3 - "$D" <<'PY'
import os, sys, time
d = sys.argv[1]
old = open(f"{d}/access.log", "a")
for i in range(0, 2000): old.write("n %d\n" % i)
old.flush(); time.sleep(0.3)
os.unlink(f"{d}/access.log")
for i in range(2000, 2300): old.write("n %d deleted-but-open\n" % i)
old.close()
with open(f"{d}/access.log", "a") as f:
    for i in range(2300, 4000): f.write("n %d recreated\n" % i)
PY
wait_lines "$TMP/out.jsonl" 4000; sleep 0.3; stop
exactly_once "$TMP/out.jsonl" 4000
ok "delete+recreate: lines written to the deleted file and the new one, exactly once"

# 4. rotation while the sink is blocked: the sink writes into a FIFO whose
#    reader is stopped, so queues fill and the source waits inside emit.
reset; mkfifo "$TMP/fifo"
cat "$TMP/fifo" > "$TMP/out.jsonl" & CAT=$!
pipeline "$TMP/fifo"; start
write "$D/access.log" 0 20000
sleep 0.3; kill -STOP $CAT; sleep 0.2
write "$D/access.log" 20000 40000
mv "$D/access.log" "$D/access.log.1"; write "$D/access.log" 40000 60000
sleep 0.5; kill -CONT $CAT
wait_lines "$TMP/out.jsonl" 60000; sleep 1.5; stop; wait $CAT
exactly_once "$TMP/out.jsonl" 60000
ok "rotation while the sink is blocked: 60000 lines exactly once"

# 5. rotation while sluice is stopped: the old file's rest is found beside
#    its old name, the new file is read from its start.
reset; pipeline "$TMP/out.jsonl"; start
write "$D/access.log" 0 1000
wait_lines "$TMP/out.jsonl" 1000; stop
write "$D/access.log" 1000 1500
mv "$D/access.log" "$D/access.log.1"; write "$D/access.log" 1500 2200
start; wait_lines "$TMP/out.jsonl" 2200; sleep 0.3; stop
exactly_once "$TMP/out.jsonl" 2200
expect_in "$TMP/log" "was rotated to $D/access.log.1 while stopped"
ok "rotation while stopped: the rest of the old file and the new file, exactly once"

# 6. graceful restart mid-file: the sink's reader is paused (and the queue
#    small) so the source is mid-file when stopped; the drain then completes, and a second run
#    continues exactly after the last acknowledged line.
reset; mkfifo "$TMP/fifo2"
write "$D/access.log" 0 200000
exec 7<>"$TMP/fifo2" # opens without waiting, so cat and the sink never block in open
cat "$TMP/fifo2" > "$TMP/out.jsonl" 7>&- & CAT=$!
sleep 0.2; kill -STOP $CAT
pipeline "$TMP/fifo2"; start; sleep 0.5
kill -TERM "$SPID"; sleep 0.2; kill -CONT $CAT
wait "$SPID" || fail "first run exited $? ($(tail -3 "$TMP/log"))"; SPID=""
exec 7>&-; wait $CAT
got=$(count "$TMP/out.jsonl")
[ "$got" -lt 200000 ] || fail "the first run read the whole file; cannot test a restart mid-file"
pipeline "$TMP/out.jsonl"; start; wait_lines "$TMP/out.jsonl" 200000; sleep 0.3; stop
exactly_once "$TMP/out.jsonl" 200000
ok "restart after $got of 200000 lines: continued exactly after the last acknowledged line"
finish
