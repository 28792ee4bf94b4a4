/**
 * The process's one long-lived cassandra-driver Client (the driver's coding rules: one Client
 * per process, prepared statements for everything executed more than once).
 */
import cassandra from 'cassandra-driver';
import type { Config } from '../config.js';
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
  config: Config,
  options: { withKeyspace?: boolean } = {},
): Promise<CassandraClient> {
  const c = config.cassandra;
  const client = new cassandra.Client({
    contactPoints: [...c.contactPoints],
    localDataCenter: c.localDataCenter,
    ...(options.withKeyspace === false ? {} : { keyspace: c.keyspace }),
    ...(c.credentials ? { credentials: { ...c.credentials } } : {}),
    ...(c.tls ? { sslOptions: { ...(c.tls.ca ? { ca: [c.tls.ca] } : {}) } } : {}),
    socketOptions: { connectTimeout: c.connectTimeoutMs, readTimeout: c.requestTimeoutMs },
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
    pooling: { coreConnectionsPerHost: { [cassandra.types.distance.local]: 2 } },
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
export function consistencyOf(name: Config['cassandra']['readConsistency']): number {
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
