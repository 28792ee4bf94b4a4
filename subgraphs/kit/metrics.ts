/**
 * Prometheus metrics of one subgraph server (prom-client), on its own Registry so that several
 * servers in one test process keep separate counters. Exposed on GET /metrics.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface SubgraphMetrics {
  readonly registry: Registry;
  /** Statements sent to Cassandra, by table and kind (select, insert, update, delete, batch). */
  readonly cassandraStatements: Counter<'table' | 'kind'>;
  /**
   * Partitions read, by table: one per key of a by-key read (an `IN` statement reads many), so
   * tests can prove that each key was read once whatever the statements that read it.
   */
  readonly cassandraPartitionsRead: Counter<'table'>;
  /** DataLoader batch function calls, by loader. */
  readonly loaderBatches: Counter<'loader'>;
  /** Keys per DataLoader batch, by loader. */
  readonly loaderBatchSize: Histogram<'loader'>;
  /** Errors returned to clients, by code. */
  readonly resolverErrors: Counter<'code'>;
  /** GraphQL requests served, by operation name. */
  readonly requests: Counter<'operation'>;
}

export function createSubgraphMetrics(
  subgraph: string,
  options: { defaultMetrics?: boolean } = {},
): SubgraphMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ subgraph });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    cassandraStatements: new Counter({
      name: 'fleetgraph_cassandra_statements_total',
      help: 'CQL statements executed, by table and kind',
      labelNames: ['table', 'kind'],
      registers: [registry],
    }),
    cassandraPartitionsRead: new Counter({
      name: 'fleetgraph_cassandra_partitions_read_total',
      help: 'Cassandra partitions read by key, by table (an IN statement reads several)',
      labelNames: ['table'],
      registers: [registry],
    }),
    loaderBatches: new Counter({
      name: 'fleetgraph_dataloader_batches_total',
      help: 'DataLoader batch function calls',
      labelNames: ['loader'],
      registers: [registry],
    }),
    loaderBatchSize: new Histogram({
      name: 'fleetgraph_dataloader_batch_size',
      help: 'Keys per DataLoader batch',
      labelNames: ['loader'],
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers: [registry],
    }),
    resolverErrors: new Counter({
      name: 'fleetgraph_resolver_errors_total',
      help: 'GraphQL errors returned, by code',
      labelNames: ['code'],
      registers: [registry],
    }),
    requests: new Counter({
      name: 'fleetgraph_graphql_requests_total',
      help: 'GraphQL requests, by operation name',
      labelNames: ['operation'],
      registers: [registry],
    }),
  };
}
