#!/usr/bin/env bash
# Kills one fault-test cluster node with SIGKILL (`kill.sh 2`): the crash case, no drain, no
# goodbye to gossip or clients beyond the kernel closing its sockets. Waits until the process is
# gone. `start.sh 2` brings the node back on its data. Only a node start.sh started (its pid
# file) is killed.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=nodes.sh
source "$HERE/nodes.sh"
if (($# != 1)); then
  echo "usage: $0 <node 1|2|3>" >&2
  exit 64
fi
node="$(selected_nodes "$1")"
pidfile="$(node_pidfile "$node")"
if [[ ! -f "$pidfile" ]] || ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "[cassandra-cluster node$node] ERROR: not running (no live pid in ${pidfile#"$CLUSTER_ROOT/"})" >&2
  exit 1
fi
pid="$(cat "$pidfile")"
kill -KILL "$pid"
for _ in $(seq 1 100); do
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$pidfile"
    echo "[cassandra-cluster node$node] killed (SIGKILL, pid $pid)"
    exit 0
  fi
  sleep 0.1
done
echo "[cassandra-cluster node$node] ERROR: pid $pid still alive 10s after SIGKILL" >&2
exit 1
