# source_tail edge cases from issue 3: a directory matching the glob, a file
# truncated while followed, a file deleted while open, an inode reused by a
# new file while sluice was stopped, and a file sluice may not read. Each
# case: one clear log line, no crash, and another file keeps flowing.
. "$(dirname "$0")/common.bash"

D=$TMP/logs
SPID=""
OUT=$TMP/out.jsonl

pipeline() { # pipeline YAML LOGDIR STATEDIR OUT
    cat > "$1" <<YAML
service: { state_dir: $3, shutdown_timeout: 10s }
sources:
  t:
    plugin: tail
    paths: [$2/*.log]
    read_from: head
    refresh_interval: 100ms
    poll_interval: 20ms
    rotate_wait: 300ms
    checkpoint_interval: 100ms
sinks:
  out: { plugin: file, inputs: [t], path: $4, time_key: "" }
YAML
}
start() { # start [RUNNER...]: sluice run on $TMP/p.yaml, as RUNNER if given
    "$@" "$SLUICE" run "$TMP/p.yaml" 2>>"$TMP/log" & SPID=$!
}
stop() { kill -TERM "$SPID"; wait "$SPID" || fail "sluice exited $? ($(tail -5 "$TMP/log"))"; SPID=""; }
count() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
has_lines() { [ "$(count "$1")" -ge "$2" ]; }
wait_lines() { wait_for 30 has_lines "$1" "$2" || fail "$1 has $(count "$1") lines, want $2"; }
wait_log() { wait_for 30 grep -qF -- "$1" "$TMP/log" || fail "no '$1' in the log: $(tail -5 "$TMP/log")"; }
# write TAG FILE FROM TO: append lines "TAG <i> padding"
write() { python3 -c '
import sys
with open(sys.argv[2], "a") as f:
    for i in range(int(sys.argv[3]), int(sys.argv[4])):
        f.write("%s %d %s\n" % (sys.argv[1], i, "p" * (i % 53)))' "$@"; }
# exactly OUT TAG:N...: for each TAG, ids 0..N-1 each once, and no other tag
exactly() { python3 - "$@" <<'PY' || fail "$1: not every line exactly once"
import collections, json, sys
want = dict((t, int(n)) for t, n in (a.split(":") for a in sys.argv[2:]))
c = collections.Counter()
for l in open(sys.argv[1]):
    tag, i = json.loads(l)["message"].split()[:2]
    c[(tag, int(i))] += 1
bad = [k for k in c if k[0] not in want or k[1] >= want[k[0]]]
dups = [k for k, v in c.items() if v > 1]
missing = [(t, i) for t, n in want.items() for i in range(n) if c[(t, i)] == 0]
if bad or dups or missing:
    sys.exit(f"missing {len(missing)} {missing[:5]}, duplicated {len(dups)} {dups[:5]}, unexpected {bad[:5]}")
PY
}
log_count() { grep -cF -- "$1" "$TMP/log" || true; }
reset() { rm -rf "$D" "$TMP/state" "$OUT" "$TMP/log"; mkdir -p "$D"; : > "$TMP/log"; }

# 1. A directory whose name matches the glob: skipped, said once however
#    many scans meet it.
reset; pipeline "$TMP/p.yaml" "$D" "$TMP/state" "$OUT"
mkdir "$D/dir.log"; write o "$D/other.log" 0 500
start; wait_lines "$OUT" 500
sleep 0.6 # several refresh_interval scans
write o "$D/other.log" 500 1000; wait_lines "$OUT" 1000; stop
exactly "$OUT" o:1000
n=$(log_count "dir.log: matches paths but is a directory; skipped")
[ "$n" -eq 1 ] || fail "the directory was reported $n times, want once"
ok "a directory matching the glob: skipped with one log line, the other file flowed"

# 2. Truncated while followed: the size falls below the read offset, the
#    file is read again from 0 and the new lines arrive once.
reset; pipeline "$TMP/p.yaml" "$D" "$TMP/state" "$OUT"
write t "$D/trunc.log" 0 1000; write o "$D/other.log" 0 500
start; wait_lines "$OUT" 1500
: > "$D/trunc.log"
wait_log "trunc.log: truncated (size below the read offset); reading it again from the start"
write t "$D/trunc.log" 1000 1100; write o "$D/other.log" 500 1000
wait_lines "$OUT" 1600; sleep 0.3; stop
exactly "$OUT" t:1100 o:1000
ok "truncated while followed: restarted at 0 (logged), no line lost or repeated"

# 3. Deleted while open: the writer keeps its handle and writes on after
#    the unlink; everything it wrote is delivered, then the file is let go.
reset; pipeline "$TMP/p.yaml" "$D" "$TMP/state" "$OUT"
write o "$D/other.log" 0 500
start
python3 - "$D/del.log" "$OUT" <<'PY' || fail "writer: sluice never read the first lines"
import os, sys, time
path, out = sys.argv[1], sys.argv[2]
f = open(path, "a")
for i in range(0, 1000): f.write("d %d first\n" % i)
f.flush()
def lines():
    try: return sum(1 for _ in open(out))
    except FileNotFoundError: return 0
for _ in range(300):  # at most 30 s for sluice to open and read it
    if lines() >= 1500: break
    time.sleep(0.1)
else:
    sys.exit(1)
os.unlink(path)
for i in range(1000, 3000): f.write("d %d after-unlink\n" % i)
f.close()
PY
write o "$D/other.log" 500 1000
wait_lines "$OUT" 4000
wait_log "del.log: drained after rotation"; stop
exactly "$OUT" d:3000 o:1000
expect_in "$TMP/log" "del.log: renamed or deleted; reading what is left"
ok "deleted while open: the 2000 lines written after the unlink were delivered"

# 4. Inode reuse while stopped: a.log is read and checkpointed, deleted, and
#    a new file longer than the old offset gets the same inode. The
#    checkpoint's first-bytes fingerprint must refuse the old offset.
reset; pipeline "$TMP/p.yaml" "$D" "$TMP/state" "$OUT"
write a "$D/a.log" 0 1000; write o "$D/other.log" 0 500
start; wait_lines "$OUT" 1500; sleep 0.3; stop
old=$(stat -c %i "$D/a.log"); offset=$(stat -c %s "$D/a.log")
write b "$TMP/b.content" 0 3000
[ "$(stat -c %s "$TMP/b.content")" -gt "$offset" ] || fail "the new file must be longer than the old"
reused=0
for _ in $(seq 1 10); do
    rm -f "$D/a.log"; cp "$TMP/b.content" "$D/a.log"
    [ "$(stat -c %i "$D/a.log")" = "$old" ] && { reused=1; break; }
done # a miss frees the inode it took and tries again
if [ "$reused" -eq 1 ]; then
    write o "$D/other.log" 500 1000
    start; wait_lines "$OUT" 5000; sleep 0.3; stop
    exactly "$OUT" a:1000 b:3000 o:1000
    expect_in "$TMP/log" "a.log: first bytes differ from its checkpoint (inode reused or file replaced); reading it from the start"
    ok "inode $old reused by a new file while stopped: read from 0 (fingerprint), logged"
else
    echo "skip - inode reuse: this filesystem gave no freed inode back in 10 tries ($(df -T "$D" | awk 'NR==2{print $2}'))"
fi

# 5. An unreadable file: sluice runs unprivileged (CI is root, and root
#    reads anything) with a state directory it owns; the file is reported
#    once, the others flow, and once readable it is followed.
as_nobody=""
if command -v setpriv >/dev/null; then
    as_nobody="setpriv --reuid=nobody --regid=nogroup --clear-groups"
elif command -v runuser >/dev/null; then
    as_nobody="runuser -u nobody --"
fi
if [ "$(id -u)" -ne 0 ] || [ -z "$as_nobody" ] || ! id nobody >/dev/null 2>&1; then
    echo "skip - unreadable file: needs root and setpriv or runuser to run sluice as nobody"
else
    # nobody gets its own copies of the binary and plugins (the build tree
    # may sit under a directory it cannot enter) and a world-traversable path.
    U=$TMP/u; reset; mkdir -p "$U/bin/plugins" "$U/logs" "$U/state"
    chmod 711 "$TMP"
    cp "$SLUICE" "$U/bin/sluice"
    cp "$SLUICE_PLUGIN_PATH/source_tail.so" "$SLUICE_PLUGIN_PATH/sink_file.so" "$U/bin/plugins/"
    chmod -R a+rX "$U/bin"
    pipeline "$TMP/p.yaml" "$U/logs" "$U/state" "$U/out.jsonl"; chmod 644 "$TMP/p.yaml"
    write s "$U/logs/secret.log" 0 300; chmod 600 "$U/logs/secret.log"
    write o "$U/logs/other.log" 0 500
    chown nobody "$U/logs" "$U/state" "$U/logs/other.log"
    chown nobody "$U" # the sink creates out.jsonl here
    SLUICE=$U/bin/sluice SLUICE_PLUGIN_PATH=$U/bin/plugins start $as_nobody
    wait_lines "$U/out.jsonl" 500
    sleep 0.6 # several scans meet the unreadable file
    write o "$U/logs/other.log" 500 1000; wait_lines "$U/out.jsonl" 1000
    n=$(log_count "secret.log: cannot open: Permission denied")
    [ "$n" -eq 1 ] || fail "the unreadable file was reported $n times, want once ($(tail -5 "$TMP/log"))"
    chmod 644 "$U/logs/secret.log"
    wait_lines "$U/out.jsonl" 1300; sleep 0.3; stop
    exactly "$U/out.jsonl" s:300 o:1000
    expect_in "$TMP/log" "following $U/logs/secret.log from offset 0"
    ok "an unreadable file: one log line, the other file flowed, followed once readable"
fi
finish
