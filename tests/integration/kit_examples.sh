# The guide's example plugins end to end: lookup adds a product name from a
# CSV file, csv writes chosen fields; unknown keys, defaults, the header only
# in a new file, and `plugins check` passing both.
. "$(dirname "$0")/common.bash"
: "${SL_BUILD:?}"

for so in enricher_lookup sink_csv; do
    expect_rc 0 "$SLUICE" plugins check "$SL_BUILD/plugins/$so.so"
    expect_in "$TMP/out" "OK (0 errors, 0 warnings)"
done
ok "plugins check passes lookup and csv"

cat >"$TMP/products.csv" <<'CSV'
id,name
42,Blue mug
7,"Tea, green"
CSV
printf '# sites\nshop = Demo Shop\n' >"$TMP/sites.kv"
cat >"$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state }
sources: { in: { plugin: stdin } }
enrichers:
  parsed: { plugin: modify, inputs: [in], rename: { message: productId } }
  named:
    plugin: lookup
    inputs: [parsed]
    file: $TMP/products.csv
    header: true
    key: productId
    target: productName
  sited:
    plugin: lookup
    inputs: [named]
    file: $TMP/sites.kv
    key: site
    target: siteName
    default: unknown site
sinks:
  table:
    plugin: csv
    inputs: [sited]
    path: $TMP/csvout/products.csv
    fields: [productId, productName, siteName]
YAML
mkdir -p "$TMP/csvout"
printf '42\n7\n999\n' | "$SLUICE" run "$TMP/p.yaml" >"$TMP/run.out" 2>"$TMP/run.err" \
    || { cat "$TMP/run.err"; fail "lookup -> csv pipeline failed"; }
cat >"$TMP/want.csv" <<'CSV'
productId,productName,siteName
42,Blue mug,unknown site
7,"Tea, green",unknown site
999,,unknown site
CSV
diff -u "$TMP/want.csv" "$TMP/csvout/products.csv" || fail "csv output differs"
ok "lookup adds names from a CSV file, default for unknown keys; csv writes a header and quoted rows"

printf '42\n' | "$SLUICE" run "$TMP/p.yaml" >"$TMP/run.out" 2>"$TMP/run.err" \
    || { cat "$TMP/run.err"; fail "second run failed"; }
[ "$(grep -c '^productId' "$TMP/csvout/products.csv")" -eq 1 ] || fail "header written twice"
[ "$(tail -n 1 "$TMP/csvout/products.csv")" = "42,Blue mug,unknown site" ] || fail "appended row"
ok "csv appends to an existing file without a second header"

# A broken lookup file is refused at start with file:line and the reason.
printf 'ok,1\n"open,2\n' >"$TMP/bad.csv"
sed "s|$TMP/products.csv|$TMP/bad.csv|" "$TMP/p.yaml" >"$TMP/bad.yaml"
expect_rc 3 "$SLUICE" run "$TMP/bad.yaml"
expect_in "$TMP/err" "$TMP/bad.csv:2: unterminated quoted field"
ok "a malformed lookup file stops the start with file:line"
finish
