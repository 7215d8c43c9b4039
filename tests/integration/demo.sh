# `make demo` (scripts/demo.sh): the sample nginx log through the flagship
# pipeline into the OneEntry emulator, then what it received and a summary.
. "$(dirname "$0")/common.bash"
: "${SL_BUILD:?}"

# The demo needs nothing from the caller's environment.
expect_rc 0 env -u ONEENTRY_URL -u ONEENTRY_TOKEN -u SLUICE_GUEST_ID_KEY -u SLUICE_STATE_DIR \
    -u SLUICE_PLUGIN_PATH sh "$SL_SRC/scripts/demo.sh" "$SL_BUILD"
expect_in "$TMP/out" "== what OneEntry received:"
expect_in "$TMP/out" 'product_purchase             guest:'
expect_in "$TMP/out" '{"productId": 3003, "meta": {"orderId": "A-10077"}}'
ok "the demo delivers the sample log's activity to the emulator"

expect_in "$TMP/out" "log lines read         $(wc -l <"$SL_SRC/tests/data/nginx-access.log")"
expect_in "$TMP/out" "events delivered       14, by type:"
expect_in "$TMP/out" "    product_view                   2"
expect_in "$TMP/out" "    product_purchase               1"
expect_in "$TMP/out" "rejected by OneEntry   0"
expect_in "$TMP/out" "dead-lettered          0"
expect_in "$TMP/out" "time                   "
ok "the demo ends with a summary: events by type, rejected, dead-lettered, time"
finish
