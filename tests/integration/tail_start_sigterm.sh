# A tail source whose checkpoints name 100k files that are gone (a state
# dir that followed many rotated files) starts at once and stops at once:
# the checkpoints load in O(n) (O(n^2) took 11 s), the files are looked for
# with one read of their directory (not one per checkpoint), and that search
# stops when the pipeline stops. SIGTERM right after launch, during start:
# exit 0 well within shutdown_timeout, the checkpoint of the followed file
# kept. Then a whole start forgets the 100k and resumes the followed file.
. "$(dirname "$0")/common.bash"
[ -f "$SLUICE_PLUGIN_PATH/source_tail.so" ] || { echo "# source_tail not built: skipped"; finish; exit 0; }

N=100000
mkdir -p "$TMP/logs" "$TMP/rotated" "$TMP/state/t"
chmod 700 "$TMP/state" "$TMP/state/t"
printf 'one\ntwo\nthree\nfour\nfive\n' >"$TMP/logs/access.log"
# The directory the gone files were in still holds 2,000 others: searching
# it once per checkpoint read 200 million entries.
python3 - "$TMP" "$N" <<'PY'
import os, sys
tmp, n = sys.argv[1], int(sys.argv[2])
for i in range(2000):
    open(f"{tmp}/rotated/other.{i}", "w").close()
st = os.stat(f"{tmp}/logs/access.log")
with open(f"{tmp}/state/t/checkpoints", "w") as f:
    f.write("# sluice tail checkpoints v1\n")
    for i in range(n):  # inodes no file has
        f.write(f"{st.st_dev} {4000000000 + i} 10 0 0 0 0 {tmp}/rotated/gone.log.{i}\n")
    # the followed file: its first two lines ("one\ntwo\n") acknowledged
    f.write(f"{st.st_dev} {st.st_ino} 8 0 0 0 0 {tmp}/logs/access.log\n")
os.chmod(f"{tmp}/state/t/checkpoints", 0o600)
PY
cp "$TMP/state/t/checkpoints" "$TMP/checkpoints.orig"

cat >"$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state, shutdown_timeout: 3s, admin: { listen: "127.0.0.1:0" } }
sources: { t: { plugin: tail, paths: [$TMP/logs/*.log] } }
sinks: { out: { plugin: file, inputs: [t], path: $TMP/out.jsonl } }
YAML

t0=$(date +%s%N)
"$SLUICE" run "$TMP/p.yaml" 2>"$TMP/log" &
pid=$!
# The admin endpoint is up just before the plugins start: the signal comes
# during start (or just after it).
launched() { kill -0 "$pid" 2>/dev/null || fail "sluice exited: $(cat "$TMP/log")"; grep -q "admin endpoint on" "$TMP/log"; }
wait_for 60 launched || { cat "$TMP/log"; fail "sluice did not get to start"; }
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# SIGTERM during start: exit $rc after $ms ms"
# Exit 4 would mean the drain waited out shutdown_timeout for the source.
[ "$rc" = 0 ] || { cat "$TMP/log"; fail "exit $rc, want 0 (a clean stop within shutdown_timeout)"; }
expect_in "$TMP/log" "stop requested; draining"
expect_in "$TMP/log" "stopped"
ckpt="$TMP/state/t/checkpoints"
head -1 "$ckpt" | grep -qx "# sluice tail checkpoints v1" || fail "checkpoint file damaged"
grep -q " $TMP/logs/access.log\$" "$ckpt" || fail "the followed file's checkpoint is gone"
ok "SIGTERM during a start with $N checkpoints: a clean stop (exit 0), the checkpoints kept"

# The signal while the plugins' init runs, for certain: the checkpoint file
# is a FIFO, so init blocks opening it until the test writes the entries.
# The core notes the signal; as soon as start returns it stops (it never
# enters the run loop), cleanly.
rm -f "$ckpt" "$TMP/out.jsonl"
mkfifo -m 600 "$ckpt"
"$SLUICE" run "$TMP/p.yaml" 2>"$TMP/log3" &
pid=$!
wait_for 60 grep -q "admin endpoint on" "$TMP/log3" || { cat "$TMP/log3"; fail "sluice did not get to start"; }
kill -TERM "$pid"
sleep 0.2 # the handler has run; init still waits for the FIFO
# init goes on (a sluice that died meanwhile leaves no reader: bounded)
timeout 60 sh -c 'cat "$1" >"$2"' - "$TMP/checkpoints.orig" "$ckpt" ||
    { cat "$TMP/log3"; fail "init no longer reads the checkpoints"; }
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || { cat "$TMP/log3"; fail "SIGTERM during init: exit $rc, want 0"; }
expect_in "$TMP/log3" "stop requested; draining"
[ -f "$ckpt" ] && grep -q " $TMP/logs/access.log\$" "$ckpt" || fail "checkpoints not saved after a stop during init"
ok "SIGTERM during init: start completes, then the pipeline stops at once (exit 0), checkpoints saved"

# A whole start: every gone file forgotten, by name for the first few and
# then counted; the followed file resumes where it was acknowledged.
rm -f "$ckpt" "$TMP/out.jsonl"
cp "$TMP/checkpoints.orig" "$ckpt"
t0=$(date +%s%N)
timeout 120 "$SLUICE" run "$TMP/p.yaml" --once >"$TMP/log2" 2>&1 || { cat "$TMP/log2"; fail "--once run failed"; }
echo "# a whole start and --once run with $N checkpoints: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
[ "$(grep -c "is gone; its checkpoint is forgotten" "$TMP/log2")" = 10 ] ||
    fail "not 10 gone files named: $(grep -c "is gone" "$TMP/log2")"
expect_in "$TMP/log2" "$((N - 10)) more checkpoints of files that are gone were forgotten"
python3 - "$TMP/out.jsonl" <<'PY'
import json, sys
got = [json.loads(l)["message"] for l in open(sys.argv[1])]
assert got == ["three", "four", "five"], got
PY
[ "$(grep -vc '^#' "$ckpt")" = 1 ] || fail "checkpoints left: $(grep -vc '^#' "$ckpt"), want 1"
ok "a whole start forgets the $N gone files and resumes the followed one at its checkpoint"
finish
