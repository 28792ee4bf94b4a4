# Shared by infra/cassandra/start.sh (the single development/test node) and
# infra/cassandra-cluster/start.sh (the three-node cluster of the fault tests), so that every
# Cassandra this project runs is launched the same way: same jars, same JVM flags, same
# readiness check. Source it (it only defines functions); the caller defines `log`.

# The repository root, whichever script sourced this file.
CASSANDRA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# cassandra_ping HOST PORT: exit 0 when a node answers CQL there (a native-protocol OPTIONS
# frame, infra/cql-ping.ts; no cqlsh needed).
cassandra_ping() { (cd "$CASSANDRA_ROOT" && node --import tsx infra/cql-ping.ts "$1" "$2" 1500); }

# cassandra_jvm_flags HEAP CPUS YAML LOGBACK DATA_DIR LOG_DIR TMP_DIR [UNSAFE_SYSTEM]: sets the
# array CASSANDRA_JVM_FLAGS. Flags: Cassandra's conf/jvm-server.options and
# conf/jvm17-server.options (Java 17 module access), minus AlwaysPreTouch and the jamm agent
# (optional in 5.0); see README "Cassandra for development and tests". UNSAFE_SYSTEM (default
# true) adds -Dcassandra.unsafesystem=true: much faster schema changes, but the schema tables are
# then neither flushed nor replayed in time, so a node killed with SIGKILL comes back without the
# recent schema and drops the commit-log mutations of those tables. The fault-test cluster,
# whose nodes are killed on purpose, passes false.
cassandra_jvm_flags() {
  local heap="$1" cpus="$2" yaml="$3" logback="$4" data="$5" logs="$6" tmp="$7"
  local unsafe_system="${8:-true}"
  CASSANDRA_JVM_FLAGS=(
    -ea -Xss256k "-Xms${heap}" "-Xmx${heap}" -XX:+UseG1GC
    -XX:+HeapDumpOnOutOfMemoryError "-XX:HeapDumpPath=$logs" -XX:+ExitOnOutOfMemoryError
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
    # Test-node speed-ups: no gossip settling wait, short ring delay, unsynced system tables
    # (schema changes in tests are much faster). Never use these on a real cluster.
    -Dcassandra.skip_wait_for_gossip_to_settle=0
    -Dcassandra.ring_delay_ms=1000
  )
  if [[ "$unsafe_system" == true ]]; then CASSANDRA_JVM_FLAGS+=(-Dcassandra.unsafesystem=true); fi
  CASSANDRA_JVM_FLAGS+=(
    -Dcassandra.available_processors="$cpus"
    "-Dcassandra.config=file://$yaml"
    "-Dlogback.configurationFile=file://$logback"
    "-Dcassandra.storagedir=$data"
    "-Dcassandra.logdir=$logs"
    "-Djna.tmpdir=$tmp" "-Djava.io.tmpdir=$tmp"
    -Dcassandra-foreground=yes
  )
}

# cassandra_timer_slack_ns: the timer slack the node's threads run with, from
# CASSANDRA_TIMER_SLACK_NS (default 1000000 ns, 1 ms; 0 keeps the kernel's 50 µs). Fails naming
# the variable when it is not a whole number of nanoseconds from 0 to 100000000 (100 ms).
#
# Why: Cassandra's request threads (the shared executor pool, SEPWorker) "spin" between
# requests by parking for 10 µs at a time (a constant in 5.0), and with the kernel's default
# 50 µs slack that is tens of thousands of wake-ups a second: half a core or more whenever the
# node is lightly busy, whatever the request rate. A wider slack lets the kernel batch those
# timed wake-ups; a request still wakes a worker at once (unpark is not a timer). Measured on
# the dev node, one read by key every 2 ms / 10 ms (`npm run bench:cassandra-spin`,
# docs/cassandra-cpu.md): 73 % / 54 % of a core at 50 µs, 16 % / 9 % at 1 ms, for read latency
# p50 0.60 → 1.22 ms and p99 3.9 → 2.4 ms.
cassandra_timer_slack_ns() {
  local slack="${CASSANDRA_TIMER_SLACK_NS:-1000000}"
  if ! [[ "$slack" =~ ^[0-9]{1,9}$ ]] || ((10#$slack > 100000000)); then
    log "ERROR: CASSANDRA_TIMER_SLACK_NS must be a whole number of nanoseconds from 0 to 100000000, got '$slack'"
    return 1
  fi
  echo "$((10#$slack))"
}

# cassandra_launch CONF_DIR LIB_DIR LOG_DIR PIDFILE: starts CassandraDaemon with
# CASSANDRA_JVM_FLAGS in the background and writes its pid. setsid: the node outlives the
# script and the shell that ran it; the matching stop script ends it. The JVM is exec'd from a
# shell that first sets its own timer slack (/proc/self/timerslack_ns; no privilege needed for
# one's own process): the slack is kept across execve and inherited by every thread the JVM
# starts (prctl(2), PR_SET_TIMERSLACK).
cassandra_launch() {
  local conf="$1" lib="$2" logs="$3" pidfile="$4"
  local java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"
  local slack
  slack="$(cassandra_timer_slack_ns)" || return 1
  # shellcheck disable=SC2016 # $1 and $@ belong to the inner shell
  setsid nohup bash -c 'if (($1 > 0)) && ! { echo "$1" >/proc/self/timerslack_ns; } 2>/dev/null; then
      echo "cassandra-launch: could not set the timer slack to $1 ns (no /proc/self/timerslack_ns): the kernel default stays" >&2
    fi; shift; exec "$@"' \
    cassandra-launch "$slack" "$java_bin" "${CASSANDRA_JVM_FLAGS[@]}" -cp "$conf:$lib/*" \
    org.apache.cassandra.service.CassandraDaemon >"$logs/stdout.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

# cassandra_wait_for_cql HOST PORT PIDFILE LOG_DIR TIMEOUT: waits until the node answers CQL;
# fails (printing the end of its log) when the node exits or after TIMEOUT seconds.
cassandra_wait_for_cql() {
  local host="$1" port="$2" pidfile="$3" logs="$4" timeout="$5"
  local pid deadline
  pid="$(cat "$pidfile")"
  deadline=$(($(date +%s) + timeout))
  until cassandra_ping "$host" "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "ERROR: the node (pid $pid) exited during start-up. Last log lines:"
      tail -n 30 "$logs/system.log" "$logs/stdout.log" 2>/dev/null || true
      rm -f "$pidfile"
      return 1
    fi
    if (($(date +%s) >= deadline)); then
      log "ERROR: no CQL answer on $host:$port after ${timeout}s (CASSANDRA_START_TIMEOUT). Last log lines:"
      tail -n 30 "$logs/system.log" 2>/dev/null || true
      return 1
    fi
    sleep 1
  done
}

# cassandra_stop PIDFILE: SIGTERM (the node drains), waits up to 60 s, then SIGKILL. A node
# without a live pid file is left alone (this project did not start it).
cassandra_stop() {
  local pidfile="$1" pid
  if [[ ! -f "$pidfile" ]] || ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "no node started by this project is running"
    rm -f "$pidfile"
    return 0
  fi
  pid="$(cat "$pidfile")"
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pidfile"
      log "stopped (pid $pid)"
      return 0
    fi
    sleep 1
  done
  log "pid $pid did not stop after 60s; sending SIGKILL"
  kill -KILL "$pid" || true
  rm -f "$pidfile"
}
