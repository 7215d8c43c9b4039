# sluice plugin new: for every kind, scaffold a project into an empty
# directory, build it with make against an installed prefix (pkg-config
# only, no build tree; libsluice is a shared library there), run its CUnit
# test, `plugins check` it, run an enricher's tests: with `sluice test`, and
# run its sample pipeline with the installed sluice. The Makefile links with
# -z defs: a misspelt function fails `make`, not the load.
. "$(dirname "$0")/common.bash"
: "${SL_BUILD:?}"
command -v pkg-config >/dev/null || fail "pkg-config missing (scripts/deps.sh installs it)"
command -v make >/dev/null || fail "make missing (build-essential)"

P=$TMP/prefix
cmake --install "$SL_BUILD" --prefix "$P" >"$TMP/install.log" 2>&1 \
    || { cat "$TMP/install.log"; fail "cmake --install failed"; }
export PKG_CONFIG_PATH=$(dirname "$(find "$P" -name sluice.pc -print -quit)")
unset SLUICE_PLUGIN_PATH
S=$P/bin/sluice

# An ASan build installs an instrumented libsluice.so: the scaffold's
# plugin and test program must then link the sanitizer runtime too.
SAN=""
grep -q '^SLUICE_SANITIZE:BOOL=ON' "$SL_BUILD/CMakeCache.txt" && SAN="-fsanitize=address,undefined"

# scaffold KIND NAME: build, test, check and run one scaffolded plugin.
scaffold() {
    local kind=$1 name=$2 dir=$TMP/work/${1}_$2
    expect_rc 0 "$S" plugin new --kind "$kind" "$name" "$dir"
    expect_in "$TMP/out" "$dir/${kind}_$name.c"
    # -Werror: the scaffold must be warning-free as generated.
    make -C "$dir" CFLAGS="-O1 -g -Werror $SAN" LDFLAGS="$SAN" all test_"$name" \
        >"$TMP/make.log" 2>&1 || { cat "$TMP/make.log"; fail "$kind scaffold does not build"; }
    [ -f "$dir/${kind}_$name.so" ] || fail "no ${kind}_$name.so"
    ok "$kind scaffold builds with make against the installed prefix"
    make -C "$dir" CFLAGS="-O1 -g -Werror $SAN" LDFLAGS="$SAN" test >"$TMP/unit.log" 2>&1 \
        || { cat "$TMP/unit.log"; fail "$kind scaffold's make test fails"; }
    expect_in "$TMP/unit.log" "asserts"
    ok "$kind scaffold's CUnit test passes (make test)"
    expect_rc 0 make -C "$dir" -s check SLUICE="$S"
    expect_in "$TMP/out" "OK (0 errors, 0 warnings)"
    expect_in "$TMP/out" "ABI:        2.0"
    ok "$kind scaffold passes plugins check"
    (cd "$dir" && make -s run SLUICE="$S") >"$TMP/run.out" 2>"$TMP/run.err" \
        || { cat "$TMP/run.err"; fail "$kind scaffold pipeline failed"; }
}

mkdir -p "$TMP/work"
scaffold enricher stamp
[ "$(grep -c '"tag":"stamp"' "$TMP/run.out")" -eq 3 ] || { cat "$TMP/run.out"; fail "enricher output"; }
ok "enricher scaffold's pipeline tags 3 events"
expect_rc 0 make -C "$TMP/work/enricher_stamp" -s pipetest SLUICE="$S"
expect_in "$TMP/out" "ok - sets tag on every event"
expect_in "$TMP/out" "1 passed, 0 failed"
(cd "$TMP/work/enricher_stamp" && "$S" test pipeline.yaml --plugin-path .) >"$TMP/out" 2>&1 \
    || { cat "$TMP/out"; fail "sluice test of the enricher scaffold failed"; }
ok "enricher scaffold's tests: pass with sluice test (make pipetest)"
expect_in "$TMP/work/enricher_stamp/enricher_stamp.c" 'SL_OPT_INT, "1", 0'
ok "the scaffold declares an option with a range"

# -z defs: a function that is declared but that nothing defines (a
# misspelt name with its own prototype) fails at make, not at dlopen.
cp -r "$TMP/work/enricher_stamp" "$TMP/work/misspelt"
sed -i -e 's/sl_bb_append_event(out, &ev)/sl_bb_apend_event(out, \&ev)/' \
    -e 's|^#include <sluice/plugin.h>$|&\nint sl_bb_apend_event(sl_builder *bb, const sl_event *ev);|' \
    "$TMP/work/misspelt/enricher_stamp.c"
grep -q 'int sl_bb_apend_event' "$TMP/work/misspelt/enricher_stamp.c" || fail "could not misspell"
make -C "$TMP/work/misspelt" clean all CFLAGS="-O1 -g -Werror $SAN" LDFLAGS="$SAN" \
    >"$TMP/make.log" 2>&1 && { cat "$TMP/make.log"; fail "a misspelt function linked"; }
expect_in "$TMP/make.log" "undefined reference to \`sl_bb_apend_event'"
[ ! -e "$TMP/work/misspelt/enricher_stamp.so" ] || fail "make left a plugin that cannot load"
ok "a misspelt sluice function fails make (-z defs), not the load"

scaffold sink jsonl
[ "$(grep -c '"message":"hello"' "$TMP/run.out")" -eq 3 ] || { cat "$TMP/run.out"; fail "sink output"; }
ok "sink scaffold's pipeline writes 3 events"
expect_rc 0 make -C "$TMP/work/sink_jsonl" -s pipetest SLUICE="$S"
expect_in "$TMP/out" "sluice test runs enrichers"
ok "make pipetest explains itself for a sink"

scaffold source counter
for i in 1 2 3; do expect_in "$TMP/run.out" "\"seq\":$i}"; done
[ "$(wc -l <"$TMP/run.out")" -eq 3 ] || { cat "$TMP/run.out"; fail "source output"; }
ok "source scaffold's pipeline emits 3 events"

# The scaffold's README sends authors to the guide the install put there.
expect_in "$TMP/work/source_counter/README.md" "pkg-config --variable=docdir sluice"
expect_in "$TMP/work/source_counter/README.md" "share/doc/sluice/plugin-guide.md"
[ -f "$(pkg-config --variable=docdir sluice)/plugin-guide.md" ] || fail "no installed plugin guide"
ok "the scaffold's README points at the installed plugin guide"

# Refusals: never overwrite, names that could not be plugin names, no kind.
expect_rc 1 "$S" plugin new --kind sink jsonl "$TMP/work/sink_jsonl"
expect_in "$TMP/err" "exists and is not empty"
expect_rc 2 "$S" plugin new --kind sink "Bad-Name" "$TMP/work/x"
expect_in "$TMP/err" "invalid plugin name 'Bad-Name'"
expect_rc 2 "$S" plugin new counter "$TMP/work/y"
expect_in "$TMP/err" "needs --kind"
[ ! -e "$TMP/work/x" ] && [ ! -e "$TMP/work/y" ] || fail "a refused scaffold left files"
ok "plugin new refuses a non-empty DIR, a bad NAME and a missing --kind"
finish
