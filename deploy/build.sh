#!/usr/bin/env bash
# Installs dependencies and builds casenode with CMake + Ninja (incremental).
# Usage: deploy/build.sh [BUILD_DIR] [extra cmake args...]
#   BUILD_DIR defaults to build/ in the repository; CMAKE_BUILD_TYPE to RelWithDebInfo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
"$root/deploy/setup.sh"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja "$@" >/dev/null
elif [ $# -gt 0 ]; then
  cmake "$build" "$@" >/dev/null
fi
cmake --build "$build"
