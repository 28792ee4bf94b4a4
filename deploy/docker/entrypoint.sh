#!/bin/sh
# The container image's entry point (Dockerfile): one process per container, named by the first
# argument. `exec` makes node PID 1's process, so it receives SIGTERM and drains (router/index.ts,
# subgraphs/kit/main.ts).
set -eu
cd /app
service=${1:-router}
[ "$#" -gt 0 ] && shift
case "$service" in
  router)
    # The router's V8 flags (router/v8-flags; why, in router/index.ts).
    # shellcheck disable=SC2046
    exec node $(grep -v '^#' router/v8-flags) dist/router/index.js "$@" ;;
  users | sessions | fleet)
    exec node "dist/subgraphs/$service/index.js" "$@" ;;
  # The CQL migrations (schema/cql, copied to dist/schema/cql); a re-run is a no-op.
  migrate) exec node dist/scripts/migrate.js "$@" ;;
  # The demo seed; `seed --if-empty` leaves a keyspace with data alone.
  seed) exec node dist/scripts/seed.js "$@" ;;
  # The one-shot job of docker-compose.yml: migrations, then the demo seed unless data exists.
  setup)
    node dist/scripts/migrate.js
    exec node dist/scripts/seed.js --if-empty "$@" ;;
  # Any other CLI of scripts/, e.g. `script mint-token admin`, `script api-keys orgs`.
  script)
    name=${1:?usage: script <name> [args], e.g. script api-keys help}
    shift
    exec node "dist/scripts/$name.js" "$@" ;;
  *)
    echo "usage: fleetgraph router|users|sessions|fleet|migrate|seed|setup|script <name> [args]" >&2
    exit 64 ;;
esac
