# OneEntry's own storefront through pipelines/oneentry-storefront.yaml into
# the emulator, whose Pages API knows the project's pages: every page and
# category view arrives with the right pageId (from the page list loaded at
# start, in two languages); views of handles the project has no page for
# are dead-lettered with the reason; a start while the Pages API is down
# resolves from the map the first run saved; a page added to the project
# mid-run resolves after a miss lookup, without a restart; a lookup slower
# than max_wait sets its event aside, and its late answer still serves the
# next one.
# transports: h1 h2
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/oneentry_helpers.bash"
[ -f "$SLUICE_PLUGIN_PATH/enricher_oneentry_pages.so" ] || fail "enricher_oneentry_pages not built"

TOKEN=pages-t0k
STATE=$TMP/state
PDL=$STATE/pages/dead-letters.jsonl

pages_file() { # pages_file EXTRA_EN_PAGES_JSON: the project's pages, written atomically
    cat >"$TMP/pages.new" <<JSON
{"en_US": [{"id": 1, "pageUrl": "home", "type": "common_page", "localizeInfos": {"title": "Home"}},
           {"id": 11, "pageUrl": "about_us", "parentId": null, "depth": 0, "isVisible": true,
            "type": "common_page", "localizeInfos": {"title": "About us", "menuTitle": "About"}},
           {"id": 20, "pageUrl": "shop", "type": "catalog_page"},
           {"id": 21, "pageUrl": "t-shirts", "parentId": 20, "type": "catalog_page"}$1],
 "de_DE": [{"id": 1, "pageUrl": "home", "type": "common_page"},
           {"id": 51, "pageUrl": "ueber-uns", "type": "common_page"},
           {"id": 21, "pageUrl": "t-shirts", "type": "catalog_page"}]}
JSON
    mv "$TMP/pages.new" "$TMP/pages.json"
}
pages_file ""
start_emu --token "$TOKEN" --pages "$TMP/pages.json"

# The pipeline as shipped, with test timings (each change must apply once).
python3 - "$SL_SRC/pipelines/oneentry-storefront.yaml" "$TMP/p.yaml" "$STATE" <<'PY' || fail "pipeline edits"
import sys
text = open(sys.argv[1]).read()
for old, new in [
    ("  state_dir: ${SLUICE_STATE_DIR:-./state}\n",
     "  state_dir: %s\n  admin: { listen: \"127.0.0.1:0\" }\n  shutdown_timeout: 30s\n" % sys.argv[3]),
    ("langs: { en: en_US }", "langs: { en: en_US, de: de_DE }"),
    ("negative_ttl: 5m", "negative_ttl: 1s"),
    ("max_wait: 2s", "max_wait: 1s"),
]:
    if text.count(old) != 1:
        sys.exit("pipelines/oneentry-storefront.yaml changed: %r is not there once" % old)
    text = text.replace(old, new)
open(sys.argv[2], "w").write(text)
PY
export ONEENTRY_URL=$URL ONEENTRY_TOKEN=$TOKEN ONEENTRY_CA_FILE=$TMP/cert.pem \
    SLUICE_GUEST_ID_KEY=pages-test-key-0123456789 STOREFRONT_ACCESS_LOG=$TMP/access.log

UA='Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0'
n=0
line() { # line METHOD TARGET STATUS: one combined log line appended to the access log
    n=$((n + 1))
    printf '198.51.100.%d - - [12/Mar/2024:10:%02d:%02d +0100] "%s %s HTTP/1.1" %s 512 "-" "%s"\n' \
        $((n % 7 + 1)) $((n / 60 % 60)) $((n % 60)) "$1" "$2" "$3" "$UA" >>"$TMP/access.log"
}

# check_events WANT...: the emulator received exactly these bodies (JSON,
# any order; each once), nothing else.
check_events() {
    python3 - "$TMP/events" "$@" <<'PY'
import json, sys
from collections import Counter
key = lambda b: json.dumps(b, sort_keys=True)
got = Counter(key(json.loads(l)["body"]) for l in open(sys.argv[1]))
want = Counter(key(json.loads(w)) for w in sys.argv[2:])
if got != want:
    sys.exit("events differ:\n missing %s\n unexpected %s" % (list((want - got).elements()),
                                                              list((got - want).elements())))
print("%d events as expected" % sum(got.values()))
PY
}

# dead_reasons: the pages enricher's dead-letter reasons, one a line.
dead_reasons() {
    [ -f "$PDL" ] || return 0
    python3 -c 'import json,sys; [print(json.loads(l)["reason"]) for l in open(sys.argv[1])]' "$PDL"
}
# (grep reads to the end: with -q it would leave python a broken pipe, and
# pipefail would call that a miss)
has_dead() { dead_reasons | grep -xF -- "$1" >/dev/null; }

# 1. A fresh start: the page list is loaded, every view resolved from it.
line GET /en/shop/product/42 200
line GET /en/shop/category/t-shirts 200
line GET /en/shop/category/t%2Dshirts?page=2 200
line GET /en/shop 200
line GET /en/about_us 200
line GET /de/ueber-uns 200
line GET /de/shop/category/t-shirts/ 200
line GET /en 200
line GET "/en/search?q=red+shirt" 200
line GET /en/cart 200
line POST "/en/cart?productId=42" 200
line GET /en/shop/category/no-such-category 200
line GET /en/no-such-page 200
line GET /_next/static/chunks/main-app.js 200
expect_rc 0 "$SLUICE" run "$TMP/p.yaml" --once
cp "$TMP/err" "$TMP/log1"
expect_in "$TMP/log1" "7 pages loaded from the Pages API"
check_events '{"type":"product_view","productId":42}' \
    '{"type":"category_view","pageId":21}' '{"type":"category_view","pageId":21}' \
    '{"type":"category_view","pageId":20}' '{"type":"page_view","pageId":11}' \
    '{"type":"page_view","pageId":51}' '{"type":"category_view","pageId":21}' \
    '{"type":"page_view","pageId":1}' \
    '{"type":"search","query":"red shirt","meta":{"sourceBlock":"search_page"}}' \
    '{"type":"product_add_to_cart","productId":42}' || fail "first run"
ok "page and category views in two languages arrive with their pageIds from the page list"
[ "$(dead_reasons | wc -l)" = 2 ] || { dead_reasons; fail "dead letters of the first run"; }
has_dead "unknown_page: OneEntry has no page 'no-such-category' (langCode en_US)" ||
    { dead_reasons; fail "no-such-category not dead-lettered with its reason"; }
has_dead "unknown_page: OneEntry has no page 'no-such-page' (langCode en_US)" ||
    { dead_reasons; fail "no-such-page not dead-lettered with its reason"; }
python3 - "$PDL" <<'PY' || fail "dead letters keep the event"
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    assert r["component"] == "pages", r
    assert r["event"]["body"]["pageUrl"] in ("no-such-category", "no-such-page"), r
    assert "pageId" not in r["event"]["body"], r
PY
[ ! -s "$STATE/oneentry/dead-letters.jsonl" ] || fail "OneEntry refused events"
ok "views of handles the project has no page for are dead-lettered with the reason"
[ -s "$STATE/pages/pages.json" ] || fail "the page map was not saved"
[ "$(stat -c %a "$STATE/pages/pages.json")" = 600 ] || fail "the saved map is not private"

# 2. The Pages API is down at start: the saved map resolves the known pages;
# a handle it does not have fails its lookup and is set aside with why.
control "pages_down_ms=600000"
: >"$TMP/events"
: >"$PDL"
line GET /en/shop/category/t-shirts 200
line GET /de/ueber-uns 200
line GET /en/about_us 200
line GET /en/brand-new 200
"$SLUICE" run "$TMP/p.yaml" 2>"$TMP/log2" &
PID=$!
A=$(admin_url "$TMP/log2")
metric() { curl -sf "$A/metrics" | sed -n "s/^sluice_$1_total{component=\"pages\"[^}]*} //p"; }
expect_in "$TMP/log2" "7 pages from the saved map $STATE/pages/pages.json until the Pages API answers"
three() { [ "$(lines "$TMP/events")" -ge 3 ]; }
wait_for 30 three || { cat "$TMP/log2"; fail "no events during the outage"; }
check_events '{"type":"category_view","pageId":21}' '{"type":"page_view","pageId":51}' \
    '{"type":"page_view","pageId":11}' || fail "start during a Pages API outage"
failed_lookup() { dead_reasons | grep "^page_lookup_failed: page 'brand-new' (langCode en_US): " >/dev/null; }
wait_for 30 failed_lookup || { dead_reasons; fail "brand-new not dead-lettered as a failed lookup"; }
refresh_failed() { [ "$(metric refresh_failures)" -ge 1 ] 2>/dev/null; }
wait_for 30 refresh_failed || fail "no refresh failure counted"
expect_in "$TMP/log2" "loading the pages failed: page list (langCode"
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
[ "$rc" -eq 0 ] || { cat "$TMP/log2"; fail "exit $rc after SIGTERM"; }
ok "a start while the Pages API is down resolves from the saved map; an unknown handle is set aside as a failed lookup"

# 3. Mid-run: a page added to the project resolves after a miss lookup,
# without a restart (the page list is not reloaded: refresh_interval 5m).
control "pages_down_ms=0"
: >"$TMP/events"
: >"$PDL"
"$SLUICE" run "$TMP/p.yaml" 2>"$TMP/log3" &
PID=$!
A=$(admin_url "$TMP/log3")
wait_for 30 grep -q "7 pages loaded from the Pages API" "$TMP/log3" || { cat "$TMP/log3"; fail "no page list"; }
line GET /en/summer-sale 200
wait_for 30 has_dead "unknown_page: OneEntry has no page 'summer-sale' (langCode en_US)" ||
    { cat "$TMP/log3"; dead_reasons; fail "summer-sale before it exists"; }
pages_file ', {"id": 77, "pageUrl": "new-arrivals", "type": "catalog_page"},
           {"id": 78, "pageUrl": "summer-sale", "type": "common_page"},
           {"id": 79, "pageUrl": "slow-page", "type": "common_page"}'
line GET /en/shop/category/new-arrivals 200
arrived() { grep -qF "\"pageId\":$1" "$TMP/events"; }
wait_for 30 arrived 77 || { cat "$TMP/log3"; fail "the page added mid-run did not resolve"; }
ok "a page added mid-run resolves after a miss lookup, without a restart"
sleep 1.2 # negative_ttl (1s) passes: summer-sale is asked again
line GET /en/summer-sale 200
wait_for 30 arrived 78 || { cat "$TMP/log3"; fail "summer-sale after it was added"; }
ok "a handle that was not found is asked again after negative_ttl, and resolves"

# A lookup slower than max_wait (1s): the event is set aside; the late
# answer still lands in the map, so the next view of the page resolves.
lookups=$(metric lookups)
control "pages_latency_ms=3000"
line GET /en/slow-page 200
wait_for 30 has_dead "page_lookup_timeout: page 'slow-page' (langCode en_US): no answer from the Pages API within max_wait (1000 ms)" ||
    { cat "$TMP/log3"; dead_reasons; fail "no timeout dead letter"; }
answered() { [ "$(metric lookups)" -gt "$lookups" ]; }
wait_for 30 answered || fail "the slow lookup was never answered"
control "pages_latency_ms=0"
line GET /en/slow-page 200
wait_for 30 arrived 79 || { cat "$TMP/log3"; fail "the late answer did not serve the next view"; }
ok "a lookup slower than max_wait sets its event aside; its late answer serves the next view"

for m in "not_found 1" "refresh_failures 0"; do
    set -- $m
    [ "$(metric "$1")" = "$2" ] || { curl -s "$A/metrics" | grep pages; fail "metric $1 is not $2"; }
done
[ "$(metric hits)" -ge 3 ] && [ "$(metric misses)" -ge 4 ] && [ "$(metric lookups)" -ge 4 ] ||
    { curl -s "$A/metrics" | grep pages; fail "hits, misses, lookups"; }
ok "counters: hits $(metric hits), misses $(metric misses), lookups $(metric lookups), not_found 1, refresh_failures 0"
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
[ "$rc" -eq 0 ] || { cat "$TMP/log3"; fail "exit $rc after SIGTERM"; }
if grep -q "$TOKEN" "$TMP"/log* "$PDL" "$STATE/pages/pages.json"; then fail "the token leaked"; fi
stop_emu
finish
