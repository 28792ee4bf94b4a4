#!/usr/bin/env bash
# Starts the single-node Apache Cassandra 5.0 development/test node on 127.0.0.1:9042.
#
# Idempotent: if a node already answers CQL on CASSANDRA_HOST:CASSANDRA_PORT it is reused and
# nothing is started. Otherwise the jars are resolved from Maven Central (fetch.sh, cached in
# .local/cassandra/lib), and java 17 launches CassandraDaemon with the project-owned
# cassandra.yaml and logback.xml. Data and logs live in .local/cassandra/ (git-ignored).
# Waits until the node answers CQL, or fails after CASSANDRA_START_TIMEOUT seconds (default 180)
# printing the end of the node's log.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/infra/cassandra"
STATE="$ROOT/.local/cassandra"
HOST="${CASSANDRA_DEV_HOST:-127.0.0.1}"
PORT="${CASSANDRA_DEV_PORT:-9042}"
TIMEOUT="${CASSANDRA_START_TIMEOUT:-180}"
HEAP="${CASSANDRA_DEV_HEAP:-1G}"
PIDFILE="$STATE/cassandra.pid"

ping_cql() { (cd "$ROOT" && node --import tsx infra/cql-ping.ts "$HOST" "$PORT" 1500); }
log() { echo "[cassandra] $*"; }

started_at=$(date +%s.%N)
if ping_cql; then
  log "reusing the node already answering CQL on $HOST:$PORT"
  exit 0
fi

if [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  log "node pid $(cat "$PIDFILE") is starting; waiting for CQL"
else
  bash "$HERE/fetch.sh"
  mkdir -p "$STATE/data" "$STATE/logs" "$STATE/tmp"
  JAVA_BIN="${JAVA_HOME:+$JAVA_HOME/bin/}java"
  # Flags: Cassandra's conf/jvm-server.options and conf/jvm17-server.options (Java 17 module
  # access), minus AlwaysPreTouch and the jamm agent (optional in 5.0); see README "Cassandra".
  JVM_FLAGS=(
    -ea -Xss256k "-Xms${HEAP}" "-Xmx${HEAP}" -XX:+UseG1GC
    -XX:+HeapDumpOnOutOfMemoryError "-XX:HeapDumpPath=$STATE/logs" -XX:+ExitOnOutOfMemoryError
    -Djava.net.preferIPv4Stack=true -Dchronicle.analytics.disable=true
    -Djdk.attach.allowAttachSelf=true -Dio.netty.tryReflectionSetAccessible=true
    --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED
    --add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
    --add-exports=java.management/com.sun.jmx.remote.security=ALL-UNNAMED
    --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED
    --add-exports=java.sql/java.sql=ALL-UNNAMED
    --add-exports=java.base/java.lang.ref=ALL-UNNAMED
    --add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED
    --add-opens=java.base/java.lang.module=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.loader=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.math=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.module=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED
    --add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens=java.base/java.io=ALL-UNNAMED
    --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens=java.base/java.lang=ALL-UNNAMED
    --add-opens=java.base/java.util=ALL-UNNAMED
    --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=java.base/java.nio.charset=ALL-UNNAMED
    # Dev-node speed-ups: no gossip settling wait, short ring delay, unsynced system tables
    # (schema changes in tests are much faster). Never use these on a real cluster.
    -Dcassandra.skip_wait_for_gossip_to_settle=0
    -Dcassandra.ring_delay_ms=1000
    -Dcassandra.unsafesystem=true
    -Dcassandra.available_processors="${CASSANDRA_DEV_CPUS:-2}"
    "-Dcassandra.config=file://$HERE/cassandra.yaml"
    "-Dlogback.configurationFile=file://$HERE/logback.xml"
    "-Dcassandra.storagedir=$STATE/data"
    "-Dcassandra.logdir=$STATE/logs"
    "-Djna.tmpdir=$STATE/tmp" "-Djava.io.tmpdir=$STATE/tmp"
    -Dcassandra-foreground=yes
  )
  log "starting Cassandra 5.0 (heap $HEAP) on $HOST:$PORT; data and logs in .local/cassandra/"
  # setsid: the node outlives this script and the shell that ran it; stop.sh ends it.
  setsid nohup "$JAVA_BIN" "${JVM_FLAGS[@]}" -cp "$HERE:$STATE/lib/*" \
    org.apache.cassandra.service.CassandraDaemon >"$STATE/logs/stdout.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
fi

pid="$(cat "$PIDFILE")"
deadline=$(($(date +%s) + TIMEOUT))
until ping_cql; do
  if ! kill -0 "$pid" 2>/dev/null; then
    log "ERROR: the node (pid $pid) exited during start-up. Last log lines:"
    tail -n 30 "$STATE/logs/system.log" "$STATE/logs/stdout.log" 2>/dev/null || true
    rm -f "$PIDFILE"
    exit 1
  fi
  if (($(date +%s) >= deadline)); then
    log "ERROR: no CQL answer on $HOST:$PORT after ${TIMEOUT}s (CASSANDRA_START_TIMEOUT). Last log lines:"
    tail -n 30 "$STATE/logs/system.log" 2>/dev/null || true
    exit 1
  fi
  sleep 1
done
log "ready on $HOST:$PORT (pid $pid) in $(awk -v s="$started_at" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')s"
