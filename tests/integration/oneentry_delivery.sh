# sink_oneentry against the OneEntry emulator: exact delivery of mixed
# events, every validation rejection dead-lettered with its reason, the app
# token never in logs or dry-run output.
# transports: h1 h2 http
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/oneentry_helpers.bash"

TOKEN="app-secret-Zq81"
start_emu --token "$TOKEN"
gen_input 3000 "$TMP/in.jsonl" 13
LOG_LEVEL=debug pipeline "$TMP/p.yaml"
"$SLUICE" run "$TMP/p.yaml" --once <"$TMP/in.jsonl" >"$TMP/out" 2>"$TMP/log" \
    || { cat "$TMP/log"; fail "run exited non-zero"; }
ok "run exited 0"

check_delivered "$TMP/in.jsonl" exact || fail "delivery"
ok "every valid event delivered once, exact JSON body and identity header"
[ "$(emu_stat rejected)" = 0 ] || fail "the emulator rejected $(emu_stat rejected) requests"
ok "the emulator found no contract violation"

python3 - "$TMP/in.jsonl" "$DL" <<'PY' || fail "dead letters"
import json, sys
bad = [json.loads(l) for i, l in enumerate(open(sys.argv[1], encoding="utf-8"), 1) if i % 13 == 0]
dl = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert len(dl) == len(bad), (len(dl), len(bad))
reasons = {"unknown type": 0, "product_add_to_cart without productId": 0,
           "page_view without pageId": 0, "search without query": 0, "no identity": 0}
for rec in dl:
    assert rec["component"] == "oe" and rec["time"].endswith("Z"), rec
    assert "HTTP" not in rec["reason"], rec  # refused before sending
    assert rec["event"]["body"] in bad, rec["event"]
    for r in reasons:
        if r in rec["reason"]: reasons[r] += 1
assert all(reasons.values()), reasons
assert sum(reasons.values()) == len(dl), reasons
print(f"{len(dl)} dead letters: {reasons}")
PY
ok "each kind of invalid event dead-lettered with its reason and the event"

grep -qF "$TOKEN" "$TMP/log" "$TMP/out" && fail "the app token appears in the output"
ok "the app token is not in the log (debug level)"

# dry_run: requests printed with secrets masked, nothing sent.
before=$(emu_stat requests)
head -n 20 "$TMP/in.jsonl" >"$TMP/few.jsonl"
pipeline "$TMP/dry.yaml" "dry_run: true"
"$SLUICE" run "$TMP/dry.yaml" --once <"$TMP/few.jsonl" >"$TMP/dry.out" 2>"$TMP/dry.log" \
    || { cat "$TMP/dry.log"; fail "dry run exited non-zero"; }
[ "$(emu_stat requests)" = "$before" ] || fail "dry run sent requests"
expect_in "$TMP/dry.out" "x-app-token: ****"
expect_in "$TMP/dry.out" "Authorization: Bearer ****"
expect_in "$TMP/dry.out" "x-guest-id: guest-1"
expect_in "$TMP/dry.out" '{"type":"product_view","productId":5}'
[ "$(grep -c '^POST ' "$TMP/dry.out")" = 19 ] || fail "dry run printed $(grep -c '^POST ' "$TMP/dry.out") requests, want 19"
grep -qF "$TOKEN" "$TMP/dry.out" "$TMP/dry.log" && fail "the token appears in dry-run output"
grep -qF "utok-7" "$TMP/dry.out" && fail "a user token appears in dry-run output"
ok "dry_run prints every request with tokens masked and sends nothing"
stop_emu
finish
