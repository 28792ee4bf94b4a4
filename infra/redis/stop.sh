#!/usr/bin/env bash
# Stops the Redis that start.sh started; a Redis this project did not start is left alone.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PIDFILE="$ROOT/.local/redis/redis.pid"
if [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  pid="$(cat "$PIDFILE")"
  kill -TERM "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  echo "[redis] stopped (pid $pid)"
else
  echo "[redis] no Redis started by this project is running"
fi
rm -f "$PIDFILE"
