# Shared helpers for integration tests (sourced, not run).
set -euo pipefail
: "${SLUICE:?SLUICE must point at the sluice binary}"
# SL_KEEP_TMP=1 keeps the test's files (logs, stores) for a look after a
# failure; their directory is named on stderr.
TMP=$(mktemp -d /tmp/sluice-it.XXXXXX)
[ -z "${SL_KEEP_TMP:-}" ] || echo "# files kept in $TMP" >&2
cleanup() {
    local pids
    pids=$(jobs -p)
    [ -n "$pids" ] && kill $pids 2>/dev/null || true
    [ -n "${SL_KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass_count=0
ok() { pass_count=$((pass_count + 1)); echo "ok - $*"; }
finish() { echo "$pass_count passed, 0 failed"; }

# expect_rc RC CMD...: run CMD, check its exit code, keep its output in $TMP/out and $TMP/err.
expect_rc() {
    local want=$1; shift
    local rc=0
    "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
    [ "$rc" -eq "$want" ] || { cat "$TMP/out" "$TMP/err" >&2; fail "'$*' exited $rc, expected $want"; }
}

expect_in() { # expect_in FILE TEXT
    grep -qF -- "$2" "$1" || { echo "--- $1:" >&2; cat "$1" >&2; fail "expected '$2' in $1"; }
}

# sanitized_build: true when $SLUICE is an ASan or TSan build. ldd's output is
# read whole first: under pipefail, `ldd | grep -q` fails at random when grep
# exits on the first match and ldd's next write meets a closed pipe (SIGPIPE).
sanitized_build() {
    local libs
    libs=$(ldd "$SLUICE") || return 1
    grep -q 'libasan\|libtsan' <<<"$libs"
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
    local limit=$(( $1 * 10 )); shift
    for _ in $(seq "$limit"); do "$@" && return 0; sleep 0.1; done
    return 1
}

# need_mount_ns "$@": re-run this test in a private mount namespace (its
# mounts vanish with it), which needs root; elsewhere the test is skipped.
need_mount_ns() {
    [ -n "${SL_IN_MOUNT_NS:-}" ] && return 0
    if [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
        rm -rf "$TMP" # exec skips the exit trap
        SL_IN_MOUNT_NS=1 exec unshare -m bash "$0" "$@"
    fi
    echo "skip: needs root for a private mount namespace (unshare -m)"
    exit 0
}

# mount_small_fs DIR SIZE: a tmpfs of SIZE on DIR (mode 0700, as sluice wants a
# state_dir nobody else can write), a disk that fills up on
# cue; at exit the test's processes are stopped before it is unmounted.
mount_small_fs() {
    mkdir -p "$1"
    mount -t tmpfs -o size="$2",mode=0700 tmpfs "$1" || fail "cannot mount a tmpfs"
    SMALL_FS=$1
    trap unmount_small_fs EXIT
}
unmount_small_fs() {
    local pids
    pids=$(jobs -p)
    [ -z "$pids" ] || { kill $pids 2>/dev/null || true; wait || true; }
    umount "$SMALL_FS" 2>/dev/null || true
    cleanup
}
