/**
 * Entry point: `node --import tsx router/index.ts` (ROUTER_PORT, default 4000; GraphQL at
 * ROUTER_GRAPHQL_PATH, default /graphql). Serves any composed supergraph file (SUPERGRAPH_PATH).
 * The operations listener (/metrics, operator cache purges) on ROUTER_OPS_HOST:ROUTER_OPS_PORT,
 * default 127.0.0.1:4090, never to be exposed publicly (router/http/opsServer.ts).
 *
 * ROUTER_WORKERS > 1 forks that many worker processes (node:cluster) sharing the port: query
 * planning, JSON and authentication are CPU-bound and one Node process uses one core. Workers
 * share nothing but Redis (rate limits, response cache, APQ, session checks), which is why
 * those live there. A worker that dies is replaced.
 *
 * V8 flags (router/v8-flags, which every launcher reads; workers inherit them):
 * - `--max-semi-space-size=32` (V8's default is 16): the router allocates many short-lived
 *   objects per request (result shaping, JSON) and the scavenger was its largest single cost in
 *   the CPU profile. 64 took GC from 15.4% to 12.0% of busy time but cost ~100 MB more RSS.
 *   Re-measured with the lean plan executor (issue 20, profile labels semi32-N/semi64-N in
 *   bench/results/profile-top.md): GC 9.2/11.6% → 7.7/7.1%, 5–15% more requests/s; still 32,
 *   since the router-bound RSS (258–276 MB) must stay under 300 MB.
 * - `--max-old-space-size=1024`: a ceiling far above the live heap (~35 MB idle, ~75 MB under
 *   load), set for what it does to V8's heap growth: below 2 GB, V8 lets the old generation
 *   grow to ~1.6× the live heap between full collections instead of 4×. Without it the
 *   router-bound benchmark at 64 connections held 187-205 MB of old space and 373-395 MB RSS,
 *   almost all garbage awaiting collection; with it 77-88 MB and 247-251 MB, at the same
 *   requests/s (measured side by side, bench/README.md).
 */
import cluster from 'node:cluster';
import { loadRouterConfig } from '../platform/config/load.js';
import { createLogger } from '../platform/logger.js';
import { runMain } from '../platform/startup.js';
import { startTelemetry } from '../platform/telemetry.js';

runMain(async () => {
  const config = loadRouterConfig();
  const logger = createLogger(config, 'router');
  if (cluster.isPrimary && config.workers > 1) {
    for (let i = 0; i < config.workers; i++) cluster.fork();
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
  // Tracing (when configured) first, then the modules it instruments (platform/telemetry.ts).
  const telemetry = await startTelemetry(config.telemetry);
  const { connectCassandra } = await import('../platform/cassandra/client.js');
  const { createRedis } = await import('../platform/redis/client.js');
  const { createRouter } = await import('./server.js');
  const cassandra = await connectCassandra(config);
  const redis = createRedis(config);
  const router = await createRouter(config, { cassandra, redis, logger });
  const url = await router.listen(config.port, config.host);
  const ops = await router.listenOps(config.ops.port, config.ops.host);
  logger.info(
    { url, ops, ide: config.isProduction ? undefined : url.replace(/\/[^/]*$/, '/ide') },
    'router listening',
  );
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'draining in-flight requests');
    await router.close();
    redis.disconnect();
    await cassandra.shutdown();
    await telemetry.shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
});
