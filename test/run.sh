#!/usr/bin/env bash
# The full test suite (`npm test`): brings up the real stack (infra/up.sh, idempotent), then
# runs unit, integration and end-to-end tests with node's built-in runner. The runner's last
# lines count tests, passes and failures; after them, the check that the development stack was
# left running and its Redis untouched.
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

# The suite must leave a developer's running stack alone: the router `npm run dev:up` started
# keeps answering, and what is in the development Redis stays there (destructive tests use
# their own Redis and ports). Checked around the run, not assumed.
sentinel="fg:test-suite-sentinel:$$"
router_was_up=false
curl -fsS http://127.0.0.1:4000/healthz >/dev/null 2>&1 && router_was_up=true
redis-cli -h 127.0.0.1 -p 6379 SET "$sentinel" kept EX 3600 >/dev/null

# Files run one at a time: they share one Cassandra node and one Redis on a 2-core machine,
# and counter-based tests (statements, batches) must not see another file's traffic.
status=0
node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}" || status=$?

if [[ $(redis-cli -h 127.0.0.1 -p 6379 GET "$sentinel") != kept ]]; then
  echo "[test] FAIL: a key written to the development Redis before the run is gone"; status=1
fi
redis-cli -h 127.0.0.1 -p 6379 DEL "$sentinel" >/dev/null
if $router_was_up && ! curl -fsS http://127.0.0.1:4000/healthz >/dev/null 2>&1; then
  echo "[test] FAIL: the development router on :4000 answered before the run and not after"
  status=1
fi
exit "$status"
