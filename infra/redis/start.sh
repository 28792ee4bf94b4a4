#!/usr/bin/env bash
# Starts Debian's redis-server on 127.0.0.1:${REDIS_DEV_PORT:-6379} for development and tests.
#
# Idempotent: a Redis already answering PING on that port is reused. Installs the Debian
# package when redis-server is missing and apt-get is usable (CI runs as root). Data, pid
# file and log live in .local/redis/ (git-ignored). No persistence: this Redis is a cache.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="$ROOT/.local/redis"
PORT="${REDIS_DEV_PORT:-6379}"
log() { echo "[redis] $*"; }

source "$ROOT/infra/redis/lib.sh"
ensure_redis_server

if redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; then
  log "reusing the Redis already answering on 127.0.0.1:$PORT"
  exit 0
fi

mkdir -p "$STATE"
# maxmemory + allkeys-lru: the response cache must never grow without bound on a dev box;
# production sets its own policy on its own Redis.
redis-server --bind 127.0.0.1 --port "$PORT" --daemonize yes \
  --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log" --dir "$STATE" \
  --save '' --appendonly no --maxmemory 256mb --maxmemory-policy allkeys-lru

for _ in $(seq 1 50); do
  if redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; then
    log "ready on 127.0.0.1:$PORT (pid $(cat "$STATE/redis.pid"))"
    exit 0
  fi
  sleep 0.1
done
log "ERROR: Redis did not answer PING on 127.0.0.1:$PORT within 5s. Log:"
tail -n 20 "$STATE/redis.log" || true
exit 1
