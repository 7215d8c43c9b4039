#!/bin/sh
# Packages `make fuzz` needs on top of scripts/deps.sh (clang's libFuzzer
# and sanitizer runtimes). `make test` does not need them.
set -eu
exec sh "$(dirname "$0")/deps.sh" clang-14 libclang-rt-14-dev libfuzzer-14-dev
