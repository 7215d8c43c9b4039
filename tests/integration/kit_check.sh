# sluice plugins check: each broken fixture is refused with its own reason,
# every problem of a plugin is listed, and a good plugin passes.
. "$(dirname "$0")/common.bash"
: "${SL_BUILD:?}"
FX=$SL_BUILD/tests/fixtures

# check_fails FIXTURE TEXT...: exit 1 and every TEXT in the report.
check_fails() {
    local so=$1; shift
    expect_rc 1 "$SLUICE" plugins check "$FX/$so.so"
    expect_in "$TMP/out" "FAILED"
    for want in "$@"; do expect_in "$TMP/out" "$want"; done
    ok "check refuses $so"
}

check_fails wrong_major "built for plugin ABI 3.x, this sluice speaks ABI 2: rebuild it"
check_fails newer_minor "built for ABI 2.1, newer than this sluice (2.0)"
check_fails abi_major_1 "built for plugin ABI 1.x, this sluice speaks ABI 2: rebuild it"
check_fails truncated "struct_size 16 is smaller than the 52 bytes"
check_fails no_descriptor "no 'sluice_plugin' symbol"
check_fails no_run "a source plugin needs its run callback"
check_fails check_bad_kind "unknown plugin kind 7"
check_fails check_no_name "descriptor has no name" "warning: run callback set on a sink plugin"
check_fails check_undefined "undefined symbol: sluice_check_fixture_missing_function"
check_fails check_option_size "option_size 8 is smaller than sl_option"
check_fails check_oversized "exported object is only 32" "no init callback"
# All six mistakes of one option table in one run, not only the first.
check_fails check_bad_options "(6 errors" \
    "option 'limit': default 'ten' is not an integer" \
    "option 'limit' is declared twice" \
    "option 'inputs' clashes with the component key" \
    "option 'mode': default 'fast' is not one of slow|safe" \
    "option 'level': choices are only checked for string options" \
    "option 'weird' has unknown type 42"
# The ABI 2.0 row fields: ranges and flags misused.
check_fails check_bad_ranges "(6 errors" \
    "option 'name': min/max only apply to int, size, duration and double options" \
    "option 'depth': min 'low' is not a value of its type" \
    "option 'width': max 'wide' is not a value of its type" \
    "option 'size': min 1MiB is above max 4KiB" \
    "option 'span': default '1h' must be at most 1m" \
    "warning: option 'count': SL_OPT_F_NONEMPTY only applies to string, secret and list options" \
    "warning: option 'tags': unknown flags 0x80 are ignored"

head -c 4096 /dev/zero | tr '\0' x >"$TMP/text.so"
expect_rc 1 "$SLUICE" plugins check "$TMP/text.so"
expect_in "$TMP/out" "invalid ELF header"
ok "check refuses a file that is not a shared object"

expect_rc 1 "$SLUICE" plugins check "$TMP/missing.so"
expect_in "$TMP/out" "not found"
ok "check refuses a missing file"

# A good plugin: descriptor, ABI and option table shown, exit 0.
expect_rc 0 "$SLUICE" plugins check "$SL_BUILD/plugins/sink_file.so"
expect_in "$TMP/out" "descriptor: sink file 1.0.0"
expect_in "$TMP/out" "ABI:        2.0"
expect_in "$TMP/out" "fsync              bool      default false"
expect_in "$TMP/out" "OK (0 errors, 0 warnings)"
ok "check passes sink_file and shows its options"

expect_rc 1 "$SLUICE" plugins check "$SL_BUILD/plugins/sink_file.so" --kind source
expect_in "$TMP/out" "it is a sink plugin, not a source"
ok "check --kind refuses a plugin of another kind"

expect_rc 2 "$SLUICE" plugins check
ok "check without a file is a usage error"
finish
