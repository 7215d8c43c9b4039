# Resource limits: under `ulimit -n 256`, source_tail reads 1,000 files and
# every line of every file is delivered exactly once, in order within its
# file; the checkpoints of all 1,000 files are saved.
#
# First with --once and max_open_files left at its default (1024): the
# source lowers it to fit the limit (128) and the files take turns, so
# --once ends with exit 0 only after every file was read to its end. Then
# following (no --once) with max_open_files: 200, files past the cap
# waiting for a descriptor.
. "$(dirname "$0")/common.bash"
: "${SL_BUILD:?}"
NFILES=1000
NLINES=20

mkdir -p "$TMP/logs"
python3 - "$TMP/logs" "$NFILES" "$NLINES" <<'PY'
import os, sys
d, nf, nl = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for f in range(nf):
    with open(os.path.join(d, "f%04d.log" % f), "w") as out:
        for l in range(nl):
            out.write("file %d line %d\n" % (f, l))
PY

check_lines() { # check_lines OUT: every line of every file once, in file order
    python3 - "$1" "$NFILES" "$NLINES" <<'PY' || fail "delivered lines wrong"
import json, sys
path, nf, nl = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seen = {}
for raw in open(path, encoding="utf-8"):
    o = json.loads(raw)
    _, f, _, l = o["message"].split()
    seen.setdefault(int(f), []).append(int(l))
assert len(seen) == nf, "%d of %d files delivered" % (len(seen), nf)
for f, ls in seen.items():
    assert ls == list(range(nl)), "file %d: %s" % (f, ls[:5])
PY
}
no_emfile() { # no_emfile LOG
    if grep -q "Too many open files" "$1"; then
        grep -m 5 "Too many open files" "$1" >&2
        fail "ran out of file descriptors"
    fi
}
saved() { [ "$(grep -vc '^#' "$1/t/checkpoints" 2>/dev/null)" -eq "$NFILES" ]; }

# --- --once, default max_open_files ---------------------------------------
cat >"$TMP/once.yaml" <<YAML
service: { state_dir: $TMP/once-state, shutdown_timeout: 5s }
sources:
  t: { plugin: tail, paths: [$TMP/logs/*.log], read_from: head }
sinks:
  out: { plugin: file, inputs: [t], path: $TMP/once.jsonl }
YAML
rc=0
( ulimit -n 256 && exec timeout 120 "$SLUICE" run --once "$TMP/once.yaml" ) 2>"$TMP/once.log" || rc=$?
[ "$rc" -eq 0 ] || { tail -n 20 "$TMP/once.log"; fail "--once exited $rc"; }
ok "--once read $NFILES files under ulimit -n 256 and exited 0"
expect_in "$TMP/once.log" "max_open_files 1024 lowered to 128"
[ "$(grep -c 'lowered to' "$TMP/once.log")" -eq 1 ] || fail "the lowering was logged more than once"
ok "max_open_files lowered to fit the limit (128), logged once"
no_emfile "$TMP/once.log"
[ "$(wc -l <"$TMP/once.jsonl")" -eq $((NFILES * NLINES)) ] ||
    fail "--once delivered $(wc -l <"$TMP/once.jsonl") lines, expected $((NFILES * NLINES))"
check_lines "$TMP/once.jsonl"
ok "--once: all $((NFILES * NLINES)) lines delivered once, in order per file"
saved "$TMP/once-state" || fail "--once: checkpoints do not cover all $NFILES files"
ok "--once: checkpoints of all $NFILES files saved"

# --- following, max_open_files: 200 ---------------------------------------
cat >"$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state, shutdown_timeout: 5s }
sources:
  t: { plugin: tail, paths: [$TMP/logs/*.log], read_from: head, max_open_files: 200,
       checkpoint_interval: 100ms }
sinks:
  out: { plugin: file, inputs: [t], path: $TMP/out.jsonl }
YAML

# A subshell, so only sluice runs with the lowered limit.
( ulimit -n 256 && exec "$SLUICE" run "$TMP/p.yaml" ) 2>"$TMP/log" &
pid=$!
all_in() {
    kill -0 "$pid" 2>/dev/null || fail "sluice exited: $(tail -n 20 "$TMP/log")"
    [ -f "$TMP/out.jsonl" ] && [ "$(wc -l <"$TMP/out.jsonl")" -ge $((NFILES * NLINES)) ]
}
wait_for 120 all_in || { tail -n 20 "$TMP/log"; fail "only $(wc -l <"$TMP/out.jsonl") lines delivered"; }
wait_for 30 saved "$TMP/state" || fail "checkpoints do not cover all $NFILES files"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { tail -n 20 "$TMP/log"; fail "exited $rc after SIGTERM"; }
ok "$NFILES files followed under ulimit -n 256, stopped cleanly"
no_emfile "$TMP/log"
ok "never ran out of file descriptors"
check_lines "$TMP/out.jsonl"
ok "all $((NFILES * NLINES)) lines delivered once, in order per file"

# --- following, max_open_files: 2, two files with more than a turn's data --
# Each turn reads at most 8 MiB of a file, so the two 24 MiB files still
# have data after their first turn; the six small files must get their turn
# then (taking the big files' descriptors), not only once the big ones are
# read to their end.
mkdir -p "$TMP/fair"
python3 - "$TMP/fair" <<'PY'
import os, sys
d = sys.argv[1]
for b in range(2):
    with open(os.path.join(d, "a-big%d.log" % b), "w") as out:
        for l in range(24 * 1024):
            out.write("big %d line %d %s\n" % (b, l, "x" * 1000))
for f in range(6):
    with open(os.path.join(d, "b-small%d.log" % f), "w") as out:
        out.write("small %d line 0\n" % f)
PY
cat >"$TMP/fair.yaml" <<YAML
service: { state_dir: $TMP/fair-state, shutdown_timeout: 5s }
sources:
  t: { plugin: tail, paths: [$TMP/fair/*.log], read_from: head, max_open_files: 2 }
sinks:
  out: { plugin: file, inputs: [t], path: $TMP/fair.jsonl }
YAML
"$SLUICE" run "$TMP/fair.yaml" 2>"$TMP/fair.log" &
pid=$!
fair_in() {
    kill -0 "$pid" 2>/dev/null || fail "sluice exited: $(tail -n 20 "$TMP/fair.log")"
    [ -f "$TMP/fair.jsonl" ] && [ "$(wc -l <"$TMP/fair.jsonl")" -ge $((2 * 24 * 1024 + 6)) ]
}
wait_for 120 fair_in || fail "only $(wc -l <"$TMP/fair.jsonl") lines delivered"
kill -TERM "$pid"
wait "$pid" || fail "exited $? after SIGTERM"
python3 - "$TMP/fair.jsonl" <<'PY' || fail "small files waited for the big ones"
import json, sys
first_small, last_big, n = {}, 0, 0
for i, raw in enumerate(open(sys.argv[1], encoding="utf-8")):
    m = json.loads(raw)["message"].split()
    n += 1
    if m[0] == "small":
        first_small.setdefault(m[1], i)
    else:
        last_big = i
assert n == 2 * 24 * 1024 + 6, n
assert len(first_small) == 6, first_small
late = [f for f, i in first_small.items() if i > last_big]
assert not late, "small files %s only after the big files ended" % late
PY
ok "max_open_files: 2: small files read while two big files still had data"
finish
