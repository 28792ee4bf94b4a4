# The fault-test cluster's layout, shared by start.sh, stop.sh and kill.sh (source it): node N
# (1..3) listens on 127.0.0.N (Linux routes all of 127.0.0.0/8 on lo, no aliases needed) on the
# same ports as the others, and keeps its configuration, data, logs and pid file in
# .local/cassandra-cluster/nodeN/.
CLUSTER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLUSTER_STATE="$CLUSTER_ROOT/.local/cassandra-cluster"
CLUSTER_NODES=(1 2 3)
# Not the dev node's 9042/7000: it runs on 127.0.0.1 at the same time.
CLUSTER_NATIVE_PORT="${CASSANDRA_CLUSTER_NATIVE_PORT:-9142}"
CLUSTER_STORAGE_PORT="${CASSANDRA_CLUSTER_STORAGE_PORT:-7100}"
# Murmur3 tokens splitting the ring in three equal parts (one token per node).
CLUSTER_TOKENS=(-9223372036854775808 -3074457345618258603 3074457345618258602)

node_address() { echo "127.0.0.$1"; }
node_dir() { echo "$CLUSTER_STATE/node$1"; }
node_pidfile() { echo "$CLUSTER_STATE/node$1/cassandra.pid"; }

# The node numbers given as arguments (default: all), checked.
selected_nodes() {
  local n
  if (($# == 0)); then
    echo "${CLUSTER_NODES[@]}"
    return
  fi
  for n in "$@"; do
    if [[ ! "$n" =~ ^[1-3]$ ]]; then
      echo "[cassandra-cluster] ERROR: node must be 1, 2 or 3 (got \"$n\")" >&2
      return 64
    fi
  done
  echo "$@"
}
