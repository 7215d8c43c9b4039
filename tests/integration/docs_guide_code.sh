# The C in the plugin guide is the code the build compiles: every ```c block
# of README.md and docs/ must follow a marker
#   <!-- checked: <file> [NAME] -->
# and its lines must appear, in order and consecutively, in <file> (a line
# "..." skips any number of lines; leading whitespace is ignored). A file of
# core/templates/ is first expanded as `sluice plugin new NAME` would, so the
# guide shows real scaffold code and the scaffold is compiled and tested in
# every test build (unit.scaffold_*). A snippet that drifts from the code, or
# C without a marker, fails here.
. "$(dirname "$0")/common.bash"

python3 - "$SL_SRC" <<'PY' >"$TMP/out" 2>&1 || { cat "$TMP/out"; fail "plugin guide code out of date"; }
import os, re, sys
src = sys.argv[1]
files = ["README.md"] + sorted(
    os.path.relpath(os.path.join(d, f), src)
    for d, _, fs in os.walk(os.path.join(src, "docs")) for f in fs if f.endswith(".md"))

def target_lines(path, name):
    text = open(os.path.join(src, path), encoding="utf-8").read()
    if path.startswith("core/templates/") and name:
        kind = os.path.basename(path).split(".")[0].replace("test_", "")
        text = (text.replace("@NAME@", name).replace("@PLUGIN@", kind + "_" + name)
                .replace("@KIND@", kind))
    return [l.strip() for l in text.split("\n")]

def matches(snippet, lines):
    """Each run of snippet lines between '...' is consecutive in lines, runs in order."""
    runs, cur = [], []
    for l in snippet:
        if l.strip() == "...":
            runs.append(cur)
            cur = []
        elif l.strip():
            cur.append(l.strip())
    runs.append(cur)
    pos = 0
    for run in runs:
        if not run:
            continue
        found = next((i for i in range(pos, len(lines) - len(run) + 1)
                      if lines[i:i + len(run)] == run), None)
        if found is None:
            # Name the first line that differs where most of the run matched.
            best = max((next((k for k in range(len(run)) if i + k >= len(lines)
                              or lines[i + k] != run[k]), len(run))
                        for i in range(pos, len(lines))), default=0)
            return run[min(best, len(run) - 1)]
        pos = found + len(run)
    return None

bad = n = 0
for rel in files:
    doc = open(os.path.join(src, rel), encoding="utf-8").read().split("\n")
    for i, line in enumerate(doc):
        if not re.match(r"^\s*```c\s*$", line):
            continue
        j = i + 1
        while j < len(doc) and not re.match(r"^\s*```\s*$", doc[j]):
            j += 1
        m = re.match(r"^<!-- checked: (\S+)(?: (\S+))? -->$", doc[i - 1] if i else "")
        if not m:
            print("%s:%d: a C block without <!-- checked: FILE [NAME] --> before it" % (rel, i + 1))
            bad = 1
            continue
        path, name = m.group(1), m.group(2)
        if not os.path.exists(os.path.join(src, path)):
            print("%s:%d: %s does not exist" % (rel, i + 1, path))
            bad = 1
            continue
        miss = matches(doc[i + 1:j], target_lines(path, name))
        if miss:
            print("%s:%d: not in %s: %s" % (rel, i + 1, path, miss))
            bad = 1
        n += 1
print("%d C blocks checked" % n)
sys.exit(bad if n else 1)
PY
cat "$TMP/out"
ok "every C block of the docs matches the code it is cut from"
finish
