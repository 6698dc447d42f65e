#!/usr/bin/env bash
# Builds a Release tree and runs the benchmarks in tests/bench/: all of them,
# or the named ones (deploy/bench.sh peer_ping). Each prints
#   bench <name> ours=<ops/s> baseline=<ops/s> ratio=<ours/baseline> key=value...
# with its baseline measured in the same run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CASENODE_BENCH_BUILD:-$root/build-release}
"$root/deploy/build.sh" "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for bin in "$build"/tests/bench/bench_*; do names+=("$(basename "$bin" | sed 's/^bench_//')"); done
fi
for name in "${names[@]}"; do
  bin="$build/tests/bench/bench_$name"
  [ -x "$bin" ] || { echo "bench.sh: no benchmark named $name" >&2; exit 2; }
  "$bin"
done
