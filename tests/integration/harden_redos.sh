# Rule and format regexes run under PCRE2 match limits: a visitor who picks
# a path that makes a costly regex backtrack exponentially ((a|aa)+ against
# 38 a's and a '!': some ten million steps, 42 ms a line, without limits)
# costs a bounded time per line. Such lines are no match (activity) or do
# not parse (parse, format: regex), and each is counted in regex_limit_hits;
# ordinary lines still match. No timing is asserted: the run must finish
# and the counters must show every hostile line.
. "$(dirname "$0")/common.bash"
command -v curl >/dev/null || fail "curl missing (scripts/deps.sh installs it)"
[ -f "$SLUICE_PLUGIN_PATH/source_tail.so" ] || { echo "# source_tail not built: skipped"; finish; exit 0; }

HOSTILE=300
hostile_path="/$(printf 'a%.0s' $(seq 38))!" # 40 characters
[ "${#hostile_path}" = 40 ] || fail "hostile path is ${#hostile_path} characters"
{
    for i in $(seq "$HOSTILE"); do
        printf '203.0.113.%d - - [12/Mar/2024:10:00:00 +0100] "GET %s HTTP/1.1" 200 5 "-" "Mozilla/5.0"\n' \
            "$((i % 250))" "$hostile_path"
    done
    for i in 1 2 3; do
        printf '203.0.113.%d - - [12/Mar/2024:10:00:01 +0100] "GET /aaaa HTTP/1.1" 200 5 "-" "Mozilla/5.0"\n' "$i"
    done
} >"$TMP/access.log"

cat >"$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state, admin: { listen: "127.0.0.1:0" } }
sources:
  access: { plugin: tail, paths: [$TMP/access.log], read_from: head }
enrichers:
  parsed: { plugin: parse, inputs: [access], format: nginx_combined }
  activity:
    plugin: activity
    inputs: [parsed]
    derive_guest_id: true
    guest_id_key: integration-test-key-0123456789
    rules:
      - { type: page_view, path: '(a|aa)+\$', pageId: '7' }
  rx:
    plugin: parse
    inputs: [access]
    format: regex
    pattern: '/(?<word>(?:a|aa)+) HTTP/1'
    on_error: drop
sinks:
  out: { plugin: file, inputs: [activity], path: $TMP/out.jsonl }
  words: { plugin: file, inputs: [rx], path: $TMP/words.jsonl }
YAML

t0=$(date +%s)
"$SLUICE" run "$TMP/p.yaml" 2>"$TMP/log" &
pid=$!
started() { kill -0 "$pid" 2>/dev/null || fail "sluice exited: $(cat "$TMP/log")"; grep -q "admin endpoint on" "$TMP/log"; }
wait_for 60 started || { cat "$TMP/log"; fail "admin did not start"; }
port=$(sed -n 's/.*admin endpoint on 127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/log")
metric() { # metric COMPONENT NAME: a counter (empty when absent)
    grep -E "^sluice_$2_total\{component=\"$1\"" "$TMP/metrics" | awk '{print $2}'
}
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
settled() {
    curl -sf "http://127.0.0.1:$port/metrics" >"$TMP/metrics" || return 1
    [ "$(metric activity regex_limit_hits)" = "$HOSTILE" ] &&
        [ "$(metric rx regex_limit_hits)" = "$HOSTILE" ] &&
        [ "$(lines "$TMP/out.jsonl")" = 3 ] && [ "$(lines "$TMP/words.jsonl")" = 3 ]
}
# Generous: without limits the lines still pass (20 s here, 0.2 s with them), uncounted.
wait_for 120 settled || { grep -E "activity|rx" "$TMP/metrics" >&2; cat "$TMP/log" >&2; fail "the hostile lines were not all counted"; }
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || { cat "$TMP/log"; fail "sluice exited $rc at SIGTERM"; }
echo "# $HOSTILE hostile lines through both regexes and a clean stop in $(( $(date +%s) - t0 )) s"
ok "every hostile line hit the limits and was counted (activity and parse), the run stopped cleanly"

[ "$(metric activity unmatched)" = "$HOSTILE" ] || fail "activity: hostile lines are not unmatched"
[ "$(metric rx parse_errors)" = "$HOSTILE" ] || fail "parse: hostile lines are not parse errors"
python3 - "$TMP/out.jsonl" "$TMP/words.jsonl" <<'PY'
import json, sys
out = [json.loads(l) for l in open(sys.argv[1])]
assert [(e["type"], e["pageId"]) for e in out] == [("page_view", 7)] * 3, out
words = [json.loads(l)["word"] for l in open(sys.argv[2])]
assert words == ["aaaa"] * 3, words
PY
ok "a limit hit is no match (activity: unmatched) and no parse (parse: parse_errors); ordinary lines still match"

expect_in "$TMP/log" "rule 1 (page_view): "
expect_in "$TMP/log" "request(s) in a batch cost its regex more than 100000 matching steps"
expect_in "$TMP/log" "cost it more than 100000 matching steps and were taken as not parsing"
[ "$(grep -c "matching steps" "$TMP/log")" -le 4 ] || fail "the limit warning is not throttled"
ok "a throttled warning names the rule and the counter"
finish
