# Every YAML example in README.md and docs/ (fenced ```yaml blocks), and every
# pipeline in pipelines/, is checked: `sluice test` when it has a tests:
# section, else `sluice validate`. A pipeline-looking block that is not
# marked yaml fails too, so no example escapes the check.
. "$(dirname "$0")/common.bash"

mkdir -p "$TMP/ex"
# Blocks become $TMP/ex/<file>@<line of the fence>.yaml (slashes as '~').
python3 - "$SL_SRC" "$TMP/ex" <<'PY' || fail "an unmarked pipeline example (see above)"
import os, re, sys
src, out = sys.argv[1:3]
files = ["README.md"] + sorted(
    os.path.relpath(os.path.join(d, f), src)
    for d, _, fs in os.walk(os.path.join(src, "docs")) for f in fs if f.endswith(".md"))
bad = 0
for rel in files:
    lines = open(os.path.join(src, rel), encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^\s*```(\S*)", lines[i])
        if not m:
            i += 1
            continue
        start, lang = i + 1, m.group(1).lower()
        j = i + 1
        while j < len(lines) and not re.match(r"^\s*```\s*$", lines[j]):
            j += 1
        body = "\n".join(lines[i + 1:j]) + "\n"
        if lang in ("yaml", "yml"):
            name = "%s@%d.yaml" % (rel.replace("/", "~"), start)
            open(os.path.join(out, name), "w", encoding="utf-8").write(body)
        elif re.search(r"^sources:", body, re.M) and "plugin:" in body:
            print("%s:%d: a pipeline example not marked ```yaml (so not checked)" % (rel, start))
            bad = 1
        i = j + 1
sys.exit(bad)
PY
for p in "$SL_SRC"/pipelines/*.yaml; do cp "$p" "$TMP/ex/pipelines~$(basename "$p")"; done

# What an installed pipeline finds in its environment file.
export ONEENTRY_URL=http://127.0.0.1:9 ONEENTRY_TOKEN=example-token \
    SLUICE_GUEST_ID_KEY=example-key-0123456789 SLUICE_STATE_DIR=$TMP/state
n=0
for f in "$TMP"/ex/*.yaml; do
    cmd=validate
    grep -q '^tests:' "$f" && cmd=test
    rc=0
    (cd "$TMP" && "$SLUICE" $cmd "$f") >"$TMP/out" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || { cat "$TMP/out"; fail "$(basename "$f" | tr '~' /): sluice $cmd exited $rc"; }
    n=$((n + 1))
done
[ "$n" -ge 2 ] || fail "found only $n examples: is the extraction broken?"
ok "all $n YAML examples of README.md, docs/ and pipelines/ pass validate or test"
finish
