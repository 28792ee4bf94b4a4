/**
 * A process that starts like a router (configuration, then platform/telemetry.ts, then the
 * router's modules and the drivers), reads Cassandra and Redis once, and prints what it loaded:
 * whether it traces, and which OpenTelemetry SDK modules are in its module cache. Run by
 * test/e2e/tracing.test.ts with and without tracing configured.
 */
import { createRequire } from 'node:module';
import { loadRouterConfig } from '../../platform/config/load.js';
import { isTracing, startTelemetry, traceBatch } from '../../platform/telemetry.js';

const config = loadRouterConfig();
const telemetry = await startTelemetry(config.telemetry);
await import('../../router/server.js');
const { connectCassandra } = await import('../../platform/cassandra/client.js');
const { createRedis } = await import('../../platform/redis/client.js');
const cassandra = await connectCassandra(config);
const redis = createRedis(config);
await new Promise((resolve) => setTimeout(resolve, 300)); // ioredis: connected
await traceBatch('probe', {}, async () => {
  await cassandra.execute('SELECT release_version FROM system.local');
  await redis.get(`${config.redis.keyPrefix}telemetry-probe`).catch(() => undefined);
});
await telemetry.shutdown();
await cassandra.shutdown();
redis.disconnect();
const sdkModules = Object.keys(createRequire(import.meta.url).cache).filter((path) =>
  /@opentelemetry\/(sdk-trace|exporter-trace|instrumentation)/.test(path),
);
process.stdout.write(
  `${JSON.stringify({ tracing: isTracing(), sdkModules: sdkModules.length })}\n`,
);
