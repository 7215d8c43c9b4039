#!/bin/sh
# Writes the reference page of every plugin built in BUILD/plugins into OUTDIR,
# from the plugins' own option tables: `make docs` (OUTDIR = docs/plugins).
# The test integration.docs_sync fails when docs/plugins differs from this.
set -eu
BUILD=${1:?usage: gen-plugin-docs.sh BUILD_DIR OUTDIR}
OUT=${2:?usage: gen-plugin-docs.sh BUILD_DIR OUTDIR}
mkdir -p "$OUT"
rm -f "$OUT"/*.md
for so in "$BUILD"/plugins/*.so; do
    name=$(basename "$so" .so)
    "$BUILD/sluice" plugins describe "$name" --markdown --plugin-path "$BUILD/plugins" >"$OUT/$name.md"
done
{
    echo "# Plugin reference"
    echo
    echo "Generated from each plugin's option table by \`make docs\`; CI fails when it drifts."
    echo
    for f in "$OUT"/*_*.md; do
        n=$(basename "$f" .md)
        echo "- [$n]($n.md)"
    done
} >"$OUT/README.md"
