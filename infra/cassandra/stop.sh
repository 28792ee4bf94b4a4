#!/usr/bin/env bash
# Stops the Cassandra node that start.sh started (SIGTERM drains it), waiting up to 60 s.
# A node this project did not start (no pid file) is left alone.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=lib.sh
source "$ROOT/infra/cassandra/lib.sh"
log() { echo "[cassandra] $*"; }
cassandra_stop "$ROOT/.local/cassandra/cassandra.pid"
