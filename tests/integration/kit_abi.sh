# ABI discipline: fixtures whose descriptor ends exactly where an unreadable
# page begins (tests/fixtures/abi_guard.h), so any read past struct_size
# crashes. abi_1_0 is "an old plugin that never heard of the later fields"
# (struct_size pinned to ABI 1.0's 112 bytes): this core must load and run
# it. abi_min is the smallest descriptor 1.x allows (52 bytes, no callbacks):
# `plugins check` must judge it on the fields it has.
. "$(dirname "$0")/common.bash"
: "${SL_BUILD:?}"
FX=$SL_BUILD/tests/fixtures

expect_rc 0 "$SLUICE" plugins check "$FX/abi_1_0.so"
expect_in "$TMP/out" "ABI:        1.0, descriptor 112 bytes"
expect_in "$TMP/out" "note               string    default x"
ok "plugins check reads an ABI 1.0 descriptor and its option table"

cat >"$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state }
sources: { in: { plugin: stdin } }
enrichers: { old: { path: $FX/abi_1_0.so, inputs: [in], note: hello } }
sinks: { out: { plugin: stdout, inputs: [old], time_key: "" } }
YAML
expect_rc 0 "$SLUICE" validate "$TMP/p.yaml"
printf 'a\nb\n' | "$SLUICE" run "$TMP/p.yaml" >"$TMP/run.out" 2>"$TMP/run.err" \
    || { cat "$TMP/run.err"; fail "the ABI 1.0 plugin did not run"; }
[ "$(grep -c '"abi":"1.0"' "$TMP/run.out")" -eq 2 ] || { cat "$TMP/run.out"; fail "abi_1_0 output"; }
ok "the core validates and runs a plugin built for ABI 1.0 without reading past its descriptor"

expect_rc 1 "$SLUICE" plugins check "$FX/abi_min.so"
expect_in "$TMP/out" "ABI:        1.0, descriptor 52 bytes"
expect_in "$TMP/out" "error: no init callback (or struct_size ends before it)"
expect_in "$TMP/out" "error: a sink plugin needs its write callback (or struct_size ends before it)"
ok "plugins check judges a 52-byte descriptor on its own fields, reading nothing past it"

# The loader itself copies only struct_size bytes: validate refuses, never crashes.
cat >"$TMP/min.yaml" <<YAML
sources: { in: { plugin: stdin } }
sinks: { out: { path: $FX/abi_min.so, inputs: [in] } }
YAML
expect_rc 1 "$SLUICE" validate "$TMP/min.yaml"
expect_in "$TMP/err" "abi_min.so: descriptor has no init callback"
ok "validate refuses the 52-byte descriptor with a reason instead of reading past it"
finish
