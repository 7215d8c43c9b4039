# ABI discipline: fixtures whose descriptor ends exactly where an unreadable
# page begins (tests/fixtures/abi_guard.h), so any read past struct_size
# crashes. abi_2_0 is "a plugin that never heard of the later fields"
# (struct_size pinned to ABI 2.0's 112 bytes): every 2.x core must load and
# run it. abi_2_0_short is 2.0 with a shorter struct (88 bytes, ending after
# process()): the append-only rule says it loads and runs too. abi_min is
# the smallest descriptor 2.x allows (52 bytes, no callbacks): `plugins
# check` must judge it on the fields it has. abi_major_1 is a plugin built
# against sluice 0.1's headers (ABI 1.0): refused, with the advice to rebuild.
. "$(dirname "$0")/common.bash"
: "${SL_BUILD:?}"
FX=$SL_BUILD/tests/fixtures

expect_rc 0 "$SLUICE" plugins check "$FX/abi_2_0.so"
expect_in "$TMP/out" "ABI:        2.0, descriptor 112 bytes"
expect_in "$TMP/out" "note               string    default x"
expect_in "$TMP/out" "(1 to 9)"
ok "plugins check reads an ABI 2.0 descriptor and its option table, ranges included"

# run_enricher FIXTURE TAG: stdin -> the fixture -> stdout, two events tagged.
run_enricher() {
    cat >"$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state }
sources: { in: { plugin: stdin } }
enrichers: { old: { path: $FX/$1.so, inputs: [in], note: hello } }
sinks: { out: { plugin: stdout, inputs: [old], time_key: "" } }
YAML
    expect_rc 0 "$SLUICE" validate "$TMP/p.yaml"
    printf 'a\nb\n' | "$SLUICE" run "$TMP/p.yaml" >"$TMP/run.out" 2>"$TMP/run.err" \
        || { cat "$TMP/run.err"; fail "$1 did not run"; }
    [ "$(grep -c "\"abi\":\"$2\"" "$TMP/run.out")" -eq 2 ] || { cat "$TMP/run.out"; fail "$1 output"; }
}
run_enricher abi_2_0 2.0
ok "the core validates and runs a plugin built for ABI 2.0 without reading past its descriptor"

expect_rc 0 "$SLUICE" plugins check "$FX/abi_2_0_short.so"
expect_in "$TMP/out" "ABI:        2.0, descriptor 88 bytes"
run_enricher abi_2_0_short 2.0-short
ok "a 2.0 descriptor shorter than the struct (ends after process) loads and runs"

expect_rc 1 "$SLUICE" plugins check "$FX/abi_min.so"
expect_in "$TMP/out" "ABI:        2.0, descriptor 52 bytes"
expect_in "$TMP/out" "error: no init callback (or struct_size ends before it)"
expect_in "$TMP/out" "error: a sink plugin needs its write callback (or struct_size ends before it)"
ok "plugins check judges a 52-byte descriptor on its own fields, reading nothing past it"

# The loader itself copies only struct_size bytes: validate refuses, never crashes.
cat >"$TMP/min.yaml" <<YAML
sources: { in: { plugin: stdin } }
sinks: { out: { path: $FX/abi_min.so, inputs: [in] } }
YAML
expect_rc 1 "$SLUICE" validate "$TMP/min.yaml"
expect_in "$TMP/err" "abi_min.so: no init callback"
ok "validate refuses the 52-byte descriptor with a reason instead of reading past it"

# A 1.x plugin: refused by check and by validate, with the advice to rebuild.
expect_rc 1 "$SLUICE" plugins check "$FX/abi_major_1.so"
expect_in "$TMP/out" "built for plugin ABI 1.x, this sluice speaks ABI 2: rebuild it"
cat >"$TMP/old.yaml" <<YAML
sources: { in: { plugin: stdin } }
enrichers: { old: { path: $FX/abi_major_1.so, inputs: [in] } }
sinks: { out: { plugin: stdout, inputs: [old] } }
YAML
expect_rc 1 "$SLUICE" validate "$TMP/old.yaml"
expect_in "$TMP/err" "rebuild it against this sluice's headers"
ok "a plugin built for ABI 1.x is refused with the advice to rebuild it"
finish
