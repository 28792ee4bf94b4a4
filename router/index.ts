/**
 * Entry point: `node --import tsx router/index.ts` (ROUTER_PORT, default 4000; GraphQL at
 * ROUTER_GRAPHQL_PATH, default /graphql). Serves any composed supergraph file (SUPERGRAPH_PATH).
 *
 * ROUTER_WORKERS > 1 forks that many worker processes (node:cluster) sharing the port: query
 * planning, JSON and authentication are CPU-bound and one Node process uses one core. Workers
 * share nothing but Redis (rate limits, response cache, APQ, session checks), which is why
 * those live there. A worker that dies is replaced.
 */
import cluster from 'node:cluster';
import { connectCassandra } from '../subgraphs/shared/cassandra/client.js';
import { loadConfig } from '../subgraphs/shared/config.js';
import { createLogger } from '../subgraphs/shared/logger.js';
import { createRedis } from '../subgraphs/shared/redis/client.js';
import { runMain } from '../subgraphs/shared/startup.js';
import { createRouter } from './server.js';

runMain(async () => {
  const config = loadConfig();
  const logger = createLogger(config, 'router');
  if (cluster.isPrimary && config.router.workers > 1) {
    for (let i = 0; i < config.router.workers; i++) cluster.fork();
    let stopping = false;
    cluster.on('exit', (worker, code) => {
      if (stopping) return;
      logger.error({ pid: worker.process.pid, code }, 'router worker exited; starting another');
      cluster.fork();
    });
    const stop = (signal: NodeJS.Signals) => {
      stopping = true;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    return;
  }
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
