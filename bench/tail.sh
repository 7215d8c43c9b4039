#!/bin/bash
# bench/tail.sh [BUILD_DIR] [LINES]: `sluice run --once` tailing a generated
# nginx access log (default 1,000,000 lines of 150-400 bytes) into sink_null.
# The file is read once first so it is in the page cache. Prints lines/s,
# CPU seconds (user+sys) and peak RSS of the sluice process.
set -euo pipefail
BUILD=${1:-build}
LINES=${2:-1000000}
W=$(mktemp -d /tmp/sluice-bench-tail.XXXXXX)
trap 'rm -rf "$W"' EXIT
python3 - "$W/access.log" "$LINES" <<'PY'
import random, sys
r = random.Random(42)
paths = ["/", "/products/%d", "/search?q=%s", "/cart", "/static/app.%s.js", "/api/v1/items/%d?page=%d"]
agents = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
          "curl/8.4.0"]
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        p = r.choice(paths)
        p = p.replace("%d", str(r.randint(1, 99999)), 1).replace("%d", str(r.randint(1, 9)), 1)
        p = p.replace("%s", "".join(r.choice("abcdefghij") for _ in range(r.randint(3, 120))))
        line = '10.%d.%d.%d - - [29/Nov/2026:15:%02d:%02d +0000] "GET %s HTTP/1.1" %d %d "https://example.com/ref" "%s"' % (
            r.randint(0, 255), r.randint(0, 255), r.randint(0, 255), i // 60 % 60, i % 60, p,
            r.choice([200, 200, 200, 304, 404]), r.randint(100, 90000), r.choice(agents))
        n = r.randint(150, 400)
        f.write(line[:n].ljust(n) + "\n")
PY
cat > "$W/p.yaml" <<YAML
service: { state_dir: $W/state }
sources:
  t: { plugin: tail, paths: [$W/access.log], read_from: head }
sinks:
  n: { plugin: "null", inputs: [t] }
YAML
cat "$W/access.log" > /dev/null
size=$(stat -c %s "$W/access.log")
/usr/bin/time -f '%e %U %S %M' -o "$W/time" \
    "$BUILD/sluice" run "$W/p.yaml" --once --plugin-path "$BUILD/plugins" 2>"$W/log"
read -r wall user sys rss_kb <"$W/time"
python3 - "$LINES" "$size" "$wall" "$user" "$sys" "$rss_kb" <<'PY'
import sys
lines, size, wall, user, sys_, rss = int(sys.argv[1]), int(sys.argv[2]), *map(float, sys.argv[3:6]), int(sys.argv[6])
cpu = user + sys_
print(f"tail --once -> null: {lines} lines, {size/1e6:.0f} MB in {wall:.2f} s wall")
print(f"  lines/s:                  {lines / max(wall, 0.001):,.0f}")
print(f"  CPU seconds (user+sys):   {cpu:.2f}  ({cpu / (lines / 1e6):.2f} per million lines)")
print(f"  peak RSS:                 {rss / 1024:.1f} MiB")
PY
grep -q "discarded $LINES events" "$W/log" || { echo "sink_null did not get every line:" >&2; cat "$W/log" >&2; exit 1; }
