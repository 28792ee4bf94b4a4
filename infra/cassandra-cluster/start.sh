#!/usr/bin/env bash
# Starts the three-node Cassandra 5.0 cluster of the fault tests (test/cluster/), or the nodes
# given as arguments: `start.sh` (all, node 1 first, then 2, then 3) or `start.sh 2` (one node,
# e.g. after kill.sh: it restarts on its existing data and rejoins the ring).
#
# Same jars (.local/cassandra/lib, infra/cassandra/fetch.sh) and JVM flags
# (infra/cassandra/lib.sh) as the dev node, one generated cassandra.yaml per node from
# cassandra.yaml.template. Node N: 127.0.0.N, CQL on 9142, storage on 7100 (nodes.sh); the dev
# node on 127.0.0.1:9042/7000 is not touched. Idempotent: a node already answering CQL is
# reused. Each node is waited for (CQL answers) before the next one starts, so they join one at
# a time; CASSANDRA_START_TIMEOUT (default 180 s) bounds each wait.
#
# Sizing for a shared 2-core machine: CASSANDRA_CLUSTER_HEAP (default 512M) per node,
# CASSANDRA_CLUSTER_CPUS (default 1) as -Dcassandra.available_processors.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../cassandra/lib.sh
source "$HERE/../cassandra/lib.sh"
# shellcheck source=nodes.sh
source "$HERE/nodes.sh"
TIMEOUT="${CASSANDRA_START_TIMEOUT:-180}"
HEAP="${CASSANDRA_CLUSTER_HEAP:-512M}"
CPUS="${CASSANDRA_CLUSTER_CPUS:-1}"
LIB="$CLUSTER_ROOT/.local/cassandra/lib"
node="?"
log() { echo "[cassandra-cluster node$node] $*"; }

seeds=""
for n in "${CLUSTER_NODES[@]}"; do seeds+="${seeds:+,}$(node_address "$n"):$CLUSTER_STORAGE_PORT"; done

# write_yaml N: the node's cassandra.yaml from the template (rewritten on every start, so a
# template change reaches existing nodes; initial_token only matters on the first start).
write_yaml() {
  local n="$1" conf
  conf="$(node_dir "$n")/conf"
  mkdir -p "$conf"
  sed -e "s/@ADDRESS@/$(node_address "$n")/g" \
    -e "s/@INITIAL_TOKEN@/${CLUSTER_TOKENS[$((n - 1))]}/g" \
    -e "s/@SEEDS@/$seeds/g" \
    -e "s/@NATIVE_PORT@/$CLUSTER_NATIVE_PORT/g" \
    -e "s/@STORAGE_PORT@/$CLUSTER_STORAGE_PORT/g" \
    "$HERE/cassandra.yaml.template" >"$conf/cassandra.yaml"
}

nodes="$(selected_nodes "$@")"
bash "$CLUSTER_ROOT/infra/cassandra/fetch.sh"
for node in $nodes; do
  address="$(node_address "$node")"
  dir="$(node_dir "$node")"
  pidfile="$(node_pidfile "$node")"
  started_at=$(date +%s.%N)
  if cassandra_ping "$address" "$CLUSTER_NATIVE_PORT"; then
    log "reusing the node already answering CQL on $address:$CLUSTER_NATIVE_PORT"
    continue
  fi
  if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "pid $(cat "$pidfile") is starting; waiting for CQL"
  else
    mkdir -p "$dir/data" "$dir/logs" "$dir/tmp"
    write_yaml "$node"
    # No unsafesystem (the 8th argument): these nodes are killed with SIGKILL on purpose and
    # must come back with their schema and every acknowledged write (see lib.sh).
    cassandra_jvm_flags "$HEAP" "$CPUS" "$dir/conf/cassandra.yaml" \
      "$CLUSTER_ROOT/infra/cassandra/logback.xml" "$dir/data" "$dir/logs" "$dir/tmp" false
    state="first start"
    [[ -d "$dir/data/data" ]] && state="restart on existing data"
    log "starting ($state, heap $HEAP) on $address:$CLUSTER_NATIVE_PORT; data and logs in ${dir#"$CLUSTER_ROOT/"}/"
    cassandra_launch "$dir/conf" "$LIB" "$dir/logs" "$pidfile"
  fi
  cassandra_wait_for_cql "$address" "$CLUSTER_NATIVE_PORT" "$pidfile" "$dir/logs" "$TIMEOUT"
  log "ready on $address:$CLUSTER_NATIVE_PORT (pid $(cat "$pidfile")) in $(awk -v s="$started_at" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')s"
done
