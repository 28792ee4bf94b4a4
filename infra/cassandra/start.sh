#!/usr/bin/env bash
# Starts the single-node Apache Cassandra 5.0 development/test node on 127.0.0.1:9042.
#
# Idempotent: if a node already answers CQL on CASSANDRA_HOST:CASSANDRA_PORT it is reused and
# nothing is started. Otherwise the jars are resolved from Maven Central (fetch.sh, cached in
# .local/cassandra/lib), and java 17 launches CassandraDaemon with the project-owned
# cassandra.yaml and logback.xml. Data and logs live in .local/cassandra/ (git-ignored).
# Waits until the node answers CQL, or fails after CASSANDRA_START_TIMEOUT seconds (default 180)
# printing the end of the node's log. JVM flags, launch and wait: lib.sh (shared with
# infra/cassandra-cluster/start.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/infra/cassandra"
STATE="$ROOT/.local/cassandra"
HOST="${CASSANDRA_DEV_HOST:-127.0.0.1}"
PORT="${CASSANDRA_DEV_PORT:-9042}"
TIMEOUT="${CASSANDRA_START_TIMEOUT:-180}"
HEAP="${CASSANDRA_DEV_HEAP:-1G}"
PIDFILE="$STATE/cassandra.pid"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

log() { echo "[cassandra] $*"; }

started_at=$(date +%s.%N)
if cassandra_ping "$HOST" "$PORT"; then
  log "reusing the node already answering CQL on $HOST:$PORT"
  exit 0
fi

if [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  log "node pid $(cat "$PIDFILE") is starting; waiting for CQL"
else
  bash "$HERE/fetch.sh"
  mkdir -p "$STATE/data" "$STATE/logs" "$STATE/tmp"
  cassandra_jvm_flags "$HEAP" "${CASSANDRA_DEV_CPUS:-2}" "$HERE/cassandra.yaml" \
    "$HERE/logback.xml" "$STATE/data" "$STATE/logs" "$STATE/tmp"
  log "starting Cassandra 5.0 (heap $HEAP) on $HOST:$PORT; data and logs in .local/cassandra/"
  cassandra_launch "$HERE" "$STATE/lib" "$STATE/logs" "$PIDFILE"
fi

cassandra_wait_for_cql "$HOST" "$PORT" "$PIDFILE" "$STATE/logs" "$TIMEOUT"
log "ready on $HOST:$PORT (pid $(cat "$PIDFILE")) in $(awk -v s="$started_at" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')s"
