# docs/plugins/*.md must be exactly what the plugins' option tables generate.
. "$(dirname "$0")/common.bash"
: "${SL_BUILD:?}"
sh "$SL_SRC/scripts/gen-plugin-docs.sh" "$SL_BUILD" "$TMP/docs"
if ! diff -ru "$SL_SRC/docs/plugins" "$TMP/docs" >"$TMP/diff"; then
    cat "$TMP/diff"
    fail "docs/plugins is out of date: run 'make docs' and commit the result"
fi
ok "docs/plugins matches every plugin's option table"
finish
