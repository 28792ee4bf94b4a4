#!/usr/bin/env bash
# Starts a Redis Cluster of three masters (Debian's redis-server in cluster mode, no replicas)
# on 127.0.0.1:${REDIS_CLUSTER_PORTS:-7101 7102 7103}, for `npm run test:redis-cluster` and for
# running the router with REDIS_CLUSTER_NODES. The dev Redis on 6379 is not touched.
#
# Each node has its own directory .local/redis-cluster/<port>/ (nodes.conf, redis.log,
# redis.pid); the cluster bus uses port + 10000. No persistence (a cache), and the same
# maxmemory/maxmemory-policy per node as infra/redis/start.sh.
#
# Idempotent: a healthy cluster on those ports (every node answers, cluster_state:ok, all 16384
# slots assigned, as many known nodes as ports) is reused. Anything else that this script
# started — a node that died, a cluster that was never created or is failing — is torn down
# (by pid file) and created afresh. A port held by a process this project did not start is an
# error, never killed. Every wait is bounded.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

if ((${#PORTS[@]} < 3)); then
  log "ERROR: a cluster needs at least three masters (REDIS_CLUSTER_PORTS=${PORTS[*]})"
  exit 1
fi

source "$ROOT/infra/redis/lib.sh"
ensure_redis_server

lock_state
info_field() { cli "$1" cluster info | tr -d '\r' | sed -n "s/^$2://p"; }
healthy() {
  local port
  for port in "${PORTS[@]}"; do
    answers "$port" || return 1
    [[ "$(info_field "$port" cluster_state)" == ok ]] || return 1
    [[ "$(info_field "$port" cluster_slots_assigned)" == 16384 ]] || return 1
    [[ "$(info_field "$port" cluster_known_nodes)" == "${#PORTS[@]}" ]] || return 1
  done
}
nodes_list() { local p; for p in "${PORTS[@]}"; do printf '127.0.0.1:%s ' "$p"; done; }

if healthy; then
  log "reusing the healthy cluster on $(nodes_list)"
  exit 0
fi

# Not healthy: tear down what this project started on these ports, then refuse ports that
# something else holds.
for port in "${PORTS[@]}"; do stop_node "$STATE/$port"; done
rm -f "$STATE/create.log"
for port in "${PORTS[@]}"; do
  if listening "$port" || listening "$((port + 10000))"; then
    log "ERROR: 127.0.0.1:$port (or its bus port $((port + 10000))) is held by a process this project did not start"
    exit 1
  fi
done

started_at=$(date +%s.%N)
for port in "${PORTS[@]}"; do
  dir="$STATE/$port"
  mkdir -p "$dir"
  # maxmemory + allkeys-lru, as infra/redis/start.sh (per node): a dev box's cache must never
  # grow without bound. `8>&-`: the daemon must not inherit (and hold) the scripts' lock.
  redis-server --bind 127.0.0.1 --port "$port" --daemonize yes \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" \
    --save '' --appendonly no --maxmemory 256mb --maxmemory-policy allkeys-lru 8>&-
done
for port in "${PORTS[@]}"; do
  for _ in $(seq 1 50); do answers "$port" && break; sleep 0.1; done
  if ! answers "$port"; then
    log "ERROR: node 127.0.0.1:$port did not answer PING within 5s. Log:"
    tail -n 20 "$STATE/$port/redis.log" || true
    exit 1
  fi
done

log "creating the cluster: $(nodes_list)(no replicas)"
# shellcheck disable=SC2046
if ! timeout 60 redis-cli --cluster create $(nodes_list) --cluster-replicas 0 --cluster-yes \
  >"$STATE/create.log" 2>&1; then
  log "ERROR: redis-cli --cluster create failed. Output:"
  tail -n 20 "$STATE/create.log" || true
  exit 1
fi

for _ in $(seq 1 300); do
  if healthy; then
    pids=""
    for port in "${PORTS[@]}"; do pids+="${pids:+, }$port: $(cat "$STATE/$port/redis.pid")"; done
    log "ready: cluster_state:ok on $(nodes_list)(pids $pids) in $(awk -v s="$started_at" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')s"
    exit 0
  fi
  sleep 0.1
done
log "ERROR: the cluster did not reach cluster_state:ok within 30s"
for port in "${PORTS[@]}"; do
  log "127.0.0.1:$port: $(cli "$port" cluster info | tr -d '\r' | grep -E 'cluster_state|slots_assigned|known_nodes' | tr '\n' ' ')"
done
exit 1
