#!/usr/bin/env bash
# Resolves org.apache.cassandra:cassandra-all and its runtime dependencies from Maven Central
# into .local/cassandra/lib (git-ignored). A no-op when the pinned version is already there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
POM="$ROOT/infra/cassandra/pom.xml"
LIB="$ROOT/.local/cassandra/lib"
VERSION="$(sed -n 's:.*<cassandra.version>\(.*\)</cassandra.version>.*:\1:p' "$POM")"
if [[ -f "$LIB/cassandra-all-$VERSION.jar" ]]; then
  exit 0
fi
echo "[cassandra] resolving cassandra-all $VERSION and its runtime dependencies with mvn"
rm -rf "$LIB"
# -q keeps the log short; cassandra-all's pom mentions an unresolved ${jmc5.path} property
# (a provided-scope profiling dependency) which mvn may report as an error: it is harmless.
mvn -q -B -f "$POM" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$LIB"
echo "[cassandra] $(ls "$LIB" | wc -l) jars in .local/cassandra/lib"
