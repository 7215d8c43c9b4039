#!/bin/sh
# Packages `make fuzz` needs on top of scripts/deps.sh (clang's libFuzzer
# and sanitizer runtimes). `make test` does not need them.
set -eu
PKGS="clang-14 libclang-rt-14-dev libfuzzer-14-dev"
missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0
echo "fuzz-deps.sh: installing$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
