#!/bin/sh
# Builds sluice (tests included) with -Werror for every CMAKE_BUILD_TYPE with
# gcc and clang, each in BASE-<cc>-<type>: optimisation levels and compilers
# warn about different things (`make build-matrix`).
set -eu
BASE=${1:-build-matrix}
JOBS=${JOBS:-2}
for cc in gcc clang; do
    for type in Debug Release RelWithDebInfo MinSizeRel; do
        dir="$BASE-$cc-$type"
        echo "== $cc $type ($dir)"
        CC=$cc cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=$type -DSLUICE_WERROR=ON >/dev/null
        cmake --build "$dir" -j "$JOBS" >"$dir/build.log" 2>&1 \
            || { tail -n 40 "$dir/build.log"; echo "FAILED: $cc $type" >&2; exit 1; }
    done
done
echo "all 8 builds passed"
