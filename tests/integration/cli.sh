# The command line: help, version, validate, plugins, exit codes, signals.
. "$(dirname "$0")/common.bash"

expect_rc 0 "$SLUICE" --help
expect_in "$TMP/out" "Exit codes"
expect_rc 0 "$SLUICE" run --help
expect_in "$TMP/out" "--once"
expect_rc 2 "$SLUICE"
expect_rc 2 "$SLUICE" frobnicate
expect_in "$TMP/err" "unknown command 'frobnicate'"
expect_rc 2 "$SLUICE" run
expect_rc 2 "$SLUICE" validate a.yaml --bogus
ok "help and usage errors"

expect_rc 0 "$SLUICE" version
expect_in "$TMP/out" "plugin ABI 2."
ok "version"

expect_rc 0 "$SLUICE" plugins list
for p in "source    stdin" "source    generate" "enricher  modify" "sink      stdout" "sink      file" "sink      null"; do
    expect_in "$TMP/out" "$p"
done
expect_rc 0 "$SLUICE" plugins describe file
expect_in "$TMP/out" "sink file"
expect_in "$TMP/out" "path"
expect_in "$TMP/out" "required"
expect_rc 0 "$SLUICE" plugins describe source_generate
expect_in "$TMP/out" "rate"
expect_rc 1 "$SLUICE" plugins describe nosuch
expect_in "$TMP/err" "no plugin named 'nosuch'"
ok "plugins list and describe"

# The flagship pipeline (what `make demo` runs) with its environment set.
export ONEENTRY_URL=http://127.0.0.1:9 ONEENTRY_TOKEN=t SLUICE_GUEST_ID_KEY=0123456789abcdef0123
FLAGSHIP=$SL_SRC/pipelines/nginx-to-oneentry.yaml
expect_rc 0 "$SLUICE" validate "$FLAGSHIP"
expect_in "$TMP/out" "valid (1 sources, 2 enrichers, 1 sinks)"
ok "validate the flagship pipeline"

expect_rc 0 "$SLUICE" graph "$FLAGSHIP"
expect_in "$TMP/out" "enricher parsed               (parse) <- access -> activity"
expect_rc 0 "$SLUICE" graph "$FLAGSHIP" --dot
expect_in "$TMP/out" '"activity" -> "oneentry";'
ok "graph as text and as Graphviz"

# Several problems at once: every one is listed with its location.
cat >"$TMP/bad.yaml" <<'YAML'
service:
  queue_max_bytes: lots
sources:
  in: { plugin: stdin, batch_max_evnts: 5 }
sinks:
  out: { plugin: nosuch, inputs: [in] }
  file: { plugin: file, inputs: [inn] }
YAML
expect_rc 1 "$SLUICE" validate "$TMP/bad.yaml"
expect_in "$TMP/err" "bad.yaml:2:20: service.queue_max_bytes"
expect_in "$TMP/err" "bad.yaml:4:24: "
expect_in "$TMP/err" "did you mean 'batch_max_events'"
expect_in "$TMP/err" "unknown sink plugin 'nosuch'"
expect_in "$TMP/err" "missing required option 'path'"
expect_in "$TMP/err" "unknown input 'inn'"
ok "validate lists every error with file:line:col"

cat >"$TMP/env.yaml" <<'YAML'
sources:
  in: { plugin: stdin }
sinks:
  out: { plugin: file, inputs: [in], path: "${SLUICE_TEST_UNSET_VAR}/x" }
YAML
unset SLUICE_TEST_UNSET_VAR
expect_rc 1 "$SLUICE" validate "$TMP/env.yaml"
expect_in "$TMP/err" "env.yaml:4:"
expect_in "$TMP/err" "SLUICE_TEST_UNSET_VAR"
SLUICE_TEST_UNSET_VAR=$TMP expect_rc 0 "$SLUICE" validate "$TMP/env.yaml"
expect_rc 1 "$SLUICE" run "$TMP/bad.yaml"
ok "interpolation errors; run refuses an invalid pipeline with exit 1"

# SIGTERM: sources stop, everything in flight is drained, exit 0, no gaps.
cat >"$TMP/gen.yaml" <<YAML
service: { state_dir: $TMP/state }
sources:
  gen: { plugin: generate, rate: 5000 }
sinks:
  out: { plugin: file, inputs: [gen], path: $TMP/gen.jsonl }
YAML
"$SLUICE" run "$TMP/gen.yaml" 2>"$TMP/gen.log" &
pid=$!
over_100() { [ -f "$TMP/gen.jsonl" ] && [ "$(wc -l <"$TMP/gen.jsonl")" -gt 100 ]; }
wait_for 60 over_100 || fail "fewer than 100 events written"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { cat "$TMP/gen.log"; fail "SIGTERM exit code $rc"; }
python3 - "$TMP/gen.jsonl" <<'PY'
import json, sys
seqs = [json.loads(l)["seq"] for l in open(sys.argv[1])]
assert seqs == list(range(1, len(seqs) + 1)), "gap or reorder in generated sequence"
assert len(seqs) > 100, len(seqs)
print(f"{len(seqs)} events, contiguous")
PY
expect_in "$TMP/gen.log" "stop requested; draining"
ok "SIGTERM drains and exits 0"

# generate's keys: key-<seq mod keys>, for spreading a load test over visitors.
cat >"$TMP/keys.yaml" <<YAML
sources:
  gen: { plugin: generate, count: 5, keys: 3 }
sinks:
  out: { plugin: stdout, inputs: [gen], time_key: "" }
YAML
expect_rc 0 "$SLUICE" run "$TMP/keys.yaml"
[ "$(sed 's/.*"key":"\([^"]*\)".*/\1/' "$TMP/out" | tr '\n' ' ')" = "key-1 key-2 key-0 key-1 key-2 " ] ||
    { cat "$TMP/out"; fail "generate keys: 3"; }
sed -i 's/keys: 3/keys: -1/' "$TMP/keys.yaml"
expect_rc 1 "$SLUICE" run "$TMP/keys.yaml"
expect_in "$TMP/err" "keys.yaml:2:44: source 'gen': option 'keys' must be at least 0, got \"-1\""
expect_rc 1 "$SLUICE" validate "$TMP/keys.yaml"
ok "generate keys: 3 gives key-1 key-2 key-0 ...; a negative keys is refused before anything starts, located"

# A sink that cannot start: nothing runs, exit 3, the reason is printed.
cat >"$TMP/noperm.yaml" <<YAML
sources:
  gen: { plugin: generate, count: 5 }
sinks:
  out: { plugin: file, inputs: [gen], path: /proc/nonexistent/x.jsonl }
YAML
expect_rc 3 "$SLUICE" run "$TMP/noperm.yaml"
expect_in "$TMP/err" "sink 'out' failed to start"
ok "a failing init exits 3 with the plugin's reason"
# A reader that goes away (`| head`) stops the pipeline at once, exit 3.
cat >"$TMP/pipe.yaml" <<YAML
sources:
  gen: { plugin: generate, count: 1000000 }
sinks:
  out: { plugin: stdout, inputs: [gen] }
YAML
set +o pipefail
rc=$( { timeout 20 "$SLUICE" run "$TMP/pipe.yaml" 2>"$TMP/pipe.log"; echo $? >"$TMP/pipe.rc"; } | head -n 1 >/dev/null; cat "$TMP/pipe.rc")
set -o pipefail
[ "$rc" -eq 3 ] || { cat "$TMP/pipe.log"; fail "closed stdout: exit $rc, expected 3"; }
expect_in "$TMP/pipe.log" "Broken pipe"
ok "a closed stdout stops the pipeline with exit 3"
finish
