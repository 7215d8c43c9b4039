# The flagship pipeline as shipped (pipelines/nginx-to-oneentry.yaml, default
# settings) on a log growing 3,000 lines a second while OneEntry answers in
# 500 ms: the backlog waits in the file, not in memory. Peak resident memory
# stays under 64 MiB (the README's memory formula for this pipeline: about
# 24 MiB + its three 8 MiB queues), where it once climbed to 597 MB in 40 s
# (with the built-in HTTP client that issue 13 removed; 45,000 distinct
# visitors here, as a busy shop has).
# transports: h1
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/oneentry_helpers.bash"
LIMIT_MIB=64
# Under a sanitizer the resident size measures the sanitizer (shadow memory,
# quarantine): the scenario still runs, the bound is not checked.
SANITIZED=""
if sanitized_build; then SANITIZED=1; fi

start_emu --latency-ms 500
sed "s|^    token: \${ONEENTRY_TOKEN:-}|&\n    ca_file: $TMP/cert.pem|" \
    "$SL_SRC/pipelines/nginx-to-oneentry.yaml" >"$TMP/p.yaml"
grep -q "ca_file: $TMP/cert.pem" "$TMP/p.yaml" || fail "could not point the pipeline at the test CA"
touch "$TMP/access.log"
ONEENTRY_URL=$URL SLUICE_GUEST_ID_KEY=rss-test-key-0123456789 NGINX_ACCESS_LOG=$TMP/access.log \
    SLUICE_STATE_DIR=$TMP/state "$SLUICE" run "$TMP/p.yaml" 2>"$TMP/log" &
pid=$!
wait_for 30 grep -q "running" "$TMP/log" || { cat "$TMP/log"; fail "did not start"; }

# 15 s of a busy storefront, written in 100 ms slices.
python3 - "$TMP/access.log" <<'PY'
import sys, time
reqs = ["GET /products/%d HTTP/2.0", "GET /search?q=shoes+%d HTTP/2.0", "GET /pages/%d HTTP/1.1",
        "GET /static/app.js?v=%d HTTP/1.1"]
ua = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
i = 0
with open(sys.argv[1], "a") as f:
    t0 = time.monotonic()
    for tick in range(150):
        for _ in range(300):
            f.write('10.%d.%d.%d - - [12/Mar/2024:10:00:00 +0100] "%s" 200 512 "-" "%s"\n'
                    % (i // 65000 % 200, i // 254 % 256, i % 254 + 1, reqs[i % 4] % (1000 + i % 5000), ua))
            i += 1
        f.flush()
        time.sleep(max(0.0, t0 + (tick + 1) * 0.1 - time.monotonic()))
PY
kill -0 "$pid" 2>/dev/null || { cat "$TMP/log"; fail "sluice exited"; }
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
got=$(lines "$TMP/events")
echo "VmHWM ${hwm} kB after 45,000 lines; ${got} events delivered so far"
[ "$got" -gt 0 ] || { cat "$TMP/log"; fail "nothing delivered"; }
if [ -n "$SANITIZED" ]; then
    ok "a 500 ms OneEntry and 3,000 lines/s: runs (sanitizer build: the memory bound is not checked)"
else
    [ "$hwm" -lt $((LIMIT_MIB * 1024)) ] || fail "peak RSS ${hwm} kB over ${LIMIT_MIB} MiB"
    ok "a 500 ms OneEntry and 3,000 lines/s: peak resident memory ${hwm} kB under ${LIMIT_MIB} MiB"
fi
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
finish
