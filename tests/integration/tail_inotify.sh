# source_tail with inotify: with poll_interval and refresh_interval at an
# hour, only inotify can bring new lines and new files within the test, so
# each wait below passes only if the directory events woke the source.
# inotify: false falls back to polling alone, which still delivers.
. "$(dirname "$0")/common.bash"

D=$TMP/logs
mkdir -p "$D"
SPID=""
pipeline() { # pipeline INOTIFY POLL
    cat > "$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state, shutdown_timeout: 10s }
sources:
  t:
    plugin: tail
    paths: [$D/*.log]
    exclude: [skip.log]
    read_from: head
    inotify: $1
    poll_interval: $2
    refresh_interval: 1h
    checkpoint_interval: 100ms
sinks:
  out: { plugin: file, inputs: [t], path: $D/out.jsonl, time_key: "" }
YAML
}
start() { "$SLUICE" run "$TMP/p.yaml" --log-level debug 2>>"$TMP/log" & SPID=$!; }
stop() { kill -TERM "$SPID"; wait "$SPID" || fail "sluice exited $? ($(tail -5 "$TMP/log"))"; SPID=""; }
count() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
has_lines() { [ "$(count "$1")" -ge "$2" ]; }
wait_lines() { wait_for 30 has_lines "$1" "$2" || fail "$1 has $(count "$1") lines, want $2 ($(tail -3 "$TMP/log"))"; }
write() { python3 -c '
import sys
with open(sys.argv[2], "a") as f:
    for i in range(int(sys.argv[3]), int(sys.argv[4])): f.write("%s %d\n" % (sys.argv[1], i))' "$@"; }
exactly() { python3 - "$@" <<'PY' || fail "$1: not every line exactly once"
import collections, json, sys
want = dict((t, int(n)) for t, n in (a.split(":") for a in sys.argv[2:]))
c = collections.Counter(tuple(json.loads(l)["message"].split()[:2]) for l in open(sys.argv[1]))
exp = collections.Counter((t, str(i)) for t, n in want.items() for i in range(n))
if c != exp:
    sys.exit(f"got {sum(c.values())} lines, {len(c - exp)} unexpected, {len(exp - c)} missing")
PY
}

pipeline true 1h
write a "$D/a.log" 0 100
start; wait_lines "$D/out.jsonl" 100
# The sink appends to out.jsonl in the watched directory; that must not
# count as news. New lines in a followed file must.
write a "$D/a.log" 100 300; wait_lines "$D/out.jsonl" 300
ok "inotify: lines appended to a followed file arrive without waiting for the poll"

write b "$D/b.log" 0 50; wait_lines "$D/out.jsonl" 350
expect_in "$TMP/log" "following $D/b.log from offset 0"
ok "inotify: a file created after start is followed without waiting for the refresh"

# logrotate's rename and create: the new file is found at once, the rest
# of the old one is read through the open descriptor.
mv "$D/a.log" "$D/a.log.1"; write a "$D/a.log" 300 400; wait_lines "$D/out.jsonl" 450
write b "$D/skip.log" 0 10 # excluded: wakes nothing that reads it
stop
exactly "$D/out.jsonl" a:400 b:50
expect_in "$TMP/log" "inotify: watching 1 directories"
ok "inotify: rename and create picked up at once; the excluded file stayed out"

# Fallback: polling alone (inotify: false) still delivers, and nothing is
# watched.
rm -rf "$D" "$TMP/state"; mkdir -p "$D"; : > "$TMP/log"
pipeline false 50ms
write a "$D/a.log" 0 100
start; wait_lines "$D/out.jsonl" 100
write a "$D/a.log" 100 200; write b "$D/b.log" 0 10 # b.log waits for refresh_interval
wait_lines "$D/out.jsonl" 200; stop
exactly "$D/out.jsonl" a:200
if grep -qF "inotify: watching" "$TMP/log"; then fail "inotify: false still watched"; fi
ok "inotify: false: polling alone delivers appended lines"
finish
