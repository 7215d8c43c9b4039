#!/bin/sh
# Installs the Debian packages sluice needs to build and test (or the
# packages named as arguments), only those missing, so a machine that has
# them all touches neither apt nor the network.
set -eu

PKGS="${*:-build-essential cmake pkg-config libyaml-dev libmsgpack-dev libcurl4-openssl-dev
libpcre2-dev libmicrohttpd-dev libcunit1-dev zlib1g-dev python3 curl valgrind openssl strace
nghttp2-proxy stress-ng systemd nats-server libnats-dev}"

missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

echo "$(basename "$0"): installing$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
