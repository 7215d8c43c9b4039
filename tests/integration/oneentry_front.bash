# A TLS front for the OneEntry emulator or a stand-in (sourced by
# oneentry_helpers.bash): nghttpx terminates TLS on 127.0.0.1, offers
# HTTP/2 by ALPN, and forwards each request to the emulator over HTTP/1.1,
# logging per request the client's port and the protocol it spoke.

# Debian puts nghttpx in /usr/sbin, which is not on every user's PATH.
NGHTTPX=$(command -v nghttpx || echo /usr/sbin/nghttpx)
[ -x "$NGHTTPX" ] || fail "nghttpx missing (package nghttp2-proxy; scripts/deps.sh installs it)"
command -v openssl >/dev/null || fail "openssl missing (scripts/deps.sh installs it)"

# make_cert SAN: a throwaway self-signed certificate ($TMP/cert.pem, key
# $TMP/key.pem) for SAN, e.g. "IP:127.0.0.1,DNS:oneentry.invalid"; the
# sink trusts it through ca_file.
make_cert() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=sluice-test" \
        -addext "subjectAltName=$1" -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
        2>"$TMP/openssl.log" || { cat "$TMP/openssl.log"; fail "openssl req"; }
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

front_ready() { # the front answers through TLS (any HTTP status)
    [ "$(curl -s --noproxy '*' --cacert "$TMP/cert.pem" -o /dev/null -w '%{http_code}' \
        "https://127.0.0.1:$FRONT_PORT/_stats")" != 000 ]
}

front_up_or_gone() { front_ready || ! kill -0 "$FRONT_PID" 2>/dev/null; }

# start_front BACKEND_PORT [NGHTTPX OPTIONS...]: sets FRONT_PORT and
# FRONT_PID; the access log is $TMP/front.log, one line per request:
# "client-port alpn protocol method path status". nghttpx cannot listen on
# port 0, so a free port is picked and the start retried if it was taken.
start_front() {
    local backend=$1; shift
    for _ in 1 2 3 4 5; do
        FRONT_PORT=$(free_port)
        # shellcheck disable=SC2016 # nghttpx expands the $variables of its log format
        "$NGHTTPX" --conf=/dev/null --frontend="127.0.0.1,$FRONT_PORT" \
            --backend="127.0.0.1,$backend" --workers=1 --no-ocsp \
            --accesslog-file="$TMP/front.log" \
            --accesslog-format='$remote_port $alpn $protocol_version $method $path $status' \
            --errorlog-file="$TMP/front.err" "$@" "$TMP/key.pem" "$TMP/cert.pem" 2>>"$TMP/front.err" &
        FRONT_PID=$!
        wait_for 10 front_up_or_gone || true
        kill -0 "$FRONT_PID" 2>/dev/null && front_ready && return 0
        kill "$FRONT_PID" 2>/dev/null || true
        wait "$FRONT_PID" 2>/dev/null || true
    done
    cat "$TMP/front.err" >&2
    fail "nghttpx did not start"
}
