#!/usr/bin/env bash
# The full test suite (`npm test`): brings up the real stack (infra/up.sh, idempotent), then
# runs unit, integration and end-to-end tests with node's built-in runner. The runner's last
# lines count tests, passes and failures.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# The suite starts its own subgraphs and router in process (on random ports), so only the
# data stores are brought up here.
FLEETGRAPH_SERVICES=off bash infra/up.sh
export FLEETGRAPH_ENV=test
shopt -s nullglob globstar
files=(test/unit/**/*.test.ts test/integration/**/*.test.ts test/e2e/**/*.test.ts test/security/**/*.test.ts test/faults/**/*.test.ts)
echo "[test] running ${#files[@]} test files against the real Cassandra and Redis"
# Files run one at a time: they share one Cassandra node and one Redis on a 2-core machine,
# and counter-based tests (statements, batches) must not see another file's traffic.
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
