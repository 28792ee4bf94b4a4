/**
 * The data-access gateway every repository goes through: one place that runs CQL, counts it
 * (fleetgraph_cassandra_statements_total by table and kind) and applies the read/write profiles.
 *
 * @remarks
 * Repositories never touch the driver Client directly, so a test can assert exactly how many
 * statements an operation cost, and the benchmarks can report statements per operation.
 */
import cassandra from 'cassandra-driver';
import type { CassandraClient } from '../../../platform/cassandra/client.js';
import { WRITE_PROFILE } from '../../../platform/cassandra/client.js';
import { isUuid } from '../../../platform/contract/ids.js';
import type { SubgraphMetrics } from '../metrics.js';
import { extractorFor, recordRowTags, recordTags, type TagExtractor } from './entityTags.js';

type Params = readonly unknown[];

/**
 * Keys per `IN` statement ({@link Db.readIn}): enough for a 100-row page in one statement,
 * small enough that one statement's fan-out and result stay modest (Cassandra warns about
 * large multi-partition reads, and a coordinator holds the whole result in memory).
 */
export const IN_GROUP_SIZE = 100;
/** Rows per page of an `IN` read: multi-row partitions (a user's sessions) are paged. */
const IN_FETCH_SIZE = 5000;

function routingKeyOf(key: string): Buffer | undefined {
  return isUuid(key) ? cassandra.types.Uuid.fromString(key).getBuffer() : undefined;
}

export interface ExecuteOptions {
  /** Use the write profile (CASSANDRA_WRITE_CONSISTENCY) instead of the read one. */
  readonly write?: boolean;
  readonly fetchSize?: number;
  readonly pageState?: string;
  /**
   * Whether the statement may be sent again (retried on another node when its coordinator dies
   * or times out; reads also speculatively). Default: true for SELECTs, false for everything
   * else. Say true for a write only when applying it twice gives the same rows: a plain upsert
   * or delete, not a lightweight transaction (IF), a counter, or a list append.
   */
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
    private readonly metrics: Pick<
      SubgraphMetrics,
      'cassandraStatements' | 'cassandraPartitionsRead'
    >,
  ) {}

  async execute(
    cql: string,
    params: Params = [],
    options: ExecuteOptions = {},
  ): Promise<cassandra.types.ResultSet> {
    const info = this.count(cql, 1);
    recordTags(info.tags, params);
    if (info.kind === 'select' && !options.pageState)
      this.metrics.cassandraPartitionsRead.inc({ table: info.table }, partitionsOf(params));
    const result = await this.client.execute(cql, params as unknown[], {
      prepare: true,
      ...(options.write ? { executionProfile: WRITE_PROFILE } : {}),
      ...(options.fetchSize !== undefined ? { fetchSize: options.fetchSize, autoPage: false } : {}),
      ...(options.pageState ? { pageState: options.pageState } : {}),
      isIdempotent: options.idempotent ?? info.kind === 'select',
    });
    if (info.kind === 'select') recordRowTags(info.table, result.rows);
    return result;
  }

  /**
   * By-key reads for a DataLoader batch as multi-partition `IN` statements: `cql` restricts
   * the partition key with `IN ?`; keys are grouped by the node that owns them (their first
   * replica, token-aware), at most {@link IN_GROUP_SIZE} per statement, and each statement is
   * routed to that node, so it reads its partitions locally instead of fanning out. Returns the
   * rows of each key (`keyOf` tells which key a row belongs to), in key order; a failed
   * statement fails the keys of its group only.
   *
   * @remarks
   * Why IN rather than one statement per key (bench/baselines/perKeyReads.ts): per key, the
   * driver encodes, sends, awaits and decodes a request, and Cassandra parses, authorizes and
   * schedules it; a page of 100 robots is 100 of those. One IN per replica does that work
   * once. Measured on the fleet dashboard (bench/README.md): 6 statements instead of 180 per
   * request, with higher throughput under load, though a single idle batch is a little slower
   * (bench/loader-strategies.ts).
   * Multi-row partitions are read whole up to the statement's own `PER PARTITION LIMIT`,
   * following the driver's paging state (each page is a statement).
   */
  async readIn<M>(
    cql: string,
    keys: readonly string[],
    keyOf: (row: cassandra.types.Row) => string,
    map: (row: cassandra.types.Row) => M,
  ): Promise<(M[] | Error)[]> {
    if (keys.length === 0) return [];
    const info = this.describe(cql);
    this.metrics.cassandraPartitionsRead.inc({ table: info.table }, keys.length);
    const outcome = new Map<string, M[] | Error>(keys.map((key) => [key, []]));
    await Promise.all(
      this.groupByReplica(keys).map(async ({ group, routingKey }) => {
        let pageState: string | undefined;
        try {
          do {
            this.metrics.cassandraStatements.inc({ table: info.table, kind: info.kind });
            recordTags(info.tags, [group]);
            const result = await this.client.execute(cql, [group], {
              prepare: true,
              isIdempotent: true,
              fetchSize: IN_FETCH_SIZE,
              ...(routingKey ? { routingKey } : {}),
              ...(pageState ? { pageState } : {}),
            });
            for (const row of result.rows)
              (outcome.get(keyOf(row)) as M[] | undefined)?.push(map(row));
            pageState = result.pageState ?? undefined;
          } while (pageState);
        } catch (error) {
          for (const key of group) outcome.set(key, error as Error);
        }
      }),
    );
    return keys.map((key) => outcome.get(key)!);
  }

  /** {@link readIn} for single-row partitions: one value, `null` (no row) or `Error` per key. */
  async readOneIn<M>(
    cql: string,
    keys: readonly string[],
    keyOf: (row: cassandra.types.Row) => string,
    map: (row: cassandra.types.Row) => M,
  ): Promise<(M | null | Error)[]> {
    const results = await this.readIn(cql, keys, keyOf, map);
    return results.map((rows) => (rows instanceof Error ? rows : (rows[0] ?? null)));
  }

  /**
   * Splits uuid partition keys into groups owned by one node each (by their first replica in
   * the driver's token map), at most {@link IN_GROUP_SIZE} keys a group, with the routing key
   * of the group's first key so the token-aware policy sends the statement to that node.
   * Keys that are not uuids, or a token map the driver does not have yet, form one group.
   */
  private groupByReplica(
    keys: readonly string[],
  ): { group: string[]; routingKey: Buffer | undefined }[] {
    const keyspace = this.client.keyspace;
    const byNode = new Map<string, string[]>();
    for (const key of keys) {
      const routingKey = keyspace ? routingKeyOf(key) : undefined;
      const node = routingKey
        ? (this.client.getReplicas(keyspace, routingKey)?.[0]?.address ?? '')
        : '';
      const owned = byNode.get(node);
      if (owned) owned.push(key);
      else byNode.set(node, [key]);
    }
    const groups: { group: string[]; routingKey: Buffer | undefined }[] = [];
    for (const owned of byNode.values()) {
      for (let i = 0; i < owned.length; i += IN_GROUP_SIZE) {
        const group = owned.slice(i, i + IN_GROUP_SIZE);
        groups.push({ group, routingKey: routingKeyOf(group[0]!) });
      }
    }
    return groups;
  }

  /**
   * A logged batch: atomic across the denormalised tables of one entity (e.g. robots_by_id and
   * robots_by_fleet_status on a status change). For atomicity, never for speed.
   * `idempotent` as for {@link ExecuteOptions.idempotent} (default false): true only when every
   * statement of the batch may be applied twice.
   */
  async batch(
    queries: readonly { query: string; params: Params }[],
    options: { logged?: boolean; idempotent?: boolean } = {},
  ): Promise<void> {
    for (const q of queries) recordTags(this.count(q.query, 1, 'batch').tags, q.params);
    await this.client.batch(
      queries.map((q) => ({ query: q.query, params: q.params as unknown[] })),
      {
        prepare: true,
        logged: options.logged ?? true,
        executionProfile: WRITE_PROFILE,
        isIdempotent: options.idempotent ?? false,
      },
    );
  }

  /** Counts statements and returns what is known about the CQL text (computed once). */
  private count(cql: string, n: number, kindOverride?: string): StatementInfo {
    const info = this.describe(cql);
    this.metrics.cassandraStatements.inc({ table: info.table, kind: kindOverride ?? info.kind }, n);
    return info;
  }

  /** What is known about a CQL text (table, kind, tag extractor), computed once. */
  private describe(cql: string): StatementInfo {
    let info = this.labels.get(cql);
    if (!info) {
      const label = labelOf(cql);
      info = { ...label, tags: extractorFor(cql, label.table) };
      this.labels.set(cql, info);
    }
    return info;
  }
}

/**
 * The partitions one `execute` SELECT reads: the product of its `IN ?` lists (our `IN`s all
 * restrict partition-key columns: `fleet_id = ? AND bucket IN ?` over 16 buckets reads 16
 * partitions), else one. A continued page (pageState) is not counted again.
 */
function partitionsOf(params: Params): number {
  return params.reduce<number>((n, p) => (Array.isArray(p) ? n * p.length : n), 1);
}

/** `SELECT … FROM robots_by_id …` → { table: 'robots_by_id', kind: 'select' }. */
export function labelOf(cql: string): { table: string; kind: string } {
  const kind = (/^\s*(\w+)/.exec(cql)?.[1] ?? 'other').toLowerCase();
  const table =
    /\b(?:FROM|INTO|UPDATE)\s+(?:\w+\.)?(\w+)/i.exec(cql)?.[1]?.toLowerCase() ?? 'unknown';
  return { table, kind };
}
