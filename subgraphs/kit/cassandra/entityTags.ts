/**
 * Entity tags derived from the data-access path: which entities (typename and key) a request
 * read from or wrote to Cassandra.
 *
 * @remarks
 * Every statement goes through `Db`, and every table's partition key identifies one entity
 * (robots_by_fleet is keyed by fleet_id → `Fleet:<id>`; telemetry_by_robot_day by robot_id →
 * `Robot:<id>`). So the tags of a response are exactly the partitions it was computed from,
 * and the tags of a mutation are exactly the partitions it changed — no resolver has to
 * remember to declare them, and a new resolver cannot forget. The router's response cache
 * stores a response under its read tags and purges by a mutation's write tags
 * (router/cache/responseCache.ts). Over-invalidation is possible (a status change purges every
 * cached listing of that fleet); staleness is not.
 *
 * Tags are collected per request through AsyncLocalStorage, set by the subgraph server around
 * each GraphQL request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { entityTag } from '../../../platform/contract/entityTags.js';

/** table → [entity typename, partition-key column]; tables absent here carry no entity. */
export const ENTITY_OF_TABLE: Readonly<Record<string, readonly [string, string]>> = {
  organizations: ['Organization', 'organization_id'],
  users_by_id: ['User', 'user_id'],
  users_by_organization: ['Organization', 'organization_id'],
  sessions_by_id: ['Session', 'session_id'],
  sessions_by_user: ['User', 'user_id'],
  active_sessions_by_user: ['User', 'user_id'],
  token_revocations_by_user: ['User', 'user_id'],
  fleets_by_id: ['Fleet', 'fleet_id'],
  fleets_by_organization: ['Organization', 'organization_id'],
  robots_by_id: ['Robot', 'robot_id'],
  robots_by_fleet: ['Fleet', 'fleet_id'],
  robots_by_fleet_status: ['Fleet', 'fleet_id'],
  robots_by_fleet_page: ['Fleet', 'fleet_id'],
  robots_by_operator: ['User', 'operator_id'],
  missions_by_id: ['Mission', 'mission_id'],
  missions_by_robot: ['Robot', 'robot_id'],
  telemetry_by_robot_day: ['Robot', 'robot_id'],
};

/**
 * Tables whose rows are other entities than their partition: robots_by_fleet_page is a fleet's
 * partition (`Fleet:<id>`: which robots it lists) of Robot rows (a copy of each robot, with its
 * current mission's status). A read is tagged with the partition and with every entity of every
 * row it returned (a null column, such as no current mission, tags nothing); an `UPDATE` of such
 * a table is tagged with the row's first entity instead of the partition: it changes the columns
 * of one row, not which rows the partition holds (the clustering key is the entity's key), and
 * every read that returned that row carries the row's tag. `INSERT` and `DELETE` change which
 * rows the partition holds, so they are tagged with the partition.
 */
export const ROW_ENTITIES_OF_TABLE: Readonly<
  Record<string, readonly (readonly [string, string])[]>
> = {
  robots_by_fleet_page: [
    ['Robot', 'robot_id'],
    ['Mission', 'current_mission_id'],
  ],
};

export interface RequestTags {
  readonly reads: Set<string>;
  readonly writes: Set<string>;
}

export const requestTags = new AsyncLocalStorage<RequestTags>();

/** How to pull a statement's entity keys out of its parameters; computed once per CQL text. */
export interface TagExtractor {
  readonly typename: string;
  readonly paramIndex: number;
  readonly isWrite: boolean;
}

/**
 * Finds which bound parameter holds the partition key: `col = ?` / `col IN ?` in a WHERE
 * clause, or the column's position in an INSERT's column list (our INSERTs bind every value).
 */
export function extractorFor(cql: string, table: string): TagExtractor | null {
  const isUpdate = /^\s*UPDATE\b/i.test(cql);
  const entity =
    (isUpdate ? ROW_ENTITIES_OF_TABLE[table]?.[0] : undefined) ?? ENTITY_OF_TABLE[table];
  if (!entity) return null;
  const [typename, column] = entity;
  const isWrite = isUpdate || /^\s*(INSERT|DELETE)\b/i.test(cql);
  const insert = /^\s*INSERT\s+INTO\s+\S+\s*\(([^)]*)\)\s*VALUES\s*\(/i.exec(cql);
  if (insert) {
    const columns = insert[1]!.split(',').map((c) => c.trim().toLowerCase());
    const index = columns.indexOf(column);
    return index >= 0 ? { typename, paramIndex: index, isWrite } : null;
  }
  const match = new RegExp(`\\b${column}\\s*(=|IN)\\s*\\?`, 'i').exec(cql);
  if (!match) return null;
  const paramIndex = (cql.slice(0, match.index).match(/\?/g) ?? []).length;
  return { typename, paramIndex, isWrite };
}

/** Records the entity keys of one statement's parameters in the current request's tags. */
export function recordTags(extractor: TagExtractor | null, params: readonly unknown[]): void {
  if (!extractor) return;
  const store = requestTags.getStore();
  if (!store) return;
  const target = extractor.isWrite ? store.writes : store.reads;
  const value = params[extractor.paramIndex];
  if (Array.isArray(value))
    for (const v of value) target.add(entityTag(extractor.typename, String(v)));
  else if (value !== undefined && value !== null)
    target.add(entityTag(extractor.typename, String(value)));
}

/** Records the row entities ({@link ROW_ENTITIES_OF_TABLE}) of the rows a read of `table` returned. */
export function recordRowTags(table: string, rows: readonly Record<string, unknown>[]): void {
  const entities = ROW_ENTITIES_OF_TABLE[table];
  const store = entities && requestTags.getStore();
  if (!store) return;
  for (const row of rows)
    for (const [typename, column] of entities) {
      const value = row[column];
      if (value !== undefined && value !== null)
        store.reads.add(entityTag(typename, String(value)));
    }
}
