#!/usr/bin/env bash
# Installs every dependency, builds with warnings as errors and runs the whole
# test suite with CTest, in three trees (CI's budget is 90 minutes on a
# 2-core machine that may start with nothing built):
#   build-fuzz  clang + libFuzzer: each fuzz target for a bounded time
#   build-asan  gcc, AddressSanitizer + UBSan: unit and integration tests but
#               the authorisation matrices (thousands of calls on paths the
#               other tests take; they run in build-test). Skip the tree with
#               CASENODE_SKIP_ASAN=1 for a quicker local run.
#   build-test  gcc, RelWithDebInfo: unit, integration and fault tests
# A fourth tree, ThreadSanitizer for the concurrent parts' unit tests, does
# not fit that budget: `deploy/tsan.sh` runs it (CASENODE_WITH_TSAN=1 adds it
# here).
# Exits non-zero on any failure. Extra arguments go to the last ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CASENODE_TEST_BUILD:-$root/build-test}
fuzz_build=${CASENODE_FUZZ_BUILD:-$root/build-fuzz}
asan_build=${CASENODE_ASAN_BUILD:-$root/build-asan}
"$root/deploy/setup.sh"

if [ ! -f "$fuzz_build/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$fuzz_build" -G Ninja -DCASENODE_FUZZ=ON -DCASENODE_WERROR=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCASENODE_FUZZ_SECONDS="${CASENODE_FUZZ_SECONDS:-30}" >/dev/null
fi
cmake --build "$fuzz_build"
(cd "$fuzz_build" && ctest --output-on-failure)

if [ "${CASENODE_SKIP_ASAN:-0}" != 1 ]; then
  "$root/deploy/build.sh" "$asan_build" -DCASENODE_SANITIZE=ON -DCASENODE_WERROR=ON -DCMAKE_BUILD_TYPE=Debug
  (cd "$asan_build" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
     LSAN_OPTIONS="suppressions=$root/tests/lsan.supp" \
     ctest --output-on-failure --timeout 600 -j2 -E "authorisation matrix" )
fi

if [ "${CASENODE_WITH_TSAN:-0}" = 1 ]; then
  "$root/deploy/tsan.sh" "${CASENODE_TSAN_BUILD:-$root/build-tsan}"
fi

"$root/deploy/build.sh" "$build" -DCASENODE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cd "$build"
ctest --output-on-failure --timeout 300 -j2 "$@"
