#!/usr/bin/env bash
# Starts (or stops) the three subgraphs and the router as background node processes for
# development: `infra/services.sh start|stop [service...]` (stop: all, or only those named). Idempotent: a service whose pid file points at a
# live process is left alone, and so is a port already answering /healthz (a stack another checkout
# started). Logs and pid files live in .local/services/.
# Each service is checked on its /healthz before the next starts, and the router last.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.local/services"
mkdir -p "$STATE"
cd "$ROOT"

# Run as built JavaScript (scripts/build.ts, dist/): without tsx's loader each process needs ~55 MB less.
declare -A ENTRY=([users]=dist/subgraphs/users/index.js [sessions]=dist/subgraphs/sessions/index.js [fleet]=dist/subgraphs/fleet/index.js [router]=dist/router/index.js)
declare -A PORT=([users]="${USERS_PORT:-4001}" [sessions]="${SESSIONS_PORT:-4002}" [fleet]="${FLEET_PORT:-4003}" [router]="${ROUTER_PORT:-4000}")
ORDER=(users sessions fleet router)

running() { [[ -f "$STATE/$1.pid" ]] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

start() {
  local name=$1
  if running "$name"; then
    echo "[$name] reusing pid $(cat "$STATE/$name.pid") on 127.0.0.1:${PORT[$name]}"
    return
  fi
  # A server this checkout did not start (another clone's `npm run dev:up`) already answers on
  # the port: reuse it rather than start a process that exits on EADDRINUSE (and leave no pid
  # file, so `npm run dev:down` here leaves it alone).
  if curl -fsS "http://127.0.0.1:${PORT[$name]}/healthz" >/dev/null 2>&1; then
    rm -f "$STATE/$name.pid"
    echo "[$name] reusing the server already answering on 127.0.0.1:${PORT[$name]} (started elsewhere: not stopped by dev:down here)"
    return
  fi
  # The router's V8 flags (router/v8-flags; why, in router/index.ts).
  local flags=()
  [[ $name == router ]] && read -ra flags < <(grep -v '^#' router/v8-flags)
  setsid nohup node "${flags[@]}" "${ENTRY[$name]}" >"$STATE/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/$name.pid"
  for _ in $(seq 1 150); do
    if curl -fsS "http://127.0.0.1:${PORT[$name]}/healthz" >/dev/null 2>&1; then
      echo "[$name] ready on http://127.0.0.1:${PORT[$name]} (pid $(cat "$STATE/$name.pid"))"
      return
    fi
    if ! running "$name"; then
      echo "[$name] ERROR: exited during start-up:"; tail -n 5 "$STATE/$name.log"; exit 1
    fi
    sleep 0.2
  done
  echo "[$name] ERROR: no /healthz answer after 30s; log: .local/services/$name.log"; exit 1
}

stop() {
  local name=$1
  if running "$name"; then
    kill -TERM "$(cat "$STATE/$name.pid")"
    echo "[$name] stopped"
  fi
  rm -f "$STATE/$name.pid"
}

case "${1:-start}" in
  start)
    node --import tsx scripts/build.ts
    for name in "${ORDER[@]}"; do start "$name"; done
    ;;
  stop)
    shift
    for ((i = ${#ORDER[@]} - 1; i >= 0; i--)); do
      name=${ORDER[$i]}
      if (($# == 0)) || [[ " $* " == *" $name "* ]]; then stop "$name"; fi
    done
    ;;
  *) echo "usage: infra/services.sh start|stop [service...]"; exit 2 ;;
esac
