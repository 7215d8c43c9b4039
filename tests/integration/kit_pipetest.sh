# sluice test: the tests: section of a pipeline file. A correct pipeline
# passes; a wrong expectation fails with a per-field diff and the output;
# malformed tests are reported with file:line; run/validate ignore tests:.
. "$(dirname "$0")/common.bash"

printf 'id,name\n42,Blue mug\n7,"Tea, green"\n' >"$TMP/products.csv"
cat >"$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state }
sources: { in: { plugin: stdin } }
enrichers:
  tagged: { plugin: modify, inputs: [in], set: { site: shop, n: 7 }, remove: [secret] }
  named:
    plugin: lookup
    inputs: [tagged]
    file: $TMP/products.csv
    header: true
    key: productId
    target: productName
sinks: { out: { plugin: stdout, inputs: [named] } }
tests:
  - name: modify sets typed fields and removes secret
    component: tagged
    input: [ { message: hi, secret: x } ]
    expect: [ { message: hi, site: shop, n: 7, secret: ~absent } ]
  - name: lookup names known products, leaves others
    component: named
    input:
      - { productId: "42" }
      - { productId: 7 }
      - { productId: "999" }
    expect:
      - { productName: Blue mug }
      - { productName: "Tea, green" }
      - { productId: "999", productName: ~absent }
  - name: count only
    component: named
    input: [ {a: 1}, {a: 2} ]
    expect_count: 2
YAML
expect_rc 0 "$SLUICE" test "$TMP/p.yaml"
expect_in "$TMP/out" "ok - modify sets typed fields and removes secret"
expect_in "$TMP/out" "ok - lookup names known products, leaves others"
expect_in "$TMP/out" "3 passed, 0 failed"
ok "sluice test passes a correct pipeline"

expect_rc 0 "$SLUICE" validate "$TMP/p.yaml"
printf '42\n' | "$SLUICE" run "$TMP/p.yaml" >"$TMP/run.out" 2>"$TMP/run.err" \
    || { cat "$TMP/run.err"; fail "run with a tests: section failed"; }
ok "run and validate accept and ignore the tests: section"

# Wrong expectations: a changed value, a string where an int comes out, a
# wrong count. Each shows field: want ..., got ..., and the output.
sed -e 's/n: 7, secret/n: "7", secret/' -e 's/{ productName: Blue mug }/{ productName: Blue Mug }/' \
    -e 's/expect_count: 2/expect_count: 3/' "$TMP/p.yaml" >"$TMP/wrong.yaml"
expect_rc 1 "$SLUICE" test "$TMP/wrong.yaml"
expect_in "$TMP/out" "FAIL - modify sets typed fields and removes secret ($TMP/wrong.yaml:"
expect_in "$TMP/out" '      n: want "7", got 7'
expect_in "$TMP/out" "FAIL - lookup names known products, leaves others"
expect_in "$TMP/out" "    event 1:"
expect_in "$TMP/out" '      productName: want "Blue Mug", got "Blue mug"'
expect_in "$TMP/out" '      {"productId":"42","productName":"Blue mug"}'
expect_in "$TMP/out" "    want 3 events, got 2"
expect_in "$TMP/out" "0 passed, 3 failed"
ok "sluice test fails a wrong pipeline with a readable diff"

# Malformed tests and a tests: that is not a list.
cat >"$TMP/bad.yaml" <<YAML
sources: { in: { plugin: stdin } }
enrichers: { tagged: { plugin: modify, inputs: [in], set: { a: 1 } } }
sinks: { out: { plugin: stdout, inputs: [tagged] } }
tests:
  - name: not an enricher
    component: out
    input: [ {a: 1} ]
    expect_count: 1
  - name: no expectation
    component: tagged
    input: [ {a: 1} ]
  - name: typo
    component: tagged
    inputs: [ {a: 1} ]
YAML
expect_rc 1 "$SLUICE" test "$TMP/bad.yaml"
expect_in "$TMP/out" "$TMP/bad.yaml:6:16: component: not an enricher of this pipeline"
expect_in "$TMP/out" "give expect (output bodies) or expect_count"
expect_in "$TMP/out" "$TMP/bad.yaml:14:5: unknown key"
expect_in "$TMP/out" "0 passed, 3 failed"
printf 'sources: { in: { plugin: stdin } }\nsinks: { out: { plugin: stdout, inputs: [in] } }\ntests: { a: 1 }\n' >"$TMP/notlist.yaml"
expect_rc 1 "$SLUICE" validate "$TMP/notlist.yaml"
expect_in "$TMP/err" "notlist.yaml:3:8: tests: expected a sequence of tests"
printf 'sources: { in: { plugin: stdin } }\nsinks: { out: { plugin: stdout, inputs: [in] } }\n' >"$TMP/none.yaml"
expect_rc 1 "$SLUICE" test "$TMP/none.yaml"
expect_in "$TMP/err" "no tests"
ok "malformed tests, a non-list tests: and a file without tests are reported"
finish
