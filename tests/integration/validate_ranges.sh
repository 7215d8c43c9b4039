# `sluice validate` (the unit's ExecStartPre) catches what a plugin's init
# would refuse, with the file:line:col of the component: option ranges from
# the option tables, and what a plugin's check() judges (a status list, a
# URL's scheme). Each of these once passed validate and failed only at start.
. "$(dirname "$0")/common.bash"

case_of() { # case_of KIND PLUGIN OPTION_YAML EXPECTED
    local kind=$1 plugin=$2 opt=$3 want=$4
    if [ "$kind" = sink ]; then
        printf 'sources: { s: { plugin: generate } }\nsinks: { o: { plugin: %s, inputs: [s], url: "https://127.0.0.1:1", %s } }\n' \
            "$plugin" "$opt" >"$TMP/v.yaml"
    else
        printf 'sources: { s: { plugin: %s, paths: [%s/x.log], %s } }\nsinks: { o: { plugin: null, inputs: [s] } }\n' \
            "$plugin" "$TMP" "$opt" >"$TMP/v.yaml"
    fi
    expect_rc 1 "$SLUICE" validate "$TMP/v.yaml"
    expect_in "$TMP/err" "$TMP/v.yaml:"
    expect_in "$TMP/err" "$want"
}

case_of sink oneentry "max_concurrency: 0" "option 'max_concurrency' must be at least 1"
case_of sink oneentry "rate_limit: -1" "option 'rate_limit' must be at least 0"
case_of sink oneentry "retryable_status: '999'" "retryable_status: expected codes 100-599"
case_of sink oneentry "timeout: 0" "option 'timeout' must be at least 1ms"
case_of source tail "max_line_bytes: 0" "option 'max_line_bytes' must be at least 1"
case_of source tail "max_open_files: 0" "option 'max_open_files' must be at least 1"
case_of source tail "poll_interval: 0" "option 'poll_interval' must be at least 1ms"
ok "out-of-range tail and oneentry options: validate fails, located"

printf 'sources: { s: { plugin: generate, rate: -1, batch_max_events: 0 } }\nsinks: { o: { plugin: null, inputs: [s] } }\n' >"$TMP/v.yaml"
expect_rc 1 "$SLUICE" validate "$TMP/v.yaml"
expect_in "$TMP/err" "option 'rate' must be at least 0"
expect_in "$TMP/err" "option 'batch_max_events' must be at least 1"
expect_in "$TMP/err" "2 errors"
ok "every range error of a file is listed at once"

printf 'sources: { s: { plugin: generate } }\nsinks: { o: { plugin: oneentry, inputs: [s], url: "ftp://x" } }\n' >"$TMP/v.yaml"
expect_rc 1 "$SLUICE" validate "$TMP/v.yaml"
expect_in "$TMP/err" "sink 'o': url: expected http:// or https://"
ok "a plugin's check() runs at validate"
finish
