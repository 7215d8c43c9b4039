#!/bin/bash
# bench/tail_rss.sh [BUILD_DIR] [GIB]: memory while source_tail ingests one
# big file (default 2 GiB of 150-400-byte access-log lines, generated in
# /tmp and deleted afterwards) with `sluice run --once` into sink_null.
# Prints the wall time, lines/s, peak RSS (VmHWM, from /usr/bin/time's
# maxrss) and VmRSS sampled every 0.2 s, so a climb would show.
set -euo pipefail
BUILD=${1:-build}
GIB=${2:-2}
W=$(mktemp -d /tmp/sluice-bench-tailrss.XXXXXX)
trap 'rm -rf "$W"' EXIT
python3 - "$W/access.log" "$GIB" <<'PY'
import random, sys
r = random.Random(7)
agents = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15", "curl/8.4.0"]
pool = []
for _ in range(4096):
    q = "".join(r.choice("abcdefghij") for _ in range(r.randint(3, 150)))
    pool.append('- - [29/Nov/2026:15:04:05 +0000] "GET /search?q=%s HTTP/1.1" %d %d "-" "%s"'
                % (q, r.choice([200, 304, 404]), r.randint(100, 90000), r.choice(agents)))
want, done, i = int(float(sys.argv[2]) * (1 << 30)), 0, 0
with open(sys.argv[1], "w") as f:
    while done < want:
        chunk = []
        for _ in range(20000):
            n = 150 + (i * 7919) % 251
            chunk.append(("10.0.0.%d %d %s" % (i % 256, i, pool[i % 4096]))[:n].ljust(n) + "\n")
            i += 1
        s = "".join(chunk)
        f.write(s)
        done += len(s)
print(i, file=open(sys.argv[1] + ".lines", "w"))
PY
LINES=$(cat "$W/access.log.lines")
SIZE=$(stat -c %s "$W/access.log")
cat > "$W/p.yaml" <<YAML
service: { state_dir: $W/state }
sources:
  t: { plugin: tail, paths: [$W/access.log], read_from: head }
sinks:
  n: { plugin: "null", inputs: [t] }
YAML
/usr/bin/time -f '%e %U %S %M' -o "$W/time" \
    "$BUILD/sluice" run "$W/p.yaml" --once --plugin-path "$BUILD/plugins" 2>"$W/log" &
TPID=$!
# /usr/bin/time's child is sluice; sample its VmRSS while it runs.
: > "$W/rss"
for _ in $(seq 1 3000); do # at most 10 minutes
    kill -0 "$TPID" 2>/dev/null || break
    spid=$(pgrep -P "$TPID" || true)
    [ -n "$spid" ] && awk '/^VmRSS/ {print $2}' "/proc/$spid/status" 2>/dev/null >>"$W/rss" || true
    sleep 0.2
done
wait "$TPID"
grep -q "discarded $LINES events" "$W/log" || { echo "sink_null did not get every line:" >&2; tail "$W/log" >&2; exit 1; }
read -r wall user sys rss_kb <"$W/time"
python3 - "$LINES" "$SIZE" "$wall" "$user" "$sys" "$rss_kb" "$W/rss" <<'PY'
import sys
lines, size = int(sys.argv[1]), int(sys.argv[2])
wall, user, sys_ = map(float, sys.argv[3:6])
hwm = int(sys.argv[6])
samples = [int(x) for x in open(sys.argv[7]).read().split()]
print(f"tail --once -> null: {lines:,} lines, {size / 2**30:.2f} GiB in {wall:.2f} s wall")
print(f"  lines/s:                  {lines / max(wall, 0.001):,.0f}")
print(f"  CPU seconds (user+sys):   {user + sys_:.2f}")
print(f"  peak RSS (VmHWM):         {hwm / 1024:.1f} MiB")
if samples:
    q = len(samples) // 4
    print(f"  VmRSS samples (every 0.2 s): {len(samples)}, min {min(samples) / 1024:.1f} MiB, "
          f"max {max(samples) / 1024:.1f} MiB, first quarter max {max(samples[:q or 1]) / 1024:.1f}, "
          f"last quarter max {max(samples[-(q or 1):]) / 1024:.1f}")
PY
