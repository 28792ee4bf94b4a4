#!/usr/bin/env bash
# Brings up the whole development stack, idempotently, and prints what runs where:
#   Cassandra 5.0 (127.0.0.1:9042) -> Redis (127.0.0.1:6379) -> CQL migrations -> demo seed
#   -> users/sessions/fleet subgraphs (4001-4003) -> router (4000). FLEETGRAPH_SERVICES=off
#   stops after the data stores (the test suite starts its own in-process servers).
# Anything already running is reused; a second run starts nothing new.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ ! -d node_modules ]]; then
  echo "[up] installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
else
  # npm ci applies router/patches (postinstall); a node_modules installed before a patch was
  # added gets it here. Idempotent: an applied patch is recognised and left as it is.
  npx --no-install patch-package --patch-dir router/patches --error-on-fail >/dev/null
fi
bash infra/cassandra/start.sh
bash infra/redis/start.sh
node --import tsx scripts/migrate.ts
node --import tsx scripts/seed.ts --scale "${SEED_SCALE:-demo}" --if-empty
if [[ "${FLEETGRAPH_SERVICES:-on}" != off ]]; then
  bash infra/services.sh start
fi
cat <<INFO
[up] running:
  Cassandra 5.0  127.0.0.1:9042  keyspace ${CASSANDRA_KEYSPACE:-fleetgraph}  (data and logs in .local/cassandra/)
  Redis          127.0.0.1:6379  (log in .local/redis/)
INFO
if [[ "${FLEETGRAPH_SERVICES:-on}" != off ]]; then
  router="http://127.0.0.1:${ROUTER_PORT:-4000}"
  cat <<INFO
  GraphQL API    $router/graphql
  IDE            $router/ide?token=\$(npm run --silent token:mint -- admin)
  Operations     http://127.0.0.1:${ROUTER_OPS_PORT:-4090}/metrics  (never public)
  Subgraphs      users :${USERS_PORT:-4001}, sessions :${SESSIONS_PORT:-4002}, fleet :${FLEET_PORT:-4003}  (logs in .local/services/)
  Organizations  npm run api-keys -- orgs   (ids for api-keys create --org)
INFO
fi
echo "[up] stop everything with: npm run dev:down"
