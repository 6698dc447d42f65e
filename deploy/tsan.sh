#!/usr/bin/env bash
# ThreadSanitizer run of the unit tests of the concurrent parts: the key
# store (Get/Shred, rotation), the record store and its group commits, the
# audit log's concurrent writers, the decision gate and its rate limiter, the
# consent book and verifier cache, case books (concurrent agreement changes),
# the network view, file writes, the reader-writer lock and the retry loop
# under the notice and case-order queues (base/wake_loop.h).
# Usage: deploy/tsan.sh [BUILD_DIR]   (default build-tsan/; only unit_tests is built)
#
# Left out, with the reason: tests that start gRPC servers or channels (gRPC,
# like RocksDB, comes from Debian uninstrumented, and its internal hand-offs
# show as races), and the [crash] and [fault] tests, which fork and kill
# writers (ThreadSanitizer does not follow a forked child). RocksDB's own
# hand-offs are suppressed (tests/tsan.supp); any other report fails the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-tsan}
"$root/deploy/setup.sh"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCASENODE_TSAN=ON -DCASENODE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" --target unit_tests
cd "$build"
TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$root/tests/tsan.supp" ./tests/unit_tests \
  "[key_store]~[crash]~[fault],[audit]~[crash]~[fault],[store]~[crash]~[fault],[file],[cases],[gate],[consent],[verifier],[network],[base]"
