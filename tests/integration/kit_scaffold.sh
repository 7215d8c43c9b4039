# sluice plugin new: for every kind, scaffold a project into an empty
# directory, build it with make against an installed prefix (pkg-config
# only, no build tree), run its CUnit test, `plugins check` it, and run its
# sample pipeline with the installed sluice.
. "$(dirname "$0")/common.bash"
: "${SL_BUILD:?}"
command -v pkg-config >/dev/null || fail "pkg-config missing (scripts/deps.sh installs it)"
command -v make >/dev/null || fail "make missing (build-essential)"

P=$TMP/prefix
cmake --install "$SL_BUILD" --prefix "$P" >"$TMP/install.log" 2>&1 \
    || { cat "$TMP/install.log"; fail "cmake --install failed"; }
export PKG_CONFIG_PATH=$(dirname "$(find "$P" -name sluice.pc | head -n 1)")
unset SLUICE_PLUGIN_PATH
S=$P/bin/sluice

# An ASan build installs an instrumented libsluice-event.a: the scaffold's
# test program must then link the sanitizer runtime too.
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
    (cd "$dir" && ./test_"$name") >"$TMP/unit.log" 2>&1 || { cat "$TMP/unit.log"; fail "$kind scaffold test fails"; }
    expect_in "$TMP/unit.log" "asserts"
    ok "$kind scaffold's CUnit test passes"
    expect_rc 0 make -C "$dir" -s check SLUICE="$S"
    expect_in "$TMP/out" "OK (0 errors, 0 warnings)"
    ok "$kind scaffold passes plugins check"
    (cd "$dir" && make -s run SLUICE="$S") >"$TMP/run.out" 2>"$TMP/run.err" \
        || { cat "$TMP/run.err"; fail "$kind scaffold pipeline failed"; }
}

mkdir -p "$TMP/work"
scaffold enricher stamp
[ "$(grep -c '"tag":"stamp"' "$TMP/run.out")" -eq 3 ] || { cat "$TMP/run.out"; fail "enricher output"; }
ok "enricher scaffold's pipeline tags 3 events"

scaffold sink jsonl
[ "$(grep -c '"message":"hello"' "$TMP/run.out")" -eq 3 ] || { cat "$TMP/run.out"; fail "sink output"; }
ok "sink scaffold's pipeline writes 3 events"

scaffold source counter
for i in 1 2 3; do expect_in "$TMP/run.out" "\"seq\":$i}"; done
[ "$(wc -l <"$TMP/run.out")" -eq 3 ] || { cat "$TMP/run.out"; fail "source output"; }
ok "source scaffold's pipeline emits 3 events"

# The scaffold's README sends authors to the guide the install put there.
expect_in "$TMP/work/source_counter/README.md" "pkg-config --variable=docdir sluice"
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
