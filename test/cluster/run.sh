#!/usr/bin/env bash
# The Cassandra node-loss fault test (`npm run test:cluster`; heavy: three Cassandra nodes).
#
#   1. a fresh three-node cluster (infra/cassandra-cluster/start.sh: 127.0.0.1-3, CQL 9142,
#      storage 7100; the dev node on 127.0.0.1:9042 is not touched), and the dev Redis
#      (infra/redis/start.sh, reused when it runs; this run's keys carry their own prefix);
#   2. the migrations into a keyspace replicated three times, and the tiny seed;
#   3. test/cluster/node-loss.test.ts (in-process subgraphs and router against the cluster at
#      LOCAL_QUORUM; it kills and restarts nodes with infra/cassandra-cluster/kill.sh/start.sh);
#   4. the cluster is stopped, whatever the outcome (its data stays in .local/cassandra-cluster
#      for a post-mortem, and is wiped by the next run).
#
# One run at a time (a lock): the cluster's ports are fixed. FAULT_CLUSTER_KEEP=1 leaves the
# cluster running afterwards.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
started=$(date +%s)
log() { echo "[test:cluster] $* (+$(($(date +%s) - started))s)"; }

mkdir -p .local/cassandra-cluster
exec 9>.local/cassandra-cluster/run.lock
if ! flock -n 9; then
  echo "[test:cluster] ERROR: another run holds .local/cassandra-cluster/run.lock" >&2
  exit 1
fi

# A fresh cluster: a previous run's data (killed nodes, hints, old rows) must not change this
# one's outcome. A cluster left running (FAULT_CLUSTER_KEEP=1) is stopped first.
bash infra/cassandra-cluster/stop.sh >/dev/null
rm -rf .local/cassandra-cluster/node1 .local/cassandra-cluster/node2 .local/cassandra-cluster/node3

cleanup() {
  local code=$?
  if [[ "${FAULT_CLUSTER_KEEP:-0}" == 1 ]]; then
    log "leaving the cluster running (FAULT_CLUSTER_KEEP=1); stop it with infra/cassandra-cluster/stop.sh"
  else
    log "stopping the cluster"
    bash infra/cassandra-cluster/stop.sh || true
  fi
  log "done (exit $code)"
}
trap cleanup EXIT

log "starting the three-node cluster and Redis"
bash infra/cassandra-cluster/start.sh
bash infra/redis/start.sh

# What every process of this run (migrate, seed, the test and the stack it starts) connects to.
port="${CASSANDRA_CLUSTER_NATIVE_PORT:-9142}"
export FLEETGRAPH_ENV=test
export CASSANDRA_CONTACT_POINTS="127.0.0.1:$port,127.0.0.2:$port,127.0.0.3:$port"
export CASSANDRA_LOCAL_DC=datacenter1
export CASSANDRA_KEYSPACE=fleetgraph
export CASSANDRA_REPLICATION=NetworkTopologyStrategy:datacenter1=3
export CASSANDRA_READ_CONSISTENCY=LOCAL_QUORUM
export CASSANDRA_WRITE_CONSISTENCY=LOCAL_QUORUM
export REDIS_KEY_PREFIX="fg-cluster-test:"

log "migrations (RF 3) and the tiny seed"
node --import tsx scripts/migrate.ts
node --import tsx scripts/seed.ts --scale tiny

log "running test/cluster/node-loss.test.ts"
node --import tsx --test --test-reporter=spec --test-timeout=1200000 test/cluster/node-loss.test.ts
