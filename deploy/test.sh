#!/usr/bin/env bash
# Installs every dependency, builds with warnings as errors and runs the whole
# test suite with CTest: the libFuzzer targets for a bounded time in a clang
# tree, then unit, integration (real nodes on loopback) and fault tests in a
# gcc tree. Exits non-zero on any failure. Extra arguments go to the main ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CASENODE_TEST_BUILD:-$root/build-test}
fuzz_build=${CASENODE_FUZZ_BUILD:-$root/build-fuzz}
"$root/deploy/setup.sh"

if [ ! -f "$fuzz_build/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$fuzz_build" -G Ninja -DCASENODE_FUZZ=ON -DCASENODE_WERROR=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCASENODE_FUZZ_SECONDS="${CASENODE_FUZZ_SECONDS:-60}" >/dev/null
fi
cmake --build "$fuzz_build"
(cd "$fuzz_build" && ctest --output-on-failure)

"$root/deploy/build.sh" "$build" -DCASENODE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cd "$build"
ctest --output-on-failure --timeout 300 -j2 "$@"
