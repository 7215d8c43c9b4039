#!/usr/bin/env bash
# bench/pages.sh [BUILD_DIR] [LINES] [ROUNDS] [FULL_LINES]: what the
# oneentry_pages enricher costs, in CPU seconds per million log lines. Lines in
# OneEntry's storefront URL scheme go through the enrichers of
# pipelines/oneentry-storefront.yaml, each pipeline once per round, alternating
# so all see the same machine:
#   1. enrichers only, LINES lines (default 1,000,000) into sink_null:
#        without:  tail -> parse -> activity -> null, the page rules setting a
#                  constant pageId instead of pageUrl (the same events go out)
#        pages:    tail -> parse -> activity -> pages -> null
#        modify:   tail -> parse -> activity -> modify (removes a field no
#                  event has) -> null: what any enricher stage that copies
#                  each event costs, for reference
#   2. the full pipeline, FULL_LINES lines (default 200,000) into the oneentry
#      sink and the OneEntry emulator (20 ms latency), without and with pages.
#   3. with valgrind installed: the instructions each pipeline of 1. executes
#      per line for VG_LINES lines (default 100,000), counted by cachegrind:
#      unlike CPU seconds, the same on a busy machine as on a quiet one.
# The emulator's Pages API has 2,000 pages and 50 ms latency; every handle of
# the log is a page, so once the page list is loaded no event waits (the run
# fails if one missed). Only sluice's CPU is counted, not the emulator's.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
LINES=${2:-1000000}
ROUNDS=${3:-3}
FULL_LINES=${4:-200000}
VG_LINES=${VG_LINES:-100000}
SLUICE_BIN="$BUILD/sluice"
EMU="$BUILD/tests/oneentry-emulator/oneentry-emulator"
[ -x "$SLUICE_BIN" ] && [ -x "$EMU" ] || { echo "build first (make build)" >&2; exit 2; }
TMP=$(mktemp -d /tmp/sluice-bench-pages.XXXXXX)
EMU_PID=
trap '[ -z "$EMU_PID" ] || kill "$EMU_PID" 2>/dev/null; rm -rf "$TMP"' EXIT

python3 - "$TMP/access.log" "$TMP/pages.json" "$LINES" <<'PY'
import json, random, sys
random.seed(7)
log, pages_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
cats = ["cat-%d-%s" % (i, w) for i, w in enumerate(["shirts", "shoes", "bags", "hats"] * 50)]
pages = ["about_us", "delivery", "contact_us", "services", "payment"] + ["info-%d" % i for i in range(45)]
extra = ["archive-%d" % i for i in range(2000 - len(cats) - len(pages) - 2)]
all_pages = [{"id": 1, "pageUrl": "home", "type": "common_page"},
             {"id": 2, "pageUrl": "shop", "type": "catalog_page"}]
all_pages += [{"id": 100 + i, "pageUrl": h, "type": "catalog_page", "parentId": 2,
               "localizeInfos": {"title": h.replace("-", " ").title()}} for i, h in enumerate(cats)]
all_pages += [{"id": 1000 + i, "pageUrl": h, "type": "common_page",
               "localizeInfos": {"title": h}} for i, h in enumerate(pages + extra)]
json.dump({"en_US": all_pages}, open(pages_path, "w"))
uas = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
       "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
       "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"]
def req(i):
    k = i % 10
    if k in (0, 1): return "GET /en/shop/product/%d HTTP/2.0" % (1000 + i % 5000)
    if k == 2: return "GET /en/shop/category/%s HTTP/2.0" % cats[i % len(cats)]
    if k == 3: return "GET /en/shop/category/%s?page=2&_rsc=%x HTTP/2.0" % (cats[(i * 7) % len(cats)], i)
    if k == 4: return "GET /en/%s HTTP/1.1" % pages[i % len(pages)]
    if k == 5: return "GET /en/search?q=trail+running%%20shoes&n=%d HTTP/2.0" % i
    if k == 6: return "GET /_next/static/chunks/app-%d.js HTTP/1.1" % (i % 300)
    if k == 7: return "GET /_next/image?url=%%2Fp%%2F%d.webp&w=640 HTTP/2.0" % (i % 900)
    if k == 8: return "GET /en HTTP/2.0"
    return "GET /en/cart HTTP/1.1"
with open(log, "w") as f:
    chunk = []
    for i in range(n):
        chunk.append('10.%d.%d.%d - - [12/Mar/2024:%02d:%02d:%02d +0100] "%s" %d %d "https://shop.example/" "%s"\n'
                     % (i % 200, i % 250, i % 254 + 1, (i // 3600) % 24, (i // 60) % 60, i % 60,
                        req(i), 404 if i % 53 == 0 else 200, 500 + i % 40000, uas[i % 7 % 4]))
        if len(chunk) == 10000:
            f.write("".join(chunk)); chunk = []
    f.write("".join(chunk))
PY

"$EMU" --listen 127.0.0.1:0 --port-file "$TMP/port" --pages "$TMP/pages.json" \
    --pages-latency-ms 50 --latency-ms 20 --token bench --quiet &
EMU_PID=$!
for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$TMP/port")"
head -n "$FULL_LINES" "$TMP/access.log" >"$TMP/full.log"
head -n "$VG_LINES" "$TMP/access.log" >"$TMP/vg.log"
FULL_LINES=$(wc -l <"$TMP/full.log")
VG_LINES=$(wc -l <"$TMP/vg.log")

# The enrichers as shipped; "without" leaves the pages enricher out.
python3 - "$SRC/pipelines/oneentry-storefront.yaml" "$TMP" <<'PY'
import sys
src, tmp = sys.argv[1:3]
text = open(src).read()
enrichers = text[text.index("\nenrichers:\n"):text.index("\nsinks:\n")]
# Without the pages enricher, page and category views carry a constant pageId
# (which wins over pageUrl), so both pipelines send OneEntry the same events.
without = enrichers[:enrichers.index("\n  pages:\n")]
n = without.count("pageLang: capture:lang")
assert n == 4, "pipelines/oneentry-storefront.yaml changed: %d page rules" % n
without = without.replace("pageLang: capture:lang", "pageId: 1")
modify = without + "\n  modify: { plugin: modify, inputs: [activity], remove: [no_such_field] }"
null = "  out: { plugin: null, inputs: [%s] }"
sink = "  out: { plugin: oneentry, inputs: [%s], url: '${ONEENTRY_URL}', token: bench }"
for name, body, last, log, out in (
        ("without", without, "activity", "access.log", null),
        ("pages", enrichers, "pages", "access.log", null),
        ("modify", modify, "modify", "access.log", null),
        ("full-without", without, "activity", "full.log", sink),
        ("full-pages", enrichers, "pages", "full.log", sink),
        ("vg-without", without, "activity", "vg.log", null),
        ("vg-pages", enrichers, "pages", "vg.log", null),
        ("vg-modify", modify, "modify", "vg.log", null)):
    open("%s/%s.yaml" % (tmp, name), "w").write(
        "service: { state_dir: %s/state-%s, log_level: info }\n"
        "sources:\n  access: { plugin: tail, paths: [%s/%s], read_from: head }\n"
        "%s\nsinks:\n%s\n" % (tmp, name, tmp, log, body, out % last))
PY

export SLUICE_GUEST_ID_KEY=bench-key-0123456789abcdef SLUICE_PLUGIN_PATH="$BUILD/plugins"
export ONEENTRY_URL=$URL ONEENTRY_TOKEN=bench ONEENTRY_CA_FILE=
python3 - "$SLUICE_BIN" "$TMP" "$LINES" "$ROUNDS" "$FULL_LINES" "$VG_LINES" <<'PY'
import re, resource, shutil, statistics, subprocess, sys, time
sluice, tmp = sys.argv[1], sys.argv[2]
lines, rounds, full_lines, vg_lines = (int(a) for a in sys.argv[3:7])

def run(name, n):
    shutil.rmtree("%s/state-%s" % (tmp, name), ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run([sluice, "run", "%s/%s.yaml" % (tmp, name), "--once"],
                       stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit("%s: exit %d\n%s" % (name, p.returncode, p.stderr))
    hits = None
    if name.endswith("pages"):
        m = re.search(r"(\d+) events given a pageId, (\d+) misses, (\d+) left without one", p.stderr)
        if not m or int(m.group(2)) or int(m.group(3)) or not int(m.group(1)):
            sys.exit("the pages enricher did not resolve every view from its map:\n" + p.stderr)
        hits = int(m.group(1))
    u, s = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    print("| %d | %s | %s | %.2f | %.2f (%.2f + %.2f) | %.3f |"
          % (r, name, format(n, ","), wall, u + s, u, s, (u + s) / n * 1e6), flush=True)
    return (u + s) / n * 1e6, hits

def part(names, n):
    cpu = {k: [] for k in names}
    hits = None
    global r
    for r in range(1, rounds + 1):
        for k in names:
            c, h = run(k, n)
            cpu[k].append(c)
            hits = h or hits
    return {k: statistics.median(v) for k, v in cpu.items()}, hits

print("| round | pipeline | lines | wall s | CPU s (user + sys) | CPU-s per million lines |")
print("|---|---|---|---|---|---|")
a, hits = part(("without", "pages", "modify"), lines)
b, fhits = part(("full-without", "full-pages"), full_lines)
print()
print("Medians, CPU-s per million lines:")
print("- enrichers only: without %.3f, with pages %.3f (%+.1f %%), with a no-op modify %.3f (%+.1f %%); "
      "%s page and category views given a pageId per run, 0 misses"
      % (a["without"], a["pages"], (a["pages"] / a["without"] - 1) * 100, a["modify"],
         (a["modify"] / a["without"] - 1) * 100, format(hits, ",")))
print("- full pipeline (oneentry sink): without %.3f, with pages %.3f (%+.1f %%); %s views given a pageId"
      % (b["full-without"], b["full-pages"], (b["full-pages"] / b["full-without"] - 1) * 100,
         format(fhits, ",")))

if shutil.which("valgrind"):
    ir = {}
    for k in ("vg-without", "vg-pages", "vg-modify"):
        shutil.rmtree("%s/state-%s" % (tmp, k), ignore_errors=True)
        p = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no",
                            "--cachegrind-out-file=/dev/null", sluice, "run",
                            "%s/%s.yaml" % (tmp, k), "--once"], stderr=subprocess.PIPE, text=True)
        m = re.search(r"I\s+refs:\s+([0-9,]+)", p.stderr)
        if p.returncode != 0 or not m:
            sys.exit("%s under valgrind: exit %d\n%s" % (k, p.returncode, p.stderr[-2000:]))
        ir[k] = int(m.group(1).replace(",", "")) / vg_lines
    w = ir["vg-without"]
    print("- instructions per line (cachegrind, %s lines, start-up included): without %s, "
          "with pages %s (%+.1f %%), with a no-op modify %s (%+.1f %%)"
          % (format(vg_lines, ","), format(int(w), ","), format(int(ir["vg-pages"]), ","),
             (ir["vg-pages"] / w - 1) * 100, format(int(ir["vg-modify"]), ","),
             (ir["vg-modify"] / w - 1) * 100))
PY
