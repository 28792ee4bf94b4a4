/**
 * The process's one long-lived cassandra-driver Client (the driver's coding rules: one Client
 * per process, prepared statements for everything executed more than once), and what it does
 * when a node dies: docs/cassandra-cluster.md.
 *
 * @remarks
 * Node loss, as test/cluster/node-loss.test.ts exercises it (3 nodes, RF 3, LOCAL_QUORUM):
 * - requests in flight on the dead node's connections fail with a socket error; idempotent
 *   ones (every read, and the writes marked so in Db) are retried on the next node of the query
 *   plan ({@link NodeLossRetryPolicy}), others fail, since they may have been applied;
 * - the node is marked down when its pool has no connection left, and skipped by the load
 *   balancing policy until it is reconnected: at once when the control connection reports it UP
 *   (a STATUS_CHANGE event), else on the {@link RECONNECTION} schedule;
 * - a read that is merely slow (a stalled coordinator) is sent to a second node after
 *   CASSANDRA_SPECULATIVE_DELAY_MS ({@link SpeculativeReadsPolicy}); writes are not duplicated;
 * - with two of three replicas alive, LOCAL_QUORUM reads and writes need no retry at all once
 *   the coordinators know the node is down (gossip), and hints replay the missed writes to it
 *   when it is back.
 */
import cassandra from 'cassandra-driver';
import type { CassandraSettings, ConsistencyName } from '../config/load.js';
import { StartupError } from '../startup.js';

export type CassandraClient = cassandra.Client;

/** Execution profile name for writes (CASSANDRA_WRITE_CONSISTENCY). */
export const WRITE_PROFILE = 'write';
export const { types: cqlTypes } = cassandra;

/**
 * Connects to the cluster named by the configuration.
 *
 * @param options.withKeyspace - false for the migration runner, which creates the keyspace.
 * @throws {@link StartupError} with one line naming CASSANDRA_CONTACT_POINTS when unreachable.
 */
export async function connectCassandra(
  config: { readonly cassandra: CassandraSettings },
  options: { withKeyspace?: boolean } = {},
): Promise<CassandraClient> {
  const c = config.cassandra;
  const client = new cassandra.Client({
    contactPoints: [...c.contactPoints],
    localDataCenter: c.localDataCenter,
    ...(options.withKeyspace === false ? {} : { keyspace: c.keyspace }),
    ...(c.credentials ? { credentials: { ...c.credentials } } : {}),
    ...(c.tls ? { sslOptions: { ...(c.tls.ca ? { ca: [c.tls.ca] } : {}) } } : {}),
    // The driver reaches every node it discovers on this one port (see CassandraSettings.port).
    protocolOptions: { port: c.port },
    // readTimeout is per attempt (each retry or speculative execution has its own).
    socketOptions: { connectTimeout: c.connectTimeoutMs, readTimeout: c.requestTimeoutMs },
    policies: {
      retry: new NodeLossRetryPolicy(),
      reconnection: RECONNECTION,
      speculativeExecution:
        c.speculativeExecutions > 0
          ? new SpeculativeReadsPolicy(c.speculativeDelayMs, c.speculativeExecutions)
          : new cassandra.policies.speculativeExecution.NoSpeculativeExecutionPolicy(),
    },
    // Token-aware routing over DC-aware round robin is the driver's default load-balancing
    // policy; every statement is prepared so the driver knows each statement's routing key.
    queryOptions: { prepare: true },
    // Reads use the default profile, writes the 'write' profile: consistency per statement kind,
    // configurable (LOCAL_QUORUM in production; LOCAL_ONE is enough for the single dev node).
    profiles: [
      new cassandra.ExecutionProfile('default', { consistency: consistencyOf(c.readConsistency) }),
      new cassandra.ExecutionProfile(WRITE_PROFILE, {
        consistency: consistencyOf(c.writeConsistency),
        serialConsistency: cassandra.types.consistencies.localSerial,
      }),
    ],
    pooling: {
      coreConnectionsPerHost: { [cassandra.types.distance.local]: 2 },
      heartBeatInterval: HEARTBEAT_INTERVAL_MS,
    },
  });
  try {
    await client.connect();
  } catch (error) {
    await client.shutdown().catch(() => undefined);
    const reason = describeConnectError(error);
    throw new StartupError(
      `Cannot connect to Cassandra at ${c.contactPoints.join(',')} (CASSANDRA_CONTACT_POINTS, data center ${c.localDataCenter}): ${reason}`,
    );
  }
  return client;
}

/** Maps a consistency name from configuration to the driver's numeric constant. */
export function consistencyOf(name: ConsistencyName): number {
  return cassandra.types.consistencies[lowerFirst(name)];
}

function lowerFirst(name: string): keyof typeof cassandra.types.consistencies {
  // 'LOCAL_QUORUM' -> 'localQuorum', as the driver names its constants.
  return name
    .toLowerCase()
    .replace(/_([a-z])/g, (_, ch: string) =>
      ch.toUpperCase(),
    ) as keyof typeof cassandra.types.consistencies;
}

function describeConnectError(error: unknown): string {
  if (error instanceof cassandra.errors.NoHostAvailableError) {
    const reasons = Object.entries(error.innerErrors ?? {}).map(
      ([host, inner]) => `${host}: ${(inner as Error).message}`,
    );
    return reasons.length > 0 ? reasons.join('; ') : error.message;
  }
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

const { RetryPolicy } = cassandra.policies.retry;
type DecisionInfo = cassandra.policies.retry.DecisionInfo;
type OperationInfo = cassandra.policies.retry.OperationInfo;

/**
 * Retries once, on another coordinator, what is safe to repeat; the driver's default policy
 * otherwise.
 *
 * @remarks
 * The driver asks this policy about write timeouts and request errors (socket closed, client
 * timeout, overloaded) only for idempotent statements; it rethrows those of other statements
 * itself. Why it differs from the default:
 * - read timeout: the default retries only when enough replicas answered but the data did
 *   not come, and on the same coordinator. During a node loss a LOCAL_QUORUM read times out
 *   because its coordinator still waited for the dead replica; a read may always be repeated,
 *   and another coordinator picks its replicas afresh, so retry once, on the next node.
 * - write timeout (idempotent writes only): the default retries only a batch-log write, once.
 *   An idempotent write carries the client-side timestamp of its first attempt, so applying it
 *   twice gives the same rows: retry once, on the next node, and a batch-log write up to
 *   {@link BATCH_LOG_RETRIES} times. Never a lightweight transaction (CAS: its outcome is
 *   unknown and must be read back) nor a counter.
 * - unavailable and request errors: as the default (next node; request errors until the query
 *   plan, i.e. the cluster's live nodes, is exhausted).
 */
export class NodeLossRetryPolicy extends RetryPolicy {
  override onReadTimeout(
    info: OperationInfo,
    consistency: cassandra.types.consistencies,
    ...rest: [received: number, blockFor: number, isDataPresent: boolean]
  ): DecisionInfo {
    // A lightweight transaction's Paxos read phase can time out too: the default decides.
    if (!isSelect(info.query)) return super.onReadTimeout(info, consistency, ...rest);
    // `consistency` is the statement's own (as the server reports it): it is kept.
    return info.nbRetry > 0 ? this.rethrowResult() : this.retryResult(consistency, false);
  }

  override onWriteTimeout(
    info: OperationInfo,
    consistency: cassandra.types.consistencies,
    _received: number,
    _blockFor: number,
    writeType: string,
  ): DecisionInfo {
    if (writeType === 'BATCH_LOG' && info.nbRetry < BATCH_LOG_RETRIES) {
      // The next node first, then the same one again: the query plan holds only the live nodes
      // (two, here), and any coordinator succeeds once the dead node is convicted.
      return this.retryResult(consistency, info.nbRetry > 0);
    }
    return info.nbRetry === 0 && RETRYABLE_WRITE_TYPES.has(writeType)
      ? this.retryResult(consistency, false)
      : this.rethrowResult();
  }
}

/** Write types (the server's WriteTimeout `writeType`) that an idempotent write may repeat once. */
const RETRYABLE_WRITE_TYPES = new Set(['SIMPLE', 'BATCH', 'UNLOGGED_BATCH']);

/**
 * Retries of a logged batch whose batch-log write timed out (BATCH_LOG): enough to outlast the
 * other nodes' failure detector after a node dies without a goodbye (SIGKILL, power loss).
 *
 * @remarks
 * A coordinator stores a logged batch's batch log on two other live nodes of its data center
 * before it applies the batch, and "live" is its failure detector's opinion. On a three-node
 * data center the two others are always both needed, so until the dead node is convicted
 * (phi_convict_threshold 8 × ln 10 × the ~1 s gossip interval: ~18 s, measured 18-20 s) every
 * logged batch, through any coordinator, times out after write_request_timeout (2 s) with
 * BATCH_LOG, before any of its mutations was sent (a batch log that did reach the live node is
 * replayed by that node later: harmless for an idempotent batch). Once the node is convicted,
 * the batch log goes to the one remaining node and the retry succeeds. 15 retries of ~2 s each
 * (~30 s) cover that window with room for a slow cluster (10 were measured too few for a batch
 * sent just before the kill); the caller waits instead of failing, so the router's
 * SUBGRAPH_TIMEOUT_MS must allow it (docs/cassandra-cluster.md). Larger clusters pick the dead
 * node less often.
 */
const BATCH_LOG_RETRIES = 15;

/**
 * Constant-delay speculative execution for reads only.
 *
 * @remarks
 * The driver speculates on every idempotent statement, and Db marks idempotent writes so that
 * they are retried after a coordinator dies; sending every slow write twice as well would only
 * add load to a cluster that is already slow. The plan is chosen by the statement's text:
 * SELECTs speculate, everything else (writes, batches) does not.
 */
export class SpeculativeReadsPolicy
  extends cassandra.policies.speculativeExecution.ConstantSpeculativeExecutionPolicy
{
  override newPlan(
    keyspace: string,
    queryInfo: string | object[],
  ): { nextExecution: () => number } {
    return isSelect(queryInfo)
      ? (super.newPlan(keyspace, queryInfo) as { nextExecution: () => number })
      : NO_SPECULATION;
  }
}

const NO_SPECULATION = { nextExecution: () => -1 };

/** Whether a statement (its CQL text; a batch's is a list) is a read. */
function isSelect(query: unknown): boolean {
  return typeof query === 'string' && /^\s*SELECT\b/i.test(query);
}

/**
 * Reconnection to a node marked down: after 1 s, doubling up to 10 s (with the driver's
 * jitter). The control connection's UP event reconnects a node that comes back at once; this
 * schedule is the fallback when that event is missed (e.g. the control connection was on the
 * node that died), so a node that is back gets its share of requests within ~10 s. An attempt
 * on a dead node costs one refused TCP connect.
 */
const RECONNECTION = new cassandra.policies.reconnection.ExponentialReconnectionPolicy(
  1000,
  10_000,
);

/**
 * Idle connections send an OPTIONS heartbeat this often (driver default 30 s). A killed node's
 * sockets are closed by its kernel at once; a node that vanishes without closing them (a
 * partition, a frozen VM) is noticed on an idle connection within this interval plus
 * CASSANDRA_REQUEST_TIMEOUT_MS, on a busy one by its requests' timeouts.
 */
const HEARTBEAT_INTERVAL_MS = 10_000;
