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
import { extractorFor, recordTags, type TagExtractor } from '../cache/entityTags.js';

type Params = readonly unknown[];

export interface ExecuteOptions {
  /** Use the write profile (CASSANDRA_WRITE_CONSISTENCY) instead of the read one. */
  readonly write?: boolean;
  readonly fetchSize?: number;
  readonly pageState?: string;
  /** Mark writes idempotent so the driver may retry or speculatively execute them. */
  readonly idempotent?: boolean;
}

interface StatementInfo {
  readonly table: string;
  readonly kind: string;
  readonly tags: TagExtractor | null;
}

export class Db {
  private readonly labels = new Map<string, StatementInfo>();

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
    recordTags(this.count(cql, 1).tags, params);
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
    const { tags } = this.count(cql, paramsList.length);
    for (const params of paramsList) recordTags(tags, params);
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
   * By-key reads for a DataLoader batch: one single-partition statement per key (executeEach)
   * mapped to a model; one value, `null` (no row) or `Error` per key, in key order.
   */
  async readEach<M>(
    cql: string,
    keys: readonly string[],
    map: (row: cassandra.types.Row) => M,
  ): Promise<(M | null | Error)[]> {
    const results = await this.executeEach(
      cql,
      keys.map((key) => [key]),
    );
    return results.map((result) =>
      result instanceof Error ? result : result.first() ? map(result.first()) : null,
    );
  }

  /**
   * A logged batch: atomic across the denormalised tables of one entity (e.g. robots_by_id and
   * robots_by_fleet_status on a status change). For atomicity, never for speed.
   */
  async batch(
    queries: readonly { query: string; params: Params }[],
    options: { logged?: boolean } = {},
  ): Promise<void> {
    for (const q of queries) recordTags(this.count(q.query, 1, 'batch').tags, q.params);
    await this.client.batch(
      queries.map((q) => ({ query: q.query, params: q.params as unknown[] })),
      { prepare: true, logged: options.logged ?? true, executionProfile: WRITE_PROFILE },
    );
  }

  /** Counts statements and returns what is known about the CQL text (computed once). */
  private count(cql: string, n: number, kindOverride?: string): StatementInfo {
    let info = this.labels.get(cql);
    if (!info) {
      const label = labelOf(cql);
      info = { ...label, tags: extractorFor(cql, label.table) };
      this.labels.set(cql, info);
    }
    this.metrics.cassandraStatements.inc({ table: info.table, kind: kindOverride ?? info.kind }, n);
    return info;
  }
}

/** `SELECT … FROM robots_by_id …` → { table: 'robots_by_id', kind: 'select' }. */
export function labelOf(cql: string): { table: string; kind: string } {
  const kind = (/^\s*(\w+)/.exec(cql)?.[1] ?? 'other').toLowerCase();
  const table =
    /\b(?:FROM|INTO|UPDATE)\s+(?:\w+\.)?(\w+)/i.exec(cql)?.[1]?.toLowerCase() ?? 'unknown';
  return { table, kind };
}
