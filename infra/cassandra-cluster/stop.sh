#!/usr/bin/env bash
# Stops the fault-test cluster's nodes that start.sh started (all, or the ones given as
# arguments) with SIGTERM, which drains each node, waiting up to 60 s per node (then SIGKILL).
# Data stays in .local/cassandra-cluster/ (delete it for a fresh cluster).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../cassandra/lib.sh
source "$HERE/../cassandra/lib.sh"
# shellcheck source=nodes.sh
source "$HERE/nodes.sh"
node="?"
log() { echo "[cassandra-cluster node$node] $*"; }
nodes="$(selected_nodes "$@")"
# In reverse order, so node 1 (a seed, usually the drivers' control connection) goes last.
for node in $(echo "$nodes" | tr ' ' '\n' | sort -r); do
  cassandra_stop "$(node_pidfile "$node")"
done
