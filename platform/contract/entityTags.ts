/**
 * The entity-tag contract between the router and the subgraphs: how the router asks a subgraph
 * for the entities a fetch read and wrote, and how the subgraph answers.
 *
 * @remarks
 * A tag names one entity, `<Typename>:<key>` (`Robot:6f1c…`); `type:<Typename>` and `*` are the
 * router's wider purges (every entry holding that type, everything). Subgraphs derive the tags
 * from the Cassandra partitions each statement touched (subgraphs/kit/cassandra/entityTags.ts);
 * the router keys and purges its response cache by them (router/cache/responseCache.ts).
 */

/**
 * Request header with which the router asks a subgraph for a fetch's tags: `1` for every tag
 * (reads and writes), `writes` for a mutation's writes only (a router without the cache still
 * purges the other instances' entries).
 */
export const TAGS_REQUEST_HEADER = 'x-fleetgraph-tags';
/**
 * Response extension that carries them back: `{ reads: string[], writes: string[], policy }`,
 * `policy` being the subgraph's policy fingerprint (its SDL and authorization rules): the
 * router does not serve a cached response made under another one.
 */
export const TAGS_EXTENSION = 'fleetgraphTags';

/** The shape of {@link TAGS_EXTENSION}. */
export interface ReportedTags {
  readonly reads?: readonly string[];
  readonly writes?: readonly string[];
  readonly policy?: string;
  /**
   * 'PRIVATE' when the answer depends on the caller (a selected field's `@cacheControl` scope
   * is PRIVATE), even when nothing of it may be cached: the router shares a subscription's
   * per-event execution among callers of one organization and roles only when no fetch said so
   * (router/subscriptions/groups.ts).
   */
  readonly scope?: 'PRIVATE';
}

/** The tag every response holds for each subgraph it fetched from: its authorization policy. */
export function policyTag(subgraph: string): string {
  return `policy:${subgraph}`;
}

/** The tag of one entity. */
export function entityTag(typename: string, key: string): string {
  return `${typename}:${key}`;
}
