/**
 * The one way a subgraph process starts: validate configuration, start tracing (when
 * configured), connect Cassandra, build the server, listen, and drain on SIGTERM/SIGINT. Each
 * subgraph's index.ts is one call to this.
 *
 * @remarks
 * Everything that reaches cassandra-driver is imported only after tracing has started, so that
 * its instrumentation patches the driver (platform/telemetry.ts): this module imports the
 * server dynamically, and an entry passes its definition as a loader — `{ name, load }` — rather
 * than importing it (a definition passed as a value still works, untraced by Cassandra spans).
 */
import { loadSubgraphConfig, type SubgraphName } from '../../platform/config/load.js';
import { createLogger } from '../../platform/logger.js';
import { runMain } from '../../platform/startup.js';
import { startTelemetry } from '../../platform/telemetry.js';
import type { LoaderOptions } from './loaders.js';
import type { BaseContext, SubgraphDefinition } from './server.js';

type Definition<TContext extends BaseContext> = SubgraphDefinition<TContext, SubgraphName>;

/** A subgraph's definition, or its name and how to import the definition. */
export type SubgraphEntry<TContext extends BaseContext> =
  | Definition<TContext>
  | { readonly name: SubgraphName; readonly load: () => Promise<Definition<TContext>> };

/**
 * @param options.loaderOptions - DataLoader options for every request's loaders (see
 *   loaders.ts); only the benchmarks' baseline without DataLoader passes any.
 */
export function runSubgraph<TContext extends BaseContext>(
  entry: SubgraphEntry<TContext>,
  options: { readonly loaderOptions?: LoaderOptions } = {},
): void {
  runMain(async () => {
    const config = loadSubgraphConfig(entry.name);
    const logger = createLogger(config, `subgraph-${entry.name}`);
    const telemetry = await startTelemetry(config.telemetry);
    const definition = 'load' in entry ? await entry.load() : entry;
    const { connectCassandra } = await import('../../platform/cassandra/client.js');
    const { createSubgraphServer } = await import('./server.js');
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
      await telemetry.shutdown();
      process.exit(0);
    };
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    process.once('SIGINT', () => void shutdown('SIGINT'));
  });
}
