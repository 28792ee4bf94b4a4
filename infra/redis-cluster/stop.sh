#!/usr/bin/env bash
# Stops every Redis Cluster node that infra/redis-cluster/start.sh started (by the pid files in
# .local/redis-cluster/<port>/, whatever ports they were started on) and removes their state
# (nodes.conf, logs): the next start creates a fresh cluster. A Redis this project did not
# start is left alone; so is the dev Redis on 6379.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
lock_state
stopped=0
for dir in "$STATE"/*/; do
  [[ -d "$dir" && "$(basename "$dir")" =~ ^[0-9]+$ ]] || continue
  stop_node "${dir%/}"
  stopped=$((stopped + 1))
done
rm -f "$STATE/create.log"
((stopped > 0)) || log "no Redis Cluster node started by this project is running"
