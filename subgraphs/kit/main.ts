/**
 * The one way a subgraph process starts: validate configuration, connect Cassandra, build the
 * server, listen, and drain on SIGTERM/SIGINT. Each subgraph's index.ts is one call to this.
 */
import { loadSubgraphConfig, type SubgraphName } from '../../platform/config/load.js';
import { connectCassandra } from '../../platform/cassandra/client.js';
import { createLogger } from '../../platform/logger.js';
import type { LoaderOptions } from './loaders.js';
import { createSubgraphServer, type BaseContext, type SubgraphDefinition } from './server.js';
import { runMain } from '../../platform/startup.js';

/**
 * @param options.loaderOptions - DataLoader options for every request's loaders (see
 *   loaders.ts); only the benchmarks' baseline without DataLoader passes any.
 */
export function runSubgraph<TContext extends BaseContext>(
  definition: SubgraphDefinition<TContext, SubgraphName>,
  options: { readonly loaderOptions?: LoaderOptions } = {},
): void {
  runMain(async () => {
    const config = loadSubgraphConfig(definition.name);
    const logger = createLogger(config, `subgraph-${definition.name}`);
    const cassandra = await connectCassandra(config);
    const { loaderOptions } = options;
    const server = await createSubgraphServer(definition, {
      config,
      cassandra,
      logger,
      loaderOptions,
    });
    const url = await server.listen(config.port, config.host);
    logger.info({ url }, `${definition.name} subgraph listening`);
    const shutdown = async (signal: string) => {
      logger.info({ signal }, 'draining');
      await server.close();
      await cassandra.shutdown();
      process.exit(0);
    };
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    process.once('SIGINT', () => void shutdown('SIGINT'));
  });
}
