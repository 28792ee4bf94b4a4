/**
 * Access to the real development stack for integration tests.
 *
 * @remarks
 * test/run.sh starts the real Cassandra node and Redis (infra/up.sh) and applies migrations
 * before any test runs; tests connect with the same configuration code as the services.
 */
import { loadConfig, type Config } from '../../platform/config.js';
import { connectCassandra, type CassandraClient } from '../../platform/cassandra/client.js';
import { createRedis, waitForRedis, type RedisClient } from '../../platform/redis/client.js';

export const testConfig: Config = loadConfig({
  ...process.env,
  FLEETGRAPH_ENV: 'test',
  LOG_LEVEL: 'silent',
});

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
