#!/usr/bin/env bash
# Shared by start.sh and stop.sh (sourced): the ports, the state directory, the lock and how a
# node this project started is stopped.
STATE="$ROOT/.local/redis-cluster"
ports_text="${REDIS_CLUSTER_PORTS:-7101 7102 7103}"
read -r -a PORTS <<<"${ports_text//,/ }"
for port in "${PORTS[@]}"; do
  if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 55535)); then
    echo "[redis-cluster] ERROR: REDIS_CLUSTER_PORTS: \"$port\" is not a port in 1-55535 (the bus port is port + 10000)" >&2
    exit 1
  fi
done
log() { echo "[redis-cluster] $*"; }

# One start or stop at a time: two runs creating the same cluster would interleave.
lock_state() {
  mkdir -p "$STATE"
  exec 8>"$STATE/scripts.lock"
  flock -w 120 8 || { log "ERROR: another start/stop holds $STATE/scripts.lock"; exit 1; }
}

cli() { timeout 5 redis-cli -h 127.0.0.1 -p "$1" "${@:2}" 2>/dev/null; }
answers() { cli "$1" ping | grep -q PONG; }
listening() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# stop_node DIR: stops the redis-server whose pid file is DIR/redis.pid (only if that pid is
# still a redis-server: a pid file outliving its process must not hit a recycled pid), SIGTERM
# then, after 5 s, SIGKILL; then removes DIR (nodes.conf, log, pid file).
stop_node() {
  local dir="$1" pid=""
  [[ -f "$dir/redis.pid" ]] && pid="$(cat "$dir/redis.pid")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null &&
    [[ "$(ps -p "$pid" -o comm= 2>/dev/null)" == redis-server* ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    log "stopped 127.0.0.1:$(basename "$dir") (pid $pid)"
  fi
  rm -rf "$dir"
}
