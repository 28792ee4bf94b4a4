/**
 * Access to the real development stack for integration tests.
 *
 * @remarks
 * test/run.sh starts the real Cassandra node and Redis (infra/up.sh) and applies migrations
 * before any test runs; tests connect with the same configuration code as the services.
 */
import {
  loadSubgraphConfig,
  loadToolConfig,
  type SubgraphConfig,
  type SubgraphName,
  type ToolConfig,
} from '../../platform/config/load.js';
import { connectCassandra, type CassandraClient } from '../../platform/cassandra/client.js';
import { createRedis, waitForRedis, type RedisClient } from '../../platform/redis/client.js';

/** The environment every in-process service of a test loads its configuration slice from. */
export const testEnv: Readonly<Record<string, string | undefined>> = {
  ...process.env,
  FLEETGRAPH_ENV: 'test',
  LOG_LEVEL: 'silent',
  // Every query plan an in-process router runs goes through both executors, and a request whose
  // answers differ fails (router/execution/executorCompare.ts): each test is also an
  // equivalence test of the lean executor against the stock gateway's.
  QUERY_PLAN_EXECUTOR: process.env['QUERY_PLAN_EXECUTOR'] ?? 'compare',
};

/** The data stores, as the command-line tools see them. */
export const testConfig: ToolConfig = loadToolConfig(testEnv);

/**
 * What a subgraph started by a test is configured with (its port is chosen at listen); `env`
 * overrides testEnv (e.g. a test's own signing secrets).
 */
export function testSubgraphConfig(
  name: string,
  env: Readonly<Record<string, string>> = {},
): SubgraphConfig {
  const known = ['users', 'sessions', 'fleet'].includes(name);
  // A test's own probe subgraph is configured as one of ours: only the name differs.
  const config = loadSubgraphConfig(known ? (name as SubgraphName) : 'users', {
    ...testEnv,
    ...env,
  });
  return known ? config : { ...config, name: name as SubgraphName };
}

export async function cassandraForTest(
  options: { withKeyspace?: boolean } = {},
): Promise<CassandraClient> {
  return connectCassandra(testConfig, options);
}

export async function redisForTest(): Promise<RedisClient> {
  const client = createRedis(testConfig);
  await waitForRedis(client, 5000);
  return client;
}
