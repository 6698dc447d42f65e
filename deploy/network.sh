#!/usr/bin/env bash
# Starts or stops a local network of casenode processes on loopback.
#   deploy/network.sh up DIR [ORG]    build if needed, create the network in DIR if
#                                     DIR is empty, start every node (or ORG's),
#                                     return when all are ready (Local socket answers)
#   deploy/network.sh down DIR [ORG]  SIGTERM every node of DIR (or ORG's) and wait for it
# Each node logs JSON lines to DIR/<org>/casenode.log; its pid is in DIR/<org>/casenode.pid.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CASENODE_BUILD:-$root/build}
cmd=${1:-}; dir=${2:-}; only=${3:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 up|down DIR [ORG]" >&2; exit 2; }

nodes() {
  for d in "$dir"/*/; do
    [ -f "$d/casenode.toml" ] || continue
    [ -z "$only" ] || [ "$(basename "$d")" = "$only" ] && basename "$d"
  done
  return 0
}

case "$cmd" in
  up)
    [ -x "$build/node/casenode" ] && [ -x "$build/cli/casectl" ] || "$root/deploy/build.sh" "$build" >&2
    if [ ! -d "$dir/network" ]; then
      "$build/cli/casectl" network init "$dir" --base-port "${CASENODE_BASE_PORT:-7101}" >&2
    fi
    for org in $(nodes); do
      pidfile="$dir/$org/casenode.pid"
      if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then continue; fi
      (cd "$dir/$org" && exec "$build/node/casenode" --config casenode.toml 2>>casenode.log) &
      echo $! > "$pidfile"
    done
    for org in $(nodes); do
      for _ in $(seq 1 100); do
        # Ready = the Local service answers (peers may still be starting).
        if [ -S "$dir/$org/local.sock" ] && \
           "$build/cli/casectl" --socket "$dir/$org/local.sock" --timeout-ms 1000 -o json node status 2>/dev/null \
             | grep -q '"org"'; then
          continue 2
        fi
        if ! kill -0 "$(cat "$dir/$org/casenode.pid")" 2>/dev/null; then
          echo "network.sh: $org failed to start; last log lines:" >&2
          tail -5 "$dir/$org/casenode.log" >&2
          exit 1
        fi
        sleep 0.1
      done
      echo "network.sh: $org did not become ready" >&2; exit 1
    done
    echo "network.sh: $(nodes | wc -l) nodes up in $dir" >&2
    ;;
  down)
    for org in $(nodes); do
      pidfile="$dir/$org/casenode.pid"
      [ -f "$pidfile" ] || continue
      pid=$(cat "$pidfile")
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
      rm -f "$pidfile"
    done
    echo "network.sh: nodes in $dir stopped" >&2
    ;;
  *) echo "usage: $0 up|down DIR [ORG]" >&2; exit 2 ;;
esac
