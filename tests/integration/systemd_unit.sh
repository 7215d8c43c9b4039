#!/usr/bin/env bash
# The packaged systemd unit: `systemd-analyze security` rates its exposure at
# 2.5 or less, and it carries the limits the README promises (no core dumps,
# private files, a memory ceiling, reload by SIGHUP, a system-call filter).
. "$(dirname "$0")/common.bash"
: "${SL_BUILD:?}"
command -v systemd-analyze >/dev/null || { echo "skip: systemd-analyze missing (package systemd)"; exit 0; }

unit="$SL_BUILD/sluice@.service"
[ -f "$unit" ] || fail "no $unit: the build configures it"
for want in LimitCORE=0 UMask=0077 MemoryMax= SystemCallFilter=@system-service ProtectClock=yes \
            ProtectKernelLogs=yes ProtectHostname=yes RestrictRealtime=yes ProtectProc=invisible \
            'ExecReload=/bin/kill -HUP $MAINPID'; do
    grep -qF -- "$want" "$unit" || fail "the unit lacks $want"
done
if grep -q '^Documentation=man:' "$unit"; then fail "the unit names a man page that is not installed"; fi
ok "the unit has the hardening and limits it should"

cp "$unit" "$TMP/sluice@.service"
(cd "$TMP" && systemd-analyze security --offline=true sluice@.service) >"$TMP/sec" 2>&1 \
    || { cat "$TMP/sec"; fail "systemd-analyze security failed"; }
level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$TMP/sec")
[ -n "$level" ] || { cat "$TMP/sec"; fail "no exposure level in the output"; }
awk -v l="$level" 'BEGIN { exit !(l <= 2.5) }' || { grep '✗' "$TMP/sec"; fail "exposure $level > 2.5"; }
ok "systemd-analyze security: exposure $level (at most 2.5)"
finish
