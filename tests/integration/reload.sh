# Reload: a broken file keeps the running pipeline; a good one that adds a
# sink delivers to it from then on, and the other sink loses nothing and
# gets nothing twice; a valid file whose pipeline cannot start (a plugin's
# init refuses) brings the previous pipeline back instead of ending.
. "$(dirname "$0")/common.bash"
: "${SL_BUILD:?}"

mkfifo "$TMP/in"
write_conf() { # write_conf WITH_B
    {
        echo "service: { state_dir: $TMP/state, admin: \"127.0.0.1:0\" }"
        echo "sources: { in: { plugin: stdin } }"
        echo "sinks:"
        echo "  a: { plugin: file, inputs: [in], path: $TMP/a.jsonl }"
        [ "$1" = yes ] && echo "  b: { plugin: file, inputs: [in], path: $TMP/b.jsonl }"
        true
    } >"$TMP/p.yaml"
}
count() { wc -l <"$1" 2>/dev/null || echo 0; }
has() { [ "$(count "$1")" -eq "$2" ]; }
send() { for i in $(seq "$1" "$2"); do echo "line $i"; done >&3; }

write_conf no
exec 3<>"$TMP/in"
"$SLUICE" run "$TMP/p.yaml" <"$TMP/in" 2>"$TMP/log" &
pid=$!
wait_for 10 grep -q "admin endpoint on" "$TMP/log" || { cat "$TMP/log"; fail "did not start"; }
port=$(sed -n 's/.*admin endpoint on 127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/log" | tail -n 1)
send 1 100
wait_for 20 has "$TMP/a.jsonl" 100 || fail "a has $(count "$TMP/a.jsonl") of 100"
ok "running"

echo "sources: [this is not a pipeline" >"$TMP/p.yaml"
kill -HUP "$pid"
wait_for 10 grep -q "the running pipeline keeps running" "$TMP/log" || { cat "$TMP/log"; fail "no reload error logged"; }
send 101 200
wait_for 20 has "$TMP/a.jsonl" 200 || fail "after a bad reload a has $(count "$TMP/a.jsonl") of 200"
ok "a broken file is refused and the old pipeline keeps delivering"

write_conf yes
"$SLUICE" reload --admin "127.0.0.1:$port" >"$TMP/reload.out" 2>&1 || { cat "$TMP/reload.out"; fail "sluice reload failed"; }
started() { grep -q 'running (3 components)' "$TMP/log"; }
wait_for 20 started || { cat "$TMP/log"; fail "did not restart on the new file"; }
send 201 300
wait_for 20 has "$TMP/b.jsonl" 100 || fail "b has $(count "$TMP/b.jsonl") of 100"
wait_for 20 has "$TMP/a.jsonl" 300 || fail "a has $(count "$TMP/a.jsonl") of 300"
python3 - "$TMP/a.jsonl" "$TMP/b.jsonl" <<'PY'
import json, sys
a = [json.loads(l)["message"] for l in open(sys.argv[1])]
b = [json.loads(l)["message"] for l in open(sys.argv[2])]
assert a == [f"line {i}" for i in range(1, 301)], "a lost, duplicated or reordered lines"
assert b == [f"line {i}" for i in range(201, 301)], "b does not hold exactly the lines after the reload"
PY
ok "a reload adding a sink: the new sink gets what follows, the old one loses nothing"

cp "$TMP/p.yaml" "$TMP/good.yaml"
echo "  moon: { path: $SL_BUILD/tests/fixtures/init_fails.so, inputs: [in] }" >>"$TMP/p.yaml"
kill -HUP "$pid"
wait_for 20 grep -q "starting the previous one again" "$TMP/log" || { cat "$TMP/log"; fail "no fallback logged"; }
expect_in "$TMP/log" "cannot reach the moon"
back() { [ "$(grep -c 'running (3 components)' "$TMP/log")" -ge 2 ]; }
wait_for 20 back || { cat "$TMP/log"; fail "the previous pipeline did not come back"; }
send 301 400
wait_for 20 has "$TMP/a.jsonl" 400 || fail "after a failed start a has $(count "$TMP/a.jsonl") of 400"
ok "a pipeline that cannot start: the previous one runs again and keeps delivering"

kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
exec 3>&-
[ "$rc" -eq 0 ] || { cat "$TMP/log"; fail "exit $rc after reloads"; }
ok "SIGTERM after reloads exits 0"
finish
