#!/usr/bin/env bash
# Stops what infra/up.sh started (services it did not start are left alone). Data is kept in
# .local/; delete .local/cassandra/data for a clean node.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/infra/services.sh" stop
bash "$ROOT/infra/redis/stop.sh"
bash "$ROOT/infra/cassandra/stop.sh"
