#!/usr/bin/env bash
# Installs every dependency, builds with warnings as errors and runs the whole
# test suite with CTest (unit, integration with real nodes, fault tests).
# Exits non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CASENODE_TEST_BUILD:-$root/build-test}
"$root/deploy/build.sh" "$build" -DCASENODE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cd "$build"
ctest --output-on-failure --timeout 300 -j2 "$@"
