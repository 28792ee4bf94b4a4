#!/usr/bin/env bash
# Stops the Cassandra node that start.sh started (SIGTERM drains it), waiting up to 60 s.
# A node this project did not start (no pid file) is left alone.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PIDFILE="$ROOT/.local/cassandra/cassandra.pid"
if [[ ! -f "$PIDFILE" ]] || ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  echo "[cassandra] no node started by this project is running"
  rm -f "$PIDFILE"
  exit 0
fi
pid="$(cat "$PIDFILE")"
kill -TERM "$pid"
for _ in $(seq 1 60); do
  kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; echo "[cassandra] stopped (pid $pid)"; exit 0; }
  sleep 1
done
echo "[cassandra] pid $pid did not stop after 60s; sending SIGKILL"
kill -KILL "$pid" || true
rm -f "$PIDFILE"
