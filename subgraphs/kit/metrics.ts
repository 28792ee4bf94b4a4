/**
 * Prometheus metrics of one subgraph server (prom-client), on its own Registry so that several
 * servers in one test process keep separate counters. Exposed on GET /metrics of the subgraph's
 * port, which is internal: only the router (and the metrics scraper) reach subgraphs — the
 * router→subgraph trust boundary — and clients never do.
 *
 * @remarks
 * Label sets are bounded. `table`, `kind`, `loader` and `code` come from this code. The
 * `operation` label does not: the gateway names each subgraph fetch after the client's
 * operation (`<name>__<subgraph>__<n>`), so every name a caller invents would reach here as a
 * new series. A subgraph cannot tell registered operations from others (the registry is the
 * router's), so (decision) it keeps the first {@link MAX_OPERATION_LABELS} distinct names it
 * sees and counts every later one as `other`: bounded memory whatever callers send, while the
 * router's own operations (SessionValidity, at its first authenticated request) and the
 * registered clients' usually come first. Dropping the label was the alternative; it would lose
 * the per-operation counts tests and operators use, for no more safety.
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
  /** GraphQL requests served, by operation name (bounded: {@link operationLabel}). */
  readonly requests: Counter<'operation'>;
  /**
   * Change events (fleet subgraph, platform/events/publisher.ts), by kind: appended to Redis;
   * appends that failed and are tried again; events given up (outbox full, or stopped with
   * Redis away). The other subgraphs publish none, so theirs stay at zero.
   */
  readonly eventsPublished: Counter<'kind'>;
  readonly eventsRetried: Counter<'kind'>;
  readonly eventsDropped: Counter<'kind'>;
  /** The `operation` label for a name: itself while there is room, else `other`. */
  operationLabel(operationName: string | null | undefined): string;
}

/** Distinct operation names a subgraph labels; later ones are `other`. */
export const MAX_OPERATION_LABELS = 100;
/** A longer name is `other` (a label value is kept in memory per series). */
const MAX_OPERATION_NAME_LENGTH = 120;
export const OTHER_OPERATION = 'other';

/** The first {@link MAX_OPERATION_LABELS} distinct names, then `other`. */
function boundedOperationLabels(): (operationName: string | null | undefined) => string {
  const seen = new Set<string>();
  return function operationLabel(operationName) {
    const name = operationName ?? 'anonymous';
    if (seen.has(name)) return name;
    if (seen.size >= MAX_OPERATION_LABELS || name.length > MAX_OPERATION_NAME_LENGTH)
      return OTHER_OPERATION;
    seen.add(name);
    return name;
  };
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
    operationLabel: boundedOperationLabels(),
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
    eventsPublished: new Counter({
      name: 'fleetgraph_events_published_total',
      help: 'Change events appended to their fleet stream in Redis, by kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    eventsRetried: new Counter({
      name: 'fleetgraph_events_retried_total',
      help: 'Change event appends that failed and are retried from the outbox, by kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    eventsDropped: new Counter({
      name: 'fleetgraph_events_dropped_total',
      help: 'Change events given up (outbox full, or stopped with Redis away), by kind',
      labelNames: ['kind'],
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
