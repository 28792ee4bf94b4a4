/**
 * The data-access gateway every repository goes through: one place that runs CQL, counts it
 * (fleetgraph_cassandra_statements_total by table and kind) and applies the read/write profiles.
 *
 * @remarks
 * Repositories never touch the driver Client directly, so a test can assert exactly how many
 * statements an operation cost, and the benchmarks can report statements per operation.
 */
import cassandra from 'cassandra-driver';
import type { CassandraClient } from './client.js';
import { WRITE_PROFILE } from './client.js';
import type { SubgraphMetrics } from '../metrics.js';

type Params = readonly unknown[];

export interface ExecuteOptions {
  /** Use the write profile (CASSANDRA_WRITE_CONSISTENCY) instead of the read one. */
  readonly write?: boolean;
  readonly fetchSize?: number;
  readonly pageState?: string;
  /** Mark writes idempotent so the driver may retry or speculatively execute them. */
  readonly idempotent?: boolean;
}

export class Db {
  private readonly labels = new Map<string, { table: string; kind: string }>();

  constructor(
    readonly client: CassandraClient,
    private readonly metrics: Pick<SubgraphMetrics, 'cassandraStatements'>,
    /** Statements one batched read runs at once (CASSANDRA_BATCH_CONCURRENCY). */
    private readonly concurrencyLevel: number,
  ) {}

  async execute(
    cql: string,
    params: Params = [],
    options: ExecuteOptions = {},
  ): Promise<cassandra.types.ResultSet> {
    this.count(cql, 1);
    return this.client.execute(cql, params as unknown[], {
      prepare: true,
      ...(options.write ? { executionProfile: WRITE_PROFILE } : {}),
      ...(options.fetchSize !== undefined ? { fetchSize: options.fetchSize, autoPage: false } : {}),
      ...(options.pageState ? { pageState: options.pageState } : {}),
      ...(options.idempotent !== undefined ? { isIdempotent: options.idempotent } : {}),
    });
  }

  /**
   * Runs one prepared single-partition statement per parameter list, at most
   * `concurrencyLevel` at a time, token-aware (each goes straight to a replica of its
   * partition). Returns one ResultSet or Error per parameter list, in order: a failed key does
   * not fail its neighbours.
   */
  async executeEach(
    cql: string,
    paramsList: readonly Params[],
  ): Promise<(cassandra.types.ResultSet | Error)[]> {
    if (paramsList.length === 0) return [];
    this.count(cql, paramsList.length);
    const group = await cassandra.concurrent.executeConcurrent(
      this.client,
      cql,
      paramsList as unknown[][],
      {
        concurrencyLevel: this.concurrencyLevel,
        raiseOnFirstError: false,
        collectResults: true,
        maxErrors: paramsList.length,
      },
    );
    return group.resultItems as (cassandra.types.ResultSet | Error)[];
  }

  /**
   * A logged batch: atomic across the denormalised tables of one entity (e.g. robots_by_id and
   * robots_by_fleet_status on a status change). For atomicity, never for speed.
   */
  async batch(
    queries: readonly { query: string; params: Params }[],
    options: { logged?: boolean } = {},
  ): Promise<void> {
    for (const q of queries) this.count(q.query, 1, 'batch');
    await this.client.batch(
      queries.map((q) => ({ query: q.query, params: q.params as unknown[] })),
      { prepare: true, logged: options.logged ?? true, executionProfile: WRITE_PROFILE },
    );
  }

  private count(cql: string, n: number, kindOverride?: string): void {
    let label = this.labels.get(cql);
    if (!label) {
      label = labelOf(cql);
      this.labels.set(cql, label);
    }
    this.metrics.cassandraStatements.inc(
      { table: label.table, kind: kindOverride ?? label.kind },
      n,
    );
  }
}

/** `SELECT … FROM robots_by_id …` → { table: 'robots_by_id', kind: 'select' }. */
export function labelOf(cql: string): { table: string; kind: string } {
  const kind = (/^\s*(\w+)/.exec(cql)?.[1] ?? 'other').toLowerCase();
  const table =
    /\b(?:FROM|INTO|UPDATE)\s+(?:\w+\.)?(\w+)/i.exec(cql)?.[1]?.toLowerCase() ?? 'unknown';
  return { table, kind };
}
