/**
 * Entry point: `node --import tsx router/index.ts` (ROUTER_PORT, default 4000; GraphQL at
 * ROUTER_GRAPHQL_PATH, default /graphql). Serves any composed supergraph file (SUPERGRAPH_PATH).
 */
import { connectCassandra } from '../subgraphs/shared/cassandra/client.js';
import { loadConfig } from '../subgraphs/shared/config.js';
import { createLogger } from '../subgraphs/shared/logger.js';
import { createRedis } from '../subgraphs/shared/redis/client.js';
import { runMain } from '../subgraphs/shared/startup.js';
import { createRouter } from './server.js';

runMain(async () => {
  const config = loadConfig();
  const logger = createLogger(config, 'router');
  const cassandra = await connectCassandra(config);
  const redis = createRedis(config);
  const router = await createRouter(config, { cassandra, redis, logger });
  const url = await router.listen(config.ports.router, config.host);
  logger.info(
    { url, ide: config.isProduction ? undefined : url.replace(/\/[^/]*$/, '/ide') },
    'router listening',
  );
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'draining in-flight requests');
    await router.close();
    redis.disconnect();
    await cassandra.shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
});
