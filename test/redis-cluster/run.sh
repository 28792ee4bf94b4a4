#!/usr/bin/env bash
# The Redis Cluster tests (`npm run test:redis-cluster`):
#
#   1. the data stores the in-process stack needs (Cassandra on 9042 and the dev Redis, through
#      infra/up.sh with FLEETGRAPH_SERVICES=off: reused when running, never restarted);
#   2. a Redis Cluster of three masters (infra/redis-cluster/start.sh: 127.0.0.1:7101-7103,
#      reused when healthy);
#   3. test/redis-cluster/*.test.ts with REDIS_CLUSTER_NODES pointing at it, so the platform
#      client, the rate limiter and every router the tests start use the cluster;
#   4. the cluster is stopped (and its state removed), whatever the outcome.
#
# One run at a time (a lock): the cluster's ports are fixed. REDIS_CLUSTER_KEEP=1 leaves the
# cluster running afterwards.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
started=$(date +%s)
log() { echo "[test:redis-cluster] $* (+$(($(date +%s) - started))s)"; }

mkdir -p .local/redis-cluster
exec 9>.local/redis-cluster/run.lock
if ! flock -n 9; then
  echo "[test:redis-cluster] ERROR: another run holds .local/redis-cluster/run.lock" >&2
  exit 1
fi

cleanup() {
  local code=$?
  if [[ "${REDIS_CLUSTER_KEEP:-0}" == 1 ]]; then
    log "leaving the cluster running (REDIS_CLUSTER_KEEP=1); stop it with infra/redis-cluster/stop.sh"
  else
    log "stopping the cluster"
    bash infra/redis-cluster/stop.sh 9>&- || true
  fi
  log "done (exit $code)"
}
trap cleanup EXIT

log "data stores (reused when running)"
FLEETGRAPH_SERVICES=off bash infra/up.sh 9>&-
log "Redis Cluster"
bash infra/redis-cluster/start.sh 9>&-

ports_text="${REDIS_CLUSTER_PORTS:-7101 7102 7103}"
nodes=""
for port in ${ports_text//,/ }; do nodes+="${nodes:+,}127.0.0.1:$port"; done
export FLEETGRAPH_ENV=test
export REDIS_CLUSTER_NODES="$nodes"
shopt -s nullglob
# The cache's freshness tests run here too, against the cluster (test/e2e/ runs them on one Redis).
files=(test/redis-cluster/*.test.ts test/e2e/cache-freshness.test.ts)
log "running ${#files[@]} test files against the cluster $REDIS_CLUSTER_NODES"
# Bounded: a hung test fails after 5 minutes instead of holding the run (and the cluster).
node --import tsx --test --test-concurrency=1 --test-reporter=spec --test-timeout=300000 "${files[@]}"
