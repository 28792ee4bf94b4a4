#!/bin/sh
# The gateway start script of graphql-hive/federation-gateway-audit, for our router:
# the audit's `test --run-script` calls it with a suite's name; it fetches that suite's
# supergraph from the audit's server and starts the built router (npm run build) on it.
# How to run the whole audit: docs/federation.md, "Federation audit".
#   AUDIT_EXECUTOR   lean (default) or gateway: QUERY_PLAN_EXECUTOR of the router
#   AUDIT_SERVE_PORT the audit's subgraph server (default 7400); the router answers on 7401.
set -eu
suite="$1"
here=$(cd "$(dirname "$0")" && pwd)
repo="${FLEETGRAPH_DIR:-$(cd "$here/../.." && pwd)}"
work="${AUDIT_WORK_DIR:-/tmp/fleetgraph-audit}"
mkdir -p "$work"
curl -sf --max-time 10 "http://127.0.0.1:${AUDIT_SERVE_PORT:-7400}/$suite/supergraph" \
  -o "$work/$suite.graphql"
unset NODE_OPTIONS # the audit's polyfill is for its own runner, not the router
# Development mode (anonymous callers, no JWKS); caches off so every case reaches the
# subgraphs; operation limits raised for the audit's deep and aliased operations.
exec env FLEETGRAPH_ENV=development LOG_LEVEL=warn RESPONSE_CACHE=false ENTITY_CACHE=false \
  REDIS_KEY_PREFIX=audit: MAX_QUERY_DEPTH=50 MAX_QUERY_COST=10000000 MAX_QUERY_TOKENS=100000 \
  MAX_QUERY_ALIASES=1000 MAX_QUERY_DIRECTIVES=1000 \
  RATE_LIMITS=user=1000000000,anonymous=1000000000 \
  TRUSTED_DOCUMENTS_DIR="$repo/schema/operations" \
  QUERY_PLAN_EXECUTOR="${AUDIT_EXECUTOR:-lean}" SUPERGRAPH_PATH="$work/$suite.graphql" \
  ROUTER_PORT=7401 ROUTER_OPS_PORT=7402 \
  node $(grep -v '^#' "$repo/router/v8-flags") "$repo/dist/router/index.js"
