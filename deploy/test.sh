#!/usr/bin/env bash
# Installs every dependency, builds with warnings as errors and runs the whole
# test suite with CTest, in two trees (CI's budget is 90 minutes on a 2-core
# machine that may start with nothing built; the suite aims at 40):
#   build-asan  clang, AddressSanitizer + UBSan, with the libFuzzer targets:
#               unit and integration tests but the authorisation matrices
#               (thousands of calls on paths the other tests take; they run
#               in build-test), and each fuzz target for a bounded time.
#               Skip the tree with CASENODE_SKIP_ASAN=1 for a quicker local run.
#   build-test  gcc, RelWithDebInfo: unit, integration, fault, artefact and
#               soak tests (the benchmarks are not built: deploy/bench.sh).
# Both are unity builds (one compiler run per batch of sources): the same
# code, a third of the compile time. ccache is used when it is installed.
# A third tree, ThreadSanitizer for the concurrent parts' unit tests, does
# not fit the budget: `deploy/tsan.sh` runs it (CASENODE_WITH_TSAN=1 adds it
# here). Exits non-zero on any failure. Extra arguments go to the last ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CASENODE_TEST_BUILD:-$root/build-test}
asan_build=${CASENODE_ASAN_BUILD:-$root/build-asan}
"$root/deploy/setup.sh"
common=(-DCASENODE_WERROR=ON -DCMAKE_UNITY_BUILD=ON)
command -v ccache >/dev/null && common+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
phase() { printf 'test.sh: %s at %s\n' "$1" "$(date -u +%H:%M:%S)" >&2; }

if [ "${CASENODE_SKIP_ASAN:-0}" != 1 ]; then
  phase "ASan tree: build"
  # Configured every time, so a tree left with other options gets these; a
  # tree made with another compiler cannot be switched, and is refused.
  if [ -f "$asan_build/CMakeCache.txt" ] && ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang++' "$asan_build/CMakeCache.txt"; then
    echo "test.sh: $asan_build was configured with another compiler than clang; remove it" >&2
    exit 1
  fi
  CC=clang CXX=clang++ cmake -S "$root" -B "$asan_build" -G Ninja "${common[@]}" -DCASENODE_SANITIZE=ON \
    -DCASENODE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCASENODE_FUZZ_SECONDS="${CASENODE_FUZZ_SECONDS:-30}" >/dev/null
  cmake --build "$asan_build"
  phase "ASan tree: tests"
  (cd "$asan_build" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
     LSAN_OPTIONS="suppressions=$root/tests/lsan.supp" \
     ctest --output-on-failure --timeout 600 -j2 -E "authorisation matrix" )
fi

if [ "${CASENODE_WITH_TSAN:-0}" = 1 ]; then
  phase "TSan tree"
  "$root/deploy/tsan.sh" "${CASENODE_TSAN_BUILD:-$root/build-tsan}"
fi

phase "RelWithDebInfo tree: build"
"$root/deploy/build.sh" "$build" "${common[@]}" -DCASENODE_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
phase "RelWithDebInfo tree: tests"
cd "$build"
ctest --output-on-failure --timeout 300 -j2 "$@"
phase "done"
